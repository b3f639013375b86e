"""Error mapping and retries against a local fault-injecting server."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

import aiocognito
from aiocognito import errors
from aiocognito._errors import redact
from aiocognito._wire.model import PaginatedSpec
from aiocognito._wire.paginate import PageCursor
from aiocognito._wire.retry import RetryPolicy, is_safe_to_repeat, retry_delay

Handler = Callable[[web.Request, int], Any]
FAST = aiocognito.RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.002)


class FaultServer:
    """Answers every POST with whatever ``script(request, n)`` returns; counts calls per operation."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.script: Handler = lambda request, n: web.json_response({})
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        op = request.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
        self.calls[op] = self.calls.get(op, 0) + 1
        await request.read()
        result = self.script(request, self.calls[op])
        if asyncio.iscoroutine(result):
            result = await result
        return result  # type: ignore[no-any-return]


@pytest.fixture
async def fault_server() -> AsyncIterator[FaultServer]:
    server = FaultServer()
    app = web.Application()
    app.router.add_post("/", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        yield server
    finally:
        await runner.cleanup()


def client_for(url: str, **kw: Any) -> aiocognito.CognitoClient:
    kw.setdefault("retries", FAST)
    return aiocognito.CognitoClient(region="us-east-1", endpoint_url=url, credentials=("a", "b"), **kw)


def error_response(code: str, status: int = 400, message: str = "boom", **extra: Any) -> web.Response:
    return web.json_response({"__type": code, "message": message, **extra}, status=status)


# ----- error mapping ---------------------------------------------------------------------------------------


async def test_every_modeled_error_code_raises_its_class(fault_server: FaultServer) -> None:
    codes = list(errors.ERROR_CLASSES)
    assert len(codes) >= 60
    current: dict[str, str] = {}
    fault_server.script = lambda request, n: error_response(current["code"], message="m", reasonCode="R")
    async with client_for(fault_server.url, retries=1) as cognito:
        for code in codes:
            current["code"] = code
            with pytest.raises(errors.ERROR_CLASSES[code]) as info:
                await cognito.get_user(AccessToken="t")
            err = info.value
            assert type(err).__name__ == code
            assert err.code == code
            assert err.response["Error"] == {"Code": code, "Message": "m", "reasonCode": "R"}
            assert err.operation == "GetUser"
            assert getattr(errors, code) is errors.ERROR_CLASSES[code]


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        (
            {"x-amzn-ErrorType": "NotAuthorizedException:http://internal.amazon.com/"},
            b"{}",
            "NotAuthorizedException",
        ),
        (
            {},
            b'{"__type": "com.amazonaws.cognito#UserNotFoundException", "Message": "gone"}',
            "UserNotFoundException",
        ),
        ({}, b'{"code": "InvalidParameterException", "message": "x"}', "InvalidParameterException"),
    ],
)
async def test_error_code_sources(
    fault_server: FaultServer, headers: dict[str, str], body: bytes, expected: str
) -> None:
    fault_server.script = lambda request, n: web.Response(status=400, body=body, headers=headers)
    async with client_for(fault_server.url, retries=1) as cognito:
        with pytest.raises(errors.ERROR_CLASSES[expected]):
            await cognito.admin_get_user(UserPoolId="p", Username="u")


async def test_unknown_code_gives_service_error_with_that_code(fault_server: FaultServer) -> None:
    fault_server.script = lambda request, n: error_response("BrandNewException", message="new")
    async with client_for(fault_server.url, retries=1) as cognito:
        with pytest.raises(aiocognito.ServiceError) as info:
            await cognito.get_user(AccessToken="t")
    assert type(info.value) is aiocognito.ServiceError
    assert info.value.code == "BrandNewException"
    assert info.value.response["Error"]["Code"] == "BrandNewException"


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (500, b"<html><body><h1>Internal Server Error</h1></body></html>", "text/html"),
        (400, b"this is not json", "text/plain"),
        (400, b'{"message": "no type here"}', "application/json"),
        (400, b'{"__type": "NotAuthori', "application/json"),
        (200, b'{"User": {"Username": ', "application/json"),
        (200, b"[1, 2, 3]", "application/json"),
        (200, b"<html>ok?</html>", "text/html"),
    ],
)
async def test_bad_bodies_give_clear_errors(
    fault_server: FaultServer, status: int, body: bytes, content_type: str
) -> None:
    fault_server.script = lambda request, n: web.Response(status=status, body=body, content_type=content_type)
    async with client_for(fault_server.url, retries=1) as cognito:
        with pytest.raises(aiocognito.ResponseParseError) as info:
            await cognito.admin_get_user(UserPoolId="p", Username="u")
    err = info.value
    assert err.status == status
    assert err.operation == "AdminGetUser"
    assert str(status) in str(err)
    assert body.decode()[:10] in err.excerpt


