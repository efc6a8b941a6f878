"""Outgoing security of action calls: JWT, HMAC, token, mutual TLS, HTTPS proxy."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from parley.action_runners import ActionServerError, HttpActionRunner, parse_action_endpoint
from parley.action_runners.signing import RequestVerifier
from parley.sdk import ActionExecutor
from parley.sdk.server import create_app
from tests.action_runners.support import PKI, ConnectProxy, ServerThread, bank_request
from tests.action_runners.test_signing import rsa_pair

pytestmark = pytest.mark.integration

SECRET = "a-secret-that-is-long-enough-1234567890"
OTHER = "another-secret-that-is-long-enough-12345"


async def call(url: str, **settings: Any) -> dict[str, Any]:
    runner = HttpActionRunner(parse_action_endpoint({"url": url, **settings}))
    try:
        return await runner.run("action_check_balance", bank_request("action_check_balance"))
    finally:
        await runner.close()


@pytest.mark.parametrize(
    ("verifier", "good", "bad"),
    [
        (RequestVerifier(jwt_key=SECRET), {"jwt": {"secret": SECRET}}, {"jwt": {"secret": OTHER}}),
        (
            RequestVerifier(hmac_secret=SECRET),
            {"hmac": {"secret": SECRET}},
            {"hmac": {"secret": OTHER}},
        ),
        (RequestVerifier(token="t0k3n"), {"token": "t0k3n"}, {"token": "guess"}),
    ],
    ids=["jwt", "hmac", "token"],
)
async def test_server_accepts_the_right_credentials_and_refuses_others(
    bank_executor: ActionExecutor,
    verifier: RequestVerifier,
    good: dict[str, Any],
    bad: dict[str, Any],
) -> None:
    with ServerThread(create_app(bank_executor, verifier)) as server:
        reply = await call(server.url(), **good)
        assert reply["events"][0]["name"] == "balance"
        for settings in (bad, {}):
            with pytest.raises(ActionServerError, match="HTTP 401"):
                await call(server.url(), **settings)


async def test_rs256_jwt_with_private_key_file(
    bank_executor: ActionExecutor, tmp_path: Any
) -> None:
    private, public = rsa_pair()
    (tmp_path / "jwt.pem").write_text(private)
    verifier = RequestVerifier(jwt_key=public, jwt_algorithm="RS256", jwt_audience="bank-actions")
    jwt = {"algorithm": "RS256", "private_key_file": str(tmp_path / "jwt.pem")}
    with ServerThread(create_app(bank_executor, verifier)) as server:
        reply = await call(server.url(), jwt={**jwt, "audience": "bank-actions"})
        assert reply["events"][0]["name"] == "balance"
        with pytest.raises(ActionServerError, match="HTTP 401"):
            await call(server.url(), jwt=jwt)  # no audience claim


def mtls_server(executor: ActionExecutor, pki: PKI) -> ServerThread:
    return ServerThread(
        create_app(executor),
        ssl_certfile=str(pki.server_cert),
        ssl_keyfile=str(pki.server_key),
        ssl_ca_certs=str(pki.ca_file),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
    )


async def test_mutual_tls_with_a_private_ca(bank_executor: ActionExecutor, pki: PKI) -> None:
    client_cert = {"cert_file": str(pki.client_cert), "key_file": str(pki.client_key)}
    with mtls_server(bank_executor, pki) as server:
        reply = await call(server.url(), tls={"ca_file": str(pki.ca_file), **client_cert})
        assert reply["events"][0]["name"] == "balance"
        # Rasa's `cafile` key works too
        reply = await call(server.url(), cafile=str(pki.ca_file), tls=client_cert)
        assert reply["responses"]
        with pytest.raises(ActionServerError):  # no client certificate
            await call(server.url(), tls={"ca_file": str(pki.ca_file)})
        with pytest.raises(ActionServerError, match="certificate verify failed"):
            await call(server.url(), tls={"ca_file": str(pki.other_ca_file), **client_cert})
        with pytest.raises(ActionServerError, match="certificate verify failed"):
            await call(server.url(), tls=client_cert)  # public CAs do not know the server


async def test_https_proxy_tunnels_the_call(bank_executor: ActionExecutor, pki: PKI) -> None:
    tls = {
        "ca_file": str(pki.ca_file),
        "cert_file": str(pki.client_cert),
        "key_file": str(pki.client_key),
    }
    with mtls_server(bank_executor, pki) as server, ConnectProxy() as proxy:
        reply = await call(server.url(), tls=tls, proxy=proxy.url)
        assert reply["events"][0]["name"] == "balance"
        assert proxy.targets == [f"127.0.0.1:{server.port}"]


async def test_environment_proxy_settings_are_ignored(
    bank_executor: ActionExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:1")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:1")
    with ServerThread(create_app(bank_executor)) as server:
        reply = await call(server.url())
    assert reply["events"][0]["name"] == "balance"
