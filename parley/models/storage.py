"""Where registered model archives are kept: a local folder (default) or S3-compatible storage.

Both store an archive under a key (`<version>.tar.gz`) and give it back as a local file; the
registry's SQL rows say which key holds which version.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


class StorageError(Exception):
    """An archive cannot be stored or fetched."""


def _partial(target: Path) -> Path:
    """Where one fetch writes `target` before renaming it into place: workers, replicas and
    tasks fetching the same version at once never read each other's half-written file."""
    return target.with_name(f"{target.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")


class ArchiveStorage(Protocol):
    """Keeps model archives by key."""

    async def put(self, source: Path, key: str) -> None: ...

    async def fetch(self, key: str, target: Path) -> Path:
        """Copy the archive stored under `key` to `target` (a file path) and return it."""
        ...

    async def delete(self, key: str) -> None: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class LocalStorage:
    """Archives in a folder (by default the project's `models/`)."""

    folder: Path

    async def put(self, source: Path, key: str) -> None:
        target = self.folder / key
        if target.exists() and target.resolve() == source.resolve():
            return  # already in place (an archive `parley train` wrote into models/)
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        await asyncio.to_thread(shutil.copyfile, source, partial)
        partial.replace(target)

    async def fetch(self, key: str, target: Path) -> Path:
        source = self.folder / key
        if not source.is_file():
            raise StorageError(f"model archive {key} is missing from {self.folder}")
        if target.exists() and target.resolve() == source.resolve():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = _partial(target)
        await asyncio.to_thread(shutil.copyfile, source, partial)
        partial.replace(target)
        return target

    async def delete(self, key: str) -> None:
        (self.folder / key).unlink(missing_ok=True)

    def describe(self) -> str:
        return f"folder {self.folder}"


@dataclass(frozen=True)
class S3Settings:
    """`model_registry.storage` with `type: s3` in endpoints.yml."""

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None

    @classmethod
    def from_section(cls, section: Mapping[str, Any], where: str) -> S3Settings:
        bucket = section.get("bucket")
        if not bucket:
            raise StorageError(f"{where}.bucket: the S3 bucket to keep models in is required")
        prefix = str(section.get("prefix") or "").strip("/")
        return cls(
            bucket=str(bucket),
            prefix=f"{prefix}/" if prefix else "",
            endpoint_url=_text(section.get("endpoint_url")),
            region=_text(section.get("region")),
            access_key_id=_text(section.get("access_key_id")),
            secret_access_key=_text(section.get("secret_access_key")),
        )


def _text(value: object) -> str | None:
    return None if value in (None, "") else str(value)


class S3Storage:
    """Archives in an S3 bucket (AWS, MinIO, Ceph, …) through boto3; credentials from the
    settings or boto3's usual chain (environment, profile, instance role)."""

    def __init__(self, settings: S3Settings) -> None:
        try:
            import boto3
        except ImportError:  # pragma: no cover - depends on the install
            raise StorageError(
                "model_registry.storage type s3 needs boto3: pip install 'parley[s3]'"
            ) from None
        self.settings = settings
        self._client = boto3.client(
            "s3",
            endpoint_url=settings.endpoint_url,
            region_name=settings.region,
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
        )

    def _key(self, key: str) -> str:
        return f"{self.settings.prefix}{key}"

    async def put(self, source: Path, key: str) -> None:
        try:
            await asyncio.to_thread(
                self._client.upload_file, str(source), self.settings.bucket, self._key(key)
            )
        except Exception as exc:
            raise StorageError(f"cannot upload {key} to {self.describe()}: {exc}") from None

    async def fetch(self, key: str, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = _partial(target)
        try:
            await asyncio.to_thread(
                self._client.download_file, self.settings.bucket, self._key(key), str(partial)
            )
        except Exception as exc:
            partial.unlink(missing_ok=True)
            raise StorageError(f"cannot download {key} from {self.describe()}: {exc}") from None
        partial.replace(target)
        return target

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(
            self._client.delete_object, Bucket=self.settings.bucket, Key=self._key(key)
        )

    def describe(self) -> str:
        where = f"s3://{self.settings.bucket}/{self.settings.prefix}"
        return f"{where} at {self.settings.endpoint_url}" if self.settings.endpoint_url else where


def build_storage(section: Mapping[str, Any] | None, project_root: Path) -> ArchiveStorage:
    """The storage `model_registry.storage` names; the project's `models/` folder by default."""
    where = "endpoints.yml: model_registry.storage"
    section = section or {}
    kind = str(section.get("type") or "local").lower()
    if kind == "local":
        folder = Path(str(section.get("path") or "models"))
        return LocalStorage(folder if folder.is_absolute() else project_root / folder)
    if kind == "s3":
        return S3Storage(S3Settings.from_section(section, where))
    raise StorageError(f"{where}.type: unknown storage {kind!r}; use local or s3")
