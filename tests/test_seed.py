"""Seed files for the local user pool (``aiocognito local --seed``): the format, its checks, and what it makes.

``SEED`` below is the documented format, version 1, with every key in use; the module docstring of
:mod:`aiocognito.testing._seed` describes each key and its default.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from aiocognito.testing import LocalUserPool, _seed
from aiocognito.testing._seed import SeedError, apply_seed, load_seed, parse_seed

PASSWORD = "Passw0rd!1"
TEMPORARY = "Temp-Passw0rd1!"
GOOGLE_SECRET = "google-client-secret-1"

#: Every key of the format, version 1.
SEED: dict[str, Any] = {
    "version": 1,  # required
    "pools": [
        {
            "name": "main",  # required, unique in the file
            "mfa": "OPTIONAL",  # OFF (default), OPTIONAL, ON
            "totp": True,  # the MFA factors offered: TOTP by default
            "sms": False,
            "email_mfa": False,
            "device_tracking": "always",  # null (default), "always", "opt-in"
            "alias_attributes": ["email"],  # or username_attributes, not both
            "required_attributes": ["email"],
            "password_policy": {
                "minimum_length": 10,
                "require_symbols": False,
            },  # the rest: Cognito's defaults
            "domain": "main-login",  # a prefix domain
            "resource_servers": [
                {
                    "identifier": "orders",
                    "name": "Orders API",
                    "scopes": {"read": "read orders", "write": "change orders"},
                },
            ],
            "identity_providers": [
                {
                    "name": "Google",
                    "type": "Google",
                    "details": {
                        "client_id": "google-client",
                        "client_secret": GOOGLE_SECRET,
                        "authorize_scopes": "openid email",
                    },
                    "attribute_mapping": {"email": "email"},
                },
            ],
            "clients": [
                {
                    "name": "web",  # no secret, USER_SRP_AUTH (+ refresh)
                    "identity_providers": ["COGNITO", "Google"],
                    "oauth": {
                        "flows": ["code"],
                        "scopes": ["openid", "orders/read"],  # "SERVER/SCOPE" for a resource server's
                        "callback_urls": ["http://localhost:3000/callback"],
                        "logout_urls": ["http://localhost:3000/"],
                    },
                },
                {
                    "name": "backend",
                    "secret": True,
                    "flows": ["ALLOW_USER_PASSWORD_AUTH", "USER_SRP_AUTH"],  # ALLOW_ is optional
                    "rotation": True,
                    "grace_seconds": 10,
                    "oauth": {"flows": ["client_credentials"], "scopes": ["orders/write"]},
                },
            ],
            "groups": [
                {"name": "admins", "description": "Administrators", "precedence": 1},
                {"name": "staff"},
            ],
            "users": [
                {
                    "username": "alice",
                    "password": PASSWORD,
                    "attributes": {"email": "alice@example.com"},
                    "groups": ["admins", "staff"],
                },
                {
                    "username": "bob",
                    "password": TEMPORARY,
                    "temporary": True,  # FORCE_CHANGE_PASSWORD
                    "attributes": {"email": "bob@example.com"},
                },
            ],
        },
        {
            "name": "by-email",
            "username_attributes": ["email"],
            "users": [{"username": "carol@example.com", "password": PASSWORD}],
        },
    ],
}


def test_every_key_of_the_format_is_documented() -> None:
    doc = _seed.__doc__ or ""
    keys = {"version", "pools", *_seed._POOL_KEYS, *_seed._CLIENT_KEYS, *_seed._USER_KEYS, *_seed._POLICY}
    keys |= {*_seed._OAUTH_KEYS, *_seed._RESOURCE_SERVER_KEYS, *_seed._IDENTITY_PROVIDER_KEYS}
    keys |= {"description", "precedence"}  # a group's
    assert [k for k in sorted(keys) if f'"{k}"' not in doc] == []


async def test_the_documented_seed_makes_pools_clients_groups_and_users(
    local_user_pool: LocalUserPool,
) -> None:
    local = local_user_pool
    result = await apply_seed(local, parse_seed(copy.deepcopy(SEED), "seed.json"))
    main, by_email = result.pools
    assert (main.name, by_email.name) == ("main", "by-email")

    pool = (await local.call("DescribeUserPool", UserPoolId=main.user_pool_id))["UserPool"]
    assert pool["Name"] == "main" and pool["MfaConfiguration"] == "OPTIONAL"
    assert pool["AliasAttributes"] == ["email"]
    assert pool["DeviceConfiguration"]["DeviceOnlyRememberedOnUserPrompt"] is False
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] == 10 and policy["RequireSymbols"] is False
    assert policy["RequireUppercase"] is True and policy["TemporaryPasswordValidityDays"] == 7
    email = next(a for a in pool["SchemaAttributes"] if a["Name"] == "email")
    assert email["Required"] is True

    web, backend = main.clients
    assert (web.name, web.client_secret) == ("web", None)
    described = (
        await local.call("DescribeUserPoolClient", UserPoolId=main.user_pool_id, ClientId=backend.client_id)
    )["UserPoolClient"]
    assert backend.client_secret and described["ClientSecret"] == backend.client_secret
    assert sorted(described["ExplicitAuthFlows"]) == [
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
    ]
    assert described["RefreshTokenRotation"] == {"Feature": "ENABLED", "RetryGracePeriodSeconds": 10}

    groups = (await local.call("ListGroups", UserPoolId=main.user_pool_id))["Groups"]
    assert {g["GroupName"]: g.get("Precedence") for g in groups} == {"admins": 1, "staff": None}
    alice = await local.call("AdminGetUser", UserPoolId=main.user_pool_id, Username="alice")
    bob = await local.call("AdminGetUser", UserPoolId=main.user_pool_id, Username="bob")
    assert (alice["UserStatus"], bob["UserStatus"]) == ("CONFIRMED", "FORCE_CHANGE_PASSWORD")
    member_of = await local.call("AdminListGroupsForUser", UserPoolId=main.user_pool_id, Username="alice")
    assert sorted(g["GroupName"] for g in member_of["Groups"]) == ["admins", "staff"]

    # the permanent password signs in as it is; the temporary one asks for a new password
    async with local.client() as cognito:
        step = await cognito.session(user_pool_id=main.user_pool_id, client_id=web.client_id).sign_in(
            "alice", PASSWORD
        )
        assert type(step).__name__ == "SignedIn"
        step = await cognito.session(user_pool_id=main.user_pool_id, client_id=web.client_id).sign_in(
            "bob", TEMPORARY
        )
        assert type(step).__name__ == "NewPasswordRequired"

    ids = result.to_json(endpoint_url=local.endpoint_url, region=local.region)
    assert json.loads(json.dumps(ids)) == ids
    assert ids["version"] == 1 and ids["endpoint_url"] == local.endpoint_url and ids["region"] == "us-east-1"
    assert ids["pools"]["main"]["id"] == main.user_pool_id
    assert ids["pools"]["main"]["domain"] == "main-login" and ids["pools"]["main"]["resource_servers"] == [
        "orders"
    ]
    assert ids["pools"]["by-email"]["domain"] is None and ids["pools"]["by-email"]["resource_servers"] == []
    assert ids["pools"]["main"]["clients"] == {
        "web": {"id": web.client_id, "secret": None},
        "backend": {"id": backend.client_id, "secret": backend.client_secret},
    }
    assert ids["pools"]["main"]["groups"] == ["admins", "staff"]
    assert ids["pools"]["main"]["users"]["bob"] == {"username": "bob", "status": "FORCE_CHANGE_PASSWORD"}
    carol = ids["pools"]["by-email"]["users"]["carol@example.com"]
    assert carol["status"] == "CONFIRMED" and carol["username"] != "carol@example.com"  # the pool's own id
    assert PASSWORD not in json.dumps(ids) and PASSWORD not in repr(parse_seed(copy.deepcopy(SEED)))
    assert GOOGLE_SECRET not in json.dumps(ids) and GOOGLE_SECRET not in repr(parse_seed(copy.deepcopy(SEED)))


async def test_the_documented_seed_makes_a_domain_resource_servers_identity_providers_and_oauth_clients(
    local_user_pool: LocalUserPool,
) -> None:
    local = local_user_pool
    result = await apply_seed(local, parse_seed(copy.deepcopy(SEED), "seed.json"))
    main, by_email = result.pools
    assert (main.domain, main.resource_servers, main.identity_providers) == (
        "main-login",
        ("orders",),
        ("Google",),
    )
    assert (by_email.domain, by_email.resource_servers, by_email.identity_providers) == (None, (), ())

    domain = (await local.call("DescribeUserPoolDomain", Domain="main-login"))["DomainDescription"]
    assert domain["UserPoolId"] == main.user_pool_id and domain["Status"] == "ACTIVE"
    assert "CustomDomainConfig" not in domain  # a prefix domain
    pool = (await local.call("DescribeUserPool", UserPoolId=main.user_pool_id))["UserPool"]
    assert pool["Domain"] == "main-login"

    server = (await local.call("DescribeResourceServer", UserPoolId=main.user_pool_id, Identifier="orders"))[
        "ResourceServer"
    ]
    assert server["Name"] == "Orders API"
    assert server["Scopes"] == [
        {"ScopeName": "read", "ScopeDescription": "read orders"},
        {"ScopeName": "write", "ScopeDescription": "change orders"},
    ]

    google = (
        await local.call("DescribeIdentityProvider", UserPoolId=main.user_pool_id, ProviderName="Google")
    )["IdentityProvider"]
    assert google["ProviderType"] == "Google" and google["ProviderDetails"]["client_id"] == "google-client"
    assert google["AttributeMapping"]["email"] == "email"

    web, backend = main.clients
    described = (
        await local.call("DescribeUserPoolClient", UserPoolId=main.user_pool_id, ClientId=web.client_id)
    )["UserPoolClient"]
    assert described["AllowedOAuthFlowsUserPoolClient"] is True
    assert described["AllowedOAuthFlows"] == ["code"]
    assert described["AllowedOAuthScopes"] == ["openid", "orders/read"]
    assert described["CallbackURLs"] == ["http://localhost:3000/callback"]
    assert described["LogoutURLs"] == ["http://localhost:3000/"]
    assert described["SupportedIdentityProviders"] == ["COGNITO", "Google"]
    described = (
        await local.call("DescribeUserPoolClient", UserPoolId=main.user_pool_id, ClientId=backend.client_id)
    )["UserPoolClient"]
    assert described["AllowedOAuthFlows"] == ["client_credentials"]
    assert described["AllowedOAuthScopes"] == ["orders/write"]
    assert "SupportedIdentityProviders" not in described  # not given: left to the pool

    # a client without "oauth" keeps OAuth off, as before
    plain = await apply_seed(
        local, parse_seed({"version": 1, "pools": [{"name": "plain", "clients": [{"name": "app"}]}]})
    )
    (app,) = plain.pools[0].clients
    described = (
        await local.call(
            "DescribeUserPoolClient", UserPoolId=plain.pools[0].user_pool_id, ClientId=app.client_id
        )
    )["UserPoolClient"]
    assert described["AllowedOAuthFlowsUserPoolClient"] is False and "AllowedOAuthFlows" not in described


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    """SEED with the value at ``path`` replaced (``...`` deletes the key)."""
    seed = copy.deepcopy(SEED)
    target: Any = seed
    for step in path[:-1]:
        target = target[step]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return seed


@pytest.mark.parametrize(
    ("path", "value", "where", "problem"),
    [
        (["version"], ..., "version", "required"),
        (["version"], 2, "version", "2 is not supported"),
        (["version"], True, "version", "not supported"),
        (["pools"], ..., "pools", "required"),
        (["pools"], {}, "pools", "must be a list"),
        (["pools", 0, "colour"], "red", "pools[0].colour", "unknown key"),
        (["pools", 0, "name"], ..., "pools[0].name", "required"),
        (["pools", 1, "name"], "main", "pools[1].name", "two pools are named 'main'"),
        (["pools", 0, "mfa"], "SOMETIMES", "pools[0].mfa", 'must be one of "OFF", "OPTIONAL", "ON"'),
        (["pools", 0, "totp"], "yes", "pools[0].totp", "must be true or false"),
        (["pools", 0, "username_attributes"], ["email"], "pools[0].alias_attributes", "cannot be combined"),
        (["pools", 0, "required_attributes"], ["shoe_size"], "pools[0].required_attributes[0]", "shoe_size"),
        (["pools", 0, "password_policy", "minimum_length"], 3, "pools[0].password_policy.minimum_length", "6 to 99"),
        (["pools", 0, "clients", 1, "flows"], ["MAGIC"], "pools[0].clients[1].flows[0]", "'MAGIC' is not one of"),
        (["pools", 0, "clients", 1, "name"], "web", "pools[0].clients[1].name", "two clients are named 'web'"),
        (["pools", 0, "clients", 0, "grace_seconds"], 5, "pools[0].clients[0].grace_seconds", '"rotation": true'),
        (["pools", 0, "groups", 0, "precedence"], -1, "pools[0].groups[0].precedence", "must be from 0"),
        (["pools", 0, "domain"], 7, "pools[0].domain", "must be a string"),
        (["pools", 0, "domain"], "", "pools[0].domain", "non-empty"),
        (["pools", 0, "resource_servers", 0, "identifier"], ..., "pools[0].resource_servers[0].identifier", "required"),
        (["pools", 0, "resource_servers", 0, "scopes"], ["read"], "pools[0].resource_servers[0].scopes", "must be an object"),
        (["pools", 0, "resource_servers"], [{"identifier": "orders", "name": "A"}, {"identifier": "orders", "name": "B"}], "pools[0].resource_servers[1].identifier", "two resource servers are named 'orders'"),
        (["pools", 0, "identity_providers", 0, "type"], ..., "pools[0].identity_providers[0].type", "required"),
        (["pools", 0, "identity_providers", 0, "type"], "MySpace", "pools[0].identity_providers[0].type", "must be one of"),
        (["pools", 0, "identity_providers", 0, "details"], {"client_id": 1}, "pools[0].identity_providers[0].details", "string value"),
        (["pools", 0, "identity_providers", 0, "metadata"], "x", "pools[0].identity_providers[0].metadata", "unknown key"),
        (["pools", 0, "clients", 0, "identity_providers"], ["COGNITO", "Facebook"], "pools[0].clients[0].identity_providers[1]", "'Facebook' is not an identity provider of this pool"),
        (["pools", 0, "clients", 0, "oauth", "scopes"], ["openid", "orders/delete"], "pools[0].clients[0].oauth.scopes[1]", "'orders/delete' is not a scope of this pool"),
        (["pools", 0, "clients", 0, "oauth", "flows"], ..., "pools[0].clients[0].oauth.flows", "required"),
        (["pools", 0, "clients", 0, "oauth", "flows"], ["password"], "pools[0].clients[0].oauth.flows[0]", "'password' is not one of"),
        (["pools", 0, "clients", 0, "oauth", "grant"], "code", "pools[0].clients[0].oauth.grant", "unknown key"),
        (["pools", 0, "clients", 0, "oauth"], ["code"], "pools[0].clients[0].oauth", "must be an object, not a list"),
        (["pools", 0, "users", 0, "username"], "al ice", "pools[0].users[0].username", "white space"),
        (["pools", 0, "users", 1, "password"], ..., "pools[0].users[1].password", "required"),
        (["pools", 0, "users", 1, "password"], 12345678, "pools[0].users[1].password", "a number"),
        (["pools", 0, "users", 1, "attributes"], {"email": 1}, "pools[0].users[1].attributes", "string value"),
        (["pools", 0, "users", 0, "groups"], ["admins", "ops"], "pools[0].users[0].groups[1]", "'ops' is not a group"),
        (["pools", 0, "users", 1], "bob", "pools[0].users[1]", "must be an object, not a string"),
    ],
)  # fmt: skip
def test_a_bad_entry_is_named(path: list[Any], value: Any, where: str, problem: str) -> None:
    with pytest.raises(SeedError) as caught:
        parse_seed(_broken(path, value), "seed.json")
    assert caught.value.source == "seed.json" and caught.value.path == where
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"seed.json: {where}: ")
    assert PASSWORD not in str(caught.value) and TEMPORARY not in str(caught.value)
    assert GOOGLE_SECRET not in str(caught.value)


def test_the_top_level_must_be_an_object() -> None:
    with pytest.raises(SeedError, match=r"^seed: \(top level\): must be an object, not a list$"):
        parse_seed([])


def test_load_seed_reports_unreadable_and_non_json_files(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="cannot read it"):
        load_seed(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1,, }')
    with pytest.raises(SeedError, match=r"bad\.json: not JSON: .*line 1 column 15"):
        load_seed(bad)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(SEED))
    assert [p.name for p in load_seed(good).pools] == ["main", "by-email"]


async def test_a_refusal_by_the_pool_names_the_entry(local_user_pool: LocalUserPool) -> None:
    seed = _broken(["pools", 1, "users", 0, "username"], "carol")  # this pool wants emails as usernames
    with pytest.raises(SeedError) as caught:
        await apply_seed(local_user_pool, parse_seed(seed, "seed.json"))
    assert caught.value.path == "pools[1].users[0]"
    assert caught.value.problem.startswith("creating user 'carol': InvalidParameterException: ")
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    ("path", "value", "where", "problem"),
    [
        (["pools", 0, "domain"], "aws-login", "pools[0].domain", "creating domain 'aws-login': InvalidParameterException: "),
        (["pools", 1, "domain"], "main-login", "pools[1].domain", "creating domain 'main-login': InvalidParameterException: "),
        (["pools", 0, "resource_servers", 0, "scopes", "write"], "", "pools[0].resource_servers[0]", "creating resource server 'orders': InvalidParameterException: "),
        (["pools", 0, "identity_providers", 0, "details", "client_id"], ..., "pools[0].identity_providers[0]", "creating identity provider 'Google': InvalidParameterException: "),
        (["pools", 0, "identity_providers", 0, "type"], "Facebook", "pools[0].identity_providers[0]", "creating identity provider 'Google': InvalidParameterException: Provider Google cannot be of type Facebook"),
        (["pools", 0, "clients", 0, "oauth", "callback_urls"], ["http://app.example.com/cb"], "pools[0].clients[0]", "creating client 'web': InvalidParameterException: "),
        (["pools", 0, "clients", 0, "oauth", "flows"], ["client_credentials"], "pools[0].clients[0]", "creating client 'web': InvalidOAuthFlowException: "),
    ],
)  # fmt: skip
async def test_a_refusal_of_a_domain_server_provider_or_oauth_client_names_the_entry(
    local_user_pool: LocalUserPool, path: list[Any], value: Any, where: str, problem: str
) -> None:
    seed = parse_seed(_broken(path, value), "seed.json")  # the file is fine: the pool refuses it
    with pytest.raises(SeedError) as caught:
        await apply_seed(local_user_pool, seed)
    assert caught.value.path == where
    assert caught.value.problem.startswith(problem)
    assert GOOGLE_SECRET not in str(caught.value) and PASSWORD not in str(caught.value)
