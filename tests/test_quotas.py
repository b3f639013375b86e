"""Quota categories, the token bucket, the pacer, and pacing a real bulk run against a throttling server."""

from __future__ import annotations

import asyncio
import collections
import json
import threading
import time
from collections.abc import Iterator

import aiohttp.web
import pytest

import aiocognito
from aiocognito import bulk
from aiocognito._wire.operations import OPERATIONS
from aiocognito.quotas import (
    CATEGORY_RPS,
    CHALLENGE_CATEGORY,
    DOCUMENTED,
    OPERATION_CATEGORY,
    QuotaPacer,
    TokenBucket,
    category_of,
)

DUMMY_CREDENTIALS = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


# ----- the table ------------------------------------------------------------------------------------------
def test_every_operation_has_a_known_category() -> None:
    missing = sorted(set(OPERATIONS) - set(OPERATION_CATEGORY))
    assert missing == []
    assert sorted(set(OPERATION_CATEGORY) - set(OPERATIONS)) == []  # no stale names either
    known = {*CATEGORY_RPS, CHALLENGE_CATEGORY}
    assert {cat for cat in OPERATION_CATEGORY.values()} <= known
    assert DOCUMENTED <= set(OPERATION_CATEGORY)


@pytest.mark.parametrize(
    ("operation", "category"),
    [
        ("AdminCreateUser", "UserCreation"),
        ("SignUp", "UserCreation"),
        ("InitiateAuth", "UserAuthentication"),
        ("GetTokensFromRefreshToken", "UserAuthentication"),
        ("RespondToAuthChallenge", CHALLENGE_CATEGORY),
        ("AdminRespondToAuthChallenge", CHALLENGE_CATEGORY),
        ("AdminSetUserPassword", "UserAccountRecovery"),
        ("AdminGetUser", "UserRead"),
        ("AdminDeleteUser", "UserUpdate"),
        ("AdminAddUserToGroup", "UserUpdate"),
        ("ListUsers", "UserList"),
        ("ListGroups", "UserPoolResourceRead"),
        ("CreateGroup", "UserPoolResourceUpdate"),
        ("GetProvisionedLimit", "LimitManagement"),
    ],
)
def test_documented_placements(operation: str, category: str) -> None:
    assert category_of(operation) == category
    assert operation in DOCUMENTED


def test_unknown_operation_has_no_category() -> None:
    assert category_of("MakeCoffee") is None


# ----- configuration --------------------------------------------------------------------------------------
def test_overrides_replace_defaults_and_the_challenge_bucket_follows() -> None:
    pacer = QuotaPacer({"UserCreation": 20, "UserAuthentication": 10})
    assert pacer.rates["UserCreation"] == 20
    assert pacer.rates["UserRead"] == CATEGORY_RPS["UserRead"]
    assert pacer.rates[CHALLENGE_CATEGORY] == 30  # 3 x UserAuthentication
    assert QuotaPacer({CHALLENGE_CATEGORY: 7}).rates[CHALLENGE_CATEGORY] == 7
    assert QuotaPacer().rates[CHALLENGE_CATEGORY] == 3 * CATEGORY_RPS["UserAuthentication"]


@pytest.mark.parametrize(
    "overrides", [{"UserCreaton": 5}, {"UserCreation": 0}, {"UserCreation": -1}, {"UserRead": "x"}]
)
def test_bad_overrides_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(aiocognito.ConfigurationError):
        QuotaPacer(overrides)  # type: ignore[arg-type]


def test_client_builds_a_pacer_only_when_asked() -> None:
    assert aiocognito.CognitoClient(region="us-east-1")._pacer is None
    paced = aiocognito.CognitoClient(region="us-east-1", quotas={"UserCreation": 20})._pacer
    assert isinstance(paced, QuotaPacer) and paced.rates["UserCreation"] == 20
    defaults = aiocognito.CognitoClient(region="us-east-1", quotas=True)._pacer
    assert isinstance(defaults, QuotaPacer) and defaults.rates == QuotaPacer().rates


