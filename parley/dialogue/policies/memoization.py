"""MemoizationPolicy and AugmentedMemoizationPolicy: recall story turns exactly.

The key of a prediction is the JSON of the last `max_history` states (padded at the start), so a
conversation that follows a story word for word gets the story's next action with confidence 1.
The augmented variant also recalls when the conversation's beginning differs: it retries with the
history cut at each earlier user turn, as if the conversation had started there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.dialogue.policies.base import PolicyError, PolicyPrediction, TrainingData
from parley.dialogue.state import State, state_key, states_and_actions
from parley.dialogue.tracker import Tracker
from parley.project.domain import Domain

LOOKUP_FILE = "lookup.json"
_CONFLICT = "\x00conflict"


def window(states: list[State], max_history: int) -> list[State | None]:
    recent: list[State | None] = list(states[-max_history:])
    return [None] * (max_history - len(recent)) + recent


@dataclass
class MemoizationPolicy:
    options: dict[str, Any] = field(default_factory=dict)
    lookup: dict[str, str] = field(default_factory=dict)
    name: str = "MemoizationPolicy"
    priority: int = 3

    @property
    def max_history(self) -> int:
        value = self.options.get("max_history", 5)
        return int(value) if value is not None else 5

    def train(self, data: TrainingData) -> None:
        lookup: dict[str, str] = {}
        for _, events in data.stories:
            states, actions = states_and_actions(events, data.domain)
            for index, action in enumerate(actions):
                key = state_key(window(states[: index + 1], self.max_history))
                previous = lookup.get(key)
                lookup[key] = action if previous in (None, action) else _CONFLICT
        self.lookup = {k: v for k, v in lookup.items() if v != _CONFLICT}

    def recall(self, states: list[State]) -> str | None:
        return self.lookup.get(state_key(window(states, self.max_history)))

    def predict(
        self, tracker: Tracker, states: list[State], domain: Domain
    ) -> PolicyPrediction | None:
        action = self.recall(states)
        message = tracker.latest_message
        if action is None and message is not None and message.text and "user" in states[-1]:
            # an end-to-end story step (`user: <text>`) is remembered by its text
            # only the window matters: a long conversation's states are not copied
            recent = states[-self.max_history : -1] if self.max_history else states[:-1]
            by_text = [*recent, {**states[-1], "user": {"text": message.text.strip()}}]
            action = self.recall(by_text)
        if action is None:
            return PolicyPrediction({}, self.name, self.priority)
        return PolicyPrediction({action: 1.0}, self.name, self.priority)

    def persist(self, folder: Path) -> None:
        payload = {"max_history": self.max_history, "lookup": self.lookup}
        (folder / LOOKUP_FILE).write_text(json.dumps(payload), "utf-8")

    @classmethod
    def load(cls, folder: Path, options: dict[str, Any]) -> MemoizationPolicy:
        path = folder / LOOKUP_FILE
        try:
            payload = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise PolicyError(f"cannot read {path}: {exc}; retrain the model") from None
        return cls({**options, "max_history": payload["max_history"]}, dict(payload["lookup"]))


@dataclass
class AugmentedMemoizationPolicy(MemoizationPolicy):
    name: str = "AugmentedMemoizationPolicy"

    def recall(self, states: list[State]) -> str | None:
        found = super().recall(states)
        if found is not None:
            return found
        # forget the beginning: restart the history at each earlier user turn. A restart
        # further back than the window sees the same window as `states`, which found nothing
        first = max(1, len(states) - self.max_history + 1) if self.max_history > 0 else 1
        for start in range(first, len(states) - 1):
            if "user" not in states[start]:
                continue
            found = super().recall([{}, *states[start:]])
            if found is not None:
                return found
        return None
