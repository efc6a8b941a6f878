from __future__ import annotations

import pytest

from parley.security.references import (
    Reference,
    ReferenceSyntaxError,
    parse_reference,
    split_references,
)


def test_env_reference_with_and_without_default() -> None:
    assert parse_reference("${DB_PASSWORD}") == Reference("env", "${DB_PASSWORD}", "DB_PASSWORD")
    with_default = parse_reference("${PORT:-5432}")
    assert (with_default.name, with_default.default) == ("PORT", "5432")
    assert parse_reference("${env:TOKEN}").name == "TOKEN"
    assert parse_reference("${URL:-http://a:b}").default == "http://a:b"


def test_file_and_vault_references() -> None:
    assert parse_reference("${file:secrets/db}").name == "secrets/db"
    vault = parse_reference("${vault:secret/parley/db#password}")
    assert (vault.kind, vault.mount, vault.path, vault.key) == (
        "vault",
        "secret",
        "parley/db",
        "password",
    )


@pytest.mark.parametrize(
    "text",
    ["${}", "${file:}", "${vault:secret#key}", "${vault:secret/db}", "${foo:bar}", "${1BAD}"],
)
def test_malformed_references_say_how_to_write_them(text: str) -> None:
    with pytest.raises(ReferenceSyntaxError):
        parse_reference(text)


def test_split_keeps_text_around_references_and_unescapes_double_dollar() -> None:
    segments = split_references("postgresql://bot:${DB_PASSWORD}@db/$${literal}")
    assert segments[0] == "postgresql://bot:"
    assert isinstance(segments[1], Reference) and segments[1].name == "DB_PASSWORD"
    assert segments[2] == "@db/${literal}"


def test_unclosed_reference_is_an_error() -> None:
    with pytest.raises(ReferenceSyntaxError, match="never closed"):
        split_references("pass-${DB_PASSWORD")
