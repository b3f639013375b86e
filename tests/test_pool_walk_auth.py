"""The walk over the authentication surface: sign-in and challenges, MFA and TOTP, devices, tokens, sign-up
and recovery codes, and a user's own account, over the raw wire.

Password sign-ins use USER_PASSWORD_AUTH / ADMIN_USER_PASSWORD_AUTH (SRP has its own tests); TOTP codes come
from ``local.totp_code``, emailed codes from the pool's outbox, a device's verifier from the project's own
SRP code. Each scenario checks the effect: a revoked or signed-out session's tokens refused, a deleted
user unknown to the next sign-in, a changed email verified only by its code.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pyotp
import pytest
from walk import Walker, WalkError, walks

from aiocognito import errors
from aiocognito._signin import srp as _srp
from aiocognito.testing import LocalUserPool

PASSWORD = "Passw0rd!long"
NEW_PASSWORD = "N3w-Passw0rd!"
RESPOND = "RespondToAuthChallenge"
FLOWS = ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def password_auth(client_id: str, name: str, password: str = PASSWORD, **extra: str) -> dict[str, Any]:
    """InitiateAuth's parameters for USER_PASSWORD_AUTH."""
    auth = {"USERNAME": name, "PASSWORD": password, **extra}
    return {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id, "AuthParameters": auth}