async def test_error_excerpts_hide_tokens(fault_server: FaultServer) -> None:
    jwt = "eyJraWQiOiJhYmMiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    fault_server.script = lambda request, n: web.Response(status=502, text=f"upstream echoed {jwt} oops")
    async with client_for(fault_server.url, retries=1) as cognito:
        with pytest.raises(aiocognito.ResponseParseError) as info:
            await cognito.get_user(AccessToken=jwt)
    assert jwt not in str(info.value)
    assert "<redacted>" in str(info.value)
    assert redact("x y " * 200).endswith("...")


# ----- retries ---------------------------------------------------------------------------------------------


async def test_throttled_call_is_retried_and_succeeds(fault_server: FaultServer) -> None:
    def script(request: web.Request, n: int) -> web.Response:
        if n < 3:
            return error_response("TooManyRequestsException")
        return web.json_response({"Username": "u", "UserAttributes": []})

    fault_server.script = script
    async with client_for(fault_server.url) as cognito:
        got = await cognito.admin_get_user(UserPoolId="p", Username="u")
    assert got["Username"] == "u"
    assert got["ResponseMetadata"]["RetryAttempts"] == 2
    assert fault_server.calls["AdminGetUser"] == 3


async def test_http_429_without_code_is_retried_even_for_unsafe_operations(fault_server: FaultServer) -> None:
    fault_server.script = lambda request, n: (
        web.Response(status=429, text="slow down") if n == 1 else web.json_response({"ChallengeName": "X"})
    )
    async with client_for(fault_server.url) as cognito:
        got = await cognito.initiate_auth(AuthFlow="USER_SRP_AUTH", ClientId="c", AuthParameters={})
    assert got["ChallengeName"] == "X"
    assert fault_server.calls["InitiateAuth"] == 2


async def test_attempts_are_bounded(fault_server: FaultServer) -> None:
    fault_server.script = lambda request, n: error_response("InternalErrorException", status=500)
    async with client_for(fault_server.url) as cognito:
        with pytest.raises(errors.InternalErrorException):
            await cognito.admin_get_user(UserPoolId="p", Username="u")
    assert fault_server.calls["AdminGetUser"] == FAST.max_attempts


@pytest.mark.parametrize("op", ["initiate_auth", "respond_to_auth_challenge", "admin_create_user", "sign_up"])
async def test_unsafe_operations_are_not_repeated_after_5xx(fault_server: FaultServer, op: str) -> None:
    fault_server.script = lambda request, n: error_response("InternalErrorException", status=500)
    params = {
        "initiate_auth": {"AuthFlow": "USER_SRP_AUTH", "ClientId": "c"},
        "respond_to_auth_challenge": {"ClientId": "c", "ChallengeName": "SMS_MFA"},
        "admin_create_user": {"UserPoolId": "p", "Username": "u"},
        "sign_up": {"ClientId": "c", "Username": "u", "Password": "p"},
    }[op]
    async with client_for(fault_server.url) as cognito:
        with pytest.raises(errors.InternalErrorException):
            await getattr(cognito, op)(**params)
    assert sum(fault_server.calls.values()) == 1


async def test_limit_exceeded_is_not_retried(fault_server: FaultServer) -> None:
    fault_server.script = lambda request, n: error_response("LimitExceededException")
    async with client_for(fault_server.url) as cognito:
        with pytest.raises(errors.LimitExceededException):
            await cognito.admin_get_user(UserPoolId="p", Username="u")
    assert fault_server.calls["AdminGetUser"] == 1


async def reset_connection(request: web.Request, n: int) -> web.StreamResponse:
    if n == 1:
        assert request.transport is not None
        request.transport.abort()
        raise asyncio.CancelledError
    return web.json_response({"Username": "u"})


