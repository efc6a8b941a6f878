"""The turn loop: custom-action replies, the action bound, reminders, sessions, handoff."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from parley.agent import Agent
from parley.dialogue.events import BotUttered
from parley.stores.memory import InMemoryLockStore, InMemoryTrackerStore
from tests.dialogue.conftest import AgentFactory, texts

DOMAIN = """
intents: [greet, loop, remind, cancel, EXTERNAL_wake_up, human]
responses:
  utter_greet: [{text: "Hello {name}!"}, {text: "Hi VIP!", condition: [{type: slot, name: vip, value: true}]}]
  utter_wake_up: [{text: "Wake up!"}]
  utter_handoff: [{text: "Connecting you to a person."}]
slots:
  name:
    type: text
    initial_value: friend
    mappings: [{type: custom}]
  vip:
    type: bool
    influence_conversation: false
    mappings: [{type: custom}]
actions: [action_loop, action_set_reminder, action_cancel_reminder]
session_config:
  session_expiration_time: 0.001
  carry_over_slots_to_new_session: true
"""
RULES = """
rules:
- rule: greet
  steps: [{intent: greet}, {action: utter_greet}]
- rule: loop
  steps: [{intent: loop}, {action: action_loop}]
- rule: remind
  steps: [{intent: remind}, {action: action_set_reminder}]
- rule: cancel
  steps: [{intent: cancel}, {action: action_cancel_reminder}]
- rule: reminder fires
  steps: [{intent: EXTERNAL_wake_up}, {action: utter_wake_up}]
- rule: human
  steps: [{intent: human}, {action: action_handoff_to_human}]
