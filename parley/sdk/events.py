"""Event helpers for action authors: each returns the event as Rasa event JSON (a dict).

Same names, arguments and output as `rasa_sdk.events`, so actions move over by changing
the import line.
"""

from __future__ import annotations

import datetime
from typing import Any

EventType = dict[str, Any]


def SlotSet(key: str, value: Any = None, timestamp: float | None = None) -> EventType:
    return {"event": "slot", "timestamp": timestamp, "name": key, "value": value}


def AllSlotsReset(timestamp: float | None = None) -> EventType:
    return {"event": "reset_slots", "timestamp": timestamp}


def FollowupAction(name: str, timestamp: float | None = None) -> EventType:
    return {"event": "followup", "timestamp": timestamp, "name": name}


def Restarted(timestamp: float | None = None) -> EventType:
    return {"event": "restart", "timestamp": timestamp}


def SessionStarted(timestamp: float | None = None) -> EventType:
    return {"event": "session_started", "timestamp": timestamp}


def UserUtteranceReverted(timestamp: float | None = None) -> EventType:
    return {"event": "rewind", "timestamp": timestamp}


def ActionReverted(timestamp: float | None = None) -> EventType:
    return {"event": "undo", "timestamp": timestamp}


def ConversationPaused(timestamp: float | None = None) -> EventType:
    return {"event": "pause", "timestamp": timestamp}


def ConversationResumed(timestamp: float | None = None) -> EventType:
    return {"event": "resume", "timestamp": timestamp}


def StoryExported(timestamp: float | None = None) -> EventType:
    return {"event": "export", "timestamp": timestamp}


def UserUttered(
    text: str | None,
    parse_data: dict[str, Any] | None = None,
    timestamp: float | None = None,
    input_channel: str | None = None,
) -> EventType:
    return {
        "event": "user",
        "timestamp": timestamp,
        "text": text,
        "parse_data": parse_data,
        "input_channel": input_channel,
    }


def BotUttered(
    text: str | None = None,
    data: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    timestamp: float | None = None,
) -> EventType:
    return {
        "event": "bot",
        "timestamp": timestamp,
        "text": text,
        "data": data,
        "metadata": metadata,
    }


def ActionExecuted(
    action_name: str,
    policy: str | None = None,
    confidence: float | None = None,
    timestamp: float | None = None,
) -> EventType:
    return {
        "event": "action",
        "name": action_name,
        "policy": policy,
        "confidence": confidence,
        "timestamp": timestamp,
    }


def ActiveLoop(name: str | None, timestamp: float | None = None) -> EventType:
    return {"event": "active_loop", "name": name, "timestamp": timestamp}


def LoopInterrupted(is_interrupted: bool, timestamp: float | None = None) -> EventType:
    return {"event": "loop_interrupted", "is_interrupted": is_interrupted, "timestamp": timestamp}


def ActionExecutionRejected(
    action_name: str,
    policy: str | None = None,
    confidence: float | None = None,
    timestamp: float | None = None,
) -> EventType:
    return {
        "event": "action_execution_rejected",
        "name": action_name,
        "policy": policy,
        "confidence": confidence,
        "timestamp": timestamp,
    }


def ReminderScheduled(
    intent_name: str,
    trigger_date_time: datetime.datetime,
    entities: list[dict[str, Any]] | dict[str, str] | None = None,
    name: str | None = None,
    kill_on_user_message: bool = True,
    timestamp: float | None = None,
) -> EventType:
    return {
        "event": "reminder",
        "timestamp": timestamp,
        "intent": intent_name,
        "entities": entities,
        "date_time": trigger_date_time.isoformat(),
        "name": name,
        "kill_on_user_msg": kill_on_user_message,
    }


def ReminderCancelled(
    name: str | None = None,
    intent_name: str | None = None,
    entities: list[dict[str, Any]] | dict[str, str] | None = None,
    timestamp: float | None = None,
) -> EventType:
    return {
        "event": "cancel_reminder",
        "timestamp": timestamp,
        "intent": intent_name,
        "entities": entities,
        "name": name,
    }
