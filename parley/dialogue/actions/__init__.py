"""Actions: built-in, responses, forms, fallbacks, handoff and custom (remote)."""

from parley.dialogue.actions.base import Action, ActionContext, ActionFailed, ActionRejectedError
from parley.dialogue.actions.registry import resolve_action

__all__ = ["Action", "ActionContext", "ActionFailed", "ActionRejectedError", "resolve_action"]
