"""Where the encryption keys come from: environment variables whose values may be secret
references (`${file:secrets/tracker.key}`, `${vault:secret/parley#tracker_key}`), resolved by
`parley.security`.

    PARLEY_ENCRYPTION_KEY            the current key (base64, 32 bytes); unset: no encryption
    PARLEY_ENCRYPTION_PREVIOUS_KEYS  older keys, comma-separated, still accepted for reading
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from parley.security import SECRETS, ProjectSecrets, resolve_value
from parley.stores.crypto import KEY_ENV, PREVIOUS_KEYS_ENV, EventCipher


def load_cipher(project_root: Path, environ: Mapping[str, str] | None = None) -> EventCipher:
    """The event cipher configured for `project_root` (raises EncryptionError / SecurityError)."""
    env = os.environ if environ is None else environ
    resolved: dict[str, str] = {}
    for name in (KEY_ENV, PREVIOUS_KEYS_ENV):
        text = env.get(name, "")
        if "${" in text:
            vault = ProjectSecrets(project_root, env).vault if "${vault:" in text else None
            text = resolve_value(text, project_root, vault, env=env, source=name)
        for part in text.split(","):
            if part.strip():
                SECRETS.add(part.strip())  # a key must never reach a log line
        resolved[name] = text
    return EventCipher.from_env(resolved)
