"""Bulk jobs across processes through a Redis Stream (``aiocognito.redis``: submit_job, run_worker,
wait_for_job; ``aiocognito worker`` and ``users import --redis``), on a real redis-server and the local pool.

What is shown: 10,000 rows by 4 worker processes into a pool injecting 20 % faults, one worker SIGKILLed
halfway, end with exactly 10,000 users each created once and one report of 10,000; a Redis restarted
mid-job (with persistence: the job resumes; without: a typed ``JobLost``, and a rerun completes it); a Redis
gone for good ends the worker with ``RedisUnavailable`` and loses nothing; rows of a dead worker are taken
over as unclear (a create that had happened counts as succeeded, a user that existed before as already);
a live worker's slow rows are not taken from it; an error that concerns the whole job stops every worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import re
import shutil
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis_server import RedisServer

import aiocognito
from aiocognito import bulk
from aiocognito.errors import InternalErrorException, UsernameExistsException
from aiocognito.redis import JobReport, run_worker, submit_job, wait_for_job
from aiocognito.redis._job_layout import (
    GROUP,
    JobKeys,
    JobLost,
    RedisGuard,
    decode_row,
    encode_outcome,
    encode_row,
    error_from,
    parse_meta,
    reconnect_delay,
    row_entry_id,
)
from aiocognito.redis._job_worker import _stream_entries
from aiocognito.redis._jobs import decode_failure, job_report, report_from
from aiocognito.redis._stores import RedisUnavailable, StoredValueError
from aiocognito.testing import FaultPlan, LocalUserPool

CONSOLE_SCRIPT = Path(sys.executable).with_name("aiocognito")
FAST = {"UserCreation": 5000, "UserRead": 5000}


# ----- helpers ---------------------------------------------------------------------------------------------
def rows(n: int, prefix: str = "user") -> list[dict[str, Any]]:
    return [
        {
            "Username": f"{prefix}{i:05d}",
            "UserAttributes": [{"Name": "email", "Value": f"{prefix}{i:05d}@example.com"}],
            "MessageAction": "SUPPRESS",
        }
        for i in range(n)
    ]


def count_creates(local: LocalUserPool) -> Counter[str]:
    """Counts, per username, the AdminCreateUser calls that took effect (lost replies included)."""
    created: Counter[str] = Counter()
    original = local._own["AdminCreateUser"]

    def counting(params: Any) -> Any:
        result = original(params)
        created[params["Username"]] += 1
        return result

    local._own["AdminCreateUser"] = counting
    return created


async def pool_usernames(local: LocalUserPool, pool: str) -> list[str]:
    faults, local.faults = local.faults, None
    try:
        async with local.client() as client:
            return [u["Username"] async for u in client.list_all_users(UserPoolId=pool)]
    finally:
        local.faults = faults


async def until(
    check: Callable[[], Awaitable[bool]],
    what: str,
    *,
    watch: Sequence[asyncio.Future[Any] | asyncio.subprocess.Process] = (),
    timeout: float = 60.0,
    interval: float = 0.02,
) -> None:
    """Wait until ``check()`` holds. Fails, never hangs: after ``timeout`` seconds, or as soon as a task or
    process in ``watch`` (the ones that should make it hold) has ended first."""
    deadline = time.monotonic() + timeout
    while not await check():
        ended = [
            w for w in watch if (w.done() if isinstance(w, asyncio.Future) else w.returncode is not None)
        ]
        if ended:
            raise AssertionError(f"waiting for {what}: {ended} ended first")
        if time.monotonic() > deadline:
            raise AssertionError(f"waiting for {what}: not after {timeout:g}s")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def redis_at(url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=1)
    try:
        yield client
    finally:
        await client.aclose()


def persistent_redis(tmp_path: Path) -> RedisServer:
    """A RedisServer whose data survives a restart, even a kill: the server's own options, then AOF with an
    fsync per write (redis-server takes the last value of an option given twice)."""
    executable = shutil.which("redis-server")
    assert executable is not None
    return RedisServer(executable, tmp_path, extra_args=("--appendonly", "yes", "--appendfsync", "always"))


def worker_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="LOCALPOOLACCESSKEY",
        AWS_SECRET_ACCESS_KEY="local-pool-secret-key",
        AWS_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


# ----- pure parts ------------------------------------------------------------------------------------------
def test_reconnect_delay_backs_off_within_the_deadline() -> None:
    mid = [reconnect_delay(n, now=0.0, deadline=100.0, random=lambda: 0.5) for n in range(1, 9)]
    assert mid[:3] == pytest.approx([0.075, 0.15, 0.3])
    assert all(d is not None and d <= 2.0 for d in mid) and mid[-1] == pytest.approx(1.5)
    assert reconnect_delay(1, now=0.0, deadline=1.0, random=lambda: 0.0) == pytest.approx(0.05)
    assert reconnect_delay(9, now=99.5, deadline=100.0, random=lambda: 1.0) == pytest.approx(
        0.5
    )  # not past it
    assert reconnect_delay(3, now=100.0, deadline=100.0) is None


def test_rows_and_outcomes_round_trip() -> None:
    entry = encode_row(7, {"Username": "ann", "UserAttributes": [{"Name": "email", "Value": "a@x.io"}]})
    assert decode_row({k.encode(): v.encode() for k, v in entry.items()}) == (
        7,
        {"Username": "ann", "UserAttributes": [{"Name": "email", "Value": "a@x.io"}]},
    )
    assert decode_row(encode_row(0, "bob")) == (0, {"Username": "bob"})
    for bad in ({}, {"i": "x", "r": "{}"}, {"i": "1", "r": "[1]"}, {"i": "-1", "r": "{}"}):
        with pytest.raises(ValueError):
            decode_row(bad)
    with pytest.raises(TypeError):
        encode_row(0, 42)  # type: ignore[arg-type]
    assert row_entry_id(0) == "0-1" and row_entry_id(41) == "0-42"

    assert encode_outcome(3, bulk.Outcome(3, "ann", "succeeded")) == "s"
    assert encode_outcome(3, bulk.Outcome(3, "ann", "already")) == "a"
    failure = bulk.Outcome(
        3, "ann", "failed", InternalErrorException("boom", code="InternalErrorException"), 10
    )
    back = decode_failure(encode_outcome(3, failure))
    assert isinstance(back.error, InternalErrorException)
    assert (back.index, back.username, back.code, back.attempts) == (3, "ann", "InternalErrorException", 10)
    assert back.error.message == "boom"
    invalid = bulk.Outcome(
        4, None, "failed", aiocognito.ParamValidationError("AdminCreateUser", ["no name"]), 0
    )
    back = decode_failure(encode_outcome(4, invalid))
    assert isinstance(back.error, aiocognito.ParamValidationError) and back.code == "ParamValidationError"
    assert str(back.error) == "invalid parameters for AdminCreateUser: no name"
    with pytest.raises(ValueError):
        decode_failure(b"not json")


def test_typed_errors_come_back_from_their_code() -> None:
    assert type(error_from("UsernameExistsException", "taken")) is UsernameExistsException
    unknown = error_from("SomeNewException", "new")
    assert isinstance(unknown, aiocognito.ServiceError) and unknown.code == "SomeNewException"
    assert type(error_from("ConnectionFailedError", "reset")) is aiocognito.ConnectionFailedError
    assert type(error_from("CredentialsError", "none")) is aiocognito.CredentialsError
    odd = error_from("ProtocolError", "bad B")
    assert type(odd) is aiocognito.CognitoError and str(odd) == "ProtocolError: bad B"


def test_job_hash_parsing() -> None:
    with pytest.raises(JobLost, match="no such job"):
        parse_meta("j1", {})
    with pytest.raises(StoredValueError):
        parse_meta("j1", {b"kind": b"make_coffee", b"state": b"open"})
    with pytest.raises(StoredValueError):
        parse_meta("j1", {"kind": "create_users", "state": "open", "pool": "p", "created": "soon"})
    meta = parse_meta(
        "j1",
        {
            b"kind": b"create_users", b"state": b"open", b"pool": b"us-east-1_X", b"created": b"100.5",
            b"total": b"10", b"succeeded": b"6", b"already": b"1", b"failed": b"2", b"last": b"104.5",
            b"defaults": b'{"MessageAction": "SUPPRESS"}',
        },
    )  # fmt: skip
    assert (meta.settled, meta.total, meta.defaults) == (9, 10, {"MessageAction": "SUPPRESS"})
    report = report_from("j1", meta, [], as_of=110.5)
    assert isinstance(report, bulk.BulkReport) and not report.done
    assert report.elapsed == pytest.approx(10.0) and report.processed == 9  # Redis's clock, not ours
    assert report.summary() == "AdminCreateUser: 6 succeeded, 1 already, 2 failed in 10.0s (1/s)"
    assert report.failures_dropped == 2  # counted, not kept
    done = report_from("j1", parse_meta("j1", {**_raw(meta), "state": "done"}), [], as_of=500.0)
    assert done.done and done.elapsed == pytest.approx(4.0)  # to the last outcome


def _raw(meta: Any) -> dict[str, str]:
    return {
        "kind": meta.kind, "state": meta.state, "pool": meta.user_pool_id, "created": str(meta.created),
        "total": str(meta.total), "succeeded": str(meta.succeeded), "already": str(meta.already),
        "failed": str(meta.failed), "last": str(meta.last),
    }  # fmt: skip


def test_a_jobs_keys_share_one_hash_slot() -> None:
    keys = JobKeys.of("app:", "abc123")
    assert keys.job == ["app:job:{abc123}", "app:job:{abc123}:rows", "app:job:{abc123}:outcomes",
                        "app:job:{abc123}:failures"]  # fmt: skip
    assert keys.index == "app:jobs"


def test_stream_replies_of_both_protocols() -> None:
    resp2 = [[b"s", [(b"0-1", {b"i": b"0"}), (b"0-2", None)]]]
    resp3 = {b"s": [[(b"0-1", {b"i": b"0"})]]}
    assert _stream_entries(resp2) == [("0-1", {b"i": b"0"})]
    assert _stream_entries(resp3) == [("0-1", {b"i": b"0"})]
    assert _stream_entries({b"s": [[]]}) == [] and _stream_entries([]) == []


async def test_the_guard_waits_for_redis_then_gives_up_without_the_password() -> None:
    redis = Redis.from_url("redis://:hunter2-secret@127.0.0.1:1/0")
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    guard = RedisGuard(redis, 5.0, clock=lambda: now[0], sleep=sleep, random=lambda: 0.5)
    failures = iter([True, True, False])

    async def flaky() -> str:
        if next(failures):
            raise __import__("redis").exceptions.ConnectionError("refused")
        return "ok"

    assert await guard(flaky) == "ok" and guard.waits == 2

    async def down() -> None:
        raise __import__("redis").exceptions.TimeoutError("timed out")

    with pytest.raises(RedisUnavailable) as caught:
        await guard(down)
    assert now[0] == pytest.approx(sum(slept)) and 5.0 <= sum(slept) - 0.225 <= 5.0 + 1e-9
    assert "127.0.0.1:1" in str(caught.value) and "hunter2" not in str(caught.value)
    await redis.aclose()


# ----- on a real Redis, workers in this process ------------------------------------------------------------
async def test_two_workers_share_a_job_and_a_resubmission_adds_nothing(redis_url: str) -> None:
    async with redis_at(redis_url) as redis, LocalUserPool() as local:
        pool = await local.create_user_pool()
        created = count_creates(local)
        job_id = await submit_job(redis, rows(300), user_pool_id=pool, job_id="two-workers", batch_size=64)
        keys = JobKeys.of("aiocognito:", job_id)
        assert await redis.xlen(keys.rows) == 300
        progress: list[JobReport] = []
        async with local.client(quotas=FAST) as a, local.client(quotas=FAST) as b:
            stats = await asyncio.gather(
                run_worker(redis, a, job_id=job_id, concurrency=8),
                run_worker(redis, b, job_id=job_id, concurrency=8),
                wait_for_job(redis, job_id, on_progress=progress.append, poll=0.05),
            )
        report = stats[2]
        assert isinstance(report, JobReport) and report.done
        assert (report.total, report.succeeded, report.already, report.failed) == (300, 300, 0, 0)
        assert stats[0].succeeded > 0 and stats[1].succeeded > 0  # both took part
        assert (
            stats[0].succeeded + stats[1].succeeded == 300 and stats[0].duplicates == stats[1].duplicates == 0
        )
        assert progress[-1] is report and len(progress) >= 2
        assert sorted(await pool_usernames(local, pool)) == [r["Username"] for r in rows(300)]
        assert set(created.values()) == {1}
        assert await redis.xlen(keys.rows) == 0  # settled rows leave Redis (temporary passwords too)
        assert await redis.hlen(keys.outcomes) == 300 and await redis.ttl(keys.meta) > 6 * 24 * 3600
        assert await redis.zscore(keys.index, job_id) is None  # no longer an open job
        with pytest.raises(ValueError, match="exists"):
            await submit_job(redis, rows(300), user_pool_id=pool, job_id=job_id)
        # a batch sent again (a lost reply) cannot add a row twice: the IDs are fixed
        meta = await redis.hgetall(keys.meta)
        script = redis.register_script(__import__("aiocognito.redis._jobs", fromlist=["_APPEND"])._APPEND)
        assert await script(keys=[keys.meta, keys.rows], args=[0, '{"Username": "user00000"}']) == 300
        assert await redis.xlen(keys.rows) == 0 and await redis.hgetall(keys.meta) == meta


async def test_rows_of_a_dead_worker_are_taken_over_as_unclear(redis_url: str) -> None:
    offset = [0.0]
    async with redis_at(redis_url) as redis, LocalUserPool(clock=lambda: time.time() + offset[0]) as local:
        pool = await local.create_user_pool()
        offset[0] = -3600.0  # an hour ago: "old" existed before the job
        await local.create_user(pool, "user00001", attributes={"email": "user00001@example.com"})
        offset[0] = 0.0
        job_id = await submit_job(redis, rows(40), user_pool_id=pool)
        keys = JobKeys.of("aiocognito:", job_id)
        # a worker reads ten rows, creates the first one, and dies before recording anything
        taken = _stream_entries(await redis.xreadgroup(GROUP, "dead", {keys.rows: ">"}, count=10))
        assert [decode_row(f)[0] for _, f in taken] == list(range(10))
        await local.create_user(pool, "user00000", attributes={"email": "user00000@example.com"})
        created = count_creates(local)
        async with local.client(quotas=FAST) as client:
            stats = await run_worker(redis, client, job_id=job_id, idle_reclaim=0.5, concurrency=4)
        report = await job_report(redis, job_id)
        assert (report.succeeded, report.already, report.failed) == (39, 1, 0)  # user00000 was this job's
        assert stats.reclaimed == 10 and stats.already == 1
        assert sum(created.values()) == 38 and set(created.values()) == {1}  # 40 - the two that existed
        assert await redis.xpending(keys.rows, GROUP) == {
            "pending": 0,
            "min": None,
            "max": None,
            "consumers": [],
        }


async def test_a_live_workers_slow_rows_are_not_taken_from_it(redis_url: str) -> None:
    async with redis_at(redis_url) as redis, LocalUserPool() as local:
        pool = await local.create_user_pool()
        created = count_creates(local)
        local.faults = FaultPlan(seed=3, throttle_rps=4, operations=frozenset({"AdminCreateUser"}))
        job_id = await submit_job(redis, rows(12), user_pool_id=pool)
        async with local.client(quotas=FAST) as a, local.client(quotas=FAST) as b:
            first = asyncio.ensure_future(
                run_worker(redis, a, job_id=job_id, idle_reclaim=0.6, concurrency=16)
            )
            await asyncio.sleep(0.3)  # the first worker holds all 12 rows; they take ~3 s at 4/s
            second = await run_worker(redis, b, job_id=job_id, idle_reclaim=0.6, concurrency=16)
            stats = await first
        report = await job_report(redis, job_id)
        assert (report.succeeded, report.already, report.failed) == (12, 0, 0)
        assert report.elapsed > 1.5  # rows sat with the first worker much longer than idle_reclaim
        assert (second.reclaimed, second.settled, stats.settled) == (0, 0, 12)
        assert set(created.values()) == {1} and len(created) == 12


async def test_an_error_about_the_whole_job_stops_every_worker(redis_url: str) -> None:
    async with redis_at(redis_url) as redis, LocalUserPool() as local:
        await local.create_user_pool()
        job_id = await submit_job(redis, rows(200), user_pool_id="us-east-1_NoSuchPool")
        async with local.client(quotas=FAST) as a, local.client(quotas=FAST) as b:
            outcomes = await asyncio.gather(
                run_worker(redis, a, job_id=job_id),
                run_worker(redis, b, job_id=job_id),
                wait_for_job(redis, job_id, poll=0.05),
                return_exceptions=True,
            )
        assert all(isinstance(o, aiocognito.BulkJobAborted) for o in outcomes), outcomes
        stopped = outcomes[2]
        assert isinstance(stopped, aiocognito.BulkJobAborted) and stopped.reason == "user pool"
        assert isinstance(stopped.cause, aiocognito.errors.ResourceNotFoundException)
        assert isinstance(stopped.report, JobReport) and stopped.report.state == "aborted"
        assert stopped.report.processed == 0  # rows not settled have no outcome, and are left for a rerun
        keys = JobKeys.of("aiocognito:", job_id)
        assert await redis.xlen(keys.rows) == 200


async def test_an_aborted_job_resumes_with_the_same_id(redis_url: str) -> None:
    async with redis_at(redis_url) as redis, LocalUserPool() as local:
        pool = await local.create_user_pool()
        job_id = await submit_job(redis, rows(50), user_pool_id=pool, job_id="resumable")
        keys = JobKeys.of("aiocognito:", job_id)
        await redis.xreadgroup(GROUP, "gone", {keys.rows: ">"}, count=5)  # held by a worker that died
        stopped = {"state": "aborted", "abort_reason": "credentials", "abort_code": "CredentialsError"}
        await redis.hset(keys.meta, mapping={**stopped, "abort_message": "none"})
        with pytest.raises(aiocognito.BulkJobAborted, match="credentials"):
            await wait_for_job(redis, job_id)
        with pytest.raises(ValueError, match="another kind or pool"):
            await submit_job(redis, rows(50), user_pool_id="us-east-1_Other", job_id=job_id)
        assert await submit_job(redis, rows(50), user_pool_id=pool, job_id=job_id) == job_id
        assert await redis.xlen(keys.rows) == 50  # nothing added twice
        async with local.client(quotas=FAST) as client:
            stats = await run_worker(redis, client, job_id=job_id, idle_reclaim=0.3)
        report = await job_report(redis, job_id)
        assert (report.state, report.succeeded, stats.reclaimed) == ("done", 50, 5)


async def test_failures_are_kept_with_reasons_and_capped(redis_url: str) -> None:
    async with redis_at(redis_url) as redis, LocalUserPool() as local:
        pool = await local.create_user_pool()
        bad = [
            {"Username": f"bad{i}", "UserAttributes": [{"Name": "no_such", "Value": "x"}]} for i in range(5)
        ]
        job_id = await submit_job(redis, [*rows(5), *bad, "plain"], user_pool_id=pool, max_failures=3)
        async with local.client(quotas=FAST) as client:
            await run_worker(redis, client, job_id=job_id)
        report = await job_report(redis, job_id)
        assert (report.succeeded, report.failed, len(report.failures), report.failures_dropped) == (
            6,
            5,
            3,
            2,
        )
        assert all(
            f.code == "InvalidParameterException" and f.username.startswith("bad") for f in report.failures
        )
        assert all(5 <= f.index < 10 and "no_such" in str(f.error) for f in report.failures)


async def test_any_job_mode_works_through_every_open_job(redis_url: str) -> None:
    async with redis_at(redis_url) as redis, LocalUserPool() as local:
        pool = await local.create_user_pool()
        first = await submit_job(redis, rows(30, "a"), user_pool_id=pool)
        second = await submit_job(redis, ["b1", "b2"], user_pool_id=pool, kind="create_users")
        async with local.client(quotas=FAST) as client:
            stats = await run_worker(redis, client)  # job_id None: any job
            assert stats.jobs == [first, second] and stats.succeeded == 32
            again = await run_worker(redis, client, job_id="any")  # nothing left: returns at once
        assert again.jobs == [] and await redis.zcard("aiocognito:jobs") == 0
        with pytest.raises(JobLost):
            await wait_for_job(redis, "no-such-job")


# ----- Redis going away ------------------------------------------------------------------------------------
async def _job_with_restart(
    server: RedisServer, local: LocalUserPool, pool: str, n: int, *, kill: bool
) -> tuple[list[Any], float]:
    """Run a job with two workers in this process, stopping Redis once a third of it is settled and
    starting it again a second later; returns what the workers and wait_for_job returned or raised."""
    async with redis_at(server.url) as redis:
        job_id = await submit_job(redis, rows(n), user_pool_id=pool, job_id="restarted")

        quotas = {"UserCreation": 300, "UserRead": 1000}  # ~600 rows/s for the two: the restart is mid-job
        async with local.client(quotas=quotas) as a, local.client(quotas=quotas) as b:
            started = time.monotonic()
            workers = [
                asyncio.ensure_future(run_worker(redis, a, job_id=job_id, idle_reclaim=2.0)),
                asyncio.ensure_future(run_worker(redis, b, job_id=job_id, idle_reclaim=2.0)),
            ]

            async def restart_midway() -> float:
                await until(lambda: _at_least(redis, job_id, n // 3), "a third of the job", watch=workers)
                await asyncio.to_thread(server.stop, kill=kill)  # off the loop: the pool answers meanwhile
                await asyncio.sleep(1.0)
                await asyncio.to_thread(server.start)
                return time.monotonic()

            results = await asyncio.wait_for(
                asyncio.gather(
                    *workers, wait_for_job(redis, job_id, poll=0.1), restart_midway(), return_exceptions=True
                ),
                120,
            )
        return results, time.monotonic() - started


async def _at_least(redis: Redis, job_id: str, count: int) -> bool:
    return (await job_report(redis, job_id, with_failures=False)).processed >= count


async def _has_job(redis: Redis) -> bool:
    return bool(await redis.zcard("aiocognito:jobs"))


async def test_a_job_resumes_after_redis_is_killed_and_restarted_with_persistence(tmp_path: Path) -> None:
    server = persistent_redis(tmp_path)
    server.start()
    try:
        async with LocalUserPool() as local:
            pool = await local.create_user_pool()
            created = count_creates(local)
            local.faults = FaultPlan(seed=5, error_rate=0.05, lost_reply_rate=0.05)
            (first, second, report, _), elapsed = await _job_with_restart(
                server, local, pool, 1500, kill=True
            )
            print(f"restart: {report!r}; {first!r}; {second!r}; {elapsed:.1f}s")
            assert isinstance(report, JobReport), report
            assert (report.succeeded, report.already, report.failed) == (1500, 0, 0)
            assert first.redis_waits + second.redis_waits > 0  # both saw Redis go away and waited for it
            # a record whose reply the kill cut off was counted by Redis; its retry finds it there
            assert (
                first.settled + second.settled
                <= 1500
                <= sum(w.settled + w.duplicates for w in (first, second))
            )
            assert len(await pool_usernames(local, pool)) == 1500
            assert len(created) == 1500 and set(created.values()) == {1}  # none lost, none created twice
    finally:
        server.stop()


async def test_a_restart_without_persistence_is_a_typed_error_and_a_rerun_completes(tmp_path: Path) -> None:
    executable = shutil.which("redis-server")
    assert executable is not None
    server = RedisServer(executable, tmp_path)  # no persistence: the restart loses the job
    server.start()
    try:
        async with LocalUserPool() as local:
            pool = await local.create_user_pool()
            created = count_creates(local)
            results, _ = await _job_with_restart(server, local, pool, 1500, kill=False)
            assert all(isinstance(r, JobLost) for r in results[:3]), results
            assert "restarted without persistence" in str(results[2])
            before = len(await pool_usernames(local, pool))
            assert 0 < before < 1500
            async with redis_at(server.url) as redis, local.client(quotas=FAST) as client:
                job_id = await submit_job(redis, rows(1500), user_pool_id=pool)  # run the rows again
                await run_worker(redis, client, job_id=job_id)
                report = await job_report(redis, job_id)
            assert (report.succeeded + report.already, report.failed) == (1500, 0)
            assert before <= report.already <= before + 32  # the first run's (and its calls in flight)
            assert len(await pool_usernames(local, pool)) == 1500 and set(created.values()) == {1}
    finally:
        server.stop()


async def test_redis_gone_for_good_ends_the_worker_and_loses_nothing(tmp_path: Path) -> None:
    server = persistent_redis(tmp_path)
    server.start()
    try:
        async with LocalUserPool() as local:
            pool = await local.create_user_pool()
            created = count_creates(local)
            async with redis_at(server.url) as redis, local.client(quotas={"UserCreation": 100}) as client:
                job_id = await submit_job(redis, rows(300), user_pool_id=pool)
                worker = asyncio.ensure_future(run_worker(redis, client, job_id=job_id, redis_retry_for=1.5))
                await until(lambda: _at_least(redis, job_id, 50), "50 rows settled", watch=[worker])
                server.stop()
                stopped = time.monotonic()
                with pytest.raises(
                    RedisUnavailable, match=f"127.0.0.1:{server.port} did not answer for 1.5s"
                ):
                    await worker
                waited = time.monotonic() - stopped
                assert 1.4 < waited < 5.0
            server.start()
            async with redis_at(server.url) as redis, local.client(quotas=FAST) as client:
                stats = await run_worker(redis, client, job_id=job_id, idle_reclaim=0.5)
                report = await job_report(redis, job_id)
            assert (report.succeeded, report.already, report.failed) == (300, 0, 0)
            assert stats.reclaimed > 0  # the rows the first worker held were taken over, as unclear
            assert len(created) == 300 and set(created.values()) == {1}
    finally:
        server.stop()


async def test_submit_checks_its_input(redis_url: str) -> None:
    async with redis_at(redis_url) as redis:
        with pytest.raises(ValueError, match="unknown bulk job kind"):
            await submit_job(redis, ["a"], user_pool_id="us-east-1_Abc", kind="drop_everything")
        with pytest.raises(aiocognito.ParamValidationError):
            await submit_job(redis, ["a"], user_pool_id="not a pool")
        for bad_id in ("any", "a{b}", "a:b", ""):
            with pytest.raises(ValueError, match="job id"):
                await submit_job(redis, ["a"], user_pool_id="us-east-1_Abc", job_id=bad_id)
        with pytest.raises(TypeError, match="row 1"):
            await submit_job(redis, ["a", 42], user_pool_id="us-east-1_Abc")  # type: ignore[list-item]


async def test_cli_errors_are_one_line(redis_url: str, tmp_path: Path) -> None:
    worker = await _spawn(
        "worker", "--redis", redis_url, "--job", "no-such-job", "--endpoint-url", "http://127.0.0.1:9"
    )
    out, err = await asyncio.wait_for(worker.communicate(), 30)
    assert worker.returncode == 1
    assert err.decode().strip().splitlines() == [
        "aiocognito: error: JobLost: bulk job no-such-job: no such job in Redis (a wrong id, or its keys are "
        "gone: was Redis restarted without persistence?)"
    ]
    source = tmp_path / "users.csv"
    write_csv(source, 3)
    args = ["users", "import", str(source), "--user-pool-id", "us-east-1_Abc", "--redis", redis_url]
    importer = await _spawn(*args, "--result-file", str(tmp_path / "r.jsonl"))
    out, err = await asyncio.wait_for(importer.communicate(), 30)
    assert importer.returncode == 1 and "do not apply with --redis" in err.decode()


# ----- 10,000 rows, 4 worker processes, one killed ---------------------------------------------------------
def write_csv(path: Path, n: int) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["username", "email"])
        for row in rows(n):
            writer.writerow([row["Username"], row["UserAttributes"][0]["Value"]])


async def _spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(CONSOLE_SCRIPT), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=worker_env(),
    )  # fmt: skip


async def test_ten_thousand_rows_four_worker_processes_one_killed(redis_url: str, tmp_path: Path) -> None:
    n = 10_000
    source = tmp_path / "users.csv"
    write_csv(source, n)
    processes: list[asyncio.subprocess.Process] = []
    async with redis_at(redis_url) as redis, LocalUserPool() as local:
        pool = await local.create_user_pool()
        created = count_creates(local)
        # 20 % 5xx, dropped connections and lost replies; and throttles above 700 requests/s, under the ~900/s
        # the four workers (400/s each) reach on 2 cores, so that throttles always happen
        local.faults = FaultPlan(
            seed=11, throttle_rps=700, error_rate=0.07, drop_rate=0.05, lost_reply_rate=0.08,
            operations=frozenset({"AdminCreateUser", "AdminGetUser"}),
        )  # fmt: skip
        started = time.monotonic()
        try:
            importer = await _spawn(
                "users", "import", str(source), "--redis", redis_url, "--user-pool-id", pool,
                "--endpoint-url", local.endpoint_url, "--no-progress",
            )  # fmt: skip
            processes.append(importer)
            await until(lambda: _has_job(redis), "the job", watch=[importer])  # its rows may still be coming
            (job_id,) = [j.decode() for j in await redis.zrange("aiocognito:jobs", 0, -1)]
            worker = [*"worker --concurrency 16 --rate 400 --reclaim-after 3".split(), "--redis", redis_url]
            for _ in range(4):
                processes.append(await _spawn(*worker, "--endpoint-url", local.endpoint_url))
            await until(lambda: _at_least(redis, job_id, n // 2), "half the job", watch=processes, timeout=90)
            victim = processes[1]
            victim.send_signal(signal.SIGKILL)
            killed_at = time.monotonic() - started
            outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in processes)), 90)
        finally:
            for process in processes:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        elapsed = time.monotonic() - started
        report = await job_report(redis, job_id)
        faults = Counter(e.kind for e in local.fault_log)
        usernames = await pool_usernames(local, pool)

    importer_err = outputs[0][1].decode()
    worker_errs = [o[1].decode() for o in outputs[2:]]
    taken_over = sum(int(m) for err in worker_errs for m in re.findall(r"(\d+) taken over", err))
    print(
        f"\n10,000 rows, 4 workers (one SIGKILLed at {killed_at:.1f}s): {elapsed:.1f}s, "
        f"{n / elapsed:.0f} rows/s; "
        f"{report!r}; faults {dict(faults)} ({sum(faults.values())} in {local.request_count} requests); "
        f"taken over {taken_over}"
    )
    assert importer.returncode == 0, importer_err
    assert victim.returncode == -signal.SIGKILL
    assert all(p.returncode == 0 for p in processes[2:]), worker_errs
    assert f"AdminCreateUser: {n} succeeded, 0 already, 0 failed" in importer_err  # the one final report
    assert (report.state, report.total, report.succeeded, report.already, report.failed) == (
        "done",
        n,
        n,
        0,
        0,
    )
    assert len(usernames) == n and set(usernames) == {r["Username"] for r in rows(n)}
    assert len(created) == n and set(created.values()) == {1}  # each user created exactly once
    assert taken_over > 0  # the killed worker's rows were finished by the others
    assert set(faults) == {"throttle", "error", "drop", "lost_reply"}
    assert sum(faults.values()) >= 0.18 * local.request_count > 0.18 * n  # ~20 % of the requests faulted


async def test_workers_with_a_shared_quota_stay_under_it_together(redis_url: str, tmp_path: Path) -> None:
    """`--rate 10 --shared-quota ACCOUNT` on two workers: 10 creations a second in all, not 20, and the pool
    (which refuses above 10/s) throttles nobody."""
    n = 40
    source = tmp_path / "users.csv"
    write_csv(source, n)
    async with redis_at(redis_url) as redis, LocalUserPool(quotas={"UserCreation": 10}) as local:
        pool = await local.create_user_pool()
        importer = await _spawn(
            "users", "import", str(source), "--redis", redis_url, "--user-pool-id", pool,
            "--endpoint-url", local.endpoint_url, "--no-progress",
        )  # fmt: skip
        await until(lambda: _has_job(redis), "the job", watch=[importer])
        worker = [*"worker --rate 10 --shared-quota 123456789012".split(), "--redis", redis_url]
        started = time.monotonic()
        workers = [await _spawn(*worker, "--endpoint-url", local.endpoint_url) for _ in range(2)]
        outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in [importer, *workers])), 60)
        elapsed = time.monotonic() - started
        assert all(p.returncode == 0 for p in [importer, *workers]), [o[1].decode() for o in outputs]
        assert len((await local.call("ListUsers", UserPoolId=pool))["Users"]) == n
        assert local.quota_throttle.refused["UserCreation"] == 0
        assert elapsed > 3.0, (
            elapsed
        )  # about 10/s together: 40 rows take 4 s (alone, each worker at 10/s: 2 s)
