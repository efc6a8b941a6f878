"""The NLU part of a model archive, for `parley.training.train_project`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from parley.models.fingerprint import fingerprint
from parley.nlu.background import background_digest
from parley.nlu.pipeline import Pipeline, Progress
from parley.nlu.story_examples import StoryTurns, story_examples
from parley.project.loader import Project
from parley.project.nlu_data import RESPONSE_KEY_SEPARATOR, NLUData

logger = logging.getLogger(__name__)


def retrieval_responses(project: Project) -> dict[str, list[dict[str, Any]]]:
    """Domain responses of retrieval intents (`utter_faq/ask_hours`), which the selector returns."""
    return {
        name: [dict(v.raw) for v in variations]
        for name, variations in project.domain.responses.items()
        if RESPONSE_KEY_SEPARATOR in name
    }


def training_data(project: Project, story_turns: StoryTurns | None = None) -> NLUData:
    """The NLU data plus what end-to-end stories teach (see `story_examples`), when given the
    stories' user turns."""
    if story_turns is None:
        return project.nlu
    return project.nlu.merge(NLUData(story_examples(story_turns(project), project.nlu)))


class NLUPart:
    """Trains the pipeline of config.yml on the project's NLU data into the archive's `nlu/`."""

    name = "nlu"

    def __init__(
        self, progress: Progress | None = None, story_turns: StoryTurns | None = None
    ) -> None:
        """`story_turns`: finds the user turns of the project's stories, whose end-to-end texts
        the NLU learns too (`parley.training` gives the dialogue engine's)."""
        self.progress = progress
        self.story_turns = story_turns

    def fingerprint(self, project: Project) -> str:
        config = project.config
        return fingerprint(
            # v2: the default pipeline gained static word vectors; v3: in-domain confidence;
            # v4: the background messages (their digest: a changed corpus retrains); v5: the
            # lowest held-out message no longer sets the confidence anchors alone, and topics
            # are compared in 128 principal directions (misspelt words need no retraining)
            "nlu-v5",
            background_digest(),
            config.language,
            config.pipeline,
            training_data(project, self.story_turns),
            retrieval_responses(project),
        )

    def train(self, project: Project, folder: Path) -> None:
        data = training_data(project, self.story_turns)
        pipeline = Pipeline.train(project.config, data, retrieval_responses(project), self.progress)
        pipeline.persist(folder)
        logger.info(
            "NLU trained on %d examples (%d from end-to-end stories; %d intents).",
            len(data.examples),
            len(data.examples) - len(project.nlu.examples),
            len(data.intents),
        )
