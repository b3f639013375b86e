"""User pools: CreateUserPool, DescribeUserPool, UpdateUserPool, DeleteUserPool, ListUserPools,
AddCustomAttributes, SetUserPoolMfaConfig and GetUserPoolMfaConfig.

As Cognito does them:

* a new pool gets Cognito's defaults (password policy, sign-in policy, deletion protection off, admin
  create-user settings, verification template, the standard attribute schema) and an id shaped
  ``<region>_<9 letters and digits>``; its ARN names the local account;
* ``Schema`` entries for standard attributes change their settings; other names become ``custom:``
  attributes; AliasAttributes and UsernameAttributes exclude each other;
* UpdateUserPool sets every updatable setting it is not given back to its default (Cognito's documented
  behaviour), but tags (which TagResource also sets) stay unless given; the schema and the username
  settings never change after creation;
* DeleteUserPool refuses while deletion protection is active or a domain is still attached;
* AddCustomAttributes adds ``custom:`` attributes (never required, never twice, at most 50);
* SetUserPoolMfaConfig keeps the factors it is given (a factor left out is off) and answers them, as
  GetUserPoolMfaConfig does later.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ... import errors
from .. import _ids
from .._records import UserPool
from .._users import forget_user
from ._base import Context, Route, page
from .recovery import replica_regions

__all__ = ["ROUTES", "FIDELITY", "STANDARD_SCHEMA", "describe_pool"]

_STRING = {"MinLength": "0", "MaxLength": "2048"}


def _standard(name: str, kind: str = "String", **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Name": name,
        "AttributeDataType": kind,
        "DeveloperOnlyAttribute": False,
        "Mutable": True,
        "Required": False,
    }
    if kind == "String":
        entry["StringAttributeConstraints"] = dict(_STRING)
    if kind == "Number":
        entry["NumberAttributeConstraints"] = {"MinValue": "0"}
    entry.update(changes)
    return entry


#: Cognito's standard attributes, as DescribeUserPool lists them for a new pool.
STANDARD_SCHEMA: tuple[dict[str, Any], ...] = (
    _standard(
        "sub",
        Mutable=False,
        Required=True,
        StringAttributeConstraints={"MinLength": "1", "MaxLength": "2048"},
    ),
    *(
        _standard(name)
        for name in (
            "name",
            "given_name",
            "family_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "email",
        )
    ),
    _standard("email_verified", "Boolean"),
    *(_standard(name) for name in ("gender", "birthdate", "zoneinfo", "locale", "phone_number")),
    _standard("phone_number_verified", "Boolean"),
    _standard("address"),
    _standard("updated_at", "Number"),
)
_STANDARD_NAMES = frozenset(a["Name"] for a in STANDARD_SCHEMA)
_MAX_CUSTOM = 50

# The updatable settings and their defaults (UpdateUserPool resets what it is not given to these).
_DEFAULTS: dict[str, Any] = {
    "Policies": {
        "PasswordPolicy": {
            "MinimumLength": 8,
            "RequireUppercase": True,
            "RequireLowercase": True,
            "RequireNumbers": True,
            "RequireSymbols": True,
            "TemporaryPasswordValidityDays": 7,
        },
        "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]},
    },
    "DeletionProtection": "INACTIVE",
    "LambdaConfig": {},
    "MfaConfiguration": "OFF",
    "EmailConfiguration": {"EmailSendingAccount": "COGNITO_DEFAULT"},
    "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False, "UnusedAccountValidityDays": 7},
    "VerificationMessageTemplate": {"DefaultEmailOption": "CONFIRM_WITH_CODE"},
    "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": []},
    "UserPoolTier": "ESSENTIALS",
}
_UPDATABLE = (
    "Policies",
    "DeletionProtection",
    "LambdaConfig",
    "AutoVerifiedAttributes",
    "SmsVerificationMessage",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "VerificationMessageTemplate",
    "SmsAuthenticationMessage",
    "UserAttributeUpdateSettings",
    "MfaConfiguration",
    "DeviceConfiguration",
    "EmailConfiguration",
    "SmsConfiguration",
    "UserPoolTags",
    "AdminCreateUserConfig",
    "UserPoolAddOns",
    "DcrConfiguration",
    "AccountRecoverySetting",
    "UserPoolTier",
    "KeyConfiguration",
    "IssuerConfiguration",
    "AcrConfiguration",
)
_FIXED_AT_CREATION = ("AliasAttributes", "UsernameAttributes", "UsernameConfiguration")


def _settings(params: Mapping[str, Any]) -> dict[str, Any]:
    """The updatable settings of a request, over Cognito's defaults (nested policies merged)."""
    config: dict[str, Any] = copy.deepcopy(_DEFAULTS)
    for name in _UPDATABLE:
        if params.get(name) is not None:
            value = copy.deepcopy(params[name])
            if name == "Policies":
                merged = copy.deepcopy(_DEFAULTS["Policies"])
                for key, policy in value.items():
                    merged[key] = {**merged.get(key, {}), **policy} if isinstance(policy, dict) else policy
                value = merged
            elif name in ("AdminCreateUserConfig", "VerificationMessageTemplate"):
                value = {**_DEFAULTS[name], **value}
            config[name] = value
    _check_settings(config)
    return config


