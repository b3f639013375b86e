"""The local user pool is strict where moto is not: real SRP, sessions, SECRET_HASH, codes, devices, tokens.

These tests speak the raw protocol (the client's operation methods plus ``aiocognito._signin.srp``), so they test
the pool, not the sign-in state machine (that is tests/test_signin_local.py).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import sys
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from aiocognito import CognitoClient, CognitoError, ConnectionFailedError, RetryPolicy, errors
from aiocognito._signin import srp as _srp
from aiocognito._tokens.verifier import TokenVerifier
from aiocognito.testing import AppClient, FaultPlan, LocalUserPool
from aiocognito.testing._rules import secret_hash
from aiocognito.testing._srp_server import timestamp_ok

PASSWORD = "Passw0rd!"
NO_RETRIES = RetryPolicy(max_attempts=1)


# ----- raw protocol helpers --------------------------------------------------------------------------------
def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def pool_timestamp(local: LocalUserPool) -> str:
    """A TIMESTAMP for the pool's clock (after ``advance_clock``)."""
    return _srp.format_timestamp(datetime.fromtimestamp(local.now(), timezone.utc))


async def start_srp(
    cognito: CognitoClient,
    app: AppClient,
    username: str,
    *,
    device_key: str | None = None,
    secret_hash_over: str | None = None,
) -> tuple[_srp.Ephemeral, dict[str, Any]]:
    ephemeral = _srp.new_ephemeral()
    auth = {"USERNAME": username, "SRP_A": ephemeral.srp_a}
    if device_key:
        auth["DEVICE_KEY"] = device_key
    if app.client_secret:
        auth["SECRET_HASH"] = secret_hash(app.client_secret, secret_hash_over or username, app.client_id)
    response = await cognito.initiate_auth(
        ClientId=app.client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=auth
    )
    return ephemeral, dict(response)


def verifier_answer(
    app: AppClient,
    ephemeral: _srp.Ephemeral,
    params: Mapping[str, str],
    password: str,
    *,
    timestamp: str | None = None,
    username: str | None = None,
    device_key: str | None = None,
) -> dict[str, str]:
    timestamp = timestamp or _srp.format_timestamp(now_utc())
    user_id = params["USER_ID_FOR_SRP"]
    signature = _srp.password_signature(
        srp_pool_name=_srp.pool_name_of(app.user_pool_id),
        srp_user_id=user_id,
        password=password,
        ephemeral=ephemeral,
        salt_hex=params["SALT"],
        srp_b_hex=params["SRP_B"],
        secret_block_b64=params["SECRET_BLOCK"],
        timestamp=timestamp,
    )
    answer = {
        "USERNAME": username or user_id,
        "PASSWORD_CLAIM_SIGNATURE": signature,
        "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
        "TIMESTAMP": timestamp,
    }
    if device_key:
        answer["DEVICE_KEY"] = device_key
    if app.client_secret:
        answer["SECRET_HASH"] = secret_hash(app.client_secret, answer["USERNAME"], app.client_id)
    return answer


async def respond(
    cognito: CognitoClient, app: AppClient, name: str, answer: dict[str, str], session: str | None = None
) -> Any:
    params: dict[str, Any] = {"ClientId": app.client_id, "ChallengeName": name, "ChallengeResponses": answer}
    if session:
        params["Session"] = session
    return await cognito.respond_to_auth_challenge(**params)


async def srp_sign_in(
    cognito: CognitoClient, app: AppClient, username: str, password: str = PASSWORD, **kwargs: Any
) -> dict[str, Any]:
    ephemeral, started = await start_srp(cognito, app, username, device_key=kwargs.get("device_key"))
    answer = verifier_answer(app, ephemeral, started["ChallengeParameters"], password, **kwargs)
    return await respond(cognito, app, "PASSWORD_VERIFIER", answer)  # type: ignore[no-any-return]


async def setup(
    local: LocalUserPool,
    *,
    users: tuple[str, ...] = ("alice",),
    client: dict[str, Any] | None = None,
    **pool: Any,
) -> AppClient:
    pool_id = await local.create_user_pool(**pool)
    app = await local.create_app_client(pool_id, **(client or {}))
    for name in users:
        await local.create_user(
            pool_id, name, PASSWORD, attributes={"email": f"{name}@example.com", "email_verified": "true"}
        )
    return app


async def all_users(local: LocalUserPool, pool_id: str) -> dict[str, dict[str, Any]]:
    """Every user of the pool by username (ListUsers, all pages, in-process)."""
    users: dict[str, dict[str, Any]] = {}
    params: dict[str, Any] = {"UserPoolId": pool_id}
    while True:
        page = await local.call("ListUsers", **params)
        users.update({u["Username"]: u for u in page["Users"]})
        if not page.get("PaginationToken"):
            return users
        params["PaginationToken"] = page["PaginationToken"]


async def expect(code: type[errors.ServiceError], call: Any, match: str | None = None) -> errors.ServiceError:
    with pytest.raises(code, match=match) as caught:
        await call
    return caught.value


def exactly(message: str) -> str:
    """A ``match`` for an error whose message is exactly ``message`` (str(error) ends with ": message")."""
    return ": " + re.escape(message) + "$"


# ----- SRP ---------------------------------------------------------------------------------------------------
async def test_srp_sign_in_gives_tokens_that_verify_against_the_local_jwks(
    local_user_pool: LocalUserPool,
) -> None:
    local = local_user_pool
    app = await setup(local)
    async with local.client(retries=NO_RETRIES) as cognito:
        ephemeral, started = await start_srp(cognito, app, "alice")
        assert started["ChallengeName"] == "PASSWORD_VERIFIER"
        assert "Session" not in started  # as measured on a real pool: the SECRET_BLOCK carries the state
        params = started["ChallengeParameters"]
        assert params["USER_ID_FOR_SRP"] == "alice"
        result = (
            await respond(
                cognito, app, "PASSWORD_VERIFIER", verifier_answer(app, ephemeral, params, PASSWORD)
            )
        )["AuthenticationResult"]
    assert result["TokenType"] == "Bearer" and result["ExpiresIn"] == 3600 and result["RefreshToken"]
    async with TokenVerifier(
        app.user_pool_id,
        client_ids=app.client_id,
        jwks_url=local.jwks_url(app.user_pool_id),
        issuer=local.issuer(app.user_pool_id),
    ) as verifier:
        access = await verifier.verify(result["AccessToken"], "access")
        identity = await verifier.verify(result["IdToken"], "id")
    assert local.issuer(app.user_pool_id) == f"{local.endpoint_url}/{app.user_pool_id}"
    assert access["username"] == "alice" and access["scope"] == "aws.cognito.signin.user.admin"
    assert identity["cognito:username"] == "alice" and identity["email"] == "alice@example.com"
    assert identity["email_verified"] is True and identity["sub"] == access["sub"]
    assert identity["origin_jti"] == access["origin_jti"]


async def test_wrong_password_is_rejected_in_srp_and_password_flows(local_user_pool: LocalUserPool) -> None:
    app = await setup(local_user_pool, client={"flows": ("ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH")})
    async with local_user_pool.client(retries=NO_RETRIES) as cognito:
        await expect(
            errors.NotAuthorizedException,
            srp_sign_in(cognito, app, "alice", "Wrong0ne!"),
            "Incorrect username or password",
        )
        await expect(
            errors.NotAuthorizedException,
            cognito.initiate_auth(
                ClientId=app.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "alice", "PASSWORD": "nope"},
            ),
            "Incorrect username or password",
        )
        ok = await cognito.initiate_auth(
            ClientId=app.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
        )
        assert ok["AuthenticationResult"]["AccessToken"]


