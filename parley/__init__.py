"""Parley: production conversational assistants from Rasa-format projects."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
