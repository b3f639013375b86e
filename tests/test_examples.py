"""The examples run against the local user pool: both web backends and the worker.

The backends are built with their ``make_app(settings)`` pointed at the pool and driven through their
framework's own test client: sign-in of a TOTP-MFA user, the code answered in a second request, ``/me``
with the access token, a tampered token, no token. The worker runs as a subprocess (a real restart)
through a small recording proxy in front of the pool, which counts the InitiateAuth calls that carry a
USERNAME (a sign-in) apart from those that refresh.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from aiocognito import SignedIn, TotpSetupRequired
from aiocognito.testing import AppClient, LocalUserPool
from aiocognito.web.aiohttp import BACKEND
from aiocognito.web.backend import CognitoSettings
from aiocognito.web.challenges import MemoryChallengeStore

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
USER = "mia"
PASSWORD = "Passw0rd!-examples"

# (method, path, json body, headers) -> (status, json body, response headers with lower-case names)
Call = Callable[
    [str, str, dict[str, Any] | None, dict[str, str] | None],
    Awaitable[tuple[int, Any, dict[str, str]]],
]


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` (not a package) under a private module name."""
    module_name = f"_aiocognito_example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pydantic resolve annotations through it
    spec.loader.exec_module(module)
    return module


async def totp_user(pool: LocalUserPool) -> AppClient:
    """A pool that requires MFA, an app client with a secret, and USER with TOTP set up."""
    pool_id = await pool.create_user_pool(mfa="ON")
    app = await pool.create_app_client(pool_id, secret=True)
    await pool.create_user(pool_id, USER, PASSWORD)
    async with pool.client(retries=1) as cognito:
        session = cognito.session(
            user_pool_id=pool_id, client_id=app.client_id, client_secret=app.client_secret
        )
        step = await session.sign_in(USER, PASSWORD)
        assert isinstance(step, TotpSetupRequired)
        secret = await step.associate()
        assert isinstance(await step.respond(pool.totp_code(USER, secret=secret)), SignedIn)
    return app


def settings_for(module: ModuleType, pool: LocalUserPool, app: AppClient) -> CognitoSettings:
    return CognitoSettings(
        user_pool_id=app.user_pool_id,
        client_id=app.client_id,
        client_secret=app.client_secret,
        endpoint_url=pool.endpoint_url,
        issuer=pool.issuer(app.user_pool_id),
        jwks_url=pool.jwks_url(app.user_pool_id),
    )


def tampered(token: str, **claims: Any) -> str:
    """The token with claims changed in its payload and the original signature kept."""
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(claims)
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


