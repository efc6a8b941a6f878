from __future__ import annotations

from pathlib import Path

import pytest

from parley.actions import ActionConfigError, parse_action_endpoint

SECRET = "s" * 40


def test_rasa_endpoint_keeps_its_meaning_and_gets_safe_defaults() -> None:
    config = parse_action_endpoint({"url": "http://localhost:5055/webhook"})
    assert config.url == "http://localhost:5055/webhook"
    assert config.timeout == 10.0
    assert config.connect_timeout == 1.0
    assert config.retries == 2
    assert config.circuit_breaker.failure_threshold == 5
    assert config.jwt is None and config.hmac is None and config.proxy is None


def test_secrets_come_from_environment_and_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACTION_JWT_SECRET", SECRET)
    (tmp_path / "hmac.txt").write_text("h" * 40 + "\n")
    config = parse_action_endpoint(
        {
            "url": "https://actions.internal/webhook",
            "jwt": {"secret": "${ACTION_JWT_SECRET}"},
            "hmac": {"secret": "${file:hmac.txt}"},
            "tls": {"ca_file": "certs/ca.pem"},
        },
        base_dir=tmp_path,
    )
    assert config.jwt is not None and config.jwt.secret == SECRET
    assert config.hmac is not None and config.hmac.secret == "h" * 40
    assert config.ca_file == tmp_path / "certs" / "ca.pem"


def test_missing_environment_variable_is_named() -> None:
    with pytest.raises(ActionConfigError, match="PARLEY_SURELY_UNSET_VAR"):
        parse_action_endpoint({"url": "http://x/webhook", "token": "${PARLEY_SURELY_UNSET_VAR}"})


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
