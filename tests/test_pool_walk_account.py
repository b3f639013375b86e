"""The walk over a user's factors, settings, sessions and auth events, against a real LocalUserPool."""

from __future__ import annotations

from typing import Any

import pytest
from walk import Walker, walks

from aiocognito.testing import LocalUserPool
from aiocognito.testing._api.account import (
    AUTH_EVENTS,
    configured_auth_factors,
    record_auth_event,
    session_id,
)
from aiocognito.testing._records import User, UserPool

PASSWORD = "Passw0rd!"
FLOWS = ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")


async def sign_in(w: Walker, client_id: str, username: str = "alice") -> dict[str, Any]:
    """A USER_PASSWORD_AUTH sign-in: its AuthenticationResult."""
    answer = await w.call(
        "InitiateAuth",
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    result: dict[str, Any] = answer["AuthenticationResult"]
    return result


async def refresh(w: Walker, client_id: str, refresh_token: str) -> dict[str, Any]:
    return await w.call(
        "InitiateAuth",
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )


@walks(
    "GetUserAuthFactors",
    "AdminGetUserAuthFactors",
    "SetUserSettings",
    "AdminSetUserSettings",
    "AdminDeleteSoftwareToken",
)
async def test_factors_settings_and_deleting_the_authenticator() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await local.create_user_pool(
            mfa="OPTIONAL",
            totp=True,
            sms=True,
            Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP", "SMS_OTP"]}},
        )
        app = await local.create_app_client(pool_id, flows=FLOWS)
        attributes = {"email": "alice@example.com", "email_verified": "true", "phone_number": "+15550100"}
        await local.create_user(pool_id, "alice", PASSWORD, attributes=attributes)
        token = (await sign_in(w, app.client_id))["AccessToken"]
        admin = {"UserPoolId": pool_id, "Username": "alice"}

        # a password and a verified email; the phone number is not verified
        factors = await w.call("GetUserAuthFactors", AccessToken=token)
        assert factors == {"Username": "alice", "ConfiguredUserAuthFactors": ["PASSWORD", "EMAIL_OTP"]}

        # legacy settings: SMS MFA on, shown by AdminGetUser and the factors; then off again
        sms = [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
        await w.call("AdminSetUserSettings", **admin, MFAOptions=sms)
        assert (await w.call("AdminGetUser", **admin))["MFAOptions"] == sms
        factors = await w.call("AdminGetUserAuthFactors", **admin)
        assert factors["UserMFASettingList"] == ["SMS_MFA"]
        assert factors["ConfiguredUserAuthFactors"] == ["PASSWORD", "EMAIL_OTP", "SMS_OTP"]
        await w.call("SetUserSettings", AccessToken=token, MFAOptions=[])
        assert "MFAOptions" not in await w.call("AdminGetUser", **admin)
        assert "UserMFASettingList" not in await w.call("AdminGetUserAuthFactors", **admin)
        email = [{"DeliveryMedium": "EMAIL", "AttributeName": "email"}]
        await w.refused("InvalidParameterException", "AdminSetUserSettings", **admin, MFAOptions=email)
        await w.refused("InvalidParameterException", "SetUserSettings", AccessToken=token, MFAOptions=email)

        # an authenticator app, preferred; AdminDeleteSoftwareToken removes it and the preference
        await w.call("AssociateSoftwareToken", AccessToken=token)
        code = local.totp_code("alice", user_pool_id=pool_id)
        await w.call("VerifySoftwareToken", AccessToken=token, UserCode=code)
        await w.call(
            "SetUserMFAPreference",
            AccessToken=token,
            SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
        )
        factors = await w.call("AdminGetUserAuthFactors", **admin)
        assert factors["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"
        assert factors["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
        assert factors["ConfiguredUserAuthFactors"][-1] == "SOFTWARE_TOKEN"
        await w.call("AdminDeleteSoftwareToken", **admin)
        factors = await w.call("GetUserAuthFactors", AccessToken=token)
        assert factors == {"Username": "alice", "ConfiguredUserAuthFactors": ["PASSWORD", "EMAIL_OTP"]}
        with pytest.raises(LookupError):
            local.totp_secret("alice", user_pool_id=pool_id)
        await w.refused("ResourceNotFoundException", "AdminDeleteSoftwareToken", **admin)

        # who is asked about
        await w.refused(
            "UserNotFoundException", "AdminGetUserAuthFactors", UserPoolId=pool_id, Username="nobody"
        )
        await w.refused("NotAuthorizedException", "GetUserAuthFactors", AccessToken="not.a.token")
        await w.refused(
            "ResourceNotFoundException",
            "AdminDeleteSoftwareToken",
            UserPoolId="us-east-1_nothere0",
            Username="a",
        )
        w.check_walked(test_factors_settings_and_deleting_the_authenticator)


def test_configured_auth_factors_with_passkeys() -> None:
    pool = UserPool("us-east-1_a", "p", "us-east-1", "1", "arn", 0.0, 0.0)
    pool.config["Policies"] = {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}}
    user = User("alice", "sub-1", 0.0, 0.0, password="x")
    assert configured_auth_factors(pool, user, mfa_factors=[], has_passkeys=True) == ["PASSWORD", "WEB_AUTHN"]
    assert configured_auth_factors(pool, user, mfa_factors=[], has_passkeys=False) == ["PASSWORD"]
    pool.config["Policies"] = {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]}}
    assert configured_auth_factors(pool, user, mfa_factors=[], has_passkeys=True) == ["PASSWORD"]
    pool.mfa["WebAuthnConfiguration"] = {"FactorConfiguration": "MULTI_FACTOR_WITH_USER_VERIFICATION"}
    assert configured_auth_factors(pool, user, mfa_factors=["EMAIL_OTP"], has_passkeys=True) == [
        "PASSWORD",
        "EMAIL_OTP",
        "WEB_AUTHN",
    ]


@walks("ListUserSessions", "AdminListUserSessions", "RevokeUserSession", "AdminRevokeUserSession")
async def test_sessions_are_sign_ins_and_revoking_one_ends_it() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await local.create_user_pool()
        app = await local.create_app_client(pool_id, flows=FLOWS)
        await local.create_user(pool_id, "alice", PASSWORD)
        admin = {"UserPoolId": pool_id, "Username": "alice"}
        await w.call(
            "SetUserPoolSessionConfiguration",
            UserPoolId=pool_id,
            UserSessionTracking="ENABLED",
            TokenSession={"MaxPerUser": 20},
        )
        first = await sign_in(w, app.client_id)
        local.advance_clock(5)
        second = await sign_in(w, app.client_id)

        sessions = (await w.call("ListUserSessions", AccessToken=first["AccessToken"]))["Sessions"]
        assert len(sessions) == 2
        assert [s["IsCurrentSession"] for s in sessions] == [False, True]  # newest first
        assert {s["ClientId"] for s in sessions} == {app.client_id}
        assert all(s["SessionType"] == "TOKEN" and s["SessionId"].startswith("tkn") for s in sessions)
        mine, theirs = sessions[1]["SessionId"], sessions[0]["SessionId"]
        assert sessions[0]["CreateDate"] > sessions[1]["CreateDate"]
        assert all(first[k] not in str(sessions) for k in ("AccessToken", "RefreshToken", "IdToken"))

        # a refresh marks the session active, and keeps its id
        local.advance_clock(10)
        await refresh(w, app.client_id, first["RefreshToken"])
        listed = (await w.call("AdminListUserSessions", **admin))["Sessions"]
        assert {s["SessionId"] for s in listed} == {mine, theirs}
        assert not any(s["IsCurrentSession"] for s in listed)
        again = next(s for s in listed if s["SessionId"] == mine)
        assert again["LastActiveDate"] >= again["CreateDate"] + 15

        # a user cannot revoke the session they call from; another one ends with its tokens
        await w.refused(
            "InvalidParameterException", "RevokeUserSession", AccessToken=first["AccessToken"], SessionId=mine
        )
        await w.call("RevokeUserSession", AccessToken=first["AccessToken"], SessionId=theirs)
        refused = await w.refused(
            "NotAuthorizedException",
            "InitiateAuth",
            ClientId=app.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": second["RefreshToken"]},
        )
        assert refused.message == "Refresh Token has been revoked"
        await w.refused("NotAuthorizedException", "GetUser", AccessToken=second["AccessToken"])
        await refresh(w, app.client_id, first["RefreshToken"])  # the other one still works
        listed = (await w.call("AdminListUserSessions", **admin))["Sessions"]
        assert [s["SessionId"] for s in listed] == [mine]

        # the administrator ends the last one
        await w.call("AdminRevokeUserSession", **admin, SessionId=mine)
        await w.refused(
            "NotAuthorizedException",
            "InitiateAuth",
            ClientId=app.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]},
        )
        assert (await w.call("AdminListUserSessions", **admin))["Sessions"] == []
        await w.refused("ResourceNotFoundException", "AdminRevokeUserSession", **admin, SessionId=mine)
        await w.refused(
            "ResourceNotFoundException", "AdminRevokeUserSession", **admin, SessionId="sso" + "a" * 25
        )

        # another user's session is not theirs to name
        await local.create_user(pool_id, "bob", PASSWORD)
        bob = await sign_in(w, app.client_id, "bob")
        bobs = (await w.call("ListUserSessions", AccessToken=bob["AccessToken"]))["Sessions"][0]["SessionId"]
        await w.refused("ResourceNotFoundException", "AdminRevokeUserSession", **admin, SessionId=bobs)
        await w.refused(
            "UserNotFoundException", "AdminListUserSessions", UserPoolId=pool_id, Username="nobody"
        )
        w.check_walked(test_sessions_are_sign_ins_and_revoking_one_ends_it)


