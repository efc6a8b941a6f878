"""The Agent: one path for every message, from any channel, through a trained model.

Per conversation the Agent takes the lock (with its fencing token, which the store checks when
the turn appends), brings its tracker up to date (a recently used
tracker is kept with the store position it reflects, and only the events stored after that
position are loaded — another replica may have added them), lets the processor run the turn,
appends only the turn's new events in one call, then publishes them to the event broker.
Events the engine creates carry `metadata.model_id` and `metadata.event_id`.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from parley.dialogue.custom import CustomActionRunner
from parley.dialogue.event_checks import check_events, loadable_events
from parley.dialogue.events import (
    ActionExecuted,
    BotUttered,
    ConversationResumed,
    Event,
    EventDict,
    ReminderScheduled,
    UserUttered,
    events_from_dicts,
    new_event_id,
    stamp,
)
from parley.dialogue.intent_message import parse_intent_message
from parley.dialogue.model import DialogueModel
from parley.dialogue.policies import PolicyError
from parley.dialogue.processor import Processor
from parley.dialogue.reminders import (
    REMINDER_KEY,
    ReminderScheduler,
    killed_by_user,
    pending_reminders,
)
from parley.dialogue.slots import slot_defaults
from parley.dialogue.tracker import ACTION_LISTEN, Tracker
from parley.ids import check_sender_id
from parley.models.archive import ModelManifest, unpack_archive
from parley.observability.pii import Redactor
from parley.observability.tracing import Tracing
from parley.project.domain import Domain
from parley.stores.base import (
    EventBroker,
    LeasedToken,
    LockStore,
    StorePosition,
    TrackerStore,
)
from parley.stores.errors import FencedError
from parley.stores.memory import InMemoryLockStore, InMemoryTrackerStore
from parley.tracker_cache import TrackerCache

logger = logging.getLogger(__name__)

EXTERNAL_PREFIX = "EXTERNAL: "  # text of messages triggered by the API or reminders (Rasa's)
HANDOFF_RELEASED = "handoff_released"


Outbound = Callable[[str, str | None, list[dict[str, Any]]], Awaitable[Any]]


class AgentError(Exception):
    """The model cannot be loaded or the request cannot be served."""


class Interpreter(Protocol):
    def parse(self, text: str) -> dict[str, Any]: ...


def _load_interpreter(folder: Path) -> Interpreter | None:
    try:
        from parley.nlu import Interpreter as NLUInterpreter  # type: ignore[attr-defined]
    except ImportError:
        logger.warning("The model has an NLU part but parley.nlu is not available.")
        return None
    interpreter: Interpreter = NLUInterpreter.from_folder(folder)
    return interpreter


class Agent:
    """Handles messages of many conversations with one model; safe to share across tasks."""

    def __init__(
        self,
        model: DialogueModel,
        manifest: ModelManifest | None = None,
        interpreter: Interpreter | None = None,
        *,
        tracker_store: TrackerStore | None = None,
        lock_store: LockStore | None = None,
        action_runner: CustomActionRunner | None = None,
        event_broker: EventBroker | None = None,
        tracker_cache_size: int | None = None,
        tracker_cache_events: int | None = None,
        tracing: Tracing | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.model = model
        self.manifest = manifest
        self.interpreter = interpreter
        self.tracker_store: TrackerStore = tracker_store or InMemoryTrackerStore()
        self.lock_store: LockStore = lock_store or InMemoryLockStore()
        self.action_runner = action_runner
        self.event_broker = event_broker
        self.tracing = tracing or Tracing.off()
        self.redactor = redactor  # learns PII entity values from NLU results (for logs)
        self.processor = Processor(model, action_runner, self.tracing)
        self.reminders = ReminderScheduler(self._fire_reminder)
        self.trackers = TrackerCache(tracker_cache_size, tracker_cache_events)
        # where the bot's messages of a fired reminder go: (sender, latest input channel, messages)
        self.outbound: Outbound | None = None

    @classmethod
    def load(
        cls,
        model_path: Path | str,
        *,
        tracker_store: TrackerStore | None = None,
        lock_store: LockStore | None = None,
        action_runner: CustomActionRunner | None = None,
        event_broker: EventBroker | None = None,
        tracing: Tracing | None = None,
        redactor: Redactor | None = None,
        tracker_cache_size: int | None = None,
        tracker_cache_events: int | None = None,
    ) -> Agent:
        """An Agent for a model archive (`models/<id>.tar.gz`); in-memory stores by default;
        its tracker cache keeps `tracker_cache_size` conversations of at most
        `tracker_cache_events` events together (None: `tracker_cache`'s defaults)."""
        path = Path(model_path)
        with tempfile.TemporaryDirectory(prefix="parley-agent-") as tmp:
            try:
                manifest, folder = unpack_archive(path, Path(tmp) / "model")
            except Exception as exc:
                raise AgentError(f"cannot load model {path}: {exc}") from None
            if "dialogue" not in manifest.parts:
                raise AgentError(
                    f"model {path.name} has no dialogue part; train it with `parley train`"
                )
            try:
                model = DialogueModel.load(folder / "dialogue")
            except PolicyError as exc:
                raise AgentError(f"cannot load model {path}: {exc}") from None
            interpreter = _load_interpreter(folder / "nlu") if "nlu" in manifest.parts else None
            shutil.rmtree(folder, ignore_errors=True)
        return cls(
            model,
            manifest,
            interpreter,
            tracker_store=tracker_store,
            lock_store=lock_store,
            action_runner=action_runner,
            event_broker=event_broker,
            tracker_cache_size=tracker_cache_size,
            tracker_cache_events=tracker_cache_events,
            tracing=tracing,
            redactor=redactor,
        )

    @property
    def model_id(self) -> str | None:
        return self.manifest.model_id if self.manifest else None

    @property
    def domain(self) -> Domain:
        return self.model.domain

    # -- parsing -----------------------------------------------------------------------------

    async def parse(self, text: str) -> dict[str, Any]:
        """Rasa's parse result for `text`: `/intent{...}` directly, otherwise through NLU."""
        parsed = parse_intent_message(text) if text.startswith("/") else None
        if parsed is None and self.interpreter is not None:
            with self.tracing.span("parley.nlu.parse", {"parley.text": self.tracing.text(text)}):
                parsed = dict(self.interpreter.parse(text))
        if parsed is not None:
            if self.redactor is not None:
                self.redactor.learn(parsed)
            return parsed
        return {
            "text": text,
            "intent": {"name": None, "confidence": 0.0},
            "entities": [],
            "intent_ranking": [],
        }

    # -- conversations -----------------------------------------------------------------------

    async def _load(self, sender_id: str) -> Tracker:
        check_sender_id(sender_id)
        stored = loadable_events(await self.tracker_store.load(sender_id) or [], sender_id)
        # stores hand out fresh dicts (decoded or copied): the events may keep them
        events = events_from_dicts(stored, copy_values=False)
        return Tracker(sender_id, slot_defaults(self.domain), events)

    async def _checkout(self, sender_id: str) -> tuple[Tracker, StorePosition | None]:
        """The conversation's tracker, up to date with the store (call under its lock): the
        cached one plus the events stored since, or one rebuilt from all events."""
        cached = self.trackers.take(sender_id)
        with self.tracing.span(
            "parley.tracker.load", {"parley.tracker.cached": cached is not None}
        ):
            loaded = await self.tracker_store.load_after(
                sender_id, cached.position if cached else None
            )
        # stores hand out fresh dicts (decoded or copied): the events may keep them
        events = events_from_dicts(loadable_events(loaded.events, sender_id), copy_values=False)
        if cached is None or loaded.complete:
            return Tracker(sender_id, slot_defaults(self.domain), events), loaded.position
        cached.tracker.update_all(events)
        return cached.tracker, loaded.position

    async def _save(
        self,
        tracker: Tracker,
        new: list[Event],
        position: StorePosition | None = None,
        fence: int | None = None,
    ) -> None:
        """Store and publish the turn's events; the tracker goes back to the cache when the
        store confirms nobody else wrote in between (`position` is where it was loaded).
        `fence`: the lock's fencing token (FencedError if the lock was taken over)."""
        if not new:
            self.trackers.put(tracker.sender_id, tracker, position)
            return
        if isinstance(fence, LeasedToken) and not fence.held():
            # paused past the lease (another turn may have taken over): write nothing
            raise FencedError(tracker.sender_id, fence, lease_ran_out=True)
        dicts = [e.as_dict(copy=False) for e in new]  # only serialised by stores and brokers
        with self.tracing.span("parley.tracker.save", {"parley.events": len(dicts)}):
            reached = await self.tracker_store.append(tracker.sender_id, dicts, fence=fence)
        expected = (position.sequence if position else 0) + len(new)
        if (
            reached is not None
            and reached.sequence == expected
            and (position is None or position.generation == reached.generation)
        ):
            self.trackers.put(tracker.sender_id, tracker, reached)
        if self.event_broker is not None:
            with self.tracing.span("parley.broker.publish"):
                await self.event_broker.publish(tracker.sender_id, dicts)
        self.reminders.apply(tracker.sender_id, new)

    def _messages(self, sender_id: str, new: list[Event]) -> list[dict[str, Any]]:
        return [e.message(sender_id) for e in new if isinstance(e, BotUttered)]

    async def get_tracker(self, sender_id: str) -> Tracker:
        """The conversation's tracker (empty when it has no events yet)."""
        return await self._load(sender_id)

    async def _user_turn(
        self,
        sender_id: str,
        message: UserUttered,
        only_if: Callable[[Tracker], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """One turn under the conversation's lock; `only_if` may call it off after looking at
        the tracker (decided under the lock, so two processes cannot both go ahead)."""
        check_sender_id(sender_id)
        async with self.tracing.locked(self.lock_store.lock(sender_id)) as fence:
            tracker, position = await self._checkout(sender_id)
            if only_if is not None and not only_if(tracker):
                self.trackers.put(sender_id, tracker, position)
                return []
            new = await self.processor.handle_user(tracker, message)
            stamp(new, self.model_id)
            self.tracing.stamp(new)
            await self._save(tracker, new, position, fence)
        return self._messages(sender_id, new)

    def _turn_span(self, sender_id: str, channel: str | None, kind: str) -> Any:
        return self.tracing.span(
            "parley.turn",
            {
                "parley.conversation_id": sender_id,
                "parley.channel": channel,
                "parley.turn.kind": kind,
                "parley.model_id": self.model_id,
            },
        )

    async def handle_message(
        self,
        sender_id: str,
        text: str,
        metadata: dict[str, Any] | None = None,
        input_channel: str | None = None,
        message_id: str | None = None,
        once: bool = False,
    ) -> list[dict[str, Any]]:
        """Process one user message; return the bot's messages (Rasa REST channel shape).

        With `once`, a message whose `message_id` the conversation already holds (a platform
        retrying its webhook, to this replica or another) is skipped: decided under the
        conversation's lock, it returns no messages."""
        with self._turn_span(sender_id, input_channel, "message"):
            return await self._handle_message(
                sender_id, text, metadata, input_channel, message_id, once
            )

    async def _handle_message(
        self,
        sender_id: str,
        text: str,
        metadata: dict[str, Any] | None,
        input_channel: str | None,
        message_id: str | None,
        once: bool,
    ) -> list[dict[str, Any]]:
        parse = await self.parse(text)
        message_id = message_id or new_event_id()
        parse["message_id"] = message_id
        parse["metadata"] = dict(metadata or {})
        message = UserUttered(
            text=text,
            parse_data=parse,
            input_channel=input_channel,
            message_id=message_id,
            metadata=dict(metadata or {}),
        )
        if once and message_id:
            return await self._user_turn(
                sender_id, message, only_if=lambda tracker: not _holds_message(tracker, message_id)
            )
        return await self._user_turn(sender_id, message)

    async def trigger_intent(
        self,
        sender_id: str,
        intent: str,
        entities: list[dict[str, Any]] | dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        output_channel: str | None = None,
    ) -> list[dict[str, Any]]:
        """Act as if the user expressed `intent` (Rasa's external events / reminders). The
        event keeps the channel the user spoke on last; `output_channel` (`latest` or a channel
        name) also sends the bot's messages there (`outbound`), as Rasa's API does."""
        with self._turn_span(sender_id, None, "external"):
            message = external_message(intent, entities, metadata)
            messages = await self._external_turn(sender_id, message)
        if output_channel and messages and self.outbound is not None:
            channel = message.input_channel if output_channel == "latest" else output_channel
            await self.outbound(sender_id, channel, messages)
        return messages

    async def _external_turn(
        self,
        sender_id: str,
        message: UserUttered,
        only_if: Callable[[Tracker], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """A turn of an external message, which takes the user's latest input channel."""

        def go_ahead(tracker: Tracker) -> bool:
            if only_if is not None and not only_if(tracker):
                return False
            message.input_channel = tracker.latest_input_channel
            return True

        return await self._user_turn(sender_id, message, only_if=go_ahead)

    async def execute_action(
        self,
        sender_id: str,
        action_name: str,
        policy: str | None = None,
        confidence: float | None = None,
    ) -> list[dict[str, Any]]:
        """Run one action in the conversation now (Rasa's `execute` endpoint)."""
        check_sender_id(sender_id)
        with self._turn_span(sender_id, None, "execute"):
            async with self.tracing.locked(self.lock_store.lock(sender_id)) as fence:
                tracker, position = await self._checkout(sender_id)
                start = len(tracker.events)
                await self.processor.update_session(tracker)
                await self.processor.run_action(tracker, action_name, policy, confidence)
                new = stamp(tracker.events[start:], self.model_id)
                self.tracing.stamp(new)
                await self._save(tracker, new, position, fence)
        return self._messages(sender_id, new)

    async def predict_next(self, sender_id: str) -> dict[str, Any]:
        """Scores of the next action without running it (Rasa's `predict` endpoint)."""
        tracker = await self._load(sender_id)
        prediction = self.processor.predict(tracker)
        scores = sorted(prediction.probabilities.items(), key=lambda kv: -kv[1])
        return {
            "scores": [{"action": a, "score": s} for a, s in scores],
            "policy": prediction.policy_name,
            "confidence": prediction.confidence,
            "tracker": tracker.current_state(),
        }

    async def append_events(self, sender_id: str, events: list[EventDict]) -> Tracker:
        """Add events to a conversation (Rasa's `POST /conversations/<id>/tracker/events`).

        Raises EventCheckError (a ValueError) and stores nothing when any event is bad."""
        check_sender_id(sender_id)
        parsed = events_from_dicts(check_events(events, self.domain))
        for event in parsed:
            event.metadata.setdefault("event_id", new_event_id())
        async with self.lock_store.lock(sender_id) as fence:
            tracker, position = await self._checkout(sender_id)
            tracker.update_all(parsed)
            result = tracker.copy()  # once saved, the tracker belongs to the cache
            await self._save(tracker, parsed, position, fence)
        return result

    async def replace_events(self, sender_id: str, events: list[EventDict]) -> Tracker:
        """Replace a conversation's events (Rasa's `PUT /conversations/<id>/tracker/events`).

        Raises EventCheckError (a ValueError) and changes nothing when any event is bad."""
        check_sender_id(sender_id)
        parsed = events_from_dicts(check_events(events, self.domain))
        async with self.lock_store.lock(sender_id) as fence:
            self.trackers.discard(sender_id)
            await self.tracker_store.delete(sender_id)
            tracker = Tracker(sender_id, slot_defaults(self.domain), parsed)
            result = tracker.copy()
            await self._save(tracker, parsed, fence=fence)
        return result

    async def release_handoff(self, sender_id: str) -> Tracker:
        """A human agent is done: the bot answers this conversation again."""
        check_sender_id(sender_id)
        async with self.lock_store.lock(sender_id) as fence:
            tracker, position = await self._checkout(sender_id)
            if not tracker.paused:
                result = tracker.copy()
                self.trackers.put(sender_id, tracker, position)
                return result
            start = len(tracker.events)
            tracker.update(ConversationResumed(metadata={HANDOFF_RELEASED: True}))
            tracker.update(ActionExecuted(name=ACTION_LISTEN))
            result = tracker.copy()
            await self._save(tracker, stamp(tracker.events[start:], self.model_id), position, fence)
        return result

    # -- reminders ---------------------------------------------------------------------------

    async def _fire_reminder(self, sender_id: str, reminder: ReminderScheduled) -> None:
        """Fire `reminder` unless it was cancelled, already fired (by this or another process:
        every worker schedules every pending reminder) or killed by the user speaking; its
        messages go to the channel the user spoke on last (`outbound`), as in Rasa."""
        message = external_message(
            reminder.intent, reminder.entities, {REMINDER_KEY: reminder.name}
        )

        def still_due(tracker: Tracker) -> bool:
            if reminder.name not in {r.name for r in pending_reminders(tracker.events)}:
                return False
            if killed_by_user(tracker.events, reminder):
                logger.info(
                    "Reminder '%s' of %s dropped: the user spoke.", reminder.name, sender_id
                )
                return False
            return True

        messages = await self._external_turn(sender_id, message, only_if=still_due)
        if messages and self.outbound is not None:
            await self.outbound(sender_id, message.input_channel, messages)

    async def restore_reminders(self) -> int:
        """Schedule reminders still due in stored conversations (call once after start)."""
        count = 0
        for sender_id in await self.tracker_store.senders():
            stored = loadable_events(await self.tracker_store.load(sender_id) or [], sender_id)
            for reminder in pending_reminders(events_from_dicts(stored)):
                self.reminders.schedule(sender_id, reminder)
                count += 1
        return count

    async def close(self) -> None:
        await self.reminders.close()


def _holds_message(tracker: Tracker, message_id: str, window: int = 200) -> bool:
    """Whether one of the conversation's last `window` events is the user message `message_id`
    (platform retries come within minutes, so the recent events are enough)."""
    return any(
        isinstance(event, UserUttered) and event.message_id == message_id
        for event in tracker.events[-window:]
    )


def external_message(
    intent: str,
    entities: list[dict[str, Any]] | dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> UserUttered:
    """The user message of an external event: `intent` with confidence 1 (Rasa's shape)."""
    if isinstance(entities, dict):
        entities = [{"entity": k, "value": v} for k, v in entities.items()]
    text = f"{EXTERNAL_PREFIX}{intent}"
    parse: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "intent_ranking": [{"name": intent, "confidence": 1.0}],
        "entities": list(entities or []),
    }
    return UserUttered(
        text=text, parse_data=parse, metadata={"is_external": True, **(metadata or {})}
    )
