"""Request bodies of the HTTP API (Rasa's shapes), validated at the boundary."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_ID = 255


class EventVerbosity(StrEnum):
    ALL = "ALL"
    APPLIED = "APPLIED"
    AFTER_RESTART = "AFTER_RESTART"
    NONE = "NONE"


class ParseRequest(BaseModel):
    text: str = Field(description="The text to parse.")
    message_id: str | None = None


class MessageRequest(BaseModel):
    text: str = Field(description="The user's message.")
    sender: Literal["user"] = Field(description="Only user messages can be added: 'user'.")
    parse_data: dict[str, Any] | None = Field(
        default=None, description="Use this parse result instead of running NLU."
    )


class ExecuteRequest(BaseModel):
    name: str = Field(min_length=1, description="The action to run.")
    policy: str | None = None
    confidence: float | None = None


class TriggerIntentRequest(BaseModel):
    name: str = Field(min_length=1, description="The intent to trigger.")
    entities: dict[str, Any] | None = Field(default=None, description="Entity name -> value.")


class ModelRequest(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_file: str | None = Field(default=None, description="Path of a model archive to load.")
    model_server: dict[str, Any] | None = None
    remote_storage: str | None = None


class Event(BaseModel):
    """A Rasa event; fields besides `event` depend on its type and are checked by the engine."""

    model_config = ConfigDict(extra="allow")

    event: str = Field(min_length=1, description="Event type, e.g. 'user', 'slot', 'action'.")
    timestamp: float | None = None
