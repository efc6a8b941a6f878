from __future__ import annotations

from pathlib import Path

import pytest

from parley.action_runners import (
    ActionConfigError,
    HttpActionRunner,
    load_action_runner,
    parse_action_endpoint,
)
from parley.security import SecurityError

SECRET = "s" * 40


def test_rasa_endpoint_keeps_its_meaning_and_gets_safe_defaults() -> None:
    config = parse_action_endpoint({"url": "http://localhost:5055/webhook"})
    assert config.url == "http://localhost:5055/webhook"
    assert config.timeout == 10.0
    assert config.connect_timeout == 1.0
    assert config.retries == 2
    assert config.circuit_breaker.failure_threshold == 5
    assert config.jwt is None and config.hmac is None and config.proxy is None


def test_secrets_in_endpoints_yml_are_resolved_from_environment_and_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACTION_JWT_SECRET", SECRET)
    (tmp_path / "secrets").mkdir(mode=0o700)
    (tmp_path / "secrets" / "hmac.txt").write_text("h" * 40 + "\n")
    (tmp_path / "secrets" / "hmac.txt").chmod(0o600)
    (tmp_path / "endpoints.yml").write_text(
        "action_endpoint:\n"
        "  url: https://actions.internal/webhook\n"
        "  jwt:\n"
        "    secret: ${ACTION_JWT_SECRET}\n"
        "  hmac:\n"
        "    secret: ${file:secrets/hmac.txt}\n"
        "  tls:\n"
        "    ca_file: certs/ca.pem\n"
    )
    runner = load_action_runner(tmp_path)
    assert isinstance(runner, HttpActionRunner)
    config = runner.config
    assert config.jwt is not None and config.jwt.secret == SECRET
    assert config.hmac is not None and config.hmac.secret == "h" * 40
    assert config.ca_file == tmp_path / "certs" / "ca.pem"


def test_missing_environment_variable_is_named(tmp_path: Path) -> None:
    (tmp_path / "endpoints.yml").write_text(
        "action_endpoint:\n  url: http://x/webhook\n  token: ${PARLEY_SURELY_UNSET_VAR}\n"
    )
    with pytest.raises(SecurityError, match="PARLEY_SURELY_UNSET_VAR"):
        load_action_runner(tmp_path)


def test_no_action_endpoint_means_no_runner(tmp_path: Path) -> None:
    assert load_action_runner(tmp_path) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "set 'url'"),
        ({"url": "localhost:5055"}, "must start with http"),
        ({"url": "http://x/webhook", "jwt": {"algorithm": "HS256"}}, "needs 'secret'"),
        ({"url": "http://x/webhook", "jwt": {"secret": "short"}}, "at least 32"),
        ({"url": "http://x/webhook", "jwt": {"algorithm": "RS256"}}, "private_key"),
        ({"url": "http://x/webhook", "hmac": {"secret": "short"}}, "action_endpoint.hmac.secret"),
        ({"url": "http://x/webhook", "tls": {"key_file": "k.pem"}}, "needs 'cert_file'"),
        ({"url": "http://x/webhook", "timeout": 0}, "action_endpoint.timeout"),
        ({"url": "http://x/webhook", "jwt": {"secret": SECRET, "typo": 1}}, "jwt.typo"),
    ],
)
def test_invalid_settings_are_refused_with_the_key_at_fault(
    raw: dict[str, object], message: str
) -> None:
    with pytest.raises(ActionConfigError, match=message) as caught:
        parse_action_endpoint(raw)
    assert str(caught.value).startswith("endpoints.yml: ")


def test_unknown_top_level_key_is_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    config = parse_action_endpoint({"url": "http://x/webhook", "colour": "blue"})
    assert config.url == "http://x/webhook"
    assert "colour" in caplog.text
