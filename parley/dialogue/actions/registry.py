"""Finding the action behind a name: built-in, response, form, or custom (remote)."""

from __future__ import annotations

from parley.dialogue.actions.base import Action
from parley.dialogue.actions.builtin import (
    BOT_TEXT_PREFIX,
    ActionBack,
    ActionDeactivateLoop,
    ActionDefaultFallback,
    ActionExtractSlots,
    ActionListen,
    ActionNoop,
    ActionRestart,
    ActionSessionStart,
    BotTextAction,
    ResponseAction,
)
from parley.dialogue.actions.fallback import (
    AskAffirmation,
    AskRephrase,
    HandoffToHuman,
    TwoStageFallback,
)
from parley.dialogue.actions.forms import FormAction
from parley.dialogue.actions.remote import RemoteAction
from parley.project.domain import Domain

BUILTINS: dict[str, type] = {
    "action_listen": ActionListen,
    "action_restart": ActionRestart,
    "action_session_start": ActionSessionStart,
    "action_default_fallback": ActionDefaultFallback,
    "action_deactivate_loop": ActionDeactivateLoop,
    "action_back": ActionBack,
    "action_extract_slots": ActionExtractSlots,
    "action_two_stage_fallback": TwoStageFallback,
    "action_default_ask_affirmation": AskAffirmation,
    "action_default_ask_rephrase": AskRephrase,
    "action_handoff_to_human": HandoffToHuman,
}
NOOPS = ("action_unlikely_intent", "action_revert_fallback_events")


def resolve_action(name: str, domain: Domain) -> Action:
    """The action called `name`; unknown non-utter names are custom actions."""
    builtin = BUILTINS.get(name)
    if builtin is not None:
        action: Action = builtin()
        return action
    if name.startswith(BOT_TEXT_PREFIX):
        return BotTextAction(name)
    if name in NOOPS:
        return ActionNoop(name)
    if name in domain.forms:
        return FormAction(name)
    if name.startswith("utter_") and (name in domain.responses or name not in domain.actions):
        return ResponseAction(name)
    return RemoteAction(name)
