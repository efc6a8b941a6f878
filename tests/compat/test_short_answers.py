"""A short answer inside a form: `6` while the form asks for a quantity is `inform` (Rasa 3.6
with DIET: digits and entity-likeness weigh in), even though out_of_scope examples mention
numbers. Project: tests/compat/projects/short_answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.agent import Agent
from parley.nlu import load
from parley.project import load_project
from parley.training import train_project

PROJECT = Path(__file__).parent / "projects" / "short_answer"


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_project(load_project(PROJECT), tmp_path_factory.mktemp("models")).model


@pytest.mark.parametrize("number", ["6", "8", "15"])
def test_a_lone_number_is_inform_not_out_of_scope(model: Path, number: str) -> None:
    result = load(model).parse(number)
    assert result["intent"]["name"] == "inform"
    assert result["intent"]["confidence"] > 0.6


def test_a_sentence_that_mentions_a_number_stays_out_of_scope(model: Path) -> None:
    assert load(model).parse("I have 4 dogs at home")["intent"]["name"] == "out_of_scope"


async def test_the_form_takes_a_lone_number_as_the_quantity(model: Path) -> None:
    agent = Agent.load(model)
    replies = await agent.handle_message("ann", "I want to order a pizza")
    assert [r["text"] for r in replies] == ["Which topping?"]
    replies = await agent.handle_message("ann", "mushroom please")
    assert [r["text"] for r in replies] == ["How many pizzas?"]
    replies = await agent.handle_message("ann", "6")
    assert [r["text"] for r in replies] == ["6 mushroom pizzas are on their way."]
