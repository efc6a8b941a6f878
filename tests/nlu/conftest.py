from __future__ import annotations

from pathlib import Path

import pytest

from parley.nlu import Interpreter, load
from parley.nlu.part import NLUPart
from parley.project import Project, load_project
from parley.training import train_project

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "nlubot"


@pytest.fixture(scope="session")
def nlubot() -> Project:
    return load_project(FIXTURE)


@pytest.fixture(scope="session")
def nlubot_model(nlubot: Project, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nlubot-models")
    return train_project(nlubot, out, parts=[NLUPart()]).model


@pytest.fixture(scope="session")
def interpreter(nlubot_model: Path) -> Interpreter:
    return load(nlubot_model)
