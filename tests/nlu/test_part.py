from __future__ import annotations

from pathlib import Path

import pytest

from parley.nlu import load
from parley.nlu.part import NLUPart
from parley.project import NLUData, Project, load_project
from parley.training import train_project


@pytest.mark.parametrize("name", ["moodbot", "helpdesk", "e2ebot"])
def test_every_shared_example_trains_with_its_own_config(
    examples_dir: Path, tmp_path: Path, name: str
) -> None:
    project = load_project(examples_dir / name)
    result = train_project(project, tmp_path, parts=[NLUPart()])
    first = project.nlu.examples[0]
    assert load(result.model).parse(first.text)["intent"]["name"] == first.base_intent


def test_helpdesk_extracts_email_without_duckling_running(
    examples_dir: Path, tmp_path: Path
) -> None:
    project = load_project(examples_dir / "helpdesk")
    interpreter = load(train_project(project, tmp_path, parts=[NLUPart()]).model)
    entities = interpreter.parse("my email is ann.lee@example.com")["entities"]
    assert {"entity": "email", "value": "ann.lee@example.com"}.items() <= entities[0].items()
    assert entities[0]["extractor"] == "DucklingEntityExtractor"


def test_fingerprint_changes_with_pipeline_or_data_but_not_the_domain(nlubot: Project) -> None:
    part = NLUPart()
    same = Project(root=Path("."), config=nlubot.config, nlu=nlubot.nlu, domain=nlubot.domain)
    assert part.fingerprint(same) == part.fingerprint(nlubot)
    fewer = Project(root=Path("."), config=nlubot.config, nlu=NLUData(nlubot.nlu.examples[:3]))
    assert part.fingerprint(fewer) != part.fingerprint(nlubot)


def test_nlu_trains_without_a_domain(nlubot: Project, tmp_path: Path) -> None:
    alone = Project(root=Path("."), config=nlubot.config, nlu=nlubot.nlu)
    interpreter = load(train_project(alone, tmp_path, parts=[NLUPart()]).model)
    faq = interpreter.parse("what are your opening hours")["response_selector"]["faq"]
    assert faq["response"]["responses"] is None
    assert faq["response"]["intent_response_key"] == "faq/ask_hours"