async def test_without_session_tracking_there_are_no_session_records() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await local.create_user_pool()
        app = await local.create_app_client(pool_id, flows=FLOWS)
        await local.create_user(pool_id, "alice", PASSWORD)
        tokens = await sign_in(w, app.client_id)
        assert (await w.call("ListUserSessions", AccessToken=tokens["AccessToken"]))["Sessions"] == []
        assert (await w.call("AdminListUserSessions", UserPoolId=pool_id, Username="alice"))["Sessions"] == []
        await w.refused(
            "ResourceNotFoundException",
            "AdminRevokeUserSession",
            UserPoolId=pool_id,
            Username="alice",
            SessionId=session_id("anything"),
        )
        await refresh(w, app.client_id, tokens["RefreshToken"])


@walks("AdminListUserAuthEvents", "AdminUpdateAuthEventFeedback", "UpdateAuthEventFeedback")
async def test_auth_events_need_threat_protection_and_take_feedback() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        plain = await local.create_user_pool("plain")
        await local.create_user(plain, "alice", PASSWORD)
        state = local._state  # until sign-in records events itself
        plain_pool = state.pools[plain]
        assert (
            record_auth_event(
                state, plain_pool, plain_pool.users["alice"], event_type="SignIn", response="Pass"
            )
            is None
        )
        alice = {"UserPoolId": plain, "Username": "alice"}
        await w.refused("UserPoolAddOnNotEnabledException", "AdminListUserAuthEvents", **alice)
        await w.refused(
            "UserPoolAddOnNotEnabledException",
            "AdminUpdateAuthEventFeedback",
            **alice,
            EventId="e",
            FeedbackValue="Valid",
        )

        pool_id = await local.create_user_pool(
            "guarded", UserPoolTier="PLUS", UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"}
        )
        await local.create_user(pool_id, "alice", PASSWORD)
        pool = state.pools[pool_id]
        user = pool.users["alice"]
        failed = record_auth_event(
            state, pool, user, event_type="SignIn", response="Fail", challenges=[("Password", "Failure")]
        )
        local.advance_clock(1)
        passed = record_auth_event(
            state,
            pool,
            user,
            event_type="SignIn",
            response="Pass",
            challenges=[("Password", "Success"), ("Mfa", "Success")],
            context={"IpAddress": "127.0.0.1", "DeviceName": "test"},
        )
        assert failed is not None and passed is not None
        assert passed.feedback_token not in repr(passed)
        alice = {"UserPoolId": pool_id, "Username": "alice"}

        first = await w.call("AdminListUserAuthEvents", **alice, MaxResults=1)
        assert [e["EventId"] for e in first["AuthEvents"]] == [passed.event_id]  # newest first
        newest = first["AuthEvents"][0]
        assert newest["EventResponse"] == "Pass" and newest["EventType"] == "SignIn"
        assert newest["EventRisk"] == {"RiskDecision": "NoRisk", "CompromisedCredentialsDetected": False}
        assert newest["ChallengeResponses"][1] == {"ChallengeName": "Mfa", "ChallengeResponse": "Success"}
        assert newest["EventContextData"]["IpAddress"] == "127.0.0.1"
        rest = await w.call("AdminListUserAuthEvents", **alice, NextToken=first["NextToken"])
        assert [e["EventId"] for e in rest["AuthEvents"]] == [failed.event_id] and "NextToken" not in rest
        everything = await w.call("AdminListUserAuthEvents", **alice, MaxResults=0)
        assert len(everything["AuthEvents"]) == 2

        await w.call(
            "AdminUpdateAuthEventFeedback", **alice, EventId=failed.event_id, FeedbackValue="Invalid"
        )
        await w.refused(
            "NotAuthorizedException",
            "UpdateAuthEventFeedback",
            **alice,
            EventId=passed.event_id,
            FeedbackToken=failed.feedback_token,
            FeedbackValue="Valid",
        )
        await w.call(
            "UpdateAuthEventFeedback",
            **alice,
            EventId=passed.event_id,
            FeedbackToken=passed.feedback_token,
            FeedbackValue="Valid",
        )
        events = {e["EventId"]: e for e in (await w.call("AdminListUserAuthEvents", **alice))["AuthEvents"]}
        assert events[failed.event_id]["EventFeedback"]["FeedbackValue"] == "Invalid"
        assert events[failed.event_id]["EventFeedback"]["Provider"] == "Admin"
        assert events[passed.event_id]["EventFeedback"]["FeedbackValue"] == "Valid"
        assert events[passed.event_id]["EventFeedback"]["Provider"] == "User"
        assert AUTH_EVENTS in pool.features

        await w.refused(
            "ResourceNotFoundException",
            "AdminUpdateAuthEventFeedback",
            **alice,
            EventId="no-such-event",
            FeedbackValue="Valid",
        )
        await w.refused(
            "UserNotFoundException", "AdminListUserAuthEvents", UserPoolId=pool_id, Username="nobody"
        )
        w.check_walked(test_auth_events_need_threat_protection_and_take_feedback)


