"""The sign-in and account routes through both frameworks' real servers and the local pool: the two example
backends started with nothing but the pool's endpoint, pool id and client id in the environment; one
challenge answered once under concurrency; the attempt limit; MFA set-up and a new password at sign-in;
sign-up to TOTP enrollment with a client secret; mounting under a prefix. No password, code, token or
secret reaches a log."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from test_web_support import (
    BOB,
    KINDS,
    MIA,
    PASSWORD,
    Answer,
    Call,
    Pool,
    assert_not_in,
    bearer,
    closed_port,
    make_pool,
    served,
    settings_for,
    sign_in_directly,
)

from aiocognito.testing import LocalUserPool
from aiocognito.web.aiohttp import cognito_app
from aiocognito.web.backend import CognitoBackend
from aiocognito.web.challenges import MemoryChallengeStore

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NEW_PASSWORD, RESET_PASSWORD = "N3w-Passw0rd!-web", "R3set-Passw0rd!-web"


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def env_only(pool: Pool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIOCOGNITO_", "AWS_"))}
    env.update(
        AIOCOGNITO_USER_POOL_ID=pool.app.user_pool_id,
        AIOCOGNITO_CLIENT_ID=pool.app.client_id,
        AIOCOGNITO_ENDPOINT_URL=pool.local.endpoint_url,
    )
    return env


async def example_journey(call: Call, pool: Pool) -> list[str]:
    """Sign-in with TOTP over two requests, /me, another client's token, /admin in and outside the group;
    returns the secrets seen (for the log checks)."""
    local = pool.local
    first = await call("POST", "/sign-in", json={"username": MIA, "password": PASSWORD})
    assert first.status == 200, first.body
    assert first.body.keys() == {"challenge", "challenge_id", "expires_in"}
    assert (first.body["challenge"], first.body["expires_in"]) == ("SOFTWARE_TOKEN_MFA", 180)
    code = local.totp_code(MIA)
    second = await call(
        "POST", "/sign-in/answer", json={"challenge_id": first.body["challenge_id"], "code": code}
    )
    assert second.status == 200, second.body
    tokens = second.body["tokens"]
    assert tokens.keys() == {"access_token", "id_token", "refresh_token", "expires_in", "token_type"}
    me = await call("GET", "/me", headers=bearer(tokens["access_token"]))
    sub = (await local.call("AdminGetUser", UserPoolId=pool.app.user_pool_id, Username=MIA))["UserAttributes"]
    assert (me.status, me.body) == (
        200,
        {"username": MIA, "sub": next(a["Value"] for a in sub if a["Name"] == "sub")},
    )

    elsewhere = await sign_in_directly(local, pool.other, BOB)
    other = await call("GET", "/me", headers=bearer(elsewhere.access_token))
    assert (other.status, other.body) == (401, {"error": "invalid_token", "reason": "client_id"})
    assert other.headers["www-authenticate"] == 'Bearer error="invalid_token"'

    outside = await call("GET", "/admin", headers=bearer(tokens["access_token"]))
    assert (outside.status, outside.body["error"]) == (403, "insufficient_scope")
    assert outside.headers["www-authenticate"] == 'Bearer error="insufficient_scope"'
    bob = await call("POST", "/sign-in", json={"username": BOB, "password": PASSWORD})
    inside = await call("GET", "/admin", headers=bearer(bob.body["tokens"]["access_token"]))
    assert (inside.status, inside.body) == (200, {"username": BOB, "groups": ["admins"]})
    return [PASSWORD, code, *tokens.values(), *bob.body["tokens"].values(), elsewhere.access_token]


async def test_the_aiohttp_example_started_from_the_environment(local_user_pool: LocalUserPool) -> None:
    """``python examples/aiohttp_backend.py`` as a real process, with only the pool's three settings."""
    pool = await make_pool(local_user_pool)
    port = closed_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / "aiohttp_backend.py"),
        "--port",
        str(port),
        env=env_only(pool),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:

            async def call(method: str, path: str, **options: Any) -> Answer:
                async with http.request(method, base + path, **options) as response:
                    text = await response.text()
                    body = await response.json() if text else None
                    return Answer(
                        response.status, body, {k.lower(): v for k, v in response.headers.items()}, text
                    )

            for _ in range(150):  # up to 15 s to start
                try:
                    await call("GET", "/me")
                    break
                except aiohttp.ClientConnectionError:
                    assert process.returncode is None, "the example exited"
                    await asyncio.sleep(0.1)
            secrets = [s for s in await example_journey(call, pool) if isinstance(s, str)]
        process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(process.communicate(), timeout=15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    logs = out.decode() + err.decode()
    assert "challenge SOFTWARE_TOKEN_MFA saved" in logs and "token refused: client_id" in logs
    assert_not_in(logs, *secrets)


async def test_the_fastapi_example_started_from_the_environment(
    local_user_pool: LocalUserPool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``uvicorn --factory fastapi_backend:app_from_env``'s factory, with only the pool's three settings."""
    httpx = pytest.importorskip("httpx")
    caplog.set_level(logging.DEBUG)
    pool = await make_pool(local_user_pool)
    for name in list(os.environ):
        if name.startswith(("AIOCOGNITO_", "AWS_")):
            monkeypatch.delenv(name)
    for name, value in env_only(pool).items():
        if name.startswith("AIOCOGNITO_"):
            monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location(
        "_aiocognito_web_fastapi_example", EXAMPLES / "fastapi_backend.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.app_from_env()
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://example.test"
        ) as http:

            async def call(method: str, path: str, **options: Any) -> Answer:
                response = await http.request(method, path, **options)
                body = response.json() if response.text else None
                return Answer(
                    response.status_code,
                    body,
                    {k.lower(): v for k, v in response.headers.items()},
                    response.text,
                )

            secrets = await example_journey(call, pool)
    assert "challenge SOFTWARE_TOKEN_MFA saved" in caplog.text and "token refused: client_id" in caplog.text
    assert_not_in(caplog.text, *[s for s in secrets if isinstance(s, str)])


async def test_one_challenge_answered_twice_at_once(kind: str, local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    pool = await make_pool(local)
    backend = CognitoBackend(settings_for(local, pool.app))
    async with served(kind, backend) as call:
        started = await call("POST", "/sign-in", json={"username": MIA, "password": PASSWORD})
        answer = {"challenge_id": started.body["challenge_id"], "code": local.totp_code(MIA)}
        answers = await asyncio.gather(*(call("POST", "/sign-in/answer", json=answer) for _ in range(2)))
    assert sorted(a.status for a in answers) == [200, 410]
    assert next(a for a in answers if a.status == 410).body["error"] == "challenge_expired"
    assert isinstance(backend.store, MemoryChallengeStore) and len(backend.store) == 0


async def test_the_attempt_limit(kind: str, local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    pool = await make_pool(local)
    async with served(kind, CognitoBackend(settings_for(local, pool.app, max_attempts=2))) as call:
        started = await call("POST", "/sign-in", json={"username": MIA, "password": PASSWORD})
        right = local.totp_code(MIA)
        wrong = {"challenge_id": started.body["challenge_id"], "code": f"{(int(right) + 1) % 1_000_000:06d}"}
        assert [(await call("POST", "/sign-in/answer", json=wrong)).status for _ in range(2)] == [400, 400]
        last = await call("POST", "/sign-in/answer", json={**wrong, "code": right})
    assert (last.status, last.body["error"]) == (410, "challenge_expired")  # two answers were all it had


async def test_mfa_setup_and_a_new_password_at_sign_in(kind: str, local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool(mfa="ON")
    app = await local.create_app_client(pool_id, secret=True)
    await local.create_user(pool_id, "neo", "Temp0rary!-pass", temporary=True)
    async with served(kind, CognitoBackend(settings_for(local, app, totp_issuer="Example"))) as call:
        started = await call("POST", "/sign-in", json={"username": "neo", "password": "Temp0rary!-pass"})
        assert (
            started.body["challenge"] == "NEW_PASSWORD_REQUIRED" and "missing_attributes" not in started.body
        )
        cid = started.body["challenge_id"]
        without = await call("POST", "/sign-in/answer", json={"challenge_id": cid, "code": "123456"})
        assert (without.status, without.body["fields"]) == (400, ["new_password"])
        weak = await call("POST", "/sign-in/answer", json={"challenge_id": cid, "new_password": "weak"})
        assert (weak.status, weak.body["error"]) == (400, "invalid_password")
        setup = await call(
            "POST", "/sign-in/answer", json={"challenge_id": cid, "new_password": NEW_PASSWORD}
        )
        assert setup.body["challenge"] == "MFA_SETUP", setup.body
        assert setup.body["otpauth_uri"].startswith("otpauth://totp/Example:neo?secret=")
        code = local.totp_code("neo", secret=setup.body["secret_code"])
        done = await call(
            "POST",
            "/sign-in/answer",
            json={"challenge_id": setup.body["challenge_id"], "code": code, "device_name": "phone"},
        )
        assert done.status == 200 and "tokens" in done.body, done.body


async def test_the_account_flows(
    kind: str, local_user_pool: LocalUserPool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    local = local_user_pool
    pool = await make_pool(local, secret=True, AutoVerifiedAttributes=["email"])
    user, email = "newbie", "newbie@example.com"
    seen: list[str] = [PASSWORD, NEW_PASSWORD, RESET_PASSWORD]
    async with served(kind, CognitoBackend(settings_for(local, pool.app))) as call:
        # sign-up, a refused sign-in before confirming, a new code, a wrong one, the right one
        up = await call(
            "POST", "/sign-up", json={"username": user, "password": PASSWORD, "attributes": {"email": email}}
        )
        assert up.status == 200 and up.body["user_confirmed"] is False and up.body["user_sub"]
        assert (
            up.body["code_delivery"]["medium"] == "EMAIL" and up.body["code_delivery"]["attribute"] == "email"
        )
        early = await call("POST", "/sign-in", json={"username": user, "password": PASSWORD})
        assert (early.status, early.body["error"]) == (403, "user_not_confirmed")
        resent = await call("POST", "/sign-up/resend", json={"username": user})
        assert resent.body["code_delivery"]["medium"] == "EMAIL"
        code = local.last_code(user, purpose="SIGN_UP")
        bad = await call(
            "POST", "/sign-up/confirm", json={"username": user, "code": f"{(int(code) + 1) % 1_000_000:06d}"}
        )
        assert (bad.status, bad.body["error"]) == (400, "code_mismatch")
        confirmed = await call("POST", "/sign-up/confirm", json={"username": user, "code": code})
        assert (confirmed.status, confirmed.body) == (200, {"confirmed": True})
        seen.append(code)

        # signed in: change the password (the bearer token is required, the old password checked)
        tokens = (await call("POST", "/sign-in", json={"username": user, "password": PASSWORD})).body[
            "tokens"
        ]
        seen.extend(t for t in tokens.values() if isinstance(t, str))
        change = {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
        assert (await call("POST", "/password/change", json=change)).status == 401
        with_id = await call("POST", "/password/change", json=change, headers=bearer(tokens["id_token"]))
        assert (with_id.status, with_id.body["reason"]) == (401, "token_use")
        wrong_old = {"old_password": "Wr0ng-old-pass!", "new_password": NEW_PASSWORD}
        refused = await call(
            "POST", "/password/change", json=wrong_old, headers=bearer(tokens["access_token"])
        )
        assert (refused.status, refused.body["error"]) == (401, "not_authorized")
        changed = await call("POST", "/password/change", json=change, headers=bearer(tokens["access_token"]))
        assert (changed.status, changed.body) == (200, {"password_changed": True})
        tokens = (await call("POST", "/sign-in", json={"username": user, "password": NEW_PASSWORD})).body[
            "tokens"
        ]
        seen.extend(t for t in tokens.values() if isinstance(t, str))

        # TOTP enrollment: started, a wrong code (kept), someone else's token (refused), the right code
        started = await call("POST", "/mfa/totp", headers=bearer(tokens["access_token"]))
        assert started.status == 200 and started.body.keys() == {
            "enrollment_id",
            "secret_code",
            "otpauth_uri",
            "expires_in",
        }
        assert started.body["otpauth_uri"].startswith(f"otpauth://totp/Cognito:{user}?secret=")
        secret, eid = started.body["secret_code"], started.body["enrollment_id"]
        seen.append(secret)
        right = local.totp_code(user, secret=secret)
        wrong = {"enrollment_id": eid, "code": f"{(int(right) + 1) % 1_000_000:06d}"}
        miss = await call("POST", "/mfa/totp/confirm", json=wrong, headers=bearer(tokens["access_token"]))
        assert (miss.status, miss.body["error"]) == (400, "code_mismatch")
        bob = await sign_in_directly(local, pool.app, BOB)
        stolen = await call(
            "POST", "/mfa/totp/confirm", json={**wrong, "code": right}, headers=bearer(bob.access_token)
        )
        assert (stolen.status, stolen.body["error"]) == (410, "enrollment_expired")
        again = await call("POST", "/mfa/totp", headers=bearer(tokens["access_token"]))
        secret, eid = again.body["secret_code"], again.body["enrollment_id"]
        right = local.totp_code(user, secret=secret)
        seen.extend([secret, right])
        on = await call(
            "POST",
            "/mfa/totp/confirm",
            json={"enrollment_id": eid, "code": right},
            headers=bearer(tokens["access_token"]),
        )
        assert (on.status, on.body) == (200, {"totp_enabled": True})
        used = await call(
            "POST",
            "/mfa/totp/confirm",
            json={"enrollment_id": eid, "code": right},
            headers=bearer(tokens["access_token"]),
        )
        assert (used.status, used.body["error"]) == (410, "enrollment_expired")
        mfa = await call("POST", "/sign-in", json={"username": user, "password": NEW_PASSWORD})
        assert mfa.body["challenge"] == "SOFTWARE_TOKEN_MFA"  # TOTP is on and preferred now

        # a forgotten password: a code, a wrong one, the right one; the new password signs in
        forgot = await call("POST", "/password/forgot", json={"username": user})
        assert forgot.status == 200 and forgot.body["code_delivery"]["medium"] == "EMAIL"
        recovery = local.last_code(user, purpose="FORGOT_PASSWORD")
        seen.append(recovery)
        reset = {"username": user, "code": recovery, "new_password": RESET_PASSWORD}
        wrong_reset = await call(
            "POST", "/password/reset", json={**reset, "code": f"{(int(recovery) + 1) % 1_000_000:06d}"}
        )
        assert (wrong_reset.status, wrong_reset.body["error"]) == (400, "code_mismatch")
        assert (await call("POST", "/password/reset", json=reset)).body == {"password_reset": True}
        after = await call("POST", "/sign-in", json={"username": user, "password": RESET_PASSWORD})
        assert after.body["challenge"] == "SOFTWARE_TOKEN_MFA"
        old = await call("POST", "/sign-in", json={"username": user, "password": NEW_PASSWORD})
        assert (old.status, old.body["error"]) == (401, "not_authorized")
        taken = await call("POST", "/sign-up", json={"username": user, "password": PASSWORD})
        assert (taken.status, taken.body["error"]) == (409, "username_exists")
    assert_not_in(caplog.text, *seen)


async def test_mounted_under_a_prefix(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    pool = await make_pool(local)
    backend = CognitoBackend(settings_for(local, pool.app))
    app = web.Application()
    app.add_subapp("/auth", cognito_app(backend, account=False))
    async with TestClient(TestServer(app)) as client:
        async with client.post("/auth/sign-in", json={"username": BOB, "password": PASSWORD}) as response:
            assert response.status == 200 and "tokens" in await response.json()
        async with client.post("/auth/sign-up", json={"username": "x", "password": PASSWORD}) as response:
            assert response.status == 404  # account=False
        started = backend.client
    assert started._closed
    with pytest.raises(RuntimeError):
        backend.client  # noqa: B018


async def test_the_sdk_endpoint_variable_when_the_settings_name_none(
    local_user_pool: LocalUserPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = local_user_pool
    pool = await make_pool(local)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", local.endpoint_url)
    async with served("aiohttp", CognitoBackend(settings_for(local, pool.app, endpoint_url=None))) as call:
        signed_in = await call("POST", "/sign-in", json={"username": BOB, "password": PASSWORD})
        me = await call("GET", "/me", headers=bearer(signed_in.body["tokens"]["access_token"]))
    assert (me.status, me.body["username"]) == (200, BOB)
