"""App clients and their secrets: Create/Describe/Update/Delete/ListUserPoolClients,
Add/List/DeleteUserPoolClientSecret.

As Cognito does them:

* ids of 26 lowercase letters and digits; generated secrets of 51; a secret's id is
  ``<client id>--<epoch milliseconds>``; ``ClientSecret`` in a request sets a secret of the caller's own;
* Cognito's defaults (token validities 60 minutes / 60 minutes / 30 days, AuthSessionValidity 3, token
  revocation on, PreventUserExistenceErrors LEGACY), and its checks: validity ranges, attributes the pool
  has, identity providers that exist, OAuth flows with the settings they need (``client_credentials`` only
  with a secret, and never with the other flows), scopes the pool knows;
* UpdateUserPoolClient resets what it is not given to the defaults (the name and the secrets stay);
* up to two secrets at a time; SECRET_HASH and ClientSecret are accepted with any current one, and a
  deleted one is refused from then on; the last secret cannot be deleted.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ... import errors
from .. import _ids
from .._records import Client, ClientSecret, UserPool
from ._base import Context, Route, page

__all__ = ["ROUTES", "FIDELITY", "describe_client"]

_MAX_SECRETS = 2
_DEFAULTS: dict[str, Any] = {
    "RefreshTokenValidity": 30,
    "AccessTokenValidity": 60,
    "IdTokenValidity": 60,
    "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
    "AllowedOAuthFlowsUserPoolClient": False,
    "PreventUserExistenceErrors": "LEGACY",
    "EnableTokenRevocation": True,
    "EnablePropagateAdditionalUserContextData": False,
    "AuthSessionValidity": 3,
}
_SETTINGS = (
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "ExplicitAuthFlows",
    "SupportedIdentityProviders",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "AnalyticsConfiguration",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "EnablePropagateAdditionalUserContextData",
    "AuthSessionValidity",
    "RefreshTokenRotation",
)
_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
# (member, unit key, default unit, lowest, highest) in seconds
_VALIDITY = (
    ("AccessTokenValidity", "AccessToken", "minutes", 300, 86400),
    ("IdTokenValidity", "IdToken", "minutes", 300, 86400),
    ("RefreshTokenValidity", "RefreshToken", "days", 3600, 3650 * 86400),
)
_STANDARD_SCOPES = frozenset({"openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"})
_LEGACY_FLOWS = frozenset({"ADMIN_NO_SRP_AUTH", "CUSTOM_AUTH_FLOW_ONLY", "USER_PASSWORD_AUTH"})


def _settings(pool: UserPool, params: Mapping[str, Any], has_secret: bool) -> dict[str, Any]:
    config = copy.deepcopy(_DEFAULTS)
    for name in _SETTINGS:
        if params.get(name) is not None:
            config[name] = copy.deepcopy(params[name])
    units = config["TokenValidityUnits"]
    for default_name, default_unit in (
        ("AccessToken", "minutes"),
        ("IdToken", "minutes"),
        ("RefreshToken", "days"),
    ):
        units.setdefault(default_name, default_unit)
    for member, unit_key, _unit, low, high in _VALIDITY:
        seconds = int(config[member]) * _SECONDS[str(units[unit_key])]
        if not low <= seconds <= high:
            raise errors.InvalidParameterException("Invalid range for token validity.")
    access = int(config["AccessTokenValidity"]) * _SECONDS[str(units["AccessToken"])]
    refresh = int(config["RefreshTokenValidity"]) * _SECONDS[str(units["RefreshToken"])]
    if refresh < access:
        raise errors.InvalidParameterException(
            "Refresh token validity must be longer than access token validity."
        )
    schema = pool.schema()
    for member in ("ReadAttributes", "WriteAttributes"):
        for name in config.get(member) or []:
            if name not in schema and name not in ("email_verified", "phone_number_verified"):
                kind = "read" if member == "ReadAttributes" else "write"
                raise errors.InvalidParameterException(
                    f"Invalid {kind} attributes specified while creating a client"
                )
    if "sub" in (config.get("WriteAttributes") or []):
        raise errors.InvalidParameterException("Invalid write attributes specified while creating a client")
    flows = set(config.get("ExplicitAuthFlows") or [])
    if flows & _LEGACY_FLOWS and any(f.startswith("ALLOW_") for f in flows):
        raise errors.InvalidParameterException("Explicit auth flows can not have both legacy and new values.")
    if "ALLOW_CLIENT_TOKEN_AUTH" in flows:  # GetClientToken: the only flow, and with a secret
        if len(flows) > 1:
            raise errors.InvalidParameterException(
                "ALLOW_CLIENT_TOKEN_AUTH can not be combined with other authentication flows."
            )
        if not has_secret:
            raise errors.InvalidParameterException("ALLOW_CLIENT_TOKEN_AUTH requires a client secret.")
    for provider in config.get("SupportedIdentityProviders") or []:
        if provider != "COGNITO" and provider not in pool.identity_providers:
            raise errors.InvalidParameterException(
                f"The provider {provider} does not exist for User Pool {pool.id}"
            )
    _check_oauth(pool, config, has_secret)
    return config


def _check_oauth(pool: UserPool, config: Mapping[str, Any], has_secret: bool) -> None:
    flows = set(config.get("AllowedOAuthFlows") or [])
    if "client_credentials" in flows:
        if not has_secret:
            raise errors.InvalidOAuthFlowException(
                "client_credentials flow can not be selected if client does not have a client secret."
            )
        if flows - {"client_credentials"}:
            raise errors.InvalidOAuthFlowException(
                "client_credentials flow can not be selected with either code or implicit flow."
            )
    custom = {
        f"{identifier}/{scope['ScopeName']}"
        for identifier, server in pool.resource_servers.items()
        for scope in server.get("Scopes", [])
    }
    for scope in config.get("AllowedOAuthScopes") or []:
        if scope not in _STANDARD_SCOPES and scope not in custom:
            raise errors.ScopeDoesNotExistException(f"Invalid scope requested: {scope}")
        if "client_credentials" in flows and scope in _STANDARD_SCOPES:
            raise errors.InvalidOAuthFlowException(
                "client_credentials flow can only be used with custom scopes."
            )
    if config.get("AllowedOAuthFlowsUserPoolClient"):
        if not flows:
            raise errors.InvalidOAuthFlowException("AllowedOAuthFlows must be set when OAuth is enabled.")
        if flows - {"client_credentials"} and not config.get("CallbackURLs"):
            raise errors.InvalidParameterException(
                "CallbackURLs must be set for the code and implicit flows."
            )
    default = config.get("DefaultRedirectURI")
    if default and default not in (config.get("CallbackURLs") or []):
        raise errors.InvalidParameterException("DefaultRedirectURI must be one of the CallbackURLs.")
    for url in [*(config.get("CallbackURLs") or []), *(config.get("LogoutURLs") or [])]:
        if url.startswith("http://") and not url.startswith(("http://localhost", "http://127.0.0.1")):
            raise errors.InvalidParameterException(f"{url} is not a valid redirect URI: use HTTPS.")


def describe_client(pool: UserPool, client: Client) -> dict[str, Any]:
    """``UserPoolClientType`` of an app client (its first secret as ``ClientSecret``)."""
    body: dict[str, Any] = {"UserPoolId": pool.id, "ClientName": client.name, "ClientId": client.client_id}
    if client.secrets:
        body["ClientSecret"] = client.secrets[0].value
    body["LastModifiedDate"] = client.modified
    body["CreationDate"] = client.created
    body.update(copy.deepcopy(client.config))
    return body


def _new_secret(ctx: Context, client_id: str, value: object, taken: list[ClientSecret]) -> ClientSecret:
    now = ctx.state.now()
    while any(s.secret_id == _ids.client_secret_id(client_id, now) for s in taken):
        now += 0.001  # two secrets in one millisecond still get distinct ids
    secret = value if isinstance(value, str) else _ids.client_secret(ctx.state.random_bytes)
    return ClientSecret(_ids.client_secret_id(client_id, now), secret, now)


def create_user_pool_client(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    state = ctx.state
    pool = ctx.lookups.pool(params["UserPoolId"])
    has_secret = bool(params.get("GenerateSecret")) or params.get("ClientSecret") is not None
    config = _settings(pool, params, has_secret)
    client_id = _ids.client_id(state.random_bytes)
    now = state.now()
    client = Client(client_id, str(params["ClientName"]), now, now, config)
    if has_secret:
        client.secrets.append(_new_secret(ctx, client_id, params.get("ClientSecret"), []))
    pool.clients[client_id] = client
    state.client_pools[client_id] = pool.id
    return {"UserPoolClient": describe_client(pool, client)}


def _client(ctx: Context, params: Mapping[str, Any]) -> tuple[UserPool, Client]:
    return ctx.lookups.client(params["ClientId"], params["UserPoolId"])


def describe_user_pool_client(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, client = _client(ctx, params)
    return {"UserPoolClient": describe_client(pool, client)}


def update_user_pool_client(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, client = _client(ctx, params)
    client.config = _settings(pool, params, bool(client.secrets))
    if params.get("ClientName") is not None:
        client.name = str(params["ClientName"])
    client.modified = ctx.state.now()
    return {"UserPoolClient": describe_client(pool, client)}


def delete_user_pool_client(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, client = _client(ctx, params)
    del pool.clients[client.client_id]
    ctx.state.client_pools.pop(client.client_id, None)
    for record in ctx.state.refresh_tokens.values():
        if record.client_id == client.client_id:
            record.revoked = True
    for access in ctx.state.access_tokens.values():
        if access.client_id == client.client_id:
            access.revoked = True
    return {}


def list_user_pool_clients(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    chunk, token = page(
        list(pool.clients.values()), params, key=lambda c: f"{c.created:020.6f}/{c.client_id}"
    )
    listed = [{"ClientId": c.client_id, "UserPoolId": pool.id, "ClientName": c.name} for c in chunk]
    return {"UserPoolClients": listed, **({"NextToken": token} if token else {})}


def _descriptor(secret: ClientSecret, *, with_value: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"ClientSecretId": secret.secret_id}
    if with_value:
        body["ClientSecretValue"] = secret.value
    body["ClientSecretCreateDate"] = secret.created
    return body


def add_user_pool_client_secret(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    _pool, client = _client(ctx, params)
    if not client.secrets:
        raise errors.InvalidParameterException(
            f"Client {client.client_id} has no client secret: secrets can only be added to confidential clients."
        )
    if len(client.secrets) >= _MAX_SECRETS:
        raise errors.LimitExceededException(
            f"Client {client.client_id} already has {_MAX_SECRETS} client secrets: delete one first."
        )
    given = params.get("ClientSecret")
    secret = _new_secret(ctx, client.client_id, given, client.secrets)
    client.secrets.append(secret)
    client.modified = ctx.state.now()
    return {"ClientSecretDescriptor": _descriptor(secret, with_value=given is None)}


def list_user_pool_client_secrets(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    _pool, client = _client(ctx, params)
    return {"ClientSecrets": [_descriptor(s, with_value=False) for s in client.secrets]}


def delete_user_pool_client_secret(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    _pool, client = _client(ctx, params)
    wanted = params["ClientSecretId"]
    found = [s for s in client.secrets if s.secret_id == wanted]
    if not found:
        raise errors.ResourceNotFoundException(f"Client secret {wanted} does not exist.")
    if len(client.secrets) == 1:
        raise errors.InvalidParameterException("The last client secret of an app client cannot be deleted.")
    client.secrets.remove(found[0])
    client.modified = ctx.state.now()
    return {}


ROUTES: dict[str, Route] = {
    "CreateUserPoolClient": create_user_pool_client,
    "DescribeUserPoolClient": describe_user_pool_client,
    "UpdateUserPoolClient": update_user_pool_client,
    "DeleteUserPoolClient": delete_user_pool_client,
    "ListUserPoolClients": list_user_pool_clients,
    "AddUserPoolClientSecret": add_user_pool_client_secret,
    "ListUserPoolClientSecrets": list_user_pool_client_secrets,
    "DeleteUserPoolClientSecret": delete_user_pool_client_secret,
}
FIDELITY: dict[str, str] = {name: "full" for name in ROUTES}
