"""Bulk jobs split across worker processes through a Redis Stream: :func:`submit_job`, :func:`run_worker`,
:func:`wait_for_job` and :class:`JobReport`.

::

    job_id = await submit_job(redis, rows, user_pool_id="eu-west-1_AbC123")      # any process
    stats = await run_worker(redis, cognito, job_id=job_id)                        # any number of processes
    report = await wait_for_job(redis, job_id, on_progress=print)                  # any process
    print(report.succeeded, report.already, report.failed, report.failures[:10])

or, from the command line, ``aiocognito users import --redis URL --user-pool-id ID users.csv`` (submits and
shows the whole job's progress) and ``aiocognito worker --redis URL`` on as many machines as you like.

A job's life: ``submit_job`` creates the job (its hash, its stream with the consumer group ``workers``, an
entry in the index of open jobs; state ``submitting``), appends the rows in batches (one Lua script per
batch, fixed stream IDs, so nothing is added twice), then seals it with the row count (``open``). Workers
may start before, during or after the submission. Each worker reads rows with ``XREADGROUP``, settles them
with the single-process bulk engine (:mod:`aiocognito.bulk`: pacing, retries, "an unclear create is
checked", the stop on an error that concerns the whole job), and records each outcome with its
acknowledgement in one script; rows a dead worker held are taken over with ``XAUTOCLAIM`` after
``idle_reclaim`` seconds and settled as unclear. The script that records the last outcome marks the job
``done``; a worker that meets an error concerning the whole job (credentials, the pool, the endpoint) marks it
``aborted``, and every worker on it stops, as does ``wait_for_job`` (raising
:class:`~aiocognito.BulkJobAborted`). ``submit_job`` with the same ``job_id`` and rows resumes an aborted
(or half-submitted) job: the rows already in the stream are skipped, the unsettled ones are taken over.
A job whose submission broke off stays ``submitting`` (its workers wait for the rest) until then. A worker on
every job (``job_id="any"``) goes round the open ones, oldest first, moving on when one has no row for it.

One job's keys share the hash tag ``{id}``, so every script touches one slot (Redis Cluster works):

=====================================  ==============================================================
``{prefix}job:{id}``                   hash: kind, pool, options, ``state``, ``total``, the counts
``{prefix}job:{id}:rows``              stream: one entry per row, ID ``0-<row+1>``, consumer group ``workers``
``{prefix}job:{id}:outcomes``          hash: row number -> ``s`` (succeeded), ``a`` (already) or the failure
``{prefix}job:{id}:failures``          list: the first ``max_failures`` failures (JSON)
``{prefix}jobs``                       sorted set: the jobs not yet done, by creation time
=====================================  ==============================================================

Why this design:

* **The stream is the queue, the group is the lease.** ``XREADGROUP`` hands each row to one worker and
  keeps it in that worker's pending list (PEL) until acknowledged. A worker that dies leaves its rows
  there; any other worker takes them over with ``XAUTOCLAIM`` once they have been idle ``idle_reclaim``
  seconds. A live worker keeps the rows it holds from going idle: every third of ``idle_reclaim`` a Lua
  script re-claims (``XCLAIM ... JUSTID``, which does not count as a delivery) those still in its own PEL,
  so a slow row (throttled for a minute) is not taken from a worker that is still on it.
* **A taken-over row is unclear**: its first worker may have sent the call. It is settled as after an
  ambiguous attempt made when the job was created: for a create, ``UsernameExistsException`` is checked
  with ``AdminGetUser`` (a user created since then, with the row's attributes, is this job's: succeeded).
* **Outcomes are idempotent per row, and recorded with the acknowledgement.** One Lua script does
  ``HSETNX outcomes <row> ...``, counts the outcome only when that field was new, keeps a failure, then
  ``XACK`` and ``XDEL`` (a settled row's data, a temporary password included, leaves Redis). The outcome
  and the acknowledgement happen together or not at all, so a crash can only leave a row unacknowledged
  and without outcome (it is redone, as unclear) and a row settled twice (a worker believed dead was only
  slow) is counted once. The field is the row's number rather than its username so that two rows with
  one username (an import file that repeats a user) are both counted, the second as "already".
* **Rows have fixed stream IDs** (``0-1``, ``0-2``, ...): ``XADD`` refuses an ID not above the stream's
  last one, so re-sending a batch after a lost reply, or re-submitting a job with the same ``job_id``,
  never adds a row twice.
* **The job ends in a script.** The script that records the last outcome (or seals the submission, when
  the workers were faster) sets ``state`` to ``done``; the job's keys then expire after ``keep_for``.

When Redis goes away: every Redis call (of workers, ``submit_job`` and ``wait_for_job``) is retried with
capped, jittered backoff (``reconnect_delay``) for up to ``redis_retry_for`` seconds (30 by default), then
``RedisUnavailable`` is raised and the worker stops. Nothing is lost: the rows it held stay in its PEL
(another worker, or itself once restarted, takes them over as unclear rows) and its outcomes are either
recorded with their acknowledgement or not at all. A job whose keys are gone (a Redis restarted without
persistence, keys evicted, a wrong id) raises :class:`JobLost` in workers and in ``wait_for_job``: run the
rows again as a new job (users that exist count as "already"). A Redis that must survive a restart with its
jobs needs persistence (``appendonly yes``; ``appendfsync always`` if it may be killed, not only restarted),
and a ``maxmemory-policy`` that does not evict (``noeviction``).

Rows stay in Redis until settled (then they are deleted): a row's temporary password, if it has one, is
stored in the stream until then. Keep such imports on a Redis you would trust with the CSV file.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import secrets
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from .._bulk_engine import BulkReport, Outcome
from .._wire.validate import check_user_pool_id
from ._job_layout import (
    DEFAULT_PREFIX,
    FINISH_SCRIPT,
    GROUP,
    KINDS,
    JobKeys,
    JobLost,
    JobMeta,
    RedisGuard,
    encode_row,
    error_from,
    parse_meta,
    text_of,
)
from ._job_worker import WorkerStats, run_worker
from ._stores import StoredValueError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "JobLost",
    "decode_failure",
    "JobReport",
    "WorkerStats",
    "job_report",
    "run_worker",
    "submit_job",
    "wait_for_job",
]

#: Seconds a finished job's keys are kept (its report can be read that long).
DEFAULT_KEEP_FOR = 7 * 24 * 3600

# KEYS: meta, rows. ARGV: kind, pool, defaults, max_attempts, max_failures, keep, group.
# Returns {"created", 0}, {"resumed", rows already submitted}, or {"exists", state} / {"other", state}.
_OPEN = """
local state = redis.call('HGET', KEYS[1], 'state')
if state then
  local m = redis.call('HMGET', KEYS[1], 'kind', 'pool', 'submitted')
  if state == 'done' or state == 'open' then return {'exists', state} end
  if m[1] ~= ARGV[1] or m[2] ~= ARGV[2] then return {'other', state} end
  redis.call('HSET', KEYS[1], 'state', 'submitting')
  redis.pcall('XGROUP', 'CREATE', KEYS[2], ARGV[7], '0', 'MKSTREAM')
  return {'resumed', m[3] or '0'}
