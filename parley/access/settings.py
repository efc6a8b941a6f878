"""`access:` in parley.yml: where users live, session rules, lockout, roles and SSO providers.

access:
  store: {dialect: postgresql, url: db.internal, db: parley}   # default: SQLite parley.db
  session: {idle_minutes: 30, absolute_hours: 12}
  lockout: {max_failures: 5, minutes: 15}
  roles: {reviewer: [conversations:read, conversations:tag]}
  audit: {publish: true}           # also send audit rows to the event broker
  share: {default_days: 7, max_days: 30}   # studio guest links' expiry
  ldap: {...}   oidc: {...}   saml: {...}   (see docs/access.md)
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SessionSettings(_Strict):
    idle_minutes: float = Field(default=30, gt=0)
    absolute_hours: float = Field(default=12, gt=0)
    cookie_name: str = "parley_session"
    # Secure cookies: "auto" follows the request's scheme (https behind TLS or a proxy header).
    secure: bool | None = None


class LockoutSettings(_Strict):
    max_failures: int = Field(default=5, ge=1)
    minutes: float = Field(default=15, gt=0)


class AuditSettings(_Strict):
    publish: bool = False  # also publish each row to the event broker (for a SIEM)


class ShareSettings(_Strict):
    """Studio guest links: the expiry offered, and the longest one allowed (days)."""

    default_days: float = Field(default=7, gt=0)
    max_days: float = Field(default=30, gt=0)

    @model_validator(mode="after")
    def _default_within_max(self) -> ShareSettings:
        if self.default_days > self.max_days:
            raise ValueError(f"default_days ({self.default_days:g}) exceeds max_days")
        return self


class RoleMapping(_Strict):
    """Group (or claim value) -> role: the first entry of `groups` the user belongs to wins."""

    groups: dict[str, str] = Field(default_factory=dict)
    default_role: str | None = "viewer"  # None: users outside every mapped group are refused


class LdapSettings(RoleMapping):
    url: str  # ldap://host:389 or ldaps://host:636
    user_dn_template: str | None = None  # "uid={username},ou=people,dc=example,dc=org"
    bind_dn: str | None = None  # service account for searches (else the user's own bind)
    bind_password: SecretStr | None = None
    user_search_base: str | None = None
    user_filter: str = "(uid={username})"
    group_search_base: str | None = None
    group_filter: str = "(|(member={user_dn})(uniqueMember={user_dn}))"
    start_tls: bool = False
    timeout: float = 5.0


class OidcSettings(RoleMapping):
    issuer: str
    client_id: str
    client_secret: SecretStr | None = None
    redirect_uri: str  # e.g. https://parley.example.org/auth/oidc/callback
    scopes: str = "openid email profile"
    groups_claim: str = "groups"
    username_claim: str = "preferred_username"


class SamlSettings(RoleMapping):
    idp_metadata_file: str  # the IdP's metadata XML (path relative to the project)
    entity_id: str  # this SP's entity id
    acs_url: str  # e.g. https://parley.example.org/auth/saml/acs
    groups_attribute: str = "groups"
    username_attribute: str | None = None  # default: the NameID
    key_file: str | None = None  # with cert_file: sign this SP's requests
    cert_file: str | None = None
    xmlsec_binary: str | None = None  # default: xmlsec1 on PATH
    clock_skew_seconds: int = Field(default=60, ge=0)


class AccessSettings(_Strict):
    """The whole `access:` section (its presence turns access control on)."""

    store: dict[str, Any] = Field(default_factory=dict)
    session: SessionSettings = SessionSettings()
    lockout: LockoutSettings = LockoutSettings()
    roles: dict[str, list[str]] = Field(default_factory=dict)
    audit: AuditSettings = AuditSettings()
    share: ShareSettings = ShareSettings()
    ldap: LdapSettings | None = None
    oidc: OidcSettings | None = None
    saml: SamlSettings | None = None