"""


class ScriptedActions:
    """An action server in-process: loops forever, sets and cancels reminders."""

    def __init__(self) -> None:
        self.delay = 0.3

    async def run(self, action_name: str, payload: dict[str, Any]) -> dict[str, Any]:
        if action_name == "action_loop":
            return {"events": [{"event": "followup", "name": "action_loop"}], "responses": []}
        if action_name == "action_set_reminder":
            when = datetime.now(UTC) + timedelta(seconds=self.delay)
            reminder = {
                "event": "reminder",
                "intent": "EXTERNAL_wake_up",
                "date_time": when.isoformat(),
                "name": "wake",
                "kill_on_user_msg": False,
                "entities": None,
            }
            return {"events": [reminder], "responses": [{"text": "Reminder set."}]}
        if action_name == "action_cancel_reminder":
            return {"events": [{"event": "cancel_reminder", "name": "wake"}], "responses": []}
        raise AssertionError(action_name)

    async def close(self) -> None:
        return None


@pytest.fixture
def files() -> dict[str, str]:
    return {"domain.yml": DOMAIN, "data/rules.yml": RULES}


async def test_an_action_loop_stops_at_the_bound_with_an_error(
    make_agent: AgentFactory, files: dict[str, str]
) -> None:
    agent = make_agent(files, ScriptedActions())
    assert await asyncio.wait_for(agent.handle_message("u", "/loop"), timeout=10) == []
    tracker = await agent.get_tracker("u")
    last = tracker.events[-1].as_dict()
    assert (last["event"], last["name"]) == ("action", "action_listen")
    assert "stopped after 10 actions" in last["metadata"]["error"]
    assert texts(await agent.handle_message("u", "/greet")) == ["Hello friend!"]  # still usable


async def test_response_slot_interpolation_and_conditions(
    make_agent: AgentFactory, files: dict[str, str]
) -> None:
    agent = make_agent(files)
    await agent.append_events("u", [{"event": "slot", "name": "name", "value": "Ann"}])
    assert texts(await agent.handle_message("u", "/greet")) == ["Hello Ann!"]
    await agent.append_events("u", [{"event": "slot", "name": "vip", "value": True}])
    assert texts(await agent.handle_message("u", "/greet")) == ["Hi VIP!"]


async def test_expired_session_starts_anew_and_carries_slots(
    make_agent: AgentFactory, files: dict[str, str]
) -> None:
    agent = make_agent(files)  # sessions expire after 0.06 s
    await agent.handle_message("u", "/greet")
    await agent.append_events("u", [{"event": "slot", "name": "name", "value": "Bo"}])
    time.sleep(0.1)
    assert texts(await agent.handle_message("u", "/greet")) == ["Hello Bo!"]
    tracker = await agent.get_tracker("u")
    assert len(tracker.sessions()) == 2
    assert [e.as_dict()["event"] for e in tracker.sessions()[1][:3]] == [
        "action",
        "session_started",
        "slot",
    ]


async def test_reminder_fires_its_intent_at_the_time(
    make_agent: AgentFactory, files: dict[str, str]
) -> None:
    agent = make_agent(files, ScriptedActions())
    assert texts(await agent.handle_message("u", "/remind")) == ["Reminder set."]
    assert agent.reminders.scheduled == [("u", "wake")]
    await asyncio.sleep(0.6)
    tracker = await agent.get_tracker("u")
    bots = [e.text for e in tracker.events if isinstance(e, BotUttered)]
    assert bots == ["Reminder set.", "Wake up!"]
    assert tracker.latest_message is not None
    assert tracker.latest_message.metadata["is_external"] is True
    assert tracker.latest_message.metadata["reminder"] == "wake"
    await agent.close()


async def test_cancelled_reminder_never_fires(
    make_agent: AgentFactory, files: dict[str, str]
) -> None:
    agent = make_agent(files, ScriptedActions())
    await agent.handle_message("u", "/remind")
    await agent.handle_message("u", "/cancel")
    assert agent.reminders.scheduled == []
    await asyncio.sleep(0.5)
    bots = [e.text for e in (await agent.get_tracker("u")).events if isinstance(e, BotUttered)]
    assert "Wake up!" not in bots


async def test_reminder_survives_a_restart(make_agent: AgentFactory, files: dict[str, str]) -> None:
    store = InMemoryTrackerStore()
    first = make_agent(files, ScriptedActions(), tracker_store=store)
    await first.handle_message("u", "/remind")
    await first.close()  # the server stops before the reminder is due
    second: Agent = make_agent(files, ScriptedActions(), tracker_store=store)
    assert await second.restore_reminders() == 1
    await asyncio.sleep(0.6)
    bots = [e.text for e in (await second.get_tracker("u")).events if isinstance(e, BotUttered)]
    assert bots[-1] == "Wake up!"
    assert await second.restore_reminders() == 0  # fired once, never again
    await second.close()


@pytest.mark.integration
async def test_a_reminder_every_worker_restored_fires_once(
    make_agent: AgentFactory, files: dict[str, str]
) -> None:
    from parley.stores import RedisTrackerStore
    from tests.stores.conftest import drop_redis_keys, redis_settings, unique_name

    prefix = unique_name("reminders")
    store = await RedisTrackerStore.open(redis_settings(prefix))  # a store that really waits
    locks = InMemoryLockStore()
    try:
        first = make_agent(files, ScriptedActions(), tracker_store=store, lock_store=locks)
        await first.handle_message("u", "/remind")
        await first.close()
        workers = [
            make_agent(files, ScriptedActions(), tracker_store=store, lock_store=locks)
            for _ in range(3)
        ]
        restored = await asyncio.gather(*(w.restore_reminders() for w in workers))
        assert restored == [1, 1, 1]
        await asyncio.sleep(0.8)  # all three timers go off at the same moment
        events = (await workers[0].get_tracker("u")).events
        assert [e.text for e in events if isinstance(e, BotUttered)].count("Wake up!") == 1
        for worker in workers:
            await worker.close()
    finally:
        await store.close()
        await drop_redis_keys(prefix)


async def test_a_starting_server_resumes_the_reminders_of_stored_conversations(
    make_agent: AgentFactory, files: dict[str, str]
) -> None:
    from parley.server.app import create_app
    from parley.server.runtime import AgentHolder
    from tests.server.live import running

    store = InMemoryTrackerStore()
    before = make_agent(files, ScriptedActions(), tracker_store=store)
    await before.handle_message("u", "/remind")
    await before.close()  # the old server stopped with the reminder pending
    agent = make_agent(files, ScriptedActions(), tracker_store=store)
    async with running(create_app(AgentHolder(agent, None))):
        await asyncio.sleep(0.7)
        events = (await agent.get_tracker("u")).events
    assert [e.text for e in events if isinstance(e, BotUttered)][-1] == "Wake up!"


async def test_handoff_keeps_the_bot_silent_until_released(
    make_agent: AgentFactory, files: dict[str, str]
) -> None:
    agent = make_agent(files)
    assert texts(await agent.handle_message("u", "/human")) == ["Connecting you to a person."]
    tracker = await agent.get_tracker("u")
    pause = tracker.events[-1].as_dict()
    assert pause["event"] == "pause" and pause["metadata"]["handoff_to_human"] is True
    assert await agent.handle_message("u", "/greet") == []
    assert (await agent.get_tracker("u")).latest_intent == "greet"  # still recorded
    released = await agent.release_handoff("u")
    assert not released.paused and released.handoff is None
    assert texts(await agent.handle_message("u", "/greet")) == ["Hello friend!"]


async def test_reminder_is_dropped_when_the_user_spoke_meanwhile(
    make_agent: AgentFactory, files: dict[str, str]
) -> None:
    actions = ScriptedActions()
    agent = make_agent(files, actions)
    original = actions.run

    async def killing(action_name: str, payload: dict[str, Any]) -> dict[str, Any]:
        reply = await original(action_name, payload)
        for event in reply["events"]:
            if event["event"] == "reminder":
                event["kill_on_user_msg"] = True
        return reply

    actions.run = killing  # type: ignore[method-assign]
    await agent.handle_message("u", "/remind")
    await agent.handle_message("u", "/greet")
    await asyncio.sleep(0.6)
    bots = [e.text for e in (await agent.get_tracker("u")).events if isinstance(e, BotUttered)]
    assert "Wake up!" not in bots


async def test_restart_intent_starts_over(make_agent: AgentFactory, files: dict[str, str]) -> None:
    agent = make_agent(files)
    await agent.append_events("u", [{"event": "slot", "name": "name", "value": "Cy"}])
    await agent.handle_message("u", "/restart")
    tracker = await agent.get_tracker("u")
    kinds = [e.as_dict()["event"] for e in tracker.events]
    restart = kinds.index("restart")
    assert kinds[restart + 1 : restart + 3] == ["action", "session_started"]
    assert tracker.latest_action_name == "action_listen"
    assert tracker.get_slot("name") == "friend"  # initial value again
    assert texts(await agent.handle_message("u", "/greet")) == ["Hello friend!"]


class RefusingActions:
    """An action server that refuses one action and answers another with a broken event."""

    async def run(self, action_name: str, payload: dict[str, Any]) -> dict[str, Any]:
        from parley.dialogue.custom import ActionRejected

        if action_name == "action_loop":
            raise ActionRejected(action_name, "not now")
        return {"events": [{"name": "no type"}], "responses": []}

    async def close(self) -> None:
        return None


async def test_rejected_custom_action_lets_another_action_answer(
    make_agent: AgentFactory, files: dict[str, str]
) -> None:
    agent = make_agent(files, RefusingActions())
    reply = await agent.handle_message("u", "/loop")
    assert texts(reply) == ["Sorry, I didn't get that. Could you rephrase?"]  # the core fallback
    kinds = [e.as_dict()["event"] for e in (await agent.get_tracker("u")).events]
    assert "action_execution_rejected" in kinds


async def test_broken_action_reply_is_an_error_event_not_a_crash(
    make_agent: AgentFactory, files: dict[str, str]
) -> None:
    agent = make_agent(files, RefusingActions())
    await agent.handle_message("u", "/remind")
    tracker = await agent.get_tracker("u")
    rejected = [
        e.as_dict() for e in tracker.events if e.as_dict()["event"] == "action_execution_rejected"
    ]
    assert "bad event" in rejected[0]["metadata"]["error"]
    assert tracker.latest_action_name == "action_listen"