end
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'version', '1', 'kind', ARGV[1], 'pool', ARGV[2], 'defaults', ARGV[3],
           'max_attempts', ARGV[4], 'max_failures', ARGV[5], 'keep', ARGV[6], 'state', 'submitting',
           'created', t[1] .. '.' .. string.format('%06d', tonumber(t[2])), 'submitted', '0',
           'succeeded', '0', 'already', '0', 'failed', '0')
redis.pcall('XGROUP', 'CREATE', KEYS[2], ARGV[7], '0', 'MKSTREAM')
return {'created', '0'}
"""

# KEYS: meta, rows. ARGV: first row number, then one JSON row each. Adds rows first.. with IDs 0-(n+1); a row
# already there (a batch sent again) is skipped. Returns the rows submitted so far, or -1 (no job).
_APPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
local first = tonumber(ARGV[1])
for i = 2, #ARGV do
  local n = first + i - 2
  local ok = redis.pcall('XADD', KEYS[2], '0-' .. (n + 1), 'i', n, 'r', ARGV[i])
  if type(ok) == 'table' and ok.err and not string.find(ok.err, 'equal or smaller') then
    return redis.error_reply(ok.err)
  end
end
local submitted = math.max(first + #ARGV - 1, tonumber(redis.call('HGET', KEYS[1], 'submitted')) or 0)
redis.call('HSET', KEYS[1], 'submitted', submitted)
return submitted
"""

