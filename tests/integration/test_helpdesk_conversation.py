"""Acceptance: a scripted conversation with the helpdesk example, end to end through the Agent.

Its NLU parses what the user types; its custom actions are the "localmode" fixtures written from
its README (tests/dialogue/helpdesk_actions.py), called through the action-server protocol.
"""

from __future__ import annotations

from typing import Any

import pytest

from parley.agent import Agent
from parley.dialogue.events import ActionExecuted, ActiveLoop, AllSlotsReset, Event, SlotSet
from tests.conftest import EXAMPLES
from tests.dialogue.helpdesk_actions import HelpdeskActions
from tests.integration.conftest import TrainedModel

EMAIL = "ann.lee@example.com"
HELP = "I can help you open a service request ticket"


@pytest.fixture
def desk(trained_model: TrainedModel) -> tuple[Agent, HelpdeskActions]:
    actions = HelpdeskActions()
    return Agent.load(trained_model(EXAMPLES / "helpdesk"), action_runner=actions), actions


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    return [str(m.get("text")) for m in messages]


def _since(events: list[Event], start: int) -> list[str]:
    """Actions, slots and loops of the events after `start`, listens left out."""
    out = []
    for event in events[start:]:
        if isinstance(event, ActionExecuted) and event.name != "action_listen":
            out.append(str(event.name))
        elif isinstance(event, SlotSet) and event.name != "requested_slot":
            out.append(f"{event.name}={event.value}")
        elif isinstance(event, ActiveLoop):
            out.append(f"loop={event.name}")
        elif isinstance(event, AllSlotsReset):
            out.append("reset_slots")
    return out


async def test_password_reset_incident_status_and_handoff(
    desk: tuple[Agent, HelpdeskActions],
) -> None:
    agent, actions = desk

    async def say(text: str) -> list[str]:
        return _texts(await agent.handle_message("ann", text))

    greeting = await say("hello")
    assert greeting[0] == "Hallo! I'm your IT Helpdesk Assistant."
    assert greeting[1].startswith(HELP)

    start = len((await agent.get_tracker("ann")).events)
    assert await say("I'm having issues with my password") == ["What is your email address?"]
    assert await say(f"my email is {EMAIL}") == ["What is the priority of this issue?"]
    # an invalid priority is refused by validate_open_incident_form and asked again
    assert await say("super high") == [
        'Sorry "super high" is not a valid priority. Please try again.',
        "What is the priority of this issue?",
    ]
    assert await say("high") == ["What is the problem description for the issue?"]
    confirm = await say("I forgot my password and cannot log in")
    assert confirm[0].splitlines()[1:] == [
        f"    email: {EMAIL} ",
        "    problem description: I forgot my password and cannot log in ",
        "    title: Problem resetting password ",
        "    priority: high",
    ]
    opened = await say("yes")
    assert opened[0].startswith("An incident with the following details would be opened")
    assert actions.opened == [
        {
            "email": EMAIL,
            "priority": "high",
            "problem_description": "I forgot my password and cannot log in",
            "title": "Problem resetting password",
        }
    ]
    tracker = await agent.get_tracker("ann")
    # slots filled from the user's words, then the form logs what validation returned
    assert _since(tracker.events, start) == [
        "open_incident_form",
        "loop=open_incident_form",
        "incident_title=Problem resetting password",
        f"email={EMAIL}",
        "open_incident_form",
        f"email={EMAIL}",
        "priority=super high",
        "open_incident_form",
        "priority=None",
        "priority=high",
        "open_incident_form",
        "priority=high",
        "problem_description=I forgot my password and cannot log in",
        "open_incident_form",
        "problem_description=I forgot my password and cannot log in",
        "confirm=True",
        "open_incident_form",
        "confirm=True",
        "loop=None",
        "action_open_incident",
        "reset_slots",
        f"previous_email={EMAIL}",
    ]
    # validated on activation (the title from the trigger intent), then after every answer
    assert actions.calls.count("validate_open_incident_form") == 6
    assert actions.calls[:3] == [
        "validate_open_incident_form",
        "action_ask_email",
        "validate_open_incident_form",
    ]

    # the status check offers the email used before; "yes" takes it
    assert await say("what is the status of my incident") == [
        f"Would you like to use the last email address you used, {EMAIL}?"
    ]
    [status] = await say("yes")
    assert status.splitlines()[-1] == (
        f"The most recent incident for {EMAIL} is currently awaiting triage"
    )

    offered = await agent.handle_message("ann", "I want to talk to a person")
    assert _texts(offered) == [
        "It looks like you want to be transferred to a human agent.",
        "I can't transfer you to a human, but I can transfer you to one of these bots",
    ]
    [button] = offered[1]["buttons"]
    assert button == {
        "title": "Financial Assistant",
        "payload": '/trigger_handoff{"handoff_to":"financial_demo"}',
    }
    assert await say(button["payload"]) == [
        "Alright, I'll try to transfer you.",
        "If you were talking to me via chatroom, I would have handed you off to "
        "http://localhost:5006.",
    ]
    assert actions.calls[-2:] == ["action_handoff_options", "action_handoff"]
    assert (await agent.get_tracker("ann")).get_slot("handoff_to") is None
