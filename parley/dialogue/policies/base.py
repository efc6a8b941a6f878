"""What every policy is: trained on stories/rules, predicts the next action from the states."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from parley.dialogue.events import Event
from parley.dialogue.state import State
from parley.dialogue.tracker import Tracker
from parley.project.domain import Domain
from parley.project.stories import Rule

StoryEvents = list[tuple[str, list[Event]]]


class PolicyError(Exception):
    """A policy is misconfigured or its persisted files are unusable."""


@dataclass(frozen=True)
class PolicyPrediction:
    """A policy's scores for actions; the best one is `action` with `confidence`."""

    probabilities: dict[str, float]
    policy_name: str
    priority: int
    is_rule: bool = False
    events: tuple[Event, ...] = field(default=())

    @property
    def action(self) -> str | None:
        if not self.probabilities:
            return None
        return max(self.probabilities.items(), key=lambda kv: kv[1])[0]

    @property
    def confidence(self) -> float:
        return max(self.probabilities.values(), default=0.0)

    def without(self, action: str) -> PolicyPrediction:
        probabilities = {k: v for k, v in self.probabilities.items() if k != action}
        return PolicyPrediction(
            probabilities, self.policy_name, self.priority, self.is_rule, self.events
        )


@dataclass(frozen=True)
class TrainingData:
    stories: StoryEvents
    rules: tuple[Rule, ...]
    domain: Domain


class Policy(Protocol):
    name: str
    priority: int

    def train(self, data: TrainingData) -> None: ...

    def predict(
        self, tracker: Tracker, states: list[State], domain: Domain
    ) -> PolicyPrediction | None: ...

    def persist(self, folder: Path) -> None: ...

    @classmethod
    def load(cls, folder: Path, options: dict[str, Any]) -> Policy: ...
