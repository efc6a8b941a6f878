"""Train a project into one model archive, part by part, reusing parts whose inputs did not change."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from parley.models.archive import (
    ModelManifest,
    latest_model,
    read_manifest,
    unpack_archive,
    write_archive,
)
from parley.project.loader import Project

logger = logging.getLogger(__name__)


class ModelPart(Protocol):
    """One trainable part of a model (NLU, dialogue); each writes its own folder in the archive."""

    name: str

    def fingerprint(self, project: Project) -> str:
        """Hash of everything this part is trained from."""
        ...

    def train(self, project: Project, folder: Path) -> None:
        """Train and write the part's files (JSON / numpy only) into `folder`."""
        ...


@dataclass(frozen=True)
class TrainingResult:
    model: Path
    trained: tuple[str, ...]
    reused: tuple[str, ...]

    @property
    def skipped(self) -> bool:
        """Nothing changed: the newest model already matches the project."""
        return not self.trained


def default_parts(nlu_progress: Callable[[int, int, str], None] | None = None) -> list[ModelPart]:
    """Every model part Parley knows, in training order; `nlu_progress(done, total, what)` hears
    the NLU pipeline's steps."""
    from parley.nlu.part import NLUPart

    try:
        from parley.dialogue.part import DialoguePart
        from parley.dialogue.story_turns import story_turns
    except ImportError:  # dialogue engine not installed in this build
        return [NLUPart(nlu_progress)]
    # The NLU learns the stories' end-to-end texts; the dialogue engine finds them.
    return [NLUPart(nlu_progress, story_turns=story_turns), DialoguePart()]


def train_project(
    project: Project,
    out_dir: Path,
    parts: list[ModelPart] | None = None,
    force: bool = False,
    on_stage: Callable[[str], None] | None = None,
) -> TrainingResult:
    """Train `parts` (all by default) into `out_dir/<timestamp>.tar.gz`.

    A part whose fingerprint equals the newest model's is copied from it; when every part is
    unchanged no new model is written and the newest is returned. `on_stage` hears each part's
    name before it is trained or reused, then "packaging" before the archive is written.
    """
    stage = on_stage or (lambda _name: None)
    chosen = parts if parts is not None else default_parts()
    fingerprints = {part.name: part.fingerprint(project) for part in chosen}
    previous = latest_model(out_dir)
    previous_manifest = read_manifest(previous) if previous is not None else None
    reusable = {
        name
        for name, value in fingerprints.items()
        if previous_manifest is not None
        and previous_manifest.fingerprints.get(name) == value
        and name in previous_manifest.parts
    }
    if previous is not None and not force and reusable == set(fingerprints):
        assert previous_manifest is not None
        if set(previous_manifest.parts) == set(fingerprints):
            logger.info("Nothing changed since %s; training skipped.", previous.name)
            return TrainingResult(previous, (), tuple(sorted(reusable)))
    if force:
        reusable = set()
    with tempfile.TemporaryDirectory(prefix="parley-train-") as tmp:
        staging = Path(tmp) / "staging"
        staging.mkdir()
        previous_folder: Path | None = None
        if reusable and previous is not None:
            _, previous_folder = unpack_archive(previous, Path(tmp) / "previous")
        trained: list[str] = []
        for part in chosen:
            stage(part.name)
            folder = staging / part.name
            if part.name in reusable and previous_folder is not None:
                shutil.copytree(previous_folder / part.name, folder)
                logger.info(
                    "Part '%s' unchanged; reused from %s.", part.name, previous and previous.name
                )
                continue
            folder.mkdir()
            part.train(project, folder)
            trained.append(part.name)
        stage("packaging")
        manifest = ModelManifest.new(
            fingerprints,
            tuple(p.name for p in chosen),
            assistant_id=project.config.assistant_id,
            language=project.config.language,
        )
        path = write_archive(staging, manifest, out_dir)
    return TrainingResult(path, tuple(trained), tuple(sorted(reusable)))
