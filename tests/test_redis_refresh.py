"""One refresh call for every process of a session: ``RedisRefreshLock`` + ``RedisTokenStore`` on a real
redis-server, worker processes, and the local pool with refresh-token rotation.

The worker processes reach the pool through :class:`PoolProxy`, a small HTTP proxy in this process that
counts the refresh requests that reach it and those it lets through to the pool, records the error codes the
pool answers, and can hold the next refresh request before the pool sees it ("before") or after the pool
has processed it, with the answer kept back ("after"): the two moments a holder can be killed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import shutil
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any, Literal

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis

from aiocognito import ConfigurationError, MemoryTokenStore, RetryPolicy, SignInRequired
from aiocognito._signin.refresh_lock import (
    FencedTokenStore,
    RefreshLock,
    RefreshLockError,
    adoptable,
    newest,
)
from aiocognito._signin.session import Session
from aiocognito._signin.steps import SignedIn
from aiocognito._tokens.token_set import TokenSet
from aiocognito._tokens.verifier import TokenVerifier
from aiocognito.redis import RedisRefreshLock, RedisTokenStore
from aiocognito.redis._refresh_lock import MAX_POLL, _names, poll_delay, renew_interval
from aiocognito.redis._stores import RedisUnavailable
from aiocognito.testing import AppClient, LocalUserPool

PASSWORD = "Passw0rd!"
USERNAME = "svc-worker"
REFRESH_OPERATIONS = ("GetTokensFromRefreshToken", "InitiateAuth", "AdminInitiateAuth")

# A worker process: loads the saved session, says "ready", waits for "go" on stdin, then makes CALLS
# concurrent access_token() calls and prints what they returned.
WORKER = """
import asyncio, json, os, sys, time
from redis.asyncio import Redis
import aiocognito
from aiocognito.redis import RedisRefreshLock, RedisTokenStore

