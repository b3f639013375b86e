"""Bulk jobs across processes, the worker side: :func:`run_worker`, and what the submitting side shares with
it (the keys, the encoding of rows and outcomes, the job's hash, the Lua scripts, the bounded wait for Redis).

:mod:`._jobs` is the public face (``submit_job``, ``wait_for_job``, ``JobReport``) and documents a job's life,
its keys and scripts, and why they are so; this module is the machinery underneath. A worker does not settle
rows itself: it feeds the rows it reads from the job's stream to an ordinary
:class:`~aiocognito.bulk.BulkJob` (the same worker pool, pacing, retries, "an unclear create is checked",
fail-fast :class:`~aiocognito.BulkJobAborted` as a single-process run), and records each
:class:`~aiocognito.bulk.Outcome` it yields.

Why one module over 600 lines: :mod:`._jobs` re-exports :func:`run_worker`, so everything the worker shares
with the submitting side (keys, codecs, the job's hash, scripts, the Redis guard) has to live here, below
it, or in a third module; they are one data layout, read best beside the worker that is its main user. Each
part is a section of its own, pure ones first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import secrets
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from redis import exceptions as redis_errors

from .. import bulk
from .._bulk_engine import BulkJob, Kind, Outcome, Status
from .._errors import (
    BulkJobAborted,
    CognitoError,
    ConfigurationError,
    ConnectionFailedError,
    CredentialsError,
    ParamValidationError,
    RequestTimeoutError,
    ResponseParseError,
    ServiceError,
    TransportError,
    redact,
)
from ..errors import error_class
from ._stores import RedisUnavailable, StoredValueError, _origin

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from .._wire.client import CognitoClient

__all__ = [
    "DEFAULT_PREFIX",
    "GROUP",
    "KINDS",
    "JobKeys",
    "JobLost",
    "JobMeta",
    "RedisGuard",
    "WorkerStats",
    "decode_row",
    "encode_outcome",
    "encode_row",
    "error_from",
    "parse_meta",
    "reconnect_delay",
    "row_entry_id",
    "run_worker",
]

logger = logging.getLogger("aiocognito.redis.jobs")

DEFAULT_PREFIX = "aiocognito:"
#: The consumer group of every job's stream.
GROUP = "workers"
#: The bulk operations a job can run, by the name of their :mod:`aiocognito.bulk` function.
KINDS: dict[str, Kind] = {
    "create_users": bulk._CREATE,
    "delete_users": bulk._DELETE,
    "add_users_to_group": bulk._ADD_TO_GROUP,
    "remove_users_from_group": bulk._REMOVE_FROM_GROUP,
    "update_user_attributes": bulk._UPDATE_ATTRIBUTES,
    "disable_users": bulk._DISABLE,
    "enable_users": bulk._ENABLE,
    "set_passwords": bulk._SET_PASSWORD,
}
STATES = ("submitting", "open", "done", "aborted")
_READ_BLOCK_MS = 500
_T = TypeVar("_T")


class JobLost(CognitoError):
    """A job's data is not in Redis: a wrong id, or its keys are gone (Redis restarted without persistence,
    keys evicted or deleted). Rows settled before are in the user pool; submit the rows again as a new job
    (users that exist count as "already")."""

    def __init__(self, job_id: str, what: str) -> None:
        self.job_id = job_id
        super().__init__(f"bulk job {job_id}: {what}")


# ----- keys and the pure encodings ------------------------------------------------------------------------
@dataclass(frozen=True)
class JobKeys:
    """The key names of one job (no secret in them: a prefix, the job id and a suffix)."""

    meta: str
    rows: str
    outcomes: str
    failures: str
    index: str

    @classmethod
    def of(cls, prefix: str, job_id: str) -> JobKeys:
        base = f"{prefix}job:{{{job_id}}}"
        return cls(base, base + ":rows", base + ":outcomes", base + ":failures", prefix + "jobs")

    @property
    def job(self) -> list[str]:
        """The keys the scripts touch (one hash slot)."""
        return [self.meta, self.rows, self.outcomes, self.failures]


def row_entry_id(index: int) -> str:
    """The stream ID of row ``index`` (0-based): fixed, so that a row cannot be added twice."""
    return f"0-{index + 1}"


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, (bytes, bytearray)) else str(value)


def encode_row(index: int, row: Mapping[str, Any] | str) -> dict[str, str]:
    """The stream entry of one row. Raises TypeError/ValueError for a row that is not JSON-able."""
    if isinstance(row, str):
        row = {"Username": row}
    if not isinstance(row, Mapping):
        raise TypeError(f"row {index}: a row must be a mapping or a str, not {type(row).__name__}")
    return {"i": str(index), "r": json.dumps(dict(row), separators=(",", ":"))}


def decode_row(fields: Mapping[Any, Any]) -> tuple[int, dict[str, Any]]:
    """(row number, row) from a stream entry's fields. Raises ValueError when they are not a row."""
    values = {_text(k): _text(v) for k, v in fields.items()}
    try:
        index = int(values["i"])
        row = json.loads(values["r"])
    except (KeyError, ValueError) as exc:
        raise ValueError("not a row entry") from exc
    if not isinstance(row, dict) or index < 0:
        raise ValueError("not a row entry")
    return index, row