async def journey(call: Call, pool: LocalUserPool, app: AppClient) -> dict[str, Any]:
    """The issue's journey through either backend; returns the tokens it got."""
    # a malformed request is refused without echoing the password back
    status, body, _ = await call("POST", "/sign-in", {"username": USER, "pasword": PASSWORD}, None)
    assert status == 400 and body["error"] == "bad_request"
    assert PASSWORD not in json.dumps(body)
    status, body, _ = await call("POST", "/sign-in", {"username": USER, "password": "Wr0ng-pass!"}, None)
    assert (status, body["error"]) == (401, "not_authorized")

    # first request: the challenge, kept server-side under an opaque id
    status, body, _ = await call("POST", "/sign-in", {"username": USER, "password": PASSWORD}, None)
    assert status == 200, body
    assert set(body) == {"challenge", "challenge_id", "expires_in"}
    assert body["challenge"] == "SOFTWARE_TOKEN_MFA"
    challenge_id = body["challenge_id"]
    assert isinstance(challenge_id, str) and 32 <= len(challenge_id) <= 64  # not Cognito's Session string

    # a wrong code keeps the challenge; the right one (second request) gives tokens
    right = pool.totp_code(USER)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    status, body, _ = await call(
        "POST", "/sign-in/answer", {"challenge_id": challenge_id, "code": wrong}, None
    )
    assert (status, body["error"]) == (400, "code_mismatch")
    status, body, _ = await call(
        "POST", "/sign-in/answer", {"challenge_id": challenge_id, "code": right}, None
    )
    assert status == 200, body
    tokens = body["tokens"]
    assert set(tokens) >= {"access_token", "id_token", "refresh_token", "expires_in"}
    status, body, _ = await call(
        "POST", "/sign-in/answer", {"challenge_id": challenge_id, "code": right}, None
    )
    assert (status, body["error"]) == (410, "challenge_expired")  # used once: gone

    # /me with the access token names the user the pool knows
    user = await pool.call("AdminGetUser", UserPoolId=app.user_pool_id, Username=USER)
    sub = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")
    access = tokens["access_token"]
    status, body, _ = await call("GET", "/me", None, {"Authorization": f"Bearer {access}"})
    assert (status, body) == (200, {"username": USER, "sub": sub})

    # a forged payload, an ID token, no token, another scheme: 401 with a reason
    forged = tampered(access, username="mallory")
    status, body, headers = await call("GET", "/me", None, {"Authorization": f"Bearer {forged}"})
    assert (status, body) == (401, {"error": "invalid_token", "reason": "signature"})
    assert headers.get("www-authenticate", "").startswith("Bearer")
    identity = tokens["id_token"]
    status, body, _ = await call("GET", "/me", None, {"Authorization": f"Bearer {identity}"})
    assert (status, body) == (401, {"error": "invalid_token", "reason": "token_use"})
    status, body, headers = await call("GET", "/me", None, None)
    assert (status, body["error"]) == (401, "missing_token") and headers.get("www-authenticate") == "Bearer"
    status, body, _ = await call("GET", "/me", None, {"Authorization": f"Basic {access}"})
    assert (status, body["error"]) == (401, "missing_token")
    return dict(tokens)


def assert_no_secrets(text: str, tokens: dict[str, Any]) -> None:
    for secret in (PASSWORD, tokens["access_token"], tokens["id_token"], tokens["refresh_token"]):
        assert secret not in text


async def test_aiohttp_backend(local_user_pool: LocalUserPool, caplog: pytest.LogCaptureFixture) -> None:
    pool = local_user_pool
    app_client = await totp_user(pool)
    module = load_example("aiohttp_backend")
    app = module.make_app(settings_for(module, pool, app_client))
    caplog.set_level(logging.DEBUG)
    async with TestClient(TestServer(app)) as client:

        async def call(
            method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str] | None
        ) -> tuple[int, Any, dict[str, str]]:
            async with client.request(method, path, json=body, headers=headers) as response:
                return (
                    response.status,
                    await response.json(),
                    {k.lower(): v for k, v in response.headers.items()},
                )

        tokens = await journey(call, pool, app_client)
        backend = app[BACKEND]
        cognito = backend.client
        assert len(backend.store) == 0
    assert cognito._closed  # the app's one client is closed on shutdown
    assert "challenge SOFTWARE_TOKEN_MFA saved" in caplog.text and "token refused: signature" in caplog.text
    assert_no_secrets(caplog.text, tokens)


async def test_fastapi_backend(local_user_pool: LocalUserPool, caplog: pytest.LogCaptureFixture) -> None:
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("fastapi")
    pool = local_user_pool
    app_client = await totp_user(pool)
    module = load_example("fastapi_backend")
    app = module.make_app(settings_for(module, pool, app_client))
    backend = app.state.backend
    caplog.set_level(logging.DEBUG)
    async with app.router.lifespan_context(app):
        cognito = backend.client
        assert cognito is not None
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://backend.test") as client:

            async def call(
                method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str] | None
            ) -> tuple[int, Any, dict[str, str]]:
                response = await client.request(method, path, json=body, headers=headers)
                return (
                    response.status_code,
                    response.json(),
                    {k.lower(): v for k, v in response.headers.items()},
                )

            tokens = await journey(call, pool, app_client)
    assert cognito._closed  # closed on shutdown
    with pytest.raises(RuntimeError):
        backend.client  # noqa: B018  (no client once stopped)
    assert len(backend.store) == 0
    assert "challenge SOFTWARE_TOKEN_MFA saved" in caplog.text and "token refused: signature" in caplog.text
    assert_no_secrets(caplog.text, tokens)