def refresh_auth(client_id: str, token: str, **extra: str) -> dict[str, Any]:
    """InitiateAuth's parameters for REFRESH_TOKEN_AUTH."""
    auth = {"REFRESH_TOKEN": token, **extra}
    return {"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client_id, "AuthParameters": auth}


async def sign_in(
    w: Walker, client_id: str, name: str, password: str = PASSWORD, **extra: str
) -> dict[str, Any]:
    """USER_PASSWORD_AUTH ending in tokens; the AuthenticationResult (NewDeviceMetadata included)."""
    started = await w.call("InitiateAuth", **password_auth(client_id, name, password, **extra))
    assert "AuthenticationResult" in started, started.get("ChallengeName")
    result: dict[str, Any] = started["AuthenticationResult"]
    return result


async def sign_in_refused(
    w: Walker, code: str, client_id: str, name: str, password: str = PASSWORD, **extra: str
) -> WalkError:
    return await w.refused(code, "InitiateAuth", **password_auth(client_id, name, password, **extra))


async def refresh_refused(w: Walker, client_id: str, token: str, **extra: str) -> None:
    """REFRESH_TOKEN_AUTH refused: NotAuthorizedException."""
    await w.refused("NotAuthorizedException", "InitiateAuth", **refresh_auth(client_id, token, **extra))


async def setup(local: LocalUserPool, *users: str, **pool: Any) -> tuple[str, str]:
    """A pool (``local.create_user_pool`` options), a password-flow app client and CONFIRMED users, each
    with a verified ``<name>@example.com``; (pool id, client id)."""
    pool_id = await local.create_user_pool(**pool)
    client_id = (await local.create_app_client(pool_id, flows=FLOWS)).client_id
    for name in users:
        email = {"email": f"{name}@example.com", "email_verified": "true"}
        await local.create_user(pool_id, name, PASSWORD, attributes=email)
    return pool_id, client_id


async def attributes_of(w: Walker, access_token: str) -> dict[str, str]:
    got = await w.call("GetUser", AccessToken=access_token)
    return {a["Name"]: a["Value"] for a in got["UserAttributes"]}


# ===== sign-in ============================================================================================
@walks("InitiateAuth", "AdminInitiateAuth", "GetUser")
async def test_password_sign_in_and_its_refusals() -> None:
    # a clock that moves only when told: the lockout's one second lasts however slow the machine
    async with LocalUserPool(clock=lambda: 1_800_000_000.0) as local, Walker(local.endpoint_url) as w:
        pool_id, client_id = await setup(local, "alice")
        result = await sign_in(w, client_id, "alice")
        assert result["TokenType"] == "Bearer" and result["ExpiresIn"] == 3600 and result["RefreshToken"]
        access = claims_of(result["AccessToken"])
        assert [access[k] for k in ("username", "client_id", "token_use")] == ["alice", client_id, "access"]
        assert claims_of(result["IdToken"])["email"] == "alice@example.com"
        got = await w.call("GetUser", AccessToken=result["AccessToken"])
        assert got["Username"] == "alice" and {"Name": "sub", "Value": access["sub"]} in got["UserAttributes"]
        admin_auth = {"USERNAME": "alice", "PASSWORD": PASSWORD}
        admin = {"UserPoolId": pool_id, "ClientId": client_id, "AuthParameters": admin_auth}
        done = await w.call("AdminInitiateAuth", **admin, AuthFlow="ADMIN_USER_PASSWORD_AUTH")
        assert claims_of(done["AuthenticationResult"]["IdToken"])["sub"] == access["sub"]
        # each API has its own password flow
        wrong_flow = {**admin, "AuthFlow": "USER_PASSWORD_AUTH"}
        await w.refused("InvalidParameterException", "AdminInitiateAuth", **wrong_flow)
        wrong_api = {**password_auth(client_id, "alice"), "AuthFlow": "ADMIN_USER_PASSWORD_AUTH"}
        await w.refused("InvalidParameterException", "InitiateAuth", **wrong_api)
        # REFRESH_TOKEN_AUTH: new ID and access tokens, for the same user, no new refresh token
        again = await w.call("InitiateAuth", **refresh_auth(client_id, result["RefreshToken"]))
        refreshed = again["AuthenticationResult"]
        assert "RefreshToken" not in refreshed and claims_of(refreshed["AccessToken"])["sub"] == access["sub"]
        wrong = await sign_in_refused(w, "NotAuthorizedException", client_id, "alice", "Wr0ng!pass")
        assert wrong.message == "Incorrect username or password."
        await sign_in_refused(w, "UserNotFoundException", client_id, "nobody")
        srp_only = (await local.create_app_client(pool_id, "srp-only")).client_id
        await sign_in_refused(w, "InvalidParameterException", srp_only, "alice")
        # five wrong passwords lock the user out for a while, even with the right one
        for _ in range(4):
            await sign_in_refused(w, "NotAuthorizedException", client_id, "alice", "Wr0ng!pass")
        locked = await sign_in_refused(w, "NotAuthorizedException", client_id, "alice")
        assert locked.message == "Password attempts exceeded"
        local.advance_clock(2)
        assert (await sign_in(w, client_id, "alice"))["AccessToken"]
        w.check_walked(test_password_sign_in_and_its_refusals)


@walks("RespondToAuthChallenge", "AdminRespondToAuthChallenge", "AdminInitiateAuth")
async def test_new_password_required_on_both_apis() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id, client_id = await setup(local, required_attributes=("family_name",))
        for name in ("carol", "dan"):
            await local.create_user(pool_id, name, PASSWORD, temporary=True)
        started = await w.call("InitiateAuth", **password_auth(client_id, "carol"))
        assert started["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
        params = started["ChallengeParameters"]
        assert json.loads(params["requiredAttributes"]) == ["userAttributes.family_name"]
        new_password = {"ChallengeName": "NEW_PASSWORD_REQUIRED"}
        respond = {"ClientId": client_id, **new_password, "Session": started["Session"]}
        answer = {"USERNAME": "carol", "NEW_PASSWORD": NEW_PASSWORD}
        # a missing required attribute or a weak password leaves the session usable
        await w.refused("InvalidParameterException", RESPOND, **respond, ChallengeResponses=answer)
        weak = {**answer, "NEW_PASSWORD": "weak", "userAttributes.family_name": "Doe"}
        await w.refused("InvalidPasswordException", RESPOND, **respond, ChallengeResponses=weak)
        full = {**answer, "userAttributes.family_name": "Doe"}
        done = await w.call(RESPOND, **respond, ChallengeResponses=full)
        assert claims_of(done["AuthenticationResult"]["IdToken"])["family_name"] == "Doe"
        await w.refused("NotAuthorizedException", RESPOND, **respond, ChallengeResponses=full)
        got = await w.call("AdminGetUser", UserPoolId=pool_id, Username="carol")
        assert got["UserStatus"] == "CONFIRMED"
        assert (await sign_in(w, client_id, "carol", NEW_PASSWORD))["AccessToken"]
        admin_auth = {"USERNAME": "dan", "PASSWORD": PASSWORD}
        admin = {"UserPoolId": pool_id, "ClientId": client_id}
        answer = {"USERNAME": "dan", "NEW_PASSWORD": NEW_PASSWORD, "userAttributes.family_name": "Roe"}

        async def admin_challenge() -> dict[str, Any]:
            started = await w.call(
                "AdminInitiateAuth", **admin, AuthFlow="ADMIN_USER_PASSWORD_AUTH", AuthParameters=admin_auth
            )
            assert started["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
            return {**new_password, "Session": started["Session"], "ChallengeResponses": answer}

        # a session belongs to the API that issued it
        session = await admin_challenge()
        await w.refused("NotAuthorizedException", RESPOND, ClientId=client_id, **session)
        done = await w.call("AdminRespondToAuthChallenge", **admin, **await admin_challenge())
        assert claims_of(done["AuthenticationResult"]["AccessToken"])["username"] == "dan"
        assert (await sign_in(w, client_id, "dan", NEW_PASSWORD))["AccessToken"]
        w.check_walked(test_new_password_required_on_both_apis)


# ===== MFA ================================================================================================
def other_code(code: str) -> str:
    """A code that is not ``code`` (an emailed code: only the one sent is right)."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def wrong_totp(local: LocalUserPool, secret: str) -> str:
    """A 6-digit code no TOTP step near the pool's clock gives for ``secret``."""
    step = int(local.now() // 30)
    near = {pyotp.TOTP(secret).at(s * 30) for s in range(step - 2, step + 3)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in near)


@walks(
    "AssociateSoftwareToken",
    "VerifySoftwareToken",
    "SetUserMFAPreference",
    "AdminSetUserMFAPreference",
    "RespondToAuthChallenge",
)
async def test_totp_set_up_with_an_access_token_then_asked_at_sign_in() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id, client_id = await setup(local, "alice", "bob", mfa="OPTIONAL")
        token = (await sign_in(w, client_id, "alice"))["AccessToken"]  # no factor yet: no MFA
        secret = (await w.call("AssociateSoftwareToken", AccessToken=token))["SecretCode"]
        assert re.fullmatch(r"[A-Z2-7]{32}", secret) and local.totp_secret("alice") == secret
        right = local.totp_code("alice")
        wrong = {"AccessToken": token, "UserCode": wrong_totp(local, secret)}
        await w.refused("EnableSoftwareTokenMFAException", "VerifySoftwareToken", **wrong)
        assert (await w.call("VerifySoftwareToken", AccessToken=token, UserCode=right))["Status"] == "SUCCESS"
        preferred = {"SoftwareTokenMfaSettings": {"Enabled": True, "PreferredMfa": True}}
        await w.call("SetUserMFAPreference", AccessToken=token, **preferred)
        got = await w.call("GetUser", AccessToken=token)
        assert got["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
        assert got["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"
        # now the sign-in asks for a code; a wrong one leaves the session usable
        started = await w.call("InitiateAuth", **password_auth(client_id, "alice"))
        assert started["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
        totp_challenge = {"ClientId": client_id, "ChallengeName": "SOFTWARE_TOKEN_MFA"}
        respond = {**totp_challenge, "Session": started["Session"]}
        code = local.totp_code("alice")
        wrong = {"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": wrong_totp(local, secret)}
        await w.refused("CodeMismatchException", RESPOND, **respond, ChallengeResponses=wrong)
        answer = {"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code}
        done = await w.call(RESPOND, **respond, ChallengeResponses=answer)
        assert done["AuthenticationResult"]["AccessToken"]
        # a code works once
        again = await w.call("InitiateAuth", **password_auth(client_id, "alice"))
        respond = {**totp_challenge, "Session": again["Session"]}
        await w.refused("ExpiredCodeException", RESPOND, **respond, ChallengeResponses=answer)
        # the administrator turns it off: no more MFA at sign-in
        alice = {"UserPoolId": pool_id, "Username": "alice"}
        await w.call("AdminSetUserMFAPreference", **alice, SoftwareTokenMfaSettings={"Enabled": False})
        assert "UserMFASettingList" not in await w.call("AdminGetUser", **alice)
        assert (await sign_in(w, client_id, "alice"))["AccessToken"]
        await w.call("AdminSetUserMFAPreference", **alice, **preferred)
        assert (await w.call("AdminGetUser", **alice))["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"
        started = await w.call("InitiateAuth", **password_auth(client_id, "alice"))
        assert started["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
        # TOTP cannot be turned on before a token is verified
        bob = (await sign_in(w, client_id, "bob"))["AccessToken"]
        await w.refused("InvalidParameterException", "SetUserMFAPreference", AccessToken=bob, **preferred)
        bob_user = {"UserPoolId": pool_id, "Username": "bob"}
        await w.refused("InvalidParameterException", "AdminSetUserMFAPreference", **bob_user, **preferred)
        w.check_walked(test_totp_set_up_with_an_access_token_then_asked_at_sign_in)


@walks("AssociateSoftwareToken", "VerifySoftwareToken", "RespondToAuthChallenge")
async def test_mfa_setup_during_sign_in_with_a_session() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        _pool_id, client_id = await setup(local, "alice", mfa="ON")
        started = await w.call("InitiateAuth", **password_auth(client_id, "alice"))
        assert started["ChallengeName"] == "MFA_SETUP"
        assert json.loads(started["ChallengeParameters"]["MFAS_CAN_SETUP"]) == ["SOFTWARE_TOKEN_MFA"]
        associated = await w.call("AssociateSoftwareToken", Session=started["Session"])
        secret = associated["SecretCode"]
        code = local.totp_code("alice", secret=secret)
        wrong = {"Session": associated["Session"], "UserCode": wrong_totp(local, secret)}
        await w.refused("EnableSoftwareTokenMFAException", "VerifySoftwareToken", **wrong)
        verified = await w.call("VerifySoftwareToken", Session=associated["Session"], UserCode=code)
        assert verified["Status"] == "SUCCESS"
        respond = {"ClientId": client_id, "ChallengeName": "MFA_SETUP", "Session": verified["Session"]}
        done = await w.call(RESPOND, **respond, ChallengeResponses={"USERNAME": "alice"})
        assert done["AuthenticationResult"]["AccessToken"]
        assert local.totp_secret("alice") == secret
        # from now on the sign-in asks for the code of that secret
        again = await w.call("InitiateAuth", **password_auth(client_id, "alice"))
        assert again["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
        w.check_walked(test_mfa_setup_during_sign_in_with_a_session)


# ===== devices ============================================================================================
@walks(
    "ConfirmDevice",
    "UpdateDeviceStatus",
    "AdminUpdateDeviceStatus",
    "GetDevice",
    "AdminGetDevice",
    "ListDevices",
    "AdminListDevices",
    "ForgetDevice",
    "AdminForgetDevice",
)
async def test_devices_confirmed_remembered_listed_and_forgotten() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id, client_id = await setup(local, "alice", "bob", device_tracking="opt-in")
        alice = {"UserPoolId": pool_id, "Username": "alice"}

        async def new_device(name: str) -> tuple[str, str, str]:
            """Sign in, confirm the new device; (device key, access token, refresh token)."""
            result = await sign_in(w, client_id, "alice")
            metadata = result["NewDeviceMetadata"]
            key = metadata["DeviceKey"]
            assert re.fullmatch(r"us-east-1_[0-9a-f-]{36}", key)
            token = result["AccessToken"]
            unconfirmed = {"AccessToken": token, "DeviceKey": key}
            await w.refused("ResourceNotFoundException", "GetDevice", **unconfirmed)
            config = _srp.new_device_secret(metadata["DeviceGroupKey"], key).verifier_config()
            confirm = {"AccessToken": token, "DeviceKey": key, "DeviceSecretVerifierConfig": config}
            confirmed = await w.call("ConfirmDevice", **confirm, DeviceName=name)
            assert confirmed["UserConfirmationNecessary"] is True  # the pool remembers on the user's word
            await w.refused("DeviceKeyExistsException", "ConfirmDevice", **confirm)
            return key, token, result["RefreshToken"]

        def status(device: dict[str, Any]) -> str:
            attributes = {a["Name"]: a["Value"] for a in device["DeviceAttributes"]}
            return attributes["dev:device_remembered_status"]

        laptop, token, refresh = await new_device("laptop")
        device = (await w.call("GetDevice", AccessToken=token, DeviceKey=laptop))["Device"]
        assert {"Name": "device_name", "Value": "laptop"} in device["DeviceAttributes"]
        assert status(device) == "not_remembered"
        mine = {"AccessToken": token, "DeviceKey": laptop}
        await w.call("UpdateDeviceStatus", **mine, DeviceRememberedStatus="remembered")
        assert status((await w.call("GetDevice", **mine))["Device"]) == "remembered"
        theirs = {**alice, "DeviceKey": laptop}
        await w.call("AdminUpdateDeviceStatus", **theirs, DeviceRememberedStatus="not_remembered")
        assert status((await w.call("AdminGetDevice", **theirs))["Device"]) == "not_remembered"
        # the device's key now leads the sign-in to device SRP, and a refresh needs it
        presented = await w.call("InitiateAuth", **password_auth(client_id, "alice", DEVICE_KEY=laptop))
        assert presented["ChallengeName"] == "DEVICE_SRP_AUTH"
        await w.call("InitiateAuth", **refresh_auth(client_id, refresh, DEVICE_KEY=laptop))
        await refresh_refused(w, client_id, refresh)
        phone, token, _ = await new_device("phone")
        first = await w.call("ListDevices", AccessToken=token, Limit=1)
        rest = await w.call(
            "ListDevices", AccessToken=token, Limit=1, PaginationToken=first["PaginationToken"]
        )
        assert [d["DeviceKey"] for d in first["Devices"] + rest["Devices"]] == [laptop, phone]
        assert "PaginationToken" not in rest
        listed = (await w.call("AdminListDevices", **alice))["Devices"]
        assert [d["DeviceKey"] for d in listed] == [laptop, phone]
        # another user's device does not exist for them
        bob = {"UserPoolId": pool_id, "Username": "bob"}
        await w.refused("ResourceNotFoundException", "AdminGetDevice", **bob, DeviceKey=laptop)
        await w.refused("ResourceNotFoundException", "AdminForgetDevice", **bob, DeviceKey=laptop)
        await w.call("ForgetDevice", AccessToken=token, DeviceKey=laptop)
        await w.refused("ResourceNotFoundException", "GetDevice", AccessToken=token, DeviceKey=laptop)
        await refresh_refused(w, client_id, refresh, DEVICE_KEY=laptop)
        listed = (await w.call("ListDevices", AccessToken=token))["Devices"]
        assert [d["DeviceKey"] for d in listed] == [phone]
        await w.call("AdminForgetDevice", **alice, DeviceKey=phone)
        assert (await w.call("AdminListDevices", **alice))["Devices"] == []
        await w.refused("ResourceNotFoundException", "AdminGetDevice", **alice, DeviceKey=phone)
        w.check_walked(test_devices_confirmed_remembered_listed_and_forgotten)


# ===== tokens =============================================================================================
@walks("GetTokensFromRefreshToken", "RevokeToken", "GlobalSignOut", "AdminUserGlobalSignOut", "InitiateAuth")
async def test_refresh_revoke_and_sign_out() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id, client_id = await setup(local, "alice")
        a, b = await sign_in(w, client_id, "alice"), await sign_in(w, client_id, "alice")
        got = await w.call("GetTokensFromRefreshToken", ClientId=client_id, RefreshToken=a["RefreshToken"])
        a_refreshed = got["AuthenticationResult"]
        assert "RefreshToken" not in a_refreshed  # no rotation on this client
        await w.call("GetUser", AccessToken=a_refreshed["AccessToken"])
        # RevokeToken ends that sign-in: its refresh token and every access token issued from it
        access = {"ClientId": client_id, "Token": a["AccessToken"]}
        await w.refused("UnsupportedTokenTypeException", "RevokeToken", **access)
        other = (await local.create_app_client(pool_id, "other", flows=FLOWS)).client_id
        await w.refused("UnauthorizedException", "RevokeToken", ClientId=other, Token=a["RefreshToken"])
        await w.call("RevokeToken", ClientId=client_id, Token=a["RefreshToken"])
        await refresh_refused(w, client_id, a["RefreshToken"])
        refreshed = {"ClientId": client_id, "RefreshToken": a["RefreshToken"]}
        await w.refused("NotAuthorizedException", "GetTokensFromRefreshToken", **refreshed)
        for token in (a["AccessToken"], a_refreshed["AccessToken"]):
            await w.refused("NotAuthorizedException", "GetUser", AccessToken=token)
        # the other sign-in goes on
        await w.call("GetUser", AccessToken=b["AccessToken"])
        await w.call("InitiateAuth", **refresh_auth(client_id, b["RefreshToken"]))
        # GlobalSignOut / AdminUserGlobalSignOut: every token of the user
        await w.call("GlobalSignOut", AccessToken=b["AccessToken"])
        await w.refused("NotAuthorizedException", "GetUser", AccessToken=b["AccessToken"])
        await refresh_refused(w, client_id, b["RefreshToken"])
        c = await sign_in(w, client_id, "alice")
        await w.call("AdminUserGlobalSignOut", UserPoolId=pool_id, Username="alice")
        await w.refused("NotAuthorizedException", "GetUser", AccessToken=c["AccessToken"])
        await refresh_refused(w, client_id, c["RefreshToken"])
        nobody = {"UserPoolId": pool_id, "Username": "nobody"}
        await w.refused("UserNotFoundException", "AdminUserGlobalSignOut", **nobody)
        # with rotation, each refresh gives a new refresh token and the old one is spent
        rotating = await local.create_app_client(pool_id, "rotating", flows=FLOWS, rotation=True)
        first = (await sign_in(w, rotating.client_id, "alice"))["RefreshToken"]
        spent = {"ClientId": rotating.client_id, "RefreshToken": first}
        second = (await w.call("GetTokensFromRefreshToken", **spent))["AuthenticationResult"]["RefreshToken"]
        assert second != first
        await w.refused("RefreshTokenReuseException", "GetTokensFromRefreshToken", **spent)
        await w.call("GetTokensFromRefreshToken", ClientId=rotating.client_id, RefreshToken=second)
        w.check_walked(test_refresh_revoke_and_sign_out)


# ===== sign-up and recovery codes =========================================================================
@walks("SignUp", "ConfirmSignUp", "ResendConfirmationCode")
async def test_sign_up_confirmed_with_the_latest_code() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id, client_id = await setup(local, AutoVerifiedAttributes=["email"])
        email = [{"Name": "email", "Value": "erin@example.com"}]
        new = {"ClientId": client_id, "Username": "erin"}
        await w.refused("InvalidPasswordException", "SignUp", **new, Password="weak", UserAttributes=email)
        signed_up = await w.call("SignUp", **new, Password=PASSWORD, UserAttributes=email)
        assert signed_up["UserConfirmed"] is False
        assert signed_up["CodeDeliveryDetails"] == {
            "Destination": "e***@e***",
            "DeliveryMedium": "EMAIL",
            "AttributeName": "email",
        }
        erin = {"UserPoolId": pool_id, "Username": "erin"}
        got = await w.call("AdminGetUser", **erin)
        assert got["UserStatus"] == "UNCONFIRMED"
        assert {"Name": "sub", "Value": signed_up["UserSub"]} in got["UserAttributes"]
        await sign_in_refused(w, "UserNotConfirmedException", client_id, "erin")
        await w.refused("UsernameExistsException", "SignUp", **new, Password=PASSWORD, UserAttributes=email)
        first = local.last_code("erin", purpose="SIGN_UP")
        resent = await w.call("ResendConfirmationCode", **new)
        assert resent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
        latest = local.last_code("erin", purpose="SIGN_UP")
        assert len(local.messages("erin", purpose="SIGN_UP")) == 2
        if latest != first:  # only the latest code counts
            await w.refused("CodeMismatchException", "ConfirmSignUp", **new, ConfirmationCode=first)
        await w.call("ConfirmSignUp", **new, ConfirmationCode=latest)
        got = await w.call("AdminGetUser", **erin)
        assert got["UserStatus"] == "CONFIRMED"
        assert {"Name": "email_verified", "Value": "true"} in got["UserAttributes"]  # the code went there
        await w.refused("NotAuthorizedException", "ConfirmSignUp", **new, ConfirmationCode=latest)
        await w.refused("InvalidParameterException", "ResendConfirmationCode", **new)
        assert (await sign_in(w, client_id, "erin"))["AccessToken"]
        nobody = {"ClientId": client_id, "Username": "nobody"}
        await w.refused("UserNotFoundException", "ResendConfirmationCode", **nobody)
        w.check_walked(test_sign_up_confirmed_with_the_latest_code)


@walks("ForgotPassword", "ConfirmForgotPassword")
async def test_forgot_password_code_sets_a_new_password_once() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id, client_id = await setup(local, "alice")
        alice = {"ClientId": client_id, "Username": "alice"}
        sent = (await w.call("ForgotPassword", **alice))["CodeDeliveryDetails"]
        assert (sent["DeliveryMedium"], sent["Destination"]) == ("EMAIL", "a***@e***")
        code = local.last_code("alice", purpose="FORGOT_PASSWORD")
        assert local.messages("alice", purpose="FORGOT_PASSWORD")[-1].destination == "alice@example.com"
        confirm = {**alice, "ConfirmationCode": code, "Password": NEW_PASSWORD}
        for error, change in (
            ("CodeMismatchException", {"ConfirmationCode": other_code(code)}),
            ("InvalidPasswordException", {"Password": "weak"}),
        ):
            await w.refused(error, "ConfirmForgotPassword", **{**confirm, **change})
        await sign_in(w, client_id, "alice")  # nothing changed yet
        await w.call("ConfirmForgotPassword", **confirm)
        await sign_in_refused(w, "NotAuthorizedException", client_id, "alice")
        assert (await sign_in(w, client_id, "alice", NEW_PASSWORD))["AccessToken"]
        await w.refused("ExpiredCodeException", "ConfirmForgotPassword", **{**confirm, "Password": PASSWORD})
        await w.refused("UserNotFoundException", "ForgotPassword", ClientId=client_id, Username="nobody")
        # nowhere verified to send a code to
        await local.create_user(pool_id, "bob", PASSWORD)
        await w.refused("InvalidParameterException", "ForgotPassword", ClientId=client_id, Username="bob")
        w.check_walked(test_forgot_password_code_sets_a_new_password_once)


# ===== a user's own account ===============================================================================
@walks(
    "UpdateUserAttributes",
    "AdminUpdateUserAttributes",
    "GetUserAttributeVerificationCode",
    "VerifyUserAttribute",
    "DeleteUserAttributes",
)
async def test_changed_email_is_verified_by_its_code() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id, client_id = await setup(local, "alice", AutoVerifiedAttributes=["email"])
        token = (await sign_in(w, client_id, "alice"))["AccessToken"]
        change = [{"Name": "email", "Value": "new@example.com"}, {"Name": "given_name", "Value": "Al"}]
        updated = await w.call("UpdateUserAttributes", AccessToken=token, UserAttributes=change)
        [delivery] = updated["CodeDeliveryDetailsList"]
        assert (delivery["AttributeName"], delivery["DeliveryMedium"]) == ("email", "EMAIL")
        attrs = await attributes_of(w, token)
        assert (attrs["email"], attrs["email_verified"]) == ("new@example.com", "false")  # not yet verified
        assert attrs["given_name"] == "Al"
        sent = local.messages("alice", purpose="VERIFY_ATTRIBUTE")
        assert [m.destination for m in sent] == ["new@example.com"]
        verify = {"AccessToken": token, "AttributeName": "email"}
        first = local.last_code("alice", purpose="VERIFY_ATTRIBUTE")
        await w.refused("CodeMismatchException", "VerifyUserAttribute", **verify, Code=other_code(first))
        again = await w.call("GetUserAttributeVerificationCode", **verify)
        assert again["CodeDeliveryDetails"]["Destination"] == "n***@e***"
        latest = local.last_code("alice", purpose="VERIFY_ATTRIBUTE")
        if latest != first:  # only the latest code counts
            await w.refused("CodeMismatchException", "VerifyUserAttribute", **verify, Code=first)
        await w.call("VerifyUserAttribute", **verify, Code=latest)
        assert (await attributes_of(w, token))["email_verified"] == "true"
        await w.refused("ExpiredCodeException", "VerifyUserAttribute", **verify, Code=latest)
        # the verified address now receives recovery codes
        await w.call("ForgotPassword", ClientId=client_id, Username="alice")
        assert local.messages("alice", purpose="FORGOT_PASSWORD")[-1].destination == "new@example.com"
        # an administrator may set a verified value at once: no code goes out
        admin_change = [
            {"Name": "email", "Value": "admin@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ]
        alice = {"UserPoolId": pool_id, "Username": "alice"}
        await w.call("AdminUpdateUserAttributes", **alice, UserAttributes=admin_change)
        attrs = await attributes_of(w, token)
        assert (attrs["email"], attrs["email_verified"]) == ("admin@example.com", "true")
        assert len(local.messages("alice", purpose="VERIFY_ATTRIBUTE")) == 2
        unknown = {"AccessToken": token, "UserAttributes": [{"Name": "shoe_size", "Value": "42"}]}
        await w.refused("InvalidParameterException", "UpdateUserAttributes", **unknown)
        await w.call("DeleteUserAttributes", AccessToken=token, UserAttributeNames=["given_name"])
        assert "given_name" not in await attributes_of(w, token)
        sub = {"AccessToken": token, "UserAttributeNames": ["sub"]}
        await w.refused("InvalidParameterException", "DeleteUserAttributes", **sub)
        w.check_walked(test_changed_email_is_verified_by_its_code)


@walks("InitiateAuth")
async def test_changed_email_is_verified_through_the_project_client() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        _pool_id, client_id = await setup(local, "alice", AutoVerifiedAttributes=["email"])
        token = (await sign_in(w, client_id, "alice"))["AccessToken"]
        async with local.client() as c:
            change = [{"Name": "email", "Value": "moved@example.com"}]
            updated = await c.update_user_attributes(AccessToken=token, UserAttributes=change)
            assert updated["CodeDeliveryDetailsList"][0]["AttributeName"] == "email"
            code = local.last_code("alice", purpose="VERIFY_ATTRIBUTE")
            with pytest.raises(errors.CodeMismatchException):
                await c.verify_user_attribute(AccessToken=token, AttributeName="email", Code=other_code(code))
            await c.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
            attrs = {a["Name"]: a["Value"] for a in (await c.get_user(AccessToken=token))["UserAttributes"]}
        assert (attrs["email"], attrs["email_verified"]) == ("moved@example.com", "true")
        w.check_walked(test_changed_email_is_verified_through_the_project_client)


@walks("DeleteUser")
async def test_deleted_user_cannot_sign_in() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id, client_id = await setup(local, "alice", "bob")
        result = await sign_in(w, client_id, "alice")
        await w.call("DeleteUser", AccessToken=result["AccessToken"])
        await sign_in_refused(w, "UserNotFoundException", client_id, "alice")
        await w.refused("UserNotFoundException", "AdminGetUser", UserPoolId=pool_id, Username="alice")
        await w.refused("NotAuthorizedException", "GetUser", AccessToken=result["AccessToken"])
        await w.refused("NotAuthorizedException", "DeleteUser", AccessToken=result["AccessToken"])
        await refresh_refused(w, client_id, result["RefreshToken"])
        # a client that hides which users exist answers as for a wrong password
        hiding = await local.create_app_client(
            pool_id, "x", flows=FLOWS, PreventUserExistenceErrors="ENABLED"
        )
        refused = await sign_in_refused(w, "NotAuthorizedException", hiding.client_id, "alice")
        assert refused.message == "Incorrect username or password."
        # the others stay
        assert (await sign_in(w, client_id, "bob"))["AccessToken"]
        w.check_walked(test_deleted_user_cannot_sign_in)
