"""Checks on what callers send, shared by every channel and the HTTP API: the user's text (its
length and its Unicode) and the conversation id. Each failure is an ApiError with the status
and a message that says what to change."""

from __future__ import annotations

import logging

from parley.ids import sender_id_problem
from parley.server.errors import ApiError

logger = logging.getLogger(__name__)


def text_problem(text: str, limit: int) -> tuple[int, str] | None:
    """(status, message) when `text` cannot be parsed: longer than `limit` characters, or not
    valid Unicode (a lone surrogate, which JSON can spell as "\\ud800"); None when fine."""
    if len(text) > limit:
        return 413, (
            f"The message is {len(text)} characters long; this server accepts at most {limit}"
            " (server.max_message_chars in parley.yml)."
        )
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return 400, "The text is not valid Unicode: it holds a lone surrogate."
    return None


def check_text(text: str, limit: int, where: str) -> None:
    """ApiError(413) for a message over `limit` characters (logged), ApiError(400) for text
    that is not valid Unicode (see `text_problem`)."""
    problem = text_problem(text, limit)
    if problem is None:
        return
    status, message = problem
    if status == 413:
        logger.warning(
            "refused a message of %d characters on %s (limit %d)", len(text), where, limit
        )
        raise ApiError(413, message, reason="MessageTooLong")
    raise ApiError(status, message)


def check_conversation_id(sender_id: str) -> str:
    """ApiError(400) unless `sender_id` follows the conversation id rule (`parley.ids`)."""
    problem = sender_id_problem(sender_id)
    if problem is not None:
        raise ApiError(400, f"The conversation id {problem}.", details={"field": "sender"})
    return sender_id