# ----- the bucket (pure) ----------------------------------------------------------------------------------
def test_bucket_spaces_calls_at_its_rate() -> None:
    bucket = TokenBucket(target=10.0, capacity=1.0)
    assert bucket.take(0.0) == 0.0  # starts with one token
    wait = bucket.take(0.0)
    assert wait == pytest.approx(0.1)
    assert bucket.take(0.05) == pytest.approx(0.05)
    assert bucket.take(0.1) == 0.0
    # a long idle period banks no more than the capacity
    assert bucket.take(100.0) == 0.0
    assert bucket.take(100.0) > 0


def test_bucket_slows_on_throttle_and_recovers_linearly() -> None:
    bucket = TokenBucket(target=100.0, capacity=2.0, backoff=0.5, cooldown=0.5, recovery=5.0)
    bucket.take(0.0)
    assert bucket.throttled(1.0) is True
    assert bucket.rate(1.0) == pytest.approx(50.0)
    assert bucket.throttled(1.2) is False  # within the cooldown: one cut per burst of refusals
    assert bucket.rate(1.2) == pytest.approx(54.0)  # +target/recovery (20) per second
    assert bucket.rate(2.0) == pytest.approx(70.0)
    assert bucket.rate(3.4) == pytest.approx(98.0)
    assert bucket.rate(3.5) == 100.0
    assert bucket.rate(60.0) == 100.0
    # a throttle drains the banked tokens, so the next call waits
    bucket2 = TokenBucket(target=10.0, capacity=5.0)
    bucket2.take(0.0)
    bucket2.take(10.0)
    bucket2.throttled(10.0)
    assert bucket2.take(10.0) > 0


def test_repeated_throttles_keep_a_floor() -> None:
    bucket = TokenBucket(target=100.0, capacity=1.0, cooldown=0.0, recovery=1e9)
    for i in range(60):
        bucket.throttled(float(i))
    assert bucket.rate(60.0) >= 2.0


# ----- the pacer with a virtual clock ---------------------------------------------------------------------
class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def test_pacer_shares_one_bucket_across_tasks() -> None:
    vt = VirtualTime()
    pacer = QuotaPacer({"UserCreation": 10}, utilization=1.0, clock=vt.clock, sleep=vt.sleep)
    sent: list[float] = []

    async def caller(n: int) -> None:
        for _ in range(n):
            await pacer.acquire("AdminCreateUser")
            sent.append(vt.now)

    await asyncio.gather(*(caller(25) for _ in range(4)))
    assert len(sent) == 100
    assert vt.now == pytest.approx(9.9, abs=0.05)  # 1 token at t=0, then 10 per second
    # any 1-second window holds at most the quota (+ the 1-token burst)
    for i, t in enumerate(sent):
        assert sum(1 for u in sent[i:] if u < t + 1.0) <= 11


async def test_pacer_categories_are_independent_and_unknown_names_pass() -> None:
    vt = VirtualTime()
    pacer = QuotaPacer({"UserCreation": 1, "UserRead": 1000}, utilization=1.0, clock=vt.clock, sleep=vt.sleep)
    for _ in range(3):
        await pacer.acquire("AdminCreateUser")
    assert vt.now == pytest.approx(2.0)
    start = vt.now
    for _ in range(10):
        await pacer.acquire("AdminGetUser")
        await pacer.acquire("MakeCoffee")
    assert vt.now - start < 0.02


async def test_per_pool_operations_are_capped_at_five_per_second() -> None:
    vt = VirtualTime()
    pacer = QuotaPacer(utilization=1.0, clock=vt.clock, sleep=vt.sleep)
    for _ in range(11):
        await pacer.acquire("CreateGroup")  # category quota 15, per-pool operation 5
    assert vt.now == pytest.approx(2.0)
    start = vt.now
    for _ in range(5):
        await pacer.acquire("UpdateGroup")  # a different operation has its own 5/s bucket
    assert vt.now - start <= 0.8 + 1e-9


