"""The dialogue part of a model archive (`parley train`)."""

from __future__ import annotations

from pathlib import Path

from parley.dialogue.model import DialogueModel
from parley.models.fingerprint import fingerprint
from parley.project.loader import Project

FORMAT_VERSION = 1  # bump when the stored files change shape


class DialoguePart:
    """Policies trained on stories and rules, plus the domain as JSON."""

    name = "dialogue"

    def fingerprint(self, project: Project) -> str:
        return fingerprint(
            FORMAT_VERSION,
            project.config.policies,
            project.domain,
            project.stories,
            project.rules,
        )

    def train(self, project: Project, folder: Path) -> None:
        DialogueModel.train(project).persist(folder)
