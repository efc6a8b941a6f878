"""SAML 2.0 service provider (pysaml2): redirect to the IdP, check its POSTed response.

A response is accepted only when its assertion is signed by the IdP of the configured metadata,
is addressed to this SP (audience, destination), answers a request this SP made (the request id
travels in the signed RelayState, since the cross-site POST carries no SameSite cookie), is
within its validity window, and was not seen before (assertion ids are kept in the store).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string

from parley.access.errors import AccessConfigError, LoginFailed
from parley.access.settings import SamlSettings
from parley.access.sso.identity import SsoIdentity

logger = logging.getLogger(__name__)


class SamlServiceProvider:
    """One configured IdP; pysaml2 (and xmlsec1) does the XML signature work."""

    def __init__(self, settings: SamlSettings, project_root: Path) -> None:
        self.settings = settings
        metadata = Path(settings.idp_metadata_file)
        if not metadata.is_absolute():
            metadata = project_root / metadata
        if not metadata.is_file():
            raise AccessConfigError(
                f"parley.yml: access.saml.idp_metadata_file: {metadata} does not exist; "
                "download your IdP's metadata XML there"
            )
        xmlsec = settings.xmlsec_binary or shutil.which("xmlsec1")
        if not xmlsec:
            raise AccessConfigError(
                "SAML needs the xmlsec1 program (Debian: apt-get install xmlsec1)"
            )
        config: dict[str, Any] = {
            "entityid": settings.entity_id,
            "xmlsec_binary": xmlsec,
            "metadata": {"local": [str(metadata)]},
            "accepted_time_diff": settings.clock_skew_seconds,
            "allow_unknown_attributes": True,
            "service": {
                "sp": {
                    "endpoints": {
                        "assertion_consumer_service": [(settings.acs_url, BINDING_HTTP_POST)]
                    },
                    "allow_unsolicited": False,
                    "authn_requests_signed": bool(settings.key_file),
                    "want_response_signed": False,
                    "want_assertions_signed": True,
                }
            },
        }
        for name in ("key_file", "cert_file"):
            value = getattr(settings, name)
            if value:
                path = Path(value)
                config[name] = str(path if path.is_absolute() else project_root / path)
        self.config = SPConfig()
        self.config.load(config)
        self.client = Saml2Client(config=self.config)
        idps = list(self.client.metadata.identity_providers())
        if len(idps) != 1:
            raise AccessConfigError(
                f"{metadata}: expected the metadata of exactly one IdP, found {len(idps)}"
            )
        self.idp = idps[0]

    def metadata_xml(self) -> str:
        """This SP's metadata, for registering Parley at the IdP."""
        xml = create_metadata_string(None, config=self.config, valid=None)
        return xml.decode() if isinstance(xml, bytes) else str(xml)

    def start(self, request_id: str, relay_state: str) -> str:
        """The IdP URL (an AuthnRequest with this id) to redirect the browser to."""
        _, info = self.client.prepare_for_authenticate(
            entityid=self.idp,
            relay_state=relay_state,
            binding=BINDING_HTTP_REDIRECT,
            message_id=request_id,
        )
        return str(dict(info["headers"])["Location"])

    async def finish(self, saml_response: str, request_id: str) -> tuple[SsoIdentity, str, float]:
        """(identity, assertion id, assertion expiry) of a POSTed response; raises LoginFailed."""
        return await asyncio.to_thread(self._finish, saml_response, request_id)

    def _finish(self, saml_response: str, request_id: str) -> tuple[SsoIdentity, str, float]:
        try:
            response = self.client.parse_authn_request_response(
                saml_response, BINDING_HTTP_POST, outstanding={request_id: "/"}
            )
        except Exception as exc:  # pysaml2 raises a dozen unrelated types for a bad response
            logger.info("refused a SAML response: %s: %s", type(exc).__name__, exc)
            raise LoginFailed(f"the SAML response was refused ({type(exc).__name__})") from None
        if response is None or response.assertion is None:
            raise LoginFailed("the SAML response carries no assertion")
        attributes = response.get_identity()
        username = (
            _first(attributes.get(self.settings.username_attribute))
            if self.settings.username_attribute
            else None
        ) or (response.name_id.text if response.name_id is not None else None)
        if not username:
            raise LoginFailed("the SAML assertion names no user")
        identity = SsoIdentity(
            username=username.strip(),
            source="saml",
            groups=tuple(str(g) for g in attributes.get(self.settings.groups_attribute, [])),
            display_name=_first(attributes.get("displayName") or attributes.get("cn")),
            email=_first(attributes.get("mail") or attributes.get("email")),
        )
        # Remember the assertion id as long as the assertion could be accepted (+ clock skew).
        valid_until = float(getattr(response, "not_on_or_after", 0) or 0)
        keep_until = max(valid_until, time.time() + 3600) + self.settings.clock_skew_seconds
        return identity, str(response.assertion.id), keep_until


def _first(values: Any) -> str | None:
    if isinstance(values, list):
        return str(values[0]) if values else None
    return str(values) if values else None
