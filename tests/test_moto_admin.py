"""The admin surface and the paginated listings against moto's server."""

from __future__ import annotations

from datetime import datetime

import pytest

import aiocognito
from aiocognito import errors


async def make_pool(cognito: aiocognito.CognitoClient, name: str = "pool") -> str:
    resp = await cognito.create_user_pool(PoolName=name)
    return resp["UserPool"]["Id"]


async def test_pool_client_user_group_round_trip(cognito: aiocognito.CognitoClient) -> None:
    pool = await cognito.create_user_pool(PoolName="round-trip", UsernameAttributes=["email"])
    pool_id = pool["UserPool"]["Id"]
    assert isinstance(pool["UserPool"]["CreationDate"], datetime)
    assert pool["UserPool"]["CreationDate"].tzinfo is not None
    assert pool["ResponseMetadata"]["HTTPStatusCode"] == 200

    described = await cognito.describe_user_pool(UserPoolId=pool_id)
    assert described["UserPool"]["Name"] == "round-trip"

    client = await cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )
    client_id = client["UserPoolClient"]["ClientId"]
    got = await cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    assert got["UserPoolClient"]["ClientName"] == "app"

    created = await cognito.admin_create_user(
        UserPoolId=pool_id,
        Username="alice@example.com",
        UserAttributes=[{"Name": "email", "Value": "alice@example.com"}],
        MessageAction="SUPPRESS",
    )
    assert created["User"]["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    user = await cognito.admin_get_user(UserPoolId=pool_id, Username="alice@example.com")
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attrs["email"] == "alice@example.com"
    assert isinstance(user["UserCreateDate"], datetime)

    await cognito.create_group(UserPoolId=pool_id, GroupName="admins", Description="the admins")
    await cognito.admin_add_user_to_group(
        UserPoolId=pool_id, Username="alice@example.com", GroupName="admins"
    )
    groups = [
        g["GroupName"]
        async for g in cognito.admin_list_all_groups_for_user(
            UserPoolId=pool_id, Username="alice@example.com"
        )
    ]
    assert groups == ["admins"]
    members = [
        u["Username"] async for u in cognito.list_all_users_in_group(UserPoolId=pool_id, GroupName="admins")
    ]
    assert len(members) == 1


async def test_errors_are_typed(cognito: aiocognito.CognitoClient) -> None:
    pool_id = await make_pool(cognito)
    with pytest.raises(errors.UserNotFoundException) as info:
        await cognito.admin_get_user(UserPoolId=pool_id, Username="nobody")
    err = info.value
    assert err.response["Error"]["Code"] == "UserNotFoundException"
    assert err.operation == "AdminGetUser"
    assert err.status == 400
    assert isinstance(err, aiocognito.ServiceError)
    with pytest.raises(errors.ResourceNotFoundException):
        await cognito.describe_user_pool(UserPoolId="us-east-1_doesnotexist")


async def test_unimplemented_operation_gives_clear_error(cognito: aiocognito.CognitoClient) -> None:
    """moto answers operations it lacks with an HTML 500 page: a clear error, not a parser crash."""
    pool_id = await make_pool(cognito)
    with pytest.raises(aiocognito.CognitoError) as info:
        await cognito.describe_risk_configuration(UserPoolId=pool_id)
    assert "500" in str(info.value) or getattr(info.value, "status", None) == 500


async def test_parameter_validation_names_the_parameter(cognito: aiocognito.CognitoClient) -> None:
    with pytest.raises(aiocognito.ParamValidationError, match="Username"):
        await cognito.admin_get_user(UserPoolId="us-east-1_x", Username=None)  # type: ignore[arg-type]
    with pytest.raises(aiocognito.ParamValidationError, match="Limit must be int"):
        await cognito.list_users(UserPoolId="us-east-1_x", Limit="10")  # type: ignore[arg-type]
    with pytest.raises(aiocognito.ParamValidationError, match="missing required parameter Username"):
        await cognito.admin_get_user(UserPoolId="us-east-1_x")  # type: ignore[call-arg]


@pytest.mark.parametrize("page_size", [1, 3])
async def test_list_all_users_pages_without_loss(cognito: aiocognito.CognitoClient, page_size: int) -> None:
    pool_id = await make_pool(cognito)
    names = {f"user{i:02d}" for i in range(11)}
    for name in sorted(names):
        await cognito.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")
    seen = [u["Username"] async for u in cognito.list_all_users(UserPoolId=pool_id, Limit=page_size)]
    assert sorted(seen) == sorted(names)
    pages = [p async for p in cognito.list_all_users(UserPoolId=pool_id, Limit=page_size).pages()]
    assert len(pages) > 2
    assert all(len(p["Users"]) <= page_size for p in pages)


async def test_every_listing_moto_implements_spans_pages(cognito: aiocognito.CognitoClient) -> None:
    pool_id = await make_pool(cognito, "p0")
    for i in range(1, 7):
        await make_pool(cognito, f"p{i}")
    for i in range(7):
        await cognito.create_group(UserPoolId=pool_id, GroupName=f"g{i}")
        await cognito.create_user_pool_client(UserPoolId=pool_id, ClientName=f"c{i}")
        await cognito.create_identity_provider(
            UserPoolId=pool_id,
            ProviderName=f"idp{i}",
            ProviderType="OIDC",
            ProviderDetails={
                "client_id": "x",
                "authorize_scopes": "openid",
                "oidc_issuer": "https://issuer.example",
            },
        )
        await cognito.create_resource_server(
            UserPoolId=pool_id, Identifier=f"https://rs{i}.example", Name=f"rs{i}"
        )
    await cognito.admin_create_user(UserPoolId=pool_id, Username="u", MessageAction="SUPPRESS")
    for i in range(7):
        await cognito.admin_add_user_to_group(UserPoolId=pool_id, Username="u", GroupName=f"g{i}")
    for i in range(7):
        await cognito.admin_create_user(UserPoolId=pool_id, Username=f"m{i}", MessageAction="SUPPRESS")
        await cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=f"m{i}", GroupName="g0")

    async def collect(paginator: aiocognito.Paginator, key: str) -> tuple[list[str], int]:
        pages = 0
        items: list[str] = []
        async for _page in paginator.pages():
            pages += 1
        async for item in paginator:
            items.append(item[key])
        return items, pages

    cases = [
        (cognito.list_all_user_pools(MaxResults=2), "Id", 7),
        (cognito.list_all_groups(UserPoolId=pool_id, Limit=2), "GroupName", 7),
        (cognito.list_all_user_pool_clients(UserPoolId=pool_id, MaxResults=2), "ClientId", 7),
        (cognito.list_all_identity_providers(UserPoolId=pool_id, MaxResults=2), "ProviderName", 7),
        (cognito.list_all_resource_servers(UserPoolId=pool_id, MaxResults=2), "Identifier", 7),
        (cognito.admin_list_all_groups_for_user(UserPoolId=pool_id, Username="u", Limit=2), "GroupName", 7),
        (cognito.list_all_users_in_group(UserPoolId=pool_id, GroupName="g0", Limit=2), "Username", 8),
        (cognito.list_all_users(UserPoolId=pool_id, Limit=2), "Username", 8),
    ]
    for paginator, key, expected in cases:
        items, pages = await collect(paginator, key)
        assert len(items) == expected, paginator
        assert len(set(items)) == expected, paginator
        assert pages > 2, paginator


