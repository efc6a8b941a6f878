"""Responses as users see them: channel variations, buttons, retrieval answers, custom slots."""

from __future__ import annotations

from typing import Any

from tests.dialogue.conftest import AgentFactory, texts

DOMAIN = """
intents: [greet, faq, order, chitchat, stop]
entities: [item]
slots:
  item:
    type: text
    mappings:
    - type: from_entity
      entity: item
  customer:
    type: text
    mappings:
    - type: custom
      action: action_lookup_customer
forms:
  order_form:
    ignored_intents: [chitchat]
    required_slots: [item]
responses:
  utter_greet:
  - text: "Hello {customer}!"
    buttons:
    - {title: "Order", payload: "/order"}
  - text: "Hi from Slack, {customer}"
    channel: slack
  utter_faq/ask_hours:
  - text: "We open at 9."
  utter_ask_item: [{text: "Which item?"}]
  utter_chitchat: [{text: "Nice weather."}]
  utter_ordered: [{text: "Ordered {item}."}]
actions: [action_lookup_customer]
"""
RULES = """
rules:
- rule: greet
  steps: [{intent: greet}, {action: utter_greet}]
- rule: faq
  steps: [{intent: faq}, {action: utter_faq}]
- rule: chitchat
  steps: [{intent: chitchat}, {action: utter_chitchat}]
- rule: order
  steps: [{intent: order}, {action: order_form}, {active_loop: order_form}]
- rule: stop ordering
  condition: [{active_loop: order_form}]
  steps: [{intent: stop}, {action: action_deactivate_loop}, {active_loop: null}]
- rule: ordered
  condition: [{active_loop: order_form}]
  steps: [{action: order_form}, {active_loop: null}, {action: utter_ordered}]
"""


class CustomerLookup:
    async def run(self, action_name: str, payload: dict[str, Any]) -> dict[str, Any]:
        assert action_name == "action_lookup_customer"
        slot = {"event": "slot", "name": "customer", "value": "Ann", "timestamp": None}
        return {"events": [slot], "responses": []}

    async def close(self) -> None:
        return None


class FAQNLU:
    def parse(self, text: str) -> dict[str, Any]:
        return {
            "text": text,
            "intent": {"name": "faq", "confidence": 0.98},
            "entities": [],
            "intent_ranking": [{"name": "faq", "confidence": 0.98}],
            "response_selector": {
                "faq": {
                    "response": {
                        "responses": [{"text": "selector text"}],
                        "confidence": 0.9,
                        "intent_response_key": "faq/ask_hours",
                        "utter_action": "utter_faq/ask_hours",
                    },
                    "ranking": [],
                }
            },
        }


async def test_custom_mapping_action_fills_its_slot_and_channel_picks_variation(
    make_agent: AgentFactory,
) -> None:
    agent = make_agent({"domain.yml": DOMAIN, "data/rules.yml": RULES}, CustomerLookup())
    reply = await agent.handle_message("u", "/greet")
    assert reply == [
        {
            "recipient_id": "u",
            "text": "Hello Ann!",
            "buttons": [{"title": "Order", "payload": "/order"}],
        }
    ]
    assert texts(await agent.handle_message("s", "/greet", input_channel="slack")) == [
        "Hi from Slack, Ann"
    ]


async def test_retrieval_intent_answers_with_the_selected_response(
    make_agent: AgentFactory,
) -> None:
    agent = make_agent({"domain.yml": DOMAIN, "data/rules.yml": RULES}, CustomerLookup())
    agent.interpreter = FAQNLU()
    assert texts(await agent.handle_message("u", "when do you open?")) == ["We open at 9."]


async def test_form_ignores_its_ignored_intents(make_agent: AgentFactory) -> None:
    agent = make_agent({"domain.yml": DOMAIN, "data/rules.yml": RULES}, CustomerLookup())
    assert texts(await agent.handle_message("u", "/order")) == ["Which item?"]
    reply = await agent.handle_message("u", '/chitchat{"item": "umbrella"}')
    assert texts(reply)[0] == "Nice weather."
    assert (await agent.get_tracker("u")).get_slot("item") is None
    assert texts(await agent.handle_message("u", '/order{"item": "tea"}')) == ["Ordered tea."]


async def test_deactivate_loop_ends_the_form_and_back_undoes_a_turn(
    make_agent: AgentFactory,
) -> None:
    agent = make_agent({"domain.yml": DOMAIN, "data/rules.yml": RULES}, CustomerLookup())
    await agent.handle_message("u", "/order")
    assert await agent.handle_message("u", "/stop") == []
    tracker = await agent.get_tracker("u")
    assert tracker.active_loop_name is None and tracker.get_slot("requested_slot") is None
    await agent.handle_message("u", "/chitchat")
    await agent.handle_message("u", "/back")
    tracker = await agent.get_tracker("u")
    assert tracker.latest_intent == "stop"  # the chitchat turn and /back are undone
    assert tracker.latest_action_name == "action_listen"
