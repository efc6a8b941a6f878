"""Load a trained NLU model and parse messages into Rasa's parse-result JSON."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from parley.models.archive import unpack_archive
from parley.nlu.component import NLUError
from parley.nlu.pipeline import Pipeline

NLU_FOLDER = "nlu"


class Interpreter:
    """A loaded NLU pipeline. `parse` is thread-safe: every call works on its own message."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    @classmethod
    def from_folder(cls, folder: Path) -> Interpreter:
        """An unpacked `nlu/` folder of a model archive."""
        return cls(Pipeline.load(Path(folder)))

    def parse(self, text: str) -> dict[str, Any]:
        """`{text, intent, entities, intent_ranking, response_selector}` as Rasa returns it."""
        return self.pipeline.parse(text)


def load(model_path: Path | str) -> Interpreter:
    """The NLU part of a model archive (`models/<time>.tar.gz`), or an unpacked model folder."""
    path = Path(model_path)
    if path.is_dir():
        folder = path / NLU_FOLDER if (path / NLU_FOLDER).is_dir() else path
        return Interpreter.from_folder(folder)
    if not path.is_file():
        raise NLUError(f"no model at {path}; train one with `parley train nlu`")
    with tempfile.TemporaryDirectory(prefix="parley-nlu-") as tmp:
        manifest, folder = unpack_archive(path, Path(tmp))
        if NLU_FOLDER not in manifest.parts:
            raise NLUError(f"model {path.name} has no NLU part; train one with `parley train nlu`")
        return Interpreter.from_folder(folder / NLU_FOLDER)
