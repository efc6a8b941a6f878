"""Model archives: one file per trained model, with a manifest and fingerprints."""

from parley.models.archive import (
    ModelManifest,
    latest_model,
    read_manifest,
    unpack_archive,
    write_archive,
)
from parley.models.fingerprint import fingerprint

__all__ = [
    "ModelManifest",
    "fingerprint",
    "latest_model",
    "read_manifest",
    "unpack_archive",
    "write_archive",
]
