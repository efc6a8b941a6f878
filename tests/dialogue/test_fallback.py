"""Fallback chains: two-stage (affirm / rephrase), then handoff; topic-specific fallback."""

from __future__ import annotations

from typing import Any

import pytest

from parley.agent import Agent
from tests.dialogue.conftest import AgentFactory, texts

DOMAIN = """
intents: [greet, affirm, deny, check_balance, credit_card_block, credit_card_limit, credit_card_fee]
responses:
  utter_greet: [{text: "Hello!"}]
  utter_balance: [{text: "Your balance is 42."}]
  utter_block: [{text: "Card blocked."}]
  utter_credit_card_team: [{text: "Let me get you to our credit-card team."}]
  utter_handoff: [{text: "A colleague will take over."}]
"""
RULES = """
rules:
- rule: greet
  steps: [{intent: greet}, {action: utter_greet}]
- rule: balance
  steps: [{intent: check_balance}, {action: utter_balance}]
- rule: block
  steps: [{intent: credit_card_block}, {action: utter_block}]
- rule: unsure
  steps:
  - intent: nlu_fallback
  - action: action_two_stage_fallback
  - active_loop: action_two_stage_fallback
"""
CONFIG = """
policies:
- name: RulePolicy
  two_stage_fallback_final_action: action_handoff_to_human
  topic_fallbacks:
  - intent_prefix: credit_card_
    action: utter_credit_card_team
    min_share: 0.6
"""


def _parse(text: str, ranking: list[tuple[str, float]]) -> dict[str, Any]:
    """What a FallbackClassifier pipeline returns: nlu_fallback on top of the real ranking."""
    top = ranking[0]
    intent = (
        {"name": "nlu_fallback", "confidence": 0.7}
        if top[1] < 0.7
        else {"name": top[0], "confidence": top[1]}
    )
    return {
        "text": text,
        "intent": intent,
        "entities": [],
        "intent_ranking": [intent] + [{"name": n, "confidence": c} for n, c in ranking],
    }


class ScriptedNLU:
    """An NLU model with fixed answers, so fallback behaviour is tested exactly."""

    PARSES = {
        "hmm money?": [("check_balance", 0.45), ("greet", 0.30), ("credit_card_fee", 0.25)],
        "plastic thing": [("credit_card_limit", 0.40), ("credit_card_fee", 0.35), ("greet", 0.25)],
        "how much do I have": [("check_balance", 0.95), ("greet", 0.05)],
        "blah": [("greet", 0.40), ("check_balance", 0.35), ("credit_card_block", 0.25)],
        "hello?": [("greet", 0.9), ("check_balance", 0.1)],
    }

    def parse(self, text: str) -> dict[str, Any]:
        return _parse(text, self.PARSES[text])


@pytest.fixture
def bank(make_agent: AgentFactory) -> Agent:
    agent = make_agent({"domain.yml": DOMAIN, "data/rules.yml": RULES, "config.yml": CONFIG})
    agent.interpreter = ScriptedNLU()
    return agent


async def test_unsure_message_asks_to_affirm_and_continues_when_affirmed(bank: Agent) -> None:
    reply = await bank.handle_message("u", "hmm money?")
    assert texts(reply) == ["Did you mean 'check_balance'?"]
    assert reply[0]["buttons"] == [
        {"title": "Yes", "payload": "/check_balance"},
        {"title": "No", "payload": "/out_of_scope"},
    ]
    assert texts(await bank.handle_message("u", "/check_balance")) == ["Your balance is 42."]
    tracker = await bank.get_tracker("u")
    assert tracker.active_loop_name is None
    assert tracker.latest_message is not None
    assert tracker.latest_message.text == "hmm money?"  # the original message, now understood
    assert tracker.latest_intent == "check_balance"


async def test_denied_then_rephrased_clearly(bank: Agent) -> None:
    await bank.handle_message("u", "hmm money?")
    assert texts(await bank.handle_message("u", "/out_of_scope")) == [
        "I'm sorry, I didn't quite understand that. Could you rephrase?"
    ]
    assert texts(await bank.handle_message("u", "how much do I have")) == ["Your balance is 42."]
    assert (await bank.get_tracker("u")).active_loop_name is None


async def test_second_failure_hands_off_to_a_human(bank: Agent) -> None:
    await bank.handle_message("u", "hmm money?")
    await bank.handle_message("u", "/out_of_scope")  # no
    assert texts(await bank.handle_message("u", "blah")) == ["Did you mean 'greet'?"]
    assert texts(await bank.handle_message("u", "/out_of_scope")) == ["A colleague will take over."]
    tracker = await bank.get_tracker("u")
    assert tracker.paused and tracker.handoff is not None
    assert tracker.active_loop_name is None
    assert await bank.handle_message("u", "hello?") == []  # silent until released


async def test_topic_fallback_answers_for_the_topic(bank: Agent) -> None:
    assert texts(await bank.handle_message("u", "plastic thing")) == [
        "Let me get you to our credit-card team."
    ]
    # a low-confidence message whose likely intents do not share the topic: generic fallback
    assert texts(await bank.handle_message("v", "blah")) == ["Did you mean 'greet'?"]