def _error_code_and_message(error: CognitoError) -> tuple[str, str]:
    if isinstance(error, ServiceError) and error.code:
        return error.code, redact(str(error.message or ""), 500)
    return type(error).__name__, redact(str(error), 500)


def encode_outcome(index: int, outcome: Outcome) -> str:
    """The outcomes-hash value of a settled row: ``s``, ``a``, or the failure as JSON (its error's code and
    message, already scrubbed of the row's secrets by the bulk engine)."""
    if outcome.status == "succeeded":
        return "s"
    if outcome.status == "already":
        return "a"
    record: dict[str, Any] = {"i": index, "u": outcome.username, "n": outcome.attempts}
    if outcome.error is not None:
        record["c"], record["m"] = _error_code_and_message(outcome.error)
    return json.dumps(record, separators=(",", ":"))


_PLAIN_ERRORS: dict[str, type[CognitoError]] = {
    "CognitoError": CognitoError,
    "CredentialsError": CredentialsError,
    "ConfigurationError": ConfigurationError,
    "TransportError": TransportError,
    "ConnectionFailedError": ConnectionFailedError,
    "RequestTimeoutError": RequestTimeoutError,
    "RedisUnavailable": RedisUnavailable,
    "StoredValueError": StoredValueError,
}


def error_from(code: str, message: str) -> CognitoError:
    """A typed error again from a stored code and message: the service's class for a service code (``code``
    and ``message`` as the service gave them), the client-side class of that name (its text the stored
    one), else a :class:`CognitoError`."""
    plain = _PLAIN_ERRORS.get(code)
    if plain is not None:
        return plain(message)
    if code == "ParamValidationError":
        error: CognitoError = ParamValidationError("", [])
    elif code == "ResponseParseError":
        error = ResponseParseError("", operation=None, status=0, excerpt="")
    elif code and code[0].isupper() and code.isalnum() and not code.endswith("Error"):
        return error_class(code)(message, code=code)
    else:
        error = CognitoError()
    error.args = (
        message if code in ("ParamValidationError", "ResponseParseError") else f"{code}: {message}",
    )
    return error


@dataclass(frozen=True)
class JobMeta:
    """A job's hash, parsed (see :func:`parse_meta`)."""

    kind: str
    user_pool_id: str
    defaults: dict[str, Any]
    max_attempts: int
    max_failures: int
    state: str
    created: float
    submitted: int = 0
    total: int | None = None
    succeeded: int = 0
    already: int = 0
    failed: int = 0
    last: float | None = None
    abort: dict[str, str] = field(default_factory=dict)

    @property
    def settled(self) -> int:
        return self.succeeded + self.already + self.failed

    def aborted_error(self, report: Any = None) -> BulkJobAborted:
        """The :class:`BulkJobAborted` of an aborted job, rebuilt from what the stopping worker stored."""
        a = self.abort
        cause = error_from(a.get("code", "CognitoError"), a.get("message", ""))
        operation = a.get("operation") or KINDS[self.kind].operation
        return BulkJobAborted(operation, a.get("reason", "configuration"), cause, report)