# ARGV: total. Returns the state after sealing, or -1 (no job).
_SEAL = (
    FINISH_SCRIPT
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'total', ARGV[1])
if redis.call('HGET', KEYS[1], 'state') == 'submitting' then redis.call('HSET', KEYS[1], 'state', 'open') end
finish_if_complete()
return redis.call('HGET', KEYS[1], 'state')
"""
)


@dataclass(repr=False)
class JobReport(BulkReport):
    """A bulk job's report, for all its workers together: the counts, the kept failures (each an
    :class:`~aiocognito.bulk.Outcome` with its typed error, ``index`` its row number), and where it stands.

    A :class:`~aiocognito.bulk.BulkReport` (``summary()``, ``processed``, ``rate``, ``ok``...) whose time runs
    on Redis's clock, from the job's creation to its last outcome.
    """

    job_id: str = ""
    #: Rows in the job; None while it is being submitted.
    total: int | None = None
    #: ``submitting``, ``open``, ``done`` or ``aborted``.
    state: str = "submitting"
    #: Rows submitted so far.
    submitted: int = 0
    #: Redis's Unix times: the job's creation, its last recorded outcome, and when this report was read.
    created_at: float = 0.0
    last_outcome_at: float | None = None
    as_of: float = 0.0

    @property
    def done(self) -> bool:
        """Every row has an outcome."""
        return self.state == "done"

    @property
    def elapsed(self) -> float:
        end = self.last_outcome_at if self.done and self.last_outcome_at is not None else self.as_of
        return max(0.0, end - self.created_at)

    def __repr__(self) -> str:
        total = "?" if self.total is None else self.total
        return f"<JobReport {self.job_id} {self.state} {self.processed}/{total}: {self.summary()}>"


def report_from(job_id: str, meta: JobMeta, failures: list[Outcome], as_of: float) -> JobReport:
    """The :class:`JobReport` of a job's parsed hash and kept failures, read at Redis time ``as_of``. Pure."""
    return JobReport(
        KINDS[meta.kind].operation,
        succeeded=meta.succeeded,
        already=meta.already,
        failed=meta.failed,
        failures=failures,
        failures_dropped=max(0, meta.failed - len(failures)),
        max_failures=meta.max_failures,
        job_id=job_id,
        total=meta.total,
        state=meta.state,
        submitted=meta.submitted,
        created_at=meta.created,
        last_outcome_at=meta.last,
        as_of=as_of,
    )


