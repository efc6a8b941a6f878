"""Rasa's responseselectorbot, trained unchanged: chitchat questions get their own answers."""

from __future__ import annotations

import pytest

from parley.agent import Agent
from parley.project import load_project
from parley.project.errors import ProblemSink
from parley.project.yamlio import read_yaml
from parley.training import train_project
from tests.conftest import EXAMPLES

BOT = EXAMPLES / "responseselectorbot"


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Agent:
    model = train_project(load_project(BOT), tmp_path_factory.mktemp("models")).model
    return Agent.load(model)


def _answers(key: str) -> list[str]:
    responses = read_yaml(BOT / "data" / "nlu.yml", ProblemSink())["responses"]
    return [variation["text"] for variation in responses[f"utter_chitchat/{key}"]]


@pytest.mark.parametrize(
    ("question", "key"),
    [("what is your name?", "ask_name"), ("is it sunny outside today?", "ask_weather")],
)
async def test_each_chitchat_question_gets_an_answer_of_its_response_key(
    agent: Agent, question: str, key: str
) -> None:
    replies = await agent.handle_message(f"user-{key}", question)
    assert len(replies) == 1
    assert replies[0]["text"] in _answers(key)
