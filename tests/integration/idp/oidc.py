"""The npm `oidc-provider` on a free 127.0.0.1 port, and a scripted browser for its login pages.

Its accounts (alice: parley-admins, bob: labellers, carol: no group) and clients (`parley`,
`other-app`, `short-lived` whose ID tokens live 1 s) are in oidc-provider.mjs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from tests.ports import free_port

HERE = Path(__file__).parent
_FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


def node_packages_ready() -> str | None:
    """Why the provider cannot run here (None when it can): `npm ci` in this folder is needed."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        return f"run `npm ci` in {HERE} (the CI does, from package-lock.json)"
    return None


@dataclass(frozen=True)
class OpenIdProvider:
    issuer: str
    redirect_uri: str

    def client_secret(self, client_id: str) -> str:
        return f"{client_id}-client-secret"


@contextmanager
def running_provider(redirect_uri: str) -> Iterator[OpenIdProvider]:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "REDIRECT_URI": redirect_uri}
    process = subprocess.Popen(
        ["node", str(HERE / "oidc-provider.mjs")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip() == "ready":
                break
        else:
            raise RuntimeError(f"oidc-provider did not start: {process.stderr.read()}")  # type: ignore[union-attr]
        yield OpenIdProvider(f"http://127.0.0.1:{port}", redirect_uri)
    finally:
        process.terminate()
        process.wait(10)


def sign_in(authorize_url: str, username: str) -> str:
    """Act as the browser at the provider: log in as `username`, consent, and return the
    callback URL (with code and state) the provider sends the browser back to."""
    with httpx.Client(timeout=10.0) as browser:
        url = authorize_url
        for _ in range(12):
            response = browser.get(url)
            if response.status_code in (302, 303):
                url = urljoin(url, response.headers["location"])
                if not url.startswith(authorize_url.split("/auth")[0]):
                    return url  # back to the relying party
                continue
            action = _FORM_ACTION.search(response.text)
            assert action, f"no form at {url}: {response.text[:300]}"
            if 'name="login"' in response.text:
                form = {"prompt": "login", "login": username, "password": "anything"}
            else:
                form = {"prompt": "consent"}
            response = browser.post(urljoin(url, action.group(1)), data=form)
            assert response.status_code in (302, 303), response.text[:300]
            url = urljoin(url, response.headers["location"])
    raise AssertionError("the provider never redirected back")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
