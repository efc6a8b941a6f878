"""The scale test's consistency checker catches what it is meant to catch."""

from __future__ import annotations

from tests.integration.replicas import Conversation, consistency_problems


def turn(text: str, event_id: str) -> list[dict]:
    return [
        {"event": "user", "text": text, "metadata": {"event_id": event_id}},
        {"event": "bot", "text": "ok", "metadata": {"event_id": event_id + "b"}},
        {"event": "action", "name": "action_listen", "metadata": {"event_id": event_id + "l"}},
    ]


def conversation() -> Conversation:
    return Conversation("c", sent=["m0", "m1", "m2"], acknowledged=["m0", "m2"], failed=["m1"])


def test_whole_turns_in_order_pass_with_or_without_the_failed_one() -> None:
    assert consistency_problems(conversation(), turn("m0", "a") + turn("m2", "c")) == []
    assert (
        consistency_problems(conversation(), turn("m0", "a") + turn("m1", "b") + turn("m2", "c"))
        == []
    )


def test_lost_duplicated_reordered_and_partial_turns_are_reported() -> None:
    lost = consistency_problems(conversation(), turn("m0", "a"))
    assert any("acknowledged messages lost" in p for p in lost)
    duplicated = consistency_problems(
        conversation(), turn("m0", "a") + turn("m0", "x") + turn("m2", "c")
    )
    assert any("stored twice" in p for p in duplicated)
    reordered = consistency_problems(conversation(), turn("m2", "c") + turn("m0", "a"))
    assert any("out of order" in p for p in reordered)
    partial = consistency_problems(
        conversation(), turn("m0", "a") + turn("m1", "b")[:2] + turn("m2", "c")
    )
    assert any("'m1' is incomplete" in p for p in partial)
    same_ids = consistency_problems(conversation(), turn("m0", "a") + turn("m2", "a"))
    assert any("event id appears twice" in p for p in same_ids)
