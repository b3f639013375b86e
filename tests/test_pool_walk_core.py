"""The walk over pools, app clients (and their secrets), users and groups, over the raw wire.

Each scenario checks what an operation did (Describe after Create, the refusal after Delete, a sign-in
after a password change, the ``cognito:groups`` claim after a membership change), not only its 200, and
the shapes of Cognito's identifiers: pool ids ``<region>_<9 letters and digits>``, app client ids of 26
lowercase letters and digits, secrets of 51, pool ARNs naming a 12-digit account.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from walk import Walker, WalkError, walks

import aiocognito
from aiocognito.testing import LocalUserPool

PASSWORD = "Passw0rd!long"
NEW_PASSWORD = "N3w-Passw0rd!"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
CLIENT_ID = re.compile(r"[a-z0-9]{26}")
SECRET = re.compile(r"[a-z0-9]{51}")


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


async def new_pool(w: Walker, name: str = "p", **settings: Any) -> str:
    return str((await w.call("CreateUserPool", PoolName=name, **settings))["UserPool"]["Id"])


async def new_client(w: Walker, pool_id: str, *, secret: bool = False, **settings: Any) -> dict[str, Any]:
    settings.setdefault("ExplicitAuthFlows", FLOWS)
    params = {"UserPoolId": pool_id, "ClientName": "app", "GenerateSecret": secret, **settings}
    client: dict[str, Any] = (await w.call("CreateUserPoolClient", **params))["UserPoolClient"]
    return client


async def new_user(w: Walker, pool_id: str, name: str, **attributes: str) -> None:
    """A CONFIRMED user with PASSWORD (AdminCreateUser, no invitation, then a permanent password)."""
    listed = [{"Name": k, "Value": v} for k, v in attributes.items()]
    p = {"UserPoolId": pool_id, "Username": name}
    await w.call("AdminCreateUser", **p, UserAttributes=listed, MessageAction="SUPPRESS")
    await w.call("AdminSetUserPassword", **p, Password=PASSWORD, Permanent=True)


def password_auth(client_id: str, name: str, password: str = PASSWORD, **extra: str) -> dict[str, Any]:
    """InitiateAuth's parameters for USER_PASSWORD_AUTH."""
    auth = {"USERNAME": name, "PASSWORD": password, **extra}
    return {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id, "AuthParameters": auth}


async def sign_in(
    w: Walker, client_id: str, name: str, password: str = PASSWORD, **extra: str
) -> dict[str, Any]:
    """USER_PASSWORD_AUTH; the AuthenticationResult."""
    started = await w.call("InitiateAuth", **password_auth(client_id, name, password, **extra))
    result: dict[str, Any] = started["AuthenticationResult"]
    return result


async def sign_in_refused(
    w: Walker, code: str, client_id: str, name: str, password: str = PASSWORD, **extra: str
) -> WalkError:
    return await w.refused(code, "InitiateAuth", **password_auth(client_id, name, password, **extra))


async def user_of(w: Walker, pool_id: str, name: str) -> dict[str, Any]:
    """AdminGetUser, plus ``attrs``: its attributes as a dict."""
    got = await w.call("AdminGetUser", UserPoolId=pool_id, Username=name)
    got["attrs"] = {a["Name"]: a["Value"] for a in got["UserAttributes"]}
    return got


async def described(w: Walker, pool_id: str, client_id: str | None = None) -> dict[str, Any]:
    """DescribeUserPool, or DescribeUserPoolClient when ``client_id`` is given."""
    if client_id is None:
        pool: dict[str, Any] = (await w.call("DescribeUserPool", UserPoolId=pool_id))["UserPool"]
        return pool
    found = await w.call("DescribeUserPoolClient", UserPoolId=pool_id, ClientId=client_id)
    client: dict[str, Any] = found["UserPoolClient"]
    return client


async def all_pages(
    w: Walker, op: str, items: str, token: str, size: str, per_page: int, **params: Any
) -> list[Any]:
    """Every item of a paginated listing, ``per_page`` at a time (each page checked to be no bigger)."""
    found: list[Any] = []
    next_token: str | None = None
    while True:
        listed = await w.call(op, **params, **{size: per_page}, **({token: next_token} if next_token else {}))
        assert len(listed[items]) <= per_page
        found += listed[items]
        next_token = listed.get(token)
        if next_token is None:
            return found


