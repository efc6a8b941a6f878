from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from parley.project import load_project
from parley.training import train_project

TrainedModel = Callable[[Path], Path]


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    """The model archive (NLU + dialogue) of a project folder, trained once per session."""
    models: dict[Path, Path] = {}

    def model(project: Path) -> Path:
        if project not in models:
            out = tmp_path_factory.mktemp(f"models-{project.name}")
            models[project] = train_project(load_project(project), out).model
        return models[project]

    return model
