"""The sign-in state machine (``cognito.session(...)``) end to end against the faithful local pool.

SRP, NEW_PASSWORD_REQUIRED, TOTP set-up and sign-in, SMS codes, SELECT_MFA_TYPE, remembered devices that
skip MFA, refresh (with DEVICE_KEY, with rotation), sign-out, CUSTOM_AUTH and USER_AUTH: the pool checks
every signature, SECRET_HASH, session and code, so a passing test means the client did it right.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiocognito import MemoryTokenStore, RetryPolicy, SessionExpiredError, SignInRequired, errors
from aiocognito._signin.session import Session
from aiocognito._signin.steps import (
    ChallengeSelectionRequired,
    CustomChallenge,
    MfaCodeRequired,
    MfaSelectionRequired,
    NewPasswordRequired,
    SignedIn,
    Step,
    TotpSetupRequired,
)
from aiocognito._tokens.verifier import TokenVerifier
from aiocognito.testing import AppClient, LocalUserPool

PASSWORD = "Passw0rd!"
NEW_PASSWORD = "N3w-passw0rd!"


@pytest.fixture
async def local(local_user_pool: LocalUserPool) -> AsyncIterator[LocalUserPool]:
    yield local_user_pool


@pytest.fixture
async def cognito(local: LocalUserPool) -> AsyncIterator[Any]:
    async with local.client(retries=RetryPolicy(max_attempts=1)) as client:
        yield client


def session_for(cognito: Any, app: AppClient, **options: Any) -> Session:
    return cognito.session(  # type: ignore[no-any-return]
        user_pool_id=app.user_pool_id, client_id=app.client_id, client_secret=app.client_secret, **options
    )


def signed_in(step: Step) -> SignedIn:
    assert isinstance(step, SignedIn), step
    return step


async def test_srp_sign_in_tokens_verify_with_the_local_issuer(local: LocalUserPool, cognito: Any) -> None:
    pool_id = await local.create_user_pool()
    app = await local.create_app_client(pool_id)
    await local.create_user(pool_id, "alice", PASSWORD, attributes={"email": "alice@example.com"})
    session = session_for(cognito, app)
    done = signed_in(await session.sign_in("alice", PASSWORD))
    assert session.username == "alice" and done.new_device is None
    async with TokenVerifier(
        pool_id, client_ids=app.client_id, jwks_url=local.jwks_url(pool_id), issuer=local.issuer(pool_id)
    ) as verifier:
        claims = await verifier.verify(await session.access_token(), "access")
        identity = await verifier.verify(await session.id_token(), "id")
    assert claims["username"] == "alice" and identity["email"] == "alice@example.com"
    with pytest.raises(errors.NotAuthorizedException):
        await session_for(cognito, app).sign_in("alice", "Wr0ng-password")


async def test_secret_client_and_an_email_alias(local: LocalUserPool, cognito: Any) -> None:
    pool_id = await local.create_user_pool(alias_attributes=["email"])
    app = await local.create_app_client(pool_id, secret=True)
    await local.create_user(
        pool_id, "bella", PASSWORD, attributes={"email": "bella@example.com", "email_verified": "true"}
    )
    session = session_for(cognito, app)
    signed_in(await session.sign_in("bella@example.com", PASSWORD))
    assert session.username == "bella"
    before = await session.access_token()
    tokens = await session.refresh()  # SECRET_HASH over the real username
    assert tokens.access_token != before


async def test_new_password_required_then_signed_in(local: LocalUserPool, cognito: Any) -> None:
    pool_id = await local.create_user_pool(required_attributes=("email", "name"))
    app = await local.create_app_client(pool_id)
    await local.create_user(
        pool_id, "carl", PASSWORD, temporary=True, attributes={"email": "carl@example.com"}
    )
    step = await session_for(cognito, app).sign_in("carl", PASSWORD)
    assert isinstance(step, NewPasswordRequired)
    assert step.missing_attributes == ["name"]
    signed_in(await step.respond(NEW_PASSWORD, {"name": "Carl"}))
    signed_in(await session_for(cognito, app).sign_in("carl", NEW_PASSWORD))


async def test_totp_set_up_in_the_sign_in_then_required(local: LocalUserPool, cognito: Any) -> None:
    pool_id = await local.create_user_pool(mfa="ON")
    app = await local.create_app_client(pool_id)
    await local.create_user(pool_id, "dora", PASSWORD)
    step = await session_for(cognito, app).sign_in("dora", PASSWORD)
    assert isinstance(step, TotpSetupRequired) and step.options == ["SOFTWARE_TOKEN_MFA"]
    secret = await step.associate()
    assert step.provisioning_uri("Local").startswith("otpauth://totp/")
    code = local.totp_code("dora", secret=secret)
    signed_in(await step.respond(code))

    step = await session_for(cognito, app).sign_in("dora", PASSWORD)
    assert isinstance(step, MfaCodeRequired) and step.kind == "TOTP"
    with pytest.raises(errors.ExpiredCodeException):  # the pool refuses a code used once already
        await step.respond(code)
    signed_in(await step.respond(local.totp_code("dora")))  # the same challenge, a fresh code


async def test_sms_code_a_wrong_code_and_select_mfa_type(local: LocalUserPool, cognito: Any) -> None:
    pool_id = await local.create_user_pool(mfa="OPTIONAL", sms=True, totp=True)
    app = await local.create_app_client(pool_id)
    await local.create_user(pool_id, "eve", PASSWORD, attributes={"phone_number": "+15555550111"})
    await local.call(
        "AdminSetUserMFAPreference",
        UserPoolId=pool_id,
        Username="eve",
        SMSMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    step = await session_for(cognito, app).sign_in("eve", PASSWORD)
    assert isinstance(step, MfaCodeRequired) and step.kind == "SMS"
    assert step.destination == "+*******0111"
    code = local.last_code("eve", purpose="SMS_MFA")
    with pytest.raises(errors.CodeMismatchException):
        await step.respond("000000" if code != "000000" else "111111")
    signed_in(await step.respond(code))  # the step is still usable after a wrong code

    # with TOTP enabled too and no preference: SELECT_MFA_TYPE
    session = session_for(cognito, app)
    step = await session.sign_in("eve", PASSWORD)
    assert isinstance(step, MfaCodeRequired)
    signed_in(await step.respond(local.last_code("eve")))
    secret = (await cognito.associate_software_token(AccessToken=await session.access_token()))["SecretCode"]
    await cognito.verify_software_token(
        AccessToken=await session.access_token(), UserCode=local.totp_code("eve", secret=secret)
    )
    await cognito.set_user_mfa_preference(
        AccessToken=await session.access_token(),
        SMSMfaSettings={"Enabled": True, "PreferredMfa": False},
        SoftwareTokenMfaSettings={"Enabled": True},
    )
    step = await session_for(cognito, app).sign_in("eve", PASSWORD)
    assert isinstance(step, MfaSelectionRequired)
    assert step.options == ["SMS_MFA", "SOFTWARE_TOKEN_MFA"]
    chosen = await step.respond("SOFTWARE_TOKEN_MFA")
    assert isinstance(chosen, MfaCodeRequired) and chosen.kind == "TOTP"
    signed_in(await chosen.respond(local.totp_code("eve")))


async def test_remembered_device_skips_mfa_refreshes_and_can_be_forgotten(
    local: LocalUserPool, cognito: Any
) -> None:
    pool_id = await local.create_user_pool(mfa="ON", sms=True, totp=False, device_tracking="always")
    app = await local.create_app_client(pool_id)
    await local.create_user(pool_id, "finn", PASSWORD, attributes={"phone_number": "+15555550112"})
    session = session_for(cognito, app)
    step = await session.sign_in("finn", PASSWORD)
    assert isinstance(step, MfaCodeRequired)
    done = signed_in(await step.respond(local.last_code("finn")))
    assert done.new_device is not None
    device_key = await session.remember_device("test laptop")
    codes_sent = len(local.outbox)

    again = signed_in(await session.sign_in("finn", PASSWORD))  # device SRP, no MFA
    assert len(local.outbox) == codes_sent
    assert again.new_device is None and session.device_key == device_key
    devices = await cognito.admin_list_devices(UserPoolId=pool_id, Username="finn")
    assert [d["DeviceKey"] for d in devices["Devices"]] == [device_key]

    refreshed = await session.refresh()  # REFRESH_TOKEN_AUTH with DEVICE_KEY
    assert refreshed.device_key == device_key

    await session.forget_device()
    step = await session.sign_in("finn", PASSWORD)
    assert isinstance(step, MfaCodeRequired)  # a forgotten device no longer skips MFA


async def test_device_forgotten_by_an_admin_is_dropped_and_the_sign_in_retried(
    local: LocalUserPool, cognito: Any
) -> None:
    pool_id = await local.create_user_pool(device_tracking="opt-in")
    app = await local.create_app_client(pool_id)
    await local.create_user(pool_id, "gina", PASSWORD)
    session = session_for(cognito, app)
    signed_in(await session.sign_in("gina", PASSWORD))
    device_key = await session.remember_device()  # opt-in: ConfirmDevice + UpdateDeviceStatus
    described = await cognito.admin_get_device(UserPoolId=pool_id, Username="gina", DeviceKey=device_key)
    attributes = {a["Name"]: a["Value"] for a in described["Device"]["DeviceAttributes"]}
    assert attributes["dev:device_remembered_status"] == "remembered"
    await cognito.admin_forget_device(UserPoolId=pool_id, Username="gina", DeviceKey=device_key)
    again = signed_in(await session.sign_in("gina", PASSWORD))
    assert again.new_device is not None and again.new_device.device_key != device_key


async def test_rotation_and_sign_out(local: LocalUserPool, cognito: Any) -> None:
    pool_id = await local.create_user_pool()
    app = await local.create_app_client(pool_id, rotation=True)
    await local.create_user(pool_id, "hugo", PASSWORD)
    session = session_for(cognito, app, refresh_token_rotation=True)
    first = signed_in(await session.sign_in("hugo", PASSWORD)).tokens
    second = await session.refresh()
    assert second.refresh_token and second.refresh_token != first.refresh_token
    with pytest.raises(errors.RefreshTokenReuseException):
        await cognito.get_tokens_from_refresh_token(RefreshToken=first.refresh_token, ClientId=app.client_id)
    access = await session.access_token()
    await session.sign_out(everywhere=True)
    with pytest.raises(errors.NotAuthorizedException, match="revoked"):
        await cognito.get_user(AccessToken=access)
    with pytest.raises(SignInRequired):
        await session.access_token()


@pytest.mark.parametrize("rotation", [True, False])
async def test_refresh_needs_no_rotation_setting(local: LocalUserPool, cognito: Any, rotation: bool) -> None:
    """A session made with no rotation argument refreshes on clients with and without rotation: twice,
    each refresh token replacing the last in the token store when the client rotates, then signs out."""
    pool_id = await local.create_user_pool()
    app = await local.create_app_client(pool_id, rotation=rotation, secret=True)
    await local.create_user(pool_id, "hana", PASSWORD)
    store = MemoryTokenStore()
    session = session_for(cognito, app, token_store=store)
    tokens = [signed_in(await session.sign_in("hana", PASSWORD)).tokens]
    for _ in range(2):
        tokens.append(await session.refresh())
        saved = await store.load(f"{pool_id}:{app.client_id}:hana")
        assert saved is not None and saved["tokens"]["refresh_token"] == tokens[-1].refresh_token
    refresh_tokens = [t.refresh_token for t in tokens]
    access_tokens = {t.access_token for t in tokens}
    assert len(access_tokens) == 3
    if rotation:
        assert len(set(refresh_tokens)) == 3  # a new one each time
        with pytest.raises(errors.RefreshTokenReuseException):
            await cognito.get_tokens_from_refresh_token(
                RefreshToken=refresh_tokens[0], ClientId=app.client_id, ClientSecret=app.client_secret
            )
    else:
        assert len(set(refresh_tokens)) == 1  # kept: Cognito sends none back without rotation
    # a restored session refreshes the same way, with no setting either
    restored = session_for(cognito, app, token_store=store)
    assert await restored.load("hana")
    last = await restored.refresh()
    assert last.access_token not in access_tokens
    await restored.sign_out()  # RevokeToken: the refresh token is dead at the pool, and gone from the store
    assert await store.load(f"{pool_id}:{app.client_id}:hana") is None
    with pytest.raises(errors.NotAuthorizedException):
        await cognito.get_tokens_from_refresh_token(
            RefreshToken=last.refresh_token, ClientId=app.client_id, ClientSecret=app.client_secret
        )


async def test_sign_out_revokes_the_refresh_token(local: LocalUserPool, cognito: Any) -> None:
    pool_id = await local.create_user_pool()
    app = await local.create_app_client(pool_id)
    await local.create_user(pool_id, "ivy", PASSWORD)
    session = session_for(cognito, app)
    tokens = signed_in(await session.sign_in("ivy", PASSWORD)).tokens
    await session.sign_out()
    with pytest.raises(errors.NotAuthorizedException):
        await cognito.initiate_auth(
            ClientId=app.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens.refresh_token},
        )


async def test_expired_challenge_session_means_sign_in_again(local: LocalUserPool, cognito: Any) -> None:
    pool_id = await local.create_user_pool()
    app = await local.create_app_client(pool_id)
    await local.create_user(pool_id, "jack", PASSWORD, temporary=True)
    step = await session_for(cognito, app).sign_in("jack", PASSWORD)
    assert isinstance(step, NewPasswordRequired)
    local.advance_clock(181)
    with pytest.raises(SessionExpiredError):
        await step.respond(NEW_PASSWORD)


async def test_custom_auth_and_user_auth(local: LocalUserPool, cognito: Any) -> None:
    pool_id = await local.create_user_pool(
        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}}
    )
    app = await local.create_app_client(
        pool_id, flows=("ALLOW_CUSTOM_AUTH", "ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH")
    )
    await local.create_user(pool_id, "kim", PASSWORD, attributes={"email": "kim@example.com"})

    step = await session_for(cognito, app).sign_in("kim", flow="CUSTOM_AUTH")
    assert isinstance(step, CustomChallenge)
    signed_in(await step.respond(local.last_code("kim", purpose="CUSTOM_CHALLENGE")))

    step = await session_for(cognito, app).sign_in("kim", PASSWORD, flow="CUSTOM_AUTH", custom_srp=True)
    assert isinstance(step, CustomChallenge)  # SRP first, then the custom challenge
    signed_in(await step.respond(local.last_code("kim", purpose="CUSTOM_CHALLENGE")))

    step = await session_for(cognito, app).sign_in("kim", flow="USER_AUTH")
    assert isinstance(step, ChallengeSelectionRequired)
    assert step.available == ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"]
    signed_in(await step.respond("PASSWORD_SRP", PASSWORD))

    step = await session_for(cognito, app).sign_in("kim", flow="USER_AUTH", preferred_challenge="EMAIL_OTP")
    assert isinstance(step, MfaCodeRequired) and step.kind == "EMAIL"
    signed_in(await step.respond(local.last_code("kim", purpose="EMAIL_OTP")))


async def test_admin_password_flow(local: LocalUserPool, cognito: Any) -> None:
    pool_id = await local.create_user_pool()
    app = await local.create_app_client(pool_id, flows=("ALLOW_ADMIN_USER_PASSWORD_AUTH",))
    await local.create_user(pool_id, "lena", PASSWORD)
    session = session_for(cognito, app, admin=True)
    signed_in(await session.sign_in("lena", PASSWORD, flow="ADMIN_USER_PASSWORD_AUTH"))
    with pytest.raises(errors.NotAuthorizedException):
        await session_for(cognito, app, admin=True).sign_in(
            "lena", "Wr0ng-pass!", flow="ADMIN_USER_PASSWORD_AUTH"
        )


async def test_a_session_carries_on_with_tokens_it_did_not_sign_in_for(
    local: LocalUserPool, cognito: Any
) -> None:
    """use_tokens(): a bearer token alone serves the account calls; a whole token set also refreshes."""
    import time

    from aiocognito import TokenSet

    pool_id = await local.create_user_pool()
    app = await local.create_app_client(pool_id)
    await local.create_user(pool_id, "otto", PASSWORD)
    signed = signed_in(await session_for(cognito, app).sign_in("otto", PASSWORD)).tokens

    bearer = TokenSet.from_access_token(
        signed.access_token, wall_now=time.time(), monotonic_now=time.monotonic()
    )
    assert 0 < bearer.expires_in <= 3600 and bearer.username == "otto" and bearer.refresh_token is None
    by_bearer = session_for(cognito, app)
    await by_bearer.use_tokens(bearer)
    assert await by_bearer.access_token() == signed.access_token and by_bearer.username == "otto"
    await by_bearer.update_attributes({"given_name": "Otto"})
    user = await cognito.admin_get_user(UserPoolId=pool_id, Username="otto")
    assert {"Name": "given_name", "Value": "Otto"} in user["UserAttributes"]
    with pytest.raises(SignInRequired, match="no ID token"):
        await by_bearer.id_token()
    with pytest.raises(SignInRequired):
        await by_bearer.refresh()  # no refresh token came with a bearer token

    whole = session_for(cognito, app)
    await whole.use_tokens(signed)
    assert (await whole.refresh()).access_token != signed.access_token

    with pytest.raises(ValueError, match="exp"):
        TokenSet.from_access_token(signed.access_token, wall_now=time.time() + 7200, monotonic_now=0.0)
    nameless = TokenSet(
        id_token="",
        access_token="h.e30.s",
        refresh_token=None,
        expires_in=60,
        received_at=0,
        received_monotonic=0,
    )  # a JWT whose claims are {}: no username
    with pytest.raises(errors.ParamValidationError, match="username"):
        await session_for(cognito, app).use_tokens(nameless)
