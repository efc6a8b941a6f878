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


_TRAINED: dict[Path, Path] = {}  # example project -> persisted dialogue model (per session)


@pytest.fixture
def make_agent(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> AgentFactory:
    """An Agent trained (dialogue only) on a project folder, or on files written to tmp.

    Models of example projects are trained once per session; each Agent has fresh stores.
    """

    def build(
        project: Path | dict[str, str],
        runner: CustomActionRunner | None = None,
        **stores: object,
    ) -> Agent:
        if isinstance(project, Path) and project in _TRAINED:
            folder = _TRAINED[project]
        else:
            root = (
                project if isinstance(project, Path) else write_project(tmp_path / "bot", project)
            )
            folder = tmp_path_factory.mktemp("dialogue")
            DialogueModel.train(load_project(root)).persist(folder)
            if isinstance(project, Path):
                _TRAINED[project] = folder
        return Agent(DialogueModel.load(folder), action_runner=runner, **stores)  # type: ignore[arg-type]

    return build


@pytest.fixture
def moodbot() -> Path:
    return EXAMPLES / "moodbot"


@pytest.fixture
def helpdesk() -> Path:
    return EXAMPLES / "helpdesk"


def texts(messages: list[dict]) -> list[str | None]:
    return [m.get("text") for m in messages]
