"""Groups and their members: CreateGroup, GetGroup, UpdateGroup, DeleteGroup, ListGroups,
AdminAddUserToGroup, AdminRemoveUserFromGroup, AdminListGroupsForUser and ListUsersInGroup.

As Cognito does them: names unique in the pool (GroupExistsException), at most 10,000 groups per pool,
UpdateGroup changes only what it is given, deleting a group removes it from its members, membership shows
in the ``cognito:groups`` claim of tokens issued afterwards (by precedence), and the listings paginate
(``Limit`` up to 60).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import errors
from .._records import Group, UserPool
from .._users import describe
from ._base import Context, Route, page

__all__ = ["ROUTES", "FIDELITY"]

_MAX_GROUPS = 10_000


def _describe(pool: UserPool, group: Group) -> dict[str, Any]:
    body: dict[str, Any] = {"GroupName": group.name, "UserPoolId": pool.id}
    if group.description is not None:
        body["Description"] = group.description
    if group.role_arn is not None:
        body["RoleArn"] = group.role_arn
    if group.precedence is not None:
        body["Precedence"] = group.precedence
    body["LastModifiedDate"] = group.modified
    body["CreationDate"] = group.created
    return body


def _group(ctx: Context, params: Mapping[str, Any]) -> tuple[UserPool, Group]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    group = pool.groups.get(str(params["GroupName"]))
    if group is None:
        raise errors.ResourceNotFoundException("Group not found.")
    return pool, group


def create_group(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    name = str(params["GroupName"])
    if name in pool.groups:
        raise errors.GroupExistsException(f"A group with the name {name} already exists.")
    if len(pool.groups) >= _MAX_GROUPS:
        raise errors.LimitExceededException(f"A user pool can have at most {_MAX_GROUPS} groups.")
    now = ctx.state.now()
    group = Group(
        name,
        now,
        now,
        description=params.get("Description"),
        role_arn=params.get("RoleArn"),
        precedence=params.get("Precedence"),
    )
    pool.groups[name] = group
    return {"Group": _describe(pool, group)}


def get_group(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, group = _group(ctx, params)
    return {"Group": _describe(pool, group)}


def update_group(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, group = _group(ctx, params)
    if "Description" in params:
        group.description = params["Description"]
    if "RoleArn" in params:
        group.role_arn = params["RoleArn"]
    if "Precedence" in params:
        group.precedence = params["Precedence"]
    group.modified = ctx.state.now()
    return {"Group": _describe(pool, group)}


def delete_group(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, group = _group(ctx, params)
    del pool.groups[group.name]
    for user in pool.users.values():
        user.groups.discard(group.name)
    return {}


def list_groups(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    chunk, token = page(list(pool.groups.values()), params, key=lambda g: g.name, limit="Limit")
    return {"Groups": [_describe(pool, g) for g in chunk], **({"NextToken": token} if token else {})}


def admin_add_user_to_group(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    _pool, group = _group(ctx, params)
    user.groups.add(group.name)
    return {}


def admin_remove_user_from_group(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    _pool, group = _group(ctx, params)
    user.groups.discard(group.name)
    return {}


def admin_list_groups_for_user(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    groups = [pool.groups[name] for name in user.groups if name in pool.groups]
    chunk, token = page(groups, params, key=lambda g: g.name, limit="Limit")
    return {"Groups": [_describe(pool, g) for g in chunk], **({"NextToken": token} if token else {})}


def list_users_in_group(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, group = _group(ctx, params)
    members = [u for u in pool.users.values() if group.name in u.groups]
    chunk, token = page(members, params, key=lambda u: u.username, limit="Limit")
    return {"Users": [describe(u) for u in chunk], **({"NextToken": token} if token else {})}


ROUTES: dict[str, Route] = {
    "CreateGroup": create_group,
    "GetGroup": get_group,
    "UpdateGroup": update_group,
    "DeleteGroup": delete_group,
    "ListGroups": list_groups,
    "AdminAddUserToGroup": admin_add_user_to_group,
    "AdminRemoveUserFromGroup": admin_remove_user_from_group,
    "AdminListGroupsForUser": admin_list_groups_for_user,
    "ListUsersInGroup": list_users_in_group,
}
FIDELITY: dict[str, str] = {name: "full" for name in ROUTES}
