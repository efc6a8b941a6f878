"""Redis tracker store: one list of sealed event records per conversation.

A turn's records go in with one RPUSH inside MULTI/EXEC, so a turn is stored whole or not at all
and appends from several processes never interleave. A sorted set of conversations scored by
their latest event time serves `senders`, retention and export.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import WatchError

from parley.stores.base import EventDict, EventsAfter, StorePosition
from parley.stores.codec import StoredEvent, decode_event, encode_event
from parley.stores.crypto import EventCipher
from parley.stores.errors import FencedError
from parley.stores.redis_conn import RedisSettings

# Append a turn's records atomically. A client retrying after a lost reply must not store the turn
# twice: if the turn's first event id already sits where the turn would have started, skip. A
# fencing token lower than the conversation's highest one refuses the turn ({-1}).
# KEYS: events list, index, fence. ARGV: sender id, latest time, expiry seconds, first event id,
# fencing token or '', records… Returns {records added, list length, first record} (the last
# two make the reader's position).
_APPEND = """
local count = #ARGV - 5
if ARGV[5] ~= '' then
  local fence = redis.call('GET', KEYS[3])
  if fence and tonumber(ARGV[5]) < tonumber(fence) then return {-1} end
end
if ARGV[4] ~= '' then
  local previous = redis.call('LINDEX', KEYS[1], -count)
  if previous and cjson.decode(previous)[3] == ARGV[4] then
    return {0, redis.call('LLEN', KEYS[1]), redis.call('LINDEX', KEYS[1], 0)}
  end
