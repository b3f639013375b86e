"""``examples/m2m_client.py`` run as a subprocess against an API of the test's own on 127.0.0.1, protected by
``CognitoAuth`` (``@auth.require(scopes="orders/read")``), with tokens from a local pool's token endpoint.

The pool runs in the test's process, so its token requests are counted from its own debug log (one record
per request to ``/oauth2/token``, with the grant type); the API counts its requests and the tokens it saw.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from aiocognito import TokenVerifier
from aiocognito.testing import LocalUserPool
from aiocognito.web.aiohttp import CognitoAuth, Handler
from aiocognito.web.bearer import CognitoClaims

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "m2m_client.py"
DOMAIN = "m2m-example"
POOL_LOGGER = "aiocognito.testing.managed_login"  # logs each token request (grant type) at DEBUG
WAIT = 30.0  # seconds: the most a run of the example may take


@dataclass
class Api:
    url: str
    statuses: list[int] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)


@dataclass
class Setup:
    local: LocalUserPool
    domain_url: str
    reader: tuple[str, str]  # (client id, secret): orders/read and orders/write
    writer: tuple[str, str]  # orders/write only
    api: Api


async def m2m_client(local: LocalUserPool, pool_id: str, name: str, scopes: list[str]) -> tuple[str, str]:
    created = await local.call(
        "CreateUserPoolClient",
        UserPoolId=pool_id,
        ClientName=name,
        GenerateSecret=True,
        AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=scopes,
        AllowedOAuthFlowsUserPoolClient=True,
    )
    client = created["UserPoolClient"]
    return str(client["ClientId"]), str(client["ClientSecret"])


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    async with LocalUserPool() as local:
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
        reader = await m2m_client(local, pool_id, "reporting", ["orders/read", "orders/write"])
        writer = await m2m_client(local, pool_id, "importer", ["orders/write"])
        verifier = TokenVerifier(
            pool_id,
            client_ids=[reader[0], writer[0]],
            jwks_url=local.jwks_url(pool_id),
            issuer=local.issuer(pool_id),
        )
        auth = CognitoAuth(verifier)
        api = Api("")

        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            api.tokens.add(request.headers.get("Authorization", "").removeprefix("Bearer "))
            response = await handler(request)
            api.statuses.append(response.status)
            return response

        @auth.require(scopes="orders/read")
        async def orders(request: web.Request, caller: CognitoClaims) -> web.Response:
            return web.json_response({"orders": [], "for": caller.client_id})

        app = web.Application(middlewares=[record])
        app.router.add_get("/orders", orders)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            async with verifier:
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                port = runner.addresses[0][1]
                api.url = f"http://127.0.0.1:{port}/orders"
                yield Setup(local, local.domain_url(DOMAIN), reader, writer, api)
        finally:
            await runner.cleanup()


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


async def run_example(
    s: Setup, client: tuple[str, str] | None, *args: str, domain_url: str | None = None
) -> Run:
    """``python examples/m2m_client.py API_URL ARGS`` with the client's id and secret in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AIOCOGNITO_"))}
    if client is not None:
        env.update(
            AIOCOGNITO_DOMAIN_URL=domain_url or s.domain_url,
            AIOCOGNITO_CLIENT_ID=client[0],
            AIOCOGNITO_CLIENT_SECRET=client[1],
        )
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLE), s.api.url, *args,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=env,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), WAIT)
    finally:
        if process.returncode is None:  # timed out or cancelled: never leave it running
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


def token_requests(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The grant types of the requests the pool's token endpoint has received."""
    return [
        str(r.args[0]) if isinstance(r.args, tuple) and r.args else ""
        for r in caplog.records
        if r.name == POOL_LOGGER and r.msg.startswith("managed login: token request")
    ]


async def test_ten_requests_share_one_token(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, POOL_LOGGER)
    run = await run_example(setup, setup.reader, "--scope", "orders/read", "--requests", "10")
    assert run.code == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert sorted(lines) == sorted(
        f'request {n}: 200 {{"orders": [], "for": "{setup.reader[0]}"}}' for n in range(1, 11)
    )
    assert setup.api.statuses == [200] * 10
    assert token_requests(caplog) == ["client_credentials"]  # one token for the ten requests
    assert len(setup.api.tokens) == 1
    assert setup.reader[1] not in run.stdout + run.stderr
    assert setup.api.tokens.pop() not in run.stdout + run.stderr  # the status, never the token


async def test_a_token_without_the_scope_gets_403_and_the_example_exits_1(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, POOL_LOGGER)
    run = await run_example(setup, setup.writer, "--requests", "3")  # every scope it has: orders/write
    assert run.code == 1, run.stdout + run.stderr
    assert setup.api.statuses == [403] * 3
    lines = run.stdout.splitlines()
    assert len(lines) == 3 and all(" 403 " in line and "insufficient_scope" in line for line in lines), lines
    assert token_requests(caplog) == ["client_credentials"]
    assert setup.writer[1] not in run.stdout + run.stderr


async def test_refusals_from_the_token_endpoint_and_missing_settings(setup: Setup) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/managed-login/{DOMAIN}"
    not_allowed, wrong_secret, unreachable, unset = await asyncio.gather(
        run_example(setup, setup.writer, "--scope", "orders/read", "--requests", "2"),
        run_example(setup, (setup.reader[0], "x" * 51), "--requests", "2"),
        run_example(setup, setup.reader, "--requests", "2", domain_url=closed),
        run_example(setup, None),
    )
    assert not_allowed.code == 1 and "invalid_scope" in not_allowed.stdout, not_allowed
    assert wrong_secret.code == 1 and "invalid_client" in wrong_secret.stdout, wrong_secret
    assert unreachable.code == 1, unreachable
    for run in (not_allowed, wrong_secret, unreachable):
        lines = run.stdout.splitlines()
        assert len(lines) == 2 and all(": no token: " in line for line in lines), lines
        assert "Traceback" not in run.stderr, run.stderr
    assert "x" * 51 not in wrong_secret.stdout + wrong_secret.stderr
    assert setup.writer[1] not in not_allowed.stdout + not_allowed.stderr
    assert setup.reader[1] not in unreachable.stdout + unreachable.stderr
    assert setup.api.statuses == []  # no token, no call
    assert unset.code == 2 and unset.stdout == ""
    assert unset.stderr.strip() == "set AIOCOGNITO_DOMAIN_URL, AIOCOGNITO_CLIENT_ID, AIOCOGNITO_CLIENT_SECRET"
