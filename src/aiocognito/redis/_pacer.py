"""Cognito's quotas paced across every process of an account and Region: :class:`RedisQuotaPacer`.

Cognito's request-rate quotas are per account and Region (UserCreation 50/s, UserAuthentication 120/s, ...),
shared by every process of every app there. Four workers each pacing themselves with an in-memory
:class:`~aiocognito.quotas.QuotaPacer` at 50/s send 200/s and get throttled. This pacer keeps the buckets in
Redis, so all of them together stay under the quota. It has the ``QuotaPacer`` interface (``acquire``,
``on_throttled``, ``current_rate``, ``throttles``): ``CognitoClient(quotas=RedisQuotaPacer(...))``.

How it works:

* **One bucket per category** in a Redis hash ``{prefix}quota:{<account>:<region>}:<category>``, and one per
  operation for the per-pool limit of the ``UserPool*`` categories (``...:op:<Operation>``), as in
  ``QuotaPacer``. The braces are a Redis Cluster hash tag: an account's buckets share a slot, so one script
  may touch an operation's bucket and its category's together.
* **One atomic round trip per call.** ``acquire`` runs one Lua script (EVALSHA) that reads Redis's own
  clock (``TIME``, so the processes' clocks do not matter), refills the buckets, *reserves* the next free
  slot and answers how long to wait; the caller sleeps that long and sends, without asking again. The
  bucket may go into debt by the reservations: GCRA, kept in tokens rather than a theoretical arrival time so
  that the rate can change under it. In each process one task per category holds a reservation at a time
  (the others queue on a lock, first come first served), so a cut applies to every process's next call.
* **A throttle seen by any process slows all of them.** ``on_throttled`` (called by the client, which
  cannot wait) sends the throttle to the same script in the background: it cuts the bucket's rate by
  ``backoff`` at most once per ``cooldown`` and stores the cut rate and its time in the hash; every
  process's next reservation uses it, and it grows back linearly to the target over ``recovery`` seconds:
  the arithmetic of ``QuotaPacer`` (:func:`~aiocognito.quotas.recovering_rate`,
  :func:`~aiocognito.quotas.cut_rate`), in Redis time. :meth:`RedisQuotaPacer.flush` waits for those reports.
* The target is ``utilization`` (95 %) of each quota, with a burst of ``burst_seconds`` (at least one call).
  Every process must be given the same ``overrides``: each reservation uses the caller's. An idle bucket
  expires ``recovery`` + 60 seconds after its last reservation.

**When Redis does not answer** (connection refused or lost, or no answer within ``timeout``), by ``fallback``:

* ``"error"`` (the default): ``acquire`` raises :class:`QuotaUnavailable` (a ``RedisUnavailable``, as the
  stores raise, so a ``CognitoError``) and the call is not sent; a throttle that cannot be shared is
  logged. Every call tries Redis again, so each waits for it up to ``timeout``.
* ``"local"``: the process paces itself in memory at ``local_share`` of each category's target (choose at
  most 1/number of processes, so that all of them together stay under the quota), logs one warning per
  outage, and tries Redis again in the background once per ``probe_interval``: only the call that found
  Redis gone waited for it; the calls meanwhile are paced locally, never held up by a probe. Once Redis
  answers, pacing is shared again (a restarted Redis starts with full buckets: one burst at most).

redis-py's own retries run within ``timeout``; give the client a shorter ``retry`` to fail faster.

Never an unpaced burst. A Redis that answers with an error (a key of the wrong type, a refused script, a
wrong password or a missing ACL permission) raises :class:`QuotaUnavailable` whatever the fallback: pacing
locally would hide a misconfiguration.

:class:`SharedBucket` with :func:`reserve` and :func:`throttle` is the script's arithmetic in Python (pure:
``now`` is a parameter); the tests check the Lua script against it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from redis.exceptions import AuthenticationError, AuthorizationError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .._errors import ConfigurationError, redact
from ..quotas import (
    OPERATION_CATEGORY,
    PER_POOL_CATEGORIES,
    QuotaPacer,
    cut_rate,
    quota_rates,
    recovering_rate,
)
from ._stores import RedisUnavailable, _origin

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["QuotaUnavailable", "RedisQuotaPacer", "SharedBucket", "reserve", "throttle"]

logger = logging.getLogger("aiocognito.redis")

_EPSILON = 1e-9
#: How long an idle bucket outlives its last reservation, beyond ``recovery``.
_KEEP_SECONDS = 60.0
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


class QuotaUnavailable(RedisUnavailable):
    """The shared quota pacer cannot pace this call: Redis did not answer (with ``fallback="error"``) or
    refused the pacer's script. Nothing was sent to Cognito. A ``RedisUnavailable``, so a ``CognitoError``."""


