"""The local pool's user operations, spoken raw: attribute updates with Cognito's verification rules
(codes to the outbox, unverified new values, the old value kept until verified), attribute verification
codes, DeleteUserAttributes and DeleteUser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiocognito import CognitoClient, RetryPolicy, errors
from aiocognito.testing import AppClient, LocalUserPool

PASSWORD = "Passw0rd!"
OLD, NEW = "ann@example.com", "ann.new@example.com"


@pytest.fixture
async def cognito(local_user_pool: LocalUserPool) -> AsyncIterator[CognitoClient]:
    async with local_user_pool.client(retries=RetryPolicy(max_attempts=1)) as client:
        yield client


async def make_pool(
    local: LocalUserPool,
    *,
    auto: tuple[str, ...] = ("email",),
    before_update: tuple[str, ...] = (),
    **extra: Any,
) -> AppClient:
    settings: dict[str, Any] = {}
    if auto:
        settings["AutoVerifiedAttributes"] = list(auto)
    if before_update:
        settings["UserAttributeUpdateSettings"] = {
            "AttributesRequireVerificationBeforeUpdate": list(before_update)
        }
    pool_id = await local.create_user_pool(**settings, **extra)
    app = await local.create_app_client(
        pool_id, flows=("ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
    )
    await local.create_user(pool_id, "ann", PASSWORD, attributes={"email": OLD, "email_verified": "true"})
    return app


async def sign_in(cognito: CognitoClient, app: AppClient, username: str = "ann") -> dict[str, Any]:
    response = await cognito.initiate_auth(
        ClientId=app.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    return dict(response["AuthenticationResult"])


async def attributes(cognito: CognitoClient, app: AppClient, username: str = "ann") -> dict[str, str]:
    user = await cognito.admin_get_user(UserPoolId=app.user_pool_id, Username=username)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


def codes(local: LocalUserPool) -> list[str]:
    return [m.code for m in local.messages("ann", purpose="VERIFY_ATTRIBUTE")]


async def test_an_email_change_sends_a_code_and_is_unverified_until_verified(
    local_user_pool: LocalUserPool, cognito: CognitoClient
) -> None:
    local = local_user_pool
    app = await make_pool(local)
    token = (await sign_in(cognito, app))["AccessToken"]
    answer = await cognito.update_user_attributes(
        AccessToken=token, UserAttributes=[{"Name": "email", "Value": NEW}, {"Name": "name", "Value": "Ann"}]
    )
    assert answer["CodeDeliveryDetailsList"] == [
        {"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    ]
    [message] = local.messages("ann", purpose="VERIFY_ATTRIBUTE")
    assert message.destination == NEW and message.kind == "EMAIL"
    now = await attributes(cognito, app)
    assert now["email"] == NEW and now["email_verified"] == "false" and now["name"] == "Ann"

    wrong = "000000" if message.code != "000000" else "111111"
    with pytest.raises(errors.CodeMismatchException):
        await cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=wrong)
    await cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=message.code)
    assert (await attributes(cognito, app))["email_verified"] == "true"
    with pytest.raises(errors.ExpiredCodeException):  # a code works once
        await cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=message.code)


async def test_the_old_value_stays_until_the_new_one_is_verified(
    local_user_pool: LocalUserPool, cognito: CognitoClient
) -> None:
    local = local_user_pool
    app = await make_pool(local, before_update=("email",))
    token = (await sign_in(cognito, app))["AccessToken"]
    answer = await cognito.update_user_attributes(
        AccessToken=token, UserAttributes=[{"Name": "email", "Value": NEW}]
    )
    assert [d["AttributeName"] for d in answer["CodeDeliveryDetailsList"]] == ["email"]
    before = await attributes(cognito, app)
    assert before["email"] == OLD and before["email_verified"] == "true"
    assert local.messages("ann", purpose="VERIFY_ATTRIBUTE")[-1].destination == NEW
    # a new code (to the waiting address) replaces the first one
    first = local.last_code("ann", purpose="VERIFY_ATTRIBUTE")
    delivery = await cognito.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    assert delivery["CodeDeliveryDetails"]["AttributeName"] == "email"
    second = local.messages("ann", purpose="VERIFY_ATTRIBUTE")[-1]
    assert second.destination == NEW
    if first != second.code:
        with pytest.raises(errors.CodeMismatchException):
            await cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=first)
    await cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=second.code)
    after = await attributes(cognito, app)
    assert after["email"] == NEW and after["email_verified"] == "true"


async def test_codes_expire_after_a_day(local_user_pool: LocalUserPool, cognito: CognitoClient) -> None:
    local = local_user_pool
    app = await make_pool(local)
    token = (await sign_in(cognito, app))["AccessToken"]
    await cognito.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    code = local.last_code("ann", purpose="VERIFY_ATTRIBUTE")
    local.advance_clock(24 * 3600 + 1)
    token = (await sign_in(cognito, app))["AccessToken"]  # the first one expired too
    with pytest.raises(errors.ExpiredCodeException):
        await cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    with pytest.raises(errors.InvalidParameterException):
        await cognito.get_user_attribute_verification_code(AccessToken=token, AttributeName="name")


async def test_the_admin_form_sends_a_code_unless_it_verifies_in_the_same_call(
    local_user_pool: LocalUserPool, cognito: CognitoClient
) -> None:
    local = local_user_pool
    app = await make_pool(local)
    pool_id = app.user_pool_id
    answer = await cognito.admin_update_user_attributes(
        UserPoolId=pool_id, Username="ann", UserAttributes=[{"Name": "email", "Value": NEW}]
    )
    assert "CodeDeliveryDetailsList" not in answer
    assert [m.destination for m in local.messages("ann", purpose="VERIFY_ATTRIBUTE")] == [NEW]
    assert (await attributes(cognito, app))["email_verified"] == "false"
    await cognito.admin_update_user_attributes(
        UserPoolId=pool_id,
        Username="ann",
        UserAttributes=[{"Name": "email", "Value": OLD}, {"Name": "email_verified", "Value": "true"}],
    )
    assert len(codes(local)) == 1
    now = await attributes(cognito, app)
    assert now["email"] == OLD and now["email_verified"] == "true"


async def test_without_auto_verification_no_code_goes_out(
    local_user_pool: LocalUserPool, cognito: CognitoClient
) -> None:
    local = local_user_pool
    app = await make_pool(local, auto=())
    token = (await sign_in(cognito, app))["AccessToken"]
    answer = await cognito.update_user_attributes(
        AccessToken=token, UserAttributes=[{"Name": "email", "Value": NEW}]
    )
    assert "CodeDeliveryDetailsList" not in answer and codes(local) == []
    assert (await attributes(cognito, app))["email_verified"] == "false"
    # an unchanged value stays as verified as it was
    await cognito.admin_update_user_attributes(
        UserPoolId=app.user_pool_id,
        Username="ann",
        UserAttributes=[{"Name": "email_verified", "Value": "true"}],
    )
    await cognito.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "email", "Value": NEW}])
    assert (await attributes(cognito, app))["email_verified"] == "true" and codes(local) == []


async def test_delete_user_attributes(local_user_pool: LocalUserPool, cognito: CognitoClient) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool(required_attributes=("email",))
    app = await local.create_app_client(
        pool_id, flows=("ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
    )
    await local.create_user(
        pool_id, "ann", PASSWORD, attributes={"email": OLD, "phone_number": "+15555550100", "name": "Ann"}
    )
    token = (await sign_in(cognito, app))["AccessToken"]
    await cognito.delete_user_attributes(AccessToken=token, UserAttributeNames=["name", "phone_number"])
    left = await attributes(cognito, app)
    assert "name" not in left and "phone_number" not in left and left["email"] == OLD
    with pytest.raises(errors.InvalidParameterException):
        await cognito.delete_user_attributes(AccessToken=token, UserAttributeNames=["email"])


@pytest.mark.parametrize("prevent", [False, True], ids=["legacy", "prevent-existence-errors"])
async def test_delete_user(local_user_pool: LocalUserPool, cognito: CognitoClient, prevent: bool) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool()
    app = await local.create_app_client(
        pool_id,
        flows=("ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"),
        PreventUserExistenceErrors="ENABLED" if prevent else "LEGACY",
    )
    await local.create_user(pool_id, "ann", PASSWORD)
    await local.create_user(pool_id, "bob", PASSWORD)
    ann, bob = await sign_in(cognito, app), await sign_in(cognito, app, "bob")
    await cognito.delete_user(AccessToken=ann["AccessToken"])
    with pytest.raises(errors.UserNotFoundException):
        await cognito.admin_get_user(UserPoolId=pool_id, Username="ann")
    with pytest.raises(errors.NotAuthorizedException):
        await cognito.get_user(AccessToken=ann["AccessToken"])
    with pytest.raises(errors.NotAuthorizedException):
        await cognito.get_tokens_from_refresh_token(RefreshToken=ann["RefreshToken"], ClientId=app.client_id)
    with pytest.raises(errors.NotAuthorizedException):
        await cognito.delete_user(AccessToken=ann["AccessToken"])
    expected = errors.NotAuthorizedException if prevent else errors.UserNotFoundException
    with pytest.raises(expected):
        await sign_in(cognito, app)
    assert (await cognito.get_user(AccessToken=bob["AccessToken"]))["Username"] == "bob"
    # the name is free again, and the new user starts clean
    await local.create_user(pool_id, "ann", PASSWORD)
    assert (await cognito.get_user(AccessToken=(await sign_in(cognito, app))["AccessToken"]))[
        "Username"
    ] == "ann"


async def test_revoked_tokens_are_refused(local_user_pool: LocalUserPool, cognito: CognitoClient) -> None:
    app = await make_pool(local_user_pool)
    token = (await sign_in(cognito, app))["AccessToken"]
    await cognito.global_sign_out(AccessToken=token)
    calls = [
        cognito.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "email", "Value": NEW}]),
        cognito.get_user_attribute_verification_code(AccessToken=token, AttributeName="email"),
        cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code="123456"),
        cognito.delete_user_attributes(AccessToken=token, UserAttributeNames=["email"]),
        cognito.delete_user(AccessToken=token),
    ]
    for call in calls:
        with pytest.raises(errors.NotAuthorizedException, match="revoked"):
            await call
    assert (await attributes(cognito, app))["email"] == OLD and codes(local_user_pool) == []