def parse_meta(job_id: str, fields: Mapping[Any, Any]) -> JobMeta:
    """A job's hash as :class:`JobMeta`. Raises :class:`JobLost` when it is empty (the job is not there) and
    :class:`StoredValueError` when it is not a job's hash."""
    values = {_text(k): _text(v) for k, v in fields.items()}
    if not values:
        raise JobLost(job_id, "no such job in Redis (a wrong id, or its keys are gone: was Redis restarted "
                      "without persistence?)")  # fmt: skip
    try:
        kind, state = values["kind"], values["state"]
        if kind not in KINDS or state not in STATES:
            raise ValueError(kind)
        defaults = json.loads(values.get("defaults") or "{}")
        if not isinstance(defaults, dict):
            raise ValueError("defaults")
        total = values.get("total")
        last = values.get("last")
        return JobMeta(
            kind=kind,
            user_pool_id=values["pool"],
            defaults=defaults,
            max_attempts=int(values.get("max_attempts", "10")),
            max_failures=int(values.get("max_failures", "1000")),
            state=state,
            created=float(values["created"]),
            submitted=int(values.get("submitted", "0")),
            total=int(total) if total else None,
            succeeded=int(values.get("succeeded", "0")),
            already=int(values.get("already", "0")),
            failed=int(values.get("failed", "0")),
            last=float(last) if last else None,
            abort={k[6:]: v for k, v in values.items() if k.startswith("abort_")},
        )
    except (KeyError, ValueError) as exc:
        raise StoredValueError(f"bulk job {job_id}: its hash is not a job's ({type(exc).__name__})") from None


# ----- waiting for Redis ------------------------------------------------------------------------------------
def reconnect_delay(
    attempt: int,
    *,
    now: float,
    deadline: float,
    random: Callable[[], float] = random.random,
    base: float = 0.1,
    cap: float = 2.0,
) -> float | None:
    """How long to wait before Redis call attempt ``attempt + 1`` (1-based ``attempt`` failed), or None when
    ``deadline`` has passed. Pure: half fixed, half jitter, doubling from ``base`` up to ``cap``, and never
    past the deadline (the last try happens at the deadline)."""
    if now >= deadline:
        return None
    step = min(cap, base * 2.0 ** (attempt - 1))
    return min(deadline - now, step / 2 + random() * step / 2)


class RedisGuard:
    """Runs Redis calls, waiting out an unreachable Redis for up to ``retry_for`` seconds per call.

    Connection errors and timeouts (Redis down, restarting, loading its data) are retried; other error
    replies are not (``NOGROUP`` means the job's stream is gone: :class:`JobLost`). Past the time:
    :class:`RedisUnavailable`, naming Redis's host and port, never the URL (it may hold a password).
    """

    def __init__(
        self,
        redis: Redis,
        retry_for: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        random: Callable[[], float] = random.random,
    ) -> None:
        self.redis = redis
        self.retry_for = retry_for
        self._clock, self._sleep, self._random = clock, sleep, random
        #: How many times a call waited for Redis to come back.
        self.waits = 0

    async def __call__(self, call: Callable[[], Awaitable[_T]], *, job_id: str = "") -> _T:
        deadline: float | None = None
        attempt = 0
        while True:
            try:
                result = await call()
            except redis_errors.AuthenticationError:
                raise RedisUnavailable(f"Redis at {_origin(self.redis)} refused the credentials") from None
            except (redis_errors.ConnectionError, redis_errors.TimeoutError) as exc:
                now = self._clock()
                deadline = now + self.retry_for if deadline is None else deadline
                attempt += 1
                delay = reconnect_delay(attempt, now=now, deadline=deadline, random=self._random)
                if delay is None:
                    raise RedisUnavailable(
                        f"Redis at {_origin(self.redis)} did not answer for {self.retry_for:g}s "
                        f"({type(exc).__name__}); the job's rows stay in Redis for a later worker"
                    ) from None
                if attempt == 1:
                    logger.warning(
                        "Redis at %s is unreachable (%s): retrying", _origin(self.redis), type(exc).__name__
                    )
                self.waits += 1
                await self._sleep(delay)
                continue
            except redis_errors.ResponseError as exc:
                text = str(exc)
                if text.startswith("NOGROUP") or "no such key" in text.lower():
                    raise JobLost(
                        job_id, "its rows stream is gone from Redis (restarted without persistence?)"
                    ) from None
                raise RedisUnavailable(
                    f"Redis at {_origin(self.redis)} refused a command: {redact(text.split(chr(10))[0], 120)}"
                ) from None
            if attempt:
                logger.warning("Redis at %s answers again", _origin(self.redis))
            return result