# ===== the arithmetic, in Python ===========================================================================
@dataclass
class SharedBucket:
    """One bucket as the script keeps it in its hash (None: not stored yet). ``at`` is the time ``tokens``
    refers to: the last reservation, which may be in the future; ``cut``/``cut_at``: the throttle slowdown."""

    target: float
    capacity: float
    tokens: float | None = None
    at: float | None = None
    cut: float | None = None
    cut_at: float | None = None

    def rate(self, now: float, recovery: float) -> float:
        """The rate in force at ``now`` (a cut that has grown back to the target is dropped)."""
        if self.cut is None or self.cut_at is None:
            return self.target
        rate = recovering_rate(self.target, self.cut, self.cut_at, now, recovery)
        if rate >= self.target:
            self.cut = None
        return rate

    def _load(self, now: float) -> tuple[float, float]:
        if self.tokens is None or self.at is None:
            return self.capacity, now
        return self.tokens, self.at


def reserve(buckets: Sequence[SharedBucket], now: float, recovery: float) -> float:
    """Reserve the next slot that every one of ``buckets`` allows; return the seconds from ``now`` to it.

    Each bucket's earliest slot is at or after its last reservation, when it holds a whole token; the call
    goes at the latest of them, and each bucket gives its token at that time (its ``at`` moves there).
    """
    rates = [bucket.rate(now, recovery) for bucket in buckets]
    send_at = now
    for bucket, rate in zip(buckets, rates, strict=True):
        tokens, at = bucket._load(now)
        slot = max(now, at)
        tokens = min(bucket.capacity, tokens + (slot - at) * rate)
        if tokens < 1.0 - _EPSILON:
            slot += (1.0 - tokens) / rate
        send_at = max(send_at, slot)
    for bucket, rate in zip(buckets, rates, strict=True):
        tokens, at = bucket._load(now)
        bucket.tokens = min(bucket.capacity, tokens + (send_at - at) * rate) - 1.0
        bucket.at = send_at
    return send_at - now


def throttle(
    buckets: Sequence[SharedBucket], now: float, backoff: float, cooldown: float, recovery: float
) -> int:
    """Cut the rate of each bucket not cut within ``cooldown`` (and empty it); return how many were cut."""
    cuts = 0
    for bucket in buckets:
        rate = bucket.rate(now, recovery)
        if bucket.cut_at is not None and now - bucket.cut_at < cooldown:
            continue
        tokens, at = bucket._load(now)
        if now > at:
            tokens, at = min(bucket.capacity, tokens + (now - at) * rate), now
        bucket.cut, bucket.cut_at = cut_rate(rate, bucket.target, backoff), now
        bucket.tokens, bucket.at = min(tokens, 0.0), at
        cuts += 1
    return cuts


