"""Engine settings resolved once from config.yml's policies (typed, immutable)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parley.project.config import ComponentConfig

DEFAULT_MAX_ACTIONS = 10


@dataclass(frozen=True)
class DialogueSettings:
    """`max_actions_per_turn` bounds the prediction loop; `fallback_final_action` runs when the
    two-stage fallback gives up (e.g. `action_handoff_to_human`)."""

    max_actions_per_turn: int = DEFAULT_MAX_ACTIONS
    fallback_final_action: str = "action_default_fallback"

    @classmethod
    def from_policies(cls, policies: tuple[ComponentConfig, ...]) -> DialogueSettings:
        options: dict[str, Any] = {}
        for policy in policies:
            if policy.name == "RulePolicy":
                options = dict(policy.options)
        final = str(options.get("two_stage_fallback_final_action", "action_default_fallback"))
        return cls(
            max_actions_per_turn=int(options.get("max_actions_per_turn", DEFAULT_MAX_ACTIONS)),
            fallback_final_action=final,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "max_actions_per_turn": self.max_actions_per_turn,
            "fallback_final_action": self.fallback_final_action,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DialogueSettings:
        return cls(
            int(raw.get("max_actions_per_turn", DEFAULT_MAX_ACTIONS)),
            str(raw.get("fallback_final_action", "action_default_fallback")),
        )
