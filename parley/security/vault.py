"""Vault (and OpenBao) KV v2 secrets through `hvac`: token or AppRole auth, TLS, a TTL cache.

How Vault is reached is decided once, by `VaultSettings.from_sources`: the `vault:` section of
endpoints.yml where it gives a value, otherwise the standard environment variables
(VAULT_ADDR, VAULT_TOKEN, VAULT_ROLE_ID, VAULT_SECRET_ID, VAULT_CACERT, VAULT_NAMESPACE).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.security.errors import VaultError

if TYPE_CHECKING:
    import hvac

# hvac and requests are imported where Vault is used (about 0.1 s that `parley run` does not
# spend when no secret lives in Vault).

logger = logging.getLogger(__name__)

DEFAULT_CACHE_TTL = 300.0
SECTION_KEYS = (
    "address",
    "token",
    "role_id",
    "secret_id",
    "approle_mount",
    "ca_cert",
    "namespace",
    "cache_ttl",
    "timeout",
)
_ENV_NAMES = {
    "address": "VAULT_ADDR",
    "token": "VAULT_TOKEN",
    "role_id": "VAULT_ROLE_ID",
    "secret_id": "VAULT_SECRET_ID",
    "ca_cert": "VAULT_CACERT",
    "namespace": "VAULT_NAMESPACE",
    "cache_ttl": "PARLEY_VAULT_CACHE_TTL",
}


@dataclass(frozen=True)
class VaultSettings:
    """Where Vault is and how Parley logs in; secrets are kept out of `repr`."""

    address: str
    token: str | None = field(default=None, repr=False)
    role_id: str | None = None
    secret_id: str | None = field(default=None, repr=False)
    approle_mount: str = "approle"
    ca_cert: Path | None = None
    namespace: str | None = None
    cache_ttl: float = DEFAULT_CACHE_TTL
    timeout: float = 5.0

    @property
    def auth_method(self) -> str:
        return "approle" if self.role_id and self.secret_id else "token"

    @classmethod
    def from_sources(
        cls,
        section: Mapping[str, Any] | None,
        env: Mapping[str, str],
        project_root: Path,
    ) -> VaultSettings | None:
        """Settings from an (already resolved) `vault:` section and the environment.

        Returns None when no address is known: Vault is then not configured. Raises
        VaultError for an unknown key or a value of the wrong kind.
        """
        section = dict(section or {})
        unknown = sorted(set(section) - set(SECTION_KEYS))
        if unknown:
            raise VaultError(
                f"unknown key(s) {', '.join(unknown)} in the vault: section of endpoints.yml "
                f"(expected: {', '.join(SECTION_KEYS)})"
            )
        merged: dict[str, Any] = {}
        for name in SECTION_KEYS:
            value = section.get(name)
            if value in (None, "") and name in _ENV_NAMES:
                value = env.get(_ENV_NAMES[name]) or None
            if value is not None:
                merged[name] = value
        address = merged.pop("address", None)
        if not address:
            return None
        try:
            ca_cert = merged.pop("ca_cert", None)
            return cls(
                address=str(address).rstrip("/"),
                ca_cert=_project_path(project_root, str(ca_cert)) if ca_cert else None,
                cache_ttl=float(merged.pop("cache_ttl", DEFAULT_CACHE_TTL)),
                timeout=float(merged.pop("timeout", 5.0)),
                **{k: str(v) for k, v in merged.items()},
            )
        except ValueError as exc:
            raise VaultError(
                f"vault settings: cache_ttl and timeout must be numbers ({exc})"
            ) from exc


def _project_path(root: Path, text: str) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else root / path


@dataclass
class _Cached:
    data: dict[str, Any]
    fetched_at: float


class VaultClient:
    """Reads KV v2 secrets; logs in lazily, caches each secret for `cache_ttl` seconds.

    When a cached secret is due for refresh and Vault cannot be reached, the last value is
    kept (and a warning logged) so a Vault restart does not take the assistant down.
    """

    def __init__(
        self, settings: VaultSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._client: hvac.Client | None = None
        self._cache: dict[tuple[str, str], _Cached] = {}

    def read(self, mount: str, path: str, key: str) -> str:
        """The field `key` of secret `mount/path`, as text; raises VaultError."""
        data = self.read_secret(mount, path)
        if key not in data:
            known = ", ".join(sorted(data)) or "none"
            raise VaultError(f"secret {mount}/{path} has no key '{key}' (keys: {known})")
        value = data[key]
        return value if isinstance(value, str) else json.dumps(value)

    def read_secret(self, mount: str, path: str) -> dict[str, Any]:
        """Every field of the newest version of secret `mount/path` (cached)."""
        with self._lock:
            cached = self._cache.get((mount, path))
            if cached and self._clock() - cached.fetched_at < self.settings.cache_ttl:
                return cached.data
            try:
                data = self._fetch(mount, path)
            except _Unreachable as exc:
                if cached is None:
                    raise VaultError(str(exc)) from None
                logger.warning("%s; keeping the cached %s/%s", exc, mount, path)
                return cached.data
            self._cache[(mount, path)] = _Cached(data, self._clock())
            return data

    def check_reachable(self) -> None:
        """Raise VaultError unless Vault answers and is unsealed."""
        import requests

        try:
            response = requests.get(
                f"{self.settings.address}/v1/sys/health",
                verify=self._verify(),
                timeout=self.settings.timeout,
            )
        except requests.RequestException as exc:
            raise VaultError(self._unreachable_message(exc)) from None
        if response.status_code not in (200, 429, 473):
            raise VaultError(
                f"Vault at {self.settings.address} is not ready (health status "
                f"{response.status_code}: sealed, uninitialised or in standby)"
            )

    def is_reachable(self) -> bool:
        try:
            self.check_reachable()
        except VaultError:
            return False
        return True

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def _verify(self) -> str | bool:
        return str(self.settings.ca_cert) if self.settings.ca_cert else True

    def _unreachable_message(self, exc: Exception) -> str:
        import requests

        if isinstance(exc, requests.exceptions.SSLError):
            hint = "TLS verification failed: set VAULT_CACERT (or vault.ca_cert) to its CA bundle"
        else:
            hint = "is it running, and is VAULT_ADDR right?"
        return f"cannot reach Vault at {self.settings.address}: {hint}"

    def _fetch(self, mount: str, path: str) -> dict[str, Any]:
        import hvac.exceptions
        import requests

        for attempt in (1, 2):
            client = self._login()
            try:
                response = client.secrets.kv.v2.read_secret_version(
                    path=path, mount_point=mount, raise_on_deleted_version=True
                )
                return dict(response["data"]["data"] or {})
            except hvac.exceptions.InvalidPath:
                raise VaultError(
                    f"Vault has no secret {mount}/{path} (is '{mount}' a KV v2 mount?)"
                ) from None
            except (hvac.exceptions.Forbidden, hvac.exceptions.Unauthorized):
                self._client = None
                if attempt == 1 and self.settings.auth_method == "approle":
                    continue  # the AppRole token may have expired: log in again once
                raise VaultError(
                    f"Vault refused to read {mount}/{path}: permission denied (is the "
                    f"{self.settings.auth_method} login valid and its policy allowing read?)"
                ) from None
            except (requests.RequestException, hvac.exceptions.VaultDown) as exc:
                self._client = None
                raise _Unreachable(self._unreachable_message(exc)) from None
        raise AssertionError("unreachable")

    def _login(self) -> hvac.Client:
        if self._client is not None:
            return self._client
        import hvac
        import hvac.exceptions
        import requests

        settings = self.settings
        client = hvac.Client(
            url=settings.address,
            token=settings.token,
            verify=self._verify(),
            timeout=settings.timeout,
            namespace=settings.namespace,
        )
        if settings.auth_method == "approle":
            try:
                client.auth.approle.login(
                    role_id=settings.role_id,
                    secret_id=settings.secret_id,
                    mount_point=settings.approle_mount,
                )
            except (hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden):
                raise VaultError(
                    "Vault refused the AppRole login: check VAULT_ROLE_ID and VAULT_SECRET_ID "
                    f"(mount '{settings.approle_mount}')"
                ) from None
            except (requests.RequestException, hvac.exceptions.VaultDown) as exc:
                raise _Unreachable(self._unreachable_message(exc)) from None
            logger.info("logged in to Vault at %s with AppRole", settings.address)
        elif not settings.token:
            raise VaultError(
                "Vault has no credentials: set VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID"
            )
        self._client = client
        return client


class _Unreachable(Exception):
    """Vault did not answer (network, TLS); a cached value may still be served."""
