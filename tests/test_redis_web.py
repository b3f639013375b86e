"""Several web workers, one Redis: the example backends share their saved challenges.

Two processes of ``examples/aiohttp_backend.py`` (``web.run_app`` on two ports) run against one local user
pool (served by this test's event loop) and one redis-server, with ``REDIS_URL`` and an encryption key set;
one HTTP client talks to both. A TOTP challenge saved by worker A is answered on worker B; answering it
again on A is refused (410); wrong codes are counted across workers; when Redis goes away sign-in answers
an error instead of losing a challenge, and works again once Redis is back. The FastAPI example (uvicorn is
not installed here) runs as two app instances in this process, each with its own Redis client.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis
from redis_server import RedisServer
from test_examples import EXAMPLES, PASSWORD, load_example, settings_for

from aiocognito import SignedIn, TotpSetupRequired
from aiocognito.testing import AppClient, LocalUserPool

STORE_KEY = base64.b64encode(bytes(range(100, 132))).decode()


async def totp_users(pool: LocalUserPool, *names: str) -> AppClient:
    """A pool that requires MFA, an app client with a secret, and users with TOTP set up."""
    pool_id = await pool.create_user_pool(mfa="ON")
    app = await pool.create_app_client(pool_id, secret=True)
    async with pool.client(retries=1) as cognito:
        for name in names:
            await pool.create_user(pool_id, name, PASSWORD)
            session = cognito.session(
                user_pool_id=pool_id, client_id=app.client_id, client_secret=app.client_secret
            )
            step = await session.sign_in(name, PASSWORD)
            assert isinstance(step, TotpSetupRequired)
            secret = await step.associate()
            assert isinstance(await step.respond(pool.totp_code(name, secret=secret)), SignedIn)
    return app


def backend_env(pool: LocalUserPool, app: AppClient, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOCOGNITO_")}
    env.update(
        AIOCOGNITO_USER_POOL_ID=app.user_pool_id,
        AIOCOGNITO_CLIENT_ID=app.client_id,
        AIOCOGNITO_CLIENT_SECRET=app.client_secret or "",
        AIOCOGNITO_ENDPOINT_URL=pool.endpoint_url,
        AIOCOGNITO_ISSUER=pool.issuer(app.user_pool_id),
        AIOCOGNITO_JWKS_URL=pool.jwks_url(app.user_pool_id),
        AWS_REGION="us-east-1",
        REDIS_URL=redis_url,
        AIOCOGNITO_STORE_KEY=STORE_KEY,
    )
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Worker:
    """One ``examples/aiohttp_backend.py`` process; its output goes to a file."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name, self.env, self.log = name, env, log
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, http: aiohttp.ClientSession) -> None:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(EXAMPLES / "aiohttp_backend.py"),
                *("--port", str(self.port)),
                env=self.env,
                stdout=out,
                stderr=out,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise AssertionError(f"worker {self.name} ended: {self.output()}")
            try:
                async with http.get(self.url + "/me") as reply:
                    if reply.status == 401:
                        return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        raise AssertionError(f"worker {self.name} did not start: {self.output()}")

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=10)
            except asyncio.TimeoutError:
                self.process.kill()
                await self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@asynccontextmanager
async def workers(
    env: dict[str, str], tmp_path: Path, *names: str
) -> AsyncIterator[tuple[aiohttp.ClientSession, list[Worker]]]:
    started = [Worker(name, env, tmp_path / f"worker-{name}.log") for name in names]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
        try:
            await asyncio.gather(*(w.start(http) for w in started))
            yield http, started
        finally:
            await asyncio.gather(*(w.stop() for w in started))


async def post(
    http: aiohttp.ClientSession, worker: Worker, path: str, body: dict[str, Any]
) -> tuple[int, Any]:
    async with http.post(worker.url + path, json=body) as reply:
        return reply.status, await reply.json()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_two_workers_share_challenges_through_redis(
    local_user_pool: LocalUserPool, redis_url: str, tmp_path: Path
) -> None:
    pool = local_user_pool
    app = await totp_users(pool, "mia", "noah", "olga")
    env = backend_env(pool, app, redis_url)
    redis = Redis.from_url(redis_url)
    started = time.monotonic()
    try:
        async with workers(env, tmp_path, "A", "B") as (http, (a, b)):
            startup = time.monotonic() - started

            # sign in on A; the challenge waits in Redis, encrypted; B answers it; A cannot answer it again
            status, body = await post(http, a, "/sign-in", {"username": "mia", "password": PASSWORD})
            assert status == 200 and body["challenge"] == "SOFTWARE_TOKEN_MFA", body
            challenge_id = body["challenge_id"]
            assert await redis.keys("*") == [f"aiocognito:challenge:{challenge_id}".encode()]
            raw = await redis.get(f"aiocognito:challenge:{challenge_id}")
            assert raw is not None and b"SOFTWARE_TOKEN_MFA" not in raw and b"session" not in raw
            assert 170_000 < await redis.pttl(f"aiocognito:challenge:{challenge_id}") <= 180_000
            code = pool.totp_code("mia")
            status, body = await post(
                http, b, "/sign-in/answer", {"challenge_id": challenge_id, "code": code}
            )
            assert status == 200 and set(body["tokens"]) >= {"access_token", "refresh_token"}, body
            tokens = body["tokens"]
            status, again = await post(
                http, a, "/sign-in/answer", {"challenge_id": challenge_id, "code": code}
            )
            assert (status, again["error"]) == (410, "challenge_expired")
            assert await redis.keys("*") == []
            for worker in (a, b):  # either worker accepts the tokens
                headers = {"Authorization": f"Bearer {tokens['access_token']}"}
                async with http.get(worker.url + "/me", headers=headers) as reply:
                    assert reply.status == 200 and (await reply.json())["username"] == "mia"

            # a wrong code on A, then the right one on B
            status, body = await post(http, b, "/sign-in", {"username": "noah", "password": PASSWORD})
            assert status == 200, body
            challenge_id, code = body["challenge_id"], pool.totp_code("noah")
            status, body = await post(
                http, a, "/sign-in/answer", {"challenge_id": challenge_id, "code": wrong(code)}
            )
            assert (status, body["error"]) == (400, "code_mismatch")
            status, body = await post(
                http, b, "/sign-in/answer", {"challenge_id": challenge_id, "code": code}
            )
            assert status == 200 and "tokens" in body, body

            # attempts are counted across workers: the third wrong code, wherever, ends the challenge
            status, body = await post(http, a, "/sign-in", {"username": "olga", "password": PASSWORD})
            challenge_id, code = body["challenge_id"], pool.totp_code("olga")
            for worker in (b, a, b):
                status, body = await post(
                    http, worker, "/sign-in/answer", {"challenge_id": challenge_id, "code": wrong(code)}
                )
                assert (status, body["error"]) == (400, "code_mismatch")
            assert await redis.keys("*") == []
            status, body = await post(
                http, a, "/sign-in/answer", {"challenge_id": challenge_id, "code": code}
            )
            assert (status, body["error"]) == (410, "challenge_expired")
        logs = a.output() + b.output()
    finally:
        await redis.aclose()
    assert "challenge SOFTWARE_TOKEN_MFA saved" in a.output() and "signed in" in b.output()
    for secret in (PASSWORD, tokens["access_token"], tokens["refresh_token"], STORE_KEY):
        assert secret not in logs
    print(
        f"\ntwo aiohttp workers started in {startup:.2f} s; whole journey {time.monotonic() - started:.2f} s"
    )