async def test_throttle_slows_the_category_then_it_recovers() -> None:
    vt = VirtualTime()
    pacer = QuotaPacer({"UserCreation": 100}, utilization=1.0, recovery=2.0, clock=vt.clock, sleep=vt.sleep)
    assert pacer.current_rate("UserCreation") == 100
    pacer.on_throttled("AdminCreateUser")
    assert pacer.current_rate("UserCreation") == pytest.approx(50)
    assert pacer.current_rate("UserRead") == CATEGORY_RPS["UserRead"]  # other categories untouched
    assert pacer.throttles == {"UserCreation": 1}
    start = vt.now
    for _ in range(50):
        await pacer.acquire("AdminCreateUser")
    elapsed = vt.now - start
    assert 0.6 < elapsed < 1.0  # slower than 100/s (0.5 s), faster than a flat 50/s (1 s): recovering
    vt.now += 5
    assert pacer.current_rate("UserCreation") == 100


# ----- pacing a real bulk run against a throttling server -------------------------------------------------
class ThrottlingServer:
    """A tiny Cognito-shaped server on 127.0.0.1 in its own thread: AdminCreateUser answers, and
    TooManyRequestsException for any request above ``rate`` in the trailing second."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.accepted = 0
        self.throttled = 0
        self.created: set[str] = set()
        self._window: collections.deque[float] = collections.deque()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self.url = ""

    async def _handle(self, request: aiohttp.web.Request) -> aiohttp.web.Response:
        body = json.loads(await request.read())
        now = time.monotonic()
        window = self._window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.rate:
            self.throttled += 1
            return aiohttp.web.json_response(
                {"__type": "TooManyRequestsException", "message": "Too many requests"}, status=400
            )
        window.append(now)
        self.accepted += 1
        self.created.add(body["Username"])
        user = {"Username": body["Username"], "Enabled": True, "UserStatus": "FORCE_CHANGE_PASSWORD"}
        return aiohttp.web.json_response({"User": user})

    async def _main(self) -> None:
        app = aiohttp.web.Application()
        app.router.add_post("/", self._handle)
        runner = aiohttp.web.AppRunner(app, access_log=None)
        await runner.setup()
        site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._stop = asyncio.Event()
        self._started.set()
        await self._stop.wait()
        await runner.cleanup()

    def __enter__(self) -> ThrottlingServer:
        self._thread = threading.Thread(
            target=self._loop.run_until_complete, args=(self._main(),), daemon=True
        )
        self._thread.start()
        self._started.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def throttling_server() -> Iterator[ThrottlingServer]:
    with ThrottlingServer(rate=500) as server:
        yield server


def _rows(n: int) -> Iterator[dict[str, object]]:
    for i in range(n):
        yield {"Username": f"user{i:05d}", "MessageAction": "SUPPRESS"}


async def test_unpaced_calls_do_get_throttled(throttling_server: ThrottlingServer) -> None:
    """The control: without pacing, the same server refuses calls (so the next test can fail)."""
    async with aiocognito.CognitoClient(
        region="us-east-1", endpoint_url=throttling_server.url, credentials=DUMMY_CREDENTIALS, retries=1
    ) as client:
        results = await asyncio.gather(
            *(client.admin_create_user(UserPoolId="us-east-1_x", Username=f"u{i}") for i in range(700)),
            return_exceptions=True,
        )
    refused = [r for r in results if isinstance(r, aiocognito.errors.TooManyRequestsException)]
    assert refused and throttling_server.throttled == len(refused)


async def test_bulk_run_paces_at_90_to_100_percent_of_the_quota(throttling_server: ThrottlingServer) -> None:
    quota = 500.0
    async with aiocognito.CognitoClient(
        region="us-east-1",
        endpoint_url=throttling_server.url,
        credentials=DUMMY_CREDENTIALS,
        quotas={"UserCreation": quota},
    ) as client:
        # warm the connection pool so the measurement is of pacing, not of TCP set-up
        await client.admin_create_user(UserPoolId="us-east-1_x", Username="warmup")
        started = time.monotonic()
        report = await bulk.create_users(client, "us-east-1_x", _rows(1000), concurrency=32)
        elapsed = time.monotonic() - started
    assert (report.succeeded, report.already, report.failed) == (1000, 0, 0)
    assert report.failures == []
    achieved = 1000 / elapsed
    print(
        f"achieved {achieved:.0f}/s of a {quota:.0f}/s quota; server throttled {throttling_server.throttled}"
    )
    assert 0.90 * quota <= achieved <= 1.0 * quota
    assert throttling_server.throttled == 0  # paced below the quota, not retried into it
    assert len(throttling_server.created) == 1001
