"""One interactive-learning conversation: the engine's own turn steps, each confirmed or
corrected by the person teaching, recorded as a story and NLU examples.

The session drives the processor step by step (session start, the message with the confirmed
parse, slot extraction, then one predicted action at a time) instead of `handle_message`, so the
teacher can change the intent, the entities or any action before it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parley.agent import Agent
from parley.dialogue.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SlotSet,
    UserUttered,
    new_event_id,
)
from parley.dialogue.policies import PolicyPrediction
from parley.dialogue.slots import slot_defaults
from parley.dialogue.tracker import ACTION_LISTEN, Tracker
from parley.interactive.recorder import RecordedStory
from parley.project.entities import EntityAnnotation


@dataclass(frozen=True)
class Suggestion:
    """What the model proposes for a message."""

    intent: str | None
    confidence: float
    ranking: list[tuple[str, float]]
    entities: tuple[EntityAnnotation, ...]


class InteractiveSession:
    def __init__(self, agent: Agent, story_name: str, sender_id: str = "interactive") -> None:
        self.agent = agent
        self.tracker = Tracker(sender_id, slot_defaults(agent.domain), [])
        self.story = RecordedStory(story_name)

    @property
    def intents(self) -> list[str]:
        return [i.name for i in self.agent.domain.intents]

    @property
    def actions(self) -> list[str]:
        return sorted({*self.agent.domain.user_action_names, ACTION_LISTEN})

    async def suggest(self, text: str) -> Suggestion:
        parse = await self.agent.parse(text)
        intent = parse.get("intent") or {}
        ranking = [
            (str(r.get("name")), float(r.get("confidence") or 0.0))
            for r in parse.get("intent_ranking") or []
            if r.get("name")
        ]
        entities = tuple(
            EntityAnnotation(
                int(e["start"]),
                int(e["end"]),
                text[int(e["start"]) : int(e["end"])],
                str(e["entity"]),
                str(e.get("value")),
                e.get("role"),
                e.get("group"),
            )
            for e in parse.get("entities") or []
            if "start" in e and "end" in e
        )
        return Suggestion(
            intent.get("name"), float(intent.get("confidence") or 0.0), ranking, entities
        )

    async def user_says(
        self, text: str, intent: str, entities: tuple[EntityAnnotation, ...]
    ) -> None:
        """Log the message with the confirmed intent and entities, then fill slots from it."""
        processor = self.agent.processor
        await processor.update_session(self.tracker)
        if self.tracker.latest_action_name != ACTION_LISTEN:
            self.tracker.update(ActionExecuted(name=ACTION_LISTEN))
        parse: dict[str, Any] = {
            "text": text,
            "intent": {"name": intent, "confidence": 1.0},
            "entities": [e.as_rasa_dict() for e in entities],
        }
        self.tracker.update(
            UserUttered(
                text=text, parse_data=parse, input_channel="interactive", message_id=new_event_id()
            )
        )
        self.story.user(text, intent, entities)
        start = len(self.tracker.events)
        await processor.extract_slots(self.tracker)
        self._record(self.tracker.events[start:])

    def predict(self) -> PolicyPrediction:
        return self.agent.processor.predict(self.tracker)

    async def run(self, action: str) -> list[dict[str, Any]]:
        """Run the confirmed action; returns the bot's messages."""
        events = await self.agent.processor.run_action(self.tracker, action, "interactive", 1.0)
        self._record(events)
        return [e.message(self.tracker.sender_id) for e in events if isinstance(e, BotUttered)]

    def _record(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, ActionExecuted) and event.name and event.name != ACTION_LISTEN:
                self.story.action(event.name)
            elif isinstance(event, SlotSet) and event.name != "requested_slot":
                self.story.slot(event.name, event.value)
            elif isinstance(event, ActiveLoop):
                self.story.loop(event.name)
