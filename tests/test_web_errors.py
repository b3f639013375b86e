"""The error-to-HTTP table: every row through :func:`http_error`, then the rows the local pool can produce
through both frameworks' real servers (wrong password and unknown user alike, codes, throttling, policy,
account states, an expired session, unreachable keys and endpoint), and bad bodies answered 400 without
echoing anything, in responses or logs."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from test_web_support import (
    BOB,
    KINDS,
    MIA,
    PASSWORD,
    assert_not_in,
    bearer,
    closed_port,
    make_pool,
    served,
    settings_for,
    sign_in_directly,
)

from aiocognito import (
    ConnectionFailedError,
    CredentialsError,
    InvalidToken,
    JwksUnavailable,
    ParamValidationError,
    ProtocolError,
    RetryPolicy,
    SessionExpiredError,
    SignInError,
    SignInRequired,
    TokenExpired,
    errors,
)
from aiocognito.testing import FaultPlan, LocalUserPool
from aiocognito.web.backend import CognitoBackend
from aiocognito.web.http_errors import COGNITO_ERRORS, HttpError, http_error

# (code, status, error, Retry-After)
ROWS = [
    ("NotAuthorizedException", 401, "not_authorized", None),
    ("UserNotFoundException", 401, "not_authorized", None),
    ("CodeMismatchException", 400, "code_mismatch", None),
    ("EnableSoftwareTokenMFAException", 400, "code_mismatch", None),
    ("ExpiredCodeException", 400, "code_expired", None),
    ("InvalidPasswordException", 400, "invalid_password", None),
    ("PasswordHistoryPolicyViolationException", 400, "invalid_password", None),
    ("InvalidParameterException", 400, "invalid_parameter", None),
    ("UserLambdaValidationException", 400, "rejected", None),
    ("SoftwareTokenMFANotFoundException", 400, "totp_not_enabled", None),
    ("UserNotConfirmedException", 403, "user_not_confirmed", None),
    ("PasswordResetRequiredException", 403, "password_reset_required", None),
    ("ForbiddenException", 403, "forbidden", None),
    ("UsernameExistsException", 409, "username_exists", None),
    ("AliasExistsException", 409, "alias_exists", None),
    ("TooManyRequestsException", 429, "too_many_requests", "1"),
    ("LimitExceededException", 429, "too_many_requests", "60"),
    ("TooManyFailedAttemptsException", 429, "too_many_requests", "60"),
    ("CodeDeliveryFailureException", 502, "code_delivery_failed", None),
    ("InternalErrorException", 502, "cognito_error", None),
    ("SomethingNewException", 502, "cognito_error", None),
]


def service_error(code: str, message: str = "Cognito's own words") -> errors.ServiceError:
    return errors.error_class(code)(message, code=code, operation="InitiateAuth", status=400)


def test_the_table_has_a_test_row_for_each_entry() -> None:
    assert set(COGNITO_ERRORS) == {code for code, *_ in ROWS} - {
        "InternalErrorException",
        "SomethingNewException",
    }


@pytest.mark.parametrize(("code", "status", "error", "retry_after"), ROWS)
def test_each_row(code: str, status: int, error: str, retry_after: str | None) -> None:
    answer = http_error(service_error(code, f"{PASSWORD} in a message"), secrets=[PASSWORD])
    assert (answer.status, answer.error) == (status, error)
    assert set(answer.body) == {"error", "message"} and PASSWORD not in str(answer.body)
    assert answer.headers == ({"Retry-After": retry_after} if retry_after else {})
    if code not in ("InvalidPasswordException", "PasswordHistoryPolicyViolationException"):
        assert answer.body["message"] != "Cognito's own words"
        assert http_error(service_error(code)).body["message"] != "Cognito's own words"


def test_unknown_user_and_wrong_password_are_one_answer() -> None:
    wrong = http_error(service_error("NotAuthorizedException", "Incorrect username or password."))
    unknown = http_error(service_error("UserNotFoundException", "User does not exist."))
    assert (wrong.status, wrong.body, wrong.headers) == (unknown.status, unknown.body, unknown.headers)


def test_the_policy_message_is_passed_on_but_never_a_secret() -> None:
    policy = "Password does not conform to policy: Password must have symbol characters"
    assert http_error(service_error("InvalidPasswordException", policy)).body["message"] == policy
    leaked = http_error(service_error("InvalidPasswordException", f"bad {PASSWORD}"), secrets=[PASSWORD])
    assert leaked.body["message"] == "the password does not meet the policy"
    token = "eyJraWQiOiJhYmMiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl"
    masked = http_error(service_error("InvalidPasswordException", f"policy {token}"))
    assert token not in masked.body["message"] and "<redacted>" in masked.body["message"]


@pytest.mark.parametrize(
    ("exc", "status", "error"),
    [
        (SessionExpiredError("gone"), 401, "session_expired"),
        (SignInError("answered already"), 401, "session_expired"),
        (SignInRequired("refresh refused"), 401, "sign_in_required"),
        (InvalidToken("signature"), 401, "invalid_token"),
        (TokenExpired(), 401, "invalid_token"),
        (JwksUnavailable("down"), 503, "keys_unavailable"),
        (ConnectionFailedError("refused", operation="InitiateAuth"), 503, "cognito_unavailable"),
        (ParamValidationError("sign_in", ["USER_SRP_AUTH needs a password"]), 400, "bad_request"),
        (ProtocolError("bad SRP_B"), 502, "cognito_error"),
        (CredentialsError("none"), 500, "server_misconfigured"),
        (RuntimeError("ours"), 500, "internal_error"),
    ],
)
def test_rows_by_exception_type(exc: Exception, status: int, error: str) -> None:
    answer = http_error(exc)
    assert (answer.status, answer.error) == (status, error)
    if error == "invalid_token":
        assert answer.headers == {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        assert answer.body == {"error": "invalid_token", "reason": exc.reason}  # type: ignore[attr-defined]
    if error == "session_expired":
        assert answer.body["message"] == "sign in again"
    assert http_error(answer) is answer


def test_param_problems_are_kept_but_never_a_secret() -> None:
    exc = ParamValidationError("RespondToAuthChallenge", [f"needs 'name' not {PASSWORD}", "second"])
    assert http_error(exc, secrets=[PASSWORD]).body == {"error": "bad_request", "message": "second"}
    assert "needs 'name'" in http_error(exc).body["message"]
    assert repr(HttpError(400, "x")) == "HttpError(400, 'x')"


# ----- through the servers -------------------------------------------------------------------------------


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_rows_the_pool_produces(
    kind: str, local_user_pool: LocalUserPool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    local = local_user_pool
    pool = await make_pool(local)
    pool_id = pool.app.user_pool_id
    async with served(kind, CognitoBackend(settings_for(local, pool.app))) as call:
        # a wrong password and an unknown user: the same answer, headers included
        wrong = await call("POST", "/sign-in", json={"username": BOB, "password": "Wr0ng-pass!"})
        unknown = await call("POST", "/sign-in", json={"username": "nobody", "password": "Wr0ng-pass!"})
        assert (wrong.status, wrong.body["error"]) == (401, "not_authorized")
        assert (wrong.status, wrong.text) == (unknown.status, unknown.text)
        assert {k: v for k, v in wrong.headers.items() if k != "date"} == {
            k: v for k, v in unknown.headers.items() if k != "date"
        }

        # a wrong code, then a used one: 400 and the challenge stays answerable
        first = await call("POST", "/sign-in", json={"username": MIA, "password": PASSWORD})
        used = local.totp_code(MIA)
        ok = await call(
            "POST", "/sign-in/answer", json={"challenge_id": first.body["challenge_id"], "code": used}
        )
        assert ok.status == 200, ok.body
        second = await call("POST", "/sign-in", json={"username": MIA, "password": PASSWORD})
        cid = second.body["challenge_id"]
        reused = await call("POST", "/sign-in/answer", json={"challenge_id": cid, "code": used})
        assert (reused.status, reused.body["error"]) == (400, "code_expired")
        wrong_code = f"{(int(used) + 7) % 1_000_000:06d}"
        mismatch = await call("POST", "/sign-in/answer", json={"challenge_id": cid, "code": wrong_code})
        assert (mismatch.status, mismatch.body["error"]) == (400, "code_mismatch")
        assert_not_in(reused.text + mismatch.text, used, wrong_code)

        # the password policy, with its message and without the password
        weak = await call("POST", "/sign-up", json={"username": "weakling", "password": "short"})
        assert (weak.status, weak.body["error"]) == (400, "invalid_password")
        assert "policy" in weak.body["message"]  # Cognito's (here moto's) policy message, passed on
        assert weak.body["message"] != COGNITO_ERRORS["InvalidPasswordException"].message
        assert '"short"' not in weak.text

        # account states: 403 with a machine-readable error
        await local.call("SignUp", ClientId=pool.app.client_id, Username="newbie", Password=PASSWORD)
        unconfirmed = await call("POST", "/sign-in", json={"username": "newbie", "password": PASSWORD})
        assert (unconfirmed.status, unconfirmed.body["error"]) == (403, "user_not_confirmed")
        email = {"email": "carol@example.com", "email_verified": "true"}
        await local.create_user(pool_id, "carol", PASSWORD, attributes=email)
        await local.call("AdminResetUserPassword", UserPoolId=pool_id, Username="carol")
        reset = await call("POST", "/sign-in", json={"username": "carol", "password": PASSWORD})
        assert (reset.status, reset.body["error"]) == (403, "password_reset_required")
        taken = await call("POST", "/sign-up", json={"username": MIA, "password": PASSWORD})
        assert (taken.status, taken.body["error"]) == (409, "username_exists")

        # the challenge session expires at Cognito: 401 "sign in again", and the challenge is gone
        third = await call("POST", "/sign-in", json={"username": MIA, "password": PASSWORD})
        local.advance_clock(181)
        late = await call(
            "POST", "/sign-in/answer", json={"challenge_id": third.body["challenge_id"], "code": "123456"}
        )
        assert (late.status, late.body) == (401, {"error": "session_expired", "message": "sign in again"})
        gone = await call(
            "POST", "/sign-in/answer", json={"challenge_id": third.body["challenge_id"], "code": "123456"}
        )
        assert (gone.status, gone.body["error"]) == (410, "challenge_expired")
    assert_not_in(caplog.text, PASSWORD, used, wrong_code)


async def test_throttling_is_429_with_retry_after(kind: str, local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    pool = await make_pool(local)
    local.faults = FaultPlan(throttle_rps=0.01, operations=frozenset({"InitiateAuth"}))
    async with local.client(retries=RetryPolicy(max_attempts=1)) as client:
        backend = CognitoBackend(settings_for(local, pool.app), client=client)
        async with served(kind, backend) as call:
            first = await call("POST", "/sign-in", json={"username": BOB, "password": PASSWORD})
            assert first.status == 200  # the bucket's one token
            throttled = await call("POST", "/sign-in", json={"username": BOB, "password": PASSWORD})
        assert not client._closed  # borrowed: left open by the backend
    assert (throttled.status, throttled.body["error"]) == (429, "too_many_requests")
    assert throttled.headers["retry-after"] == "1"


async def test_unreachable_keys_and_endpoint_are_503(kind: str, local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    pool = await make_pool(local)
    tokens = await sign_in_directly(local, pool.app, BOB)
    port = closed_port()
    settings = settings_for(local, pool.app, jwks_url=f"http://127.0.0.1:{port}/jwks.json")
    async with served(kind, CognitoBackend(settings)) as call:
        keys = await call("GET", "/me", headers=bearer(tokens.access_token))
    assert (keys.status, keys.body["error"]) == (503, "keys_unavailable")
    down = settings_for(local, pool.app, endpoint_url=f"http://127.0.0.1:{port}")
    async with served(kind, CognitoBackend(down)) as call:
        answer = await call("POST", "/sign-in", json={"username": BOB, "password": PASSWORD})
    assert (answer.status, answer.body["error"]) == (503, "cognito_unavailable")


BAD_BODIES: list[tuple[str, dict[str, Any]]] = [
    (
        "/sign-in",
        {"content": b"{not json " + PASSWORD.encode(), "headers": {"Content-Type": "application/json"}},
    ),
    ("/sign-in", {"json": [BOB, PASSWORD]}),
    ("/sign-in", {"json": {"username": BOB, "pasword": PASSWORD}}),
    ("/sign-in", {"json": {"username": PASSWORD, "password": 12345}}),
    ("/sign-in", {"json": {"username": BOB, "password": PASSWORD * 40}}),
    ("/sign-in", {"content": b" " + PASSWORD.encode() * 5000}),
    ("/sign-up", {"json": {"username": BOB, "password": PASSWORD, "attributes": {"email": 5}}}),
    ("/sign-in/answer", {"json": {"code": PASSWORD}}),
    ("/password/reset", {"json": {"username": BOB, "code": PASSWORD}}),
]


async def test_bad_bodies_are_400_without_echo(
    kind: str, local_user_pool: LocalUserPool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    local = local_user_pool
    pool = await make_pool(local)
    before = local.request_count
    async with served(kind, CognitoBackend(settings_for(local, pool.app))) as call:
        answers = [await call("POST", path, **options) for path, options in BAD_BODIES]
        if kind == "fastapi":  # a route of the app's own with a pydantic body: FastAPI's 422 overridden
            answers.append(await call("POST", "/pydantic", json={"item": "x", "secret_note": PASSWORD}))
            assert answers[-1].body == {
                "error": "bad_request",
                "message": "missing or invalid fields: secret_note",
                "fields": ["secret_note"],
            }
        # a missing field names it
        named = await call("POST", "/sign-in", json={"username": BOB, "pasword": PASSWORD})
        assert named.body["fields"] == ["password"]
    for answer in answers:
        assert (answer.status, answer.body["error"]) == (400, "bad_request"), answer.text
        assert PASSWORD not in answer.text and BOB not in answer.text
    assert PASSWORD not in caplog.text
    assert local.request_count == before  # refused before anything was sent


async def test_concurrent_requests_do_not_mix_answers(kind: str, local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    pool = await make_pool(local)
    async with served(kind, CognitoBackend(settings_for(local, pool.app))) as call:
        answers = await asyncio.gather(
            call("POST", "/sign-in", json={"username": BOB, "password": PASSWORD}),
            call("POST", "/sign-in", json={"username": BOB, "password": "Wr0ng-pass!"}),
            call("POST", "/sign-in", json={"username": "nobody", "password": PASSWORD}),
        )
    assert [a.status for a in answers] == [200, 401, 401]
    assert "tokens" in answers[0].body