async def test_challenge_store_expiry_and_tries() -> None:
    now = [100.0]
    store = MemoryChallengeStore(60.0, max_attempts=2, clock=lambda: now[0])
    first = await store.save({"challenge": "SMS_MFA"})
    saved = await store.take(first)
    assert saved is not None and await store.take(first) is None  # taken: a second answer cannot race it
    assert await store.put_back(first, saved)
    again = await store.take(first)
    assert again is not None and (again.data, again.expires_at, again.attempts) == (saved.data, 160.0, 1)
    assert not await store.put_back(first, again) and await store.take(first) is None  # no tries left
    second = await store.save({"challenge": "SMS_MFA"})
    now[0] += 60.0
    assert await store.take(second) is None  # expired
    await store.save({"challenge": "SMS_MFA"})
    assert len(store) == 1  # save() dropped the expired entries


# ----- the worker -------------------------------------------------------------------------------------


class RecordingProxy:
    """Forwards Cognito API calls to the pool; records (operation, AuthFlow, whether USERNAME was sent)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.calls: list[tuple[str, str | None, bool]] = []
        self.url = ""

    async def __aenter__(self) -> RecordingProxy:
        app = web.Application()
        app.router.add_post("/", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.close()
        await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        params = json.loads(body or b"{}")
        auth = params.get("AuthParameters") or {}
        operation = request.headers.get("X-Amz-Target", "").rpartition(".")[2]
        self.calls.append((operation, params.get("AuthFlow"), "USERNAME" in auth))
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "x-amz-target")}
        async with self._http.post(self.target + "/", data=body, headers=headers) as answer:
            payload = await answer.read()
            kept = {
                k: v
                for k, v in answer.headers.items()
                if k.lower() in ("content-type", "x-amzn-requestid", "x-amzn-errortype")
            }
            return web.Response(status=answer.status, body=payload, headers=kept)

    def sign_ins(self) -> int:
        return sum(1 for op, _flow, username in self.calls if op == "InitiateAuth" and username)

    def refreshes(self) -> int:
        return sum(
            1
            for op, flow, _ in self.calls
            if op == "GetTokensFromRefreshToken" or (op == "InitiateAuth" and flow == "REFRESH_TOKEN_AUTH")
        )


@pytest.fixture
async def worker_pool(local_user_pool: LocalUserPool) -> AsyncIterator[tuple[LocalUserPool, AppClient]]:
    """A pool without MFA whose tokens live 2 seconds (real Cognito: 5 minutes at least), so the
    worker's refresh (at half the lifetime at the latest) happens within a test."""
    pool = local_user_pool
    pool_id = await pool.create_user_pool()
    app = await pool.create_app_client(pool_id)
    pool.set_token_lifetimes(app.client_id, access=2, id_token=2)
    await pool.create_user(pool_id, USER, PASSWORD)
    yield pool, app