# ===== pools ==============================================================================================
@walks(
    "CreateUserPool",
    "DescribeUserPool",
    "UpdateUserPool",
    "DeleteUserPool",
    "ListUserPools",
    "AddCustomAttributes",
)
async def test_user_pools_live_and_die_as_cognito_keeps_them() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url, region="eu-west-2") as w:
        tier = {"Name": "tier", "AttributeDataType": "String", "Mutable": True}
        policies = {"PasswordPolicy": {"MinimumLength": 12}}
        settings = {"Policies": policies, "AutoVerifiedAttributes": ["email"], "DeletionProtection": "ACTIVE"}
        created = (await w.call("CreateUserPool", PoolName="shop", Schema=[tier], **settings))["UserPool"]
        pool_id = created["Id"]
        p = {"UserPoolId": pool_id}
        # the id names the region the request was signed for; the ARN names it and a 12-digit account
        assert re.fullmatch(r"eu-west-2_[0-9A-Za-z]{9}", pool_id), pool_id
        assert re.fullmatch(rf"arn:aws:cognito-idp:eu-west-2:[0-9]{{12}}:userpool/{pool_id}", created["Arn"])
        pool = await described(w, pool_id)
        assert pool["Name"] == "shop" and pool["Arn"] == created["Arn"]
        policy = pool["Policies"]["PasswordPolicy"]
        assert policy["MinimumLength"] == 12 and policy["RequireSymbols"] is True  # given over the defaults
        assert pool["AutoVerifiedAttributes"] == ["email"]
        schema = {a["Name"]: a for a in pool["SchemaAttributes"]}
        assert {"sub", "email", "phone_number", "custom:tier"} <= set(schema)
        assert schema["custom:tier"]["Required"] is False and schema["sub"]["Mutable"] is False
        assert pool["EstimatedNumberOfUsers"] == 0
        await new_user(w, pool_id, "alice")
        assert (await described(w, pool_id))["EstimatedNumberOfUsers"] == 1
        weak = {"Username": "alice", "Password": "Sh0rt!pass", "Permanent": True}  # 10 < 12 characters
        await w.refused("InvalidPasswordException", "AdminSetUserPassword", **p, **weak)
        # AddCustomAttributes: a new custom: attribute, never the same name twice
        plan = {"Name": "plan", "AttributeDataType": "Number", "Mutable": True}
        await w.call("AddCustomAttributes", **p, CustomAttributes=[plan])
        schema = {a["Name"]: a for a in (await described(w, pool_id))["SchemaAttributes"]}
        assert schema["custom:plan"]["AttributeDataType"] == "Number"
        await w.refused("InvalidParameterException", "AddCustomAttributes", **p, CustomAttributes=[tier])
        value = [{"Name": "custom:plan", "Value": "3"}]
        await w.call("AdminCreateUser", **p, Username="bob", UserAttributes=value, MessageAction="SUPPRESS")
        assert (await user_of(w, pool_id, "bob"))["attrs"]["custom:plan"] == "3"
        # UpdateUserPool: what it is not given goes back to the default (Cognito's documented behaviour)
        await w.call("UpdateUserPool", **p, DeletionProtection="ACTIVE", MfaConfiguration="OFF")
        pool = await described(w, pool_id)
        assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
        assert "AutoVerifiedAttributes" not in pool and pool["DeletionProtection"] == "ACTIVE"
        assert "custom:tier" in {a["Name"] for a in pool["SchemaAttributes"]}  # the schema stays
        assert pool["LastModifiedDate"] >= pool["CreationDate"]
        await w.call("AdminSetUserPassword", **p, **weak)  # the default policy takes 10 characters
        # ListUserPools pages through every pool once
        others = [await new_pool(w, f"other-{i}") for i in range(3)]
        listed = await all_pages(w, "ListUserPools", "UserPools", "NextToken", "MaxResults", 2)
        assert sorted(x["Id"] for x in listed) == sorted([pool_id, *others])
        await w.refused("InvalidParameterException", "ListUserPools", MaxResults=2, NextToken="not-a-token")
        # deletion protection holds the pool until it is lifted
        await w.refused("InvalidParameterException", "DeleteUserPool", **p)
        await w.call("UpdateUserPool", **p, DeletionProtection="INACTIVE")
        await w.call("DeleteUserPool", **p)
        await w.refused("ResourceNotFoundException", "DescribeUserPool", **p)
        await w.refused("ResourceNotFoundException", "AdminGetUser", **p, Username="alice")
        await w.refused("ResourceNotFoundException", "DeleteUserPool", **p)
        listed = (await w.call("ListUserPools", MaxResults=60))["UserPools"]
        assert pool_id not in {x["Id"] for x in listed} and len(listed) == 3
        both = {"AliasAttributes": ["email"], "UsernameAttributes": ["email"]}
        await w.refused("InvalidParameterException", "CreateUserPool", PoolName="both", **both)
        w.check_walked(test_user_pools_live_and_die_as_cognito_keeps_them)


