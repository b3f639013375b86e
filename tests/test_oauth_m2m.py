"""Machine-to-machine tokens against the local pool over HTTP: ``client_credentials`` at the domain's token
endpoint and the GetClientToken operation, with their cache and single flight; and the retry rule of the
token endpoint against a small failing server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from aiocognito import ConnectionFailedError, ResponseParseError, ServiceError, TokenVerifier
from aiocognito._wire.retry import RetryPolicy
from aiocognito.oauth import (
    ClientCredentials,
    ClientTokenSource,
    CodeExchangeUncertain,
    InvalidClient,
    InvalidScope,
    ManagedLogin,
    UnauthorizedClient,
)
from aiocognito.testing import LocalUserPool

DOMAIN = "m2m"
SCOPES = ["orders/read", "orders/write"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counting_session() -> tuple[aiohttp.ClientSession, list[str]]:
    """A session that records the path of every request it starts."""
    seen: list[str] = []
    trace = aiohttp.TraceConfig()

    async def on_start(session: Any, ctx: Any, params: aiohttp.TraceRequestStartParams) -> None:
        seen.append(params.url.path)

    trace.on_request_start.append(on_start)
    return aiohttp.ClientSession(trace_configs=[trace]), seen


async def m2m_pool(local: LocalUserPool) -> tuple[str, str, str]:
    """A pool with a domain, an ``orders`` resource server, and a client_credentials client with a secret."""
    pool_id = await local.create_user_pool("m2m")
    await local.call("CreateUserPoolDomain", UserPoolId=pool_id, Domain=DOMAIN)
    await local.call(
        "CreateResourceServer",
        UserPoolId=pool_id,
        Identifier="orders",
        Name="Orders API",
        Scopes=[
            {"ScopeName": "read", "ScopeDescription": "r"},
            {"ScopeName": "write", "ScopeDescription": "w"},
        ],
    )
    created = await local.call(
        "CreateUserPoolClient",
        UserPoolId=pool_id,
        ClientName="worker",
        GenerateSecret=True,
        AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=SCOPES,
        AllowedOAuthFlowsUserPoolClient=True,
        ExplicitAuthFlows=["ALLOW_CLIENT_TOKEN_AUTH"],
    )
    client = created["UserPoolClient"]
    return pool_id, str(client["ClientId"]), str(client["ClientSecret"])


@pytest.fixture
async def local() -> AsyncIterator[LocalUserPool]:
    async with LocalUserPool() as pool:
        yield pool


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
async def test_client_credentials_token_verifies_with_its_custom_scope(
    local: LocalUserPool, auth_method: Any
) -> None:
    pool_id, client_id, secret = await m2m_pool(local)
    async with (
        ClientCredentials(
            local.domain_url(DOMAIN), client_id, secret, scopes=["orders/read"], auth_method=auth_method
        ) as m2m,
        TokenVerifier(
            pool_id, client_ids=client_id, jwks_url=local.jwks_url(pool_id), issuer=local.issuer(pool_id)
        ) as verifier,
    ):
        claims = await verifier.verify(await m2m.access_token(), "access", scopes="orders/read")
        assert claims["scope"] == "orders/read" and claims["sub"] == client_id and "username" not in claims
        every = await verifier.verify(await m2m.access_token([]), "access")
        assert set(every["scope"].split()) == set(SCOPES)
        with pytest.raises(InvalidScope):
            await m2m.access_token(["orders/delete"])
    async with ClientCredentials(
        local.domain_url(DOMAIN), client_id, "x" * 51, auth_method=auth_method
    ) as wrong:
        with pytest.raises(InvalidClient):
            await wrong.access_token()


async def test_one_request_for_a_thousand_callers_and_one_renewal(local: LocalUserPool) -> None:
    _, client_id, secret = await m2m_pool(local)
    clock = Clock()
    http, seen = counting_session()
    async with http:
        m2m = ClientCredentials(
            local.domain_url(DOMAIN), client_id, secret, scopes=SCOPES, http=http, clock=clock
        )
        tokens = await asyncio.wait_for(asyncio.gather(*(m2m.access_token() for _ in range(1000))), 20)
        assert len(set(tokens)) == 1 and len(seen) == 1 and seen[0].endswith("/oauth2/token")
        assert await m2m.access_token(list(reversed(SCOPES))) == tokens[0] and len(seen) == 1
        clock.now += 3600 - 59  # within renew_before of the hour's expiry
        local.advance_clock(2)  # a new iat, so a new token
        renewed = await asyncio.wait_for(asyncio.gather(*(m2m.access_token() for _ in range(500))), 20)
        assert len(set(renewed)) == 1 and renewed[0] != tokens[0] and len(seen) == 2
        m2m.invalidate(SCOPES)
        assert await m2m.access_token() != renewed[0] and len(seen) == 3 and m2m.fetches == 3
        await m2m.aclose()
        assert not http.closed  # a borrowed session stays open for its owner


async def test_a_failed_renewal_reaches_every_waiter_and_the_next_call_retries(local: LocalUserPool) -> None:
    pool_id, client_id, secret = await m2m_pool(local)
    clock = Clock()
    async with ClientCredentials(local.domain_url(DOMAIN), client_id, secret, clock=clock) as m2m:
        first = await m2m.access_token()
        client = {"UserPoolId": pool_id, "ClientId": client_id, "AllowedOAuthScopes": SCOPES}
        await local.call(
            "UpdateUserPoolClient",
            **client,
            AllowedOAuthFlows=["code"],
            CallbackURLs=["https://a.example/cb"],
            AllowedOAuthFlowsUserPoolClient=True,
        )
        clock.now += 3600
        results = await asyncio.wait_for(
            asyncio.gather(*(m2m.access_token() for _ in range(100)), return_exceptions=True), 20
        )
        assert all(isinstance(r, UnauthorizedClient) for r in results) and m2m.fetches == 2
        await local.call(
            "UpdateUserPoolClient",
            **client,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthFlowsUserPoolClient=True,
        )
        local.advance_clock(1)
        again = await m2m.access_token()
        assert again != first and m2m.fetches == 3


async def test_client_token_source_over_get_client_token(local: LocalUserPool) -> None:
    pool_id, client_id, secret = await m2m_pool(local)
    clock = Clock()
    async with (
        local.client() as cognito,
        ClientTokenSource(cognito, client_id, secret, scopes=["orders/write"], clock=clock) as source,
    ):
        before = local.request_count
        tokens = await asyncio.wait_for(asyncio.gather(*(source.access_token() for _ in range(1000))), 20)
        assert len(set(tokens)) == 1 and local.request_count == before + 1
        clock.now += 3600
        local.advance_clock(1)
        renewed = await asyncio.wait_for(asyncio.gather(*(source.access_token() for _ in range(300))), 20)
        assert len(set(renewed)) == 1 and renewed[0] != tokens[0] and local.request_count == before + 2
        async with TokenVerifier(
            pool_id, client_ids=client_id, jwks_url=local.jwks_url(pool_id), issuer=local.issuer(pool_id)
        ) as verifier:
            assert (await verifier.verify(renewed[0], "access"))["scope"] == "orders/write"
        with pytest.raises(ServiceError) as refused:  # the API's own error for a scope not allowed
            await source.access_token(["orders/delete"])
        assert refused.value.code == "InvalidParameterException"
        assert secret not in repr(source)


async def test_no_secret_in_m2m_logs_or_reprs(local: LocalUserPool, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _, client_id, secret = await m2m_pool(local)
    async with ClientCredentials(local.domain_url(DOMAIN), client_id, secret) as m2m:
        token = await m2m.access_token()
        shown = repr(m2m)
    lines = [r.getMessage() for r in caplog.records]
    assert any("token:client_credentials" in line for line in lines)
    for text in [*lines, shown]:
        assert secret not in text and token not in text


# ----- the retry rule, against a server that fails on purpose ----------------------------------------------


@pytest.fixture
async def flaky() -> AsyncIterator[SimpleNamespace]:
    """A server on 127.0.0.1 whose token endpoint answers the statuses in ``plan`` (then 200)."""
    state = SimpleNamespace(plan=[], hits=0, url="")

    async def token(request: web.Request) -> web.Response:
        state.hits += 1
        await request.post()
        if state.plan:
            status = state.plan.pop(0)
            return web.Response(status=status, text="<html>busy</html>", content_type="text/html")
        return web.json_response({"access_token": "m2m-token", "expires_in": 3600, "token_type": "Bearer"})

    app = web.Application()
    app.router.add_post("/oauth2/token", token)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # noqa: SLF001
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01)


async def test_client_credentials_is_retried_after_5xx_and_429(flaky: SimpleNamespace) -> None:
    flaky.plan = [503, 429]
    async with ClientCredentials(flaky.url, "cid", "secret", retries=FAST) as m2m:
        assert await asyncio.wait_for(m2m.access_token(), 10) == "m2m-token"
    assert flaky.hits == 3
    flaky.plan, flaky.hits = [500, 502, 503], 0
    async with ClientCredentials(flaky.url, "cid", "secret", retries=FAST) as m2m:
        with pytest.raises(ResponseParseError) as caught:
            await asyncio.wait_for(m2m.access_token(), 10)
    assert flaky.hits == 3 and caught.value.status == 503


async def test_a_code_exchange_is_never_repeated_after_a_5xx(flaky: SimpleNamespace) -> None:
    flaky.plan = [503]
    async with ManagedLogin(flaky.url, "cid", redirect_uri="https://app.example/cb") as login:
        pending = login.start(state="st")
        with pytest.raises(CodeExchangeUncertain) as caught:
            await asyncio.wait_for(login.finish(pending, "https://app.example/cb?code=c0de&state=st"), 10)
    assert flaky.hits == 1 and "c0de" not in str(caught.value)
    assert getattr(caught.value.cause, "status", None) == 503


async def test_a_connection_never_made_is_retried_then_reported(flaky: SimpleNamespace) -> None:
    closed = socket_port()
    async with ClientCredentials(f"http://127.0.0.1:{closed}", "cid", "secret", retries=FAST) as m2m:
        with pytest.raises(ConnectionFailedError) as caught:
            await asyncio.wait_for(m2m.access_token(), 10)
    assert caught.value.before_send
    # Nothing reached the server, so a code exchange may try again and still report the plain failure.
    async with ManagedLogin(
        f"http://127.0.0.1:{closed}", "cid", redirect_uri="https://a.example/cb"
    ) as login:
        pending = login.start(state="st")
        with pytest.raises(ConnectionFailedError):
            await asyncio.wait_for(login.finish(pending, "https://a.example/cb?code=c&state=st"), 10)


def socket_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
