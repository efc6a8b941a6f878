"""Actions: built-in, responses, forms, fallbacks, handoff and custom (remote)."""

from parley.dialogue.action_errors import ActionFailed, ActionRejected
from parley.dialogue.actions.base import Action, ActionContext
from parley.dialogue.actions.registry import resolve_action

__all__ = ["Action", "ActionContext", "ActionFailed", "ActionRejected", "resolve_action"]