async def test_reset_connection_retried_for_safe_operation(fault_server: FaultServer) -> None:
    fault_server.script = reset_connection
    async with client_for(fault_server.url) as cognito:
        got = await cognito.admin_get_user(UserPoolId="p", Username="u")
    assert got["Username"] == "u"
    assert fault_server.calls["AdminGetUser"] == 2


async def test_reset_connection_not_repeated_for_unsafe_operation(fault_server: FaultServer) -> None:
    fault_server.script = reset_connection
    async with client_for(fault_server.url) as cognito:
        with pytest.raises(aiocognito.ConnectionFailedError) as info:
            await cognito.initiate_auth(AuthFlow="USER_SRP_AUTH", ClientId="c")
    assert info.value.before_send is False
    assert fault_server.calls["InitiateAuth"] == 1


async def test_timeout_is_typed_and_not_repeated_for_unsafe(fault_server: FaultServer) -> None:
    async def slow(request: web.Request, n: int) -> web.Response:
        await asyncio.sleep(1.0)
        return web.json_response({})

    fault_server.script = slow
    async with client_for(fault_server.url, timeout=0.2) as cognito:
        with pytest.raises(aiocognito.RequestTimeoutError):
            await cognito.initiate_auth(AuthFlow="USER_SRP_AUTH", ClientId="c")
    assert fault_server.calls["InitiateAuth"] == 1


async def test_connection_refused_is_typed_and_bounded() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with client_for(f"http://127.0.0.1:{port}") as cognito:
        with pytest.raises(aiocognito.ConnectionFailedError) as info:
            await cognito.initiate_auth(AuthFlow="USER_SRP_AUTH", ClientId="c")
    assert info.value.before_send is True


async def test_every_retry_is_resigned(fault_server: FaultServer) -> None:
    from datetime import datetime, timedelta, timezone

    ticks = iter(datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=i) for i in range(10))
    auths: list[str] = []

    def script(request: web.Request, n: int) -> web.Response:
        auths.append(request.headers["Authorization"])
        return error_response("TooManyRequestsException") if n < 3 else web.json_response({})

    fault_server.script = script
    async with client_for(fault_server.url, clock=lambda: next(ticks)) as cognito:
        await cognito.admin_get_user(UserPoolId="p", Username="u")
    assert len(set(auths)) == 3


# ----- pure parts ----------------------------------------------------------------------------------------


def test_backoff_is_bounded_full_jitter() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay=0.1, max_delay=0.3, throttle_base_delay=0.25)
    internal = errors.InternalErrorException("x", status=500)
    assert retry_delay(policy, 1, internal, "AdminGetUser", random=lambda: 1.0) == pytest.approx(0.1)
    assert retry_delay(policy, 2, internal, "AdminGetUser", random=lambda: 1.0) == pytest.approx(0.2)
    assert retry_delay(policy, 4, internal, "AdminGetUser", random=lambda: 1.0) == pytest.approx(0.3)
    assert retry_delay(policy, 3, internal, "AdminGetUser", random=lambda: 0.0) == 0.0
    assert retry_delay(policy, 5, internal, "AdminGetUser", random=lambda: 1.0) is None
    throttle = errors.TooManyRequestsException("x", status=400)  # throttling waits from its own base
    assert retry_delay(policy, 1, throttle, "AdminGetUser", random=lambda: 1.0) == pytest.approx(0.25)
    assert retry_delay(policy, 1, throttle, "InitiateAuth", random=lambda: 1.0) == pytest.approx(0.25)
    assert not is_safe_to_repeat("AdminUpdateUserAttributes")  # may send a verification message
    assert is_safe_to_repeat("AdminDeleteUser")
    assert retry_delay(policy, 1, internal, "InitiateAuth") is None
    assert retry_delay(policy, 1, internal, "CreateUserPool") is None
    assert retry_delay(policy, 1, internal, "AdminGetUser") is not None
    assert not is_safe_to_repeat("RespondToAuthChallenge")
    assert is_safe_to_repeat("ListUsers")


