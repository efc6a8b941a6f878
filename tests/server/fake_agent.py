"""A tiny stand-in engine used until parley.agent lands on main (replaced then)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from parley.stores.memory import InMemoryLockStore, InMemoryTrackerStore


class _Event(dict[str, Any]):
    def as_dict(self) -> dict[str, Any]:
        return dict(self)


class _Tracker:
    def __init__(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        self.sender_id = sender_id
        self.events = events

    def applied_events(self) -> list[_Event]:
        return [_Event(e) for e in self.events]

    def current_state(self, include_events: Any = True) -> dict[str, Any]:
        events = list(self.events) if include_events else None
        return {"sender_id": self.sender_id, "slots": {}, "events": events}


class EchoAgent:
    model_id = "echo-model"

    def __init__(self, delay: float = 0.0) -> None:
        self.tracker_store = InMemoryTrackerStore()
        self.lock_store = InMemoryLockStore()
        self.delay = delay
        self.handled: list[tuple[str, str]] = []

    async def parse(self, text: str) -> dict[str, Any]:
        intent = "greet" if text.strip().lower() in ("hi", "hello") else "nlu_fallback"
        return {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}

    async def handle_message(
        self, sender_id: str, text: str, metadata: Any = None, input_channel: Any = None
    ) -> list[dict[str, Any]]:
        async with self.lock_store.lock(sender_id):
            self.handled.append((sender_id, text))
            if self.delay:
                await asyncio.sleep(self.delay)
            parse = await self.parse(text)
            reply = (
                "Hi! I'm the help desk." if parse["intent"]["name"] == "greet" else f"echo: {text}"
            )
            events = [
                {"event": "user", "text": text, "parse_data": parse, "timestamp": time.time()},
                {"event": "bot", "text": reply, "timestamp": time.time()},
            ]
            await self.tracker_store.append(sender_id, events)
            return [{"recipient_id": sender_id, "text": reply}]

    async def get_tracker(self, sender_id: str) -> _Tracker:
        return _Tracker(sender_id, await self.tracker_store.load(sender_id) or [])

    async def append_events(self, sender_id: str, events: Sequence[dict[str, Any]]) -> _Tracker:
        for e in events:
            if e["event"] not in ("user", "bot", "slot", "action", "restart"):
                raise ValueError(f"unknown event type '{e['event']}'")
        await self.tracker_store.append(sender_id, events)
        return await self.get_tracker(sender_id)

    async def replace_events(self, sender_id: str, events: Sequence[dict[str, Any]]) -> _Tracker:
        await self.tracker_store.delete(sender_id)
        return await self.append_events(sender_id, events)

    async def trigger_intent(
        self, sender_id: str, intent: str, entities: Any
    ) -> list[dict[str, Any]]:
        return [{"recipient_id": sender_id, "text": f"intent {intent}"}]

    async def execute_action(self, sender_id: str, action_name: str) -> list[dict[str, Any]]:
        if not action_name.startswith("utter_"):
            raise ValueError(f"unknown action '{action_name}'")
        return [{"recipient_id": sender_id, "text": action_name}]

    async def predict_next(self, sender_id: str) -> dict[str, Any]:
        return {
            "scores": [{"action": "action_listen", "score": 1.0}],
            "policy": "x",
            "confidence": 1.0,
        }

    async def release_handoff(self, sender_id: str) -> _Tracker:
        await self.tracker_store.append(sender_id, [{"event": "action", "name": "action_listen"}])
        return await self.get_tracker(sender_id)

    async def close(self) -> None:
        return None
