"""Resource servers: Create/Describe/Update/Delete/ListResourceServers, as Cognito does them.

Identifiers are unique in a pool, at most 25 per pool, and scope names unique in a server; an update
replaces the name and the scopes (scopes left out are gone). A server's scopes are the custom scopes
(``<identifier>/<scope>``) app clients may be allowed and the token endpoint grants (``_managed_login``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ... import errors
from .._records import UserPool
from ._base import Context, Route, page

__all__ = ["ROUTES", "FIDELITY"]

_MAX_SERVERS = 25


def _scopes(params: Mapping[str, Any]) -> list[dict[str, str]]:
    scopes = [
        {"ScopeName": str(s["ScopeName"]), "ScopeDescription": str(s["ScopeDescription"])}
        for s in params.get("Scopes") or []
    ]
    names = [s["ScopeName"] for s in scopes]
    duplicate = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if duplicate is not None:
        raise errors.InvalidParameterException(f"Duplicate scope name {duplicate} in the resource server.")
    return scopes


def _server(ctx: Context, params: Mapping[str, Any]) -> tuple[UserPool, dict[str, Any]]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    server = pool.resource_servers.get(str(params["Identifier"]))
    if server is None:
        raise errors.ResourceNotFoundException(
            f"Resource server {params['Identifier']} does not exist in user pool {pool.id}."
        )
    return pool, server


def create_resource_server(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    identifier = str(params["Identifier"])
    if identifier in pool.resource_servers:
        raise errors.InvalidParameterException(f"{identifier} already exists in user pool {pool.id}.")
    if len(pool.resource_servers) >= _MAX_SERVERS:
        raise errors.LimitExceededException(f"A user pool can have at most {_MAX_SERVERS} resource servers.")
    server = {
        "UserPoolId": pool.id,
        "Identifier": identifier,
        "Name": str(params["Name"]),
        "Scopes": _scopes(params),
    }
    pool.resource_servers[identifier] = server
    return {"ResourceServer": copy.deepcopy(server)}


def describe_resource_server(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    return {"ResourceServer": copy.deepcopy(_server(ctx, params)[1])}


def update_resource_server(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    _pool, server = _server(ctx, params)
    server["Name"] = str(params["Name"])
    server["Scopes"] = _scopes(params)
    return {"ResourceServer": copy.deepcopy(server)}


def delete_resource_server(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, server = _server(ctx, params)
    del pool.resource_servers[server["Identifier"]]
    return {}


def list_resource_servers(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    chunk, token = page(
        list(pool.resource_servers.values()), params, key=lambda s: s["Identifier"], default=50
    )
    return {"ResourceServers": copy.deepcopy(chunk), **({"NextToken": token} if token else {})}


ROUTES: dict[str, Route] = {
    "CreateResourceServer": create_resource_server,
    "DescribeResourceServer": describe_resource_server,
    "UpdateResourceServer": update_resource_server,
    "DeleteResourceServer": delete_resource_server,
    "ListResourceServers": list_resource_servers,
}
#: operation -> "full", or "stored: <why the behaviour cannot be reproduced offline>"
FIDELITY: dict[str, str] = dict.fromkeys(ROUTES, "full")
