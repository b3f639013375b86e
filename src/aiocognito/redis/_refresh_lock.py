"""One refresh call for every process of a session: :class:`RedisRefreshLock`, a lease with a fencing token.

With refresh-token rotation and ``RetryGracePeriodSeconds`` 0, two processes sending the same refresh token
make Cognito refuse the second (``RefreshTokenReuseException``) and can revoke the whole token family. So
``Session(token_store=RedisTokenStore(...), refresh_lock=RedisRefreshLock(...))`` refreshes like this (the
session's side is in ``aiocognito._signin.refresh_lock``): read the store, take newer fresh tokens if
another process saved some; else take this lock, read again, refresh from the newest saved tokens, save with
``save_if(..., fence=fence)``, release.

The lock, on Redis's own primitives:

* **Acquire**: one Lua script does ``SET lock owner NX PX lease`` and, when that succeeds, ``INCR fence``,
  so the fencing token and the lease are taken atomically (no holder without a fence, no fence without a
  holder). ``owner`` is a random value of this acquisition only. The lock key and its counter share a hash
  tag, so the script also runs on Redis Cluster. The key names hold a SHA-256 of the session's key, never a
  username, let alone a token.
* **Hold**: a background task renews the lease every third of it (Lua: ``PEXPIRE`` only while ``owner`` is
  still the value). A holder stuck longer than the lease (a stalled event loop, a partition from Redis)
  loses it; the next holder gets a higher fence, and the store refuses the late holder's write
  (``save_if`` saves only above the stored fence). A lost lease is logged.
* **Release**: Lua compare-and-delete, so a holder whose lease ran out never deletes its successor's lock.
  A release that fails (Redis gone) is logged, not raised: the lease runs out by itself.
* **Wait**: waiters poll the acquire script with capped exponential backoff and jitter (10 ms doubling to
  250 ms), never sleeping past the holder's remaining lease, so a killed holder is taken over as soon as
  its lease expires. Why polling rather than pub/sub or BLPOP: a subscriber ties up a connection of its
  own per waiting refresh, a notification can be missed between a failed try and the subscribe, and a
  killed holder sends none, so a lease-bounded poll is needed anyway; with one refresh per process (the
  session's own single flight) the polling costs a few round trips per refresh, and at most 250 ms of
  extra wait. Past ``wait`` seconds without the lock, :class:`RefreshLockError` (a ``CognitoError``).

The counter key has no TTL on purpose: fences must only grow, and a counter that expired and started again
at 1 would have every later save refused. It is one small integer per session key; keep it out of reach of
eviction (``maxmemory-policy`` ``noeviction`` or a ``volatile-*`` policy, as for the token store itself),
and keep the lock and the token store on the same Redis.

When Redis is unreachable, taking the lock raises ``RedisUnavailable`` (a ``CognitoError``, as the stores):
``access_token()`` keeps handing out the current token while it has more than 10 seconds left, then
raises. It never falls back to refreshing without the lock, which with rotation could spend the token twice.

What no lock can fix: with rotation and grace 0, a holder killed *after* Cognito rotated the token but
*before* it saved the answer takes the only valid refresh token with it. The next holder sends the spent
one and gets ``RefreshTokenReuseException``: every process must sign in again (``SignInRequired``). Killed
earlier (waiting for the lock, for the connection, or with its request not yet processed by Cognito), the
next holder refreshes normally. With ``RetryGracePeriodSeconds`` > 0, the next holder's refresh with the
old token succeeds within the grace period, so that window closes too, provided the lease is shorter than
the grace.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from .._errors import ConfigurationError
from .._signin.refresh_lock import RefreshLockError
from .._tasks import stop_task
from ._stores import RedisUnavailable, _origin

__all__ = ["RedisRefreshLock", "RefreshLockError", "RedisUnavailable", "poll_delay", "renew_interval"]

logger = logging.getLogger("aiocognito.redis.refresh")

#: First and longest pause between two tries of a waiter (seconds).
FIRST_POLL = 0.01
MAX_POLL = 0.25

# KEYS[1] lock, KEYS[2] fence counter; ARGV[1] owner, ARGV[2] lease (ms).
# Returns {fence, 0} when taken, {0, ms left on the holder's lease} when not.
_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {redis.call('INCR', KEYS[2]), 0}
end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then left = tonumber(ARGV[2]) end
return {0, left}
"""
# KEYS[1] lock; ARGV[1] owner, ARGV[2] lease (ms). 1 when renewed, 0 when the lease is someone else's.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# KEYS[1] lock; ARGV[1] owner. 1 when released, 0 when the lease was no longer ours.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def poll_delay(attempt: int, *, lease_left: float, time_left: float, draw: float) -> float:
    """Seconds a waiter sleeps before its next try.

    Exponential from :data:`FIRST_POLL`, capped at :data:`MAX_POLL`, jittered down by up to half
    (``draw`` in [0, 1)), and never past the holder's lease (``lease_left``, plus a millisecond so the key
    is gone) or the caller's deadline (``time_left``).
    """
    backoff = min(MAX_POLL, FIRST_POLL * 2.0 ** min(attempt, 16))
    jittered = backoff * (1.0 - draw / 2)
    return max(0.0, min(jittered, lease_left + 0.001, time_left))


