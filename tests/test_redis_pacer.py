"""RedisQuotaPacer: Cognito's quotas paced across processes on a real redis-server.

* the shared arithmetic, pure (no Redis): slowdown and recovery, reservations, the local pool's throttle;
* the Lua script against its Python statement, step by step, on Redis;
* four worker processes sharing a 20/s UserCreation quota against a local pool that throttles above 20/s
  (and, for contrast, the same workers each with an in-memory pacer);
* a throttle reported by one process slows the others, then the rate recovers;
* Redis stopped: ``fallback="error"`` raises ``QuotaUnavailable`` and sends nothing; ``fallback="local"``
  paces at the local share, then returns to Redis when it answers again.

The worker processes run :func:`worker_main` of this module (``python -c``), configured by ``PACER_TEST``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import shutil
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis_server import RedisServer

import aiocognito
from aiocognito import errors
from aiocognito.quotas import Pacer, QuotaPacer, TokenBucket, cut_rate, recovering_rate
from aiocognito.redis import RedisQuotaPacer
from aiocognito.redis._pacer import SCRIPT, QuotaUnavailable, SharedBucket, reserve, throttle
from aiocognito.testing import LocalUserPool
from aiocognito.testing._constants import LOCAL_CREDENTIALS
from aiocognito.testing._throttle import CategoryThrottle

TESTS = Path(__file__).resolve().parent
ACCOUNT, REGION = "123456789012", "us-east-1"
USER_CREATION = {"UserCreation": 20}


# ===== the arithmetic, pure ================================================================================
def test_recovery_and_cut_are_the_quota_pacers() -> None:
    assert recovering_rate(19.0, 9.5, 10.0, 10.0, 5.0) == 9.5
    assert recovering_rate(19.0, 9.5, 10.0, 11.0, 5.0) == pytest.approx(9.5 + 19.0 / 5)  # linear
    assert recovering_rate(19.0, 9.5, 10.0, 12.5, 5.0) == 19.0  # a cut to half is back in recovery / 2
    assert recovering_rate(19.0, 9.5, 10.0, 10.0, 0.0) == 19.0  # no recovery time: no slowdown
    assert recovering_rate(19.0, 9.5, 10.0, 9.0, 5.0) == 9.5  # a clock stepping back never lowers it
    assert cut_rate(19.0, 19.0, 0.5) == 9.5
    assert cut_rate(0.1, 19.0, 0.5) == pytest.approx(0.38)  # floor: 2 % of the target
    assert cut_rate(0.01, 1.0, 0.5) == 0.05  # and 0.05/s

    # the in-memory bucket and the shared one slow down and recover alike
    memory, shared = TokenBucket(target=19.0, capacity=1.0, recovery=4.0), SharedBucket(19.0, 1.0)
    for now in (1.0, 1.2, 1.7, 2.0, 3.0, 3.6):  # 1.2: within the cooldown, no second cut
        assert memory.throttled(now) == bool(throttle([shared], now, 0.5, 0.5, 4.0))
        for later in (now, now + 0.1, now + 0.4):
            assert shared.rate(later, 4.0) == pytest.approx(memory.rate(later))
    assert shared.rate(100.0, 4.0) == memory.rate(100.0) == 19.0


def test_reservations_space_calls_at_the_rate() -> None:
    bucket = SharedBucket(target=19.0, capacity=1.0)
    waits = [reserve([bucket], 100.0, 5.0) for _ in range(5)]  # five callers at the same instant
    assert waits == pytest.approx([0, 1 / 19, 2 / 19, 3 / 19, 4 / 19])
    assert reserve([bucket], 110.0, 5.0) == 0.0  # refilled, but only to the burst
    assert reserve([bucket], 110.0, 5.0) == pytest.approx(1 / 19)

    burst = SharedBucket(target=10.0, capacity=3.0)
    assert [reserve([burst], 0.0, 5.0) for _ in range(4)] == pytest.approx([0, 0, 0, 0.1])


def test_a_call_with_two_buckets_goes_when_both_allow_and_takes_both_tokens_then() -> None:
    op, category = SharedBucket(target=4.75, capacity=1.0), SharedBucket(target=19.0, capacity=1.0)
    assert reserve([op, category], 0.0, 5.0) == 0.0  # CreateGroup: the per-pool bucket, then the category's
    assert reserve([category], 0.0, 5.0) == pytest.approx(1 / 19)  # another operation of the category
    assert reserve([op, category], 0.0, 5.0) == pytest.approx(1 / 4.75)  # held back by its own bucket
    # ... and it took the category's token at that time, not at once: the next caller goes after it
    assert reserve([category], 0.0, 5.0) == pytest.approx(1 / 4.75 + 1 / 19)


def test_a_throttle_cuts_the_rate_once_per_cooldown_with_a_floor() -> None:
    bucket = SharedBucket(target=19.0, capacity=1.0)
    assert reserve([bucket], 0.0, 5.0) == 0.0
    assert throttle([bucket], 0.1, 0.5, 0.5, 5.0) == 1
    assert bucket.rate(0.1, 5.0) == pytest.approx(9.5)
    assert reserve([bucket], 0.1, 5.0) == pytest.approx(1 / 9.5)  # emptied, and slower
    assert throttle([bucket], 0.3, 0.5, 0.5, 5.0) == 0  # within the cooldown
    for step in range(1, 40):
        throttle([bucket], 0.1 + 0.5 * step, 0.5, 0.5, 1000.0)
    assert bucket.rate(20.0, 1000.0) == pytest.approx(0.38, rel=0.05)  # 2 % of the target, never 0


def test_the_local_pools_throttle_takes_quotas_then_provisioned_limits() -> None:
    limits: dict[str, float] = {}
    throttle_ = CategoryThrottle({"UserCreation": 20}, lambda: limits)
    assert [throttle_.refuses("AdminCreateUser", 0.0) for _ in range(21)].count(True) == 1  # 1 s worth
    assert throttle_.refuses("AdminCreateUser", 0.0) is True
    assert throttle_.refuses("AdminCreateUser", 0.05) is False  # one token every 50 ms
    assert throttle_.refuses("AdminCreateUser", 0.06) is True
    assert throttle_.refused == {"UserCreation": 3}
    assert not any(throttle_.refuses("DescribeUserPool", 0.0) for _ in range(100))  # no limit set
    limits["UserPoolRead"] = 15
    assert [throttle_.refuses("DescribeUserPool", 1.0) for _ in range(20)].count(True) == 5
    limits["UserCreation"] = 100  # the constructor's quota wins
    assert throttle_.rate("UserCreation") == 20
    assert throttle_.refuses("MakeCoffee", 0.0) is False
    with pytest.raises(ValueError):
        CategoryThrottle({"UserCreaton": 20})


async def test_the_local_pool_throttles_at_a_provisioned_limit() -> None:
    definition: Any = {"LimitClass": "API_CATEGORY", "Attributes": {"Category": "UserPoolRead"}}
    async with LocalUserPool() as local:
        pool_id = await local.create_user_pool()
        async with local.client(retries=1) as cognito:

            async def burst(n: int) -> int:
                answers = await asyncio.gather(
                    *(cognito.describe_user_pool(UserPoolId=pool_id) for _ in range(n)),
                    return_exceptions=True,
                )
                assert all(isinstance(a, dict | errors.TooManyRequestsException) for a in answers)
                return sum(isinstance(a, errors.TooManyRequestsException) for a in answers)

            assert await burst(30) == 0  # no quota, no provisioned limit: as before
            await cognito.update_provisioned_limit(LimitDefinition=definition, RequestedLimitValue=15)
            refused = await burst(30)
            assert 13 <= refused <= 15  # a second's worth (15) goes, and what refills meanwhile
            assert local.quota_throttle.refused == {"UserPoolRead": refused}
    async with LocalUserPool(quotas={"UserPoolRead": 5}) as local:
        pool_id = await local.create_user_pool()
        async with local.client(retries=1) as cognito:
            await cognito.update_provisioned_limit(LimitDefinition=definition, RequestedLimitValue=15)
            assert await burst(30) >= 24  # the pool's own quota wins over the provisioned limit


# ===== the script against its statement =====================================================================
async def test_the_lua_script_does_what_the_python_arithmetic_says(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    script = redis.register_script(SCRIPT)
    specs = [(4.75, 1.0), (14.25, 2.0)]  # a per-pool operation's bucket and its category's
    keys = ["t:op", "t:category"]
    mirror = [SharedBucket(*spec) for spec in specs]
    rng = random.Random(20)
    now = 1000.0
    checked = Counter[str]()
    try:
        for _ in range(400):
            now = float(f"{now + rng.choice([0.0, 0.0, 0.001, 0.03, 0.1, 0.4, 1.5]):.6f}")
            both = rng.random() < 0.5
            mode = rng.choice(["take", "take", "take", "throttle", "peek"])
            chosen = slice(0, 2) if both else slice(1, 2)
            args = [mode, f"{now:.6f}", "0.5", "0.3", "2.0", "62.0"]
            args += [repr(x) for spec in specs[chosen] for x in spec]
            wait, _, cut, _, cuts = [v.decode() for v in await script(keys=keys[chosen], args=args)]
            if mode == "take":
                assert float(wait) == pytest.approx(reserve(mirror[chosen], now, 2.0), abs=2e-5)
            elif mode == "throttle":
                assert int(cuts) == throttle(mirror[chosen], now, 0.5, 0.3, 2.0)
            else:
                mirror[1].rate(now, 2.0)
            assert (float(cut) if cut else None) == pytest.approx(mirror[1].cut, abs=1e-5)
            checked[mode] += 1
        assert min(checked.values()) > 50
        assert 0 < await redis.pttl("t:category") <= 62_000 + 10_000  # idle buckets expire
    finally:
        await redis.aclose()


# ===== one process on Redis ================================================================================
async def test_configuration_and_the_client_accepts_it(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        for bad in ({"account": "12 34"}, {"region": ""}, {"fallback": "ignore"}, {"local_share": 0}):
            options: dict[str, Any] = {"account": ACCOUNT, "region": REGION, **bad}
            with pytest.raises(aiocognito.ConfigurationError):
                RedisQuotaPacer(redis, **options)
        with pytest.raises(aiocognito.ConfigurationError):
            RedisQuotaPacer(redis, account=ACCOUNT, region=REGION, overrides={"UserCreaton": 5})
        pacer = RedisQuotaPacer(redis, account=ACCOUNT, region=REGION, overrides=USER_CREATION)
        assert isinstance(pacer, Pacer)
        assert pacer.key("UserCreation") == "aiocognito:quota:{123456789012:us-east-1}:UserCreation"
        async with aiocognito.CognitoClient(
            region=REGION, credentials=LOCAL_CREDENTIALS, quotas=pacer
        ) as cognito:
            assert cognito._pacer is pacer
            assert cognito.with_options(retries=1)._pacer is pacer
        await pacer.acquire("CreateGroup")  # a per-pool operation: its bucket and its category's
        assert await redis.exists(pacer.key("op:CreateGroup"), pacer.key("UserPoolResourceUpdate")) == 2
        await pacer.acquire("MakeCoffee")  # not paced, nothing stored
        assert pacer.current_rate("UserCreation") == pytest.approx(19.0)
        await redis.set(pacer.key("UserCreation"), "not a hash")  # a misconfiguration is not "unreachable"
        for fallback in ("error", "local"):
            other = RedisQuotaPacer(redis, account=ACCOUNT, region=REGION, fallback=fallback)
            with pytest.raises(QuotaUnavailable, match="WRONGTYPE"):
                await other.acquire("AdminCreateUser")
            assert not other.pacing_locally
    finally:
        await redis.aclose()


async def test_one_process_paces_at_the_shared_rate(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    pacers = [
        RedisQuotaPacer(redis, account=ACCOUNT, region=REGION, overrides=USER_CREATION) for _ in range(3)
    ]
    sent: list[float] = []

    async def caller(pacer: RedisQuotaPacer) -> None:
        for _ in range(5):
            await pacer.acquire("AdminCreateUser")
            sent.append(time.monotonic())

    try:
        await asyncio.gather(*(caller(p) for p in pacers for _ in range(3)))  # 3 pacers x 3 tasks
        rate = (len(sent) - 1) / (max(sent) - min(sent))
        assert len(sent) == 45
        assert 18.0 <= rate <= 19.5  # 19/s (95 % of 20) for all three pacers together
    finally:
        await redis.aclose()


# ===== processes ==========================================================================================
def worker_main() -> None:
    """One worker process: paces (``work="acquire"``) or creates users (``work="create"``) until its
    deadline, then prints a JSON report."""
    asyncio.run(_worker(json.loads(os.environ["PACER_TEST"])))


async def _worker(config: dict[str, Any]) -> None:
    redis = Redis.from_url(config["redis"])
    pacer: Pacer
    if config["pacer"] == "redis":
        pacer = RedisQuotaPacer(
            redis,
            account=ACCOUNT,
            region=REGION,
            overrides=USER_CREATION,
            recovery=config.get("recovery", 5.0),
        )
    else:
        pacer = QuotaPacer(USER_CREATION)
    stamps: list[float] = []
    failures: Counter[str] = Counter()
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    deadline = time.monotonic() + config["duration"]
    if config["work"] == "acquire":
        while time.monotonic() < deadline:
            await pacer.acquire("AdminCreateUser")
            stamps.append(time.time())
    else:
        async with aiocognito.CognitoClient(
            region=REGION,
            endpoint_url=config["endpoint"],
            credentials=LOCAL_CREDENTIALS,
            retries=1,
            quotas=pacer,
        ) as cognito:

            async def creator(task: int) -> None:
                n = 0
                while time.monotonic() < deadline:
                    n += 1
                    name = f"w{config['index']}-{task}-{n}"
                    try:
                        await cognito.admin_create_user(
                            UserPoolId=config["pool_id"], Username=name, MessageAction="SUPPRESS"
                        )
                        stamps.append(time.time())
                    except aiocognito.CognitoError as exc:  # counted: a throttle surfaced to the caller
                        failures[type(exc).__name__] += 1

            await asyncio.gather(*(creator(task) for task in range(config["tasks"])))
    print(json.dumps({"stamps": stamps, "failures": failures, "throttles": pacer.throttles}), flush=True)
    await redis.aclose()


async def _run_workers(
    configs: list[dict[str, Any]], during: Callable[[], Awaitable[None]] | None = None
) -> tuple[float, list[dict[str, Any]]]:
    """Start the workers, wait until all are ready, start them at once; returns the start time (wall clock)
    and their reports. ``during`` runs in this process meanwhile."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    code = "import test_redis_pacer as t; t.worker_main()"
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            code,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**env, "PACER_TEST": json.dumps(config)},
            cwd=str(TESTS),
        )
        for config in configs
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert (await asyncio.wait_for(process.stdout.readline(), 30)).strip() == b"ready"
        started = time.time()
        for process in processes:
            assert process.stdin is not None
            process.stdin.write(b"go\n")
            await process.stdin.drain()
        if during is not None:
            await during()
        reports = []
        for process in processes:
            out, _ = await asyncio.wait_for(process.communicate(), 30)
            assert process.returncode == 0
            reports.append(json.loads(out.decode().strip().splitlines()[-1]))
        return started, reports
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()


