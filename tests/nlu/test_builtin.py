from __future__ import annotations

from datetime import datetime

import pytest

from parley.nlu.builtin import extract


def _found(text: str, dims: list[str] | None = None) -> list[tuple[str, str, object]]:
    return [(e["entity"], e["text"], e["value"]) for e in extract(text, dims)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to ann.lee+x@mail.example.org", ("email", "ann.lee+x@mail.example.org")),
        ("see https://parley.dev/docs?id=1.", ("url", "https://parley.dev/docs?id=1")),
        ("call me on +1 (555) 123-4567", ("phone-number", "+15551234567")),
        ("I want 3 tickets", ("number", 3)),
        ("about twenty five people", ("number", 25)),
        ("the 2nd option", ("ordinal", 2)),
        ("the third option", ("ordinal", 3)),
        ("it costs $20.50", ("amount-of-money", 20.5)),
        ("send 15 euros", ("amount-of-money", 15)),
    ],
)
def test_builtin_dimension_values(text: str, expected: tuple[str, object]) -> None:
    assert [(dim, value) for dim, _, value in _found(text)] == [expected]


def test_time_is_normalised_to_iso_8601() -> None:
    [(dim, text, value)] = _found("remind me on 2027-03-14 at 10:30", ["time"])
    assert dim == "time" and "2027-03-14" in text
    assert datetime.fromisoformat(str(value)).isoformat().startswith("2027-03-14T10:30")


def test_relative_dates_resolve_in_the_future() -> None:
    [(_, text, value)] = _found("book it for tomorrow", ["time"])
    assert text == "tomorrow" and datetime.fromisoformat(str(value)) > datetime.now().astimezone()


def test_plain_numbers_are_not_dates_and_spans_do_not_overlap() -> None:
    found = _found("order 2 pizzas for $15")
    assert found == [("number", "2", 2), ("amount-of-money", "$15", 15)]


def test_only_the_configured_dimensions_are_extracted() -> None:
    assert _found("mail a@b.io 3 times", ["email"]) == [("email", "a@b.io", "a@b.io")]
