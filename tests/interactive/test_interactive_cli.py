"""`parley interactive` driven through a pseudo-terminal: corrections become the saved story
and NLU examples, the project's YAML keeps its comments, and a new model is trained."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from parley.cli.init import template_dir
from parley.project import load_project
from parley.training import train_project

pexpect = pytest.importorskip("pexpect")

PROMPT = "Your input ->"
CORRECT = r"Correct\?"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("interactive") / "bot"
    shutil.copytree(template_dir(), folder)
    nlu = folder / "data" / "nlu.yml"
    nlu.write_text("# our help desk's examples; keep this comment\n" + nlu.read_text())
    train_project(load_project(folder), folder / "models")
    return folder


def _answer(child: pexpect.spawn, *answers: str) -> None:
    for answer in answers:
        child.expect(CORRECT)
        child.sendline(answer)


def test_a_taught_conversation_is_saved_as_story_and_examples(project: Path) -> None:
    models_before = set((project / "models").glob("*.tar.gz"))
    child = pexpect.spawn(
        sys.executable,
        ["-m", "parley.cli.main", "interactive", "--project", str(project)],
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 200),
    )
    try:
        child.expect(PROMPT)
        child.sendline("hello")
        _answer(child, "greet", "")  # intent (named), entities (none: accept)
        _answer(child, "utter_greet")
        child.expect("Hi! I'm the IT help desk assistant")
        _answer(child, "action_listen")
        child.expect(PROMPT)
        child.sendline("cheers mate")
        _answer(child, "thank", "")
        _answer(child, "utter_you_are_welcome", "action_listen")
        child.expect(PROMPT)
        child.sendline("/stop")
        child.expect("Saved story")
        child.expect("Retraining in the background")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0

    stories = YAML(typ="safe").load((project / "data" / "stories.yml").read_text())["stories"]
    taught = stories[-1]
    assert taught["story"].startswith("interactive ")
    assert taught["steps"] == [
        {"intent": "greet"},
        {"action": "utter_greet"},
        {"intent": "thank"},
        {"action": "utter_you_are_welcome"},
    ]
    nlu_text = (project / "data" / "nlu.yml").read_text()
    assert nlu_text.startswith("# our help desk's examples; keep this comment\n")
    nlu = YAML(typ="safe").load(nlu_text)["nlu"]
    thank = next(i for i in nlu if i.get("intent") == "thank")["examples"]
    assert "- cheers mate\n" in thank
    greet = next(i for i in nlu if i.get("intent") == "greet")["examples"]
    assert greet.count("- hello\n") == 1  # already there: not added twice

    deadline = time.monotonic() + 120
    while set((project / "models").glob("*.tar.gz")) == models_before:
        assert time.monotonic() < deadline, (
            project / ".parley" / "interactive-train.log"
        ).read_text()
        time.sleep(0.5)
