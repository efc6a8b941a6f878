"""LDAP login: find the user's entry, bind as it with the password, read its groups (ldap3).

The bind is the password check, so the directory's own policies (lockout, expiry) apply too.
Group names in `access.ldap.groups` may be full DNs or just the group's `cn`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ldap3 import ALL_ATTRIBUTES, SUBTREE, Connection, Server
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from parley.access.errors import LoginFailed
from parley.access.settings import LdapSettings
from parley.access.sso.identity import SsoIdentity

logger = logging.getLogger(__name__)

BAD_CREDENTIALS = "invalid username or password"


class LdapDirectory:
    """One configured directory; `authenticate` runs the blocking ldap3 calls in a thread."""

    def __init__(self, settings: LdapSettings) -> None:
        if not settings.user_dn_template and not settings.user_search_base:
            raise ValueError("parley.yml: access.ldap needs user_dn_template or user_search_base")
        self.settings = settings

    async def authenticate(self, username: str, password: str) -> SsoIdentity:
        """The identity of `username` if `password` binds; raises LoginFailed otherwise."""
        if not password or not username or len(username) > 255:
            raise LoginFailed(BAD_CREDENTIALS)  # an empty password would be an anonymous bind
        return await asyncio.to_thread(self._authenticate, username, password)

    def _server(self) -> Server:
        return Server(self.settings.url, connect_timeout=self.settings.timeout)

    def _connect(self, user: str | None, password: str | None) -> Connection:
        connection = Connection(
            self._server(),
            user=user,
            password=password,
            receive_timeout=max(1, round(self.settings.timeout)),  # ldap3 packs it as an int
            raise_exceptions=False,
        )
        if self.settings.start_tls:
            connection.open()
            connection.start_tls()
        return connection

    def _service(self) -> Connection | None:
        if self.settings.bind_dn is None:
            return None
        password = self.settings.bind_password
        connection = self._connect(
            self.settings.bind_dn, password.get_secret_value() if password else None
        )
        if not connection.bind():
            raise LoginFailed("the directory refused Parley's service account; check access.ldap")
        return connection

    def _authenticate(self, username: str, password: str) -> SsoIdentity:
        try:
            service = self._service()
            try:
                user_dn, attributes = self._find_user(service, username)
                as_user = self._connect(user_dn, password)
                if not as_user.bind():
                    raise LoginFailed(BAD_CREDENTIALS)
                try:
                    groups = self._groups(service or as_user, user_dn)
                    if not attributes:
                        attributes = self._read(as_user, user_dn)
                finally:
                    as_user.unbind()
            finally:
                if service is not None:
                    service.unbind()
        except LDAPException as exc:
            logger.warning("LDAP login of %r failed: %s", username, exc)
            raise LoginFailed("the directory cannot be reached; try again later") from None
        # The directory's spelling of the name: "Alice" and "alice" are one LDAP user.
        canonical = _first(attributes.get("uid"))
        if canonical is None or canonical.lower() != username.lower():
            canonical = username
        return SsoIdentity(
            username=canonical,
            source="ldap",
            groups=tuple(groups),
            display_name=_first(attributes.get("displayName") or attributes.get("cn")),
            email=_first(attributes.get("mail")),
        )

    def _find_user(self, service: Connection | None, username: str) -> tuple[str, dict[str, Any]]:
        settings = self.settings
        if settings.user_dn_template:
            return settings.user_dn_template.format(username=escape_rdn(username)), {}
        if service is None:
            raise LoginFailed("access.ldap.user_search_base needs bind_dn to search with")
        query = settings.user_filter.format(username=escape_filter_chars(username))
        service.search(settings.user_search_base, query, SUBTREE, attributes=ALL_ATTRIBUTES)
        entries = [e for e in service.response or [] if e.get("type") == "searchResEntry"]
        if len(entries) != 1:  # none, or an ambiguous filter: refuse either way
            raise LoginFailed(BAD_CREDENTIALS)
        return str(entries[0]["dn"]), dict(entries[0].get("attributes") or {})

    @staticmethod
    def _read(connection: Connection, dn: str) -> dict[str, Any]:
        connection.search(
            dn, "(objectClass=*)", "BASE", attributes=["uid", "cn", "displayName", "mail"]
        )
        entries = [e for e in connection.response or [] if e.get("type") == "searchResEntry"]
        return dict(entries[0].get("attributes") or {}) if entries else {}

    def _groups(self, connection: Connection, user_dn: str) -> list[str]:
        """Group DNs and `cn`s of the groups listing `user_dn` as a member."""
        base = self.settings.group_search_base
        if not base:
            return []
        query = self.settings.group_filter.format(user_dn=escape_filter_chars(user_dn))
        connection.search(base, query, SUBTREE, attributes=["cn"])
        groups: list[str] = []
        for entry in connection.response or []:
            if entry.get("type") != "searchResEntry":
                continue
            groups.append(str(entry["dn"]))
            groups.extend(str(cn) for cn in entry.get("attributes", {}).get("cn", []))
        return groups


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        return str(value[0]) if value else None
    return str(value) if value else None
