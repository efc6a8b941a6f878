"""Redis lock store: a fair ticket lock per conversation, shared by every replica.

Each turn takes a ticket (INCR); tickets wait in a sorted set and the lowest live ticket holds
the lock, so turns are served in arrival order across processes. Every ticket carries an expiry
kept in Redis time: a waiter renews its own while it polls, the holder gets `lock_lifetime`
seconds, so a crashed process blocks a conversation for at most that long.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from parley.stores.errors import LockError
from parley.stores.redis_conn import RedisSettings

logger = logging.getLogger(__name__)

_NOW_MS = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

# KEYS: counter, queue, expiries. ARGV: waiter lifetime ms, key lifetime ms.
_ISSUE = (
    _NOW_MS
    + """
local ticket = redis.call('INCR', KEYS[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2]
if last and ticket <= tonumber(last) then
  -- the counter expired while tickets were still queued: never jump ahead of them
  ticket = tonumber(last) + 1
  redis.call('SET', KEYS[1], ticket)
end
redis.call('ZADD', KEYS[2], ticket, ticket)
redis.call('HSET', KEYS[3], ticket, now + tonumber(ARGV[1]))
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[2]) end
return ticket
"""
)

# KEYS: queue, expiries. ARGV: ticket, waiter lifetime ms, holder lifetime ms, key lifetime ms.
# Returns 1 when the ticket now holds the lock, 0 while it waits, -1 when it has expired.
_POLL = (
    _NOW_MS
    + """
if not redis.call('HGET', KEYS[2], ARGV[1]) then return -1 end
while true do
  local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
  if not head then return -1 end
  local expiry = tonumber(redis.call('HGET', KEYS[2], head) or '0')
  if expiry > now then
    if head == ARGV[1] then
      redis.call('HSET', KEYS[2], head, now + tonumber(ARGV[3]))
      for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[4]) end
      return 1
    end
    redis.call('HSET', KEYS[2], ARGV[1], now + tonumber(ARGV[2]))
    return 0
  end
  redis.call('ZREM', KEYS[1], head)
  redis.call('HDEL', KEYS[2], head)
  if head == ARGV[1] then return -1 end
end
"""
)

# KEYS: counter, queue, expiries. ARGV: ticket. Returns 1 if the ticket was still live.
_RELEASE = """
local live = redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
return live
"""


class RedisLockStore:
    """Per-conversation fair locks in Redis.

    `lock_lifetime`: seconds a holder keeps the lock before others may proceed (a crashed
    replica frees its conversations after this); `wait_timeout`: seconds a turn waits before
    LockError.
    """

    def __init__(
        self,
        redis: Redis,
        settings: RedisSettings,
        lock_lifetime: float = 60.0,
        wait_timeout: float = 120.0,
        waiter_lifetime: float = 5.0,
    ) -> None:
        self.redis = redis
        self.lock_lifetime = lock_lifetime
        self.wait_timeout = wait_timeout
        self.waiter_lifetime = waiter_lifetime
        self._namespace = settings.namespace("lock")
        self._issue = redis.register_script(_ISSUE)
        self._poll = redis.register_script(_POLL)
        self._release = redis.register_script(_RELEASE)

    @classmethod
    async def open(cls, settings: RedisSettings, **options: float) -> RedisLockStore:
        redis = await settings.connect_checked("lock_store")
        return cls(redis, settings, **options)

    def _keys(self, sender_id: str) -> list[str]:
        base = self._namespace + sender_id
        return [base + ":counter", base + ":queue", base + ":expiry"]

    @asynccontextmanager
    async def lock(self, sender_id: str) -> AsyncIterator[None]:
        keys = self._keys(sender_id)
        key_ttl = int((max(self.lock_lifetime, self.waiter_lifetime) + self.wait_timeout) * 1000)
        waiter_ms = int(self.waiter_lifetime * 1000)
        holder_ms = int(self.lock_lifetime * 1000)
        ticket = int(await self._issue(keys=keys, args=[waiter_ms, key_ttl]))
        held = False
        try:
            deadline = time.monotonic() + self.wait_timeout
            pause = 0.002
            while True:
                state = int(
                    await self._poll(keys=keys[1:], args=[ticket, waiter_ms, holder_ms, key_ttl])
                )
                if state == 1:
                    held = True
                    break
                if state == -1 or time.monotonic() > deadline:
                    raise LockError(
                        f"could not lock conversation {sender_id!r} within {self.wait_timeout:g}s "
                        "(another replica holds it); retry the message later"
                    )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.05)
            yield
        finally:
            live = await self._release(keys=keys, args=[ticket])
            if held and not int(live):
                logger.warning(
                    "lock on conversation %s expired before the turn ended (lock_lifetime %ss)",
                    sender_id,
                    self.lock_lifetime,
                )

    async def close(self) -> None:
        await self.redis.aclose()