async def test_tampered_signature_and_secret_block_are_rejected(local_user_pool: LocalUserPool) -> None:
    app = await setup(local_user_pool)
    async with local_user_pool.client(retries=NO_RETRIES) as cognito:
        ephemeral, started = await start_srp(cognito, app, "alice")
        answer = verifier_answer(app, ephemeral, started["ChallengeParameters"], PASSWORD)
        raw = bytearray(base64.b64decode(answer["PASSWORD_CLAIM_SIGNATURE"]))
        raw[0] ^= 1
        answer["PASSWORD_CLAIM_SIGNATURE"] = base64.b64encode(bytes(raw)).decode()
        await expect(
            errors.NotAuthorizedException, respond(cognito, app, "PASSWORD_VERIFIER", answer), "Incorrect"
        )

        ephemeral, started = await start_srp(cognito, app, "alice")
        answer = verifier_answer(app, ephemeral, started["ChallengeParameters"], PASSWORD)
        answer["PASSWORD_CLAIM_SECRET_BLOCK"] = base64.b64encode(b"x" * 96).decode()
        await expect(
            errors.NotAuthorizedException, respond(cognito, app, "PASSWORD_VERIFIER", answer), "Incorrect"
        )


def test_timestamp_rule_is_exact() -> None:
    when = datetime(2026, 3, 5, 9, 4, 11, tzinfo=timezone.utc)  # a Thursday
    now = when.timestamp()
    assert timestamp_ok("Thu Mar 5 09:04:11 UTC 2026", now)
    assert not timestamp_ok("Thu Mar 05 09:04:11 UTC 2026", now)  # zero-padded day
    assert not timestamp_ok("Wed Mar 5 09:04:11 UTC 2026", now)  # wrong weekday
    assert not timestamp_ok("Thu Mar 5 9:04:11 UTC 2026", now)  # unpadded hour
    assert not timestamp_ok("Thu Mar 5 09:04:11 GMT 2026", now)
    assert timestamp_ok("Thu Mar 5 09:08:11 UTC 2026", now)  # 4 minutes apart
    assert not timestamp_ok("Thu Mar 5 09:10:11 UTC 2026", now)  # 6 minutes apart
    assert not timestamp_ok("Thu Mar 5 08:58:11 UTC 2026", now)


def bad_timestamp(kind: str, now: float) -> str:
    good = _srp.format_timestamp(datetime.fromtimestamp(now, timezone.utc))
    if kind == "zero-padded day":
        assert " 5 " in good  # the pool's clock is on the 5th
        return good.replace(" 5 ", " 05 ")
    if kind == "wrong weekday":
        return ("Fri" if not good.startswith("Fri") else "Sat") + good[3:]
    shift = {"stale": -600, "future": 600}[kind]
    return _srp.format_timestamp(datetime.fromtimestamp(now + shift, timezone.utc))


@pytest.mark.parametrize("kind", ["zero-padded day", "wrong weekday", "stale", "future"])
async def test_bad_timestamps_fail_the_password_verifier(kind: str) -> None:
    # The pool's clock sits on a single-digit day, so a zero-padded day is a real mistake.
    base = datetime(2026, 3, 5, 9, 4, 11, tzinfo=timezone.utc).timestamp()
    started_at = time.time()
    async with LocalUserPool(clock=lambda: base + (time.time() - started_at)) as local:
        app = await setup(local)
        async with local.client(retries=NO_RETRIES) as cognito:
            good = _srp.format_timestamp(datetime.fromtimestamp(local.now(), timezone.utc))
            assert (await srp_sign_in(cognito, app, "alice", timestamp=good))["AuthenticationResult"]
            text = bad_timestamp(kind, local.now())
            assert text != good
            await expect(
                errors.NotAuthorizedException, srp_sign_in(cognito, app, "alice", timestamp=text), "Incorrect"
            )


