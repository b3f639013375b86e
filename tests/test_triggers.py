"""The user's Lambda triggers, as Python callables, run by the local pool where Cognito runs them.

Every test goes over the wire with the project's client and ``Session`` against a real ``LocalUserPool``
whose triggers are ``tests/trigger_module.py`` (the user's module): custom auth with three questions after
SRP, pre token generation (V1_0 and V2_0) seen in verified tokens, user migration on first sign-in and in
the forgot-password flow, pre sign-up auto-confirmation, custom messages in the outbox, a raising trigger,
a slow one, one that returns nothing, and ``aiocognito local --triggers`` in a subprocess.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trigger_module
from trigger_module import EVENTS, TRIGGERS

import aiocognito
from aiocognito import RetryPolicy, Session, TokenVerifier, errors
from aiocognito.testing import AppClient, LocalUserPool

PASSWORD = "Passw0rd!"
ROOT = Path(__file__).resolve().parent.parent
ARN = "arn:aws:lambda:us-east-1:123456789012:function:pre-token"
TIMEOUT_MESSAGE = "invocation failed due to error Socket timeout while invoking Lambda function."


@pytest.fixture
async def local() -> AsyncIterator[LocalUserPool]:
    trigger_module.reset()
    async with LocalUserPool(triggers=TRIGGERS) as pool:
        yield pool


@pytest.fixture
async def cognito(local: LocalUserPool) -> AsyncIterator[Any]:
    async with local.client(retries=RetryPolicy(max_attempts=1)) as client:
        yield client


def session_for(cognito: Any, app: AppClient) -> Session:
    return cognito.session(user_pool_id=app.user_pool_id, client_id=app.client_id)  # type: ignore[no-any-return]


def events(source: str) -> list[dict[str, Any]]:
    return [event for name, event in EVENTS if name == source]


async def verified(local: LocalUserPool, app: AppClient, session: Session, **checks: Any) -> tuple[Any, Any]:
    """The claims of the session's access token (with ``checks``, e.g. ``scopes``) and ID token, verified."""
    pool_id = app.user_pool_id
    where = {"jwks_url": local.jwks_url(pool_id), "issuer": local.issuer(pool_id)}
    async with TokenVerifier(pool_id, client_ids=app.client_id, **where, **checks) as verifier:
        access = await verifier.verify(await session.access_token(), "access")
    async with TokenVerifier(pool_id, client_ids=app.client_id, **where) as verifier:
        return access, await verifier.verify(await session.id_token(), "id")


