"""Recently used trackers of one process, each with the store position it reflects.

A turn takes its conversation's tracker out (under the conversation's lock), asks the store only
for the events after the cached position, and puts the tracker back once the turn's events are
stored. A tracker is never shared between a running turn and the cache, so a turn that fails
half-way leaves nothing stale behind.

Freeing a tracker costs about 3 us per event. An evicted long conversation (thousands of events)
would stall every request of the process for 10 ms or more, and evictions come in runs (the
conversations that were busy together leave the cache together): 32 of them stalled a worker for
a third of a second. So an evicted tracker's events are freed a slice per `put`.

The cache is bounded twice: by conversations (`size`) and by the events all its trackers hold
(`max_events`), so that a few very long conversations cannot take the process's memory, nor
make every full cyclic-GC collection walk them all. Past either bound the least recently used
trackers leave; a conversation longer than `max_events` alone is not kept, and each of its turns
rebuilds it from the store (as after any eviction: the same events, so the same tracker),
and its putting back evicts nobody.

A long tracker put back has its older user messages packed (`Tracker.pack_history`): one small
bytes object per message instead of the whole NLU result, 2.7 instead of 5.6 kB a turn of the
demo, and 4 instead of 14 objects for the cyclic GC. Packing costs about 30-45 us a message, so
trackers shorter than PACK_FROM_EVENTS (most conversations, which leave the cache soon) are not.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from parley.dialogue.events import Event
from parley.dialogue.tracker import Tracker
from parley.stores.base import StorePosition

DEFAULT_SIZE = 256  # conversations active at once per process; each keeps its events
DEFAULT_MAX_EVENTS = 300_000  # events of all cached trackers of a process
FREED_PER_PUT = 200  # events of evicted trackers freed per put (~0.6 ms)
PACK_FROM_EVENTS = 200  # trackers this long have their older user messages packed


@dataclass(frozen=True)
class CachedTracker:
    tracker: Tracker
    position: StorePosition
    events: int  # len(tracker.events) when put: what it counts against `max_events`


class TrackerCache:
    """A bounded LRU map from sender id to the tracker built from the store up to `position`."""

    def __init__(self, size: int | None = None, max_events: int | None = None) -> None:
        """At most `size` conversations holding `max_events` events together (None: the
        defaults)."""
        self.size = DEFAULT_SIZE if size is None else size
        self.max_events = DEFAULT_MAX_EVENTS if max_events is None else max_events
        self.pack_from = PACK_FROM_EVENTS
        self._entries: OrderedDict[str, CachedTracker] = OrderedDict()
        self._events_held = 0  # the sum of the entries' `events`
        self._evicted: list[list[Event]] = []  # event lists still to free

    def take(self, sender_id: str) -> CachedTracker | None:
        """Remove and return the conversation's entry (the caller owns the tracker now)."""
        entry = self._entries.pop(sender_id, None)
        if entry is not None:
            self._events_held -= entry.events
        return entry

    def put(self, sender_id: str, tracker: Tracker, position: StorePosition | None) -> None:
        """Cache the tracker; from now on it belongs to the cache (an evicted one is emptied),
        so the caller copies what it still needs before."""
        self.discard(sender_id)
        if len(tracker.events) > self.max_events:  # would push every other tracker out
            self._evicted.append(tracker.release_events())
        elif position is not None and self.size > 0:
            if len(tracker.events) >= self.pack_from:
                tracker.pack_history()
            entry = CachedTracker(tracker, position, len(tracker.events))
            self._entries[sender_id] = entry
            self._events_held += entry.events
            while self._entries and (
                len(self._entries) > self.size or self._events_held > self.max_events
            ):
                _, evicted = self._entries.popitem(last=False)
                self._events_held -= evicted.events
                self._evicted.append(evicted.tracker.release_events())
        self._free_some(FREED_PER_PUT)

    def _free_some(self, budget: int) -> None:
        while budget > 0 and self._evicted:
            events = self._evicted[-1]
            cut = min(budget, len(events))
            del events[len(events) - cut :]
            budget -= cut
            if not events:
                self._evicted.pop()

    @property
    def events_to_free(self) -> int:
        return sum(len(events) for events in self._evicted)

    @property
    def events_held(self) -> int:
        """Events of the cached trackers (what `max_events` bounds)."""
        return self._events_held

    def discard(self, sender_id: str) -> None:
        self.take(sender_id)

    def clear(self) -> None:
        self._entries.clear()
        self._events_held = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, sender_id: object) -> bool:
        return sender_id in self._entries