@walks("SetUserPoolSessionConfiguration", "AdminListUserSessions")
async def test_a_sign_in_beyond_max_per_user_ends_the_least_recently_used_session() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await local.create_user_pool()
        app = await local.create_app_client(pool_id, flows=FLOWS)
        await local.create_user(pool_id, "alice", PASSWORD)
        await w.call(
            "SetUserPoolSessionConfiguration",
            UserPoolId=pool_id,
            UserSessionTracking="ENABLED",
            TokenSession={"MaxPerUser": 2},
        )
        first = await sign_in(w, app.client_id)
        local.advance_clock(5)
        second = await sign_in(w, app.client_id)
        local.advance_clock(5)
        await refresh(w, app.client_id, first["RefreshToken"])  # the first is now the more recent one
        local.advance_clock(5)
        third = await sign_in(w, app.client_id)
        listed = (await w.call("AdminListUserSessions", UserPoolId=pool_id, Username="alice"))["Sessions"]
        assert len(listed) == 2
        refused = await w.refused(
            "NotAuthorizedException",
            "InitiateAuth",
            ClientId=app.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": second["RefreshToken"]},
        )
        assert refused.message == "Refresh Token has been revoked"
        for kept in (first, third):
            await refresh(w, app.client_id, kept["RefreshToken"])
        w.check_walked(test_a_sign_in_beyond_max_per_user_ends_the_least_recently_used_session)