# ===== the same, in Lua ===================================================================================
#: KEYS: the call's buckets (its per-pool operation bucket first, if any; its category's last).
#: ARGV: mode ("take", "throttle" or "peek"), now ("" for Redis TIME; tests pass one), backoff, cooldown,
#: recovery, keep (seconds an idle bucket is kept), then target and capacity of each key.
#: Answer: {wait, now, cut, cut_at, cuts} as strings; cut and cut_at of the last bucket, "" when none.
SCRIPT = """
local mode = ARGV[1]
local now
if ARGV[2] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[2])
end
local backoff, cooldown = tonumber(ARGV[3]), tonumber(ARGV[4])
local recovery, keep = tonumber(ARGV[5]), tonumber(ARGV[6])
local function fmt(x) return string.format('%.6f', x) end

local buckets = {}
for i, key in ipairs(KEYS) do
  local f = redis.call('HMGET', key, 'tokens', 'at', 'cut', 'cut_at')
  local b = {key = key, target = tonumber(ARGV[5 + 2 * i]), capacity = tonumber(ARGV[6 + 2 * i]),
             tokens = tonumber(f[1]), at = tonumber(f[2]), cut = tonumber(f[3]), cut_at = tonumber(f[4])}
  if b.tokens == nil or b.at == nil then b.tokens = b.capacity; b.at = now end
  b.stored_cut = b.cut ~= nil
  if b.cut_at == nil then b.cut = nil end
  b.rate = b.target
  if b.cut ~= nil and recovery > 0 then
    b.rate = math.min(b.target, b.cut + math.max(0, now - b.cut_at) * b.target / recovery)
  end
  if b.rate >= b.target then b.cut = nil end
  buckets[i] = b
end

local function save(b)
  redis.call('HSET', b.key, 'tokens', string.format('%.9f', b.tokens), 'at', fmt(b.at))
  if b.cut ~= nil then
    redis.call('HSET', b.key, 'cut', fmt(b.cut), 'cut_at', fmt(b.cut_at))
  elseif b.stored_cut then
    redis.call('HDEL', b.key, 'cut')
  end
  redis.call('PEXPIRE', b.key, math.ceil((math.max(b.at, now) - now + keep) * 1000))
end

local wait, cuts = 0, 0
if mode == 'take' then
  local send_at = now
  for _, b in ipairs(buckets) do
    local slot = math.max(now, b.at)
    local tokens = math.min(b.capacity, b.tokens + (slot - b.at) * b.rate)
    if tokens < 1 - 1e-9 then slot = slot + (1 - tokens) / b.rate end
    if slot > send_at then send_at = slot end
  end
  for _, b in ipairs(buckets) do
    b.tokens = math.min(b.capacity, b.tokens + (send_at - b.at) * b.rate) - 1
    b.at = send_at
    save(b)
  end
  wait = send_at - now
elseif mode == 'throttle' then
  for _, b in ipairs(buckets) do
    if b.cut_at == nil or now - b.cut_at >= cooldown then
      if now > b.at then
        b.tokens = math.min(b.capacity, b.tokens + (now - b.at) * b.rate)
        b.at = now
      end
      b.cut = math.max(b.rate * backoff, b.target * 0.02, 0.05)
      b.cut_at = now
      b.tokens = math.min(b.tokens, 0)
      save(b)
      cuts = cuts + 1
    end
  end
end
local last = buckets[#buckets]
local cut, cut_at = '', ''
if last.cut ~= nil then cut = fmt(last.cut); cut_at = fmt(last.cut_at) end
return {fmt(wait), fmt(now), cut, cut_at, tostring(cuts)}
"""


@dataclass(frozen=True)
class _Plan:
    """The buckets of one operation: names (as in ``throttles``), Redis keys, and the script's arguments."""

    category: str
    names: tuple[str, ...]
    keys: tuple[str, ...]
    args: tuple[str, ...]
    category_last: bool


@dataclass(frozen=True)
class _Seen:
    """A category's slowdown as of the last answer, and when that was (Redis time, and this process's)."""

    cut: float
    cut_at: float
    redis_now: float
    local_now: float


class _Unreachable(Exception):
    pass