async def test_workers_when_redis_goes_away(local_user_pool: LocalUserPool, tmp_path: Path) -> None:
    executable = shutil.which("redis-server")
    assert executable is not None
    server = RedisServer(executable, tmp_path)
    server.start()
    pool = local_user_pool
    app = await totp_users(pool, "mia")
    env = backend_env(pool, app, server.url + "?socket_timeout=1&socket_connect_timeout=1")
    try:
        async with workers(env, tmp_path, "A", "B") as (http, (a, b)):
            status, body = await post(http, a, "/sign-in", {"username": "mia", "password": PASSWORD})
            assert status == 200, body
            before_restart = body["challenge_id"]

            server.stop(kill=True)
            status, body = await post(http, a, "/sign-in", {"username": "mia", "password": PASSWORD})
            assert status in (502, 503) and set(body) == {"error", "message"}, body  # no challenge id
            assert body["error"] in ("store_unavailable", "cognito_error")
            status, body = await post(
                http, b, "/sign-in/answer", {"challenge_id": before_restart, "code": "123456"}
            )
            assert status in (502, 503), body

            server.start()  # an empty Redis (no persistence): what was in flight is gone; new sign-ins work
            status, body = await post(
                http, b, "/sign-in/answer", {"challenge_id": before_restart, "code": pool.totp_code("mia")}
            )
            assert (status, body["error"]) == (410, "challenge_expired")
            status, body = await post(http, a, "/sign-in", {"username": "mia", "password": PASSWORD})
            assert status == 200, body
            answer = {"challenge_id": body["challenge_id"], "code": pool.totp_code("mia")}
            status, body = await post(http, b, "/sign-in/answer", answer)
            assert status == 200 and "tokens" in body, body
            assert "sign-in failed: RedisUnavailable" in a.output()
    finally:
        server.stop(kill=True)

    # a worker pointed at a Redis that is not there does not start
    worker = Worker("C", {**env, "REDIS_URL": server.url}, tmp_path / "worker-C.log")
    async with aiohttp.ClientSession() as http:
        with pytest.raises(AssertionError, match="ended"):
            await worker.start(http)
    assert worker.process is not None and worker.process.returncode != 0
    assert "RedisUnavailable" in worker.output() and f"127.0.0.1:{server.port}" in worker.output()


async def test_fastapi_example_instances_share_challenges(
    local_user_pool: LocalUserPool, redis_url: str
) -> None:
    """The FastAPI example with ``redis_url``: two app instances (two workers' worth), one Redis."""
    httpx = pytest.importorskip("httpx")
    pool = local_user_pool
    app_client = await totp_users(pool, "mia")
    module = load_example("fastapi_backend")
    settings = settings_for(module, pool, app_client)
    key = base64.b64decode(STORE_KEY)
    first = module.make_app(settings, redis_url=redis_url, store_key=key)
    second = module.make_app(settings, redis_url=redis_url, store_key=key)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        a = httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://a")
        b = httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://b")
        async with a, b:
            reply = await a.post("/sign-in", json={"username": "mia", "password": PASSWORD})
            challenge_id = reply.json()["challenge_id"]
            code = pool.totp_code("mia")
            reply = await b.post("/sign-in/answer", json={"challenge_id": challenge_id, "code": wrong(code)})
            assert (reply.status_code, reply.json()["error"]) == (400, "code_mismatch")
            reply = await a.post("/sign-in/answer", json={"challenge_id": challenge_id, "code": code})
            assert reply.status_code == 200 and "tokens" in reply.json()
            reply = await b.post("/sign-in/answer", json={"challenge_id": challenge_id, "code": code})
            assert (reply.status_code, reply.json()["error"]) == (410, "challenge_expired")
    assert type(first.state.backend.store).__name__ == "RedisChallengeStore"