async def main():
    env = os.environ
    redis = Redis.from_url(env["REDIS_URL"])
    async with aiocognito.CognitoClient(
        region="us-east-1", endpoint_url=env["ENDPOINT"], credentials=("AKIDLOCAL", "local-secret"),
        retries=aiocognito.RetryPolicy(max_attempts=1),
    ) as cognito:
        session = cognito.session(
            user_pool_id=env["POOL_ID"], client_id=env["CLIENT_ID"], token_store=RedisTokenStore(redis),
            refresh_lock=RedisRefreshLock(redis, lease=float(env["LEASE"])),
        )
        assert await session.load(env["USERNAME"])
        print(json.dumps({"seconds_left": session.tokens.seconds_left(time.monotonic())}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        started = time.perf_counter()
        results = await asyncio.gather(
            *(session.access_token() for _ in range(int(env["CALLS"]))), return_exceptions=True
        )
        print(json.dumps({
            "tokens": sorted({r for r in results if isinstance(r, str)}),
            "errors": dict(__import__("collections").Counter(
                type(r).__name__ for r in results if isinstance(r, BaseException))),
            "seconds": time.perf_counter() - started,
        }), flush=True)
    await redis.aclose()

asyncio.run(main())
"""


# ---------------------------------------------------------------------------------------------------------
# Pure decisions: no Redis
# ---------------------------------------------------------------------------------------------------------


def test_poll_delay_backs_off_is_jittered_and_never_sleeps_past_the_lease_or_the_deadline() -> None:
    plenty = {"lease_left": 60.0, "time_left": 60.0}
    delays = [poll_delay(n, draw=0.0, **plenty) for n in range(8)]
    assert delays[:3] == [0.01, 0.02, 0.04] and delays[-1] == MAX_POLL
    assert poll_delay(1000, draw=0.0, **plenty) == MAX_POLL  # no overflow
    assert poll_delay(3, draw=0.999, **plenty) == pytest.approx(0.08 * (1 - 0.999 / 2))
    assert poll_delay(10, lease_left=0.005, time_left=60, draw=0) == pytest.approx(0.006)  # killed holder
    assert poll_delay(10, lease_left=60, time_left=0.003, draw=0) == 0.003
    assert poll_delay(10, lease_left=-0.5, time_left=60, draw=0) == 0.0
    assert renew_interval(9.0) == 3.0


def test_lock_key_names_hold_a_digest_in_one_hash_tag_never_the_username() -> None:
    lock_key, fence_key = _names("p:", "us-east-1_Ab:client:alice@example.com")
    assert "alice" not in lock_key + fence_key
    tag = lock_key[lock_key.index("{") : lock_key.index("}") + 1]
    assert (
        lock_key.endswith(":lock") and fence_key == lock_key.replace(":lock", ":fence") and tag in fence_key
    )


def _token(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


def _tokens(
    name: str, iat: int | None, received_at: float = 1000.0, received_monotonic: float = 0.0
) -> TokenSet:
    claims: dict[str, Any] = {"username": "u", "jti": name}
    if iat is not None:
        claims["iat"] = iat
    return TokenSet(
        id_token=_token({"sub": "s"}),
        access_token=_token(claims),
        refresh_token=f"refresh-{name}",
        expires_in=3600,
        received_at=received_at,
        received_monotonic=received_monotonic,
    )


def test_newest_goes_by_the_pools_iat_then_receipt_time_ties_to_the_stored_tokens() -> None:
    ours = _tokens("ours", iat=2000)
    assert newest(ours, None) is ours
    same = TokenSet.from_dict(ours.to_dict(), wall_now=1001.0, monotonic_now=5.0)
    assert newest(ours, same) is ours  # the same tokens: no "other process" to take from
    later, earlier, tie = _tokens("later", 2001), _tokens("earlier", 1999), _tokens("tie", 2000)
    assert newest(ours, later) is later
    assert newest(ours, earlier) is ours  # our save failed: the stored refresh token is spent
    assert newest(ours, tie) is tie
    no_iat_ours = _tokens("a", None, received_at=10.0)
    assert newest(no_iat_ours, _tokens("b", 5000, received_at=9.0)) is no_iat_ours  # receipt time
    assert newest(no_iat_ours, _tokens("c", None, received_at=11.0)).refresh_token == "refresh-c"


def test_adoptable_needs_other_tokens_that_are_fresh() -> None:
    ours, other = _tokens("ours", 1), _tokens("other", 2)
    assert adoptable(ours, other, lambda t: False)
    assert not adoptable(ours, other, lambda t: True)
    assert not adoptable(ours, ours, lambda t: False)


async def test_the_redis_lock_and_store_fit_the_session_protocols(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    lock = RedisRefreshLock(redis)
    assert isinstance(lock, RefreshLock) and isinstance(RedisTokenStore(redis), FencedTokenStore)
    assert not isinstance(MemoryTokenStore(), FencedTokenStore)
    assert "lease=10.0" in repr(lock)
    async with LocalUserPool() as local, local.client() as cognito:
        with pytest.raises(ConfigurationError, match="save_if"):
            cognito.session(user_pool_id="us-east-1_Ab", client_id="c" * 26, refresh_lock=lock)
        with pytest.raises(ConfigurationError, match="save_if"):
            cognito.session(
                user_pool_id="us-east-1_Ab",
                client_id="c" * 26,
                token_store=MemoryTokenStore(),
                refresh_lock=lock,
            )
    for bad in ({"lease": 0.05}, {"wait": -1}):
        with pytest.raises(ConfigurationError):
            RedisRefreshLock(redis, **bad)
    await redis.aclose()


# ---------------------------------------------------------------------------------------------------------
# The lock on a real Redis
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_fences_grow_a_second_holder_waits_and_the_lease_is_renewed(redis: Redis) -> None:
    lock = RedisRefreshLock(redis, lease=1.0, wait=5)
    lock_key, _ = _names(lock.prefix, "k")
    order: list[str] = []
    async with lock.holding("k") as first:
        waiter = asyncio.create_task(_hold(lock, "k", order))
        await asyncio.sleep(1.6)  # well past the lease: renewals keep it
        assert not waiter.done() and await redis.get(lock_key) is not None
        order.append("first out")
    second = await asyncio.wait_for(waiter, 2)
    assert order == ["first out", "second in"] and second == first + 1
    assert await redis.get(lock_key) is None  # released
    async with lock.holding("another key") as other:
        assert other == 1  # a fence per key


async def _hold(lock: RedisRefreshLock, key: str, order: list[str]) -> int:
    async with lock.holding(key) as fence:
        order.append("second in")
        return fence


async def test_a_holder_that_never_releases_is_taken_over_when_its_lease_runs_out(redis: Redis) -> None:
    lock = RedisRefreshLock(redis, lease=0.4, wait=5)
    lock_key, fence_key = _names(lock.prefix, "k")
    await redis.set(lock_key, "a dead process", px=400)  # what a killed holder leaves behind
    await redis.set(fence_key, 7)
    started = time.monotonic()
    async with lock.holding("k") as fence:
        waited = time.monotonic() - started
    assert fence == 8 and 0.3 < waited < 2.0  # the lease left, then at most one poll (and a busy machine)


async def test_waiting_longer_than_wait_raises_a_typed_error(redis: Redis) -> None:
    lock = RedisRefreshLock(redis, lease=5, wait=0.3)
    async with lock.holding("k"):
        started = time.monotonic()
        with pytest.raises(RefreshLockError, match="over 0.3 s"):
            async with lock.holding("k"):
                pass
        assert 0.25 < time.monotonic() - started < 3


async def test_redis_unreachable_is_a_typed_error() -> None:
    from redis_server import _free_port

    client = Redis.from_url(f"redis://127.0.0.1:{_free_port()}/0", socket_connect_timeout=1)
    with pytest.raises(RedisUnavailable, match="unavailable"):
        async with RedisRefreshLock(client).holding("k"):
            pass
    await client.aclose()


async def test_a_stalled_holder_loses_its_lease_and_its_stale_fence_cannot_write(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """A holds the lock; its event loop stalls past the lease (renewals cannot run); B takes the lock and
    saves. A's write with its older fence is refused, and A's release leaves B's lock alone."""
    lock, store = RedisRefreshLock(redis, lease=0.3, wait=5), RedisTokenStore(redis)
    lock_key, _ = _names(lock.prefix, "k")
    await store.save("k", {"tokens": "signed in"})
    async with lock.holding("k") as fence_a:
        time.sleep(0.5)  # a stalled event loop: nothing renews the lease
        async with lock.holding("k") as fence_b:
            assert fence_b > fence_a
            assert await store.save_if("k", {"tokens": "from B"}, fence=fence_b)
            assert not await store.save_if("k", {"tokens": "from A"}, fence=fence_a)
            b_owner = await redis.get(lock_key)
        assert await redis.get(lock_key) is None
        await redis.set(lock_key, b_owner or b"", px=5000)  # say B still held it when A leaves
    assert await redis.get(lock_key) == b_owner  # A's release did not delete it
    assert await store.load("k") == {"tokens": "from B"}
    assert "lease ran out before the release" in caplog.text


# ---------------------------------------------------------------------------------------------------------
# Sessions, worker processes and the local pool
# ---------------------------------------------------------------------------------------------------------


class PoolProxy:
    """An HTTP proxy to the local pool: counts refresh requests, and can hold the next one."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.arrived: Counter[str] = Counter()  # requests that reached the proxy, by operation
        self.forwarded: Counter[str] = Counter()  # ... and that the pool processed
        self.errors: Counter[str] = Counter()  # error codes the pool answered
        self.hold: Literal["before", "after"] | None = None  # for the next refresh request only
        self.held = asyncio.Event()
        self.release = asyncio.Event()  # lets a request held "before" go on to the pool
        self._closing = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    @property
    def refreshes(self) -> tuple[int, int]:
        """(refresh requests sent by the workers, refresh requests the pool processed)."""
        return (
            sum(self.arrived[o] for o in REFRESH_OPERATIONS),
            sum(self.forwarded[o] for o in REFRESH_OPERATIONS),
        )

    async def start(self) -> PoolProxy:
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._http = aiohttp.ClientSession()
        return self

    async def close(self) -> None:
        self._closing.set()  # held requests end now
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        operation = request.headers.get("X-Amz-Target", "").rpartition(".")[2]
        self.arrived[operation] += 1
        mode = None
        if operation in REFRESH_OPERATIONS and self.hold is not None:
            mode, self.hold = self.hold, None
        if mode == "before":
            self.held.set()
            if not await self._until(self.release):
                return web.Response(status=503)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        assert self._http is not None
        async with self._http.post(self.upstream, data=body, headers=headers) as answer:
            payload, status = await answer.read(), answer.status
            kept = {
                k: v for k, v in answer.headers.items() if k.lower().startswith(("x-amz", "content-type"))
            }
        self.forwarded[operation] += 1
        if status != 200:
            self.errors[kept.get("x-amzn-ErrorType", "?").split(":")[0]] += 1
        if mode == "after":
            self.held.set()
            await self._until(asyncio.Event())  # processed by the pool; the answer never goes back
            return web.Response(status=503)
        return web.Response(status=status, body=payload, headers=kept)

    async def _until(self, event: asyncio.Event) -> bool:
        """Wait for ``event`` (True) or for the proxy to close (False)."""
        waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self._closing.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        return event.is_set()


class Worker:
    """A worker process running :data:`WORKER`."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, env: dict[str, str]) -> Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WORKER,
            env={**os.environ, **env},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def line(self, timeout: float = 20) -> dict[str, Any]:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        assert raw, f"the worker exited with {await self.process.wait()}"
        value: dict[str, Any] = json.loads(raw)
        return value

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)

    async def finish(self) -> dict[str, Any]:
        result = await self.line()
        assert await asyncio.wait_for(self.process.wait(), 10) == 0
        return result


class Setup:
    """A pool with an app client that rotates refresh tokens, one signed-in user whose access token has
    expired, the tokens saved in Redis, and a proxy in front of the pool."""

    def __init__(self, local: LocalUserPool, redis: Redis, redis_url: str, proxy: PoolProxy) -> None:
        self.local, self.redis, self.redis_url, self.proxy = local, redis, redis_url, proxy
        self.app: AppClient | None = None
        self.signed_in: TokenSet | None = None
        self.workers: list[Worker] = []

    async def sign_in(self, *, grace: int = 0) -> None:
        pool_id = await self.local.create_user_pool()
        self.app = await self.local.create_app_client(pool_id, rotation=True, grace_seconds=grace)
        await self.local.create_user(pool_id, USERNAME, PASSWORD)
        self.local.set_token_lifetimes(self.app.client_id, access=1, id_token=1)  # expired within a second
        async with self.local.client(retries=RetryPolicy(max_attempts=1)) as cognito:
            step = await self.session(cognito).sign_in(USERNAME, PASSWORD)
        assert isinstance(step, SignedIn)
        self.signed_in = step.tokens
        self.local.set_token_lifetimes(self.app.client_id, access=3600, id_token=3600)  # refreshed ones last
        await asyncio.sleep(1.05)  # the signed-in access token has expired

    def session(self, cognito: Any, lock: RefreshLock | None = None) -> Session:
        assert self.app is not None
        session: Session = cognito.session(
            user_pool_id=self.app.user_pool_id,
            client_id=self.app.client_id,
            token_store=RedisTokenStore(self.redis),
            refresh_lock=lock,
        )
        return session

    async def workers_ready(self, count: int, *, calls: int, lease: float) -> list[Worker]:
        assert self.app is not None
        env = {
            "ENDPOINT": self.proxy.url,
            "REDIS_URL": self.redis_url,
            "POOL_ID": self.app.user_pool_id,
            "CLIENT_ID": self.app.client_id,
            "USERNAME": USERNAME,
            "CALLS": str(calls),
            "LEASE": str(lease),
        }
        started = [await Worker.start(env) for _ in range(count)]
        self.workers += started
        for worker in started:
            assert (await worker.line())["seconds_left"] < 0  # the loaded access token has expired
        return started

    async def saved(self) -> dict[str, Any] | None:
        assert self.app is not None
        return await RedisTokenStore(self.redis).load(
            f"{self.app.user_pool_id}:{self.app.client_id}:{USERNAME}"
        )

    async def verify(self, access_token: str) -> dict[str, Any]:
        assert self.app is not None
        pool_id = self.app.user_pool_id
        async with TokenVerifier(
            pool_id,
            client_ids=self.app.client_id,
            jwks_url=self.local.jwks_url(pool_id),
            issuer=self.local.issuer(pool_id),
        ) as verifier:
            claims: dict[str, Any] = await verifier.verify(access_token, "access")
        return claims


@pytest.fixture
async def setup(local_user_pool: LocalUserPool, redis: Redis, redis_url: str) -> AsyncIterator[Setup]:
    proxy = await PoolProxy(local_user_pool.endpoint_url).start()
    state = Setup(local_user_pool, redis, redis_url, proxy)
    try:
        yield state
    finally:
        for worker in state.workers:
            if worker.process.returncode is None:
                worker.kill()
                await worker.process.wait()
        await proxy.close()


async def test_four_processes_times_250_calls_make_one_refresh_call(setup: Setup) -> None:
    await setup.sign_in()
    workers = await setup.workers_ready(4, calls=250, lease=10)
    before = setup.local.request_count
    started = time.perf_counter()
    for worker in workers:
        worker.go()
    results = [await worker.finish() for worker in workers]
    elapsed = time.perf_counter() - started

    assert all(not r["errors"] for r in results), results
    tokens = {token for r in results for token in r["tokens"]}
    assert len(tokens) == 1  # all 1000 calls: one access token
    assert setup.proxy.refreshes == (1, 1) and setup.local.request_count - before == 1
    assert setup.proxy.errors == Counter()
    (token,) = tokens
    assert setup.signed_in is not None and token != setup.signed_in.access_token
    claims = await setup.verify(token)
    saved = await setup.saved()
    assert saved is not None and saved["tokens"]["access_token"] == token
    assert saved["tokens"]["refresh_token"] != setup.signed_in.refresh_token  # rotated, and saved
    print(
        f"\n4 x 250 access_token(): {setup.proxy.refreshes[1]} refresh call, {elapsed:.2f} s in all, "
        f"per worker {[round(r['seconds'], 3) for r in results]} s; token for {claims['username']}"
    )


LEASE = 2.0  # the workers' lease in the kill tests: renewed every 0.67 s, so a busy machine keeps it


async def _holder_and_waiters(setup: Setup, hold: Literal["before", "after"], lease: float) -> list[Worker]:
    """A worker that holds the lock with its refresh request held at the proxy, and two that wait."""
    setup.proxy.hold = hold
    (holder,) = await setup.workers_ready(1, calls=250, lease=lease)
    holder.go()
    await asyncio.wait_for(setup.proxy.held.wait(), 20)
    waiters = await setup.workers_ready(2, calls=250, lease=lease)
    for worker in waiters:
        worker.go()
    await asyncio.sleep(0.5)
    assert setup.proxy.arrived["GetTokensFromRefreshToken"] == 1  # the others wait for the lock
    holder.kill()
    await holder.process.wait()
    return waiters


async def test_a_holder_killed_before_its_refresh_reached_the_pool_is_taken_over(setup: Setup) -> None:
    """Grace period 0: the holder is killed while its refresh request is held before the pool processes
    it; its lease runs out, another process refreshes, every process ends with the same valid token."""
    await setup.sign_in(grace=0)
    waiters = await _holder_and_waiters(setup, "before", lease=LEASE)
    killed_at = time.perf_counter()
    results = [await worker.finish() for worker in waiters]
    took_over = time.perf_counter() - killed_at

    assert all(not r["errors"] for r in results), results
    tokens = {token for r in results for token in r["tokens"]}
    assert len(tokens) == 1
    assert setup.proxy.refreshes == (2, 1)  # the killed holder's never reached the pool
    assert "RefreshTokenReuseException" not in setup.proxy.errors and not setup.proxy.errors
    (token,) = tokens
    await setup.verify(token)
    saved = await setup.saved()
    assert saved is not None and saved["tokens"]["access_token"] == token
    assert took_over < LEASE + MAX_POLL + 3  # the lease, a poll, and a refresh
    print(f"\nholder killed before sending: taken over and done in {took_over:.2f} s (lease {LEASE} s)")


async def test_a_holder_killed_after_the_pool_rotated_is_survived_within_the_grace_period(
    setup: Setup,
) -> None:
    """Grace period 10 s: the holder is killed after the pool rotated the refresh token (its answer kept
    back); the next holder refreshes with the saved, old refresh token within the grace period."""
    await setup.sign_in(grace=10)
    waiters = await _holder_and_waiters(setup, "after", lease=LEASE)
    killed_at = time.perf_counter()
    results = [await worker.finish() for worker in waiters]
    took_over = time.perf_counter() - killed_at

    assert all(not r["errors"] for r in results), results
    tokens = {token for r in results for token in r["tokens"]}
    assert len(tokens) == 1
    assert setup.proxy.refreshes == (2, 2) and not setup.proxy.errors
    print(f"\nholder killed after the pool rotated (grace 10 s): done in {took_over:.2f} s (lease {LEASE} s)")
    (token,) = tokens
    await setup.verify(token)
    saved = await setup.saved()
    assert saved is not None and saved["tokens"]["access_token"] == token


async def test_the_documented_window_a_holder_killed_after_rotation_with_grace_0(setup: Setup) -> None:
    """What no lock can fix (documented): grace 0, the holder killed after the pool rotated and before it
    saved. The old refresh token is spent: the others get SignInRequired, never a bad token, and the
    saved tokens are cleared."""
    await setup.sign_in(grace=0)
    waiters = await _holder_and_waiters(setup, "after", lease=LEASE)
    results = [await worker.finish() for worker in waiters]

    assert all(r["tokens"] == [] and r["errors"] == {"SignInRequired": 250} for r in results), results
    assert setup.proxy.errors["RefreshTokenReuseException"] >= 1
    assert await setup.saved() is None


async def test_a_session_whose_lease_ran_out_does_not_overwrite_the_next_holders_tokens(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    """Two sessions (as two processes): A's refresh is held at the proxy while its event loop stalls past
    the lease; B takes the lock, refreshes and saves. A's answer then arrives (grace 30 s, so the pool
    accepts the same refresh token): its save is refused (older fence) and A takes B's tokens."""
    await setup.sign_in(grace=30)
    caplog.set_level(logging.WARNING)
    async with _proxied(setup) as cognito_a, _proxied(setup) as cognito_b:
        a = setup.session(cognito_a, RedisRefreshLock(setup.redis, lease=0.3))
        b = setup.session(cognito_b, RedisRefreshLock(setup.redis, lease=0.3))
        assert await a.load(USERNAME) and await b.load(USERNAME)
        setup.proxy.hold = "before"
        a_call = asyncio.create_task(a.access_token())
        await asyncio.wait_for(setup.proxy.held.wait(), 5)
        time.sleep(0.5)  # A's loop stalls: its lease runs out
        b_token = await b.access_token()
        saved = await setup.saved()
        assert saved is not None and saved["tokens"]["access_token"] == b_token
        setup.proxy.release.set()  # A's refresh reaches the pool now, after B's
        a_token = await asyncio.wait_for(a_call, 5)
    assert setup.proxy.refreshes == (2, 2) and not setup.proxy.errors
    assert a_token == b_token  # A took the tokens the later holder saved
    saved = await setup.saved()
    assert saved is not None and saved["tokens"]["access_token"] == b_token  # not overwritten by A
    assert "a later lock holder saved its tokens first" in caplog.text
    await setup.verify(a_token)


def _proxied(setup: Setup) -> Any:
    import aiocognito

    return aiocognito.CognitoClient(
        region="us-east-1",
        endpoint_url=setup.proxy.url,
        credentials=("AKIDLOCAL", "local-secret"),
        retries=RetryPolicy(max_attempts=1),
    )


async def test_a_session_with_the_lock_adopts_what_another_process_saved_without_a_call(setup: Setup) -> None:
    """After one process refreshed, another whose tokens expired takes the saved ones: no lock, no call."""
    await setup.sign_in()
    async with _proxied(setup) as cognito_a, _proxied(setup) as cognito_b:
        a = setup.session(cognito_a, RedisRefreshLock(setup.redis))
        b = setup.session(cognito_b, RedisRefreshLock(setup.redis))
        assert await a.load(USERNAME) and await b.load(USERNAME)
        token = await a.access_token()
        assert await b.access_token() == token
        assert await a.access_token() == token  # fresh now: nothing more
    assert setup.proxy.refreshes == (1, 1)


async def test_without_the_lock_two_processes_spend_the_rotated_token_twice(setup: Setup) -> None:
    """Why the lock: the same two sessions with no lock, both expired, refresh at once; the pool refuses
    the second use of the rotated refresh token."""
    await setup.sign_in(grace=0)
    async with _proxied(setup) as cognito_a, _proxied(setup) as cognito_b:
        a, b = setup.session(cognito_a), setup.session(cognito_b)
        assert await a.load(USERNAME) and await b.load(USERNAME)
        results = await asyncio.gather(a.access_token(), b.access_token(), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["SignInRequired", "str"]
    assert setup.proxy.errors == Counter({"RefreshTokenReuseException": 1})
    assert isinstance(next(r for r in results if not isinstance(r, str)), SignInRequired)


async def test_when_redis_goes_away_the_current_token_serves_until_10_s_before_expiry_then_a_typed_error(
    local_user_pool: LocalUserPool, tmp_path: Any
) -> None:
    """Redis gone: no refresh without the lock (with rotation that could spend the token twice). While the
    token has more than 10 s left it is still handed out; then access_token() raises RedisUnavailable."""
    from redis_server import RedisServer

    executable = shutil.which("redis-server")
    assert executable is not None
    server = RedisServer(executable, tmp_path)
    server.start()
    local = local_user_pool
    pool_id = await local.create_user_pool()
    app = await local.create_app_client(pool_id, rotation=True)
    await local.create_user(pool_id, USERNAME, PASSWORD)
    now = [1000.0]
    redis = Redis.from_url(server.url, socket_connect_timeout=1)
    try:
        async with local.client(retries=RetryPolicy(max_attempts=1)) as cognito:
            session = cognito.session(
                user_pool_id=pool_id,
                client_id=app.client_id,
                token_store=RedisTokenStore(redis),
                refresh_lock=RedisRefreshLock(redis),
                monotonic=lambda: now[0],
            )
            assert isinstance(await session.sign_in(USERNAME, PASSWORD), SignedIn)
            token = await session.access_token()
            server.stop(kill=True)
            before = local.request_count
            now[0] += 3600 - 200  # inside the refresh margin, 200 s left
            assert await session.access_token() == token
            now[0] += 195  # 5 s left
            with pytest.raises(RedisUnavailable, match="cannot be reached|unavailable"):
                await session.access_token()
            assert local.request_count == before  # no refresh went out without the lock
    finally:
        await redis.aclose()
        server.stop(kill=True)
