"""Random ids (events, messages, requests) without a system call per id.

`uuid.uuid4()` reads `os.urandom`, which releases the GIL: on a busy server every id then waits
to take it back (measured at a tenth of a message's CPU time). These ids are 128 bits from a
generator seeded from `os.urandom` at start and again in every forked child, so workers never
share a sequence; written as 32 hex digits like `uuid4().hex`. They identify, they do not
protect: never use them as secrets or tokens (use `secrets` for those).
"""

from __future__ import annotations

import os
import random

_generator = random.Random()
os.register_at_fork(after_in_child=_generator.seed)


def random_id() -> str:
    """32 hex digits, unique for every practical purpose (128 random bits)."""
    return f"{_generator.getrandbits(128):032x}"
