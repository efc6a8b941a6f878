"""PII rules: built-in patterns (with their checksums), entity rules and the substitutions."""

from __future__ import annotations

from typing import Any

import pytest

from parley.observability.pii import PIIConfig, PIIConfigError, Redactor

IBAN = "DE89 3704 0044 0532 0130 00"
CARD = "4111 1111 1111 1111"  # a Luhn-valid test number
EMAIL = "alice.smith+bank@example.co.uk"


def redactor(rules: list[dict[str, Any]] | None = None, **section: Any) -> Redactor:
    body: dict[str, Any] = dict(section)
    if rules is not None:
        body["rules"] = rules
    return Redactor(PIIConfig.from_endpoints({"pii": body}))


def test_builtin_patterns_mask_email_iban_card_and_phone_by_default() -> None:
    text = f"mail {EMAIL}, iban {IBAN}, card {CARD}, call +44 20 7946 0958 now"
    masked = redactor().redact_text(text)
    for value in (EMAIL, IBAN, CARD, "+44 20 7946 0958"):
        assert value not in masked
        assert "*" * len(value) in masked
    assert masked.startswith("mail ") and masked.endswith(" now")


def test_numbers_failing_their_checksum_are_left_alone() -> None:
    r = redactor()
    assert r.redact_text("order 4111 1111 1111 1112") == "order 4111 1111 1111 1112"  # Luhn
    assert r.redact_text("ref DE00 3704 0044 0532 0130 00") == "ref DE00 3704 0044 0532 0130 00"


def test_ids_dates_and_durations_are_not_taken_for_phone_numbers() -> None:
    r = redactor()
    for text in (
        "event 3f2a1234567890abcdef12 stored",
        "at 2026-12-06T17:27:46 took 0.01234567 s",
        "model 20261206-172746-funny-mole",
    ):
        assert r.redact_text(text) == text


def test_hash_gives_stable_keyed_pseudonyms() -> None:
    rules = [{"pattern": "email", "substitution": "hash"}]
    first = redactor(rules, hash_key="k1").redact_text(f"to {EMAIL}")
    again = redactor(rules, hash_key="k1").redact_text(f"again {EMAIL}")
    other_key = redactor(rules, hash_key="k2").redact_text(f"to {EMAIL}")
    pseudonym = first.removeprefix("to ")
    assert pseudonym.startswith("email_") and len(pseudonym) == len("email_") + 12
    assert again == f"again {pseudonym}"
    assert other_key != first


def test_text_substitution_and_custom_pattern() -> None:
    rules = [{"pattern": r"AC-\d{6}", "name": "account_ref", "substitution": "text"}]
    assert redactor(rules).redact_text("acct AC-123456.") == "acct [ACCOUNT_REF]."
    rules = [{"pattern": r"AC-\d{6}", "substitution": "text", "text": "<acct>"}]
    assert redactor(rules).redact_text("acct AC-123456.") == "acct <acct>."


def test_entity_rule_redacts_the_value_everywhere_in_the_turn_but_not_names_or_ids() -> None:
    r = redactor([{"entity": "account", "substitution": "text", "text": "<acct>"}])
    text = "check my Vault-42 account"
    events = [
        {
            "event": "user",
            "text": text,
            "parse_data": {
                "text": text,
                "intent": {"name": "check_balance", "confidence": 1.0},
                "entities": [{"entity": "account", "value": "Vault-42", "start": 9, "end": 17}],
            },
            "metadata": {"event_id": "e1"},
        },
        {"event": "slot", "name": "account", "value": "Vault-42"},
        {"event": "bot", "text": "I only know checking and savings, not Vault-42."},
    ]
    redacted = r.redact_events(events)
    assert "Vault-42" not in repr(redacted)
    assert redacted[0]["text"] == "check my <acct> account"
    assert redacted[0]["parse_data"]["entities"][0]["entity"] == "account"
    assert redacted[0]["parse_data"]["intent"]["name"] == "check_balance"
    assert redacted[1] == {"event": "slot", "name": "account", "value": "<acct>"}
    assert events[1]["value"] == "Vault-42"  # the engine's own events are untouched
    # once seen, the value is masked in any text (log lines)
    assert r.redact_text("loaded account Vault-42") == "loaded account <acct>"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"rules": [{"pattern": "email", "substitution": "hash"}]}, "hash_key"),
        ({"rules": [{"entity": "a", "pattern": "email"}]}, "exactly one"),
        ({"rules": [{"pattern": "("}]}, "not a regular expression"),
        ({"rules": [{"pattern": "email", "substitution": "blur"}]}, "mask, text or hash"),
        ({"apply_to": ["logs", "kafka"]}, "apply_to"),
    ],
)
def test_bad_settings_say_which_key(section: dict[str, Any], message: str) -> None:
    with pytest.raises(PIIConfigError, match=message):
        PIIConfig.from_endpoints({"pii": section})


def test_no_section_means_no_redaction() -> None:
    config = PIIConfig.from_endpoints({})
    assert not config.enabled
    assert not config.applies_to("logs")
