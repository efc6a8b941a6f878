from __future__ import annotations

import io
import logging
import secrets
import sys

import click
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from parley.cli.app import app
from parley.cli.main import run
from parley.security.redaction import (
    MASK,
    SECRETS,
    RedactingFilter,
    SecretRegistry,
    install_redaction,
    redact,
    redact_data,
)


def _unique_secret() -> str:
    return f"sv-{secrets.token_hex(8)}"


def test_registered_values_are_masked_longest_first() -> None:
    registry = SecretRegistry()
    registry.update(["abcd1234", "abcd1234-extended", "ok"])
    text = "a=abcd1234-extended b=abcd1234 c=ok"
    assert registry.redact(text) == f"a={MASK} b={MASK} c=ok"
    assert len(registry) == 2  # "ok" is too short to mask safely


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("Authorization: Bearer abcdefghijklmnop123", "abcdefghijklmnop123"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJlX2hlcmU", "eyJzdWIiOiJhYmMifQ"),
        ("vault token hvs.CAESIJ0abcdefghijklmnopqrstuv", "CAESIJ0abcdefghijklmnop"),
        ("connect postgresql://bot:pa55word@db:5432/bot", "pa55word"),
        ("connect redis://:pa55word@cache:6379/0", "pa55word"),
        ('{"password": "hunter2hunter2"}', "hunter2hunter2"),
        ("{'jwt_secret': 'hunter2hunter2'}", "hunter2hunter2"),
        ("GET /hook?api_key=k3y-value&x=1", "k3y-value"),
        ("login --db-password=hunter2hunter2", "hunter2hunter2"),
        ("aws AKIAABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOP"),
        ("slack xoxb-1234567890-abcdef", "xoxb-1234567890"),
    ],
)
def test_common_token_shapes_are_masked_without_registration(text: str, leak: str) -> None:
    masked = redact(text, SecretRegistry())
    assert leak not in masked
    assert MASK in masked


@pytest.mark.parametrize(
    "text",
    [
        "user asked about token_count: 12 and basic authentication at localhost:5005",
        "endpoints.yml:5:13: tracker_store.password: environment variable DB_PASSWORD is not set",
        "token_count=12 and password reset form completed",
    ],
)
def test_ordinary_text_and_our_own_error_messages_are_left_alone(text: str) -> None:
    assert redact(text, SecretRegistry()) == text


def test_redact_data_masks_strings_deep_inside_json() -> None:
    registry = SecretRegistry()
    registry.add("deep-secret-1")
    data = {"error": "bad deep-secret-1", "items": [{"v": "deep-secret-1"}, 3]}
    assert redact_data(data, registry) == {"error": f"bad {MASK}", "items": [{"v": MASK}, 3]}


def test_filter_masks_arguments_and_tracebacks() -> None:
    registry = SecretRegistry()
    secret = _unique_secret()
    registry.add(secret)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(registry))
    logger = logging.getLogger("tests.redaction.filter")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("connecting with %s", secret)
        try:
            raise RuntimeError(f"login failed for {secret}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert secret not in output
    assert f"connecting with {MASK}" in output
    assert f"RuntimeError: login failed for {MASK}" in output


def test_installed_redaction_reaches_loggers_with_their_own_handlers() -> None:
    install_redaction()
    secret = _unique_secret()
    SECRETS.add(secret)
    stream = io.StringIO()
    logger = logging.getLogger("tests.redaction.uvicorn_like")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)  # added after install, like uvicorn's own handlers
    logger.propagate = False
    try:
        logger.error("db password is %s", secret)
    finally:
        logger.removeHandler(handler)
    assert secret not in stream.getvalue()
    assert MASK in stream.getvalue()


def _all_command_paths(command: click.Command, prefix: list[str]) -> list[list[str]]:
    paths = [prefix]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            paths += _all_command_paths(sub, [*prefix, name])
    return paths


def test_help_of_every_command_shows_no_secret_from_the_environment() -> None:
    secret = _unique_secret()
    env = {
        name: secret
        for name in (
            "PARLEY_AUTH_TOKEN",
            "PARLEY_JWT_SECRET",
            "PARLEY_SSL_PASSWORD",
            "VAULT_TOKEN",
            "VAULT_SECRET_ID",
            "PARLEY_ENCRYPTION_KEY",
        )
    }
    runner = CliRunner()
    for path in _all_command_paths(get_command(app), []):
        result = runner.invoke(app, [*path, "--help"], env=env)
        assert result.exit_code == 0, (path, result.output)
        assert secret not in result.output, f"parley {' '.join(path)} --help shows a secret"


def test_cli_error_edge_masks_secrets_in_the_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = _unique_secret()
    SECRETS.add(secret)

    def boom() -> None:
        raise RuntimeError(f"could not connect to redis://:{secret}@cache with {secret}")

    app.command("test-boom-redaction")(boom)
    monkeypatch.setattr(sys, "argv", ["parley", "test-boom-redaction"])
    try:
        with pytest.raises(SystemExit) as exited:
            run()
    finally:
        app.registered_commands.pop()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "could not connect" in err
    assert secret not in err


def test_uvicorn_access_log_lines_are_redacted_and_still_formatted() -> None:
    from uvicorn.logging import AccessFormatter

    registry = SecretRegistry()
    secret = _unique_secret()
    registry.add(secret)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(AccessFormatter('%(client_addr)s "%(request_line)s" %(status_code)s'))
    handler.addFilter(RedactingFilter(registry))
    logger = logging.getLogger("tests.redaction.access")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        args = ("127.0.0.1:5000", "GET", f"/webhook?key={secret}", "1.1", 200)
        logger.info('%s - "%s %s HTTP/%s" %d', *args)
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == f'127.0.0.1:5000 "GET /webhook?key={MASK} HTTP/1.1" 200 OK\n'


def test_secret_inside_a_dict_argument_is_masked() -> None:
    registry = SecretRegistry()
    secret = _unique_secret()
    registry.add(secret)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "config %s", ({"pw": secret},), None)
    RedactingFilter(registry).filter(record)
    assert record.getMessage() == f"config {{'pw': '{MASK}'}}"


def test_the_quick_check_never_skips_a_text_a_token_shape_matches() -> None:
    from parley.security.redaction import _ANY_TOKEN, _TOKEN_PATTERNS

    samples = [
        "Authorization: Bearer abcdefgh12345678",
        'headers {"authorization": "Basic dXNlcjpwYXNzd29yZA=="}',
        "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig",
        "vault hvs.CAESIJ0123456789abcdefghij and s.0123456789abcdefghijkl",
        "slack xoxb-1234567890-abcdef github ghp_0123456789abcdefghij0123",
        "aws AKIAABCDEFGHIJKLMNOP",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----",
        "postgresql://bot:hunter22@db/bot",
        "db_password=hunter22 API-KEY=abc123 my_token = xyz987",
        '{"client_secret": "s3cr3tvalue", "Api_Key": \'k-123456\'}',
    ]
    for text in samples:
        shapes = [p.pattern for p, _ in _TOKEN_PATTERNS if p.search(text)]
        assert shapes, text  # each sample shows at least one shape
        assert _ANY_TOKEN.search(text), (text, shapes)
    assert _ANY_TOKEN.search("POST /webhooks/rest/webhook 200 3.1ms") is None
