"""The seam between HTTP handlers and the engine: which engine errors are the caller's fault."""

from __future__ import annotations

import pytest

from parley.dialogue.events import EventError
from parley.server.api_support import call_engine
from parley.server.errors import ApiError


async def _raise(exc: Exception) -> None:
    raise exc


async def test_bad_input_from_the_engine_is_a_400_with_its_message() -> None:
    with pytest.raises(ApiError) as caught:
        await call_engine(_raise(EventError("a 'slot' event needs 'name'")))
    assert caught.value.status == 400
    assert caught.value.message == "a 'slot' event needs 'name'"


async def test_a_key_error_in_the_engine_is_a_bug_not_the_callers_fault() -> None:
    with pytest.raises(KeyError):  # reaches the 500 handler, which logs it
        await call_engine(_raise(KeyError("slots")))
