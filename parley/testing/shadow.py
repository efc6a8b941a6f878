"""Shadow evaluation: what a candidate model would have done on real conversations.

The user messages of stored conversations go through the candidate offline, turn by turn, with
the conversation as production had it up to that message (what the user saw). For each message
the candidate's intent and entities are compared with production's parse, and the action the
candidate would run next (after its own parse and slot extraction) with the action production
ran. Nothing is stored and no action runs.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from parley.agent import EXTERNAL_PREFIX, Agent
from parley.dialogue.events import ActionExecuted, Event, UserUttered, events_from_dicts
from parley.dialogue.slots import slot_defaults
from parley.dialogue.tracker import ACTION_LISTEN, Tracker
from parley.stores.base import TrackerStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TurnDiff:
    """One user message where the candidate differs from production."""

    sender_id: str
    event_index: int  # of the user event in the conversation
    text: str
    production_intent: str | None
    candidate_intent: str | None
    production_entities: tuple[tuple[str, str], ...]
    candidate_entities: tuple[tuple[str, str], ...]
    production_action: str | None
    candidate_action: str | None

    @property
    def changed(self) -> tuple[str, ...]:
        parts = []
        if self.production_intent != self.candidate_intent:
            parts.append("intent")
        if self.production_entities != self.candidate_entities:
            parts.append("entities")
        if self.production_action != self.candidate_action:
            parts.append("action")
        return tuple(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "sender_id": self.sender_id,
            "event_index": self.event_index,
            "text": self.text,
            "changed": list(self.changed),
            "production": {
                "intent": self.production_intent,
                "entities": [list(e) for e in self.production_entities],
                "action": self.production_action,
            },
            "candidate": {
                "intent": self.candidate_intent,
                "entities": [list(e) for e in self.candidate_entities],
                "action": self.candidate_action,
            },
        }


@dataclass
class ShadowReport:
    conversations: int = 0
    turns: int = 0
    diffs: list[TurnDiff] = field(default_factory=list)

    def per_intent(self) -> dict[str, int]:
        """Differing turns per production intent."""
        counts = Counter(d.production_intent or "(none)" for d in self.diffs)
        return dict(counts.most_common())

    def to_json(self, sample: int = 20) -> dict[str, Any]:
        kinds = Counter(kind for d in self.diffs for kind in d.changed)
        return {
            "conversations": self.conversations,
            "turns": self.turns,
            "differing_turns": len(self.diffs),
            "by_kind": dict(kinds),
            "by_production_intent": self.per_intent(),
            "sample": [d.to_json() for d in self.diffs[:sample]],
        }


def _entities(parse: dict[str, Any] | None) -> tuple[tuple[str, str], ...]:
    found = (parse or {}).get("entities") or []
    return tuple(
        sorted((str(e.get("entity")), str(e.get("value"))) for e in found if isinstance(e, dict))
    )


def _intent(parse: dict[str, Any] | None) -> str | None:
    intent = (parse or {}).get("intent") or {}
    name = intent.get("name") if isinstance(intent, dict) else None
    return str(name) if name else None


def _next_action(events: Sequence[Event], after: int) -> str | None:
    for event in events[after + 1 :]:
        if isinstance(event, UserUttered):
            return None
        if isinstance(event, ActionExecuted):
            return event.name or event.action_text
    return None


async def shadow_conversation(
    candidate: Agent, sender_id: str, stored: list[dict[str, Any]], report: ShadowReport
) -> None:
    events = events_from_dicts(stored)
    report.conversations += 1
    for index, event in enumerate(events):
        if not isinstance(event, UserUttered) or not event.text:
            continue
        if event.text.startswith(EXTERNAL_PREFIX):  # reminders and external events
            continue
        report.turns += 1
        parse = await candidate.parse(event.text)
        tracker = Tracker(sender_id, slot_defaults(candidate.domain), list(events[:index]))
        if tracker.latest_action_name != ACTION_LISTEN:
            tracker.update(ActionExecuted(name=ACTION_LISTEN))
        tracker.update(
            UserUttered(
                text=event.text,
                parse_data=parse,
                input_channel=event.input_channel,
                message_id=event.message_id,
            )
        )
        await candidate.processor.extract_slots(tracker)
        prediction = candidate.processor.predict(tracker)
        diff = TurnDiff(
            sender_id=sender_id,
            event_index=index,
            text=event.text,
            production_intent=_intent(event.parse_data),
            candidate_intent=_intent(parse),
            production_entities=_entities(event.parse_data),
            candidate_entities=_entities(parse),
            production_action=_next_action(events, index),
            candidate_action=prediction.action,
        )
        if diff.changed:
            report.diffs.append(diff)


async def latest_senders(store: TrackerStore, limit: int) -> list[tuple[str, list[dict[str, Any]]]]:
    """The `limit` conversations with the most recent activity, with their events."""
    loaded: list[tuple[float, str, list[dict[str, Any]]]] = []
    for sender_id in await store.senders():
        events = await store.load(sender_id) or []
        if events:
            loaded.append((float(events[-1].get("timestamp") or 0.0), sender_id, events))
    loaded.sort(key=lambda item: item[0], reverse=True)
    return [(sender, events) for _, sender, events in loaded[:limit]]


async def shadow_evaluate(candidate: Agent, store: TrackerStore, limit: int = 1000) -> ShadowReport:
    """Replay the user messages of the last `limit` conversations through `candidate`."""
    report = ShadowReport()
    for sender_id, events in await latest_senders(store, limit):
        try:
            await shadow_conversation(candidate, sender_id, events, report)
        except Exception:
            logger.exception("shadow evaluation skipped conversation %s", sender_id)
    return report
