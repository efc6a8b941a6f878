"""The model registry: every trained archive with its version, fingerprints, training-data hash,
test figures, who trained it and when, and tags (`production`, `candidate`, custom).

Rows live in Parley's SQL database (the tables of `parley.stores.sql_schema`); archives live in
an `ArchiveStorage` (the project's `models/` folder, or S3). A tag names one version at a time:
tagging another version moves it.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.models.archive import ARCHIVE_SUFFIX, ModelArchiveError, read_manifest
from parley.models.storage import ArchiveStorage
from parley.stores.sql_engine import writer
from parley.stores.sql_schema import model_tags, model_versions

PRODUCTION = "production"
CANDIDATE = "candidate"
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_DATA_SUFFIXES = (".yml", ".yaml", ".json", ".md", ".txt")


class RegistryError(Exception):
    """A version or tag is unknown, or an archive cannot be registered."""


@dataclass(frozen=True)
class ModelVersion:
    """One registered model."""

    version: str
    fingerprints: dict[str, str]
    data_hash: str | None
    storage_key: str
    size_bytes: int
    trained_by: str | None
    created_at: float
    registered_at: float
    figures: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "fingerprints": self.fingerprints,
            "data_hash": self.data_hash,
            "size_bytes": self.size_bytes,
            "trained_by": self.trained_by,
            "created_at": self.created_at,
            "registered_at": self.registered_at,
            "figures": self.figures,
            "tags": list(self.tags),
        }


def training_data_hash(project_root: Path) -> str:
    """sha256 over the project's training files (domain, config, data/), by relative path."""
    digest = hashlib.sha256()
    candidates: list[Path] = [project_root / "domain.yml", project_root / "config.yml"]
    for folder in (project_root / "domain", project_root / "data"):
        if folder.is_dir():
            candidates.extend(p for p in folder.rglob("*") if p.suffix in _DATA_SUFFIXES)
    for path in sorted(p for p in candidates if p.is_file()):
        digest.update(path.relative_to(project_root).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _created_at(text: str) -> float:
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return time.time()


class ModelRegistry:
    """Registered versions and their tags; safe to share between tasks."""

    def __init__(self, engine: AsyncEngine, storage: ArchiveStorage) -> None:
        self.engine = engine
        self.storage = storage

    async def register(
        self,
        archive: Path,
        *,
        trained_by: str | None = None,
        data_hash: str | None = None,
        figures: dict[str, Any] | None = None,
        tags: Iterable[str] = (),
    ) -> ModelVersion:
        """Store `archive` and record it; registering the same version again is an error."""
        try:
            manifest = read_manifest(archive)
        except ModelArchiveError as exc:
            raise RegistryError(f"cannot register {archive}: {exc}") from None
        key = f"{manifest.model_id}{ARCHIVE_SUFFIX}"
        row = {
            "version": manifest.model_id,
            "fingerprints": json.dumps(manifest.fingerprints, sort_keys=True),
            "data_hash": data_hash,
            "storage_key": key,
            "size_bytes": archive.stat().st_size,
            "trained_by": trained_by,
            "created_at": _created_at(manifest.created_at),
            "registered_at": time.time(),
            "figures": json.dumps(figures or {}, sort_keys=True),
        }
        if await self.find(manifest.model_id) is not None:
            raise RegistryError(f"model {manifest.model_id} is already registered")
        await self.storage.put(archive, key)
        try:
            async with writer(self.engine).begin() as connection:
                await connection.execute(insert(model_versions).values(**row))
        except IntegrityError:
            raise RegistryError(f"model {manifest.model_id} is already registered") from None
        for tag in tags:
            await self.tag(manifest.model_id, tag)
        return await self.get(manifest.model_id)

    async def find(self, version: str) -> ModelVersion | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(model_versions).where(model_versions.c.version == version)
                )
            ).first()
            if row is None:
                return None
            tags = (
                await connection.execute(
                    select(model_tags.c.tag).where(model_tags.c.version == version)
                )
            ).scalars()
            return _version(row._mapping, tuple(sorted(tags)))

    async def get(self, version: str) -> ModelVersion:
        found = await self.find(version)
        if found is None:
            raise RegistryError(f"no registered model {version!r} (see `parley models list`)")
        return found

    async def resolve(self, ref: str) -> ModelVersion:
        """A version id, or a tag naming one (`production`, `candidate`, …)."""
        found = await self.find(ref)
        if found is not None:
            return found
        version = await self.tagged(ref)
        if version is None:
            raise RegistryError(f"{ref!r} is neither a registered model nor a tag")
        return await self.get(version)

    async def list(self) -> list[ModelVersion]:
        """Every version, newest first."""
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(model_versions).order_by(model_versions.c.created_at.desc())
                )
            ).all()
            tag_rows = (await connection.execute(select(model_tags))).all()
        tags: dict[str, list[str]] = {}
        for tag_row in tag_rows:
            tags.setdefault(tag_row.version, []).append(tag_row.tag)
        return [_version(r._mapping, tuple(sorted(tags.get(r.version, [])))) for r in rows]

    async def tagged(self, tag: str) -> str | None:
        """The version holding `tag`, if any."""
        async with self.engine.connect() as connection:
            return (
                await connection.execute(
                    select(model_tags.c.version).where(model_tags.c.tag == tag)
                )
            ).scalar()

    async def tag(self, version: str, tag: str) -> None:
        """Give `tag` to `version` (taking it from the version that had it)."""
        if not _TAG.match(tag):
            raise RegistryError(
                f"tag {tag!r}: use letters, digits, '.', '_' and '-' (at most 64 characters)"
            )
        await self.get(version)
        now = time.time()
        async with writer(self.engine).begin() as connection:
            changed = await connection.execute(
                update(model_tags)
                .where(model_tags.c.tag == tag)
                .values(version=version, updated_at=now)
            )
            if changed.rowcount == 0:
                await connection.execute(
                    insert(model_tags).values(tag=tag, version=version, updated_at=now)
                )

    async def untag(self, tag: str) -> bool:
        async with writer(self.engine).begin() as connection:
            result = await connection.execute(delete(model_tags).where(model_tags.c.tag == tag))
            return bool(result.rowcount)

    async def record_figures(self, version: str, name: str, figures: dict[str, Any]) -> None:
        """Attach test figures (e.g. `test`: story results, `test_nlu`: intent accuracy)."""
        current = await self.get(version)
        merged = {**current.figures, name: figures}
        async with writer(self.engine).begin() as connection:
            await connection.execute(
                update(model_versions)
                .where(model_versions.c.version == version)
                .values(figures=json.dumps(merged, sort_keys=True))
            )

    async def fetch(self, version: str, cache_dir: Path) -> Path:
        """The version's archive as a local file under `cache_dir` (downloaded once)."""
        found = await self.get(version)
        target = cache_dir / found.storage_key
        if target.is_file() and target.stat().st_size == found.size_bytes:
            return target
        return await self.storage.fetch(found.storage_key, target)


def _version(row: Any, tags: tuple[str, ...]) -> ModelVersion:
    return ModelVersion(
        version=row["version"],
        fingerprints=json.loads(row["fingerprints"]),
        data_hash=row["data_hash"],
        storage_key=row["storage_key"],
        size_bytes=int(row["size_bytes"]),
        trained_by=row["trained_by"],
        created_at=float(row["created_at"]),
        registered_at=float(row["registered_at"]),
        figures=json.loads(row["figures"]),
        tags=tags,
    )
