"""Dialogue states: what policies see of a conversation before each action.

A state is a small JSON-able dict: `user` (intent + entity types, only right after the user
spoke), `prev_action`, `active_loop` and `slots` (those that influence the conversation).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from parley.dialogue.events import ActionExecuted, Event
from parley.dialogue.slots import slot_defaults, slot_state
from parley.dialogue.tracker import ACTION_LISTEN, Tracker
from parley.project.domain import Domain

State = dict[str, Any]
BOT_TEXT_PREFIX = "text:"  # actions that are end-to-end bot texts
SHARED_STATES_LIMIT = 4096  # distinct states `shared_state` keeps (a few dozen in practice)

_shared_states: dict[bytes, State] = {}


def entity_labels(domain: Domain, intent: str | None, entities: list[dict[str, Any]]) -> list[str]:
    """Entity types of a message as features: `type`, `type#role`, `type#group`."""
    influencing = {e.name for e in domain.entities if e.influence_conversation}
    declared = {e.name for e in domain.entities}
    intent_def = domain.intent(intent or "")
    labels: set[str] = set()
    for entity in entities:
        name = entity.get("entity")
        if not isinstance(name, str) or (name in declared and name not in influencing):
            continue
        if name not in declared:
            continue
        if intent_def is not None and not intent_def.uses_entity(name):
            continue
        labels.add(name)
        if entity.get("role"):
            labels.add(f"{name}#{entity['role']}")
        if entity.get("group"):
            labels.add(f"{name}#{entity['group']}")
    return sorted(labels)


def state_of(tracker: Tracker, domain: Domain, all_slots: bool = False) -> State:
    """The state of `tracker` now (before the next action); `all_slots` for rule matching."""
    state: State = {}
    action = tracker.latest_action
    if action:
        state["prev_action"] = dict(action)
    message = tracker.latest_message
    if message is not None and tracker.latest_action_name == ACTION_LISTEN:
        user: dict[str, Any] = {}
        if message.intent_name:
            # a retrieval intent (`faq/ask_vpn`) counts as its base intent, as in Rasa
            user["intent"] = message.intent_name.split("/", 1)[0]
            labels = entity_labels(domain, message.intent_name, message.entities)
            if labels:
                user["entities"] = labels
        elif message.text:
            user["text"] = message.text
        if user:
            state["user"] = user
    if tracker.active_loop_name:
        state["active_loop"] = {"name": tracker.active_loop_name}
    slots = slot_state(domain, tracker.slots, all_slots)
    if slots:
        state["slots"] = slots
    return state


def states_and_actions(
    events: Iterable[Event], domain: Domain, sender_id: str = "states", all_slots: bool = False
) -> tuple[list[State], list[str]]:
    """States before each action of `events` and those actions; one more state at the end."""
    tracker = Tracker(sender_id, slot_defaults(domain))
    states: list[State] = []
    actions: list[str] = []
    for event in events:
        if isinstance(event, ActionExecuted):
            states.append(state_of(tracker, domain, all_slots))
            actions.append(event.name or f"{BOT_TEXT_PREFIX}{event.action_text}")
        tracker.update(event)
    states.append(state_of(tracker, domain, all_slots))
    return states, actions


def shared_state(state: State) -> State:
    """`state`, or an equal state seen before: a conversation's history repeats a handful of
    states, and a long one kept in the tracker cache holds one object per distinct state instead
    of a few dicts per action (memory, and objects for each full cyclic-GC collection to walk).
    States are read, never changed, by the policies; up to SHARED_STATES_LIMIT are kept."""
    try:
        key = orjson.dumps(state, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return state
    # the same JSON and equal: the same types too (JSON tells 1, 1.0 and true apart, == tells
    # NaN from null)
    found = _shared_states.get(key)
    if found is not None and found == state:
        return found
    if found is None and len(_shared_states) < SHARED_STATES_LIMIT:
        _shared_states[key] = state
    return state


@dataclass
class _Walk:
    """States computed so far for one tracker, the current one last: extended as events come,
    not recomputed nor copied."""

    epoch: int
    walker: Tracker
    states: list[State] = field(default_factory=list)
    consumed: int = -1  # applied events walked so far; -1: not even the current state yet


def tracker_states(tracker: Tracker, domain: Domain, all_slots: bool = False) -> list[State]:
    """The history of states of a live conversation, ending with its current state.

    The list is the tracker's cache, extended in place by later calls (a long conversation's
    turn costs what its new events cost, not its whole history): read it, do not change it or
    keep it past the tracker's next update."""
    count = tracker.applied_count
    key = (id(domain), all_slots)
    walk = tracker.state_cache.get(key)
    if walk is None or walk.epoch != tracker.epoch or walk.consumed > count:
        walk = _Walk(tracker.epoch, Tracker(tracker.sender_id, slot_defaults(domain)))
        tracker.state_cache[key] = walk
    if walk.consumed == count:
        return walk.states
    if walk.consumed >= 0:
        walk.states.pop()  # the previous current state: recomputed after the new events
    for event in tracker.applied_since(max(walk.consumed, 0)):
        if isinstance(event, ActionExecuted):
            walk.states.append(shared_state(state_of(walk.walker, domain, all_slots)))
        walk.walker.update(event)
    walk.consumed = count
    walk.states.append(shared_state(state_of(walk.walker, domain, all_slots)))
    return walk.states


def state_key(states: list[State | None]) -> str:
    return json.dumps(states, sort_keys=True, separators=(",", ":"))