# ----- custom authentication ---------------------------------------------------------------------------
async def test_custom_auth_asks_three_questions_after_the_password(
    local: LocalUserPool, cognito: Any
) -> None:
    pool_id = await local.create_user_pool()
    flows = ("ALLOW_CUSTOM_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
    app = await local.create_app_client(pool_id, flows=flows)
    await local.create_user(pool_id, "quinn", PASSWORD, attributes={"email": "quinn@example.com"})
    session = session_for(cognito, app)
    step = await session.sign_in(
        "quinn", PASSWORD, flow="CUSTOM_AUTH", custom_srp=True, client_metadata={"app": "web"}
    )
    asked = []
    for answer in ("Green ", "rex", "biscuit", "Lisbon"):
        assert isinstance(step, aiocognito.CustomChallenge), step
        assert set(step.parameters) == {"USERNAME", "question", "number"}  # never the private answer
        asked.append((step.parameters["number"], step.parameters["question"]))
        step = await step.respond(answer)
    assert isinstance(step, aiocognito.SignedIn)
    assert [n for n, _ in asked] == ["1", "2", "2", "3"]  # the wrong answer was asked again
    assert asked[0][1] == "What colour is the front door?"

    defines = events("DefineAuthChallenge_Authentication")
    history = [
        (s["challengeName"], s["challengeResult"], s["challengeMetadata"])
        for s in defines[-1]["request"]["session"]
    ]
    assert history == [
        ("SRP_A", True, None),
        ("PASSWORD_VERIFIER", True, None),
        ("CUSTOM_CHALLENGE", True, "COLOUR"),
        ("CUSTOM_CHALLENGE", False, "PET"),
        ("CUSTOM_CHALLENGE", True, "PET"),
        ("CUSTOM_CHALLENGE", True, "CITY"),
    ]
    assert [len(e["request"]["session"]) for e in defines] == [1, 2, 3, 4, 5, 6]
    first = defines[0]
    assert (first["version"], first["triggerSource"], first["region"]) == (
        "1",
        "DefineAuthChallenge_Authentication",
        "us-east-1",
    )
    assert (first["userPoolId"], first["userName"]) == (pool_id, "quinn")
    assert first["callerContext"]["clientId"] == app.client_id and first["callerContext"]["awsSdkVersion"]
    assert first["request"]["userAttributes"]["email"] == "quinn@example.com"
    assert first["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"
    assert "clientMetadata" not in first["request"]  # InitiateAuth's ClientMetadata is not passed on
    verify = events("VerifyAuthChallengeResponse_Authentication")[1]
    assert verify["request"]["privateChallengeParameters"] == {"answer": "biscuit"}
    assert verify["request"]["challengeAnswer"] == "rex" and verify["request"]["clientMetadata"] == {
        "app": "web"
    }
    assert events("CreateAuthChallenge_Authentication")[0]["request"]["challengeName"] == "CUSTOM_CHALLENGE"
    assert events("PreAuthentication_Authentication")[0]["request"]["validationData"] == {"app": "web"}
    assert trigger_module.SIGNED_IN == ["quinn"]
    access, identity = await verified(local, app, session)
    assert access["username"] == "quinn" and identity["cognito:username"] == "quinn"


async def test_custom_auth_fails_after_two_wrong_answers_and_for_unknown_users(
    local: LocalUserPool, cognito: Any
) -> None:
    pool_id = await local.create_user_pool()
    app = await local.create_app_client(
        pool_id, flows=("ALLOW_CUSTOM_AUTH",), PreventUserExistenceErrors="ENABLED"
    )
    await local.create_user(pool_id, "rosa", PASSWORD)
    session = session_for(cognito, app)
    step = await session.sign_in("rosa", flow="CUSTOM_AUTH")  # no password first: questions only
    assert events("DefineAuthChallenge_Authentication")[0]["request"]["session"] == []
    assert isinstance(step, aiocognito.CustomChallenge)
    step = await step.respond("blue")
    assert isinstance(step, aiocognito.CustomChallenge) and step.parameters["number"] == "1"
    with pytest.raises(errors.NotAuthorizedException, match="Incorrect username or password"):
        await step.respond("purple")

    trigger_module.reset()
    with pytest.raises(errors.NotAuthorizedException, match="Incorrect username or password"):
        await session.sign_in("nobody", flow="CUSTOM_AUTH")
    (unknown,) = events("DefineAuthChallenge_Authentication")
    assert unknown["request"]["userNotFound"] is True and unknown["userName"] == "nobody"
    assert unknown["request"]["userAttributes"] == {}


# ----- pre token generation ----------------------------------------------------------------------------
async def test_pre_token_generation_v2_adds_a_claim_and_a_scope_to_verified_tokens(
    local: LocalUserPool, cognito: Any
) -> None:
    pool_id = await local.create_user_pool(
        LambdaConfig={"PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": ARN}}
    )
    app = await local.create_app_client(pool_id)
    await local.create_user(pool_id, "alice", PASSWORD, attributes={"email": "alice@example.com"})
    session = session_for(cognito, app)
    assert isinstance(await session.sign_in("alice", PASSWORD), aiocognito.SignedIn)
    access, identity = await verified(local, app, session, scopes="orders/read")
    assert access["scope"].split() == ["aws.cognito.signin.user.admin", "orders/read"]
    assert access["tenant"] == "acme" and access["plan"] == {"tier": "gold", "seats": 5}
    assert identity["tenant"] == "acme" and identity["email"] == "alice@example.com"
    assert access["username"] == "alice" and access["client_id"] == app.client_id  # Cognito's own stay

    (event,) = events("TokenGeneration_Authentication")
    assert event["version"] == "2" and event["request"]["scopes"] == ["aws.cognito.signin.user.admin"]
    assert event["request"]["groupConfiguration"] == {
        "groupsToOverride": [],
        "iamRolesToOverride": [],
        "preferredRole": None,
    }
    await session.refresh()  # the trigger runs again for refreshed tokens
    assert len(events("TokenGeneration_RefreshTokens")) == 1
    access, _ = await verified(local, app, session, scopes="orders/read")
    assert access["tenant"] == "acme"


async def test_pre_token_generation_v1_changes_the_id_token_and_the_groups(
    local: LocalUserPool, cognito: Any
) -> None:
    pool_id = await local.create_user_pool()  # no PreTokenGenerationConfig: V1_0
    app = await local.create_app_client(pool_id)
    await local.create_user(pool_id, "alice", PASSWORD, attributes={"email": "alice@example.com"})
    role = "arn:aws:iam::123456789012:role/admins"
    await cognito.create_group(GroupName="admins", UserPoolId=pool_id, RoleArn=role, Precedence=1)
    await cognito.admin_add_user_to_group(UserPoolId=pool_id, Username="alice", GroupName="admins")
    session = session_for(cognito, app)
    assert isinstance(await session.sign_in("alice", PASSWORD), aiocognito.SignedIn)
    access, identity = await verified(local, app, session)
    assert identity["tenant"] == "acme" and "email" not in identity
    assert identity["cognito:groups"] == access["cognito:groups"] == ["readers"]
    assert "cognito:roles" not in identity and "tenant" not in access  # V1_0: the ID token only
    (event,) = events("TokenGeneration_Authentication")
    assert event["version"] == "1" and "scopes" not in event["request"]
    assert event["request"]["groupConfiguration"] == {
        "groupsToOverride": ["admins"],
        "iamRolesToOverride": [role],
        "preferredRole": role,
    }


async def test_a_function_bound_by_arn_runs_where_the_pool_names_it() -> None:
    seen: list[str] = []

    def tag(event: dict[str, Any]) -> dict[str, Any]:
        seen.append(event["userPoolId"])
        event["response"]["claimsOverrideDetails"] = {"claimsToAddOrOverride": {"pool": "tagged"}}
        return event

    async with LocalUserPool(triggers={ARN: tag}) as local, local.client() as cognito:
        named = await local.create_user_pool(LambdaConfig={"PreTokenGeneration": ARN})
        plain = await local.create_user_pool()
        for pool_id in (named, plain):
            app = await local.create_app_client(pool_id)
            await local.create_user(pool_id, "alice", PASSWORD)
            session = session_for(cognito, app)
            assert isinstance(await session.sign_in("alice", PASSWORD), aiocognito.SignedIn)
            _, identity = await verified(local, app, session)
            assert identity.get("pool") == ("tagged" if pool_id == named else None)
        assert seen == [named]

        # one pool's own triggers, and one that does not give the event back
        local.set_triggers(plain, {"PreAuthentication": lambda event: None})
        with pytest.raises(errors.InvalidLambdaResponseException) as unrecognizable:
            await session.sign_in("alice", PASSWORD)
        assert unrecognizable.value.message == "Unrecognizable lambda output"


# ----- user migration -----------------------------------------------------------------------------------
async def test_user_migration_brings_a_legacy_user_in_then_srp_works_without_the_trigger(
    local: LocalUserPool, cognito: Any
) -> None:
    pool_id = await local.create_user_pool()
    flows = ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
    app = await local.create_app_client(pool_id, flows=flows)
    session = session_for(cognito, app)
    legacy_password = trigger_module.LEGACY_USERS["legacy-larry"]["password"]

    with pytest.raises(errors.UserNotFoundException):  # SRP hides the password: no migration
        await session.sign_in("legacy-larry", legacy_password)
    assert not events("UserMigration_Authentication")
    with pytest.raises(errors.UserLambdaValidationException) as refused:
        await session.sign_in("legacy-larry", "Not-the-passw0rd!", flow="USER_PASSWORD_AUTH")
    assert refused.value.message == "UserMigration failed with error Bad password."
    with pytest.raises(errors.UserNotFoundException) as unknown:
        await session.sign_in("stranger", PASSWORD, flow="USER_PASSWORD_AUTH")
    assert unknown.value.message == f"Exception migrating user in app client {app.client_id}"

    step = await session.sign_in(
        "legacy-larry", legacy_password, flow="USER_PASSWORD_AUTH", client_metadata={"from": "legacy"}
    )
    assert isinstance(step, aiocognito.SignedIn)
    event = events("UserMigration_Authentication")[-1]
    assert event["userName"] == "legacy-larry" and event["callerContext"]["clientId"] == app.client_id
    assert event["request"]["validationData"] == {"from": "legacy"}
    user = await cognito.admin_get_user(UserPoolId=pool_id, Username="legacy-larry")
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert user["UserStatus"] == "CONFIRMED" and attributes["email"] == "larry@example.com"
    assert attributes["email_verified"] == "true"
    assert not local.messages("legacy-larry")  # messageAction SUPPRESS: no welcome message

    local.set_triggers(None, {k: v for k, v in TRIGGERS.items() if k != "UserMigration"})
    again = session_for(cognito, app)
    assert isinstance(await again.sign_in("legacy-larry", legacy_password), aiocognito.SignedIn)  # SRP
    access, _ = await verified(local, app, again)
    assert access["username"] == "legacy-larry"


async def test_user_migration_in_the_forgot_password_flow(local: LocalUserPool, cognito: Any) -> None:
    pool_id = await local.create_user_pool()
    app = await local.create_app_client(pool_id)
    session = session_for(cognito, app)
    delivery = await session.forgot_password("legacy-lena")
    assert delivery.medium == "EMAIL"
    (event,) = events("UserMigration_ForgotPassword")
    assert "password" not in event["request"] and event["userName"] == "legacy-lena"
    user = await cognito.admin_get_user(UserPoolId=pool_id, Username="legacy-lena")
    assert user["UserStatus"] == "RESET_REQUIRED"
    (message,) = local.messages("legacy-lena", purpose="FORGOT_PASSWORD")
    assert message.message == f"Someone asked to reset your Acme password. The code is {message.code}."
    await session.confirm_forgot_password("legacy-lena", message.code, "Brand-new-Passw0rd!")
    assert trigger_module.CONFIRMED == ["legacy-lena"]
    assert events("PostConfirmation_ConfirmForgotPassword")[0]["request"]["userAttributes"]["email"] == (
        "lena@example.com"
    )
    assert isinstance(await session.sign_in("legacy-lena", "Brand-new-Passw0rd!"), aiocognito.SignedIn)


# ----- sign-up, messages, failures ---------------------------------------------------------------------
async def test_pre_sign_up_auto_confirms_and_custom_messages_reach_the_outbox(
    local: LocalUserPool, cognito: Any
) -> None:
    pool_id = await local.create_user_pool(AutoVerifiedAttributes=["email"])
    app = await local.create_app_client(pool_id)
    session = session_for(cognito, app)
    result = await session.sign_up("sam", PASSWORD, attributes={"email": "sam@example.com"})
    assert result.user_confirmed and result.code_delivery is None
    user = await cognito.admin_get_user(UserPoolId=pool_id, Username="sam")
    assert user["UserStatus"] == "CONFIRMED"
    assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]
    (event,) = events("PreSignUp_SignUp")
    assert event["request"]["userAttributes"] == {"email": "sam@example.com"}
    assert event["request"]["validationData"] is None and event["callerContext"]["clientId"] == app.client_id
    assert event["response"] == {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False}
    assert trigger_module.CONFIRMED == ["sam"] and not local.messages("sam")
    assert isinstance(await session.sign_in("sam", PASSWORD), aiocognito.SignedIn)

    result = await session.sign_up("olga", PASSWORD, attributes={"email": "olga@elsewhere.example"})
    assert not result.user_confirmed
    (message,) = local.messages("olga", purpose="SIGN_UP")
    assert message.message == f"Welcome to Acme! Your code is {message.code}."
    custom = events("CustomMessage_SignUp")[0]["request"]
    assert custom["codeParameter"] == "{####}" and custom["usernameParameter"] is None
    await session.confirm_sign_up("olga", message.code)
    assert trigger_module.CONFIRMED == ["sam", "olga"]

    await cognito.admin_create_user(
        UserPoolId=pool_id,
        Username="theo",
        UserAttributes=[{"Name": "email", "Value": "theo@example.com"}],
        DesiredDeliveryMediums=["EMAIL"],
    )
    (invitation,) = local.messages("theo", purpose="TEMPORARY_PASSWORD")
    assert invitation.message == f"Welcome aboard, theo! Your temporary password: {invitation.code}"
    (created,) = events("PreSignUp_AdminCreateUser")
    assert created["callerContext"]["clientId"] == "CLIENT_ID_NOT_APPLICABLE"
    theo = await cognito.admin_get_user(UserPoolId=pool_id, Username="theo")
    assert theo["UserStatus"] == "FORCE_CHANGE_PASSWORD"  # the flags are ignored for AdminCreateUser
    assert repr(invitation).count(invitation.code) == 0  # the text carries the password: not in the repr


