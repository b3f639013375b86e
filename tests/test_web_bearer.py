"""Bearer checks through both frameworks' real servers: the claims handed to a route, 401 with RFC 6750's
``WWW-Authenticate`` for missing, malformed and refused tokens (another app client's among them), 403 for
a missing group or scope, 503 without keys, several pools in one app; and ``import aiocognito`` staying
free of FastAPI."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest
from test_web_support import (
    BOB,
    KINDS,
    MIA,
    PASSWORD,
    bearer,
    make_pool,
    served,
    settings_for,
    sign_in_directly,
)

from aiocognito import ConfigurationError, PoolConfig, RetryPolicy, TokenVerifier
from aiocognito.testing import LocalUserPool
from aiocognito.web.backend import CognitoBackend
from aiocognito.web.bearer import CognitoClaims, Requirement, bearer_token
from aiocognito.web.http_errors import HttpError

ACCESS = {
    "sub": "1111-2222",
    "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
    "client_id": "web-client",
    "token_use": "access",
    "scope": "orders/read aws.cognito.signin.user.admin",
    "exp": 2_000_000_000,
    "username": "mia",
    "cognito:groups": ["admins", "staff"],
}
ID = {
    "sub": "1111-2222",
    "iss": "http://127.0.0.1:9229/us-east-1_XyZ",
    "aud": "mobile-client",
    "token_use": "id",
    "exp": 2_000_000_001,
    "cognito:username": "mia",
}


def test_claims_of_an_access_and_an_id_token() -> None:
    access = CognitoClaims.from_claims(ACCESS, "header.payload.signature")
    assert (access.username, access.sub, access.client_id, access.token_use) == (
        "mia",
        "1111-2222",
        "web-client",
        "access",
    )
    assert access.groups == ("admins", "staff") and access.in_group("staff", "x") and not access.in_group("x")
    assert access.scopes == {"orders/read", "aws.cognito.signin.user.admin"}
    assert (access.user_pool_id, access.expires_at) == ("eu-west-1_AbC", 2_000_000_000)
    assert access.claims == ACCESS and "header.payload.signature" not in repr(access)
    identity = CognitoClaims.from_claims(ID, "t")
    assert (identity.username, identity.client_id, identity.token_use, identity.user_pool_id) == (
        "mia",
        "mobile-client",
        "id",
        "us-east-1_XyZ",
    )
    assert identity.groups == () and identity.scopes == frozenset()


@pytest.mark.parametrize(
    ("header", "error", "challenge"),
    [
        (None, "missing_token", "Bearer"),
        ("", "missing_token", "Bearer"),
        ("Basic bWlhOnB3", "missing_token", "Bearer"),
        ("Bearer", "invalid_request", 'Bearer error="invalid_request"'),
        ("Bearer   ", "invalid_request", 'Bearer error="invalid_request"'),
        ("Bearer a b", "invalid_request", 'Bearer error="invalid_request"'),
        ("Bearer a,b", "invalid_request", 'Bearer error="invalid_request"'),
    ],
)
def test_authorization_headers(header: str | None, error: str, challenge: str) -> None:
    with pytest.raises(HttpError) as caught:
        bearer_token(header)
    assert (caught.value.status, caught.value.error) == (401, error)
    assert caught.value.headers == {"WWW-Authenticate": challenge}
    assert bearer_token("bearer abc.DEF-_~+/=") == "abc.DEF-_~+/="


def test_requirements() -> None:
    assert Requirement.of(groups="admins").groups == {"admins"}
    assert Requirement.of("id", scopes=["a/b", "c"]) == Requirement(
        "id", frozenset(), frozenset({"a/b", "c"})
    )
    for bad in ({"groups": ""}, {"scopes": "a b"}, {"groups": [None]}):
        with pytest.raises(ConfigurationError):
            Requirement.of(**bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        Requirement.of("refresh")  # type: ignore[arg-type]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_routes_get_the_claims_and_refusals_follow_rfc_6750(
    kind: str, local_user_pool: LocalUserPool
) -> None:
    local = local_user_pool
    pool = await make_pool(local)
    bob = await sign_in_directly(local, pool.app, BOB)
    elsewhere = await sign_in_directly(local, pool.other, BOB)  # the same user, another app client
    async with served(kind, CognitoBackend(settings_for(local, pool.app))) as call:
        me = await call("GET", "/me", headers=bearer(bob.access_token))
        assert me.status == 200
        assert me.body == {
            "username": BOB,
            "sub": bob.access_claims["sub"],
            "groups": ["admins"],
            "scopes": ["aws.cognito.signin.user.admin"],
            "client_id": pool.app.client_id,
            "user_pool_id": pool.app.user_pool_id,
            "token_use": "access",
        }
        admin = await call("GET", "/admin", headers=bearer(bob.access_token))
        assert admin.status == 200 and admin.body["groups"] == ["admins"]
        identity = await call("GET", "/id", headers=bearer(bob.id_token))
        assert (identity.status, identity.body["token_use"], identity.body["client_id"]) == (
            200,
            "id",
            pool.app.client_id,
        )

        other = await call("GET", "/me", headers=bearer(elsewhere.access_token))
        assert (other.status, other.body) == (401, {"error": "invalid_token", "reason": "client_id"})
        assert other.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        wrong_use = await call("GET", "/me", headers=bearer(bob.id_token))
        assert (wrong_use.status, wrong_use.body) == (401, {"error": "invalid_token", "reason": "token_use"})
        missing = await call("GET", "/me")
        assert (missing.status, missing.body["error"], missing.headers["www-authenticate"]) == (
            401,
            "missing_token",
            "Bearer",
        )
        malformed = await call("GET", "/me", headers={"Authorization": "Bearer two words"})
        assert (malformed.status, malformed.body["error"], malformed.headers["www-authenticate"]) == (
            401,
            "invalid_request",
            'Bearer error="invalid_request"',
        )

        # a signed-in user outside the group, a token without the scope: 403 insufficient_scope
        mia = await sign_in_mia(call, local)
        outside = await call("GET", "/admin", headers=bearer(mia))
        assert (outside.status, outside.body) == (403, {"error": "insufficient_scope", "reason": "groups"})
        assert outside.headers["www-authenticate"] == 'Bearer error="insufficient_scope"'
        scoped = await call("GET", "/scoped", headers=bearer(bob.access_token))
        assert (scoped.status, scoped.body) == (403, {"error": "insufficient_scope", "reason": "scope"})
        assert scoped.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="orders/read"'
        assert (await call("GET", "/me", headers=bearer(mia))).body["username"] == MIA


async def sign_in_mia(call: Any, local: LocalUserPool) -> str:
    """MIA's access token, signed in through the backend (TOTP answered in a second request)."""
    started = await call("POST", "/sign-in", json={"username": MIA, "password": PASSWORD})
    assert started.body["challenge"] == "SOFTWARE_TOKEN_MFA", started.body
    answered = await call(
        "POST",
        "/sign-in/answer",
        json={"challenge_id": started.body["challenge_id"], "code": local.totp_code(MIA)},
    )
    assert answered.status == 200, answered.body
    return str(answered.body["tokens"]["access_token"])


