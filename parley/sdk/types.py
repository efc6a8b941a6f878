"""Type names action authors know from rasa_sdk.types."""

from __future__ import annotations

from typing import Any

DomainDict = dict[str, Any]
TrackerState = dict[str, Any]