def test_page_cursor_refuses_a_repeated_token() -> None:
    spec = PaginatedSpec("ListUsers", "PaginationToken", "PaginationToken", "Limit", "Users")
    cursor = PageCursor(spec, {"UserPoolId": "p"})
    assert cursor.next_request() == {"UserPoolId": "p"}
    assert cursor.feed({"Users": [1], "PaginationToken": "a"}) == [1]
    assert cursor.next_request() == {"UserPoolId": "p", "PaginationToken": "a"}
    cursor.feed({"Users": [2], "PaginationToken": "b"})
    with pytest.raises(aiocognito.PaginationError):
        cursor.feed({"Users": [3], "PaginationToken": "a"})
    assert cursor.next_request() is None


def test_page_cursor_fills_a_required_limit() -> None:
    spec = PaginatedSpec("ListUserPools", "NextToken", "NextToken", "MaxResults", "UserPools", True, 60)
    assert PageCursor(spec, {}).next_request() == {"MaxResults": 60}
    assert PageCursor(spec, {"MaxResults": 5}).next_request() == {"MaxResults": 5}


async def test_paginator_stops_on_repeated_token_from_server(fault_server: FaultServer) -> None:
    fault_server.script = lambda request, n: web.json_response(
        {"Users": [{"Username": str(n)}], "PaginationToken": "same"}
    )
    async with client_for(fault_server.url) as cognito:
        seen = []
        with pytest.raises(aiocognito.PaginationError):
            async for user in cognito.list_all_users(UserPoolId="p"):
                seen.append(user["Username"])
    assert seen == ["1"]


async def test_list_all_user_import_jobs_sends_required_max_results(fault_server: FaultServer) -> None:
    bodies: list[dict[str, Any]] = []

    async def script(request: web.Request, n: int) -> web.Response:
        bodies.append(json.loads(await request.read()))
        return web.json_response(
            {"UserImportJobs": [{"JobId": f"j{n}"}], **({"PaginationToken": f"t{n}"} if n < 3 else {})}
        )

    fault_server.script = script
    async with client_for(fault_server.url) as cognito:
        jobs = [j["JobId"] async for j in cognito.list_all_user_import_jobs(UserPoolId="p")]
    assert jobs == ["j1", "j2", "j3"]
    assert bodies[0] == {"UserPoolId": "p", "MaxResults": 60}
    assert bodies[2]["PaginationToken"] == "t2"


async def test_bare_429_slows_the_pacer_and_views_share_the_transport(fault_server: FaultServer) -> None:
    from aiocognito.quotas import QuotaPacer

    fault_server.script = lambda request, n: (
        web.Response(status=429, text="slow down") if n == 1 else web.json_response({"Username": "u"})
    )
    pacer = QuotaPacer({"UserRead": 1000})
    async with client_for(fault_server.url) as cognito:
        view = cognito.with_options(retries=3, quotas=pacer)
        before = pacer.current_rate("UserRead")
        got = await view.admin_get_user(UserPoolId="p", Username="u")
        assert got["Username"] == "u"
        assert pacer.current_rate("UserRead") < before
        await view.close()  # a view never closes the shared transport
        assert (await cognito.admin_get_user(UserPoolId="p", Username="u"))["Username"] == "u"
        assert view.retry_policy.max_attempts == 3 and cognito.retry_policy.max_attempts == FAST.max_attempts


async def test_a_closed_client_refuses_to_send(fault_server: FaultServer) -> None:
    cognito = client_for(fault_server.url)
    await cognito.admin_get_user(UserPoolId="p", Username="u")
    await cognito.close()
    await cognito.close()  # idempotent
    with pytest.raises(aiocognito.ConfigurationError, match="closed"):
        await cognito.admin_get_user(UserPoolId="p", Username="u")


async def test_a_body_cut_short_names_the_status_and_the_operation(fault_server: FaultServer) -> None:
    async def truncated(request: web.Request, n: int) -> web.StreamResponse:
        response = web.StreamResponse(
            status=500, headers={"Content-Length": "100", "Content-Type": "text/html"}
        )
        await response.prepare(request)
        await response.write(b"<html>partial")
        assert request.transport is not None
        request.transport.close()
        return response

    fault_server.script = truncated
    async with client_for(fault_server.url, retries=1) as cognito:
        with pytest.raises(aiocognito.ConnectionFailedError) as info:
            await cognito.admin_get_user(UserPoolId="p", Username="u")
    assert info.value.status == 500
    assert info.value.operation == "AdminGetUser"
    assert "AdminGetUser" in str(info.value) and "500" in str(info.value)