# ----- SECRET_HASH, sessions ---------------------------------------------------------------------------------
async def test_secret_hash_is_checked_over_each_requests_username(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool(alias_attributes=["email"])
    app = await local.create_app_client(pool_id, secret=True)
    assert app.client_secret
    await local.create_user(
        pool_id, "alice", PASSWORD, attributes={"email": "alice@example.com", "email_verified": "true"}
    )
    async with local.client(retries=NO_RETRIES) as cognito:
        wrong = AppClient(app.user_pool_id, app.client_id, "not-the-secret")
        await expect(
            errors.NotAuthorizedException, start_srp(cognito, wrong, "alice"), "Unable to verify secret hash"
        )
        unsigned = AppClient(app.user_pool_id, app.client_id, None)
        await expect(
            errors.NotAuthorizedException, start_srp(cognito, unsigned, "alice"), "secret was not received"
        )
        # typed alias: InitiateAuth's hash over the alias, USER_ID_FOR_SRP is the username
        ephemeral, started = await start_srp(cognito, app, "alice@example.com")
        params = started["ChallengeParameters"]
        assert params["USER_ID_FOR_SRP"] == "alice"
        answer = verifier_answer(app, ephemeral, params, PASSWORD)
        answer["SECRET_HASH"] = secret_hash(
            app.client_secret, "alice@example.com", app.client_id
        )  # not this USERNAME
        await expect(
            errors.NotAuthorizedException, respond(cognito, app, "PASSWORD_VERIFIER", answer), "secret hash"
        )
        # the right hash: over the USERNAME sent in the same request
        ephemeral, started = await start_srp(cognito, app, "alice@example.com")
        ok = await respond(
            cognito,
            app,
            "PASSWORD_VERIFIER",
            verifier_answer(app, ephemeral, started["ChallengeParameters"], PASSWORD),
        )
        assert ok["AuthenticationResult"]["IdToken"]
        # the passthrough operations check it too (moto alone would not)
        await expect(
            errors.NotAuthorizedException,
            cognito.forgot_password(ClientId=app.client_id, Username="alice", SecretHash="bad"),
            "secret hash",
        )


async def test_sessions_are_single_use_bound_to_the_user_and_expire(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool()
    app = await local.create_app_client(pool_id)
    await local.create_user(pool_id, "alice", PASSWORD, temporary=True)
    await local.create_user(pool_id, "bob", PASSWORD, temporary=True)
    async with local.client(retries=NO_RETRIES) as cognito:
        # USER_SRP_AUTH: the SECRET_BLOCK works once
        ephemeral, started = await start_srp(cognito, app, "alice")
        answer = verifier_answer(app, ephemeral, started["ChallengeParameters"], PASSWORD)
        challenge = await respond(cognito, app, "PASSWORD_VERIFIER", answer)
        assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
        await expect(
            errors.NotAuthorizedException, respond(cognito, app, "PASSWORD_VERIFIER", answer), "Incorrect"
        )

        # alice's session answered as bob
        stolen = {"USERNAME": "bob", "NEW_PASSWORD": "N3w-passw0rd!"}
        await expect(
            errors.NotAuthorizedException,
            respond(cognito, app, "NEW_PASSWORD_REQUIRED", stolen, challenge["Session"]),
            exactly("Invalid session for the user."),
        )
        # ... which also used the session up
        mine = {"USERNAME": "alice", "NEW_PASSWORD": "N3w-passw0rd!"}
        await expect(
            errors.NotAuthorizedException,
            respond(cognito, app, "NEW_PASSWORD_REQUIRED", mine, challenge["Session"]),
            "only be used once",
        )

        # a session answered once cannot be answered again
        challenge = await srp_sign_in(cognito, app, "alice")
        done = await respond(cognito, app, "NEW_PASSWORD_REQUIRED", mine, challenge["Session"])
        assert done["AuthenticationResult"]
        await expect(
            errors.NotAuthorizedException,
            respond(cognito, app, "NEW_PASSWORD_REQUIRED", mine, challenge["Session"]),
        )

        # sessions expire after AuthSessionValidity (3 minutes)
        challenge = await srp_sign_in(cognito, app, "bob")
        local.advance_clock(181)
        late = {"USERNAME": "bob", "NEW_PASSWORD": "N3w-passw0rd!"}
        stale_answer = respond(cognito, app, "NEW_PASSWORD_REQUIRED", late, challenge["Session"])
        await expect(errors.NotAuthorizedException, stale_answer, "expired")


async def test_new_password_required_uses_json_strings_and_rejects_missing_attributes(
    local_user_pool: LocalUserPool,
) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool(required_attributes=("email", "name"))
    app = await local.create_app_client(pool_id)
    await local.create_user(
        pool_id, "carol", PASSWORD, temporary=True, attributes={"email": "carol@example.com"}
    )
    async with local.client(retries=NO_RETRIES) as cognito:
        challenge = await srp_sign_in(cognito, app, "carol")
        assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
        params = challenge["ChallengeParameters"]
        assert json.loads(params["requiredAttributes"]) == ["userAttributes.name"]
        assert json.loads(params["userAttributes"]) == {"email": "carol@example.com"}
        session = challenge["Session"]
        answer = {"USERNAME": "carol", "NEW_PASSWORD": "N3w-passw0rd!"}
        await expect(
            errors.InvalidParameterException,
            respond(cognito, app, "NEW_PASSWORD_REQUIRED", answer, session),
            "name is missing",
        )
        await expect(
            errors.InvalidPasswordException,
            respond(
                cognito,
                app,
                "NEW_PASSWORD_REQUIRED",
                {**answer, "NEW_PASSWORD": "short", "userAttributes.name": "C"},
                session,
            ),
        )
        echo = {**answer, "userAttributes.name": "Carol", "userAttributes.email_verified": "true"}
        await expect(
            errors.InvalidParameterException,
            respond(cognito, app, "NEW_PASSWORD_REQUIRED", echo, session),
            "email_verified",
        )
        # three invalid answers used the session up
        right = {**answer, "userAttributes.name": "Carol"}
        await expect(
            errors.NotAuthorizedException,
            respond(cognito, app, "NEW_PASSWORD_REQUIRED", right, session),
            "only be used once",
        )
        session = (await srp_sign_in(cognito, app, "carol"))["Session"]
        done = await respond(cognito, app, "NEW_PASSWORD_REQUIRED", right, session)
        assert done["AuthenticationResult"]["AccessToken"]
    user = await local.call("AdminGetUser", UserPoolId=pool_id, Username="carol")
    assert user["UserStatus"] == "CONFIRMED"
    assert {"Name": "name", "Value": "Carol"} in user["UserAttributes"]
    # the verifier follows moto's password: the new one works, the temporary one does not
    async with local.client(retries=NO_RETRIES) as cognito:
        assert (await srp_sign_in(cognito, app, "carol", "N3w-passw0rd!"))["AuthenticationResult"]
        await expect(errors.NotAuthorizedException, srp_sign_in(cognito, app, "carol", PASSWORD))


async def test_password_changed_through_moto_changes_the_verifier(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    app = await setup(local)
    await local.call(
        "AdminSetUserPassword",
        UserPoolId=app.user_pool_id,
        Username="alice",
        Password="Diff3rent!",
        Permanent=True,
    )
    async with local.client(retries=NO_RETRIES) as cognito:
        await expect(errors.NotAuthorizedException, srp_sign_in(cognito, app, "alice", PASSWORD))
        assert (await srp_sign_in(cognito, app, "alice", "Diff3rent!"))["AuthenticationResult"]


async def test_user_existence_errors_follow_the_client_setting(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool()
    legacy = await local.create_app_client(pool_id, "legacy")
    hidden = await local.create_app_client(pool_id, "hidden", PreventUserExistenceErrors="ENABLED")
    async with local.client(retries=NO_RETRIES) as cognito:
        await expect(errors.UserNotFoundException, start_srp(cognito, legacy, "nobody"))
        ephemeral, started = await start_srp(cognito, hidden, "nobody")
        params = started["ChallengeParameters"]
        again = (await start_srp(cognito, hidden, "nobody"))[1]["ChallengeParameters"]
        assert params["USER_ID_FOR_SRP"] == again["USER_ID_FOR_SRP"] != "nobody"  # stable, made up
        answer = verifier_answer(hidden, ephemeral, params, PASSWORD)
        await expect(
            errors.NotAuthorizedException, respond(cognito, hidden, "PASSWORD_VERIFIER", answer), "Incorrect"
        )


async def test_flows_must_be_enabled_on_the_client(local_user_pool: LocalUserPool) -> None:
    app = await setup(local_user_pool)  # SRP and refresh only
    async with local_user_pool.client(retries=NO_RETRIES) as cognito:
        await expect(
            errors.InvalidParameterException,
            cognito.initiate_auth(
                ClientId=app.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
            ),
            "USER_PASSWORD_AUTH flow not enabled",
        )


async def test_failed_passwords_lock_the_user_out(local_user_pool: LocalUserPool) -> None:
    app = await setup(local_user_pool, client={"flows": ("ALLOW_USER_PASSWORD_AUTH",)})

    def attempt(password: str) -> Any:
        return cognito.initiate_auth(
            ClientId=app.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": password},
        )

    async with local_user_pool.client(retries=NO_RETRIES) as cognito:
        for _ in range(5):
            await expect(errors.NotAuthorizedException, attempt("wrong"), "Incorrect")
        await expect(errors.NotAuthorizedException, attempt(PASSWORD), "Password attempts exceeded")
        local_user_pool.advance_clock(2)
        assert (await attempt(PASSWORD))["AuthenticationResult"]


# ----- MFA ---------------------------------------------------------------------------------------------------
async def test_sms_mfa_code_goes_to_the_outbox_and_a_wrong_code_can_be_retried(
    local_user_pool: LocalUserPool,
) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool(mfa="ON", sms=True, totp=False)
    app = await local.create_app_client(pool_id)
    await local.create_user(pool_id, "dave", PASSWORD, attributes={"phone_number": "+15555550123"})
    async with local.client(retries=NO_RETRIES) as cognito:
        challenge = await srp_sign_in(cognito, app, "dave")
        assert challenge["ChallengeName"] == "SMS_MFA"
        assert challenge["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == "+*******0123"
        message = local.outbox[-1]
        assert (message.kind, message.destination, message.purpose) == ("SMS", "+15555550123", "SMS_MFA")
        assert message.code not in repr(message)
        wrong = "000000" if message.code != "000000" else "111111"
        session = challenge["Session"]
        await expect(
            errors.CodeMismatchException,
            respond(cognito, app, "SMS_MFA", {"USERNAME": "dave", "SMS_MFA_CODE": wrong}, session),
        )
        done = await respond(
            cognito, app, "SMS_MFA", {"USERNAME": "dave", "SMS_MFA_CODE": message.code}, session
        )
        assert done["AuthenticationResult"]["AccessToken"]
        await expect(
            errors.NotAuthorizedException,
            respond(cognito, app, "SMS_MFA", {"USERNAME": "dave", "SMS_MFA_CODE": message.code}, session),
        )


async def test_totp_setup_in_flow_then_sign_in_rejects_a_reused_code(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    app = await setup(local, users=("erin",), mfa="ON")
    async with local.client(retries=NO_RETRIES) as cognito:
        challenge = await srp_sign_in(cognito, app, "erin")
        assert challenge["ChallengeName"] == "MFA_SETUP"
        assert json.loads(challenge["ChallengeParameters"]["MFAS_CAN_SETUP"]) == ["SOFTWARE_TOKEN_MFA"]
        # moto hands out tokens here; Cognito does not: nothing was set up yet
        await expect(
            errors.NotAuthorizedException,
            respond(cognito, app, "MFA_SETUP", {"USERNAME": "erin"}, challenge["Session"]),
        )

        challenge = await srp_sign_in(cognito, app, "erin")
        associated = await cognito.associate_software_token(Session=challenge["Session"])
        secret = associated["SecretCode"]
        assert len(secret) >= 16 and secret.isalnum()
        code = local.totp_code("erin", secret=secret)
        wrong = "000000" if code != "000000" else "111111"
        await expect(
            errors.EnableSoftwareTokenMFAException,
            cognito.verify_software_token(Session=associated["Session"], UserCode=wrong),
        )
        verified = await cognito.verify_software_token(Session=associated["Session"], UserCode=code)
        assert verified["Status"] == "SUCCESS"
        done = await respond(cognito, app, "MFA_SETUP", {"USERNAME": "erin"}, verified["Session"])
        assert done["AuthenticationResult"]["AccessToken"]

        challenge = await srp_sign_in(cognito, app, "erin")
        assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
        answer = {"USERNAME": "erin", "SOFTWARE_TOKEN_MFA_CODE": code}  # the code VerifySoftwareToken used
        await expect(
            errors.ExpiredCodeException,
            respond(cognito, app, "SOFTWARE_TOKEN_MFA", answer, challenge["Session"]),
            "used once",
        )
        fresh = {"USERNAME": "erin", "SOFTWARE_TOKEN_MFA_CODE": local.totp_code("erin")}
        done = await respond(cognito, app, "SOFTWARE_TOKEN_MFA", fresh, challenge["Session"])
        assert done["AuthenticationResult"]["AccessToken"]
        user = await cognito.get_user(AccessToken=done["AuthenticationResult"]["AccessToken"])
        assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]


async def test_select_mfa_type_offers_a_json_list(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool(mfa="OPTIONAL", sms=True, totp=True)
    app = await local.create_app_client(pool_id)
    await local.create_user(pool_id, "fay", PASSWORD, attributes={"phone_number": "+15555550199"})
    async with local.client(retries=NO_RETRIES) as cognito:
        tokens = (await srp_sign_in(cognito, app, "fay"))["AuthenticationResult"]  # optional MFA, none set up
        associated = await cognito.associate_software_token(AccessToken=tokens["AccessToken"])
        await cognito.verify_software_token(
            AccessToken=tokens["AccessToken"],
            UserCode=local.totp_code("fay", secret=associated["SecretCode"]),
        )
        await cognito.set_user_mfa_preference(
            AccessToken=tokens["AccessToken"],
            SMSMfaSettings={"Enabled": True},
            SoftwareTokenMfaSettings={"Enabled": True},
        )
        challenge = await srp_sign_in(cognito, app, "fay")
        assert challenge["ChallengeName"] == "SELECT_MFA_TYPE"
        assert json.loads(challenge["ChallengeParameters"]["MFAS_CAN_CHOOSE"]) == [
            "SMS_MFA",
            "SOFTWARE_TOKEN_MFA",
        ]
        chosen = await respond(
            cognito, app, "SELECT_MFA_TYPE", {"USERNAME": "fay", "ANSWER": "SMS_MFA"}, challenge["Session"]
        )
        assert chosen["ChallengeName"] == "SMS_MFA"
        done = await respond(
            cognito,
            app,
            "SMS_MFA",
            {"USERNAME": "fay", "SMS_MFA_CODE": local.last_code("fay")},
            chosen["Session"],
        )
        assert done["AuthenticationResult"]


async def test_custom_auth_with_a_configured_challenge(local_user_pool: LocalUserPool) -> None:
    from aiocognito.testing import CustomChallenge

    async with LocalUserPool(
        custom_challenge=lambda user, n: CustomChallenge({"question": f"{user} round {n}"}, "42")
    ) as local:
        app = await setup(local, client={"flows": ("ALLOW_CUSTOM_AUTH",)})
        async with local.client(retries=NO_RETRIES) as cognito:
            started = await cognito.initiate_auth(
                ClientId=app.client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "alice"}
            )
            assert started["ChallengeName"] == "CUSTOM_CHALLENGE"
            assert started["ChallengeParameters"]["question"] == "alice round 1"
            await expect(
                errors.NotAuthorizedException,
                respond(
                    cognito,
                    app,
                    "CUSTOM_CHALLENGE",
                    {"USERNAME": "alice", "ANSWER": "41"},
                    started["Session"],
                ),
            )
            started = await cognito.initiate_auth(
                ClientId=app.client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "alice"}
            )
            done = await respond(
                cognito, app, "CUSTOM_CHALLENGE", {"USERNAME": "alice", "ANSWER": "42"}, started["Session"]
            )
            assert done["AuthenticationResult"]["AccessToken"]


async def test_user_auth_offers_choices_and_email_otp(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    app = await setup(
        local,
        client={"flows": ("ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")},
        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}},
    )
    async with local.client(retries=NO_RETRIES) as cognito:
        started = await cognito.initiate_auth(
            ClientId=app.client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "alice"}
        )
        assert started["ChallengeName"] == "SELECT_CHALLENGE"
        assert started["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"]
        sent = await respond(
            cognito, app, "SELECT_CHALLENGE", {"USERNAME": "alice", "ANSWER": "EMAIL_OTP"}, started["Session"]
        )
        assert sent["ChallengeName"] == "EMAIL_OTP"
        assert local.outbox[-1].destination == "alice@example.com"
        done = await respond(
            cognito,
            app,
            "EMAIL_OTP",
            {"USERNAME": "alice", "EMAIL_OTP_CODE": local.last_code("alice")},
            sent["Session"],
        )
        assert done["AuthenticationResult"]["AccessToken"]
        started = await cognito.initiate_auth(
            ClientId=app.client_id,
            AuthFlow="USER_AUTH",
            AuthParameters={"USERNAME": "alice", "PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": PASSWORD},
        )
        assert started["AuthenticationResult"]["IdToken"]


# ----- devices -----------------------------------------------------------------------------------------------
async def device_sign_in(
    cognito: CognitoClient,
    app: AppClient,
    username: str,
    device: tuple[str, str, str],
    *,
    device_password: str | None = None,
) -> dict[str, Any]:
    """Password SRP then device SRP; ``device`` is (key, group key, device password)."""
    key, group, password = device
    challenge = await srp_sign_in(cognito, app, username, device_key=key)
    assert challenge["ChallengeName"] == "DEVICE_SRP_AUTH", challenge
    ephemeral = _srp.new_ephemeral()
    step = await respond(
        cognito,
        app,
        "DEVICE_SRP_AUTH",
        {"USERNAME": username, "DEVICE_KEY": key, "SRP_A": ephemeral.srp_a},
        challenge["Session"],
    )
    assert step["ChallengeName"] == "DEVICE_PASSWORD_VERIFIER"
    params = step["ChallengeParameters"]
    timestamp = _srp.format_timestamp(now_utc())
    signature = _srp.password_signature(
        srp_pool_name=group,
        srp_user_id=key,
        password=device_password or password,
        ephemeral=ephemeral,
        salt_hex=params["SALT"],
        srp_b_hex=params["SRP_B"],
        secret_block_b64=params["SECRET_BLOCK"],
        timestamp=timestamp,
    )
    answer = {
        "USERNAME": username,
        "DEVICE_KEY": key,
        "PASSWORD_CLAIM_SIGNATURE": signature,
        "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
        "TIMESTAMP": timestamp,
    }
    return await respond(cognito, app, "DEVICE_PASSWORD_VERIFIER", answer, step["Session"])  # type: ignore[no-any-return]


def verifier_config(secret: _srp.DeviceSecret) -> Any:
    return secret.verifier_config()


async def remember_new_device(
    cognito: CognitoClient, result: Mapping[str, Any], name: str = "laptop"
) -> tuple[str, str, str]:
    metadata = result["NewDeviceMetadata"]
    secret = _srp.new_device_secret(metadata["DeviceGroupKey"], metadata["DeviceKey"])
    confirmed = await cognito.confirm_device(
        AccessToken=result["AccessToken"],
        DeviceKey=metadata["DeviceKey"],
        DeviceSecretVerifierConfig=verifier_config(secret),
        DeviceName=name,
    )
    assert confirmed["UserConfirmationNecessary"] is False
    return metadata["DeviceKey"], metadata["DeviceGroupKey"], secret.device_password


async def test_remembered_device_skips_mfa_and_a_forged_device_signature_fails(
    local_user_pool: LocalUserPool,
) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool(mfa="ON", sms=True, totp=False, device_tracking="always")
    app = await local.create_app_client(pool_id)
    await local.create_user(pool_id, "gus", PASSWORD, attributes={"phone_number": "+15555550100"})
    async with local.client(retries=NO_RETRIES) as cognito:
        challenge = await srp_sign_in(cognito, app, "gus")
        assert challenge["ChallengeName"] == "SMS_MFA"
        first = await respond(
            cognito,
            app,
            "SMS_MFA",
            {"USERNAME": "gus", "SMS_MFA_CODE": local.last_code("gus")},
            challenge["Session"],
        )
        result = first["AuthenticationResult"]
        device = await remember_new_device(cognito, result)
        sent = len(local.outbox)

        again = await device_sign_in(cognito, app, "gus", device)
        assert "NewDeviceMetadata" not in again["AuthenticationResult"]  # a known device gets no new key
        assert len(local.outbox) == sent  # no MFA code was sent
        claims = json.loads(
            base64.urlsafe_b64decode(again["AuthenticationResult"]["AccessToken"].split(".")[1] + "==")
        )
        assert claims["device_key"] == device[0]

        forged = base64.b64encode(b"not the device password").decode()
        await expect(
            errors.NotAuthorizedException,
            device_sign_in(cognito, app, "gus", device, device_password=forged),
            "Incorrect",
        )

        described = await cognito.get_device(
            AccessToken=again["AuthenticationResult"]["AccessToken"], DeviceKey=device[0]
        )
        assert {"Name": "device_name", "Value": "laptop"} in described["Device"]["DeviceAttributes"]
        await cognito.forget_device(
            AccessToken=again["AuthenticationResult"]["AccessToken"], DeviceKey=device[0]
        )
        await expect(
            errors.ResourceNotFoundException,
            srp_sign_in(cognito, app, "gus", device_key=device[0]),
            "Device does not exist",
        )


async def test_opt_in_device_needs_update_device_status(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool(mfa="ON", sms=True, totp=False, device_tracking="opt-in")
    app = await local.create_app_client(pool_id)
    await local.create_user(pool_id, "hal", PASSWORD, attributes={"phone_number": "+15555550101"})
    async with local.client(retries=NO_RETRIES) as cognito:
        challenge = await srp_sign_in(cognito, app, "hal")
        result = (
            await respond(
                cognito,
                app,
                "SMS_MFA",
                {"USERNAME": "hal", "SMS_MFA_CODE": local.last_code("hal")},
                challenge["Session"],
            )
        )["AuthenticationResult"]
        metadata = result["NewDeviceMetadata"]
        secret = _srp.new_device_secret(metadata["DeviceGroupKey"], metadata["DeviceKey"])
        confirmed = await cognito.confirm_device(
            AccessToken=result["AccessToken"],
            DeviceKey=metadata["DeviceKey"],
            DeviceSecretVerifierConfig=verifier_config(secret),
        )
        assert confirmed["UserConfirmationNecessary"] is True
        device = (metadata["DeviceKey"], metadata["DeviceGroupKey"], secret.device_password)
        assert (await device_sign_in(cognito, app, "hal", device))[
            "ChallengeName"
        ] == "SMS_MFA"  # not remembered yet
        await cognito.update_device_status(
            AccessToken=result["AccessToken"],
            DeviceKey=metadata["DeviceKey"],
            DeviceRememberedStatus="remembered",
        )
        assert (await device_sign_in(cognito, app, "hal", device))["AuthenticationResult"]


async def test_refresh_needs_the_device_key_of_a_device_tracked_sign_in(
    local_user_pool: LocalUserPool,
) -> None:
    app = await setup(local_user_pool, device_tracking="always")
    async with local_user_pool.client(retries=NO_RETRIES) as cognito:
        result = (await srp_sign_in(cognito, app, "alice"))["AuthenticationResult"]
        device = await remember_new_device(cognito, result)

        def refresh(**extra: str) -> Any:
            return cognito.initiate_auth(
                ClientId=app.client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": result["RefreshToken"], **extra},
            )

        await expect(errors.NotAuthorizedException, refresh(), "Invalid Refresh Token")
        await expect(
            errors.NotAuthorizedException,
            refresh(DEVICE_KEY="us-east-1_00000000-0000-4000-8000-000000000000"),
        )
        refreshed = (await refresh(DEVICE_KEY=device[0]))["AuthenticationResult"]
        assert "RefreshToken" not in refreshed
        old = json.loads(base64.urlsafe_b64decode(result["IdToken"].split(".")[1] + "=="))
        new = json.loads(base64.urlsafe_b64decode(refreshed["IdToken"].split(".")[1] + "=="))
        assert new["auth_time"] == old["auth_time"] and new["jti"] != old["jti"]


async def test_a_forgotten_device_cannot_refresh(local_user_pool: LocalUserPool) -> None:
    app = await setup(local_user_pool, device_tracking="always")
    async with local_user_pool.client(retries=NO_RETRIES) as cognito:
        result = (await srp_sign_in(cognito, app, "alice"))["AuthenticationResult"]
        device_key = (await remember_new_device(cognito, result))[0]

        def refresh() -> Any:
            return cognito.initiate_auth(
                ClientId=app.client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": result["RefreshToken"], "DEVICE_KEY": device_key},
            )

        def get_tokens() -> Any:
            return cognito.get_tokens_from_refresh_token(
                ClientId=app.client_id, RefreshToken=result["RefreshToken"], DeviceKey=device_key
            )

        assert (await refresh())["AuthenticationResult"]["AccessToken"]
        assert (await get_tokens())["AuthenticationResult"]["AccessToken"]
        await cognito.forget_device(AccessToken=result["AccessToken"], DeviceKey=device_key)
        await expect(errors.NotAuthorizedException, refresh(), exactly("Invalid Refresh Token"))
        await expect(errors.NotAuthorizedException, get_tokens(), exactly("Invalid Refresh Token"))


async def test_admin_list_devices_is_paginated(local_user_pool: LocalUserPool) -> None:
    app = await setup(local_user_pool, device_tracking="always")
    keys = []
    async with local_user_pool.client(retries=NO_RETRIES) as cognito:
        for i in range(5):
            result = (await srp_sign_in(cognito, app, "alice"))["AuthenticationResult"]
            keys.append((await remember_new_device(cognito, result, f"device {i}"))[0])
        await srp_sign_in(cognito, app, "alice")  # an unconfirmed device is not listed
        pages: list[list[str]] = []
        token = None
        while True:
            params: dict[str, Any] = {"UserPoolId": app.user_pool_id, "Username": "alice", "Limit": 2}
            if token:
                params["PaginationToken"] = token
            page = await cognito.admin_list_devices(**params)
            pages.append([d["DeviceKey"] for d in page["Devices"]])
            token = page.get("PaginationToken")
            if not token:
                break
        assert pages == [keys[0:2], keys[2:4], keys[4:5]]
        listed = await cognito.list_devices(AccessToken=result["AccessToken"], Limit=60)
        assert [d["DeviceKey"] for d in listed["Devices"]] == keys
        await expect(
            errors.InvalidParameterException,
            cognito.admin_list_devices(
                UserPoolId=app.user_pool_id, Username="alice", PaginationToken="garbage"
            ),
        )


# ----- tokens ------------------------------------------------------------------------------------------------
async def test_rotated_refresh_token_cannot_be_used_twice(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    app = await setup(local, client={"rotation": True})
    async with local.client(retries=NO_RETRIES) as cognito:
        first = (await srp_sign_in(cognito, app, "alice"))["AuthenticationResult"]
        await expect(
            errors.InvalidParameterException,
            cognito.initiate_auth(
                ClientId=app.client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]},
            ),
        )
        second = (
            await cognito.get_tokens_from_refresh_token(
                RefreshToken=first["RefreshToken"], ClientId=app.client_id
            )
        )["AuthenticationResult"]
        assert second["RefreshToken"] != first["RefreshToken"]
        await expect(
            errors.RefreshTokenReuseException,
            cognito.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=app.client_id),
        )
        third = (
            await cognito.get_tokens_from_refresh_token(
                RefreshToken=second["RefreshToken"], ClientId=app.client_id
            )
        )["AuthenticationResult"]
        assert third["AccessToken"]


async def test_rotation_grace_period(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    app = await setup(local, client={"rotation": True, "grace_seconds": 30})
    async with local.client(retries=NO_RETRIES) as cognito:
        first = (await srp_sign_in(cognito, app, "alice"))["AuthenticationResult"]
        await cognito.get_tokens_from_refresh_token(
            RefreshToken=first["RefreshToken"], ClientId=app.client_id
        )
        again = await cognito.get_tokens_from_refresh_token(
            RefreshToken=first["RefreshToken"], ClientId=app.client_id
        )
        assert again["AuthenticationResult"]["AccessToken"]  # within the grace period
        local.advance_clock(31)
        await expect(
            errors.RefreshTokenReuseException,
            cognito.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=app.client_id),
        )


async def test_revoke_token_revokes_the_sign_ins_tokens(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    app = await setup(local)
    other = await local.create_app_client(app.user_pool_id, "other")
    async with local.client(retries=NO_RETRIES) as cognito:
        result = (await srp_sign_in(cognito, app, "alice"))["AuthenticationResult"]
        keep = (await srp_sign_in(cognito, app, "alice"))["AuthenticationResult"]  # another sign-in
        await expect(
            errors.UnsupportedTokenTypeException,
            cognito.revoke_token(Token=result["AccessToken"], ClientId=app.client_id),
        )
        await expect(
            errors.UnauthorizedException,
            cognito.revoke_token(Token=result["RefreshToken"], ClientId=other.client_id),
        )
        await cognito.revoke_token(Token=result["RefreshToken"], ClientId=app.client_id)
        await expect(
            errors.NotAuthorizedException, cognito.get_user(AccessToken=result["AccessToken"]), "revoked"
        )
        await expect(
            errors.NotAuthorizedException,
            cognito.initiate_auth(
                ClientId=app.client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]},
            ),
        )
        assert (await cognito.get_user(AccessToken=keep["AccessToken"]))["Username"] == "alice"