def _peak(stamps: list[float]) -> int:
    """The most calls in any one-second window."""
    return max(sum(1 for t in stamps[i:] if t < start + 1.0) for i, start in enumerate(stamps))


async def test_four_processes_share_a_20_per_second_quota(redis_url: str) -> None:
    async with LocalUserPool(quotas=USER_CREATION) as local:  # refuses UserCreation above 20/s
        pool_id = await local.create_user_pool()
        base = {"work": "create", "pacer": "redis", "redis": redis_url, "endpoint": local.endpoint_url}
        configs = [base | {"pool_id": pool_id, "index": i, "tasks": 4, "duration": 5.0} for i in range(4)]
        _, reports = await _run_workers(configs)
        stamps = sorted(t for report in reports for t in report["stamps"])
        failures = sum((Counter(report["failures"]) for report in reports), Counter[str]())
        rate = (len(stamps) - 1) / (stamps[-1] - stamps[0])
        async with local.client() as cognito:
            users = [u async for u in cognito.list_all_users(UserPoolId=pool_id)]
        print(
            f"\n4 processes x 4 tasks, shared 20/s: {len(stamps)} users in {stamps[-1] - stamps[0]:.2f} s = "
            f"{rate:.2f}/s, peak {_peak(stamps)} in 1 s, per process {[len(r['stamps']) for r in reports]}, "
            f"errors {dict(failures)}, refused by the pool {dict(local.quota_throttle.refused)}"
        )
        assert failures == Counter()  # no throttle (nor anything else) surfaced to a caller
        assert local.quota_throttle.refused == Counter()  # and none at all: nothing was retried
        assert 18.0 <= rate <= 20.0
        assert len(users) == len(stamps)
        assert all(len(report["stamps"]) >= 15 for report in reports)  # every process had its share


