from __future__ import annotations

import json
from pathlib import Path

from parley.models import read_manifest, unpack_archive
from parley.project import NLUData, NLUExample, Project
from parley.training import train_project


class CountingPart:
    """A model part that records its training input, to observe what the trainer reuses."""

    def __init__(self, name: str, source: str) -> None:
        self.name = name
        self.source = source
        self.trainings = 0

    def fingerprint(self, project: Project) -> str:
        return getattr(project.nlu, self.source)[0].text if self.source == "examples" else "fixed"

    def train(self, project: Project, folder: Path) -> None:
        self.trainings += 1
        (folder / "data.json").write_text(json.dumps({"n": self.trainings}))


def _project(text: str) -> Project:
    return Project(root=Path("."), nlu=NLUData((NLUExample(text, "greet"),)))


def test_unchanged_project_skips_training_and_changed_part_retrains_alone(tmp_path: Path) -> None:
    changing, fixed = CountingPart("nlu", "examples"), CountingPart("dialogue", "none")
    first = train_project(_project("hi"), tmp_path, [changing, fixed])
    assert first.trained == ("nlu", "dialogue")
    again = train_project(_project("hi"), tmp_path, [changing, fixed])
    assert again.skipped and again.model == first.model
    changed = train_project(_project("hello"), tmp_path, [changing, fixed])
    assert changed.trained == ("nlu",) and changed.reused == ("dialogue",)
    assert changed.model != first.model
    _, folder = unpack_archive(changed.model)
    assert json.loads((folder / "dialogue" / "data.json").read_text()) == {"n": 1}
    assert read_manifest(changed.model).parts == ("nlu", "dialogue")


def test_force_retrains_everything(tmp_path: Path) -> None:
    part = CountingPart("nlu", "examples")
    train_project(_project("hi"), tmp_path, [part])
    result = train_project(_project("hi"), tmp_path, [part], force=True)
    assert result.trained == ("nlu",) and part.trainings == 2