if sys.version_info >= (3, 11):

    async def _within(seconds: float, work: Awaitable[Any]) -> Any:
        async with asyncio.timeout(seconds):  # no extra task, unlike wait_for: about 10 % of a call
            return await work

else:  # pragma: no cover - Python 3.10

    async def _within(seconds: float, work: Awaitable[Any]) -> Any:
        return await asyncio.wait_for(work, seconds)


class RedisQuotaPacer:
    """Waits before each call so that every process of an account and Region together stays under
    Cognito's quotas (see the module docstring).

    Args:
        redis: a ``redis.asyncio.Redis`` the caller made and owns (any ``decode_responses``).
        account, region: the AWS account id and Region the quotas belong to (part of the keys).
        overrides, utilization, burst_seconds, backoff, cooldown, recovery: as for ``QuotaPacer``.
        fallback: ``"error"`` or ``"local"``: what to do when Redis does not answer.
        local_share: with ``fallback="local"``, the fraction of each category's target this process takes
            meanwhile.
        prefix: the start of every key.
        timeout: seconds to wait for Redis before it counts as not answering.
        probe_interval: with ``fallback="local"``, how often to try Redis again.
        clock / sleep: injected for tests (``clock`` only times probes and ``current_rate``).
    """

    def __init__(
        self,
        redis: Redis,
        *,
        account: str,
        region: str,
        overrides: Mapping[str, float] | None = None,
        utilization: float = 0.95,
        fallback: Literal["error", "local"] = "error",
        local_share: float = 0.25,
        prefix: str = "aiocognito:",
        burst_seconds: float = 0.02,
        backoff: float = 0.5,
        cooldown: float = 0.5,
        recovery: float = 5.0,
        timeout: float = 1.0,
        probe_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        for what, value in (("account", account), ("region", region)):
            if not isinstance(value, str) or not _NAME.fullmatch(value):
                raise ConfigurationError(f"{what} must be 1-64 letters, digits, '.', '_' or '-'")
        if fallback not in ("error", "local"):
            raise ConfigurationError('fallback must be "error" or "local"')
        if not 0 < local_share <= 1:
            raise ConfigurationError("local_share must be in (0, 1]")
        if not 0 < utilization <= 1:
            raise ConfigurationError("utilization must be in (0, 1]")
        if not (timeout > 0 and probe_interval >= 0 and recovery >= 0 and cooldown >= 0):
            raise ConfigurationError("timeout must be positive; probe_interval, recovery, cooldown >= 0")
        # Checks overrides, backoff and the rest as QuotaPacer does; paces this process while Redis is away.
        self._local = QuotaPacer(
            overrides,
            utilization=utilization * local_share,
            burst_seconds=burst_seconds,
            backoff=backoff,
            cooldown=cooldown,
            recovery=recovery,
            clock=clock,
            sleep=sleep,
        )
        self.rates, self.per_pool_rate = quota_rates(overrides)
        self.account, self.region, self.fallback = account, region, fallback
        self.utilization, self.local_share = utilization, local_share
        self._base = f"{prefix}quota:{{{account}:{region}}}:"
        self._burst_seconds, self._backoff, self._cooldown, self._recovery = (
            burst_seconds,
            backoff,
            cooldown,
            recovery,
        )
        self._timeout, self._probe_interval = timeout, probe_interval
        self._clock, self._sleep = clock, sleep
        self._script = redis.register_script(SCRIPT)
        self._origin = _origin(redis)  # host:port for messages, never a password
        self._plans: dict[str, _Plan | None] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._seen: dict[str, _Seen] = {}
        self._local_until: float | None = None  # pacing locally (fallback="local"); the next probe's time
        self._probing = False
        self._background: set[asyncio.Task[None]] = set()  # throttle reports and probes
        #: Calls refused for rate, per bucket, as seen by this process.
        self.throttles: dict[str, int] = {}

    def __repr__(self) -> str:
        where = "local" if self._local_until is not None else "redis"
        return f"<RedisQuotaPacer account={self.account} region={self.region} fallback={self.fallback} on={where}>"

    @property
    def pacing_locally(self) -> bool:
        """True while Redis is away and this process paces itself (``fallback="local"``)."""
        return self._local_until is not None

    def key(self, bucket: str) -> str:
        """The Redis key of a bucket (a category name, or ``"op:<Operation>"``)."""
        return self._base + bucket

    # ----- the plan of an operation ------------------------------------------------------------------------
    def _plan(self, operation: str) -> _Plan | None:
        if operation in self._plans:
            return self._plans[operation]
        category = OPERATION_CATEGORY.get(operation)
        plan = None
        if category is not None:
            buckets: list[tuple[str, float]] = []
            if category in PER_POOL_CATEGORIES:  # the narrower bucket first, as in QuotaPacer
                buckets.append(("op:" + operation, self.per_pool_rate))
            buckets.append((category, self.rates[category]))
            plan = self._make_plan(category, [(n, q) for n, q in buckets if q != math.inf])
        self._plans[operation] = plan
        return plan

    def _make_plan(self, category: str, buckets: list[tuple[str, float]]) -> _Plan | None:
        if not buckets:
            return None
        args: list[str] = []
        for _, quota in buckets:
            target = quota * self.utilization
            args += [repr(target), repr(max(1.0, target * self._burst_seconds))]
        return _Plan(
            category=category,
            names=tuple(name for name, _ in buckets),
            keys=tuple(self.key(name) for name, _ in buckets),
            args=tuple(args),
            category_last=buckets[-1][0] == category,
        )

    # ----- Redis -------------------------------------------------------------------------------------------
    async def _call(self, mode: str, plan: _Plan, at: str = "") -> list[float | None]:
        keep = self._recovery + _KEEP_SECONDS
        args = [
            mode,
            at,
            repr(self._backoff),
            repr(self._cooldown),
            repr(self._recovery),
            repr(keep),
            *plan.args,
        ]
        try:
            reply: Any = await _within(self._timeout, self._script(keys=list(plan.keys), args=args))
        except (AuthenticationError, AuthorizationError) as exc:  # a misconfiguration, not an outage
            raise QuotaUnavailable(
                f"Redis at {self._origin} refused the quota pacer's credentials ({type(exc).__name__})"
            ) from exc
        except (RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError) as exc:
            raise _Unreachable(type(exc).__name__) from exc
        except RedisError as exc:
            raise QuotaUnavailable(
                f"Redis at {self._origin} refused the quota pacer's script "
                f"({type(exc).__name__}: {redact(str(exc))})"
            ) from exc
        values: list[float | None] = [float(v) if len(v) else None for v in reply]
        wait, now, cut, cut_at = values[:4]
        if plan.category_last and now is not None:
            if cut is not None and cut_at is not None:
                self._seen[plan.category] = _Seen(cut, cut_at, now, self._clock())
            else:
                self._seen.pop(plan.category, None)
        if self._local_until is not None:
            self._local_until = None
            logger.info("Redis answers again: quotas are paced across processes again")
        return values

    def _not_answering(self, exc: _Unreachable) -> None:
        why = f"Redis at {self._origin} did not answer the quota pacer ({exc.args[0]})"
        if self.fallback == "error":
            raise QuotaUnavailable(why + "; nothing was sent (fallback='error')") from exc.__cause__
        if self._local_until is None:
            logger.warning(
                "%s: pacing this process alone at %.0f%% of each quota until it answers",
                why,
                100 * self.local_share,
            )
        self._local_until = self._clock() + self._probe_interval

    def _redis_in_use(self, plan: _Plan) -> bool:
        """True when calls go to Redis. While pacing locally, starts a probe in the background when one is
        due, so that no call waits for a Redis that may not answer."""
        if self._local_until is None:
            return True
        if not self._probing and self._clock() >= self._local_until:
            self._probing = True
            self._local_until = self._clock() + self._probe_interval
            self._spawn(self._probe(plan))
        return False

    async def _probe(self, plan: _Plan) -> None:
        try:
            await self._call("peek", plan)  # on an answer, pacing is shared again
        except _Unreachable:
            pass
        except QuotaUnavailable as exc:
            logger.warning("%s", exc)
        finally:
            self._probing = False

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ----- the pacer interface -----------------------------------------------------------------------------
    async def acquire(self, operation: str) -> None:
        """Wait until ``operation`` may be sent. Unknown operation names are not paced.

        Raises:
            QuotaUnavailable: Redis did not answer (``fallback="error"``) or refused the script.
        """
        plan = self._plan(operation)
        if plan is None:
            return
        lock = self._locks.get(plan.category)
        if lock is None:
            lock = self._locks[plan.category] = asyncio.Lock()
        async with lock:  # one reservation per category and process at a time: cuts apply at once
            if self._redis_in_use(plan):
                try:
                    wait = (await self._call("take", plan))[0] or 0.0
                except _Unreachable as exc:
                    self._not_answering(exc)
                else:
                    if wait > 0:
                        await self._sleep(wait)
                    return
            await self._local.acquire(operation)

    def on_throttled(self, operation: str) -> None:
        """Cognito refused ``operation`` for rate: slow its buckets down in every process.

        The cut is sent to Redis in the background (see :meth:`flush`); while pacing locally, it applies to
        this process's buckets.
        """
        plan = self._plan(operation)
        if plan is None:
            return
        for name in plan.names:
            self.throttles[name] = self.throttles.get(name, 0) + 1
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop to send it from: this process slows down at least
            self._local.on_throttled(operation)
            return
        if self._local_until is not None:
            self._local.on_throttled(operation)
            return
        self._spawn(self._report(plan, operation))

    async def _report(self, plan: _Plan, operation: str) -> None:
        try:
            values = await self._call("throttle", plan)
        except _Unreachable as exc:
            if self.fallback == "local":
                self._not_answering(exc)
                self._local.on_throttled(operation)
            else:
                logger.warning("a throttle of %s could not be shared: Redis did not answer", operation)
        except QuotaUnavailable as exc:
            logger.warning("a throttle of %s could not be shared: %s", operation, exc)
        else:
            if values[4]:
                logger.debug("%s throttled: %s slowed down in every process", operation, plan.category)

    async def flush(self) -> None:
        """Wait until every throttle reported so far has reached Redis (or failed to), and any probe."""
        while self._background:
            await asyncio.gather(*list(self._background))

    def current_rate(self, category: str) -> float:
        """The rate (calls per second, all processes together) allowed for ``category`` now, as of this
        process's last answer from Redis (see :meth:`shared_rate`); while pacing locally, this process's."""
        quota = self.rates[category]
        if self._local_until is not None:
            return self._local.current_rate(category)
        if quota == math.inf:
            return math.inf
        target = quota * self.utilization
        seen = self._seen.get(category)
        if seen is None:
            return target
        now = seen.redis_now + (self._clock() - seen.local_now)
        return recovering_rate(target, seen.cut, seen.cut_at, now, self._recovery)

    async def shared_rate(self, category: str) -> float:
        """The rate allowed for ``category`` now, read from Redis (one round trip, nothing reserved).

        Raises:
            QuotaUnavailable: Redis did not answer or refused the script.
        """
        plan = self._make_plan(
            category, [(category, self.rates[category])] if self.rates[category] != math.inf else []
        )
        if plan is None:
            return math.inf
        try:
            await self._call("peek", plan)
        except _Unreachable as exc:
            why = f"Redis at {self._origin} did not answer the quota pacer ({exc.args[0]})"
            raise QuotaUnavailable(why) from exc.__cause__
        return self.current_rate(category)
