"""Redis lock store: a fair ticket lock per conversation, shared by every replica, held on a short
lease renewed by a heartbeat, with fencing tokens.

Each turn takes a ticket (INCR); tickets wait in a sorted set and the lowest live ticket holds
the lock, so turns are served in arrival order across processes. Every ticket carries an expiry
kept in Redis time: a waiter renews its own while it polls, the holder's heartbeat task renews
its lease (`lease` seconds, 3 by default) every third of it while the turn runs. A crashed
process stops renewing: its conversations go on after at most one lease. A live turn keeps its
lock for at most `lock_lifetime` seconds (endpoints.yml, Rasa's key; TICKET_LOCK_LIFETIME):
after that the heartbeat stops renewing, so a turn stuck in a hanging custom action cannot hold
a conversation for ever.

Taking the lock hands out a fencing token: a number above every token handed out before under
the same key prefix (Redis time in microseconds, or the last token + 1 when that is not higher,
so tokens keep growing even if the counter key is lost). The turn passes it to the tracker
store's `append`, which refuses a token lower than one already used on the conversation: a
holder that lost its lease (paused, partitioned) cannot append after another turn took over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis

from parley.stores.base import LeasedToken
from parley.stores.errors import LockError
from parley.stores.redis_conn import RedisSettings

logger = logging.getLogger(__name__)

_NOW = (
    "local t = redis.call('TIME')\n"
    "local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
    "local now_us = t[1] * 1000000 + t[2]\n"
)

# Take the lock when `ticket` heads the queue. Expired tickets ahead of it (crashed holders and
# waiters) are dropped. The holder gets a lease and a fencing token. Returns the token (> 0)
# once held, 0 while waiting, -1 when the ticket itself has expired.
# Uses: queue, expiry, fence (keys), ticket, waiter_ms, lease_ms, ttl_ms, keys (for PEXPIRE).
_TRY = """
local function try_lock(queue, expiry, fence, ticket, waiter_ms, lease_ms, ttl_ms, keys)
  if not redis.call('HGET', expiry, ticket) then return -1 end
  while true do
    local head = redis.call('ZRANGE', queue, 0, 0)[1]
    if not head then return -1 end
    local until_ms = tonumber(redis.call('HGET', expiry, head) or '0')
    if until_ms > now then
      if head ~= ticket then
        redis.call('HSET', expiry, ticket, now + waiter_ms)
        return 0
      end
      redis.call('HSET', expiry, head, now + lease_ms)
      for _, key in ipairs(keys) do redis.call('PEXPIRE', key, ttl_ms) end
      local token = now_us
      local last = tonumber(redis.call('GET', fence) or '0')
      if token <= last then token = last + 1 end
      redis.call('SET', fence, string.format('%d', token))
      return token
    end
    redis.call('ZREM', queue, head)
    redis.call('HDEL', expiry, head)
    if head == ticket then return -1 end
  end
end
"""

# KEYS: counter, queue, expiries, fence. ARGV: waiter ms, lease ms, key lifetime ms.
# Takes a ticket and tries it at once: {ticket, token or 0}.
_ISSUE = (
    _NOW
    + _TRY
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
local keys = {KEYS[1], KEYS[2], KEYS[3]}
for _, key in ipairs(keys) do redis.call('PEXPIRE', key, ARGV[3]) end
local token = try_lock(KEYS[2], KEYS[3], KEYS[4], tostring(ticket), tonumber(ARGV[1]),
  tonumber(ARGV[2]), ARGV[3], keys)
return {ticket, token}
"""
)

# KEYS: counter, queue, expiries, fence. ARGV: ticket, waiter ms, lease ms, key lifetime ms.
_POLL = (
    _NOW
    + _TRY
    + """
return try_lock(KEYS[2], KEYS[3], KEYS[4], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]),
  ARGV[4], {KEYS[1], KEYS[2], KEYS[3]})
"""
)

