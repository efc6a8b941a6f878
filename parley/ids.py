"""Random ids (events, messages, requests) without a system call per id, and the rule every
conversation (sender) id follows.

`uuid.uuid4()` reads `os.urandom`, which releases the GIL: on a busy server every id then waits
to take it back (measured at a tenth of a message's CPU time). These ids are 128 bits from a
generator seeded from `os.urandom` at start and again in every forked child, so workers never
share a sequence; written as 32 hex digits like `uuid4().hex`. They identify, they do not
protect: never use them as secrets or tokens (use `secrets` for those).
"""

from __future__ import annotations

import os
import random
import re

_generator = random.Random()
os.register_at_fork(after_in_child=_generator.seed)


def random_id() -> str:
    """32 hex digits, unique for every practical purpose (128 random bits)."""
    return f"{_generator.getrandbits(128):032x}"


MAX_SENDER_ID = 255  # characters; the SQL stores' column is VARCHAR(255)
SENDER_ID_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]+$"  # as JSON Schema / OpenAPI spell the rule
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def sender_id_problem(sender_id: object) -> str | None:
    """What is wrong with a conversation (sender) id, or None when every channel and store can
    use it: 1 to 255 characters of valid Unicode, no control characters (NUL, newlines...)."""
    if not isinstance(sender_id, str):
        return f"must be a string, not {type(sender_id).__name__}"
    if not sender_id or len(sender_id) > MAX_SENDER_ID:
        return f"must be 1 to {MAX_SENDER_ID} characters long (it has {len(sender_id)})"
    if _CONTROL.search(sender_id):
        return "must not contain control characters (NUL, tab, newline, ...)"
    if not sender_id.isascii():
        try:
            sender_id.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid Unicode text (it holds a lone surrogate)"
    return None


def check_sender_id(sender_id: str) -> str:
    """`sender_id` when it is usable (see `sender_id_problem`); ValueError saying why not."""
    problem = sender_id_problem(sender_id)
    if problem is not None:
        raise ValueError(f"the conversation id {problem}")
    return sender_id
