"""End-to-end story steps: `user:` texts and `bot:` texts learnt and replayed."""

from __future__ import annotations

from tests.dialogue.conftest import AgentFactory, texts

DOMAIN = """
intents: [greet, inform]
responses:
  utter_greet: [{text: "Hi! Hungry?"}]
"""
STORIES = """
stories:
- story: sushi
  steps:
  - intent: greet
  - action: utter_greet
  - user: "I could go for sushi"
  - bot: "Sushi Bar Ito is around the corner."
- story: pizza
  steps:
  - intent: greet
  - action: utter_greet
  - user: "pizza tonight"
  - bot: "Luigi's has a table at eight."
"""


async def test_user_and_bot_texts_of_stories_are_followed(make_agent: AgentFactory) -> None:
    agent = make_agent(
        {
            "domain.yml": DOMAIN,
            "data/stories.yml": STORIES,
            "config.yml": "policies:\n- name: MemoizationPolicy\n- name: RulePolicy\n",
        }
    )
    assert texts(await agent.handle_message("u", "/greet")) == ["Hi! Hungry?"]
    assert texts(await agent.handle_message("u", "pizza tonight")) == [
        "Luigi's has a table at eight."
    ]
    tracker = await agent.get_tracker("u")
    bot_action = [e.as_dict() for e in tracker.events if e.as_dict()["event"] == "action"][-2]
    assert (bot_action["name"], bot_action["action_text"]) == (
        None,
        "Luigi's has a table at eight.",
    )
