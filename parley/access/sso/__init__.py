"""Single sign-on: LDAP bind (ldap.py), OIDC code + PKCE (oidc.py), SAML 2.0 SP (saml.py)."""

from parley.access.sso.identity import SsoIdentity, map_role

__all__ = ["SsoIdentity", "map_role"]