def worker_env(app: AppClient, endpoint_url: str, *, password: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOCOGNITO_")}
    env.update(
        AIOCOGNITO_USER_POOL_ID=app.user_pool_id,
        AIOCOGNITO_CLIENT_ID=app.client_id,
        AIOCOGNITO_ENDPOINT_URL=endpoint_url,
        AWS_REGION="us-east-1",
    )
    if password:
        env["AIOCOGNITO_PASSWORD"] = PASSWORD
    return env


async def run_worker(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / "worker.py"),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_worker_signs_in_once_then_resumes_after_a_restart(
    worker_pool: tuple[LocalUserPool, AppClient], tmp_path: Path
) -> None:
    pool, app = worker_pool
    token_file = tmp_path / "tokens.json"
    args = ("--username", USER, "--token-file", str(token_file), "--iterations", "3", "--interval", "0.6")
    async with RecordingProxy(pool.endpoint_url) as proxy:
        code, out, err = await run_worker(worker_env(app, proxy.url, password=True), *args)
        assert code == 0, err
        assert "signed in as mia" in out and "iteration 3: mia has" in out
        assert proxy.sign_ins() == 1
        # iteration 3 runs >= 1.2 s after the sign-in: past half of the 2 s lifetime, so it refreshed
        first_refreshes = proxy.refreshes()
        assert first_refreshes >= 1
        assert sum(op == "GetUser" for op, _, _ in proxy.calls) == 3

        # restarted without the password: it resumes from the file, refreshes, and never signs in
        code, out2, err2 = await run_worker(worker_env(app, proxy.url, password=False), *args)
        assert code == 0, err2
        assert "resumed saved tokens for mia" in out2 and "iteration 3: mia has" in out2
        assert proxy.sign_ins() == 1
        assert proxy.refreshes() > first_refreshes
    saved = json.loads(token_file.read_text())
    secrets = [s for s in strings_in(saved) if len(s) > 40]  # the tokens in the file
    assert len(secrets) >= 3
    for text in (out, err, out2, err2):
        assert PASSWORD not in text and not any(s in text for s in secrets)


def strings_in(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    return [value] if isinstance(value, str) else []


async def test_worker_stops_cleanly_on_sigterm(
    worker_pool: tuple[LocalUserPool, AppClient], tmp_path: Path
) -> None:
    pool, app = worker_pool
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / "worker.py"),
        *("--username", USER, "--token-file", str(tmp_path / "t.json"), "--interval", "30"),
        env=worker_env(app, pool.endpoint_url, password=True),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        lines: list[str] = []
        while not any(line.startswith("iteration 1:") for line in lines):
            line = await asyncio.wait_for(process.stdout.readline(), timeout=15)
            assert line, "the worker ended before its first iteration"
            lines.append(line.decode())
        process.send_signal(signal.SIGTERM)  # mid-wait: it must not sit out the 30 s interval
        out, err = await asyncio.wait_for(process.communicate(), timeout=10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    assert "stopped after 1 iteration(s) (signal)" in out.decode()


async def test_worker_without_tokens_or_password_exits_1(
    worker_pool: tuple[LocalUserPool, AppClient], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool, app = worker_pool
    worker = load_example("worker")
    args = worker._parser().parse_args(["--username", USER, "--token-file", str(tmp_path / "none.json")])
    env = worker_env(app, pool.endpoint_url, password=False)
    code = await worker.run(args, environ=env)
    assert code == 1
    assert "AIOCOGNITO_PASSWORD is not set" in capsys.readouterr().err
    assert pool.request_count == 0  # it did not even try


async def test_aiohttp_backend_new_password_with_a_missing_required_attribute(
    local_user_pool: LocalUserPool,
) -> None:
    """A missing required attribute is reported before anything is sent, and the challenge is kept."""
    pool = local_user_pool
    pool_id = await pool.create_user_pool(required_attributes=("email", "name"))
    app_client = await pool.create_app_client(pool_id)
    await pool.create_user(
        pool_id, "carl", "Passw0rd!", temporary=True, attributes={"email": "c@example.com"}
    )
    module = load_example("aiohttp_backend")
    async with TestClient(TestServer(module.make_app(settings_for(module, pool, app_client)))) as http:
        reply = await http.post("/sign-in", json={"username": "carl", "password": "Passw0rd!"})
        body = await reply.json()
        assert body["challenge"] == "NEW_PASSWORD_REQUIRED"
        answer = {"challenge_id": body["challenge_id"], "new_password": "N3w-passw0rd!"}
        reply = await http.post("/sign-in/answer", json=answer)
        assert reply.status == 400 and "name" in (await reply.json())["message"]
        reply = await http.post("/sign-in/answer", json={**answer, "attributes": {"name": "Carl"}})
        assert reply.status == 200, await reply.json()
        assert "tokens" in await reply.json()