async def test_four_processes_pacing_alone_are_throttled() -> None:
    """The contrast: each process's in-memory pacer keeps it at 19/s, so together they send ~4x the quota."""
    async with LocalUserPool(quotas=USER_CREATION) as local:
        pool_id = await local.create_user_pool()
        base = {
            "work": "create",
            "pacer": "memory",
            "redis": "redis://127.0.0.1:1/0",
            "endpoint": local.endpoint_url,
        }
        configs = [base | {"pool_id": pool_id, "index": i, "tasks": 4, "duration": 2.0} for i in range(4)]
        sent_before = local.request_count
        _, reports = await _run_workers(configs)
        failures = sum((Counter(report["failures"]) for report in reports), Counter[str]())
        created = sum(len(report["stamps"]) for report in reports)
        print(
            f"\n4 processes with in-memory pacers, 2 s: {local.request_count - sent_before} requests, "
            f"{created} created, errors {dict(failures)}"
        )
        assert failures["TooManyRequestsException"] > 0
        assert local.quota_throttle.refused["UserCreation"] == failures["TooManyRequestsException"]


async def test_a_throttle_in_one_process_slows_the_others(redis_url: str) -> None:
    base = {"work": "acquire", "pacer": "redis", "redis": redis_url, "recovery": 4.0, "duration": 7.5}
    configs = [base | {"index": i} for i in range(3)]
    redis = Redis.from_url(redis_url)
    reporter = RedisQuotaPacer(redis, account=ACCOUNT, region=REGION, overrides=USER_CREATION, recovery=4.0)
    marks: dict[str, float] = {}

    async def throttle_in_this_process() -> None:
        await asyncio.sleep(2.0)
        marks["at"] = time.time()
        reporter.on_throttled("AdminCreateUser")  # what the client does on TooManyRequestsException
        await reporter.flush()
        marks["rate"] = await reporter.shared_rate("UserCreation")

    try:
        _, reports = await _run_workers(configs, throttle_in_this_process)
    finally:
        await redis.aclose()
    stamps = sorted(t for report in reports for t in report["stamps"])
    at = marks["at"]

    def calls(start: float, end: float) -> int:
        return sum(1 for t in stamps if at + start <= t < at + end)

    before, after, recovered = calls(-1.0, 0.0), calls(0.2, 1.2), calls(4.1, 5.1)
    print(
        f"\n3 processes, 19/s shared; throttle reported by a 4th: {before} calls in the second before, "
        f"{after} in [0.2 s, 1.2 s] after (cut to {marks['rate']:.2f}/s, recovering over 4 s), "
        f"{recovered} in [4.1 s, 5.1 s]"
    )
    assert marks["rate"] == pytest.approx(9.5, abs=0.3)
    assert 17 <= before <= 20
    assert 9 <= after <= 15  # expected ~12.8: from 9.5/s growing by 4.75/s per second
    assert recovered >= 17
    assert reporter.throttles == {"UserCreation": 1}