async def test_unsigned_operations_need_no_credentials(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    for var in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    async with aiocognito.CognitoClient(
        region="us-east-1", endpoint_url=moto_endpoint, credentials=("a", "b")
    ) as admin:
        pool_id = await make_pool(admin)
        client = await admin.create_user_pool_client(
            UserPoolId=pool_id, ClientName="app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
        )
        client_id = client["UserPoolClient"]["ClientId"]
    async with aiocognito.CognitoClient(region="us-east-1", endpoint_url=moto_endpoint) as public:
        await public.sign_up(ClientId=client_id, Username="bob", Password="Passw0rd!x")
        with pytest.raises(aiocognito.CredentialsError):
            await public.admin_get_user(UserPoolId=pool_id, Username="bob")


async def test_credential_chain_and_region_from_environment(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """With nothing passed, region and credentials come from the standard AWS chain (here: env vars)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secretfromenv")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    async with aiocognito.CognitoClient(endpoint_url=moto_endpoint) as cognito:
        assert cognito.region == "eu-west-2"
        pool = await cognito.create_user_pool(PoolName="from-env")
        assert pool["UserPool"]["Id"].startswith("eu-west-2_")


def test_region_from_shared_config_profile(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = ap-south-1\n[profile other]\nregion = sa-east-1\n")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    assert aiocognito.CognitoClient().region == "ap-south-1"
    assert aiocognito.CognitoClient(profile="other").region == "sa-east-1"
    assert aiocognito.CognitoClient().endpoint_url == "https://cognito-idp.ap-south-1.amazonaws.com"
    assert (
        aiocognito.CognitoClient("us-east-1", use_fips=True).endpoint_url
        == "https://cognito-idp-fips.us-east-1.amazonaws.com"
    )
    with pytest.raises(aiocognito.ConfigurationError):
        aiocognito.CognitoClient(profile="missing")
    config.write_text("")
    with pytest.raises(aiocognito.ConfigurationError, match="region"):
        aiocognito.CognitoClient()
    with pytest.raises(aiocognito.ConfigurationError):
        aiocognito.CognitoClient("us-east-1", endpoint_url="http://x", use_fips=True)