def renew_interval(lease: float) -> float:
    """How often a holder renews its lease: every third of it, so two renewals can fail before it lapses."""
    return lease / 3


def _names(prefix: str, key: str) -> tuple[str, str]:
    """The lock and fence key names of a session key: a digest in a hash tag (same Cluster slot)."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"{prefix}{{{digest}}}:lock", f"{prefix}{{{digest}}}:fence"


def _unavailable(redis: Redis, exc: Exception) -> RedisUnavailable:
    return RedisUnavailable(f"the refresh lock at {_origin(redis)} is unavailable ({type(exc).__name__})")


class RedisRefreshLock:
    """A cross-process refresh lock on Redis: ``async with lock.holding(key) as fence: ...``.

    Args:
        redis: a ``redis.asyncio.Redis`` the caller made and closes.
        prefix: prefix of the lock and fence keys.
        lease: seconds a holder keeps the lock without renewing it (it renews every third of it while the
            block runs); how long a killed holder delays the others.
        wait: seconds a process waits for the lock before :class:`RefreshLockError`.
        monotonic, jitter: the clock, and the jitter source (floats in [0, 1)), for tests.

    Raises:
        ConfigurationError: ``lease`` below 0.1 s or ``wait`` negative.

    Raises (from :meth:`holding`):
        RedisUnavailable: Redis cannot be reached or refused the command (as the Redis stores).
        RefreshLockError: ``wait`` ran out while another process held the lock.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "aiocognito:refresh:",
        lease: float = 10.0,
        wait: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if not lease >= 0.1:
            raise ConfigurationError("lease must be at least 0.1 seconds")
        if not wait >= 0:
            raise ConfigurationError("wait must be >= 0")
        self._redis = redis
        self.prefix = prefix
        self.lease = float(lease)
        self.wait = float(wait)
        self._monotonic = monotonic
        self._jitter = jitter
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    def __repr__(self) -> str:
        return f"RedisRefreshLock(prefix={self.prefix!r}, lease={self.lease}, wait={self.wait})"

    @property
    def _lease_ms(self) -> int:
        return max(1, round(self.lease * 1000))

    @contextlib.asynccontextmanager
    async def holding(self, key: str) -> AsyncIterator[int]:
        """Hold the lock on ``key`` while the block runs; the value entered is the fencing token."""
        lock_key, fence_key = _names(self.prefix, key)
        owner = secrets.token_hex(16)
        fence = await self._take(lock_key, fence_key, owner)
        renewer = asyncio.get_running_loop().create_task(self._keep(lock_key, owner))
        try:
            yield fence
        finally:
            await stop_task(renewer)
            try:
                released = await self._release(keys=[lock_key], args=[owner])
            except (RedisError, OSError) as exc:
                logger.warning(
                    "refresh lock: release failed (%s); the lease will run out", type(exc).__name__
                )
            else:
                if not released:
                    logger.warning("refresh lock: the lease ran out before the release")

    async def _take(self, lock_key: str, fence_key: str, owner: str) -> int:
        deadline = self._monotonic() + self.wait
        attempt = 0
        while True:
            try:
                fence, left_ms = await self._acquire(keys=[lock_key, fence_key], args=[owner, self._lease_ms])
            except (RedisError, OSError) as exc:
                raise _unavailable(self._redis, exc) from exc
            if int(fence) > 0:
                return int(fence)
            time_left = deadline - self._monotonic()
            if time_left <= 0:
                raise RefreshLockError(f"another process held the refresh lock for over {self.wait:g} s")
            await asyncio.sleep(
                poll_delay(attempt, lease_left=int(left_ms) / 1000, time_left=time_left, draw=self._jitter())
            )
            attempt += 1

    async def _keep(self, lock_key: str, owner: str) -> None:
        """Renew the lease until cancelled; stop (logged) once it is lost."""
        every = renew_interval(self.lease)
        renewed_at = self._monotonic()
        while True:
            await asyncio.sleep(every)
            try:
                kept: Any = await self._renew(keys=[lock_key], args=[owner, self._lease_ms])
            except (RedisError, OSError) as exc:
                if self._monotonic() - renewed_at < self.lease:
                    logger.warning("refresh lock: renewal failed (%s); retrying", type(exc).__name__)
                    continue
                kept = 0
            if not kept:
                logger.warning("refresh lock: the lease was lost; a later holder's save will win")
                return
            renewed_at = self._monotonic()
