"""Model swaps: the new model serves at once, the replaced one is freed afterwards."""

from __future__ import annotations

import asyncio
import gc
import weakref
from pathlib import Path

from parley.agent import Agent
from parley.server.process import freeze_loaded, release_replaced
from parley.server.runtime import AgentHolder, ServedAgent
from tests.server.helpdesk import GREETING, helpdesk_model


def _load(path: Path) -> ServedAgent:
    agent: ServedAgent = Agent.load(path)
    return agent


async def test_a_swapped_out_model_is_freed_once_its_requests_are_done() -> None:
    model = helpdesk_model()
    holder = AgentHolder(
        _load(model), model, _load, on_release=release_replaced, release_delay=0.05
    )
    freeze_loaded()  # as a serving process does once its model is loaded
    try:
        first = weakref.ref(holder.agent)
        assert (await holder.agent.handle_message("u", "hi"))[0]["text"].startswith(GREETING)
        for _ in range(3):
            await holder.swap(model)
        await asyncio.sleep(0.3)  # the release after each swap has run
        assert first() is None  # not kept alive by the frozen generation
        assert (await holder.agent.handle_message("u", "hi"))[0]["text"].startswith(GREETING)
        assert gc.get_freeze_count() > 0  # the model in service stays frozen
    finally:
        gc.unfreeze()  # the rest of the test session keeps Python's defaults


def test_loading_a_model_leaves_the_process_garbage_collector_alone() -> None:
    """`parley shell`, `parley test` and notebooks load models too: no process-wide tuning."""
    before = gc.get_freeze_count(), gc.get_threshold()
    Agent.load(helpdesk_model())
    assert (gc.get_freeze_count(), gc.get_threshold()) == before
