"""The policy ensemble: every configured policy predicts, the best prediction wins (as Rasa)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.dialogue.policies.base import Policy, PolicyError, PolicyPrediction, TrainingData
from parley.dialogue.policies.memoization import AugmentedMemoizationPolicy, MemoizationPolicy
from parley.dialogue.policies.rule import RulePolicy
from parley.dialogue.policies.ted import TEDPolicy
from parley.dialogue.state import tracker_states
from parley.dialogue.tracker import ACTION_LISTEN, Tracker
from parley.project.config import ComponentConfig
from parley.project.domain import Domain

if TYPE_CHECKING:
    from parley.observability.tracing import Tracing

logger = logging.getLogger(__name__)

POLICIES: dict[str, Any] = {
    "RulePolicy": RulePolicy,
    "MemoizationPolicy": MemoizationPolicy,
    "AugmentedMemoizationPolicy": AugmentedMemoizationPolicy,
    "TEDPolicy": TEDPolicy,
}
IGNORED = ("UnexpecTEDIntentPolicy",)  # Rasa's intent-anomaly policy: no effect on actions here
DEFAULT_POLICIES = (
    ComponentConfig("MemoizationPolicy"),
    ComponentConfig("RulePolicy"),
    ComponentConfig("TEDPolicy", {"max_history": 5}),
)
MANIFEST = "policies.json"


def _by_priority(policy: Policy) -> int:
    return -policy.priority


def build_policies(configs: tuple[ComponentConfig, ...]) -> list[Policy]:
    """Policies from config.yml's `policies:` (Rasa's defaults when empty)."""
    chosen = configs or DEFAULT_POLICIES
    policies: list[Policy] = []
    for config in chosen:
        if config.name in IGNORED:
            logger.info("Policy %s has no effect in Parley; skipped.", config.name)
            continue
        cls = POLICIES.get(config.name)
        if cls is None:
            where = f" ({config.location})" if config.location else ""
            raise PolicyError(
                f"unknown policy '{config.name}'{where}; use one of: {', '.join(POLICIES)}"
            )
        policies.append(cls(dict(config.options)))
    return policies


@dataclass
class PolicyEnsemble:
    policies: list[Policy]

    @property
    def rule_policy(self) -> RulePolicy | None:
        return next((p for p in self.policies if isinstance(p, RulePolicy)), None)

    def train(self, data: TrainingData) -> None:
        for policy in self.policies:
            policy.train(data)

    def predict(
        self, tracker: Tracker, domain: Domain, tracing: Tracing | None = None
    ) -> PolicyPrediction:
        """The winner: highest confidence, ties broken by priority; listen when nobody knows.

        Policies are asked in order of priority (config order among equals), and once one is
        certain (confidence 1) the rest are not asked: none of them could win. Most turns are
        decided by a rule or a memorized story, and the ML policy's work is skipped for them."""
        states = tracker_states(tracker, domain)
        rejected = tracker.rejected_action()
        best: PolicyPrediction | None = None
        for policy in sorted(self.policies, key=_by_priority):
            if best is not None and best.confidence >= 1.0 and policy.priority <= best.priority:
                break
            if tracing is None:
                prediction = policy.predict(tracker, states, domain)
            else:
                with tracing.span("parley.policy", {"parley.policy": policy.name}):
                    prediction = policy.predict(tracker, states, domain)
            if prediction is None:
                continue
            if rejected is not None:
                prediction = prediction.without(rejected)
            if prediction.action is None or prediction.confidence <= 0.0:
                continue
            if best is None or (prediction.confidence, prediction.priority) > (
                best.confidence,
                best.priority,
            ):
                best = prediction
        if best is None:
            return PolicyPrediction({ACTION_LISTEN: 1.0}, "none", 0)
        return best

    def persist(self, folder: Path) -> None:
        entries = []
        for index, policy in enumerate(self.policies):
            sub = folder / f"{index}_{policy.name}"
            sub.mkdir(parents=True, exist_ok=True)
            policy.persist(sub)
            options = getattr(policy, "options", {})
            entries.append({"name": policy.name, "folder": sub.name, "options": options})
        (folder / MANIFEST).write_text(json.dumps(entries, indent=1), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> PolicyEnsemble:
        try:
            entries = json.loads((folder / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise PolicyError(f"cannot read {folder / MANIFEST}: {exc}; retrain") from None
        policies: list[Policy] = []
        for entry in entries:
            policy_cls = POLICIES.get(entry["name"])
            if policy_cls is None:
                raise PolicyError(f"model has unknown policy '{entry['name']}'; retrain")
            policies.append(policy_cls.load(folder / entry["folder"], entry.get("options", {})))
        return cls(policies)
