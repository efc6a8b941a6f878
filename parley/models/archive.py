"""A trained model is one `.tar.gz` under `models/`: `manifest.json` plus one folder per part.

Parts (e.g. `nlu/`, `dialogue/`) hold JSON and `.npy`/`.npz` arrays only: loading a model never
executes code from it. Extraction refuses links, absolute paths and `..`.
"""

from __future__ import annotations

import io
import json
import secrets
import shutil
import tarfile
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from parley import __version__

MANIFEST_NAME = "manifest.json"
ARCHIVE_SUFFIX = ".tar.gz"
# Bounds of what unpacking an archive may write (a model is JSON and arrays: tens of MB, a few
# with large vocabularies a hundred MB, in hundreds of files).
MAX_UNPACKED_BYTES = 512 * 2**20
MAX_MEMBERS = 10_000


class ModelArchiveError(Exception):
    """A model file is missing, unreadable or not a Parley model."""


@dataclass(frozen=True)
class ModelManifest:
    """What a model archive holds; `model_id` is recorded on every event the model produces."""

    model_id: str
    created_at: str
    parley_version: str
    fingerprints: dict[str, str] = field(default_factory=dict)  # part name -> fingerprint
    assistant_id: str | None = None
    language: str = "en"
    parts: tuple[str, ...] = ()

    @classmethod
    def new(
        cls,
        fingerprints: dict[str, str],
        parts: tuple[str, ...],
        assistant_id: str | None = None,
        language: str = "en",
    ) -> ModelManifest:
        now = datetime.now(UTC)
        model_id = f"{now:%Y%m%d-%H%M%S-%f}-{secrets.token_hex(2)}"  # sorts by time
        return cls(
            model_id, now.isoformat(), __version__, fingerprints, assistant_id, language, parts
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelManifest:
        raw = json.loads(text)
        raw["parts"] = tuple(raw.get("parts", ()))
        return cls(**raw)


def write_archive(staging: Path, manifest: ModelManifest, out_dir: Path) -> Path:
    """Pack the part folders in `staging` with `manifest` into `out_dir/<model_id>.tar.gz`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{manifest.model_id}{ARCHIVE_SUFFIX}"
    partial = target.with_suffix(".partial")
    with tarfile.open(partial, "w:gz") as tar:
        data = manifest.to_json().encode("utf-8")
        info = tarfile.TarInfo(MANIFEST_NAME)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for part in manifest.parts:
            folder = staging / part
            if not folder.is_dir():
                raise ModelArchiveError(f"model part '{part}' was not written to {folder}")
            tar.add(folder, arcname=part)
    partial.replace(target)  # a half-written model is never picked up as the newest
    return target


def _open(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise ModelArchiveError(f"model file {path} does not exist")
    try:
        return tarfile.open(path, "r:gz")
    except (tarfile.TarError, OSError) as exc:
        raise ModelArchiveError(f"{path} is not a Parley model archive: {exc}") from None


def read_manifest(path: Path) -> ModelManifest:
    """The manifest of a model archive, without unpacking the rest."""
    with _open(path) as tar:
        try:
            member = tar.extractfile(MANIFEST_NAME)
        except KeyError:
            member = None
        if member is None:
            raise ModelArchiveError(f"{path} has no {MANIFEST_NAME}: not a Parley model")
        return ModelManifest.from_json(member.read().decode("utf-8"))


_SAFE_FILTER = hasattr(tarfile, "data_filter")  # extraction filters: Python 3.11.4 and later


def unpack_archive(
    path: Path,
    target: Path | None = None,
    max_bytes: int = MAX_UNPACKED_BYTES,
    max_members: int = MAX_MEMBERS,
) -> tuple[ModelManifest, Path]:
    """Unpack into `target` (a new temporary folder by default); return manifest and folder.

    ModelArchiveError for links, devices, paths outside the folder, or more than `max_members`
    entries or `max_bytes` unpacked (checked before anything is written)."""
    with _open(path) as tar:
        _check_members(path, tar, max_bytes, max_members)
        folder = target or Path(tempfile.mkdtemp(prefix="parley-model-"))
        if not _SAFE_FILTER:  # no extraction filter to refuse them: check the paths here
            for member in tar.getmembers():
                if not (folder / member.name).resolve().is_relative_to(folder.resolve()):
                    raise ModelArchiveError(
                        f"{path}: refusing '{member.name}' (outside the archive)"
                    )
        try:
            if _SAFE_FILTER:
                tar.extractall(folder, filter="data")
            else:  # Python < 3.11.4 (Debian 12's 3.11.2): paths were checked above
                tar.extractall(folder)
        except (tarfile.TarError, OSError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise ModelArchiveError(f"{path}: cannot unpack: {exc}") from None
    manifest_path = folder / MANIFEST_NAME
    if not manifest_path.is_file():
        raise ModelArchiveError(f"{path} has no {MANIFEST_NAME}: not a Parley model")
    return ModelManifest.from_json(manifest_path.read_text("utf-8")), folder


def _check_members(path: Path, tar: tarfile.TarFile, max_bytes: int, max_members: int) -> None:
    """Refuse links and devices, and archives of more than `max_members` entries or
    `max_bytes` unpacked. Members are read one by one and reading stops at the first excess:
    the sizes are in the headers, so a huge run of zeros is refused before it is written."""
    total = 0
    for count, member in enumerate(tar, start=1):
        if not (member.isfile() or member.isdir()):
            raise ModelArchiveError(f"{path}: refusing '{member.name}' (not a plain file)")
        total += member.size
        if count > max_members or total > max_bytes:
            raise ModelArchiveError(
                f"{path}: refusing an archive of more than {max_members} entries or"
                f" {max_bytes} bytes unpacked"
            )


def latest_model(models_dir: Path) -> Path | None:
    """The newest archive in `models_dir` (names start with a UTC timestamp), or None."""
    if not models_dir.is_dir():
        return None
    archives = sorted(models_dir.glob(f"*{ARCHIVE_SUFFIX}"))
    return archives[-1] if archives else None