# ----- the scripts ------------------------------------------------------------------------------------------
# KEYS: meta, rows, outcomes, failures. Ends the job once every row has an outcome and the submission is sealed.
FINISH_SCRIPT = """
local function finish_if_complete()
  local m = redis.call('HMGET', KEYS[1], 'state', 'total', 'succeeded', 'already', 'failed', 'keep')
  if m[1] ~= 'open' or not m[2] then return end
  if (tonumber(m[3]) or 0) + (tonumber(m[4]) or 0) + (tonumber(m[5]) or 0) < tonumber(m[2]) then return end
  local t = redis.call('TIME')
  local now = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
  redis.call('HSET', KEYS[1], 'state', 'done', 'finished', now)
  local keep = tonumber(m[6]) or 0
  if keep > 0 then
    for i = 1, 4 do redis.call('EXPIRE', KEYS[i], keep) end
  end
end
"""

# ARGV: group, entry id, row number, status, value. Returns 1 (recorded), 0 (had an outcome), -1 (no job).
_RECORD = (
    FINISH_SCRIPT
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local added = redis.call('HSETNX', KEYS[3], ARGV[3], ARGV[5])
if added == 1 then
  redis.call('HINCRBY', KEYS[1], ARGV[4], 1)
  if ARGV[4] == 'failed' then
    local cap = tonumber(redis.call('HGET', KEYS[1], 'max_failures')) or 1000
    if redis.call('LLEN', KEYS[4]) < cap then redis.call('RPUSH', KEYS[4], ARGV[5]) end
  end
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'last', t[1] .. '.' .. string.format('%06d', tonumber(t[2])))
end
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
finish_if_complete()
return added
"""
)

# ARGV: reason, operation, code, message. Returns 1 when this call stopped the job.
_ABORT = """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'open' and state ~= 'submitting' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'aborted', 'abort_reason', ARGV[1], 'abort_operation', ARGV[2],
           'abort_code', ARGV[3], 'abort_message', ARGV[4])