end
if ARGV[5] ~= '' then redis.call('SET', KEYS[3], ARGV[5]) end
redis.call('RPUSH', KEYS[1], unpack(ARGV, 6))
redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[1])
if tonumber(ARGV[3]) > 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  if ARGV[5] ~= '' then redis.call('EXPIRE', KEYS[3], ARGV[3]) end
end
return {count, redis.call('LLEN', KEYS[1]), redis.call('LINDEX', KEYS[1], 0)}
"""

# Delete a conversation only if it is still stale when the script runs (atomic in Redis).
# KEYS: events list, index, fence.
_PURGE_ONE = """
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if score and tonumber(score) < tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1], KEYS[3])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 1
end
return 0
"""


def _pack(record: StoredEvent) -> str:
    return orjson.dumps(list(record.columns())).decode("utf-8")


def _unpack(raw: bytes | str) -> StoredEvent:
    type_name, timestamp, event_id, model_id, key_id, body = orjson.loads(raw)
    return StoredEvent(type_name, timestamp, event_id, model_id, key_id, body)


def _generation(first: bytes | str) -> str:
    """A conversation's incarnation, named after its first stored record: a conversation that
    is deleted (or expires) and started again begins with a different record."""
    raw = first.encode() if isinstance(first, str) else first
    return hashlib.blake2b(raw, digest_size=12).hexdigest()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisTrackerStore:
    """Tracker store on Redis (redis-py asyncio)."""

    def __init__(
        self, redis: Redis, settings: RedisSettings, cipher: EventCipher | None = None
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.cipher = cipher or EventCipher(None)
        self._events = settings.namespace("events")
        self._fences = settings.namespace("fence")
        self._index = settings.namespace("index") + "conversations"
        self._purge_one = redis.register_script(_PURGE_ONE)
        self._append = redis.register_script(_APPEND)

    @classmethod
    async def open(
        cls, settings: RedisSettings, cipher: EventCipher | None = None
    ) -> RedisTrackerStore:
        redis = await settings.connect_checked("tracker_store")
        return cls(redis, settings, cipher)

    def _key(self, sender_id: str) -> str:
        return self._events + sender_id

    def _conversation_keys(self, sender_id: str) -> list[str]:
        """What the append and purge scripts touch: events list, index, fencing token."""
        return [self._key(sender_id), self._index, self._fences + sender_id]

    async def load(self, sender_id: str) -> list[EventDict] | None:
        raw = await self.redis.lrange(self._key(sender_id), 0, -1)  # type: ignore[misc]
        if not raw:
            return None
        return [self._decode(sender_id, _unpack(item)) for item in raw]

    def _decode(self, sender_id: str, record: StoredEvent) -> EventDict:
        return decode_event(self.cipher, sender_id, record.key_id, record.body)

    async def load_after(self, sender_id: str, after: StorePosition | None) -> EventsAfter:
        key = self._key(sender_id)
        skip = after.sequence if after is not None else 0
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lindex(key, 0)
            pipe.llen(key)
            pipe.lrange(key, skip, -1)
            first, length, raw = await pipe.execute()
        if first is None:
            return EventsAfter([], None, complete=True)
        position = StorePosition(_generation(first), int(length))
        stale = after is not None and (
            after.generation != position.generation or after.sequence > position.sequence
        )
        if stale:
            return await self.load_after(sender_id, None)
        decoded = [self._decode(sender_id, _unpack(item)) for item in raw]
        return EventsAfter(decoded, position, complete=after is None)

    async def append(
        self, sender_id: str, events: Sequence[EventDict], fence: int | None = None
    ) -> StorePosition | None:
        if not events:
            return None
        records = [encode_event(self.cipher, sender_id, event) for event in events]
        latest = max(record.timestamp for record in records)
        reply = await self._append(
            keys=self._conversation_keys(sender_id),
            args=[
                sender_id,
                latest,
                int(self.settings.record_exp or 0),
                records[0].event_id or "",
                "" if fence is None else str(fence),
                *[_pack(record) for record in records],
            ],
        )
        if int(reply[0]) < 0:
            raise FencedError(sender_id, fence or 0)
        _, length, first = reply
        return StorePosition(_generation(first), int(length))

    async def delete(self, sender_id: str) -> bool:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(sender_id), self._fences + sender_id)
            pipe.zrem(self._index, sender_id)
            deleted, _ = await pipe.execute()
        return bool(deleted)

    async def senders(self) -> list[str]:
        members = await self.redis.zrange(self._index, 0, -1)
        return [_text(member) for member in members]

    async def purge(self, before: float) -> int:
        """Delete every conversation whose latest event is older than `before` (epoch seconds)."""
        stale = await self.redis.zrangebyscore(self._index, "-inf", f"({before}")
        removed = 0
        for member in stale:
            sender_id = _text(member)
            removed += int(
                await self._purge_one(
                    keys=self._conversation_keys(sender_id), args=[sender_id, before]
                )
            )
        return removed

    async def stream_events(
        self,
        sender_ids: Sequence[str] | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> AsyncIterator[tuple[str, EventDict]]:
        """Stored events conversation by conversation, filtered by sender and time."""
        for sender_id in sorted(sender_ids or await self.senders()):
            raw = await self.redis.lrange(self._key(sender_id), 0, -1)  # type: ignore[misc]
            for item in raw:
                record = _unpack(item)
                if since is not None and record.timestamp < since:
                    continue
                if until is not None and record.timestamp >= until:
                    continue
                yield sender_id, self._decode(sender_id, record)

    async def reencrypt(self) -> int:
        """Re-seal every event not under the current key; returns how many were rewritten."""
        changed = 0
        for sender_id in await self.senders():
            changed += await self._reencrypt_one(sender_id)
        return changed

    async def _reencrypt_one(self, sender_id: str) -> int:
        key = self._key(sender_id)
        while True:
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    raw: list[Any] = await pipe.lrange(key, 0, -1)  # type: ignore[misc]
                    updates: list[tuple[int, str]] = []
                    for index, item in enumerate(raw):
                        record = _unpack(item)
                        if record.key_id == self.cipher.key_id:
                            continue
                        event = self._decode(sender_id, record)
                        updates.append((index, _pack(encode_event(self.cipher, sender_id, event))))
                    pipe.multi()
                    for index, packed in updates:
                        pipe.lset(key, index, packed)
                    await pipe.execute()
                    return len(updates)
                except WatchError:
                    continue  # a turn was appended meanwhile: read again

    async def close(self) -> None:
        await self.redis.aclose()
