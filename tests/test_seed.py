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
            "clients": [
                {"name": "web"},  # no secret, USER_SRP_AUTH (+ refresh)
                {
                    "name": "backend",
                    "secret": True,
                    "flows": ["ALLOW_USER_PASSWORD_AUTH", "USER_SRP_AUTH"],  # ALLOW_ is optional
                    "rotation": True,
                    "grace_seconds": 10,
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
    assert ids["pools"]["main"]["clients"] == {
        "web": {"id": web.client_id, "secret": None},
        "backend": {"id": backend.client_id, "secret": backend.client_secret},
    }
    assert ids["pools"]["main"]["groups"] == ["admins", "staff"]
    assert ids["pools"]["main"]["users"]["bob"] == {"username": "bob", "status": "FORCE_CHANGE_PASSWORD"}
    carol = ids["pools"]["by-email"]["users"]["carol@example.com"]
    assert carol["status"] == "CONFIRMED" and carol["username"] != "carol@example.com"  # the pool's own id
    assert PASSWORD not in json.dumps(ids) and PASSWORD not in repr(parse_seed(copy.deepcopy(SEED)))


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
