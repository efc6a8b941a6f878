"""The reference syntax of configuration values, parsed (resolution lives in `resolve.py`).

    ${NAME}                 environment variable NAME (an error when unset)
    ${NAME:-default}        environment variable NAME, or `default` when unset or empty
    ${env:NAME}             the same as ${NAME}
    ${file:path/to/secret}  a file's content, final newline stripped (path relative to the project)
    ${vault:mount/path#key} field `key` of the KV v2 secret `path` in mount `mount`
    $${...}                 a literal `${...}`, not resolved

A reference may stand alone (`password: ${DB_PASSWORD}`) or inside text
(`url: postgresql://bot:${DB_PASSWORD}@db/bot`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ReferenceKind = Literal["env", "file", "vault"]

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TOKEN = re.compile(r"\$\$\{|\$\{")


@dataclass(frozen=True)
class Reference:
    """One `${...}` reference; `text` is how it is written, used in every error message."""

    kind: ReferenceKind
    text: str
    name: str = ""  # env: variable name; file: relative path
    default: str | None = None  # env only: the value after `:-`
    mount: str = ""  # vault only
    path: str = ""  # vault only: secret path inside the mount
    key: str = ""  # vault only: field of the secret


class ReferenceSyntaxError(ValueError):
    """A `${...}` is malformed; the message says how to write it."""


Segment = str | Reference


def parse_reference(text: str) -> Reference:
    """Parse one reference written as `${...}`; raises ReferenceSyntaxError when malformed."""
    body = text[2:-1]
    scheme, sep, rest = body.partition(":")
    if sep and scheme == "file":
        if not rest.strip():
            raise ReferenceSyntaxError(f"{text} names no file: write ${{file:path/to/secret}}")
        return Reference("file", text, name=rest.strip())
    if sep and scheme == "vault":
        return _parse_vault(text, rest.strip())
    if sep and scheme == "env":
        body = rest
    name, dsep, default = body.partition(":-")
    if ":" in name:
        raise ReferenceSyntaxError(
            f"{text} is not a reference Parley knows: use ${{NAME}}, ${{NAME:-default}}, "
            "${file:path} or ${vault:mount/path#key}"
        )
    if not _ENV_NAME.match(name):
        raise ReferenceSyntaxError(
            f"{text}: '{name}' is not an environment variable name (letters, digits, _)"
        )
    return Reference("env", text, name=name, default=default if dsep else None)


def _parse_vault(text: str, rest: str) -> Reference:
    location, hashmark, key = rest.partition("#")
    mount, slash, path = location.strip("/").partition("/")
    if not (hashmark and key and mount and slash and path):
        raise ReferenceSyntaxError(
            f"{text} must name a mount, a path and a key: ${{vault:secret/parley/db#password}}"
        )
    return Reference("vault", text, mount=mount, path=path, key=key)


def split_references(value: str) -> list[Segment]:
    """Split text into literal pieces and references; `$${` becomes a literal `${`."""
    segments: list[Segment] = []
    literal: list[str] = []
    position = 0
    for match in _TOKEN.finditer(value):
        if match.start() < position:
            continue
        literal.append(value[position : match.start()])
        if match.group() == "$${":
            literal.append("${")
            position = match.end()
            continue
        end = value.find("}", match.end())
        if end < 0:
            raise ReferenceSyntaxError(
                f"'{value[match.start() :]}' opens a reference that is never closed with '}}'"
            )
        if literal:
            segments.append("".join(literal))
            literal = []
        segments.append(parse_reference(value[match.start() : end + 1]))
        position = end + 1
    literal.append(value[position:])
    tail = "".join(literal)
    if tail or not segments:
        segments.append(tail)
    return segments


def has_reference(value: object) -> bool:
    """True when `value` is text holding at least one `${` (escaped or not)."""
    return isinstance(value, str) and "${" in value
