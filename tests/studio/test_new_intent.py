"""A new intent written into the NLU data and the domain, whatever the domain's layout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from parley.studio.new_intent import (
    create_intent,
    domain_intents,
    name_problem,
    project_write_lock,
)
from parley.studio.nlu_files import NluFileError

NLU = """version: "3.1"
nlu:
# greetings first
- intent: greet
  examples: |
    - hi
"""


def _project(root: Path, domain: dict[str, str]) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "data" / "nlu.yml").write_text(NLU)
    for name, text in domain.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_domain_folder_gets_the_intent_in_its_file_with_intents(tmp_path: Path) -> None:
    responses = 'version: "3.1"\nresponses:\n  utter_greet:\n  - text: Hi\n'
    intents = 'version: "3.1"\n# what users say\nintents:\n- greet:\n    use_entities: []\n'
    project = _project(
        tmp_path, {"domain/a_responses.yml": responses, "domain/b_intents.yml": intents}
    )
    assert domain_intents(project) == {"greet"}
    written = create_intent(project, "ask_refund", ["I want my money back", "refund please"])
    assert (written.nlu_file, written.domain_file) == ("data/nlu.yml", "domain/b_intents.yml")
    assert (project / "domain" / "a_responses.yml").read_text() == responses
    assert (project / "domain" / "b_intents.yml").read_text() == intents + "- ask_refund\n"
    assert (project / "data" / "nlu.yml").read_text() == NLU + (
        "- intent: ask_refund\n  examples: |\n    - I want my money back\n    - refund please\n"
    )


def test_an_unreadable_domain_leaves_both_files_untouched(tmp_path: Path) -> None:
    project = _project(tmp_path, {"domain.yml": "intents: [greet\n"})
    with pytest.raises(NluFileError, match=r"domain\.yml: cannot be read as YAML"):
        create_intent(project, "ask_refund", ["refund please"])
    assert (project / "data" / "nlu.yml").read_text() == NLU
    assert (project / "domain.yml").read_text() == "intents: [greet\n"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("greet", "already exists"),
        ("bot_challenge", "already exists"),  # in the domain only
        ("faq/ask_hours", "not a valid intent name"),
        ("2fa_help", "not a valid intent name"),
        ("", "not a valid intent name"),
        ("action_refund", "for responses and actions"),
        ("ask_refund", None),
    ],
)
def test_names_that_cannot_become_an_intent(tmp_path: Path, name: str, problem: str | None) -> None:
    project = _project(tmp_path, {"domain.yml": "intents:\n  - greet\n  - bot_challenge\n"})
    found = name_problem(project, name)
    assert (found is None) if problem is None else (problem in str(found))


def test_studio_writers_of_a_project_take_turns_across_processes(tmp_path: Path) -> None:
    """While one process writes the project's files, another cannot take the lock."""
    probe = (
        "import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)\n"
        "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n    print('free')\n"
        "except BlockingIOError:\n    print('held')\n"
    )

    def other_process() -> str:
        run = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True)
        return run.stdout.decode().strip()

    with project_write_lock(tmp_path):
        assert other_process() == "held"
    assert other_process() == "free"