async def test_expired_tokens_and_the_verifiers_own_requirements(
    kind: str, local_user_pool: LocalUserPool
) -> None:
    local = local_user_pool
    pool = await make_pool(local)
    bob = await sign_in_directly(local, pool.app, BOB)

    def later(client: Any) -> TokenVerifier:  # a verifier two hours ahead: every token has expired
        return TokenVerifier(
            pool.app.user_pool_id,
            client_ids=pool.app.client_id,
            client=client,
            clock=lambda: time.time() + 7200,
        )

    async with served(kind, CognitoBackend(settings_for(local, pool.app), verifier=later)) as call:
        expired = await call("GET", "/me", headers=bearer(bob.access_token))
    assert (expired.status, expired.body) == (401, {"error": "invalid_token", "reason": "expired"})

    def staff_only(client: Any) -> TokenVerifier:
        return TokenVerifier(
            pool.app.user_pool_id, client_ids=pool.app.client_id, client=client, groups="staff"
        )

    async with served(kind, CognitoBackend(settings_for(local, pool.app), verifier=staff_only)) as call:
        refused = await call("GET", "/me", headers=bearer(bob.access_token))
    assert (refused.status, refused.body) == (403, {"error": "insufficient_scope", "reason": "groups"})


async def test_several_pools_and_clients_in_one_app(kind: str, local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    first = await make_pool(local)
    second_id = await local.create_user_pool("second-pool")
    second = await local.create_app_client(second_id, "second-app")
    unlisted = await local.create_app_client(second_id, "unlisted-app")
    await local.create_user(second_id, "zoe", PASSWORD)

    def both(client: Any) -> TokenVerifier:
        return TokenVerifier.multi(
            [
                PoolConfig(first.app.user_pool_id, client_ids=[first.app.client_id, first.other.client_id]),
                PoolConfig(second_id, client_ids=second.client_id),
            ],
            client=client,
        )

    tokens = [
        await sign_in_directly(local, first.app, BOB),
        await sign_in_directly(local, first.other, BOB),
        await sign_in_directly(local, second, "zoe"),
    ]
    refused = await sign_in_directly(local, unlisted, "zoe")
    async with served(kind, CognitoBackend(settings_for(local, first.app), verifier=both)) as call:
        seen = [(await call("GET", "/me", headers=bearer(t.access_token))).body for t in tokens]
        outsider = await call("GET", "/me", headers=bearer(refused.access_token))
        # a signed-in route acts in the token's own pool and app client
        change = {"old_password": PASSWORD, "new_password": PASSWORD + "-2"}
        changed = await call("POST", "/password/change", json=change, headers=bearer(tokens[2].access_token))
        assert (changed.status, changed.body) == (200, {"password_changed": True})
        assert await sign_in_directly(local, second, "zoe", PASSWORD + "-2")
    assert [(b["user_pool_id"], b["client_id"], b["username"]) for b in seen] == [
        (first.app.user_pool_id, first.app.client_id, BOB),
        (first.app.user_pool_id, first.other.client_id, BOB),
        (second_id, second.client_id, "zoe"),
    ]
    assert (outsider.status, outsider.body["reason"]) == (401, "client_id")


async def test_a_plain_verifier_without_a_backend(local_user_pool: LocalUserPool) -> None:
    """CognitoAuth(verifier) alone, in both frameworks; FastAPI without install() keeps status and header."""
    httpx = pytest.importorskip("httpx")
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer
    from fastapi import Depends, FastAPI

    from aiocognito.web import aiohttp as web_aiohttp
    from aiocognito.web import fastapi as web_fastapi

    local = local_user_pool
    pool = await make_pool(local)
    bob = await sign_in_directly(local, pool.app, BOB)
    async with local.client(retries=RetryPolicy(max_attempts=1)) as client:
        verifier = TokenVerifier(pool.app.user_pool_id, client_ids=pool.app.client_id, client=client)
        fast_auth = web_fastapi.CognitoAuth(verifier)
        app = FastAPI()

        @app.get("/admin")
        async def admin(user: CognitoClaims = Depends(fast_auth.require(groups="admins"))) -> dict[str, Any]:  # noqa: B008
            return {"username": user.username}

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            ok = await http.get("/admin", headers=bearer(bob.access_token))
            bare = await http.get("/admin", headers={"Authorization": "Bearer x.y.z"})
        assert (ok.status_code, ok.json()) == (200, {"username": BOB})
        assert bare.status_code == 401 and bare.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert bare.json() == {"detail": {"error": "invalid_token", "reason": "malformed"}}

        slow_auth = web_aiohttp.CognitoAuth(verifier)

        @slow_auth.require(groups="admins")
        async def handler(request: web.Request, user: CognitoClaims) -> web.Response:
            return web.json_response({"username": user.username})

        aio = web.Application()
        aio.router.add_get("/admin", handler)
        async with TestClient(TestServer(aio)) as http2:
            async with http2.get("/admin", headers=bearer(bob.access_token)) as response:
                assert (response.status, await response.json()) == (200, {"username": BOB})
            async with http2.get("/admin") as response:
                assert response.status == 401 and response.headers["WWW-Authenticate"] == "Bearer"


async def test_openapi_documents_bodies_and_bearer_routes(local_user_pool: LocalUserPool) -> None:
    pytest.importorskip("fastapi")
    from fastapi import FastAPI

    from aiocognito.web.fastapi import cognito_router

    pool = await make_pool(local_user_pool)
    backend = CognitoBackend(settings_for(local_user_pool, pool.app))
    app = FastAPI()
    app.include_router(cognito_router(backend, account=False), prefix="/auth")
    assert sorted(app.openapi()["paths"]) == ["/auth/sign-in", "/auth/sign-in/answer"]
    full = FastAPI()
    full.include_router(cognito_router(backend))
    paths = full.openapi()["paths"]
    assert len(paths) == 10
    sign_in = paths["/sign-in"]["post"]
    schema = sign_in["requestBody"]["content"]["application/json"]["schema"]
    assert (
        schema["required"] == ["username", "password"]
        and schema["properties"]["password"]["format"] == "password"
    )
    assert "422" not in sign_in["responses"] and "security" not in sign_in
    assert paths["/password/change"]["post"]["security"] == [{"CognitoBearer": []}]


def test_importing_aiocognito_and_the_neutral_modules_imports_no_framework() -> None:
    code = (
        "import sys, aiocognito, aiocognito.web, aiocognito.web.backend, aiocognito.web.bearer, "
        "aiocognito.web.challenges, aiocognito.web.http_errors, aiocognito.web.forms, aiocognito.web.routes, "
        "aiocognito.web.aiohttp; aiocognito.TokenVerifier; aiocognito.Session\n"
        "found = sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'starlette', 'pydantic'})\n"
        "print(','.join(found))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