async def test_global_sign_out_revokes_access_and_refresh_tokens(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    app = await setup(local, users=("alice", "bob"))
    async with local.client(retries=NO_RETRIES) as cognito:
        alice = (await srp_sign_in(cognito, app, "alice"))["AuthenticationResult"]
        bob = (await srp_sign_in(cognito, app, "bob"))["AuthenticationResult"]
        await cognito.global_sign_out(AccessToken=alice["AccessToken"])
        await expect(
            errors.NotAuthorizedException,
            cognito.get_user(AccessToken=alice["AccessToken"]),
            "Access Token has been revoked",
        )
        # operations passed through to moto refuse the revoked token too
        await expect(
            errors.NotAuthorizedException,
            cognito.update_user_attributes(
                AccessToken=alice["AccessToken"], UserAttributes=[{"Name": "name", "Value": "x"}]
            ),
        )
        await expect(
            errors.NotAuthorizedException,
            cognito.initiate_auth(
                ClientId=app.client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": alice["RefreshToken"]},
            ),
        )
        assert (await cognito.get_user(AccessToken=bob["AccessToken"]))["Username"] == "bob"
        await cognito.admin_user_global_sign_out(UserPoolId=app.user_pool_id, Username="bob")
        await expect(errors.NotAuthorizedException, cognito.get_user(AccessToken=bob["AccessToken"]))
        fresh = (await srp_sign_in(cognito, app, "alice"))["AuthenticationResult"]  # a new sign-in works
        assert (await cognito.get_user(AccessToken=fresh["AccessToken"]))["Username"] == "alice"
        local.advance_clock(3601)
        await expect(
            errors.NotAuthorizedException, cognito.get_user(AccessToken=fresh["AccessToken"]), "expired"
        )


# ----- the wire ----------------------------------------------------------------------------------------------
async def test_errors_look_like_cognitos_on_the_wire(local_user_pool: LocalUserPool) -> None:
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
    }
    async with aiohttp.ClientSession() as http:
        body = json.dumps({"ClientId": "nope", "AuthFlow": "USER_SRP_AUTH", "AuthParameters": {}})
        async with http.post(local_user_pool.endpoint_url + "/", data=body, headers=headers) as response:
            assert response.status == 400
            assert response.headers["x-amzn-ErrorType"].startswith("ResourceNotFoundException")
            assert (await response.json(content_type=None))["__type"] == "ResourceNotFoundException"
        body = json.dumps({"UserPoolId": "us-east-1_x"})
        headers["X-Amz-Target"] = "AWSCognitoIdentityProviderService.NoSuchOperation"
        async with http.post(local_user_pool.endpoint_url + "/", data=body, headers=headers) as response:
            assert response.status == 400
            assert (await response.json(content_type=None))["__type"] == "UnknownOperationException"