return 1
"""

# KEYS: rows. ARGV: group, consumer, entry ids. Re-claims (idle 0, not a delivery) the ids still in this
# consumer's PEL, so that a live worker's rows are not taken over; returns how many.
_TOUCH = """
local claim = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then claim[#claim + 1] = ARGV[i] end
end
if #claim == 5 then return 0 end
claim[#claim + 1] = 'JUSTID'
return #redis.call(unpack(claim))
"""


# ----- the worker ------------------------------------------------------------------------------------------
@dataclass
class WorkerStats:
    """What one worker did: the outcomes it recorded first (``succeeded``, ``already``, ``failed``), rows
    whose outcome was already recorded (``duplicates``: settled by a worker thought dead, or recorded by this
    one just before a connection broke; counted once in the job), rows it took over from dead workers
    (``reclaimed``), the jobs it worked on, and its waits for Redis (``redis_waits``)."""

    consumer: str
    jobs: list[str] = field(default_factory=list)
    succeeded: int = 0
    already: int = 0
    failed: int = 0
    duplicates: int = 0
    reclaimed: int = 0
    redis_waits: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def settled(self) -> int:
        return self.succeeded + self.already + self.failed

    @property
    def elapsed(self) -> float:
        return (self.finished if self.finished is not None else time.monotonic()) - self.started

    def summary(self) -> str:
        return (
            f"worker {self.consumer}: {self.settled} rows settled ({self.succeeded} succeeded, "
            f"{self.already} already, {self.failed} failed), {self.reclaimed} taken over, {self.duplicates} duplicates "
            f"in {self.elapsed:.1f}s"
        )


def default_consumer() -> str:
    """``host-pid-random``: unique per worker process, so that a restarted worker is a new consumer."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass
class _Held:
    """A row this worker holds: its entry, its number in the job, since when it is unclear (taken over)."""

    entry_id: str
    index: int
    row: dict[str, Any]
    unclear_since: datetime | None


@dataclass
class _Worker:
    """What a worker's runs on each job share."""

    redis: Redis
    client: CognitoClient
    guard: RedisGuard
    scripts: dict[str, Any]
    consumer: str
    concurrency: int
    idle_reclaim: float
    stats: WorkerStats


class _JobRun:
    """One worker on one job: reads (and takes over) rows, feeds them to a BulkJob, records the outcomes."""

    def __init__(self, worker: _Worker, keys: JobKeys, job_id: str, meta: JobMeta, *, stay: bool) -> None:
        #: True: wait for rows while the job is open (a named job); False: return when there are none now.
        self.stay = stay
        self.redis, self.guard, self.scripts, self.stats = (
            worker.redis,
            worker.guard,
            worker.scripts,
            worker.stats,
        )
        self.client, self.consumer = worker.client, worker.consumer
        self.concurrency, self.idle_reclaim = worker.concurrency, worker.idle_reclaim
        self.keys, self.job_id, self.meta = keys, job_id, meta
        self._buffer: deque[_Held] = deque()
        self._held: dict[int, _Held] = {}  # by the BulkJob's index (the order rows were handed to it)
        self._handed = 0
        self._claim_cursor = "0-0"
        self._next_claim = 0.0
        self._next_state = 0.0
        self._unclear = datetime.fromtimestamp(meta.created, timezone.utc)

    async def run(self) -> None:
        job = BulkJob(
            self.client,
            self.meta.user_pool_id,
            self._rows(),
            KINDS[self.meta.kind],
            concurrency=self.concurrency,
            defaults=self.meta.defaults,
            max_failures=self.meta.max_failures,
            max_attempts=self.meta.max_attempts,
            unclear_since=lambda index: self._held[index].unclear_since if index in self._held else None,
        )
        heartbeat = asyncio.ensure_future(self._heartbeat())
        try:
            async for outcome in job.results():
                held = self._held.pop(outcome.index)
                await self._record(held, outcome)
        except BulkJobAborted as stop:
            code, message = _error_code_and_message(stop.cause)
            args = [stop.reason, stop.operation, code, message]
            await self.guard(
                partial(self.scripts["abort"], keys=self.keys.job, args=args), job_id=self.job_id
            )
            raise
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    # ----- rows in -----
    async def _rows(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            if self._buffer:
                held = self._buffer.popleft()
                self._held[self._handed] = held
                self._handed += 1
                yield held.row
                continue
            now = time.monotonic()
            if now >= self._next_claim:
                self._next_claim = now + min(1.0, self.idle_reclaim / 4)
                if await self._take_over():
                    continue
            if now >= self._next_state:
                self._next_state = now + 0.5
                if not await self._still_open():
                    return
            if not await self._read():
                if not self.stay:
                    return  # nothing for us now: let the worker look at the other jobs
                self._next_state = 0.0  # nothing new: look at the job's state before blocking again

    async def _still_open(self) -> bool:
        fields = await self.guard(lambda: self.redis.hgetall(self.keys.meta), job_id=self.job_id)
        return parse_meta(self.job_id, fields).state in ("open", "submitting")

    async def _read(self) -> bool:
        reply = await self.guard(
            lambda: self.redis.xreadgroup(
                GROUP, self.consumer, {self.keys.rows: ">"}, count=self.concurrency, block=_READ_BLOCK_MS
            ),
            job_id=self.job_id,
        )
        entries = _stream_entries(reply)
        await self._hold(entries, unclear=False)
        return bool(entries)

    async def _take_over(self) -> bool:
        """XAUTOCLAIM rows idle for ``idle_reclaim`` seconds (their worker died); skip those settled since."""
        reply = await self.guard(
            lambda: self.redis.xautoclaim(
                self.keys.rows,
                GROUP,
                self.consumer,
                int(self.idle_reclaim * 1000),
                self._claim_cursor,
                count=self.concurrency,
            ),
            job_id=self.job_id,
        )
        self._claim_cursor = _text(reply[0]) if reply and reply[0] else "0-0"
        entries = [(_text(i), f) for i, f in (reply[1] if len(reply) > 1 else []) if f]
        if not entries:
            return False
        indexes = [_entry_index(entry_id) for entry_id, _ in entries]
        settled = await self.guard(lambda: self.redis.hmget(self.keys.outcomes, indexes), job_id=self.job_id)
        fresh = [e for e, s in zip(entries, settled, strict=True) if s is None]
        done = [entry_id for (entry_id, _), s in zip(entries, settled, strict=True) if s is not None]
        if done:  # settled and recorded, acknowledgement and all, by a worker we thought dead: drop them
            self.stats.duplicates += len(done)
            await self.guard(lambda: _ack(self.redis, self.keys.rows, done), job_id=self.job_id)
        self.stats.reclaimed += len(fresh)
        if fresh:
            logger.info("bulk job %s: took over %d rows of a stopped worker", self.job_id, len(fresh))
        await self._hold(fresh, unclear=True)
        return bool(fresh)

    async def _hold(self, entries: list[tuple[str, Any]], *, unclear: bool) -> None:
        for entry_id, fields in entries:
            try:
                index, row = decode_row(fields)
            except ValueError:
                index = _entry_index(entry_id)
                error = StoredValueError(f"bulk job {self.job_id}: stream entry {entry_id} is not a row")
                await self._record(_Held(entry_id, index, {}, None), Outcome(index, None, "failed", error, 0))
                continue
            self._buffer.append(_Held(entry_id, index, row, self._unclear if unclear else None))

    # ----- outcomes out -----
    async def _record(self, held: _Held, outcome: Outcome) -> None:
        value = encode_outcome(held.index, outcome)
        added = await self.guard(
            lambda: self.scripts["record"](
                keys=self.keys.job, args=[GROUP, held.entry_id, held.index, outcome.status, value]
            ),
            job_id=self.job_id,
        )
        if added == -1:
            raise JobLost(self.job_id, "its keys are gone from Redis (restarted without persistence?)")
        if added == 0:
            self.stats.duplicates += 1
            return
        status: Status = outcome.status
        setattr(self.stats, status, getattr(self.stats, status) + 1)

    async def _heartbeat(self) -> None:
        """Keep the rows this worker holds from being taken over while it is alive."""
        while True:
            await asyncio.sleep(self.idle_reclaim / 3)
            ids = [h.entry_id for h in (*self._buffer, *self._held.values())]
            if not ids:
                continue
            try:
                await self.scripts["touch"](keys=[self.keys.rows], args=[GROUP, self.consumer, *ids])
            except (
                redis_errors.RedisError
            ) as exc:  # the main loop waits for Redis; this one just skips a beat
                logger.debug("bulk job %s: heartbeat skipped (%s)", self.job_id, type(exc).__name__)


def _entry_index(entry_id: str) -> int:
    try:
        return int(entry_id.split("-", 1)[1]) - 1
    except (IndexError, ValueError):
        return -1


def _is_entry(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 2 and isinstance(value[0], (bytes, str))


def _stream_entries(reply: Any) -> list[tuple[str, Any]]:
    """The entries of an XREADGROUP reply, RESP2 (a list of [stream, entries]) or RESP3 (a dict of stream to
    [entries]) shaped; entries whose data was deleted are left out."""
    if not reply:
        return []
    streams = reply.items() if isinstance(reply, dict) else reply
    out: list[tuple[str, Any]] = []
    for item in streams:
        entries = item[1]
        while entries and not _is_entry(entries[0]) and isinstance(entries[0], (list, tuple)):
            entries = entries[0]  # RESP3 nests the entries one level deeper
        out.extend((_text(e[0]), e[1]) for e in entries or () if _is_entry(e) and e[1] is not None)
    return out


async def _ack(redis: Redis, stream: str, ids: list[str]) -> None:
    pipe = redis.pipeline(transaction=True)
    pipe.xack(stream, GROUP, *ids)
    pipe.xdel(stream, *ids)
    await pipe.execute()


def register_scripts(redis: Redis) -> dict[str, Any]:
    """The job scripts, registered on ``redis`` (redis-py loads them again after a Redis restart)."""
    return {
        "record": redis.register_script(_RECORD),
        "abort": redis.register_script(_ABORT),
        "touch": redis.register_script(_TOUCH),
    }


async def run_worker(
    redis: Redis,
    client: CognitoClient,
    *,
    job_id: str | None = None,
    consumer: str | None = None,
    concurrency: int = 16,
    idle_reclaim: float = 30.0,
    stop_when_done: bool = True,
    prefix: str = DEFAULT_PREFIX,
    redis_retry_for: float = 30.0,
    poll: float = 1.0,
) -> WorkerStats:
    """Work on bulk jobs from Redis: settle rows with ``client`` until the job (or every job) is done.

    Args:
        redis: the client of the Redis that holds the jobs (the caller's; not closed here). Give it a
            ``socket_timeout`` (over 1 s: reads block for 0.5 s), or a Redis that hangs hangs the worker.
        client: the Cognito client that makes the calls; its pacer paces them (give it a shared one,
            ``RedisQuotaPacer``, to pace every worker together).
        job_id: the job to work on; None or ``"any"``: every job not yet done, oldest first.
        consumer: this worker's name in the consumer group (default: ``host-pid-random``). A worker
            restarted under the same name carries on with the rows it held (they are then unclear).
        concurrency: calls in flight (and rows held beyond them, at most as many again).
        idle_reclaim: seconds a row may sit with a worker that shows no sign of life before another
            worker takes it over (live workers renew theirs every third of it).
        stop_when_done: return when there is nothing left: the job is done (or stopped), or, for any job,
            no job is open. False: with ``"any"``, wait for new jobs until cancelled.
        prefix: the start of every key name (as given to ``submit_job``).
        redis_retry_for: how long one Redis call waits for an unreachable Redis before
            :class:`RedisUnavailable` is raised.
        poll: seconds between looks for new jobs, with ``"any"`` and nothing to do.

    Returns:
        The worker's :class:`WorkerStats`.

    Raises:
        BulkJobAborted: the job stopped on an error that concerns all of it (this worker's, or another's
            for a named job); the rows not settled stay in the stream.
        JobLost: the job's keys are gone; RedisUnavailable: Redis did not come back in time.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if idle_reclaim <= 0:
        raise ValueError("idle_reclaim must be positive")
    stats = WorkerStats(consumer or default_consumer())
    guard = RedisGuard(redis, redis_retry_for)
    worker = _Worker(
        redis, client, guard, register_scripts(redis), stats.consumer, concurrency, idle_reclaim, stats
    )
    try:
        while True:
            if job_id is not None and job_id != "any":
                chosen = job_id
            else:
                found = await _next_open_job(
                    redis, guard, prefix, after=stats.jobs[-1] if stats.jobs else None
                )
                if found is None:
                    if stop_when_done:
                        return stats
                    await asyncio.sleep(poll)
                    continue
                chosen = found
            keys = JobKeys.of(prefix, chosen)
            meta = parse_meta(chosen, await guard(partial(redis.hgetall, keys.meta), job_id=chosen))
            if meta.state in ("open", "submitting"):
                if chosen in stats.jobs:
                    stats.jobs.remove(chosen)
                stats.jobs.append(chosen)  # the last one worked on comes last
                run = _JobRun(worker, keys, chosen, meta, stay=chosen == job_id)
                await run.run()
                meta = parse_meta(chosen, await guard(partial(redis.hgetall, keys.meta), job_id=chosen))
            if meta.state == "aborted":
                if chosen == job_id:
                    raise meta.aborted_error(None)
                logger.warning("bulk job %s was stopped: %s", chosen, meta.aborted_error(None))
            if meta.state in ("done", "aborted"):
                await guard(partial(redis.zrem, keys.index, chosen), job_id=chosen)
            if chosen == job_id:
                return stats
    finally:
        stats.finished = time.monotonic()
        stats.redis_waits = guard.waits


async def _next_open_job(redis: Redis, guard: RedisGuard, prefix: str, *, after: str | None) -> str | None:
    """The next job of the index still open, in creation order, starting after ``after`` (so a worker goes
    round the open jobs, and a job whose submission stalled does not hold it); jobs that are done, stopped
    or gone leave the index."""
    index = prefix + "jobs"
    ids = [_text(raw) for raw in await guard(lambda: redis.zrange(index, 0, 99))]
    if after in ids:
        cut = ids.index(after) + 1
        ids = ids[cut:] + ids[:cut]
    for job_id in ids:
        state = await guard(partial(redis.hget, JobKeys.of(prefix, job_id).meta, "state"))
        if state is not None and _text(state) in ("open", "submitting"):
            return job_id
        await guard(partial(redis.zrem, index, job_id))
    return None
