"""The account flows on ``Session`` (sign-up, recovery, password change, attributes, MFA settings, TOTP,
deleting the account) against the local pool, which checks every SECRET_HASH, code and token."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pyotp
import pytest

import aiocognito
from aiocognito import (
    CodeDelivery,
    MemoryDeviceStore,
    MemoryTokenStore,
    MfaCodeRequired,
    ParamValidationError,
    RetryPolicy,
    Session,
    SignedIn,
    SignInError,
    SignInRequired,
    SignUpResult,
    TotpEnrollment,
    errors,
)
from aiocognito.testing import AppClient, LocalUserPool

PASSWORD, RESET, CHANGED = "Passw0rd!-one", "Passw0rd!-two", "Passw0rd!-three"
UNAUTHENTICATED = (
    "SignUp",
    "ConfirmSignUp",
    "ResendConfirmationCode",
    "ForgotPassword",
    "ConfirmForgotPassword",
)


@pytest.fixture
async def cognito(local_user_pool: LocalUserPool) -> AsyncIterator[Any]:
    async with local_user_pool.client(retries=RetryPolicy(max_attempts=1)) as client:
        yield client


@pytest.fixture
def sent(cognito: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every (operation, params) the client sends, in order."""
    calls: list[tuple[str, dict[str, Any]]] = []
    original = cognito.call

    async def call(operation: str, **params: Any) -> Any:
        calls.append((operation, params))
        return await original(operation, **params)

    monkeypatch.setattr(cognito, "call", call)
    return calls


def session_for(cognito: Any, app: AppClient, **options: Any) -> Session:
    return cognito.session(  # type: ignore[no-any-return]
        user_pool_id=app.user_pool_id, client_id=app.client_id, client_secret=app.client_secret, **options
    )


async def email_pool(local: LocalUserPool, *, secret: bool = True, **extra: Any) -> AppClient:
    pool_id = await local.create_user_pool(
        mfa="OPTIONAL", totp=True, AutoVerifiedAttributes=["email"], **extra
    )
    return await local.create_app_client(pool_id, secret=secret)


def totp_now(secret: str, *, ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * ahead)