@walks("SetUserPoolMfaConfig", "GetUserPoolMfaConfig")
async def test_pool_mfa_configuration_is_kept_and_answered() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await new_pool(w)
        p = {"UserPoolId": pool_id}
        assert (await w.call("GetUserPoolMfaConfig", **p))["MfaConfiguration"] == "OFF"
        # ON with no factor at all cannot work
        await w.refused("InvalidParameterException", "SetUserPoolMfaConfig", **p, MfaConfiguration="ON")
        email = {"Message": "Your code is {####}", "Subject": "Code"}
        totp = {"SoftwareTokenMfaConfiguration": {"Enabled": True}}
        optional = {**p, "MfaConfiguration": "OPTIONAL", "EmailMfaConfiguration": email}
        answered = await w.call("SetUserPoolMfaConfig", **optional, **totp)
        got = await w.call("GetUserPoolMfaConfig", **p)
        assert got["MfaConfiguration"] == answered["MfaConfiguration"] == "OPTIONAL"
        assert got["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
        assert got["EmailMfaConfiguration"] == answered["EmailMfaConfiguration"] == email
        assert (await described(w, pool_id))["MfaConfiguration"] == "OPTIONAL"
        # a factor left out of the next call is off
        await w.call("SetUserPoolMfaConfig", **p, MfaConfiguration="ON", **totp)
        got = await w.call("GetUserPoolMfaConfig", **p)
        assert got["MfaConfiguration"] == "ON" and "EmailMfaConfiguration" not in got
        await w.call("SetUserPoolMfaConfig", **p, MfaConfiguration="OFF")
        got = await w.call("GetUserPoolMfaConfig", **p)
        assert got["MfaConfiguration"] == "OFF" and "SoftwareTokenMfaConfiguration" not in got
        assert (await described(w, pool_id))["MfaConfiguration"] == "OFF"
        # the LITE tier has no email MFA
        lite = {**optional, "UserPoolId": await new_pool(w, "lite", UserPoolTier="LITE")}
        await w.refused("FeatureUnavailableInTierException", "SetUserPoolMfaConfig", **lite)
        await w.refused("ResourceNotFoundException", "GetUserPoolMfaConfig", UserPoolId="us-east-1_AAAAAAAAA")
        w.check_walked(test_pool_mfa_configuration_is_kept_and_answered)


# ===== app clients ========================================================================================
@walks(
    "CreateUserPoolClient",
    "DescribeUserPoolClient",
    "UpdateUserPoolClient",
    "DeleteUserPoolClient",
    "ListUserPoolClients",
)
async def test_app_clients_keep_their_settings_until_deleted() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await new_pool(w)
        p = {"UserPoolId": pool_id}
        assert re.fullmatch(r"us-east-1_[0-9A-Za-z]{9}", pool_id), pool_id
        public = await new_client(w, pool_id)
        public_id = public["ClientId"]
        assert CLIENT_ID.fullmatch(public_id) and "ClientSecret" not in public
        confidential = await new_client(w, pool_id, secret=True)
        secret_id = confidential["ClientId"]
        assert CLIENT_ID.fullmatch(secret_id) and SECRET.fullmatch(confidential["ClientSecret"])
        client = await described(w, pool_id, public_id)  # Cognito's defaults
        validity = [client[f"{kind}TokenValidity"] for kind in ("Access", "Id", "Refresh")]
        assert validity == [60, 60, 30]
        assert client["EnableTokenRevocation"] is True and client["AuthSessionValidity"] == 3
        assert client["ExplicitAuthFlows"] == FLOWS and client["ClientName"] == "app"
        hours = {"AccessTokenValidity": 2, "TokenValidityUnits": {"AccessToken": "hours"}}
        renamed = {"ClientId": secret_id, "ClientName": "renamed", "ReadAttributes": ["email"]}
        updated = await w.call("UpdateUserPoolClient", **p, **renamed, **hours)
        assert updated["UserPoolClient"]["ClientName"] == "renamed"
        client = await described(w, pool_id, secret_id)
        assert client["AccessTokenValidity"] == 2 and client["TokenValidityUnits"]["AccessToken"] == "hours"
        assert client["ReadAttributes"] == ["email"]
        assert client["ClientSecret"] == confidential["ClientSecret"]  # the secret stays
        # an update resets what it is not given (the name stays)
        await w.call("UpdateUserPoolClient", **p, ClientId=secret_id)
        client = await described(w, pool_id, secret_id)
        assert client["AccessTokenValidity"] == 60 and "ReadAttributes" not in client
        assert client["ClientName"] == "renamed"
        minute = {"AccessTokenValidity": 1, "TokenValidityUnits": {"AccessToken": "minutes"}}
        for code, refused in (
            ("InvalidParameterException", minute),  # under 5 minutes
            ("InvalidParameterException", {"ReadAttributes": ["no_such_attribute"]}),
            ("InvalidOAuthFlowException", {"AllowedOAuthFlows": ["client_credentials"]}),  # needs a secret
        ):
            await w.refused(code, "UpdateUserPoolClient", **p, ClientId=public_id, **refused)
        assert (await described(w, pool_id, public_id))["AccessTokenValidity"] == 60  # nothing changed
        # ListUserPoolClients pages through every client once
        third_id = (await new_client(w, pool_id))["ClientId"]
        listed = await all_pages(
            w, "ListUserPoolClients", "UserPoolClients", "NextToken", "MaxResults", 2, **p
        )
        names = {c["ClientId"]: c["ClientName"] for c in listed}
        assert names == {public_id: "app", secret_id: "renamed", third_id: "app"}
        # deleting a client ends it and the sessions it issued
        await new_user(w, pool_id, "alice")
        tokens = await sign_in(w, public_id, "alice")
        await w.call("GetUser", AccessToken=tokens["AccessToken"])
        await w.call("DeleteUserPoolClient", **p, ClientId=public_id)
        await w.refused("ResourceNotFoundException", "DescribeUserPoolClient", **p, ClientId=public_id)
        await w.refused("NotAuthorizedException", "GetUser", AccessToken=tokens["AccessToken"])
        await sign_in_refused(w, "ResourceNotFoundException", public_id, "alice")
        listed = (await w.call("ListUserPoolClients", **p, MaxResults=60))["UserPoolClients"]
        assert {c["ClientId"] for c in listed} == {secret_id, third_id}
        # a client is found only in its own pool
        other = await new_pool(w, "other")
        elsewhere = {"UserPoolId": other, "ClientId": third_id}
        await w.refused("ResourceNotFoundException", "DescribeUserPoolClient", **elsewhere)
        w.check_walked(test_app_clients_keep_their_settings_until_deleted)


@walks("AddUserPoolClientSecret", "ListUserPoolClientSecrets", "DeleteUserPoolClientSecret", "InitiateAuth")
async def test_client_secrets_rotate_and_a_deleted_one_stops_working() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await new_pool(w)
        client = await new_client(w, pool_id, secret=True)
        client_id, first = client["ClientId"], client["ClientSecret"]
        pc = {"UserPoolId": pool_id, "ClientId": client_id}
        await new_user(w, pool_id, "alice")

        def hash_with(secret: str) -> str:
            return aiocognito.secret_hash(secret, "alice", client_id)

        async def secret_ids() -> list[str]:
            listed = (await w.call("ListUserPoolClientSecrets", **pc))["ClientSecrets"]
            assert all("ClientSecretValue" not in s for s in listed)  # never listed
            return [s["ClientSecretId"] for s in listed]

        [first_id] = await secret_ids()
        assert re.fullmatch(rf"{client_id}--[0-9]+", first_id)
        added = (await w.call("AddUserPoolClientSecret", **pc))["ClientSecretDescriptor"]
        second, second_id = added["ClientSecretValue"], added["ClientSecretId"]
        assert SECRET.fullmatch(second) and second != first and second_id != first_id
        assert await secret_ids() == [first_id, second_id]
        await w.refused("LimitExceededException", "AddUserPoolClientSecret", **pc)  # two at a time
        # SECRET_HASH with either current secret signs in; none, or a wrong one, does not
        assert (await sign_in(w, client_id, "alice", SECRET_HASH=hash_with(first)))["AccessToken"]
        assert (await sign_in(w, client_id, "alice", SECRET_HASH=hash_with(second)))["AccessToken"]
        await sign_in_refused(w, "NotAuthorizedException", client_id, "alice")
        await sign_in_refused(
            w, "NotAuthorizedException", client_id, "alice", SECRET_HASH=hash_with("x" * 51)
        )
        # the first secret deleted: refused from then on, the second still works
        await w.call("DeleteUserPoolClientSecret", **pc, ClientSecretId=first_id)
        assert await secret_ids() == [second_id]
        await sign_in_refused(w, "NotAuthorizedException", client_id, "alice", SECRET_HASH=hash_with(first))
        assert (await sign_in(w, client_id, "alice", SECRET_HASH=hash_with(second)))["AccessToken"]
        assert (await described(w, pool_id, client_id))["ClientSecret"] == second
        gone, last = {**pc, "ClientSecretId": first_id}, {**pc, "ClientSecretId": second_id}
        await w.refused("ResourceNotFoundException", "DeleteUserPoolClientSecret", **gone)
        await w.refused(
            "InvalidParameterException", "DeleteUserPoolClientSecret", **last
        )  # the last one stays
        assert await secret_ids() == [second_id]
        # a secret of the caller's own is kept but not echoed back
        own = "my0own0client0secret0value0here"
        mine = (await w.call("AddUserPoolClientSecret", **pc, ClientSecret=own))["ClientSecretDescriptor"]
        assert "ClientSecretValue" not in mine and len(await secret_ids()) == 2
        assert (await sign_in(w, client_id, "alice", SECRET_HASH=hash_with(own)))["AccessToken"]
        # a public client has no secrets to rotate
        public = {"UserPoolId": pool_id, "ClientId": (await new_client(w, pool_id))["ClientId"]}
        await w.refused("InvalidParameterException", "AddUserPoolClientSecret", **public)
        w.check_walked(test_client_secrets_rotate_and_a_deleted_one_stops_working)


# ===== users ==============================================================================================
@walks("AdminCreateUser", "AdminGetUser", "AdminInitiateAuth")
async def test_admin_create_user_sends_the_invitation() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await new_pool(w)
        p = {"UserPoolId": pool_id}
        client_id = (await new_client(w, pool_id))["ClientId"]
        email = [{"Name": "email", "Value": "carol@example.com"}, {"Name": "email_verified", "Value": "true"}]
        by_email = {"DesiredDeliveryMediums": ["EMAIL"]}
        carol = {**p, "Username": "carol"}
        created = (await w.call("AdminCreateUser", **carol, UserAttributes=email, **by_email))["User"]
        assert created["UserStatus"] == "FORCE_CHANGE_PASSWORD" and created["Enabled"] is True
        attrs = {a["Name"]: a["Value"] for a in created["Attributes"]}
        assert re.fullmatch(r"[0-9a-f-]{36}", attrs["sub"]) and attrs["email"] == "carol@example.com"
        got = await user_of(w, pool_id, "carol")
        assert got["attrs"] == attrs and got["UserStatus"] == "FORCE_CHANGE_PASSWORD"
        invitation = [m for m in local.outbox if m.purpose == "TEMPORARY_PASSWORD"]
        assert [(m.kind, m.destination) for m in invitation] == [("EMAIL", "carol@example.com")]
        temporary = invitation[0].code

        def admin_auth(password: str) -> dict[str, Any]:
            auth = {"USERNAME": "carol", "PASSWORD": password}
            return {
                **p,
                "ClientId": client_id,
                "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                "AuthParameters": auth,
            }

        # the temporary password signs in, and asks for a new one
        started = await w.call("AdminInitiateAuth", **admin_auth(temporary))
        assert started["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
        # RESEND: a new temporary password; the old one stops working
        await w.call("AdminCreateUser", **carol, MessageAction="RESEND", **by_email)
        resent = local.messages("carol", purpose="TEMPORARY_PASSWORD")
        assert len(resent) == 2 and resent[-1].code != temporary
        await w.refused("NotAuthorizedException", "AdminInitiateAuth", **admin_auth(temporary))
        assert (await w.call("AdminInitiateAuth", **admin_auth(resent[-1].code)))["ChallengeName"]
        # SMS is the default medium; SUPPRESS sends nothing
        phone = [{"Name": "phone_number", "Value": "+15555550100"}]
        await w.call("AdminCreateUser", **p, Username="dan", UserAttributes=phone)
        assert [(m.kind, m.destination) for m in local.messages("dan")] == [("SMS", "+15555550100")]
        await w.call("AdminCreateUser", **p, Username="erin", MessageAction="SUPPRESS")
        assert local.messages("erin") == []
        await w.refused("UsernameExistsException", "AdminCreateUser", **carol)
        await w.call("AdminSetUserPassword", **p, Username="erin", Password=PASSWORD, Permanent=True)
        for code, refused in (
            ("InvalidPasswordException", {"Username": "fay", "TemporaryPassword": "short"}),
            (
                "InvalidParameterException",
                {"Username": "gil", "UserAttributes": [{"Name": "x", "Value": "9"}]},
            ),
            ("UnsupportedUserStateException", {"Username": "erin", "MessageAction": "RESEND"}),  # confirmed
        ):
            await w.refused(code, "AdminCreateUser", **p, **refused)
        await w.refused("UserNotFoundException", "AdminGetUser", **p, Username="nobody")
        users = (await w.call("ListUsers", **p))["Users"]
        assert sorted(u["Username"] for u in users) == ["carol", "dan", "erin"]
        w.check_walked(test_admin_create_user_sends_the_invitation)


@walks("ListUsers")
async def test_list_users_filters_and_pages() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await new_pool(w)
        p = {"UserPoolId": pool_id}
        for name in ("ann", "anna", "bob", "cy"):
            await new_user(w, pool_id, name, email=f"{name}@example.com", given_name=name.title())
        await w.call("AdminCreateUser", **p, Username="dee", MessageAction="SUPPRESS")

        async def names(**params: Any) -> list[str]:
            return sorted(u["Username"] for u in (await w.call("ListUsers", **p, **params))["Users"])

        assert await names() == ["ann", "anna", "bob", "cy", "dee"]
        assert await names(Filter='email ^= "ann"') == ["ann", "anna"]
        assert await names(Filter='username = "bob"') == ["bob"]
        assert await names(Filter='given_name = "Cy"') == ["cy"]
        assert await names(Filter='cognito:user_status = "FORCE_CHANGE_PASSWORD"') == ["dee"]
        assert await names(Filter='email = "nobody@example.com"') == []
        await w.call("AdminDisableUser", **p, Username="bob")
        assert await names(Filter='status = "Disabled"') == ["bob"]
        for bad in ('email ~ "a"', 'custom:tier = "1"', "email = ann"):
            await w.refused("InvalidParameterException", "ListUsers", **p, Filter=bad)

        listed = await all_pages(w, "ListUsers", "Users", "PaginationToken", "Limit", 2, **p)
        assert [u["Username"] for u in listed] == ["ann", "anna", "bob", "cy", "dee"]  # each once
        only = await w.call("ListUsers", **p, AttributesToGet=["email"], Filter='username = "ann"')
        assert only["Users"][0]["Attributes"] == [{"Name": "email", "Value": "ann@example.com"}]
        w.check_walked(test_list_users_filters_and_pages)


@walks("AdminDisableUser", "AdminEnableUser", "AdminDeleteUser", "GetUser")
async def test_disabled_users_cannot_sign_in_and_deleted_users_are_gone() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await new_pool(w)
        alice = {"UserPoolId": pool_id, "Username": "alice"}
        client_id = (await new_client(w, pool_id))["ClientId"]
        await new_user(w, pool_id, "alice", email="alice@example.com")
        tokens = await sign_in(w, client_id, "alice")
        sub = (await user_of(w, pool_id, "alice"))["attrs"]["sub"]
        await w.call("AdminDisableUser", **alice)
        assert (await user_of(w, pool_id, "alice"))["Enabled"] is False
        # the tokens issued before are revoked, and the password no longer signs in
        await w.refused("NotAuthorizedException", "GetUser", AccessToken=tokens["AccessToken"])
        auth = {"REFRESH_TOKEN": tokens["RefreshToken"]}
        refresh = {"ClientId": client_id, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": auth}
        await w.refused("NotAuthorizedException", "InitiateAuth", **refresh)
        refused = await sign_in_refused(w, "NotAuthorizedException", client_id, "alice")
        assert refused.message == "User is disabled."
        await w.call("AdminEnableUser", **alice)
        assert (await user_of(w, pool_id, "alice"))["Enabled"] is True
        fresh = await sign_in(w, client_id, "alice")
        assert (await w.call("GetUser", AccessToken=fresh["AccessToken"]))["Username"] == "alice"
        await w.refused("NotAuthorizedException", "GetUser", AccessToken=tokens["AccessToken"])  # revoked
        await w.call("AdminDeleteUser", **alice)
        await w.refused("UserNotFoundException", "AdminGetUser", **alice)
        await w.refused("NotAuthorizedException", "GetUser", AccessToken=fresh["AccessToken"])
        await sign_in_refused(w, "UserNotFoundException", client_id, "alice")
        assert (await w.call("ListUsers", UserPoolId=pool_id))["Users"] == []
        for op in ("AdminDeleteUser", "AdminDisableUser", "AdminEnableUser"):
            await w.refused("UserNotFoundException", op, **alice)
        # the same name again is a new user
        await new_user(w, pool_id, "alice")
        assert (await user_of(w, pool_id, "alice"))["attrs"]["sub"] != sub
        w.check_walked(test_disabled_users_cannot_sign_in_and_deleted_users_are_gone)


@walks("AdminSetUserPassword", "AdminResetUserPassword", "ChangePassword", "ConfirmForgotPassword")
async def test_passwords_set_reset_and_changed() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await new_pool(w)
        alice = {"UserPoolId": pool_id, "Username": "alice"}
        client_id = (await new_client(w, pool_id))["ClientId"]
        await new_user(w, pool_id, "alice", email="alice@example.com", email_verified="true")

        async def status() -> str:
            return str((await user_of(w, pool_id, "alice"))["UserStatus"])

        # a temporary password: FORCE_CHANGE_PASSWORD, and the sign-in asks for a new one
        await w.call("AdminSetUserPassword", **alice, Password=NEW_PASSWORD)
        assert await status() == "FORCE_CHANGE_PASSWORD"
        started = await w.call("InitiateAuth", **password_auth(client_id, "alice", NEW_PASSWORD))
        assert started["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
        await w.call("AdminSetUserPassword", **alice, Password=PASSWORD, Permanent=True)
        assert await status() == "CONFIRMED"
        token = (await sign_in(w, client_id, "alice"))["AccessToken"]
        weak = {"Password": "alllowercase", "Permanent": True}
        await w.refused("InvalidPasswordException", "AdminSetUserPassword", **alice, **weak)
        # ChangePassword needs the current password; then only the new one signs in
        change = {"AccessToken": token, "PreviousPassword": PASSWORD, "ProposedPassword": NEW_PASSWORD}
        wrong, weak_new = {**change, "PreviousPassword": "Wr0ng!pass"}, {**change, "ProposedPassword": "weak"}
        await w.refused("NotAuthorizedException", "ChangePassword", **wrong)
        await w.refused("InvalidPasswordException", "ChangePassword", **weak_new)
        await w.call("ChangePassword", **change)
        await sign_in_refused(w, "NotAuthorizedException", client_id, "alice")
        assert (await sign_in(w, client_id, "alice", NEW_PASSWORD))["AccessToken"]
        # AdminResetUserPassword: RESET_REQUIRED, a recovery code by email, no sign-in until it is used
        await w.call("AdminResetUserPassword", **alice)
        assert await status() == "RESET_REQUIRED"
        sent = local.messages("alice", purpose="FORGOT_PASSWORD")
        assert [(m.kind, m.destination) for m in sent] == [("EMAIL", "alice@example.com")]
        await sign_in_refused(w, "PasswordResetRequiredException", client_id, "alice", NEW_PASSWORD)
        code = local.last_code("alice", purpose="FORGOT_PASSWORD")
        confirm = {"ClientId": client_id, "Username": "alice", "ConfirmationCode": code}
        await w.call("ConfirmForgotPassword", **confirm, Password=PASSWORD)
        assert await status() == "CONFIRMED"
        assert (await sign_in(w, client_id, "alice"))["AccessToken"]
        # no verified email or phone number: nowhere to send a code
        await new_user(w, pool_id, "bob")
        bob = {"UserPoolId": pool_id, "Username": "bob"}
        await w.refused("InvalidParameterException", "AdminResetUserPassword", **bob)
        nobody = {"UserPoolId": pool_id, "Username": "nobody", "Password": PASSWORD}
        await w.refused("UserNotFoundException", "AdminSetUserPassword", **nobody)
        w.check_walked(test_passwords_set_reset_and_changed)


@walks("SignUp", "AdminConfirmSignUp", "AdminDeleteUserAttributes")
async def test_admin_confirm_sign_up_and_delete_user_attributes() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        family = {"Name": "family_name", "AttributeDataType": "String", "Required": True}
        pool_id = await new_pool(w, Schema=[family])
        dave = {"UserPoolId": pool_id, "Username": "dave"}
        client_id = (await new_client(w, pool_id))["ClientId"]
        values = {
            "family_name": "Jones",
            "given_name": "Dave",
            "email": "d@example.com",
            "email_verified": "true",
        }
        listed = [{"Name": k, "Value": v} for k, v in values.items()]
        new = {"ClientId": client_id, "Username": "dave", "Password": PASSWORD}
        signed_up = await w.call("SignUp", **new, UserAttributes=listed)
        assert signed_up["UserConfirmed"] is False
        assert (await user_of(w, pool_id, "dave"))["UserStatus"] == "UNCONFIRMED"
        await sign_in_refused(w, "UserNotConfirmedException", client_id, "dave")
        await w.call("AdminConfirmSignUp", **dave)
        assert (await user_of(w, pool_id, "dave"))["UserStatus"] == "CONFIRMED"
        assert (await sign_in(w, client_id, "dave"))["AccessToken"]
        await w.refused("NotAuthorizedException", "AdminConfirmSignUp", **dave)
        await w.call("AdminDeleteUserAttributes", **dave, UserAttributeNames=["given_name", "email"])
        attrs = (await user_of(w, pool_id, "dave"))["attrs"]
        assert "given_name" not in attrs and "email" not in attrs and "email_verified" not in attrs
        assert attrs["family_name"] == "Jones"
        for name in ("family_name", "sub"):  # required, immutable
            refused = {**dave, "UserAttributeNames": [name]}
            await w.refused("InvalidParameterException", "AdminDeleteUserAttributes", **refused)
        assert (await user_of(w, pool_id, "dave"))["attrs"]["family_name"] == "Jones"
        w.check_walked(test_admin_confirm_sign_up_and_delete_user_attributes)


# ===== groups =============================================================================================
@walks(
    "CreateGroup",
    "GetGroup",
    "UpdateGroup",
    "DeleteGroup",
    "ListGroups",
    "AdminAddUserToGroup",
    "AdminRemoveUserFromGroup",
    "AdminListGroupsForUser",
    "ListUsersInGroup",
)
async def test_groups_and_their_members_show_in_new_tokens() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await new_pool(w)
        p = {"UserPoolId": pool_id}
        alice = {**p, "Username": "alice"}
        client_id = (await new_client(w, pool_id))["ClientId"]
        await new_user(w, pool_id, "alice")
        await new_user(w, pool_id, "bob")
        role = "arn:aws:iam::123456789012:role/readers"
        settings = {"Precedence": 5, "Description": "can read", "RoleArn": role}
        readers = (await w.call("CreateGroup", **p, GroupName="readers", **settings))["Group"]
        assert (readers["GroupName"], readers["Precedence"], readers["RoleArn"]) == ("readers", 5, role)
        await w.call("CreateGroup", **p, GroupName="admins", Precedence=1)
        await w.refused("GroupExistsException", "CreateGroup", **p, GroupName="admins")
        await w.call("UpdateGroup", **p, GroupName="readers", Description="reads everything")
        got = (await w.call("GetGroup", **p, GroupName="readers"))["Group"]
        assert got["Description"] == "reads everything"
        assert (got["Precedence"], got["RoleArn"]) == (5, role)  # what the update did not name stays
        listed = await all_pages(w, "ListGroups", "Groups", "NextToken", "Limit", 1, **p)
        assert [g["GroupName"] for g in listed] == ["admins", "readers"]

        async def groups_of_alice() -> list[str]:
            return sorted(g["GroupName"] for g in (await w.call("AdminListGroupsForUser", **alice))["Groups"])

        for group in ("readers", "admins"):
            await w.call("AdminAddUserToGroup", **alice, GroupName=group)
        await w.call("AdminAddUserToGroup", **p, Username="bob", GroupName="readers")
        assert await groups_of_alice() == ["admins", "readers"]
        members = await all_pages(
            w, "ListUsersInGroup", "Users", "NextToken", "Limit", 1, **p, GroupName="readers"
        )
        assert [u["Username"] for u in members] == ["alice", "bob"]
        tokens = await sign_in(w, client_id, "alice")
        for token in (tokens["AccessToken"], tokens["IdToken"]):
            assert claims_of(token)["cognito:groups"] == ["admins", "readers"]  # by precedence

        await w.call("AdminRemoveUserFromGroup", **alice, GroupName="admins")
        assert await groups_of_alice() == ["readers"]
        assert claims_of((await sign_in(w, client_id, "alice"))["IdToken"])["cognito:groups"] == ["readers"]
        await w.call("DeleteGroup", **p, GroupName="readers")
        await w.refused("ResourceNotFoundException", "GetGroup", **p, GroupName="readers")
        assert await groups_of_alice() == []
        assert "cognito:groups" not in claims_of((await sign_in(w, client_id, "alice"))["AccessToken"])
        assert [g["GroupName"] for g in (await w.call("ListGroups", **p))["Groups"]] == ["admins"]
        await w.refused("ResourceNotFoundException", "ListUsersInGroup", **p, GroupName="readers")
        await w.refused("ResourceNotFoundException", "AdminAddUserToGroup", **alice, GroupName="readers")
        nobody = {**p, "Username": "nobody", "GroupName": "admins"}
        await w.refused("UserNotFoundException", "AdminAddUserToGroup", **nobody)
        w.check_walked(test_groups_and_their_members_show_in_new_tokens)
