"""docs/rasa.md cannot drift: its tables list every Rasa 3.6 component, policy, channel,
endpoint and CLI command, and each status agrees with what Parley's registries accept."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from parley.cli.main import app
from parley.dialogue.policies.ensemble import IGNORED, POLICIES
from parley.nlu.registry import RASA_COMPONENTS, SPECS, plan_pipeline
from parley.project.config import ComponentConfig, ProjectConfig
from parley.project.errors import ProblemSink
from parley.server.channels import CHANNELS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "rasa.md"
STATUSES = {"same", "substituted", "not yet", "ignored"}

# Rasa 3.6's registry (rasa/engine/recipes/default_components.py), channels
# (rasa/core/channels/__init__.py), endpoints.yml sections and CLI (rasa --help)
RASA_NLU = {
    "DIETClassifier", "FallbackClassifier", "KeywordIntentClassifier", "MitieIntentClassifier",
    "SklearnIntentClassifier", "LogisticRegressionClassifier", "ResponseSelector",
    "CRFEntityExtractor", "DucklingEntityExtractor", "EntitySynonymMapper",
    "MitieEntityExtractor", "SpacyEntityExtractor", "RegexEntityExtractor",
    "LexicalSyntacticFeaturizer", "ConveRTFeaturizer", "MitieFeaturizer", "SpacyFeaturizer",
    "CountVectorsFeaturizer", "LanguageModelFeaturizer", "RegexFeaturizer", "JiebaTokenizer",
    "MitieTokenizer", "SpacyTokenizer", "WhitespaceTokenizer", "MitieNLP", "SpacyNLP",
}  # fmt: skip
RASA_POLICIES = {"TEDPolicy", "UnexpecTEDIntentPolicy", "RulePolicy", "MemoizationPolicy",
                 "AugmentedMemoizationPolicy"}  # fmt: skip
RASA_CHANNELS = {"cmdline", "facebook", "slack", "telegram", "mattermost", "twilio",
                 "twilio_voice", "rasa", "botframework", "rocketchat", "callback", "rest",
                 "socketio", "webexteams", "hangouts"}  # fmt: skip
RASA_ENDPOINTS = {"action_endpoint", "tracker_store", "lock_store", "event_broker", "models",
                  "nlg", "nlu"}  # fmt: skip
RASA_COMMANDS = {
    "init", "train", "train nlu", "train core", "run", "run actions", "shell", "shell nlu",
    "test", "test core", "test nlu", "data validate", "data validate stories", "data split nlu",
    "data split stories", "data convert nlu", "data convert responses", "data migrate", "export",
    "interactive", "visualize", "evaluate markers", "telemetry",
}  # fmt: skip


def _table(heading: str) -> dict[str, str]:
    """`name -> status` of the table under `## heading`."""
    text = DOC.read_text()
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and line.startswith("|") and not set(cells[0]) <= {"-"}:
            rows[cells[0]] = cells[1]
    rows.pop(next(iter(rows)))  # the header row
    assert set(rows.values()) <= STATUSES, f"{heading}: statuses are {STATUSES}"
    return rows


def _parley_commands() -> set[str]:
    def walk(command: Any, prefix: str) -> set[str]:
        found = {prefix.strip()} if prefix else set()
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            for name, sub in command.commands.items():
                found |= walk(sub, f"{prefix} {name}")
        return found

    return walk(typer.main.get_command(app), "")


def test_every_rasa_nlu_component_is_listed_accepted_and_its_status_is_the_registrys() -> None:
    rows = _table("NLU components")
    assert set(rows) == RASA_NLU == set(RASA_COMPONENTS)
    for name, status in rows.items():
        expected = "substituted" if SPECS[name].note else "same"
        assert status == expected, f"{name}: docs/rasa.md says {status}, the registry {expected}"


@pytest.mark.parametrize("name", sorted(RASA_NLU))
def test_each_rasa_component_plans_without_error(name: str) -> None:
    sink = ProblemSink()
    pipeline = (ComponentConfig("SpacyNLP"), ComponentConfig(name))
    plan_pipeline(ProjectConfig(pipeline=pipeline), sink, entity_types=())
    assert [p for p in sink.problems if p.severity == "error"] == []


def test_policies_table_matches_the_policy_registry() -> None:
    rows = _table("Policies")
    assert set(rows) == RASA_POLICIES
    for name, status in rows.items():
        if name in IGNORED:
            assert status == "ignored"
        else:
            assert (status in ("same", "substituted")) == (name in POLICIES), name


def test_channels_table_matches_the_channels_parley_serves() -> None:
    rows = _table("Channels (`credentials.yml`)")
    assert set(rows) == RASA_CHANNELS
    for name, status in rows.items():
        assert (status == "same") == (name in CHANNELS), name


def test_endpoints_table_covers_every_endpoints_section() -> None:
    rows = _table("Endpoints (`endpoints.yml`)")
    assert {re.split(r":", name)[0] for name in rows} == RASA_ENDPOINTS


def test_cli_table_matches_parleys_commands() -> None:
    rows = _table("Command line")
    assert {name.removeprefix("rasa ") for name in rows} == RASA_COMMANDS
    parley = _parley_commands()
    for name, status in rows.items():
        command = name.removeprefix("rasa ")
        if status == "same":
            assert command in parley, f"docs/rasa.md: `parley {command}` does not exist"
        if status == "not yet":
            assert command not in parley, f"`parley {command}` exists: update docs/rasa.md"


def test_the_readme_links_the_page_on_its_first_screen() -> None:
    first_screen = (ROOT / "README.md").read_text().splitlines()[:12]
    assert any("docs/rasa.md" in line for line in first_screen)
