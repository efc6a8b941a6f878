"""Stable fingerprints of what a model part was trained from, so unchanged parts skip training."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any


def _canonical(value: Any) -> Any:
    """Plain JSON-able form; dataclass fields with compare=False (source positions) are left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _canonical(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.compare
        }
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def fingerprint(*parts: Any) -> str:
    """SHA-256 over the canonical JSON of `parts` (dataclasses, dicts, lists, scalars)."""
    payload = json.dumps([_canonical(p) for p in parts], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
