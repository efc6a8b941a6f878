"""Reminders: `reminder` events schedule an intent; `cancel_reminder` events cancel them.

The scheduler keeps one asyncio task per (conversation, reminder name). Which reminders are
still due is derived from the stored events alone (scheduled, not cancelled, not fired), so a
restarted server finds them again by scanning its tracker store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from parley.dialogue.events import Event, ReminderCancelled, ReminderScheduled, UserUttered

logger = logging.getLogger(__name__)

REMINDER_KEY = "reminder"  # metadata key of the user event a fired reminder creates
Fire = Callable[[str, ReminderScheduled], Awaitable[Any]]


def due_time(reminder: ReminderScheduled) -> float:
    """Epoch seconds of `date_time` (ISO 8601; without a zone it is local time, as in Rasa)."""
    try:
        return datetime.fromisoformat(reminder.date_time).timestamp()
    except (TypeError, ValueError):
        logger.error("Reminder '%s' has a bad date_time %r", reminder.name, reminder.date_time)
        return time.time()


def cancels(cancel: ReminderCancelled, reminder: ReminderScheduled) -> bool:
    """Rasa's rule: every given attribute must match; none given cancels all."""
    return (
        (not cancel.name or cancel.name == reminder.name)
        and (not cancel.intent or cancel.intent == reminder.intent)
        and (not cancel.entities or cancel.entities == reminder.entities)
    )


def pending_reminders(events: Iterable[Event]) -> list[ReminderScheduled]:
    """Reminders scheduled in `events` that were neither cancelled nor fired."""
    pending: dict[str, ReminderScheduled] = {}
    for event in events:
        if isinstance(event, ReminderScheduled):
            pending[event.name] = event
        elif isinstance(event, ReminderCancelled):
            pending = {k: r for k, r in pending.items() if not cancels(event, r)}
        elif isinstance(event, UserUttered) and event.metadata.get(REMINDER_KEY):
            pending.pop(str(event.metadata[REMINDER_KEY]), None)
    return list(pending.values())


def killed_by_user(events: Iterable[Event], reminder: ReminderScheduled) -> bool:
    """A user spoke after the reminder was set and it is `kill_on_user_msg`."""
    if not reminder.kill_on_user_msg:
        return False
    return any(
        isinstance(e, UserUttered)
        and e.timestamp > reminder.timestamp
        and not e.metadata.get("is_external")
        for e in events
    )


class ReminderScheduler:
    """Runs `fire(sender_id, reminder)` at each reminder's time, in the running event loop."""

    def __init__(self, fire: Fire) -> None:
        self._fire = fire
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}

    def apply(self, sender_id: str, events: Iterable[Event]) -> None:
        """Schedule and cancel according to a turn's new events."""
        for event in events:
            if isinstance(event, ReminderScheduled):
                self.schedule(sender_id, event)
            elif isinstance(event, ReminderCancelled):
                for key in [k for k in self._tasks if k[0] == sender_id]:
                    task = self._tasks[key]
                    reminder = getattr(task, "reminder", None)
                    if isinstance(reminder, ReminderScheduled) and cancels(event, reminder):
                        self._tasks.pop(key).cancel()

    def schedule(self, sender_id: str, reminder: ReminderScheduled) -> None:
        key = (sender_id, reminder.name)
        previous = self._tasks.pop(key, None)
        if previous is not None:
            previous.cancel()  # same name: the newest wins
        task = asyncio.get_running_loop().create_task(self._run(sender_id, reminder))
        task.reminder = reminder  # type: ignore[attr-defined]
        self._tasks[key] = task

    async def _run(self, sender_id: str, reminder: ReminderScheduled) -> None:
        delay = max(0.0, due_time(reminder) - time.time())
        await asyncio.sleep(delay)
        self._tasks.pop((sender_id, reminder.name), None)
        try:
            await self._fire(sender_id, reminder)
        except Exception:  # a failing reminder must not kill the scheduler
            logger.exception("Reminder '%s' of %s failed", reminder.name, sender_id)

    @property
    def scheduled(self) -> list[tuple[str, str]]:
        return sorted(self._tasks)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