async def test_admin_initiate_auth_accepts_srp_and_binds_the_api(local_user_pool: LocalUserPool) -> None:
    app = await setup(local_user_pool)
    async with local_user_pool.client(retries=NO_RETRIES) as cognito:
        ephemeral = _srp.new_ephemeral()
        started = await cognito.admin_initiate_auth(
            UserPoolId=app.user_pool_id,
            ClientId=app.client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": "alice", "SRP_A": ephemeral.srp_a},
        )
        answer = verifier_answer(app, ephemeral, started["ChallengeParameters"], PASSWORD)
        # an admin sign-in is answered through the admin API only
        await expect(
            errors.NotAuthorizedException,
            respond(cognito, app, "PASSWORD_VERIFIER", answer),
            exactly("Invalid session for the user."),
        )
        ephemeral = _srp.new_ephemeral()
        started = await cognito.admin_initiate_auth(
            UserPoolId=app.user_pool_id,
            ClientId=app.client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": "alice", "SRP_A": ephemeral.srp_a},
        )
        done = await cognito.admin_respond_to_auth_challenge(
            UserPoolId=app.user_pool_id,
            ClientId=app.client_id,
            ChallengeName="PASSWORD_VERIFIER",
            ChallengeResponses=verifier_answer(app, ephemeral, started["ChallengeParameters"], PASSWORD),
        )
        assert done["AuthenticationResult"]["AccessToken"]


