"""Bulk jobs across processes, the worker side: :func:`run_worker`.

:mod:`._jobs` is the public face (``submit_job``, ``wait_for_job``, ``JobReport``) and documents a job's life,
its keys and scripts, and why they are so; this module is the machinery underneath. A worker does not settle
rows itself: it feeds the rows it reads from the job's stream to an ordinary
:class:`~aiocognito.bulk.BulkJob` (the same worker pool, pacing, retries, "an unclear create is checked",
fail-fast :class:`~aiocognito.BulkJobAborted` as a single-process run), and records each
:class:`~aiocognito.bulk.Outcome` it yields.

What the worker shares with the submitting side (keys, codecs, the job's hash, scripts, the Redis guard)
is in :mod:`._job_layout`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from redis import exceptions as redis_errors

from .._bulk_engine import BulkJob, Outcome, Status
from .._errors import (
    BulkJobAborted,
)
from .._tasks import stop_task
from ._job_layout import (
    ABORT_SCRIPT,
    DEFAULT_PREFIX,
    GROUP,
    KINDS,
    RECORD_SCRIPT,
    TOUCH_SCRIPT,
    JobKeys,
    JobLost,
    JobMeta,
    RedisGuard,
    decode_row,
    encode_outcome,
    encode_row,
    error_code_and_message,
    error_from,
    parse_meta,
    reconnect_delay,
    row_entry_id,
    text_of,
)
from ._stores import StoredValueError

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

_READ_BLOCK_MS = 500
_T = TypeVar("_T")


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
            code, message = error_code_and_message(stop.cause)
            args = [stop.reason, stop.operation, code, message]
            await self.guard(
                partial(self.scripts["abort"], keys=self.keys.job, args=args), job_id=self.job_id
            )
            raise
        finally:
            await stop_task(heartbeat)

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
        self._claim_cursor = text_of(reply[0]) if reply and reply[0] else "0-0"
        entries = [(text_of(i), f) for i, f in (reply[1] if len(reply) > 1 else []) if f]
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
        out.extend((text_of(e[0]), e[1]) for e in entries or () if _is_entry(e) and e[1] is not None)
    return out


async def _ack(redis: Redis, stream: str, ids: list[str]) -> None:
    pipe = redis.pipeline(transaction=True)
    pipe.xack(stream, GROUP, *ids)
    pipe.xdel(stream, *ids)
    await pipe.execute()


def register_scripts(redis: Redis) -> dict[str, Any]:
    """The job scripts, registered on ``redis`` (redis-py loads them again after a Redis restart)."""
    return {
        "record": redis.register_script(RECORD_SCRIPT),
        "abort": redis.register_script(ABORT_SCRIPT),
        "touch": redis.register_script(TOUCH_SCRIPT),
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
    ids = [text_of(raw) for raw in await guard(lambda: redis.zrange(index, 0, 99))]
    if after in ids:
        cut = ids.index(after) + 1
        ids = ids[cut:] + ids[:cut]
    for job_id in ids:
        state = await guard(partial(redis.hget, JobKeys.of(prefix, job_id).meta, "state"))
        if state is not None and text_of(state) in ("open", "submitting"):
            return job_id
        await guard(partial(redis.zrem, index, job_id))
    return None