# KEYS: counter, queue, expiries. ARGV: ticket, lease ms, key lifetime ms.
# Extends the holder's lease; 0 when the ticket no longer holds the lock (its lease ran out).
_RENEW = (
    _NOW
    + """
if redis.call('ZRANGE', KEYS[2], 0, 0)[1] ~= ARGV[1] then return 0 end
if tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0') <= now then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], now + tonumber(ARGV[2]))
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[3]) end
return 1
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
    """Per-conversation fair locks in Redis, on heartbeat-renewed leases, with fencing tokens.

    `lease`: seconds a lock outlives its holder's last heartbeat (a crashed replica's
    conversations go on after this); `lock_lifetime`: the longest a live turn holds a lock (the
    heartbeat stops renewing after it); `wait_timeout`: seconds a turn waits before LockError;
    `waiter_lifetime` (default: `lease`): seconds a crashed waiter's ticket stays in the queue.
    """

    def __init__(
        self,
        redis: Redis,
        settings: RedisSettings,
        lock_lifetime: float = 60.0,
        wait_timeout: float = 120.0,
        lease: float = 3.0,
        waiter_lifetime: float | None = None,
    ) -> None:
        if lease <= 0 or lock_lifetime <= 0:
            raise ValueError("lock store: lease and lock_lifetime must be positive seconds")
        self.redis = redis
        self.lock_lifetime = lock_lifetime
        self.wait_timeout = wait_timeout
        self.lease = min(lease, lock_lifetime)
        self.waiter_lifetime = waiter_lifetime if waiter_lifetime is not None else self.lease
        self._namespace = settings.namespace("lock")
        self._fence_key = self._namespace + ":fence"  # no sender id ends in ":fence" here
        self._issue = redis.register_script(_ISSUE)
        self._poll = redis.register_script(_POLL)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    @classmethod
    async def open(cls, settings: RedisSettings, **options: float) -> RedisLockStore:
        redis = await settings.connect_checked("lock_store")
        return cls(redis, settings, **options)

    def _keys(self, sender_id: str) -> list[str]:
        base = self._namespace + sender_id
        return [base + ":counter", base + ":queue", base + ":expiry"]

    @asynccontextmanager
    async def lock(self, sender_id: str) -> AsyncIterator[LeasedToken]:
        """Hold the conversation's lock; yields the turn's fencing token (with its lease)."""
        keys = self._keys(sender_id)
        key_ttl = int((max(self.lease, self.waiter_lifetime) + self.wait_timeout) * 1000)
        waiter_ms = int(self.waiter_lifetime * 1000)
        lease_ms = int(self.lease * 1000)
        asked = time.monotonic()  # Redis starts the lease after this: it is held until + lease
        ticket, token = await self._issue(
            keys=[*keys, self._fence_key], args=[waiter_ms, lease_ms, key_ttl]
        )
        ticket, token = int(ticket), int(token)
        heartbeat = _Heartbeat()
        try:
            deadline = time.monotonic() + self.wait_timeout
            pause = 0.002
            while token <= 0:
                if token < 0 or time.monotonic() > deadline:
                    raise LockError(
                        f"could not lock conversation {sender_id!r} within {self.wait_timeout:g}s "
                        "(another replica holds it); retry the message later"
                    )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.05)
                asked = time.monotonic()
                token = int(
                    await self._poll(
                        keys=[*keys, self._fence_key], args=[ticket, waiter_ms, lease_ms, key_ttl]
                    )
                )
            leased = LeasedToken(token, asked + self.lease)
            heartbeat.start(
                self.lease / 3, self._heartbeat(sender_id, keys, leased, ticket, key_ttl)
            )
            yield leased
        finally:
            await heartbeat.stop()
            live = await self._release(keys=keys, args=[ticket])
            if heartbeat.started and not int(live):
                logger.warning(
                    "the lock on conversation %s expired before its turn ended (lease %gs, "
                    "lock_lifetime %gs): another turn may have taken over, and this turn's "
                    "events were refused if so",
                    sender_id,
                    self.lease,
                    self.lock_lifetime,
                )

    async def _heartbeat(
        self, sender_id: str, keys: list[str], leased: LeasedToken, ticket: int, key_ttl: int
    ) -> None:
        """Renew the lease every third of it until `lock_lifetime` is used up (the first beat
        comes a third of a lease after the lock was taken)."""
        ends = time.monotonic() - self.lease / 3 + self.lock_lifetime
        lease_ms = int(self.lease * 1000)
        while True:
            if time.monotonic() + self.lease > ends:
                logger.warning(
                    "the turn on conversation %s has held its lock for lock_lifetime (%gs): "
                    "the lock is no longer renewed",
                    sender_id,
                    self.lock_lifetime,
                )
                return
            asked = time.monotonic()
            try:
                renewed = int(await self._renew(keys=keys, args=[ticket, lease_ms, key_ttl]))
            except Exception as exc:  # Redis unreachable for a moment: try again next beat
                logger.warning("could not renew the lock on conversation %s: %s", sender_id, exc)
                renewed = 1
            if not renewed:
                logger.warning(
                    "the lock on conversation %s was lost (lease %gs ran out before a renewal)",
                    sender_id,
                    self.lease,
                )
                return
            leased.held_until = max(leased.held_until, asked + self.lease)
            await asyncio.sleep(self.lease / 3)

    async def close(self) -> None:
        await self.redis.aclose()


class _Heartbeat:
    """The renewal task of one held lock, created only once the turn outlives a third of the
    lease: most turns take milliseconds and never need one (a task per turn costs CPU)."""

    def __init__(self) -> None:
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self.started = False

    def start(self, delay: float, beats: Coroutine[Any, Any, None]) -> None:
        self.started = True
        loop = asyncio.get_running_loop()

        def begin() -> None:
            self._timer = None
            self._task = loop.create_task(beats)

        self._timer = loop.call_later(delay, begin)
        self._beats = beats

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._beats.close()  # never started: no "never awaited" warning
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
