"""A SAML 2.0 identity provider (pysaml2's Server) for Parley's SAML tests, run as a subprocess:

    python -m tests.integration.idp.saml_idp DIR PORT

DIR holds idp.key, idp.crt and sp.xml (the SP's metadata); `write_idp_files` makes the key,
certificate and the IdP's own metadata first. GET /sso takes the SP's AuthnRequest (HTTP-Redirect)
plus test knobs: `user` (who signs in), `audience` (another SP entity id) and `lifetime`
(seconds the assertion is valid); it answers with the HTML form that POSTs to the SP's ACS.
"""

from __future__ import annotations

import datetime
import shutil
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

USERS: dict[str, dict[str, list[str]]] = {
    "alice": {"uid": ["alice"], "mail": ["alice@parley.test"], "groups": ["parley-admins"]},
    "bob": {"uid": ["bob"], "mail": ["bob@parley.test"], "groups": ["labellers"]},
    "carol": {"uid": ["carol"], "mail": ["carol@parley.test"], "groups": []},
}


def idp_config(folder: Path, port: int, with_sp: bool = True) -> dict[str, Any]:
    from saml2 import BINDING_HTTP_REDIRECT

    base = f"http://127.0.0.1:{port}"
    return {
        "entityid": f"{base}/idp",
        "xmlsec_binary": shutil.which("xmlsec1"),
        "key_file": str(folder / "idp.key"),
        "cert_file": str(folder / "idp.crt"),
        "metadata": {"local": [str(folder / "sp.xml")]} if with_sp else {},
        "allow_unknown_attributes": True,
        "service": {
            "idp": {
                "endpoints": {"single_sign_on_service": [(f"{base}/sso", BINDING_HTTP_REDIRECT)]},
                "policy": {"default": {"lifetime": {"minutes": 15}}},
                "sign_assertion": True,
            }
        },
    }


def write_idp_files(folder: Path, port: int) -> Path:
    """A fresh key and self-signed certificate, and the IdP metadata (returned) that the SP
    trusts."""
    from saml2.config import IdPConfig
    from saml2.metadata import create_metadata_string

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "parley-test-idp")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (folder / "idp.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    (folder / "idp.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    config = IdPConfig()
    config.load(idp_config(folder, port, with_sp=False))
    metadata = folder / "idp.xml"
    xml = create_metadata_string(None, config=config, valid=None)
    metadata.write_text(xml.decode() if isinstance(xml, bytes) else str(xml))
    return metadata


def serve(folder: Path, port: int) -> None:
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.assertion import Policy
    from saml2.config import IdPConfig
    from saml2.saml import NAMEID_FORMAT_UNSPECIFIED, NameID
    from saml2.server import Server

    config = IdPConfig()
    config.load(idp_config(folder, port))
    idp = Server(config=config)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            try:
                body, status = self._respond(), 200
            except Exception:  # show the test what went wrong
                import traceback

                body, status = traceback.format_exc().encode(), 500
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _respond(self) -> bytes:
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            request = idp.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT).message
            user = query.get("user", "alice")
            lifetime = {"seconds": int(query["lifetime"])} if "lifetime" in query else None
            policy = Policy({"default": {"lifetime": lifetime}}) if lifetime else None
            response = idp.create_authn_response(
                USERS[user],
                in_response_to=request.id,
                destination=request.assertion_consumer_service_url,
                sp_entity_id=query.get("audience", request.issuer.text),
                name_id=NameID(format=NAMEID_FORMAT_UNSPECIFIED, text=user),
                authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
                sign_assertion=True,
                release_policy=policy,
            )
            http = idp.apply_binding(
                BINDING_HTTP_POST, str(response), request.assertion_consumer_service_url,
                query.get("RelayState", ""), response=True,
            )  # fmt: skip
            return str(http["data"]).encode()

        def log_message(self, *_: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]))