async def submit_job(
    redis: Redis,
    rows: Iterable[Mapping[str, Any] | str] | AsyncIterable[Mapping[str, Any] | str],
    *,
    user_pool_id: str,
    kind: str = "create_users",
    defaults: Mapping[str, Any] | None = None,
    group_name: str | None = None,
    max_attempts: int = 10,
    max_failures: int = 1000,
    keep_for: float = DEFAULT_KEEP_FOR,
    job_id: str | None = None,
    prefix: str = DEFAULT_PREFIX,
    batch_size: int = 500,
    redis_retry_for: float = 30.0,
) -> str:
    """Put a bulk job's rows in Redis for :func:`run_worker` processes; returns the job's id.

    Args:
        redis: the client of the Redis the workers use (the caller's; not closed here).
        rows: the rows (as for :mod:`aiocognito.bulk`: the operation's parameters without ``UserPoolId``, or
            usernames), from an iterable or an async iterable, read once, one batch in memory at a time.
        user_pool_id: the pool every row goes to.
        kind: the :mod:`aiocognito.bulk` function: ``create_users`` (default), ``delete_users``,
            ``add_users_to_group``, ``remove_users_from_group``, ``update_user_attributes``,
            ``disable_users``, ``enable_users``, ``set_passwords``.
        defaults: parameters for every row (a row's own values win); ``group_name`` fills in ``GroupName``.
        max_attempts, max_failures: as for :mod:`aiocognito.bulk` (per row attempts; failures kept).
        keep_for: seconds the job's keys (and its report) are kept once it is done.
        job_id: the job's id (default: a random one). Given again with the same rows, it resumes a job that
            was stopped (``aborted``) or whose submission broke off; a job that is open or done is refused.
        prefix: the start of every key name.
        batch_size: rows per Redis round trip.
        redis_retry_for: how long each Redis call waits for an unreachable Redis.

    Raises:
        ValueError: an unknown kind, a bad option, a row that is not JSON-able, or a ``job_id`` in use.
        ParamValidationError: ``user_pool_id`` is not a user pool id.
        RedisUnavailable: Redis did not answer in time; JobLost: the job's keys vanished while submitting.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown bulk job kind {kind!r} (one of {', '.join(KINDS)})")
    check_user_pool_id(user_pool_id)
    if max_attempts < 1 or max_failures < 0 or batch_size < 1 or keep_for < 0:
        raise ValueError("max_attempts and batch_size must be at least 1; max_failures and keep_for >= 0")
    job_defaults = dict(defaults or {})
    if group_name is not None:
        job_defaults["GroupName"] = group_name
    if job_id is None:
        job_id = secrets.token_hex(8)
    elif not job_id or any(c in job_id for c in "{}: \n") or len(job_id) > 64 or job_id == "any":
        raise ValueError("a job id is 1 to 64 characters, without braces, colons or spaces, and not 'any'")
    keys = JobKeys.of(prefix, job_id)
    guard = RedisGuard(redis, redis_retry_for)
    opened = await guard(
        partial(
            redis.register_script(_OPEN),
            keys=[keys.meta, keys.rows],
            args=[
                kind,
                user_pool_id,
                json.dumps(job_defaults),
                max_attempts,
                max_failures,
                int(keep_for),
                GROUP,
            ],
        ),
        job_id=job_id,
    )
    what, detail = (text_of(v) for v in opened)
    if what in ("exists", "other"):
        raise ValueError(
            f"bulk job {job_id} exists ({detail}" + (")" if what == "exists" else ", another kind or pool)")
        )
    await guard(partial(redis.zadd, keys.index, {job_id: time.time()}, nx=True), job_id=job_id)
    skip = int(detail)  # rows an earlier submission of this job already added
    append = redis.register_script(_APPEND)
    count = 0
    batch: list[str] = []
    async for row in _each(rows):
        if count >= skip:
            batch.append(encode_row(count, row)["r"])
        count += 1
        if len(batch) >= batch_size:
            await _append(guard, append, keys, job_id, count - len(batch), batch)
            batch = []
    if batch:
        await _append(guard, append, keys, job_id, count - len(batch), batch)
    state = await guard(partial(redis.register_script(_SEAL), keys=keys.job, args=[count]), job_id=job_id)
    if state == -1:
        raise JobLost(job_id, "its keys vanished from Redis while the rows were submitted")
    return job_id


async def _each(rows: Any) -> Any:
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row


async def _append(
    guard: RedisGuard, script: Any, keys: JobKeys, job_id: str, first: int, batch: list[str]
) -> None:
    done = await guard(partial(script, keys=[keys.meta, keys.rows], args=[first, *batch]), job_id=job_id)
    if done == -1:
        raise JobLost(job_id, "its keys vanished from Redis while the rows were submitted")


async def job_report(
    redis: Redis,
    job_id: str,
    *,
    with_failures: bool = True,
    prefix: str = DEFAULT_PREFIX,
    redis_retry_for: float = 30.0,
) -> JobReport:
    """A job's report as it stands (all workers). Raises :class:`JobLost` when the job is not in Redis
    (or lost its rows before it was done)."""
    return await _read(RedisGuard(redis, redis_retry_for), JobKeys.of(prefix, job_id), job_id, with_failures)


async def _read(guard: RedisGuard, keys: JobKeys, job_id: str, with_failures: bool) -> JobReport:
    redis = guard.redis

    async def read() -> list[Any]:
        pipe = redis.pipeline(transaction=False)
        pipe.hgetall(keys.meta)
        pipe.exists(keys.rows)
        pipe.time()
        if with_failures:
            pipe.lrange(keys.failures, 0, -1)
        return list(await pipe.execute())

    fields, has_rows, now, *kept = await guard(read, job_id=job_id)
    meta = parse_meta(job_id, fields)
    if not has_rows and meta.state in ("submitting", "open"):
        raise JobLost(job_id, "its rows stream is gone from Redis (restarted without persistence?)")
    failures = []
    for value in kept[0] if kept else ():
        try:
            failures.append(decode_failure(value))
        except ValueError:
            raise StoredValueError(f"bulk job {job_id}: a kept failure is not readable") from None
    as_of = float(now[0]) + float(now[1]) / 1e6 if isinstance(now, (list, tuple)) else time.time()
    return report_from(job_id, meta, failures, as_of)


def decode_failure(value: Any) -> Outcome:
    """A kept failure (``encode_outcome``'s JSON) as an :class:`Outcome`. Raises ValueError when malformed."""
    try:
        record = json.loads(text_of(value))
        index, username, attempts = int(record["i"]), record.get("u"), int(record.get("n", 1))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError("not a failure record") from exc
    error = error_from(str(record.get("c") or "Error"), str(record.get("m") or ""))
    return Outcome(index, username if isinstance(username, str) else None, "failed", error, attempts)


async def wait_for_job(
    redis: Redis,
    job_id: str,
    *,
    on_progress: Callable[[JobReport], Awaitable[object] | object] | None = None,
    poll: float = 0.25,
    timeout: float | None = None,
    prefix: str = DEFAULT_PREFIX,
    redis_retry_for: float = 30.0,
) -> JobReport:
    """Wait until every row of the job has an outcome (from whichever worker) and return the report.

    Args:
        on_progress: called with the :class:`JobReport` (counts only; the failures come with the final one)
            every ``poll`` seconds, and with the final report.
        timeout: give up after this many seconds (TimeoutError); None: wait as long as it takes (the job
            needs running workers).

    Raises:
        BulkJobAborted: a worker stopped the job on an error that concerns all of it (``.report`` is the
            :class:`JobReport`, ``.cause`` the typed error as stored by that worker).
        JobLost: the job's keys are gone; RedisUnavailable: Redis did not come back within
            ``redis_retry_for`` seconds.
    """
    keys = JobKeys.of(prefix, job_id)
    guard = RedisGuard(redis, redis_retry_for)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        report = await _read(guard, keys, job_id, with_failures=False)
        if report.state in ("done", "aborted"):
            report = await _read(guard, keys, job_id, with_failures=True)
        if on_progress is not None:
            result = on_progress(report)
            if inspect.isawaitable(result):
                await result
        if report.state == "done":
            return report
        if report.state == "aborted":
            meta = parse_meta(job_id, await guard(partial(redis.hgetall, keys.meta), job_id=job_id))
            raise meta.aborted_error(report)
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError(f"bulk job {job_id}: {report.processed} of {report.total} rows settled so far")
        await asyncio.sleep(poll)
