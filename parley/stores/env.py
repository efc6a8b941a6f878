"""`${VAR}` / `${VAR:-default}` substitution in endpoint values.

A stop-gap until the secrets provider in `parley.security` resolves endpoint configuration; it
only reads environment variables.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from parley.stores.errors import StoreConfigError

_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def resolve_env(value: Any, environ: Mapping[str, str] | None = None, where: str = "") -> Any:
    """Replace `${VAR}` references in every string of `value` (recursing into dicts and lists).

    Raises StoreConfigError naming the variable when it is unset and has no default.
    """
    env = os.environ if environ is None else environ
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group("name"), match.group("default")
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise StoreConfigError(
                f"{where or 'endpoints.yml'}: environment variable {name} is not set; "
                f"set it or write ${{{name}:-default}}"
            )

        return _REFERENCE.sub(substitute, value)
    if isinstance(value, Mapping):
        return {
            key: resolve_env(item, env, f"{where}.{key}" if where else str(key))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [resolve_env(item, env, where) for item in value]
    return value
