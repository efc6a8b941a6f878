"""`Access`: the users, sessions, tokens and audit log of one deployment, and the login flows."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from parley.access.audit import AuditLog, Publisher
from parley.access.errors import AccessConfigError, LoginFailed
from parley.access.passwords import hash_password as _hash_password
from parley.access.passwords import needs_rehash, verify_password, verify_totp
from parley.access.permissions import RoleBook, check_permissions
from parley.access.principal import Principal
from parley.access.sessions import Session, SessionStore, signing_key
from parley.access.settings import AccessSettings
from parley.access.sso.identity import SsoIdentity, map_role
from parley.access.tokens import ApiToken, TokenStore
from parley.access.users import User, UserStore
from parley.stores.sql_engine import SQLSettings, create_engine, migrate

if TYPE_CHECKING:
    from parley.access.sso.ldap import LdapDirectory
    from parley.access.sso.oidc import OidcClient
    from parley.access.sso.saml import SamlServiceProvider

logger = logging.getLogger(__name__)

BAD_CREDENTIALS = "invalid username or password"


@dataclass(frozen=True)
class LoginResult:
    cookie: str
    session: Session
    user: User


class Access:
    """Built once per server (or CLI command) by `Access.open`; closed with `close()`."""

    def __init__(
        self,
        settings: AccessSettings,
        engine: AsyncEngine,
        key: bytes,
        publish: Publisher | None = None,
        project_root: Path = Path("."),
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.key = key  # signs session cookies and SSO state cookies
        self.project_root = project_root
        self.roles = RoleBook.build(settings.roles)
        for mapping in (settings.ldap, settings.oidc, settings.saml):
            if mapping is not None:
                for role in [*mapping.groups.values(), mapping.default_role]:
                    if role is not None:
                        self.roles.check_role(role)
        self.users = UserStore(engine)
        self.sessions = SessionStore(
            engine,
            key,
            idle=settings.session.idle_minutes * 60,
            absolute=settings.session.absolute_hours * 3600,
        )
        self.tokens = TokenStore(engine)
        self.audit = AuditLog(engine, publish if settings.audit.publish else None)
        self.ldap: LdapDirectory | None = None
        if settings.ldap is not None:
            from parley.access.sso.ldap import LdapDirectory

            self.ldap = LdapDirectory(settings.ldap)
        self.oidc: OidcClient | None = None
        if settings.oidc is not None:
            from parley.access.sso.oidc import OidcClient

            self.oidc = OidcClient(settings.oidc)
        self.saml: SamlServiceProvider | None = None
        if settings.saml is not None:
            from parley.access.sso.saml import SamlServiceProvider

            self.saml = SamlServiceProvider(settings.saml, project_root)

    @classmethod
    async def open(
        cls,
        settings: AccessSettings,
        project_root: Path,
        publish: Publisher | None = None,
    ) -> Access:
        """Connect to the access store (migrating it) and build the service."""
        sql = SQLSettings.from_endpoint(settings.store, "parley.yml: access.store")
        engine = create_engine(sql, project_root)
        try:
            await migrate(engine, sql.schema)
            key = await signing_key(engine)
            return cls(settings, engine, key, publish, project_root)
        except BaseException:
            await engine.dispose()
            raise

    async def close(self) -> None:
        await self.engine.dispose()

    # --- principals -------------------------------------------------------------------------

    def principal_of(self, user: User, via: str, session: Session | None = None) -> Principal:
        return Principal(
            name=user.username,
            role=user.role,
            permissions=self.roles.permissions(user.role),
            via=via,
            csrf_token=session.csrf_token if session else None,
        )

    async def session_principal(self, cookie: str) -> Principal | None:
        session = await self.sessions.resolve(cookie)
        if session is None:
            return None
        user = await self.users.get(session.username)
        if user is None or user.disabled:
            return None
        return self.principal_of(user, "session", session)

    async def token_principal(self, text: str) -> Principal | None:
        token = await self.tokens.resolve(text)
        if token is None:
            return None
        user = await self.users.get(token.username)
        if user is None or user.disabled:
            return None
        own = self.principal_of(user, "api_token")
        return Principal(user.username, user.role, own.permissions & token.scopes, "api_token")

    # --- login ------------------------------------------------------------------------------

    async def login(
        self, username: str, password: str, totp: str | None = None, ip: str | None = None
    ) -> LoginResult:
        """Local password (+ TOTP) or, for directory users, an LDAP bind; raises LoginFailed."""
        user = await self.users.get(username)
        try:
            if user is not None and (user.disabled or user.locked(time.time())):
                verify_password(None, password)  # same time as a real check
                raise LoginFailed("this account is locked or disabled; ask an administrator")
            if user is not None and user.source == "local":
                await self._check_local(username, password, totp)
                return await self._start(user, "local", ip)
            if self.ldap is not None and (user is None or user.source == "ldap"):
                identity = await self.ldap.authenticate(username, password)
                return await self.sso_login(identity, ip)
            verify_password(None, password)
            raise LoginFailed(BAD_CREDENTIALS)
        except LoginFailed as exc:
            await self._failed(username, user, str(exc), ip)
            raise

    async def _check_local(self, username: str, password: str, totp: str | None) -> None:
        password_hash, totp_secret = await self.users.secrets(username)
        if not verify_password(password_hash, password):
            raise LoginFailed(BAD_CREDENTIALS)
        if totp_secret and not verify_totp(totp_secret, totp or ""):
            raise LoginFailed("a valid one-time code (totp) is required")
        if password_hash and needs_rehash(password_hash):
            await self.users.change(username, password_hash=_hash_password(password))

    async def _failed(self, username: str, user: User | None, reason: str, ip: str | None) -> None:
        locked = False
        if user is not None and not user.locked(time.time()):
            lockout = self.settings.lockout
            locked = await self.users.record_failure(
                username, lockout.max_failures, lockout.minutes * 60
            )
        await self.audit.record(
            username, "login", result="failed", ip=ip, details={"reason": reason}
        )
        if locked:
            await self.audit.record(username, "account_locked", target=username, ip=ip)

    async def sso_login(self, identity: SsoIdentity, ip: str | None = None) -> LoginResult:
        """A user an identity provider vouched for: created on first login, role re-mapped from
        the groups at every login; raises LoginFailed for a clash or an unmapped user."""
        mapping = getattr(self.settings, identity.source)
        assert mapping is not None
        user = await self.users.get(identity.username)
        if user is not None and user.source != identity.source:
            raise LoginFailed(
                f"user {identity.username!r} is a {user.source} user and cannot sign in "
                f"through {identity.source}"
            )
        if user is not None and (user.disabled or user.locked(time.time())):
            raise LoginFailed("this account is locked or disabled; ask an administrator")
        role = map_role(mapping, identity.groups)
        if user is None:
            user = await self.users.create(
                identity.username,
                role,
                identity.source,
                display_name=identity.display_name,
                email=identity.email,
            )
            await self.audit.record(
                identity.username, "user_create", target=identity.username, ip=ip,
                details={"role": role, "source": identity.source},
            )  # fmt: skip
        elif user.role != role:
            await self.users.change(user.username, role=role)
            await self.audit.record(
                identity.username, "role_change", target=identity.username, ip=ip,
                details={"from": user.role, "to": role, "source": identity.source},
            )  # fmt: skip
            user = await self.users.get(user.username) or user
        return await self._start(user, identity.source, ip)

    async def sso_failed(self, source: str, reason: str, ip: str | None = None) -> None:
        """Audit a refused SSO login (the user is often unknown: the actor names the source)."""
        await self.audit.record(
            f"{source}:unknown", "login", result="failed", ip=ip, details={"reason": reason}
        )

    async def _start(self, user: User, method: str, ip: str | None) -> LoginResult:
        await self.users.record_login(user.username)
        cookie, session = await self.sessions.create(user.username, method, ip)
        await self.audit.record(user.username, "login", ip=ip, details={"method": method})
        return LoginResult(cookie, session, user)

    # --- administration (CLI and API share these, so both audit the same way) ----------------

    async def create_user(
        self, actor: str, username: str, role: str, password: str | None, ip: str | None = None
    ) -> User:
        self.roles.check_role(role)
        password_hash = _hash_password(password) if password is not None else None
        user = await self.users.create(username, role, "local", password_hash)
        await self.audit.record(
            actor, "user_create", target=username, ip=ip, details={"role": role}
        )
        return user

    async def set_role(self, actor: str, username: str, role: str, ip: str | None = None) -> None:
        self.roles.check_role(role)
        user = await self._existing(username)
        await self.users.change(username, role=role)
        await self.audit.record(
            actor, "role_change", target=username, ip=ip, details={"from": user.role, "to": role}
        )

    async def set_password(
        self, actor: str, username: str, password: str, ip: str | None = None
    ) -> None:
        await self._existing(username)
        await self.users.change(username, password_hash=_hash_password(password))
        ended = await self.sessions.end_all(username)
        await self.audit.record(
            actor, "password_change", target=username, ip=ip, details={"sessions_ended": ended}
        )

    async def set_disabled(
        self, actor: str, username: str, disabled: bool, ip: str | None = None
    ) -> None:
        await self._existing(username)
        await self.users.change(username, disabled=int(disabled), failed_logins=0,
                                locked_until=None)  # fmt: skip
        if disabled:
            await self.sessions.end_all(username)
        await self.audit.record(actor, "user_disable" if disabled else "user_enable",
                                target=username, ip=ip)  # fmt: skip

    async def set_totp(self, actor: str, username: str, secret: str | None) -> None:
        """Require (or, with None, stop requiring) a TOTP code at this local user's login."""
        user = await self._existing(username)
        if user.source != "local":
            raise AccessConfigError(f"{username!r} signs in through {user.source}: no TOTP here")
        await self.users.change(username, totp_secret=secret)
        await self.audit.record(actor, "totp_enable" if secret else "totp_disable", target=username)

    async def delete_user(self, actor: str, username: str, ip: str | None = None) -> None:
        await self._existing(username)
        await self.sessions.end_all(username)
        for token in await self.tokens.list(username):
            await self.tokens.revoke(token.token_id)
        await self.users.delete(username)
        await self.audit.record(actor, "user_delete", target=username, ip=ip)

    async def logout_everywhere(self, actor: str, username: str, ip: str | None = None) -> int:
        ended = await self.sessions.end_all(username)
        await self.audit.record(
            actor, "logout_all", target=username, ip=ip, details={"sessions_ended": ended}
        )
        return ended

    async def create_token(
        self,
        actor: str,
        username: str,
        name: str,
        scopes: list[str],
        expires_at: float | None,
        ip: str | None = None,
    ) -> tuple[str, ApiToken]:
        """A token for `username`, limited to permissions its role has; raises
        AccessConfigError for an unknown user or a scope the role lacks."""
        user = await self._existing(username)
        wanted = check_permissions(scopes) if scopes else self.roles.permissions(user.role)
        beyond = sorted(wanted - self.roles.permissions(user.role))
        if beyond:
            raise AccessConfigError(
                f"role {user.role!r} of {username!r} does not have {', '.join(beyond)}"
            )
        if expires_at is not None and expires_at <= time.time():
            raise AccessConfigError("a token's expiry must be in the future")
        text, token = await self.tokens.create(username, name, wanted, expires_at)
        await self.audit.record(
            actor, "token_create", target=token.token_id, ip=ip,
            details={"owner": username, "name": name, "scopes": sorted(wanted),
                     "expires_at": expires_at},
        )  # fmt: skip
        return text, token

    async def revoke_token(self, actor: str, token_id: str, ip: str | None = None) -> bool:
        revoked = await self.tokens.revoke(token_id)
        await self.audit.record(
            actor, "token_revoke", target=token_id, ip=ip, result="ok" if revoked else "failed"
        )
        return revoked

    async def _existing(self, username: str) -> User:
        user = await self.users.get(username)
        if user is None:
            raise AccessConfigError(f"no user {username!r}; `parley users list` shows them")
        return user