async def test_a_raising_trigger_gives_user_lambda_validation_exception(
    local: LocalUserPool, cognito: Any
) -> None:
    pool_id = await local.create_user_pool()
    app = await local.create_app_client(pool_id)
    session = session_for(cognito, app)
    with pytest.raises(errors.UserLambdaValidationException) as refused:
        await session.sign_up("mallory", PASSWORD, attributes={"email": "mallory@blocked.example"})
    assert (
        refused.value.message == "PreSignUp failed with error Sign-ups from blocked.example are not allowed."
    )
    with pytest.raises(errors.UserNotFoundException):  # the sign-up was undone
        await cognito.admin_get_user(UserPoolId=pool_id, Username="mallory")

    await local.create_user(pool_id, "betty", PASSWORD)
    with pytest.raises(errors.UserLambdaValidationException) as denied:
        await session.sign_in("betty", PASSWORD)
    assert denied.value.message == "PreAuthentication failed with error Betty may not sign in today."
    assert trigger_module.SIGNED_IN == []


async def test_a_trigger_slower_than_five_seconds_fails_as_a_lambda_timeout(
    local: LocalUserPool, cognito: Any
) -> None:
    pool_id = await local.create_user_pool()
    app = await local.create_app_client(pool_id)
    await local.create_user(pool_id, "slowpoke", PASSWORD)
    started = time.monotonic()
    with pytest.raises(errors.UnexpectedLambdaException) as timed_out:
        await session_for(cognito, app).sign_in("slowpoke", PASSWORD)
    assert 5.0 <= time.monotonic() - started < 7.5
    assert timed_out.value.message == f"PreAuthentication {TIMEOUT_MESSAGE}"
    await local.create_user(pool_id, "alice", PASSWORD)  # the pool goes on answering
    assert isinstance(await session_for(cognito, app).sign_in("alice", PASSWORD), aiocognito.SignedIn)