# ===== Redis goes away ====================================================================================
@pytest.fixture
def own_redis(tmp_path: Path) -> Any:
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.fail("redis-server is not installed: run scripts/install-test-services")
    server = RedisServer(executable, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop(kill=True)


async def test_redis_stopped_with_fallback_error_raises_and_sends_nothing(own_redis: RedisServer) -> None:
    redis = Redis.from_url(own_redis.url)
    pacer = RedisQuotaPacer(redis, account=ACCOUNT, region=REGION, overrides=USER_CREATION, fallback="error")
    try:
        async with LocalUserPool() as local:
            pool_id = await local.create_user_pool()
            async with local.client(quotas=pacer) as cognito:
                await cognito.admin_create_user(
                    UserPoolId=pool_id, Username="before", MessageAction="SUPPRESS"
                )
                own_redis.stop()
                sent = local.request_count
                started = time.monotonic()
                with pytest.raises(QuotaUnavailable) as raised:
                    await cognito.admin_create_user(
                        UserPoolId=pool_id, Username="during", MessageAction="SUPPRESS"
                    )
                took = time.monotonic() - started
                assert isinstance(raised.value, aiocognito.CognitoError)
                assert "did not answer" in str(raised.value) and "redis://" not in str(raised.value)
                assert local.request_count == sent  # nothing was sent unpaced
                assert took < 1.5  # the pacer's timeout (1 s) bounds redis-py's own retries
                own_redis.start()
                await cognito.admin_create_user(
                    UserPoolId=pool_id, Username="after", MessageAction="SUPPRESS"
                )
                assert await redis.exists(pacer.key("UserCreation")) == 1  # paced on the restarted Redis

                assert (
                    own_redis.process is not None
                )  # a Redis that hangs instead: the pacer's timeout ends it
                os.kill(own_redis.process.pid, signal.SIGSTOP)
                try:
                    started = time.monotonic()
                    with pytest.raises(QuotaUnavailable, match="did not answer"):
                        await cognito.admin_create_user(
                            UserPoolId=pool_id, Username="hung", MessageAction="SUPPRESS"
                        )
                    hung = time.monotonic() - started
                finally:
                    os.kill(own_redis.process.pid, signal.SIGCONT)
                assert 0.9 <= hung < 1.5
                assert local.request_count == sent + 1  # only "after" went out
                print(
                    f"\nfallback='error': QuotaUnavailable after {took * 1000:.0f} ms (Redis stopped), "
                    f"{hung * 1000:.0f} ms (Redis hung, timeout 1 s); nothing sent"
                )
    finally:
        await redis.aclose()


async def test_redis_stopped_with_fallback_local_paces_at_the_share_then_returns(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aiocognito.redis")
    redis = Redis.from_url(own_redis.url)
    pacer = RedisQuotaPacer(
        redis,
        account=ACCOUNT,
        region=REGION,
        overrides=USER_CREATION,
        fallback="local",
        local_share=0.25,
        probe_interval=0.3,
    )

    async def pace(seconds: float) -> list[float]:
        sent: list[float] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await pacer.acquire("AdminCreateUser")
            sent.append(time.monotonic())
        return sent

    try:
        await pace(0.3)
        assert not pacer.pacing_locally
        own_redis.stop()
        await pacer.acquire("AdminCreateUser")  # finds Redis gone (waits at most the timeout)
        assert pacer.pacing_locally
        alone = await pace(2.0)
        local_rate = (len(alone) - 1) / (alone[-1] - alone[0])
        assert 4.0 <= local_rate <= 5.0  # 25 % of 19/s = 4.75/s
        assert pacer.current_rate("UserCreation") == pytest.approx(4.75)
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "pacing this process alone at 25%" in warnings[0].getMessage()

        own_redis.start()  # empty: the buckets start again
        back = await pace(2.0)
        assert not pacer.pacing_locally
        assert await redis.exists(pacer.key("UserCreation")) == 1
        last_second = [t for t in back if t >= back[-1] - 1.0]
        assert 17 <= len(last_second) <= 21  # shared pacing again: 19/s
        assert any("answers again" in r.getMessage() for r in caplog.records)
        assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1  # still one warning
        print(
            f"\nfallback='local': {local_rate:.2f}/s while Redis was down (target 4.75), "
            f"{len(last_second)} calls in the last second after it came back"
        )
    finally:
        await pacer.flush()
        await redis.aclose()


async def test_a_refused_password_raises_even_with_fallback_local(own_redis: RedisServer) -> None:
    admin = Redis.from_url(own_redis.url)
    await admin.config_set("requirepass", "the-right-one")
    redis = Redis.from_url(own_redis.url)  # no password: Redis answers NOAUTH
    pacer = RedisQuotaPacer(redis, account=ACCOUNT, region=REGION, fallback="local")
    try:
        with pytest.raises(QuotaUnavailable, match="credentials") as raised:
            await pacer.acquire("AdminCreateUser")
        assert not pacer.pacing_locally  # a misconfiguration is not an outage
        assert "the-right-one" not in str(raised.value)
    finally:
        await redis.aclose()
        await admin.aclose()
