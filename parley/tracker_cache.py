"""Recently used trackers of one process, each with the store position it reflects.

A turn takes its conversation's tracker out (under the conversation's lock), asks the store only
for the events after the cached position, and puts the tracker back once the turn's events are
stored. A tracker is never shared between a running turn and the cache, so a turn that fails
half-way leaves nothing stale behind.

Freeing a tracker costs about 3 us per event. An evicted long conversation (thousands of events)
would stall every request of the process for 10 ms or more, and evictions come in runs (the
conversations that were busy together leave the cache together): 32 of them stalled a worker for
a third of a second. So an evicted tracker's events are freed a slice per `put`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from parley.dialogue.events import Event
from parley.dialogue.tracker import Tracker
from parley.stores.base import StorePosition

DEFAULT_SIZE = 256  # conversations active at once per process; each keeps its events
FREED_PER_PUT = 200  # events of evicted trackers freed per put (~0.6 ms)


@dataclass(frozen=True)
class CachedTracker:
    tracker: Tracker
    position: StorePosition


class TrackerCache:
    """A bounded LRU map from sender id to the tracker built from the store up to `position`."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[str, CachedTracker] = OrderedDict()
        self._evicted: list[list[Event]] = []  # event lists still to free

    def take(self, sender_id: str) -> CachedTracker | None:
        """Remove and return the conversation's entry (the caller owns the tracker now)."""
        return self._entries.pop(sender_id, None)

    def put(self, sender_id: str, tracker: Tracker, position: StorePosition | None) -> None:
        """Cache the tracker; from now on it belongs to the cache (an evicted one is emptied),
        so the caller copies what it still needs before."""
        if position is None or self.size <= 0:
            self._entries.pop(sender_id, None)
            return
        self._entries[sender_id] = CachedTracker(tracker, position)
        self._entries.move_to_end(sender_id)
        while len(self._entries) > self.size:
            _, evicted = self._entries.popitem(last=False)
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

    def discard(self, sender_id: str) -> None:
        self._entries.pop(sender_id, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, sender_id: object) -> bool:
        return sender_id in self._entries
