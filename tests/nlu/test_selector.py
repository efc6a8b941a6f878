from __future__ import annotations

from parley.nlu import Interpreter


def test_retrieval_intent_is_base_name_with_response_in_selector(
    interpreter: Interpreter,
) -> None:
    result = interpreter.parse("when do you open?")
    assert result["intent"]["name"] == "faq"
    faq = result["response_selector"]["faq"]
    assert faq["response"]["intent_response_key"] == "faq/ask_hours"
    assert faq["response"]["utter_action"] == "utter_faq/ask_hours"
    assert faq["response"]["responses"] == [{"text": "We are open 9 to 5."}]
    assert faq["ranking"][0]["intent_response_key"] == "faq/ask_hours"
    assert {r["intent_response_key"] for r in faq["ranking"]} == {
        "faq/ask_hours",
        "faq/ask_location",
    }


def test_selector_picks_the_other_response_key(interpreter: Interpreter) -> None:
    faq = interpreter.parse("where is your office located")["response_selector"]["faq"]
    assert faq["response"]["intent_response_key"] == "faq/ask_location"


def test_a_selector_without_retrieval_intent_is_also_rasas_default(
    interpreter: Interpreter,
) -> None:
    selectors = interpreter.parse("when do you open?")["response_selector"]
    assert selectors["all_retrieval_intents"] == ["faq"]
    assert selectors["default"] == selectors["faq"]
