"""Reads what a Dockerfile's stages run: ENTRYPOINT, CMD, ENV and HEALTHCHECK (exec form)."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parents[2] / "deploy" / "Dockerfile"


@dataclass
class Stage:
    name: str
    parent: str
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    healthcheck: list[str] = field(default_factory=list)
    user: str | None = None


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def stages(path: Path = DOCKERFILE) -> dict[str, Stage]:
    """Each named stage, with what it inherits from the stage it is built FROM."""
    found: dict[str, Stage] = {}
    current: Stage | None = None
    for word, rest in instructions(path):
        if word == "FROM":
            parts = rest.split()
            parent = parts[0]
            name = parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else parent
            current = Stage(name, parent)
            if parent in found:
                base = found[parent]
                current.entrypoint, current.cmd = list(base.entrypoint), list(base.cmd)
                current.env, current.healthcheck = dict(base.env), list(base.healthcheck)
                current.user = base.user
            found[name] = current
        elif current is None:
            continue
        elif word == "ENTRYPOINT":
            current.entrypoint = json.loads(rest)
        elif word == "CMD":
            current.cmd = json.loads(rest)
        elif word == "USER":
            current.user = rest
        elif word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                current.env[key] = value
        elif word == "HEALTHCHECK":
            current.healthcheck = json.loads(rest[rest.index("CMD") + 3 :].strip())
    return found
