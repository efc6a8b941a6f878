from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from parley.agent import Agent
from parley.dialogue.custom import CustomActionRunner
from parley.dialogue.model import DialogueModel
from parley.project import load_project
from tests.conftest import EXAMPLES

AgentFactory = Callable[..., Agent]


def write_project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


@pytest.fixture
def make_agent(tmp_path: Path) -> AgentFactory:
    """An Agent trained (dialogue only) on a project folder, or on files written to tmp."""

    def build(
        project: Path | dict[str, str],
        runner: CustomActionRunner | None = None,
        **stores: object,
    ) -> Agent:
        root = project if isinstance(project, Path) else write_project(tmp_path / "bot", project)
        model = DialogueModel.train(load_project(root))
        model.persist(tmp_path / "dialogue")
        return Agent(DialogueModel.load(tmp_path / "dialogue"), action_runner=runner, **stores)  # type: ignore[arg-type]

    return build


@pytest.fixture
def moodbot() -> Path:
    return EXAMPLES / "moodbot"


@pytest.fixture
def helpdesk() -> Path:
    return EXAMPLES / "helpdesk"


def texts(messages: list[dict]) -> list[str | None]:
    return [m.get("text") for m in messages]
