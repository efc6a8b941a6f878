"""A small trip assistant (NLU, stories, a form), trained once for the conversation-test tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.agent import Agent
from parley.project import load_project
from parley.training import train_project

FILES = {
    "config.yml": """
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
  - name: EntitySynonymMapper
policies:
  - name: MemoizationPolicy
  - name: RulePolicy
  - name: TEDPolicy
""",
    "domain.yml": """
version: "3.1"
intents: [greet, goodbye, inform, book, bot_challenge]
entities: [city]
slots:
  city:
    type: text
    influence_conversation: false
    mappings:
      - type: from_entity
        entity: city
forms:
  trip_form:
    required_slots: [city]
responses:
  utter_greet: [{text: "Hi! Where to?"}]
  utter_goodbye: [{text: "Bye."}]
  utter_ask_city: [{text: "Which city?"}]
  utter_booked: [{text: "Booked a trip to {city}."}]
  utter_iamabot: [{text: "I am a bot."}]
""",
    "data/nlu.yml": """
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hi
    - hello
    - hello there
    - good morning
    - hey
- intent: goodbye
  examples: |
    - bye
    - goodbye
    - see you later
    - bye bye
- intent: book
  examples: |
    - book a trip
    - I want to travel
    - book me a journey
    - I need a holiday
- intent: inform
  examples: |
    - to [Paris](city)
    - [Rome](city)
    - I want to go to [Oslo](city)
    - [Lisbon](city) please
    - fly me to [Madrid](city)
- intent: bot_challenge
  examples: |
    - are you a bot?
    - am I talking to a robot
    - are you human
""",
    "data/stories.yml": """
version: "3.1"
stories:
- story: greet and leave
  steps:
  - intent: greet
  - action: utter_greet
  - intent: goodbye
  - action: utter_goodbye
""",
    "data/rules.yml": """
version: "3.1"
rules:
- rule: bot challenge
  steps:
  - intent: bot_challenge
  - action: utter_iamabot
- rule: start the form
  steps:
  - intent: book
  - action: trip_form
  - active_loop: trip_form
- rule: a question inside the form, then back to it
  condition:
  - active_loop: trip_form
  steps:
  - intent: bot_challenge
  - action: utter_iamabot
  - action: trip_form
  - active_loop: trip_form
- rule: submit the form
  condition:
  - active_loop: trip_form
  steps:
  - action: trip_form
  - active_loop: null
  - action: utter_booked
""",
}

GREET_AND_LEAVE = """
- story: greet and leave
  steps:
  - user: hello there
    intent: greet
  - action: utter_greet
  - user: bye bye
    intent: goodbye
  - action: utter_goodbye
"""  # a test story the trip assistant passes


def write_project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip(), "utf-8")
    return root


@pytest.fixture(scope="session")
def trip_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trip assistant's folder with a trained model under models/."""
    root = write_project(tmp_path_factory.mktemp("trip"), FILES)
    train_project(load_project(root), root / "models")
    return root


@pytest.fixture
def trip_agent(trip_project: Path) -> Agent:
    return Agent.load(next((trip_project / "models").glob("*.tar.gz")))
