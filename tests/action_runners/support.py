"""Real servers for action tests: uvicorn in a thread, a CONNECT proxy, a test PKI.

Everything listens on 127.0.0.1 on a port the OS picks.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import functools
import ipaddress
import re
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "actions"


def parley_copy_of_bank_actions(folder: Path, module: str = "bank_actions_parley") -> str:
    """Write the rasa_sdk fixture module with its imports switched to parley.sdk."""
    source = (FIXTURES / "bank_actions.py").read_text(encoding="utf-8")
    (folder / f"{module}.py").write_text(re.sub(r"\brasa_sdk\b", "parley.sdk", source))
    return module


def listening_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(16)
    return sock


class ServerThread:
    """An ASGI app served by uvicorn in a background thread."""

    def __init__(self, app: Any, port: int = 0, **options: Any) -> None:
        self._sock = listening_socket(port)
        self.port = int(self._sock.getsockname()[1])
        config = uvicorn.Config(
            app, log_level="warning", timeout_graceful_shutdown=1, lifespan="off", **options
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self.https = "ssl_certfile" in options

    def url(self, path: str = "/webhook") -> str:
        return f"{'https' if self.https else 'http'}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(5)
        self._sock.close()


class ConnectProxy:
    """A minimal real HTTPS proxy (HTTP CONNECT tunnels) that records where it connected."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        self._sock = listening_socket()
        self.port = int(self._sock.getsockname()[1])
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ConnectProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, sock=self._sock), self._loop
        )
        self._server = future.result(5)
        return self

    def __exit__(self, *exc: object) -> None:
        async def shutdown() -> None:
            self._server.close()
            pipes = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pipes:  # tunnels still open: close them while the loop runs
                task.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
        if method != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            writer.close()
            return
        self.targets.append(target)
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@dataclass(frozen=True)
class PKI:
    ca_file: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca_file: Path


def make_pki(folder: Path) -> PKI:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by it."""
    ca_key, ca_cert = _ca("Parley Test CA")
    other_key, other_cert = _ca("Someone Else's CA")
    del other_key
    server_key, server_cert = _leaf("127.0.0.1", ca_key, ca_cert, server=True)
    client_key, client_cert = _leaf("parley-assistant", ca_key, ca_cert, server=False)
    files = {
        "ca.pem": _pem_cert(ca_cert),
        "other-ca.pem": _pem_cert(other_cert),
        "server.pem": _pem_cert(server_cert),
        "server.key": _pem_key(server_key),
        "client.pem": _pem_cert(client_cert),
        "client.key": _pem_key(client_key),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return PKI(
        folder / "ca.pem",
        folder / "server.pem",
        folder / "server.key",
        folder / "client.pem",
        folder / "client.key",
        folder / "other-ca.pem",
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return builder.not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(
        now + datetime.timedelta(days=1)
    )


def _ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return key, _validity(builder).sign(key, hashes.SHA256())


def _leaf(
    common_name: str,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    server: bool,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(common_name))]),
            critical=False,
        )
    return key, _validity(builder).sign(ca_key, hashes.SHA256())


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def tracker_state(
    sender_id: str = "alice",
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    latest_message: dict[str, Any] | None = None,
    active_loop: dict[str, Any] | None = None,
    latest_action_name: str | None = "action_listen",
) -> dict[str, Any]:
    """A tracker as Rasa serialises it for the action server (EventVerbosity.ALL)."""
    events = events or []
    return {
        "sender_id": sender_id,
        "slots": slots or {},
        "latest_message": latest_message or {},
        "latest_event_time": events[-1]["timestamp"] if events else None,
        "followup_action": None,
        "paused": False,
        "events": events,
        "latest_input_channel": next(
            (e.get("input_channel") for e in reversed(events) if e["event"] == "user"), None
        ),
        "active_loop": active_loop or {},
        "latest_action": {"action_name": latest_action_name},
        "latest_action_name": latest_action_name,
    }


BANKBOT = Path(__file__).resolve().parents[1] / "fixtures" / "bankbot"


def bank_domain() -> dict[str, Any]:
    return copy.deepcopy(_bank_domain())


@functools.cache
def _bank_domain() -> dict[str, Any]:
    from parley.dialogue.domain_json import domain_to_json
    from parley.project.loader import load_project

    return domain_to_json(load_project(BANKBOT).domain)


def user_event(
    text: str, intent: str, entities: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "event": "user",
        "timestamp": 1700000000.0,
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": 0.98},
            "entities": entities or [],
            "intent_ranking": [{"name": intent, "confidence": 0.98}],
        },
        "input_channel": "rest",
    }


def slot_event(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "timestamp": 1700000001.0, "name": name, "value": value}


def bank_request(
    action: str,
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    domain: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A webhook request for the bank assistant, as Rasa would send it."""
    from parley.dialogue.actions.remote import RASA_PROTOCOL_VERSION

    domain = domain or bank_domain()
    values = {name: None for name in domain["slots"]} | {"requested_slot": None} | (slots or {})
    events = events or [user_event("hi", "greet")]
    latest = next((e["parse_data"] for e in reversed(events) if e["event"] == "user"), {})
    state = tracker_state(
        "alice",
        values,
        events,
        latest,
        {"name": active_loop} if active_loop else {},
    )
    return {
        "next_action": action,
        "sender_id": "alice",
        "tracker": state,
        "domain": domain,
        "version": RASA_PROTOCOL_VERSION,
    }


OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "action-server.openapi.json"


def protocol_validator(schema_name: str) -> Any:
    """A JSON Schema validator for one schema of docs/action-server.openapi.json."""
    import json

    from jsonschema import Draft202012Validator

    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def assert_reply_matches_protocol(status: int, body: Any) -> None:
    """A webhook answer is valid per the documented protocol for its status code."""
    name = {200: "WebhookReply", 400: "Rejection", 404: "Rejection"}.get(status, "Error")
    errors = [e.message for e in protocol_validator(name).iter_errors(body)]
    assert not errors, f"HTTP {status} body does not match {name}: {errors}"
