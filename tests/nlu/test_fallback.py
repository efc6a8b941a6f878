from __future__ import annotations

from parley.nlu.fallback import FallbackClassifier
from parley.nlu.message import Message


def _message(*confidences: float) -> Message:
    message = Message("text")
    message.intent_ranking = [
        {"name": f"intent{i}", "confidence": c} for i, c in enumerate(confidences)
    ]
    message.intent = dict(message.intent_ranking[0])
    return message


def test_low_confidence_becomes_nlu_fallback_on_top_of_the_ranking() -> None:
    message = _message(0.5, 0.2)
    FallbackClassifier("FallbackClassifier", {"threshold": 0.7}).process(message)
    assert message.intent == {"name": "nlu_fallback", "confidence": 0.7}
    assert [r["name"] for r in message.intent_ranking] == ["nlu_fallback", "intent0", "intent1"]


def test_ambiguous_top_two_becomes_nlu_fallback() -> None:
    message = _message(0.52, 0.46)
    FallbackClassifier(
        "FallbackClassifier", {"threshold": 0.3, "ambiguity_threshold": 0.1}
    ).process(message)
    assert message.intent["name"] == "nlu_fallback"


def test_confident_clear_prediction_is_kept() -> None:
    message = _message(0.9, 0.05)
    FallbackClassifier("FallbackClassifier", {}).process(message)
    assert message.intent == {"name": "intent0", "confidence": 0.9}
