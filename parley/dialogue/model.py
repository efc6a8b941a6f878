"""A trained dialogue model: the domain, the policy ensemble and the engine settings."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from parley.dialogue.domain_json import domain_from_json, domain_to_json
from parley.dialogue.policies import PolicyEnsemble, PolicyError, TrainingData, build_policies
from parley.dialogue.settings import DialogueSettings
from parley.dialogue.training_data import training_stories
from parley.project.domain import Domain
from parley.project.loader import Project

logger = logging.getLogger(__name__)

DOMAIN_FILE = "domain.json"
SETTINGS_FILE = "settings.json"
POLICIES_DIR = "policies"


@dataclass
class DialogueModel:
    domain: Domain
    ensemble: PolicyEnsemble
    settings: DialogueSettings

    @classmethod
    def train(cls, project: Project) -> DialogueModel:
        """Train the configured policies on the project's stories and rules."""
        ensemble = PolicyEnsemble(build_policies(project.config.policies))
        stories = training_stories(project.stories)
        ensemble.train(TrainingData(stories, project.rules, project.domain))
        logger.info(
            "Dialogue trained: %d story paths, %d rules, policies: %s",
            len(stories),
            len(project.rules),
            ", ".join(p.name for p in ensemble.policies),
        )
        return cls(
            project.domain, ensemble, DialogueSettings.from_policies(project.config.policies)
        )

    def persist(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / DOMAIN_FILE).write_text(
            json.dumps(domain_to_json(self.domain), indent=1, ensure_ascii=False), "utf-8"
        )
        (folder / SETTINGS_FILE).write_text(json.dumps(self.settings.as_json()), "utf-8")
        self.ensemble.persist(folder / POLICIES_DIR)

    @classmethod
    def load(cls, folder: Path) -> DialogueModel:
        try:
            domain = domain_from_json(json.loads((folder / DOMAIN_FILE).read_text("utf-8")))
            settings = DialogueSettings.from_json(
                json.loads((folder / SETTINGS_FILE).read_text("utf-8"))
            )
        except (OSError, ValueError, KeyError) as exc:
            raise PolicyError(f"the dialogue model in {folder} is unreadable: {exc}") from None
        return cls(domain, PolicyEnsemble.load(folder / POLICIES_DIR), settings)