def _check_settings(config: Mapping[str, Any]) -> None:
    verify = config.get("UserAttributeUpdateSettings", {}).get(
        "AttributesRequireVerificationBeforeUpdate", []
    )
    auto = set(config.get("AutoVerifiedAttributes") or [])
    for name in verify:
        if name not in auto:
            raise errors.InvalidParameterException(
                "Attributes in AttributesRequireVerificationBeforeUpdate must also be in AutoVerifiedAttributes."
            )
    policy = config.get("Policies", {}).get("PasswordPolicy", {})
    if not 6 <= int(policy.get("MinimumLength", 8)) <= 99:
        raise errors.InvalidParameterException("Minimum password length must be between 6 and 99.")
    tier = config.get("UserPoolTier")
    history = int(policy.get("PasswordHistorySize") or 0)
    if history and tier == "LITE":
        raise errors.FeatureUnavailableInTierException(
            "Password history is not available in the LITE tier of user pools."
        )


def _schema(given: list[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    schema = {a["Name"]: copy.deepcopy(a) for a in STANDARD_SCHEMA}
    custom = 0
    for entry in given or []:
        name = str(entry.get("Name", ""))
        if name in _STANDARD_NAMES:
            if name == "sub":
                raise errors.InvalidParameterException("The attribute sub cannot be modified.")
            updated = dict(schema[name])
            for key in ("Mutable", "Required", "StringAttributeConstraints", "NumberAttributeConstraints"):
                if key in entry:
                    updated[key] = copy.deepcopy(entry[key])
            schema[name] = updated
            continue
        custom += 1
        full = _custom_attribute(entry)
        if full["Name"] in schema:
            raise errors.InvalidParameterException(f"Existing attribute already has name {full['Name']}.")
        schema[full["Name"]] = full
    if custom > _MAX_CUSTOM:
        raise errors.LimitExceededException(f"A user pool can have at most {_MAX_CUSTOM} custom attributes.")
    return list(schema.values())


def _custom_attribute(entry: Mapping[str, Any]) -> dict[str, Any]:
    name = str(entry.get("Name", ""))
    if not name:
        raise errors.InvalidParameterException("A custom attribute needs a Name.")
    if entry.get("Required"):
        raise errors.InvalidParameterException("Required custom attributes are not supported currently.")
    kind = str(entry.get("AttributeDataType") or "String")
    full: dict[str, Any] = {
        "Name": name if name.startswith("custom:") else f"custom:{name}",
        "AttributeDataType": kind,
        "DeveloperOnlyAttribute": bool(entry.get("DeveloperOnlyAttribute", False)),
        "Mutable": bool(entry.get("Mutable", True)),
        "Required": False,
    }
    if kind == "String":
        full["StringAttributeConstraints"] = dict(
            entry.get("StringAttributeConstraints") or {"MaxLength": "2048"}
        )
    if kind == "Number" and entry.get("NumberAttributeConstraints"):
        full["NumberAttributeConstraints"] = dict(entry["NumberAttributeConstraints"])
    if full["DeveloperOnlyAttribute"]:
        full["Name"] = "dev:" + full["Name"]
    return full


def describe_pool(ctx: Context, pool: UserPool) -> dict[str, Any]:
    """``UserPoolType`` of a pool."""
    body: dict[str, Any] = {"Id": pool.id, "Name": pool.name, **copy.deepcopy(pool.config)}
    body["LastModifiedDate"] = pool.modified
    body["CreationDate"] = pool.created
    body["EstimatedNumberOfUsers"] = len(pool.users)
    body["Arn"] = pool.arn
    for domain, description in pool.domains.items():
        if description.get("CustomDomainConfig"):
            body["CustomDomain"] = domain
        else:
            body["Domain"] = domain
    return body


def create_user_pool(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    state = ctx.state
    if params.get("AliasAttributes") and params.get("UsernameAttributes"):
        raise errors.InvalidParameterException(
            "Only one of the AliasAttributes or UsernameAttributes can be set in a User Pool."
        )
    config = _settings(params)
    for name in _FIXED_AT_CREATION:
        if params.get(name) is not None:
            config[name] = copy.deepcopy(params[name])
    config["SchemaAttributes"] = _schema(params.get("Schema"))
    region = ctx.state.region_of_request
    pool_id = _ids.user_pool_id(state.random_bytes, region)
    now = state.now()
    pool = UserPool(
        id=pool_id,
        name=str(params["PoolName"]),
        region=region,
        account_id=state.account_id,
        arn=_ids.user_pool_arn(region, state.account_id, pool_id),
        created=now,
        modified=now,
        config=config,
    )
    state.pools[pool_id] = pool
    return {"UserPool": describe_pool(ctx, pool)}


def describe_user_pool(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    return {"UserPool": describe_pool(ctx, ctx.lookups.pool(params["UserPoolId"]))}


def update_user_pool(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    config = _settings(params)
    for name in ("SchemaAttributes", "UserPoolTags", *_FIXED_AT_CREATION):
        if name in pool.config:
            config[name] = pool.config[name]
    if params.get("PoolName") is not None:
        pool.name = str(params["PoolName"])
    if params.get("UserPoolTags") is not None:
        config["UserPoolTags"] = dict(params["UserPoolTags"])
    if config.get("MfaConfiguration") == "OFF":
        pool.mfa.clear()
    pool.config = config
    pool.modified = ctx.state.now()
    return {}


def delete_user_pool(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    if pool.config.get("DeletionProtection") == "ACTIVE":
        raise errors.InvalidParameterException(
            "The user pool cannot be deleted because deletion protection is activated. "
            "Deletion protection must be inactivated first."
        )
    if pool.domains:
        raise errors.InvalidParameterException(
            "User pool cannot be deleted. It has a domain configured that should be deleted first."
        )
    state = ctx.state
    for user in list(pool.users.values()):
        forget_user(state, ctx.issuer, pool, user)
    for client_id in pool.clients:
        state.client_pools.pop(client_id, None)
    del state.pools[pool.id]
    return {}


def list_user_pools(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pools = list(ctx.state.pools.values())
    chunk, token = page(pools, params, key=lambda p: f"{p.created:020.6f}/{p.id}", default=60)
    listed = [
        {
            "Id": p.id,
            "Name": p.name,
            "LambdaConfig": copy.deepcopy(p.config.get("LambdaConfig", {})),
            "LastModifiedDate": p.modified,
            "CreationDate": p.created,
            **({"ReplicaRegions": replica_regions(p)} if replica_regions(p) else {}),
        }
        for p in chunk
    ]
    return {"UserPools": listed, **({"NextToken": token} if token else {})}


def add_custom_attributes(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    schema = pool.schema()
    custom = sum(1 for n in schema if n.startswith(("custom:", "dev:custom:")))
    added = [_custom_attribute(entry) for entry in params["CustomAttributes"]]
    for attribute in added:
        if attribute["Name"] in schema:
            raise errors.InvalidParameterException(
                f"Existing attribute already has name {attribute['Name']}."
            )
        schema[attribute["Name"]] = attribute
    if custom + len(added) > _MAX_CUSTOM:
        raise errors.LimitExceededException(f"A user pool can have at most {_MAX_CUSTOM} custom attributes.")
    pool.config["SchemaAttributes"] = list(schema.values())
    pool.modified = ctx.state.now()
    return {}


_MFA_MEMBERS = (
    "SmsMfaConfiguration",
    "SoftwareTokenMfaConfiguration",
    "EmailMfaConfiguration",
    "WebAuthnConfiguration",
)


def _mfa_answer(pool: UserPool) -> dict[str, Any]:
    body: dict[str, Any] = {"MfaConfiguration": pool.mfa_configuration}
    body.update(copy.deepcopy(pool.mfa))
    body.setdefault("WebAuthnConfiguration", {"UserVerification": "preferred"})
    return body


def set_user_pool_mfa_config(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    mode = params.get("MfaConfiguration") or pool.mfa_configuration
    given = {name: copy.deepcopy(params[name]) for name in _MFA_MEMBERS if params.get(name) is not None}
    if "EmailMfaConfiguration" in given and pool.config.get("UserPoolTier") == "LITE":
        raise errors.FeatureUnavailableInTierException(
            "Email MFA is not available in the LITE tier of user pools."
        )
    if mode != "OFF" and not any(
        name in given and name != "WebAuthnConfiguration" and given[name].get("Enabled", True)
        for name in _MFA_MEMBERS
    ):
        if not pool.mfa:
            raise errors.InvalidParameterException(
                "At least one MFA method must be configured when MFA is ON or OPTIONAL."
            )
    if mode == "OFF":
        given = {k: v for k, v in given.items() if k == "WebAuthnConfiguration"}
    pool.mfa = given
    pool.config["MfaConfiguration"] = mode
    pool.modified = ctx.state.now()
    return _mfa_answer(pool)


def get_user_pool_mfa_config(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    return _mfa_answer(ctx.lookups.pool(params["UserPoolId"]))


ROUTES: dict[str, Route] = {
    "CreateUserPool": create_user_pool,
    "DescribeUserPool": describe_user_pool,
    "UpdateUserPool": update_user_pool,
    "DeleteUserPool": delete_user_pool,
    "ListUserPools": list_user_pools,
    "AddCustomAttributes": add_custom_attributes,
    "SetUserPoolMfaConfig": set_user_pool_mfa_config,
    "GetUserPoolMfaConfig": get_user_pool_mfa_config,
}
FIDELITY: dict[str, str] = {name: "full" for name in ROUTES}
