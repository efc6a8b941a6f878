"""The helpdesk's forms end to end, with its custom actions as an in-process action server."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.agent import Agent
from tests.dialogue.conftest import AgentFactory, texts
from tests.dialogue.helpdesk_actions import HelpdeskActions


@pytest.fixture
def desk(make_agent: AgentFactory, helpdesk: Path) -> tuple[Agent, HelpdeskActions]:
    actions = HelpdeskActions()
    return make_agent(helpdesk, actions), actions


async def test_password_reset_incident_through_the_form(
    desk: tuple[Agent, HelpdeskActions],
) -> None:
    agent, actions = desk
    assert texts(await agent.handle_message("u", "/password_reset")) == [
        "What is your email address?"
    ]
    email = '/inform{"email": "ann@example.com"}'
    assert texts(await agent.handle_message("u", email)) == ["What is the priority of this issue?"]
    reply = await agent.handle_message("u", '/inform{"priority": "urgent"}')
    assert texts(reply) == [
        'Sorry "urgent" is not a valid priority. Please try again.',
        "What is the priority of this issue?",
    ]
    assert [b["title"] for b in reply[1]["buttons"]] == ["low", "medium", "high"]
    await agent.handle_message("u", '/inform{"priority": "high"}')
    reply = await agent.handle_message("u", "my password expired")
    assert "title: Problem resetting password" in (reply[0]["text"] or "")
    await agent.handle_message("u", "/affirm")
    assert actions.opened == [
        {
            "email": "ann@example.com",
            "priority": "high",
            "problem_description": "my password expired",
            "title": "Problem resetting password",
        }
    ]
    tracker = await agent.get_tracker("u")
    assert tracker.active_loop_name is None
    assert tracker.get_slot("previous_email") == "ann@example.com"
    assert "validate_open_incident_form" in actions.calls


async def test_form_resumes_after_interruption(desk: tuple[Agent, HelpdeskActions]) -> None:
    agent, _ = desk
    await agent.handle_message("u", "/open_incident")
    reply = await agent.handle_message("u", "/help")
    assert texts(reply)[0].startswith("I can help you open a service request ticket")  # type: ignore[union-attr]
    assert texts(reply)[1] == "What is your email address?"  # asked again, not filled by "help"
    tracker = await agent.get_tracker("u")
    kinds = [e.as_dict()["event"] for e in tracker.events]
    assert "action_execution_rejected" in kinds and "loop_interrupted" in kinds
    assert tracker.active_loop_name == "open_incident_form"
    assert tracker.get_slot("email") is None
    email = '/inform{"email": "bo@example.com"}'
    assert texts(await agent.handle_message("u", email)) == ["What is the priority of this issue?"]


async def test_interrupting_rule_then_form_continues(desk: tuple[Agent, HelpdeskActions]) -> None:
    agent, _ = desk
    await agent.handle_message("u", "/problem_email")
    # the rule answers; inside the form, the stories bring the form back to its question
    assert texts(await agent.handle_message("u", "/bot_challenge")) == [
        "I am a bot, powered by Rasa.",
        "What is your email address?",
    ]
    email = '/inform{"email": "cy@example.com"}'
    assert texts(await agent.handle_message("u", email)) == ["What is the priority of this issue?"]
    assert (await agent.get_tracker("u")).get_slot("incident_title") == "Problem with email"


async def test_status_form_uses_the_previous_email(desk: tuple[Agent, HelpdeskActions]) -> None:
    agent, _ = desk
    await agent.handle_message("u", "/incident_status")
    reply = await agent.handle_message("u", '/inform{"email": "di@example.com"}')
    assert "The most recent incident for di@example.com" in (reply[0]["text"] or "")
    assert texts(await agent.handle_message("u", "/incident_status")) == [
        "Would you like to use the last email address you used, di@example.com?"
    ]
    reply = await agent.handle_message("u", "/affirm")
    assert "di@example.com" in (reply[0]["text"] or "")


async def test_cancelled_incident_is_not_opened(desk: tuple[Agent, HelpdeskActions]) -> None:
    agent, actions = desk
    for text in (
        "/open_incident",
        '/inform{"email": "ed@example.com"}',
        '/inform{"priority": "low"}',
        "printer is on fire",
        "Printer",
    ):
        await agent.handle_message("u", text)
    assert texts(await agent.handle_message("u", "/deny")) == [
        "Alright, I have cancelled the incident."
    ]
    assert actions.opened == []


async def test_handoff_to_another_bot(desk: tuple[Agent, HelpdeskActions]) -> None:
    agent, _ = desk
    reply = await agent.handle_message("u", "/human_handoff")
    assert texts(reply)[0] == "It looks like you want to be transferred to a human agent."
    assert reply[1]["buttons"][0]["payload"] == '/trigger_handoff{"handoff_to":"financial_demo"}'
    reply = await agent.handle_message("u", reply[1]["buttons"][0]["payload"], input_channel="rest")
    assert reply[1]["custom"] == {
        "handoff_host": "http://localhost:5006",
        "title": "Financial Assistant",
    }


async def test_custom_action_without_runner_gives_a_clear_fallback(
    make_agent: AgentFactory, helpdesk: Path
) -> None:
    agent = make_agent(helpdesk)  # no action server
    reply = await agent.handle_message("u", "/incident_status")
    assert texts(reply) == ["I didn't quite understand that. Could you rephrase?"]
    tracker = await agent.get_tracker("u")
    rejected = [
        e.as_dict() for e in tracker.events if e.as_dict()["event"] == "action_execution_rejected"
    ]
    assert "no action server is configured" in rejected[0]["metadata"]["error"]
    assert tracker.latest_action_name == "action_listen"
