"""Helpers of the ``test_web_*`` modules (no tests here): the two frameworks served for real with the
library's integration, users on the local pool, and direct sign-ins for tokens.

``served(kind, backend)`` builds the same app with either adapter (the routes, ``/me``, ``/admin`` for the
group ``admins``, ``/scoped`` for a scope, ``/id`` for ID tokens, and FastAPI's ``/pydantic`` with a
pydantic body) and yields a ``call`` that sends real HTTP: aiohttp through its TestServer on 127.0.0.1,
FastAPI through httpx's ASGI transport inside the app's lifespan.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from aiocognito import RetryPolicy, SignedIn, TotpEnrollment
from aiocognito.testing import AppClient, LocalUserPool
from aiocognito.web.backend import CognitoBackend, CognitoSettings
from aiocognito.web.bearer import CognitoClaims

KINDS = ("aiohttp", "fastapi")
MIA, BOB = "mia", "bob"
PASSWORD = "Passw0rd!-web-tests"


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]  # lower-case names
    text: str


#: call(method, path, json=..., headers=..., content=...) -> Answer
Call = Callable[..., Awaitable[Answer]]


def claims_body(user: CognitoClaims) -> dict[str, Any]:
    return {
        "username": user.username,
        "sub": user.sub,
        "groups": list(user.groups),
        "scopes": sorted(user.scopes),
        "client_id": user.client_id,
        "user_pool_id": user.user_pool_id,
        "token_use": user.token_use,
    }


def _aiohttp_app(backend: CognitoBackend) -> web.Application:
    from aiocognito.web.aiohttp import CognitoAuth, setup

    auth = CognitoAuth(backend)

    async def show(request: web.Request, user: CognitoClaims) -> web.Response:
        return web.json_response(claims_body(user))

    app = web.Application()
    setup(app, backend)
    app.router.add_get("/me", auth.require()(show))
    app.router.add_get("/admin", auth.require(groups="admins")(show))
    app.router.add_get("/scoped", auth.require(scopes="orders/read")(show))
    app.router.add_get("/id", auth.require("id")(show))
    return app


def _fastapi_app(backend: CognitoBackend) -> Any:
    from fastapi import Depends, FastAPI
    from pydantic import BaseModel

    from aiocognito.web.fastapi import CognitoAuth, cognito_router, install

    auth = CognitoAuth(backend)
    app = FastAPI(lifespan=backend.lifespan)
    install(app)
    app.include_router(cognito_router(backend))

    class Order(BaseModel):
        item: str
        secret_note: int

    async def show(user: CognitoClaims) -> dict[str, Any]:
        return claims_body(user)

    def route(path: str, dependency: Any) -> None:
        async def endpoint(user: CognitoClaims = Depends(dependency)) -> dict[str, Any]:  # noqa: B008
            return await show(user)

        app.add_api_route(path, endpoint, methods=["GET"])

    route("/me", auth.require())
    route("/admin", auth.require(groups="admins"))
    route("/scoped", auth.require(scopes="orders/read"))
    route("/id", auth.require("id"))

    async def pydantic_route(order: Order) -> dict[str, Any]:
        return {"item": order.item}

    pydantic_route.__annotations__["order"] = Order  # a local class: FastAPI cannot resolve its name
    app.add_api_route("/pydantic", pydantic_route, methods=["POST"])
    return app


def _answer(status: int, text: str, headers: Any) -> Answer:
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    return Answer(status, body, {k.lower(): v for k, v in headers.items()}, text)


@asynccontextmanager
async def served(kind: str, backend: CognitoBackend) -> AsyncIterator[Call]:
    """The test app of ``kind`` for ``backend``, running; yields its ``call``."""
    if kind == "aiohttp":
        async with TestClient(TestServer(_aiohttp_app(backend))) as client:

            async def call(method: str, path: str, **options: Any) -> Answer:
                if "content" in options:
                    options["data"] = options.pop("content")
                async with client.request(method, path, **options) as response:
                    return _answer(response.status, await response.text(), response.headers)

            yield call
        return
    httpx = pytest.importorskip("httpx")
    app = _fastapi_app(backend)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://backend.test") as client:

            async def call(method: str, path: str, **options: Any) -> Answer:
                response = await client.request(method, path, **options)
                return _answer(response.status_code, response.text, response.headers)

            yield call


def settings_for(pool: LocalUserPool, app: AppClient, **options: Any) -> CognitoSettings:
    """Only the endpoint, the pool and the app client: no issuer or JWKS settings."""
    options.setdefault("endpoint_url", pool.endpoint_url)
    return CognitoSettings(
        user_pool_id=app.user_pool_id, client_id=app.client_id, client_secret=app.client_secret, **options
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sign_in_directly(
    pool: LocalUserPool, app: AppClient, username: str, password: str = PASSWORD
) -> Any:
    """The TokenSet of a sign-in without MFA, through the library (not the backend)."""
    async with pool.client(retries=RetryPolicy(max_attempts=1)) as cognito:
        session = cognito.session(
            user_pool_id=app.user_pool_id, client_id=app.client_id, client_secret=app.client_secret
        )
        step = await session.sign_in(username, password)
        assert isinstance(step, SignedIn), step
        return step.tokens


async def enable_totp_directly(pool: LocalUserPool, app: AppClient, username: str) -> None:
    """Set up and prefer TOTP for ``username`` through the library."""
    async with pool.client(retries=RetryPolicy(max_attempts=1)) as cognito:
        session = cognito.session(
            user_pool_id=app.user_pool_id, client_id=app.client_id, client_secret=app.client_secret
        )
        assert isinstance(await session.sign_in(username, PASSWORD), SignedIn)
        enrollment = await session.enable_totp()
        assert isinstance(enrollment, TotpEnrollment)
        await enrollment.confirm(pool.totp_code(username, secret=enrollment.secret_code))


@dataclass
class Pool:
    """A pool with MFA optional and TOTP offered; MIA has TOTP, BOB none and is in ``admins``; ``app`` is
    the backend's app client, ``other`` another app client of the same pool."""

    local: LocalUserPool
    app: AppClient
    other: AppClient


async def make_pool(local: LocalUserPool, *, secret: bool = False, **pool_options: Any) -> Pool:
    pool_id = await local.create_user_pool(mfa="OPTIONAL", totp=True, **pool_options)
    app = await local.create_app_client(pool_id, secret=secret)
    other = await local.create_app_client(pool_id, "other-app")
    for name in (MIA, BOB):
        await local.create_user(pool_id, name, PASSWORD)
    await local.call("CreateGroup", UserPoolId=pool_id, GroupName="admins")
    await local.call("AdminAddUserToGroup", UserPoolId=pool_id, Username=BOB, GroupName="admins")
    await enable_totp_directly(local, app, MIA)
    return Pool(local, app, other)


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_not_in(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret and secret not in text
