"""The agent being served, and swapping it for a new model without dropping requests.

Each request takes `holder.agent` once at its start and finishes on that agent; a swap loads the
new model off the event loop, then replaces the reference in one step. Stores are shared by the
old and new agent, so per-conversation locks still order turns across a swap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from parley.project.domain import Domain

logger = logging.getLogger(__name__)

RELEASE_DELAY_SECONDS = 30.0  # requests still on a replaced model finish before it is freed


class ServedAgent(Protocol):
    """What the server needs from `parley.agent.Agent`."""

    @property
    def model_id(self) -> str | None: ...

    @property
    def domain(self) -> Domain: ...

    async def handle_message(
        self,
        sender_id: str,
        text: str,
        metadata: dict[str, Any] | None = None,
        input_channel: str | None = None,
    ) -> list[dict[str, Any]]: ...

    async def parse(self, text: str) -> dict[str, Any]: ...

    async def get_tracker(self, sender_id: str) -> Any: ...

    async def trigger_intent(
        self, sender_id: str, intent: str, entities: dict[str, Any] | list[Any] | None
    ) -> Any: ...

    async def execute_action(self, sender_id: str, action_name: str) -> Any: ...

    async def predict_next(self, sender_id: str) -> Any: ...

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> Any: ...

    async def replace_events(self, sender_id: str, events: list[dict[str, Any]]) -> Any: ...

    async def release_handoff(self, sender_id: str) -> Any: ...

    async def close(self) -> None: ...


AgentLoader = Callable[[Path], ServedAgent]


class ModelSwapError(Exception):
    """A new model could not be loaded; the previous one keeps serving."""


class AgentHolder:
    """Holds the agent in service; `swap()` replaces it with one loaded from another model."""

    def __init__(
        self,
        agent: ServedAgent,
        model_path: Path | None,
        loader: AgentLoader | None = None,
        on_load: Callable[[ServedAgent], None] | None = None,
        on_release: Callable[[], int] | None = None,
        release_delay: float = RELEASE_DELAY_SECONDS,
    ) -> None:
        self._agent = agent
        self._on_release = on_release
        self._release_delay = release_delay
        self._releases: set[asyncio.Task[None]] = set()
        self._model_path = model_path
        self._loader = loader
        self._on_load = on_load
        self._swap_lock = asyncio.Lock()
        if on_load is not None:
            on_load(agent)

    @property
    def agent(self) -> ServedAgent:
        return self._agent

    @property
    def model_path(self) -> Path | None:
        return self._model_path

    async def swap(self, model_path: Path) -> ServedAgent:
        """Load `model_path` and serve it; raises ModelSwapError and keeps the old model."""
        if self._loader is None:
            raise ModelSwapError("this server was started without a way to load models")
        async with self._swap_lock:  # two swaps at once would race for the last word
            try:
                agent = await asyncio.to_thread(self._loader, model_path)
            except Exception as exc:
                raise ModelSwapError(f"cannot load model {model_path}: {exc}") from exc
            old, self._agent = self._agent, agent
            self._model_path = model_path
            if self._on_load is not None:
                self._on_load(agent)
            logger.info("now serving model %s", agent.model_id)
            await _start(agent)
            await old.close()  # stops its timers; requests still on it finish normally
            del old
            if self._on_release is not None:
                release = asyncio.create_task(self._release(self._on_release))
                self._releases.add(release)
                release.add_done_callback(self._releases.discard)
            return agent

    async def _release(self, on_release: Callable[[], int]) -> None:
        """Once requests still on the replaced agent are done, let the process free it (a
        serving process froze it out of the cyclic collector: `process.release_replaced`)."""
        await asyncio.sleep(self._release_delay)
        logger.info("released the previous model (%d objects)", on_release())


async def restore_at_start(holder: AgentHolder) -> None:
    """Resume the served agent's background work once the server runs (reminders still due),
    logging rather than failing: a store hiccup must not stop the server from serving."""
    try:
        await _start(holder.agent)
    except Exception:
        logger.exception("could not restore the reminders due in stored conversations")


async def _start(agent: ServedAgent) -> None:
    """Background work an agent resumes after loading (reminders due in stored conversations)."""
    restore = getattr(agent, "restore_reminders", None)
    if restore is not None:
        await restore()
