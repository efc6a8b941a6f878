from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from parley.agent import Agent, AgentError
from parley.dialogue.part import DialoguePart
from parley.project import load_project
from parley.stores.base import EventDict
from parley.stores.memory import InMemoryTrackerStore
from parley.training import train_project
from tests.conftest import EXAMPLES


class RecordingBroker:
    """An EventBroker that keeps what it got and checks the store had it first."""

    def __init__(self, store: InMemoryTrackerStore) -> None:
        self.store = store
        self.published: list[tuple[str, list[EventDict]]] = []

    async def publish(self, sender_id: str, events: Sequence[EventDict]) -> None:
        stored = await self.store.load(sender_id) or []
        assert stored[-len(events) :] == list(events), "published before being stored"
        self.published.append((sender_id, list(events)))

    async def close(self) -> None:
        return None


@pytest.fixture(scope="module")
def moodbot_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models")
    return train_project(load_project(EXAMPLES / "moodbot"), out, parts=[DialoguePart()]).model


async def test_agent_answers_intent_messages_from_a_trained_archive(moodbot_model: Path) -> None:
    agent = Agent.load(moodbot_model)
    assert [m["text"] for m in await agent.handle_message("ann", "/greet")] == ["Hey! How are you?"]
    reply = await agent.handle_message("ann", "/mood_unhappy")
    assert reply == [
        {
            "recipient_id": "ann",
            "text": "Here is something to cheer you up:",
            "image": "https://i.imgur.com/nGF1K8f.jpg",
        },
        {"recipient_id": "ann", "text": "Did that help you?"},
    ]


async def test_every_event_is_stored_once_with_model_and_event_ids(moodbot_model: Path) -> None:
    store = InMemoryTrackerStore()
    broker = RecordingBroker(store)
    agent = Agent.load(moodbot_model, tracker_store=store, event_broker=broker)
    await agent.handle_message("ann", "/greet")
    await agent.handle_message("ann", "/mood_great")
    stored = await store.load("ann") or []
    assert [e["event"] for e in stored[:4]] == ["action", "session_started", "action", "user"]
    assert all(e["metadata"]["model_id"] == agent.model_id for e in stored)
    assert len({e["metadata"]["event_id"] for e in stored}) == len(stored)
    assert [len(events) for _, events in broker.published] == [7, 4]  # one publish per turn
    user = next(e for e in stored if e["event"] == "user")
    assert user["parse_data"]["intent"] == {"name": "greet", "confidence": 1.0}


async def test_turns_of_one_conversation_do_not_interleave(moodbot_model: Path) -> None:
    agent = Agent.load(moodbot_model)
    await asyncio.gather(*(agent.handle_message("bob", "/bot_challenge") for _ in range(5)))
    tracker = await agent.get_tracker("bob")
    names = [e.as_dict().get("name") for e in tracker.events if e.as_dict()["event"] == "action"]
    assert names[2:] == ["utter_iamabot", "action_listen"] * 5


async def test_predict_execute_and_trigger(moodbot_model: Path) -> None:
    agent = Agent.load(moodbot_model)
    await agent.handle_message("c", "/greet")
    prediction = await agent.predict_next("c")
    assert prediction["scores"][0]["action"] == "utter_greet"  # the state still ends in greet
    assert prediction["tracker"]["latest_action_name"] == "action_listen"
    reply = await agent.execute_action("c", "utter_iamabot")
    assert [m["text"] for m in reply] == ["I am a bot, powered by Rasa."]
    reply = await agent.trigger_intent("c", "goodbye")
    assert [m["text"] for m in reply] == ["Bye"]
    tracker = await agent.get_tracker("c")
    assert tracker.latest_message is not None
    assert tracker.latest_message.text == "EXTERNAL: goodbye"
    assert tracker.latest_message.metadata["is_external"] is True


async def test_append_and_replace_events(moodbot_model: Path) -> None:
    agent = Agent.load(moodbot_model)
    await agent.handle_message("d", "/greet")
    tracker = await agent.append_events("d", [{"event": "pause", "timestamp": 1.0}])
    assert tracker.paused
    assert await agent.handle_message("d", "/mood_great") == []  # paused: silent
    tracker = await agent.replace_events("d", [{"event": "action", "name": "action_listen"}])
    assert [e.as_dict()["event"] for e in tracker.events] == ["action"]
    assert [m["text"] for m in await agent.handle_message("d", "/bot_challenge")] == [
        "I am a bot, powered by Rasa."
    ]


def test_loading_a_missing_model_says_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(AgentError, match="does not exist"):
        Agent.load(tmp_path / "nope.tar.gz")


async def test_moodbot_trained_end_to_end_with_nlu(tmp_path: Path) -> None:
    model = train_project(load_project(EXAMPLES / "moodbot"), tmp_path).model
    agent = Agent.load(model)
    assert agent.interpreter is not None
    assert [m["text"] for m in await agent.handle_message("e", "hello there")] == [
        "Hey! How are you?"
    ]
    reply = await agent.handle_message("e", "I am very sad")
    assert [m["text"] for m in reply] == [
        "Here is something to cheer you up:",
        "Did that help you?",
    ]
    assert [m["text"] for m in await agent.handle_message("e", "yes")] == ["Great, carry on!"]
    assert [m["text"] for m in await agent.handle_message("e", "are you a bot?")] == [
        "I am a bot, powered by Rasa."
    ]
    parsed = await agent.parse("goodbye")
    assert parsed["intent"]["name"] == "goodbye"


def test_serving_a_model_never_imports_training_libraries() -> None:
    """Loading and answering need numpy and scipy only: scikit-learn (and torch) stay out of
    a server's start time and memory."""
    import subprocess
    import sys

    from tests.server.helpdesk import helpdesk_model

    script = (
        "import asyncio, sys\n"
        "from parley.agent import Agent\n"
        f"agent = Agent.load({str(helpdesk_model())!r})\n"
        "print(asyncio.run(agent.handle_message('u', 'how do I connect to the vpn'))[0]['text'])\n"
        "print(sorted(m for m in ('sklearn', 'torch') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert "VPN" in out[0]
    assert out[-1] == "[]"
