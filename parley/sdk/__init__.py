"""What action authors import: the same names as rasa_sdk, so actions move by one import line."""

from parley.sdk.dispatcher import CollectingDispatcher
from parley.sdk.executor import ActionExecutor
from parley.sdk.forms import REQUESTED_SLOT, FormValidationAction, ValidationAction
from parley.sdk.interfaces import Action, ActionExecutionRejection, ActionNotFoundException
from parley.sdk.tracker import Tracker

__all__ = [
    "REQUESTED_SLOT",
    "Action",
    "ActionExecutionRejection",
    "ActionExecutor",
    "ActionNotFoundException",
    "CollectingDispatcher",
    "FormValidationAction",
    "Tracker",
    "ValidationAction",
]