async def test_the_journey_on_a_client_with_a_secret(
    local_user_pool: LocalUserPool,
    cognito: Any,
    sent: list[tuple[str, dict[str, Any]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiocognito")
    local = local_user_pool
    app = await email_pool(local)
    assert app.client_secret
    store = MemoryTokenStore()
    session = session_for(cognito, app, token_store=store)

    # sign-up, confirmed with the code from the outbox
    result = await session.sign_up("zoe", PASSWORD, attributes={"email": "zoe@example.com"})
    assert isinstance(result, SignUpResult) and not result.user_confirmed and result.user_sub
    assert result.code_delivery == CodeDelivery("z***@e***", "EMAIL", "email")
    resent = await session.resend_confirmation_code("zoe")
    assert resent.medium == "EMAIL"
    await session.confirm_sign_up("zoe", local.last_code("zoe", purpose="SIGN_UP"))
    assert isinstance(await session.sign_in("zoe", PASSWORD), SignedIn)

    # a forgotten password, then a change of password while signed in
    delivery = await session.forgot_password("zoe")
    assert delivery.attribute == "email" and delivery.destination == "z***@e***"
    await session.confirm_forgot_password("zoe", local.last_code("zoe", purpose="FORGOT_PASSWORD"), RESET)
    assert isinstance(await session.sign_in("zoe", RESET), SignedIn)
    with pytest.raises(errors.NotAuthorizedException):
        await session.change_password(PASSWORD, CHANGED)  # the old one is gone
    await session.change_password(RESET, CHANGED)

    # TOTP on, in one step the caller answers with a code
    enrollment = await session.enable_totp()
    assert isinstance(enrollment, TotpEnrollment) and enrollment.username == "zoe"
    secret = enrollment.secret_code
    assert secret not in repr(enrollment)
    uri = enrollment.provisioning_uri("Acme")
    assert uri.startswith("otpauth://totp/Acme:zoe?") and f"secret={secret}" in uri
    right = totp_now(secret)
    wrong = "000000" if right != "000000" else "111111"
    with pytest.raises((errors.EnableSoftwareTokenMFAException, errors.CodeMismatchException)):
        await enrollment.confirm(wrong)
    assert not enrollment.confirmed
    await enrollment.confirm(right, friendly_device_name="phone")  # still answerable after a wrong code
    assert enrollment.confirmed
    with pytest.raises(SignInError):
        await enrollment.confirm(right)
    user = await cognito.get_user(AccessToken=await session.access_token())
    assert user["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"

    # the next sign-in asks for a TOTP code
    step = await session_for(cognito, app).sign_in("zoe", CHANGED)
    assert isinstance(step, MfaCodeRequired) and step.kind == "TOTP"
    assert isinstance(await step.respond(totp_now(secret, ahead=1)), SignedIn)

    # the account goes, with the session's tokens; signing in fails afterwards
    await session.delete_account()
    assert session.tokens is None and await store.load(f"{app.user_pool_id}:{app.client_id}:zoe") is None
    with pytest.raises(SignInRequired):
        await session.access_token()
    with pytest.raises(errors.UserNotFoundException):
        await session.sign_in("zoe", CHANGED)

    # SECRET_HASH over the username on each unauthenticated call; nothing secret in the logs
    hashes = {op: p.get("SecretHash") for op, p in sent if op in UNAUTHENTICATED}
    expected = aiocognito.secret_hash(app.client_secret, "zoe", app.client_id)
    assert hashes == dict.fromkeys(UNAUTHENTICATED, expected)
    for value in (PASSWORD, RESET, CHANGED, secret, app.client_secret, right, expected):
        assert value not in caplog.text
    assert "account: SignUp" in caplog.text


async def test_the_pool_refuses_each_call_without_secret_hash(
    local_user_pool: LocalUserPool, cognito: Any
) -> None:
    app = await email_pool(local_user_pool)
    await session_for(cognito, app).sign_up("yan", PASSWORD, attributes={"email": "yan@example.com"})
    calls = {
        "SignUp": cognito.sign_up(ClientId=app.client_id, Username="yao", Password=PASSWORD),
        "ConfirmSignUp": cognito.confirm_sign_up(
            ClientId=app.client_id, Username="yan", ConfirmationCode="123456"
        ),
        "ResendConfirmationCode": cognito.resend_confirmation_code(ClientId=app.client_id, Username="yan"),
        "ForgotPassword": cognito.forgot_password(ClientId=app.client_id, Username="yan"),
        "ConfirmForgotPassword": cognito.confirm_forgot_password(
            ClientId=app.client_id, Username="yan", ConfirmationCode="123456", Password=RESET
        ),
    }
    assert set(calls) == set(UNAUTHENTICATED)
    for call in calls.values():
        with pytest.raises(errors.NotAuthorizedException, match="secret"):
            await call
    # the public helper makes the raw call work
    assert app.client_secret
    await cognito.resend_confirmation_code(
        ClientId=app.client_id,
        Username="yan",
        SecretHash=aiocognito.secret_hash(app.client_secret, "yan", app.client_id),
    )


async def test_an_email_change_verified_through_the_session(
    local_user_pool: LocalUserPool, cognito: Any
) -> None:
    local = local_user_pool
    app = await email_pool(local, secret=False)
    await local.create_user(
        app.user_pool_id, "ada", PASSWORD, attributes={"email": "ada@example.com", "email_verified": "true"}
    )
    session = session_for(cognito, app)
    await session.sign_in("ada", PASSWORD)
    deliveries = await session.update_attributes({"email": "ada@new.example", "name": "Ada"})
    assert deliveries == [CodeDelivery("a***@n***", "EMAIL", "email")]
    code = local.last_code("ada", purpose="VERIFY_ATTRIBUTE")
    with pytest.raises(errors.CodeMismatchException):
        await session.verify_attribute("email", "000000" if code != "000000" else "111111")
    await session.verify_attribute("email", code)  # still answerable after the wrong code
    user = await cognito.get_user(AccessToken=await session.access_token())
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["email"] == "ada@new.example" and attributes["email_verified"] == "true"
    again = await session.request_attribute_code("email")
    assert again == CodeDelivery("a***@n***", "EMAIL", "email")
    await session.verify_attribute("email", local.last_code("ada", purpose="VERIFY_ATTRIBUTE"))


async def test_the_old_email_stays_until_the_new_one_is_verified(
    local_user_pool: LocalUserPool, cognito: Any
) -> None:
    local = local_user_pool
    app = await email_pool(
        local, UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]}
    )
    session = session_for(cognito, app)
    await session.sign_up("bea", PASSWORD, attributes={"email": "bea@example.com"})
    await session.confirm_sign_up("bea", local.last_code("bea", purpose="SIGN_UP"))
    await session.sign_in("bea", PASSWORD)

    async def email() -> tuple[str, str]:
        user = await cognito.admin_get_user(UserPoolId=app.user_pool_id, Username="bea")
        found = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
        return found["email"], found["email_verified"]

    [delivery] = await session.update_attributes({"email": "bea@new.example"})
    assert delivery.attribute == "email"
    assert await email() == ("bea@example.com", "true")
    await session.verify_attribute("email", local.last_code("bea", purpose="VERIFY_ATTRIBUTE"))
    assert await email() == ("bea@new.example", "true")


async def test_mfa_preference(local_user_pool: LocalUserPool, cognito: Any) -> None:
    local = local_user_pool
    app = await email_pool(local, secret=False)
    await local.create_user(app.user_pool_id, "max", PASSWORD)
    session = session_for(cognito, app)
    await session.sign_in("max", PASSWORD)
    enrollment = await session.enable_totp()
    await enrollment.confirm(totp_now(enrollment.secret_code), preferred=False)
    user = await cognito.get_user(AccessToken=await session.access_token())
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"] and "PreferredMfaSetting" not in user
    await session.set_mfa_preference(preferred="TOTP")
    user = await cognito.get_user(AccessToken=await session.access_token())
    assert user["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"
    await session.set_mfa_preference(totp=False)
    user = await cognito.get_user(AccessToken=await session.access_token())
    assert user["UserMFASettingList"] == [] and "PreferredMfaSetting" not in user
    assert isinstance(await session_for(cognito, app).sign_in("max", PASSWORD), SignedIn)  # no MFA now


async def test_delete_account_forgets_the_remembered_device(
    local_user_pool: LocalUserPool, cognito: Any
) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool(device_tracking="always")
    app = await local.create_app_client(pool_id, secret=True)
    await local.create_user(pool_id, "dee", PASSWORD)
    devices = MemoryDeviceStore()
    session = session_for(cognito, app, device_store=devices)
    await session.sign_in("dee", PASSWORD)
    await session.remember_device()
    assert await devices.get(pool_id, "dee") is not None
    await session.delete_account()
    assert await devices.get(pool_id, "dee") is None and session.device_key is None
    with pytest.raises(SignInRequired):  # signed out now
        await session.delete_account()
    with pytest.raises(SignInRequired):
        await session.change_password(PASSWORD, RESET)


async def test_bad_arguments_are_refused_before_anything_is_sent(
    local_user_pool: LocalUserPool, cognito: Any
) -> None:
    local = local_user_pool
    app = await email_pool(local)
    await local.create_user(app.user_pool_id, "kim", PASSWORD)
    session = session_for(cognito, app)
    await session.sign_in("kim", PASSWORD)
    enrollment = await session.enable_totp()
    before = local.request_count
    refused = [
        session.sign_up("", PASSWORD),
        session.sign_up("kim2", ""),
        session.sign_up("kim2", PASSWORD, attributes={"email": 5}),  # type: ignore[dict-item]
        session.sign_up("kim2", PASSWORD, attributes={"": "x"}),
        session.sign_up("kim2", PASSWORD, client_metadata=["x"]),  # type: ignore[arg-type]
        session.confirm_sign_up("kim", ""),
        session.resend_confirmation_code(None),  # type: ignore[arg-type]
        session.forgot_password(""),
        session.confirm_forgot_password("kim", "123456", ""),
        session.change_password(PASSWORD, None),  # type: ignore[arg-type]
        session.update_attributes({}),
        session.request_attribute_code(""),
        session.verify_attribute("email", ""),
        session.set_mfa_preference(),
        session.set_mfa_preference(preferred="SOFTWARE_TOKEN_MFA"),
        session.set_mfa_preference(totp=False, preferred="TOTP"),
        session.set_mfa_preference(sms="yes"),  # type: ignore[arg-type]
        enrollment.confirm(""),
        enrollment.confirm("123456", preferred="yes"),  # type: ignore[arg-type]
    ]
    for call in refused:
        with pytest.raises(ParamValidationError) as info:
            await call
        assert PASSWORD not in str(info.value)
    with pytest.raises(ParamValidationError):
        enrollment.provisioning_uri("")
    assert local.request_count == before


async def test_ids_are_checked_when_the_session_is_made(local_user_pool: LocalUserPool, cognito: Any) -> None:
    app = await local_user_pool.create_app_client(await local_user_pool.create_user_pool())
    before = local_user_pool.request_count
    with pytest.raises(ParamValidationError, match="user_pool_id"):
        cognito.session(user_pool_id="garbage", client_id=app.client_id)
    with pytest.raises(ParamValidationError, match="client_id"):
        cognito.session(user_pool_id=app.user_pool_id, client_id="not a client id!")
    assert local_user_pool.request_count == before


async def test_nothing_secret_in_reprs_and_errors(local_user_pool: LocalUserPool, cognito: Any) -> None:
    local = local_user_pool
    app = await email_pool(local)
    assert app.client_secret
    session = session_for(cognito, app)
    result = await session.sign_up("liv", PASSWORD, attributes={"email": "liv@example.com"})
    code = local.last_code("liv", purpose="SIGN_UP")
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(errors.CodeMismatchException) as info:
        await session.confirm_sign_up("liv", wrong)
    await session.confirm_sign_up("liv", code)
    await session.sign_in("liv", PASSWORD)
    enrollment = await session.enable_totp()
    texts = [repr(session), repr(result), repr(result.code_delivery), repr(enrollment), str(info.value)]
    tokens = session.tokens
    assert tokens is not None
    for secret in (PASSWORD, code, wrong, app.client_secret, enrollment.secret_code, tokens.access_token):
        assert all(secret not in text for text in texts)


async def test_remember_device_names_the_missing_pool_setting(
    local_user_pool: LocalUserPool, cognito: Any
) -> None:
    local = local_user_pool
    app = await local.create_app_client(await local.create_user_pool())
    await local.create_user(app.user_pool_id, "ned", PASSWORD)
    session = session_for(cognito, app)
    await session.sign_in("ned", PASSWORD)
    with pytest.raises(SignInError, match="DeviceConfiguration") as info:
        await session.remember_device()
    assert "ChallengeRequiredOnNewDevice" in str(info.value)


class Scripted:
    """A client answering each operation from a script (no pool): for answers a real pool never gives."""

    def __init__(self, **answers: Any) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def call(self, operation: str, **params: Any) -> Any:
        self.calls.append(operation)
        answer = self.answers[operation]
        if isinstance(answer, list):
            answer = answer.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def _fresh_tokens(self) -> Any:  # a TotpEnrollment's session
        return type("Tokens", (), {"access_token": "token"})()

    async def _call(self, request: Any) -> Any:
        return await self.call(request.operation, **request.params)

    async def set_mfa_preference(self, **settings: Any) -> None:
        await self.call("SetUserMFAPreference", **settings)


async def test_a_status_error_leaves_the_enrollment_answerable() -> None:
    sender = Scripted(
        VerifySoftwareToken=[{"Status": "ERROR"}, {"Status": "SUCCESS"}],
        SetUserMFAPreference=[errors.TooManyRequestsException("slow down"), {}],
    )
    enrollment = TotpEnrollment(sender, "JBSWY3DPEHPK3PXPJBSWY3DP", "amy")
    with pytest.raises(errors.EnableSoftwareTokenMFAException, match="Status ERROR"):
        await enrollment.confirm("123456")
    with pytest.raises(errors.TooManyRequestsException):
        await enrollment.confirm("123457")  # verified; turning TOTP on failed
    await enrollment.confirm("123457")  # only the preference is sent again
    assert sender.calls == ["VerifySoftwareToken"] * 2 + ["SetUserMFAPreference"] * 2
    assert enrollment.confirmed and "JBSWY3DP" not in repr(enrollment)


@pytest.mark.parametrize(
    ("operation", "answer"),
    [
        ("SignUp", {"UserConfirmed": False}),
        ("SignUp", {"UserConfirmed": "no", "UserSub": "s"}),
        ("SignUp", {"UserConfirmed": False, "UserSub": "s", "CodeDeliveryDetails": {"Destination": 5}}),
        ("ForgotPassword", {}),
        ("ForgotPassword", {"CodeDeliveryDetails": "email"}),
    ],
)
async def test_malformed_answers_are_protocol_errors(operation: str, answer: dict[str, Any]) -> None:
    session = Session(Scripted(**{operation: answer}), user_pool_id="us-east-1_Abc", client_id="client1")
    call = session.sign_up("amy", PASSWORD) if operation == "SignUp" else session.forgot_password("amy")
    with pytest.raises(aiocognito.ProtocolError):
        await call
