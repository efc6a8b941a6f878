"""Table-driven: each kind of broken project file yields a message naming file, line and problem."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from parley.validation import validate_project

BASE: dict[str, str] = {
    "config.yml": "language: en\npipeline:\n- name: WhitespaceTokenizer\npolicies:\n- name: RulePolicy\n",
    "domain.yml": (
        "version: '3.1'\n"
        "intents:\n- greet\n- bye\n"
        "entities:\n- name\n"
        "slots:\n"
        "  name:\n"
        "    type: text\n"
        "    mappings:\n"
        "    - type: from_entity\n"
        "      entity: name\n"
        "forms:\n"
        "  name_form:\n"
        "    required_slots:\n"
        "    - name\n"
        "responses:\n"
        "  utter_greet:\n  - text: Hi {name}!\n"
        "  utter_bye:\n  - text: Bye!\n"
        "  utter_ask_name:\n  - text: Your name?\n"
    ),
    "data/nlu.yml": (
        "version: '3.1'\n"
        "nlu:\n"
        "- intent: greet\n"
        "  examples: |\n"
        "    - hi\n"
        "    - hello I am [Ann](name)\n"
        "- intent: bye\n"
        "  examples: |\n"
        "    - bye\n"
    ),
    "data/stories.yml": (
        "version: '3.1'\n"
        "stories:\n"
        "- story: greet\n"
        "  steps:\n"
        "  - intent: greet\n"
        "  - action: utter_greet\n"
        "  - intent: bye\n"
        "  - action: utter_bye\n"
    ),
    "data/rules.yml": (
        "version: '3.1'\n"
        "rules:\n"
        "- rule: form\n"
        "  steps:\n"
        "  - intent: greet\n"
        "    entities: [name]\n"  # without it the rule contradicts story 'greet'
        "  - action: name_form\n"
        "  - active_loop: name_form\n"
    ),
}


@dataclass(frozen=True)
class Case:
    kind: str
    file: str
    content: str
    line: int
    severity: str
    message: str


def _story(steps: str) -> str:
    return "stories:\n- story: s\n  steps:\n" + steps


CASES = [
    Case(
        "yaml syntax",
        "domain.yml",
        "intents:\n- greet\nentities:\n\t- name\n",
        4,
        "error",
        "YAML syntax error",
    ),
    Case(
        "duplicate key",
        "domain.yml",
        "intents: [greet]\nintents: [bye]\n",
        2,
        "error",
        "duplicate key",
    ),
    Case(
        "unknown top-level key",
        "domain.yml",
        BASE["domain.yml"] + "intent_list: []\n",
        24,
        "error",
        "unknown key 'intent_list' in the domain",
    ),
    Case(
        "unknown slot key",
        "domain.yml",
        BASE["domain.yml"].replace("    type: text\n", "    type: text\n    colour: red\n"),
        10,
        "error",
        "unknown key 'colour' in slot 'name'",
    ),
    Case(
        "bad slot type",
        "domain.yml",
        BASE["domain.yml"].replace("type: text", "type: integer"),
        9,
        "error",
        "slot 'name' has type 'integer'",
    ),
    Case(
        "wrong value type",
        "domain.yml",
        BASE["domain.yml"].replace(
            "    type: text\n", "    type: text\n    influence_conversation: maybe\n"
        ),
        10,
        "error",
        "'influence_conversation' in slot 'name' must be true or false",
    ),
    Case(
        "mapping without entity",
        "domain.yml",
        BASE["domain.yml"].replace("      entity: name\n", ""),
        11,
        "error",
        "from_entity needs 'entity'",
    ),
    Case(
        "form needs undeclared slot",
        "domain.yml",
        BASE["domain.yml"].replace("    - name\n", "    - email\n"),
        14,
        "error",
        "form 'name_form' requires slot 'email', which is not declared",
    ),
    Case(
        "response without text",
        "domain.yml",
        BASE["domain.yml"].replace("  - text: Bye!\n", "  - channel: slack\n"),
        21,
        "error",
        "has no text, image or custom",
    ),
    Case(
        "example without dash",
        "data/nlu.yml",
        BASE["data/nlu.yml"].replace("    - bye\n", "    bye\n"),
        9,
        "error",
        "example must start with '- '",
    ),
    Case(
        "entity annotation",
        "data/nlu.yml",
        BASE["data/nlu.yml"].replace("[Ann](name)", '[Ann]{"entity": name}'),
        6,
        "error",
        "is not valid JSON",
    ),
    Case(
        "nlu item kind",
        "data/nlu.yml",
        "nlu:\n- intnet: greet\n  examples: |\n    - hi\n",
        2,
        "error",
        "nlu item needs exactly one of",
    ),
    Case(
        "example under two intents",
        "data/nlu.yml",
        BASE["data/nlu.yml"].replace("    - bye\n", "    - hi\n"),
        9,
        "warning",
        "is listed under intent 'greet' and 'bye'",
    ),
    Case(
        "unknown data key",
        "data/stories.yml",
        "storys:\n- story: s\n",
        1,
        "error",
        "unknown key 'storys'",
    ),
    Case(
        "unknown step",
        "data/stories.yml",
        _story("  - intnet: greet\n"),
        4,
        "error",
        "unknown step 'intnet'",
    ),
    Case(
        "undeclared intent",
        "data/stories.yml",
        _story("  - intent: order_pizza\n  - action: utter_greet\n"),
        4,
        "error",
        "intent 'order_pizza' in story 's' is not declared",
    ),
    Case(
        "undeclared action",
        "data/stories.yml",
        _story("  - intent: greet\n  - action: action_order\n"),
        5,
        "error",
        "action 'action_order' in story 's' is not declared",
    ),
    Case(
        "undefined response",
        "data/stories.yml",
        _story("  - intent: greet\n  - action: utter_welcome\n"),
        5,
        "error",
        "response 'utter_welcome' in story 's' is not defined",
    ),
    Case(
        "undeclared slot",
        "data/stories.yml",
        _story("  - intent: greet\n  - slot_was_set:\n    - age: 3\n  - action: utter_greet\n"),
        5,
        "error",
        "slot 'age' in story 's' is not declared",
    ),
    Case(
        "undeclared form",
        "data/rules.yml",
        BASE["data/rules.yml"].replace("active_loop: name_form", "active_loop: x_form"),
        8,
        "error",
        "form 'x_form' in rule 'form' is not declared",
    ),
    Case(
        "rule flag type",
        "data/rules.yml",
        BASE["data/rules.yml"].replace(
            "- rule: form\n", "- rule: form\n  conversation_start: sometimes\n"
        ),
        4,
        "error",
        "'conversation_start' in rule 'form' must be true or false",
    ),
    Case(
        "unused response",
        "domain.yml",
        BASE["domain.yml"] + "  utter_unused:\n  - text: never\n",
        24,
        "warning",
        "response 'utter_unused' is never used",
    ),
    Case(
        "config component without name",
        "config.yml",
        "pipeline:\n- analyzer: char_wb\n",
        2,
        "error",
        "must be a mapping with a 'name'",
    ),
    Case(
        "unknown config key",
        "config.yml",
        "language: en\npipelines: []\n",
        2,
        "error",
        "unknown key 'pipelines'",
    ),
]


def _write_project(root: Path, override: Case) -> None:
    for name, content in BASE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(override.content if name == override.file else content, encoding="utf-8")
    if override.file not in BASE:
        (root / override.file).write_text(override.content, encoding="utf-8")


def test_base_project_is_clean(tmp_path: Path) -> None:
    for name, content in BASE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    assert [str(p) for p in validate_project(tmp_path)] == []


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_broken_file_is_reported_with_file_line_and_problem(tmp_path: Path, case: Case) -> None:
    _write_project(tmp_path, case)
    problems = validate_project(tmp_path)
    matching = [p for p in problems if case.message in p.message]
    assert matching, f"no problem mentions {case.message!r}; got: {[str(p) for p in problems]}"
    problem = matching[0]
    assert problem.location.path == tmp_path / case.file
    assert problem.location.line == case.line, str(problem)
    assert problem.severity == case.severity


def test_cli_prints_problems_and_exits_non_zero_without_traceback(tmp_path: Path) -> None:
    _write_project(tmp_path, CASES[0])
    result = subprocess.run(
        [sys.executable, "-m", "parley.cli.main", "data", "validate", "--project", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert f"{tmp_path / 'domain.yml'}:4:" in result.stdout
    assert ": error: YAML syntax error" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_file_that_is_not_utf8_is_an_error_not_a_crash(tmp_path: Path) -> None:
    _write_project(tmp_path, CASES[0])
    (tmp_path / "domain.yml").write_bytes(b"intents:\n- gr\xffeet\n")
    problems = validate_project(tmp_path)
    assert any(
        "not valid UTF-8" in p.message and p.location.path.name == "domain.yml" for p in problems
    )


def test_unreadable_domain_does_not_flood_with_undeclared_names(tmp_path: Path) -> None:
    _write_project(tmp_path, CASES[0])
    problems = validate_project(tmp_path)
    assert [p.message.split(":")[0] for p in problems] == ["YAML syntax error"]
