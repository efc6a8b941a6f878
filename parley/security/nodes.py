"""Walking parsed configuration (ruamel nodes or plain dicts) with key paths and positions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

# Keys whose values are credentials; names ending in a kind of "about" word (token_header,
# password_file, jwt_method) describe a secret without holding one.
_SECRET_KEY = re.compile(
    r"(?i)(pass(word|wd|phrase)|secret|token|api[_-]?key|private[_-]?key|access[_-]?key"
    r"|signing[_-]?key|encryption[_-]?key|hmac[_-]?key|credential)"
)
_NOT_SECRET_SUFFIX = re.compile(
    r"(?i)[_-](file|path|header|name|type|method|url|expiry|ttl|lifetime|field|length|env|mount)$"
)
_DEFAULT = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-[^}]+\}")
_URL_PASSWORD = re.compile(r"://[^:/@\s]+:([^@/\s]+)@")


@dataclass(frozen=True)
class ConfigValue:
    """A scalar of a configuration file, where it sits (`tracker_store.password`) and is written."""

    key_path: str
    key: str
    value: Any
    line: int = 0  # 1-based; 0 when the data came without positions
    column: int = 0


def join_key(parent: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def value_position(container: Any, key: Any) -> tuple[int, int]:
    """1-based (line, column) of container[key]'s value, or (0, 0) when unknown."""
    try:
        if isinstance(container, CommentedMap):
            line, column = container.lc.value(key)
        elif isinstance(container, CommentedSeq):
            line, column = container.lc.item(key)
        else:
            return 0, 0
    except (KeyError, TypeError, IndexError):
        return 0, 0
    return line + 1, column + 1


def iter_scalars(node: Any, parent: str = "", parent_key: str = "") -> Iterator[ConfigValue]:
    """Every scalar below `node` (depth first, in file order)."""
    if isinstance(node, dict):
        items: Iterator[tuple[Any, Any]] = iter(node.items())
    elif isinstance(node, list):
        items = iter(enumerate(node))
    else:
        return
    for key, value in items:
        path = join_key(parent, key)
        name = parent_key if isinstance(key, int) else str(key)
        if isinstance(value, dict | list):
            yield from iter_scalars(value, path, name)
        else:
            line, column = value_position(node, key)
            yield ConfigValue(path, name, value, line, column)


def looks_secret(key: str) -> bool:
    """True for a key that names a credential: password, token, api_key, jwt_secret, …"""
    return bool(_SECRET_KEY.search(key)) and not _NOT_SECRET_SUFFIX.search(key)


def url_password(text: str) -> str | None:
    """The password written into a URL (`scheme://user:password@host`), if any."""
    match = _URL_PASSWORD.search(text)
    return match.group(1) if match else None


def plaintext_secrets(node: Any) -> list[ConfigValue]:
    """Values that are credentials written in clear: a secret key with a literal value, or a
    URL with a literal password. References (`${...}`) and empty values are not counted."""
    found = []
    for item in iter_scalars(node):
        if isinstance(item.value, int | float) and not isinstance(item.value, bool):
            if looks_secret(item.key):
                found.append(item)
            continue
        if not isinstance(item.value, str) or not item.value.strip():
            continue
        if looks_secret(item.key) and (
            "${" not in item.value or _DEFAULT.search(item.value) is not None
        ):
            found.append(item)  # a literal, or a default written beside the reference
            continue
        password = url_password(item.value)
        if password is not None and "${" not in password:
            found.append(item)
    return found