async def test_every_code_message_is_written_by_the_custom_message_trigger(
    local: LocalUserPool, cognito: Any
) -> None:
    pool_id = await local.create_user_pool(AutoVerifiedAttributes=["email"], mfa="OPTIONAL", email_mfa=True)
    app = await local.create_app_client(pool_id)
    session = session_for(cognito, app)
    await session.sign_up("olga", PASSWORD, attributes={"email": "olga@elsewhere.example"})
    await session.resend_confirmation_code("olga")
    resent = local.messages("olga", purpose="SIGN_UP")[-1]
    assert resent.message == f"Welcome to Acme! Your code is {resent.code}."
    await session.confirm_sign_up("olga", resent.code)
    assert isinstance(await session.sign_in("olga", PASSWORD), aiocognito.SignedIn)
    for delivery in await session.update_attributes({"email": "olga@new.example"}):
        await session.verify_attribute(
            delivery.attribute, local.last_code("olga", purpose="VERIFY_ATTRIBUTE")
        )
    await cognito.get_user_attribute_verification_code(
        AccessToken=await session.access_token(), AttributeName="email"
    )
    await cognito.admin_set_user_mfa_preference(
        UserPoolId=pool_id, Username="olga", EmailMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    step = await session_for(cognito, app).sign_in("olga", PASSWORD)
    assert isinstance(step, aiocognito.MfaCodeRequired)
    (mfa,) = local.messages("olga", purpose="EMAIL_OTP")
    assert (
        mfa.message == f"Welcome to Acme! Your code is {mfa.code}." and mfa.destination == "olga@new.example"
    )
    assert isinstance(await step.respond(mfa.code), aiocognito.SignedIn)
    sources = [name for name, _ in EVENTS if name.startswith("CustomMessage_")]
    assert sources == [
        "CustomMessage_SignUp",
        "CustomMessage_ResendCode",
        "CustomMessage_UpdateUserAttribute",
        "CustomMessage_VerifyUserAttribute",
        "CustomMessage_Authentication",
    ]

    def without_code(event: dict[str, Any]) -> dict[str, Any]:
        event["response"]["emailMessage"] = "Your code is on its way."
        return event

    local.set_triggers(pool_id, {"CustomMessage": without_code})
    with pytest.raises(errors.InvalidParameterException, match=r"emailBody.*\{####\}"):
        await session.forgot_password("olga")


async def test_a_plain_trigger_runs_in_a_thread_under_the_time_limit() -> None:
    def slow_sign_up(event: dict[str, Any]) -> dict[str, Any]:
        time.sleep(1.0)
        return event

    async with LocalUserPool(triggers={"PreSignUp": slow_sign_up}) as local, local.client() as cognito:
        local.triggers.timeout = 0.3  # a test may shorten Cognito's 5 seconds
        pool_id = await local.create_user_pool()
        app = await local.create_app_client(pool_id)
        started = time.monotonic()
        with pytest.raises(errors.UnexpectedLambdaException) as timed_out:
            await session_for(cognito, app).sign_up("sam", PASSWORD)
        assert time.monotonic() - started < 0.9 and timed_out.value.message == f"PreSignUp {TIMEOUT_MESSAGE}"
        local.triggers.timeout = 5.0
        assert (await session_for(cognito, app).sign_up("sam", PASSWORD)).user_sub


# ----- aiocognito local --triggers ----------------------------------------------------------------------
CONSOLE_SCRIPT = Path(sys.executable).with_name("aiocognito")


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    return env


async def _banner(process: asyncio.subprocess.Process) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or not lines[-1].startswith("Ready"):
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        assert line, "aiocognito local stopped before its banner was complete:\n" + "\n".join(lines)
        lines.append(line.decode().rstrip("\n"))
    return lines


@pytest.mark.parametrize("spec", ["tests.trigger_module:TRIGGERS", "tests/trigger_module.py:TRIGGERS"])
async def test_aiocognito_local_serves_the_trigger_module(tmp_path: Path, spec: str) -> None:
    process = await asyncio.create_subprocess_exec(
        str(CONSOLE_SCRIPT), "local", "--port", "0", "--triggers", spec,
        cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=_env(tmp_path),
    )  # fmt: skip
    try:
        lines = await _banner(process)
        assert f"Lambda triggers from {spec}: {', '.join(sorted(TRIGGERS))}" in lines
        url = lines[0].split("listening on ")[1].split()[0]
        async with aiocognito.CognitoClient(
            region="us-east-1", endpoint_url=url, credentials=("AK", "SK")
        ) as cognito:
            pool_id = (await cognito.create_user_pool(PoolName="triggered"))["UserPool"]["Id"]
            client = await cognito.create_user_pool_client(
                UserPoolId=pool_id,
                ClientName="web",
                ExplicitAuthFlows=["ALLOW_CUSTOM_AUTH", "ALLOW_USER_SRP_AUTH"],
            )
            session = cognito.session(user_pool_id=pool_id, client_id=client["UserPoolClient"]["ClientId"])
            signed_up = await session.sign_up("quinn", PASSWORD, attributes={"email": "quinn@example.com"})
            assert signed_up.user_confirmed  # pre sign-up ran in the server process
            step = await session.sign_in("quinn", PASSWORD, flow="CUSTOM_AUTH", custom_srp=True)
            for answer in ("green", "biscuit", "lisbon"):
                assert isinstance(step, aiocognito.CustomChallenge), step
                step = await step.respond(answer)
            assert isinstance(step, aiocognito.SignedIn)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode in (0, 130)


async def test_aiocognito_local_names_a_bad_trigger_spec_in_one_line(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        str(CONSOLE_SCRIPT), "local", "--port", "0", "--triggers", "tests.trigger_module:NOPE",
        cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=_env(tmp_path),
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode not in (0, None) and not out
    assert err.decode().strip().splitlines() == [
        "aiocognito: error: --triggers tests.trigger_module:NOPE: tests.trigger_module has no NOPE"
    ]
