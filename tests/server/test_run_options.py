"""`parley run`'s flags merged with parley.yml's `server:` section: flags win, then the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.security.settings import ServerSettings
from parley.server.config import RunOptions, ServerConfigError, merge_run_options

FILE = ServerSettings.model_validate(
    {
        "host": "0.0.0.0",
        "port": 8080,
        "auth_token": "from-file",
        "jwt_method": "RS256",
        "workers": 2,
        "ssl_certfile": "cert.pem",
        "ssl_keyfile": "key.pem",
    }
)


def test_flags_win_over_parley_yml() -> None:
    config, listen = merge_run_options(
        RunOptions(interface="127.0.0.1", port=9000, auth_token="from-flag", workers=1), FILE
    )
    assert (listen.host, listen.port) == ("127.0.0.1", 9000)
    assert config.auth_token == "from-flag" and config.workers == 1


def test_parley_yml_wins_over_the_defaults() -> None:
    config, listen = merge_run_options(RunOptions(), FILE)
    assert (listen.host, listen.port, listen.shown_host) == ("0.0.0.0", 8080, "127.0.0.1")
    assert config.auth_token == "from-file" and config.jwt_method == "RS256"
    assert config.workers == 2
    assert listen.scheme == "https" and listen.tls()["ssl_keyfile"] == Path("key.pem")


def test_defaults_without_flags_or_file() -> None:
    config, listen = merge_run_options(RunOptions(), ServerSettings())
    assert (listen.host, listen.port, listen.scheme) == ("127.0.0.1", 5005, "http")
    assert config.auth_token is None and config.max_body_bytes == 1_000_000


def test_a_key_without_a_certificate_is_refused() -> None:
    with pytest.raises(ServerConfigError, match="--ssl-keyfile needs --ssl-certfile"):
        merge_run_options(RunOptions(ssl_keyfile=Path("key.pem")), ServerSettings())
