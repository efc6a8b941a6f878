"""The ML policy, accepted under Rasa's name TEDPolicy: featurised history -> linear classifier.

Each of the last `max_history` states becomes sparse features tagged with its distance from now
(`1|prev=utter_greet`), plus distance-free, recency-weighted copies (`*|intent=greet`) that let it
generalise to story paths it never saw. A multinomial logistic regression (scikit-learn) is
trained on every story turn; its weights are stored as numpy arrays and prediction is a numpy
softmax, so loading a model never unpickles anything.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from parley.dialogue.events import Event
from parley.dialogue.policies.base import PolicyError, PolicyPrediction, TrainingData
from parley.dialogue.state import State, states_and_actions
from parley.dialogue.tracker import Tracker
from parley.project.domain import Domain

WEIGHTS_FILE = "ted_weights.npz"
MAX_GLUED = 400
META_FILE = "ted.json"


def state_features(state: State | None, tag: str, weight: float) -> dict[str, float]:
    if state is None:
        return {f"{tag}|none": weight}
    feats: dict[str, float] = {}
    prev = state.get("prev_action") or {}
    if prev.get("action_name"):
        feats[f"{tag}|prev={prev['action_name']}"] = weight
    elif prev.get("action_text"):
        feats[f"{tag}|prevtext={prev['action_text']}"] = weight
    user = state.get("user") or {}
    if user.get("intent"):
        feats[f"{tag}|intent={user['intent']}"] = weight
    for label in user.get("entities", ()):
        feats[f"{tag}|entity={label}"] = weight
    for word in str(user.get("text") or "").lower().split():
        feats[f"{tag}|word={word}"] = weight
    loop = (state.get("active_loop") or {}).get("name")
    if loop:
        feats[f"{tag}|loop={loop}"] = weight
    for name, value in (state.get("slots") or {}).items():
        feats[f"{tag}|slot={name}:{value}"] = weight
    if not feats:
        feats[f"{tag}|empty"] = weight
    if tag == "0":  # what to do now depends on the pair (last action, what the user said)
        pair = f"{prev.get('action_name')}&{user.get('intent')}&{loop}"
        feats[f"0|pair={pair}"] = weight
    return feats


def history_features(states: list[State], max_history: int) -> dict[str, float]:
    padding: list[State | None] = [None] * max(0, max_history - len(states))
    recent: list[State | None] = [*padding, *states[-max_history:]]
    feats: dict[str, float] = {}
    for distance, state in enumerate(reversed(recent)):
        feats.update(state_features(state, str(distance), 1.0))
        if distance > 0:
            for key, value in state_features(state, "*", 1.0 / (distance + 1)).items():
                feats[key] = max(feats.get(key, 0.0), value)
    return feats


@dataclass
class TEDPolicy:
    """ML dialogue policy (priority 1); options: max_history, C (regularisation), epochs."""

    options: dict[str, Any] = field(default_factory=dict)
    vocabulary: dict[str, int] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    coef: np.ndarray | None = None
    intercept: np.ndarray | None = None
    name: str = "TEDPolicy"
    priority: int = 1

    @property
    def max_history(self) -> int:
        value = self.options.get("max_history")
        return int(value) if value is not None else 5

    def _vector(self, feats: dict[str, float]) -> np.ndarray:
        row = np.zeros(len(self.vocabulary), dtype=np.float64)
        for key, value in feats.items():
            index = self.vocabulary.get(key)
            if index is not None:
                row[index] = value
        return row

    def _glued_stories(self, data: TrainingData) -> list[list[Event]]:
        """Stories as written plus random pairs glued end to start (Rasa's augmentation), so
        the policy also learns each story's turns in the middle of a conversation."""
        stories = [events for _, events in data.stories]
        factor = int(self.options.get("augmentation_factor", 10))
        if len(stories) < 2 or factor <= 0:
            return stories
        rng = random.Random(int(self.options.get("random_seed", 1)))
        glued = list(stories)
        for _ in range(min(factor * len(stories), MAX_GLUED)):
            first, second = rng.choice(stories), rng.choice(stories)
            glued.append([*first, *second[1:]])  # the second story's opening listen is shared
        return glued

    def train(self, data: TrainingData) -> None:
        samples: list[tuple[dict[str, float], str]] = []
        seen: set[str] = set()
        for events in self._glued_stories(data):
            states, actions = states_and_actions(events, data.domain)
            for index, action in enumerate(actions):
                feats = history_features(states[: index + 1], self.max_history)
                key = json.dumps([feats, action], sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    samples.append((feats, action))
        self.classes = sorted({a for _, a in samples})
        self.vocabulary = {}
        for feats, _ in samples:
            for key in feats:
                self.vocabulary.setdefault(key, len(self.vocabulary))
        if len(self.classes) < 2:
            # nothing to choose between: always the one action seen (or nothing)
            self.coef = np.zeros((len(self.classes), len(self.vocabulary)))
            self.intercept = np.ones(len(self.classes))
            return
        from sklearn.linear_model import LogisticRegression

        x = np.vstack([self._vector(f) for f, _ in samples])
        y = np.array([self.classes.index(a) for _, a in samples])
        model = LogisticRegression(C=float(self.options.get("C", 20.0)), max_iter=2000)
        model.fit(x, y)
        coef = np.asarray(model.coef_, dtype=np.float64)
        intercept = np.asarray(model.intercept_, dtype=np.float64)
        if len(self.classes) == 2:  # binary models keep one row; make it a softmax over two
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        self.coef, self.intercept = coef, intercept

    def probabilities(self, states: list[State]) -> dict[str, float]:
        if self.coef is None or self.intercept is None or not self.classes:
            return {}
        row = self._vector(history_features(states, self.max_history))
        scores = self.coef @ row + self.intercept
        scores = np.exp(scores - scores.max())
        probs = scores / scores.sum()
        return {c: float(p) for c, p in zip(self.classes, probs, strict=True)}

    def predict(
        self, tracker: Tracker, states: list[State], domain: Domain
    ) -> PolicyPrediction | None:
        return PolicyPrediction(self.probabilities(states), self.name, self.priority)

    def persist(self, folder: Path) -> None:
        meta = {
            "max_history": self.max_history,
            "classes": self.classes,
            "vocabulary": self.vocabulary,
        }
        (folder / META_FILE).write_text(json.dumps(meta), "utf-8")
        coef = self.coef if self.coef is not None else np.zeros((0, 0))
        intercept = self.intercept if self.intercept is not None else np.zeros(0)
        np.savez(folder / WEIGHTS_FILE, coef=coef, intercept=intercept)

    @classmethod
    def load(cls, folder: Path, options: dict[str, Any]) -> TEDPolicy:
        try:
            meta = json.loads((folder / META_FILE).read_text("utf-8"))
            with np.load(folder / WEIGHTS_FILE, allow_pickle=False) as arrays:
                coef, intercept = arrays["coef"], arrays["intercept"]
        except (OSError, ValueError, KeyError) as exc:
            raise PolicyError(f"cannot read the TEDPolicy files in {folder}: {exc}") from None
        return cls(
            {**options, "max_history": meta["max_history"]},
            dict(meta["vocabulary"]),
            list(meta["classes"]),
            coef,
            intercept,
        )