async def test_invitations_and_recovery_codes_go_to_the_outbox(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool()
    app = await local.create_app_client(pool_id)
    async with local.client(retries=NO_RETRIES) as cognito:
        await cognito.admin_create_user(
            UserPoolId=pool_id,
            Username="mia",
            UserAttributes=[
                {"Name": "email", "Value": "mia@example.com"},
                {"Name": "email_verified", "Value": "true"},
            ],
        )
        invitation = local.messages("mia", purpose="TEMPORARY_PASSWORD")[-1]
        assert (invitation.kind, invitation.destination) == ("EMAIL", "mia@example.com")
        challenge = await srp_sign_in(cognito, app, "mia", invitation.code)
        assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
        done = await respond(
            cognito,
            app,
            "NEW_PASSWORD_REQUIRED",
            {"USERNAME": "mia", "NEW_PASSWORD": "N3w-passw0rd!"},
            challenge["Session"],
        )
        assert done["AuthenticationResult"]
        await cognito.forgot_password(ClientId=app.client_id, Username="mia")
        code = local.last_code("mia", purpose="FORGOT_PASSWORD")
        await cognito.confirm_forgot_password(
            ClientId=app.client_id, Username="mia", ConfirmationCode=code, Password="Rec0vered-pw!"
        )
        assert (await srp_sign_in(cognito, app, "mia", "Rec0vered-pw!"))["AuthenticationResult"]


async def test_a_user_without_a_password_cannot_sign_in_with_an_empty_one(
    local_user_pool: LocalUserPool,
) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool()
    app = await local.create_app_client(pool_id)
    async with local.client(retries=NO_RETRIES) as cognito:
        # no TemporaryPassword and nothing sent: Cognito makes one up anyway, and so does the pool
        await cognito.admin_create_user(UserPoolId=pool_id, Username="nina", MessageAction="SUPPRESS")
        assert local.messages("nina") == []
        stored = local._state.pools[pool_id].users["nina"]
        assert stored.password and len(stored.password) >= 8
        incorrect = exactly("Incorrect username or password.")
        await expect(errors.NotAuthorizedException, srp_sign_in(cognito, app, "nina", ""), incorrect)
        # a user with no password at all is treated like an unknown user
        stored.password = None
        ephemeral, started = await start_srp(cognito, app, "nina")
        assert started["ChallengeParameters"]["USER_ID_FOR_SRP"] == "nina"
        answer = verifier_answer(app, ephemeral, started["ChallengeParameters"], "")
        await expect(
            errors.NotAuthorizedException, respond(cognito, app, "PASSWORD_VERIFIER", answer), incorrect
        )


async def test_sign_up_codes_are_checked_expire_and_are_replaced(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool(AutoVerifiedAttributes=["email"])
    app = await local.create_app_client(pool_id)
    async with local.client(retries=NO_RETRIES) as cognito:

        def confirm(code: str, username: str = "ola") -> Any:
            return cognito.confirm_sign_up(ClientId=app.client_id, Username=username, ConfirmationCode=code)

        signed_up = await cognito.sign_up(
            ClientId=app.client_id,
            Username="ola",
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": "ola@example.com"}],
        )
        assert signed_up["UserConfirmed"] is False
        assert signed_up["CodeDeliveryDetails"] == {
            "Destination": "o***@e***",
            "DeliveryMedium": "EMAIL",
            "AttributeName": "email",
        }
        sent = local.messages("ola", purpose="SIGN_UP")
        assert [(m.kind, m.destination) for m in sent] == [("EMAIL", "ola@example.com")]
        first = sent[0].code
        assert re.fullmatch(r"[0-9]{6}", first)
        wrong = f"{(int(first) + 1) % 1_000_000:06d}"
        mismatch = exactly("Invalid verification code provided, please try again.")
        expired = exactly("Invalid code provided, please request a code again.")
        await expect(errors.CodeMismatchException, confirm(wrong), mismatch)
        await expect(errors.CodeMismatchException, confirm("moto-confirmation-code:123456"), mismatch)
        # 24 hours later the code has expired
        local.advance_clock(24 * 3600 + 1)
        await expect(errors.ExpiredCodeException, confirm(first), expired)
        # a resent code replaces the old one
        resent = await cognito.resend_confirmation_code(ClientId=app.client_id, Username="ola")
        assert resent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
        second = local.last_code("ola", purpose="SIGN_UP")
        assert second != first
        await expect(errors.CodeMismatchException, confirm(first), mismatch)
        assert (await local.call("AdminGetUser", UserPoolId=pool_id, Username="ola"))["UserStatus"] == (
            "UNCONFIRMED"
        )
        await confirm(second)
        user = await local.call("AdminGetUser", UserPoolId=pool_id, Username="ola")
        assert user["UserStatus"] == "CONFIRMED"
        assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]
        # reused: the user is confirmed now, as Cognito answers a second ConfirmSignUp
        await expect(
            errors.NotAuthorizedException,
            confirm(second),
            exactly("User cannot be confirmed. Current status is CONFIRMED"),
        )
        await expect(
            errors.InvalidParameterException,
            cognito.resend_confirmation_code(ClientId=app.client_id, Username="ola"),
            exactly("User is already confirmed."),
        )
        assert (await srp_sign_in(cognito, app, "ola", timestamp=pool_timestamp(local)))[
            "AuthenticationResult"
        ]

        # a pool that verifies nothing sends no code: only an administrator can confirm
        quiet = await local.create_app_client(await local.create_user_pool("quiet"))
        plain = await cognito.sign_up(ClientId=quiet.client_id, Username="pat", Password=PASSWORD)
        assert "CodeDeliveryDetails" not in plain and local.messages("pat") == []
        await expect(
            errors.CodeMismatchException,
            cognito.confirm_sign_up(ClientId=quiet.client_id, Username="pat", ConfirmationCode="123456"),
            mismatch,
        )


async def test_forgot_password_codes_are_checked_expire_and_work_once(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    app = await setup(local)
    async with local.client(retries=NO_RETRIES) as cognito:

        def confirm(code: str, password: str = "Rec0vered-pw!") -> Any:
            return cognito.confirm_forgot_password(
                ClientId=app.client_id, Username="alice", ConfirmationCode=code, Password=password
            )

        sent = await cognito.forgot_password(ClientId=app.client_id, Username="alice")
        assert sent["CodeDeliveryDetails"] == {
            "Destination": "a***@e***",
            "DeliveryMedium": "EMAIL",
            "AttributeName": "email",
        }
        first = local.last_code("alice", purpose="FORGOT_PASSWORD")
        assert re.fullmatch(r"[0-9]{6}", first)
        wrong = f"{(int(first) + 1) % 1_000_000:06d}"
        await expect(
            errors.CodeMismatchException,
            confirm(wrong),
            exactly("Invalid verification code provided, please try again."),
        )
        # a weak password is refused and the code stays usable
        await expect(errors.InvalidPasswordException, confirm(first, "weak"))
        assert (await srp_sign_in(cognito, app, "alice"))["AuthenticationResult"]  # unchanged so far
        # an hour later the code has expired
        local.advance_clock(3601)
        expired = exactly("Invalid code provided, please request a code again.")
        await expect(errors.ExpiredCodeException, confirm(first), expired)
        await cognito.forgot_password(ClientId=app.client_id, Username="alice")
        second = local.last_code("alice", purpose="FORGOT_PASSWORD")
        await confirm(second)
        assert (await srp_sign_in(cognito, app, "alice", "Rec0vered-pw!", timestamp=pool_timestamp(local)))[
            "AuthenticationResult"
        ]
        # a used code does not work again
        await expect(errors.ExpiredCodeException, confirm(second, "An0ther-pw!"), expired)
        assert (await srp_sign_in(cognito, app, "alice", "Rec0vered-pw!", timestamp=pool_timestamp(local)))[
            "AuthenticationResult"
        ]


async def test_get_user_pool_mfa_config_includes_the_email_mfa_settings(
    local_user_pool: LocalUserPool,
) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool(mfa="OPTIONAL", email_mfa=True)
    config = await local.call("GetUserPoolMfaConfig", UserPoolId=pool_id)
    assert config["MfaConfiguration"] == "OPTIONAL"
    assert config["EmailMfaConfiguration"] == {"Message": "Your code is {####}", "Subject": "Your code"}
    await local.call("SetUserPoolMfaConfig", UserPoolId=pool_id, MfaConfiguration="OFF")
    assert "EmailMfaConfiguration" not in await local.call("GetUserPoolMfaConfig", UserPoolId=pool_id)


async def test_serve_runs_until_cancelled(capsys: pytest.CaptureFixture[str]) -> None:
    from aiocognito.testing import serve

    task = asyncio.create_task(serve("127.0.0.1", 0))
    for _ in range(200):
        await asyncio.sleep(0.01)
        printed = capsys.readouterr().out
        if printed:
            break
    endpoint = printed.split("listening on ", 1)[1].split()[0]
    async with CognitoClient(
        region="us-east-1", endpoint_url=endpoint, credentials=("a", "b"), retries=1
    ) as cognito:
        created = await cognito.create_user_pool(PoolName="served")
        assert created["UserPool"]["Id"].startswith("us-east-1_")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# ----- faults ------------------------------------------------------------------------------------------------
async def test_500_calls_with_20_percent_injected_faults_reconcile_with_the_pool(
    local_user_pool: LocalUserPool,
) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool()
    local.faults = FaultPlan(seed=20, error_rate=0.08, drop_rate=0.06, lost_reply_rate=0.06)
    fast = RetryPolicy(max_attempts=4, base_delay=0.0, max_delay=0.0)
    created: dict[str, str] = {}  # username -> "ok" | error class name
    updated: dict[str, str] = {}
    retried = 0
    async with local.client(retries=fast) as cognito:

        async def create(i: int) -> None:
            name = f"user{i:03d}"
            try:
                await cognito.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")
                created[name] = "ok"
            except CognitoError as exc:  # typed, whatever happened
                created[name] = type(exc).__name__

        async def disable(i: int) -> None:
            nonlocal retried
            name = f"user{i:03d}"
            try:
                reply = await cognito.admin_disable_user(UserPoolId=pool_id, Username=name)
                retried += reply["ResponseMetadata"]["RetryAttempts"]
                updated[name] = "ok"
            except CognitoError as exc:
                updated[name] = type(exc).__name__

        for batch in range(0, 250, 25):
            await asyncio.gather(*(create(i) for i in range(batch, batch + 25)))
        existing = await all_users(local, pool_id)
        for batch in range(0, 250, 25):
            await asyncio.gather(*(disable(i) for i in range(batch, batch + 25)))
        creates_faulted = [e for e in local.fault_log if e.operation == "AdminCreateUser"]
    local.faults = None

    # AdminCreateUser is not safe to repeat: an ambiguous failure reaches the caller, never a duplicate.
    assert len(created) == 250 and "UsernameExistsException" not in created.values()
    assert set(created.values()) <= {"ok", "InternalErrorException", "ConnectionFailedError"}
    assert {n for n, outcome in created.items() if outcome == "ok"} <= set(existing)
    assert not {n for n, outcome in created.items() if outcome == "InternalErrorException"} & set(existing)
    dropped_or_lost = {n for n, outcome in created.items() if outcome == "ConnectionFailedError"}
    lost_with_effect = sum(1 for e in creates_faulted if e.kind == "lost_reply" and e.took_effect)
    assert len(dropped_or_lost & set(existing)) == lost_with_effect  # exactly the lost replies took effect
    assert len(existing) == list(created.values()).count("ok") + lost_with_effect
    assert 30 < len(creates_faulted) < 70  # about 20% of 250

    # AdminDisableUser is safe to repeat (once or twice, the same effect): retried through the faults. Users
    # that were never created answer UserNotFoundException; a call whose 4 attempts all failed reaches the
    # caller typed.
    assert len(updated) == 250 and retried > 20
    exhausted = {"InternalErrorException", "ConnectionFailedError"}
    after = await all_users(local, pool_id)
    assert set(after) == set(existing)
    for name, outcome in updated.items():
        if name in existing:
            assert outcome in {"ok"} | exhausted, (name, outcome)
        else:
            assert outcome in {"UserNotFoundException"} | exhausted, (name, outcome)
        if outcome == "ok":
            assert after[name]["Enabled"] is False, name
    assert sum(1 for o in updated.values() if o in exhausted) <= 2  # each 0.2**4 likely


async def test_throttling_above_a_rate_has_no_effect_and_is_retried(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool()
    local.faults = FaultPlan(throttle_rps=5)
    outcomes: list[str] = []
    async with local.client(retries=NO_RETRIES) as cognito:

        async def create(i: int) -> None:
            try:
                await cognito.admin_create_user(
                    UserPoolId=pool_id, Username=f"t{i}", MessageAction="SUPPRESS"
                )
                outcomes.append("ok")
            except errors.TooManyRequestsException:
                outcomes.append("throttled")

        await asyncio.gather(*(create(i) for i in range(20)))
    users = list((await all_users(local, pool_id)).values())
    assert outcomes.count("throttled") >= 10
    assert len(users) == outcomes.count("ok")
    # 25 at once against 20 per second: 5 are throttled, and backing off gets them through
    local.faults = FaultPlan(throttle_rps=20)
    async with local.client(retries=RetryPolicy(max_attempts=10, base_delay=0.1, max_delay=0.4)) as cognito:
        got = await asyncio.gather(
            *(cognito.admin_get_user(UserPoolId=pool_id, Username=users[0]["Username"]) for _ in range(25))
        )
        throttled = local.fault_log
    assert len(got) == 25 and throttled and all(e.kind == "throttle" for e in throttled)
    assert sum(g["ResponseMetadata"]["RetryAttempts"] for g in got) == len(throttled)  # one retry per refusal


async def test_dropped_connection_is_a_typed_error(local_user_pool: LocalUserPool) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool()
    local.faults = FaultPlan(drop_rate=1.0)
    async with local.client(retries=NO_RETRIES) as cognito:
        with pytest.raises(ConnectionFailedError):
            await cognito.admin_create_user(UserPoolId=pool_id, Username="x", MessageAction="SUPPRESS")
    local.faults = None
    assert await all_users(local, pool_id) == {}


# ----- the pytest plugin -------------------------------------------------------------------------------------
_NO_LOCAL_EXTRA = "sys.modules['regex'] = None\n"
_OLD_PYTEST_ASYNCIO = "import types\nsys.modules['pytest_asyncio'] = types.ModuleType('pytest_asyncio')\n"


async def run_pytest(
    directory: Path, prelude: str, *args: str, ci: dict[str, str] | None = None
) -> tuple[int, str]:
    """Run pytest in a subprocess after ``prelude`` (which hides modules), as a user's run (no ``CI``
    variable unless ``ci`` sets it); (exit code, output)."""
    ci = ci or {}
    script = f"import sys\n{prelude}import pytest\nsys.exit(pytest.main({list(args)!r}))\n"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        cwd=str(directory),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**{k: v for k, v in os.environ.items() if k != "CI"}, "PYTHONDONTWRITEBYTECODE": "1", **ci},
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode()


async def test_the_fixture_skips_with_a_hint_when_an_extra_is_missing(tmp_path: Path) -> None:
    (tmp_path / "test_async_probe.py").write_text(
        "async def test_probe(local_user_pool):\n    raise AssertionError('ran without the local extra')\n"
    )
    (tmp_path / "test_sync_probe.py").write_text(
        "def test_probe(local_user_pool):\n    raise AssertionError('ran without pytest_asyncio.fixture')\n"
    )
    common = ("-rs", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:anyio")
    (no_local, out_local), (old_asyncio, out_asyncio) = await asyncio.gather(
        run_pytest(
            tmp_path,
            _NO_LOCAL_EXTRA,
            *common,
            *("-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function"),
            "test_async_probe.py",
        ),
        run_pytest(tmp_path, _OLD_PYTEST_ASYNCIO, *common, "-p", "no:asyncio", "test_sync_probe.py"),
    )
    assert no_local == 0 and "1 skipped" in out_local, out_local
    assert "needs aiocognito[local]" in out_local
    assert old_asyncio == 0 and "1 skipped" in out_asyncio, out_asyncio
    assert "needs pytest-asyncio" in out_asyncio
    # under CI=true a missing part fails the test: a skipped test proves nothing
    on_ci, out_ci = await run_pytest(
        tmp_path,
        _NO_LOCAL_EXTRA,
        *common,
        *("-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function"),
        "test_async_probe.py",
        ci={"CI": "true"},
    )
    assert on_ci != 0 and "needs aiocognito[local]" in out_ci and "skipped" not in out_ci, out_ci
