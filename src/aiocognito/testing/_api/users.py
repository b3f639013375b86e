"""Administrators' user operations: AdminCreateUser, AdminGetUser, ListUsers, AdminDeleteUser,
AdminEnableUser, AdminDisableUser, AdminSetUserPassword, AdminResetUserPassword, AdminConfirmSignUp,
AdminDeleteUserAttributes, and a user's own ChangePassword.

As Cognito does them:

* AdminCreateUser makes a FORCE_CHANGE_PASSWORD user with the given temporary password (checked against
  the policy) or one it makes up, and sends the invitation (the temporary password) by the
  DesiredDeliveryMediums (SMS by default) unless MessageAction is SUPPRESS; RESEND sends a new one to an
  existing FORCE_CHANGE_PASSWORD user; ForceAliasCreation moves a verified alias from another user;
* AdminDisableUser revokes the user's tokens; a disabled user cannot sign in;
* AdminResetUserPassword puts the user in RESET_REQUIRED and sends a recovery code as ForgotPassword does;
* ListUsers filters as Cognito: ``attribute = "value"`` or ``attribute ^= "value"`` on the searchable
  attributes (username, email, phone_number, name, given_name, family_name, preferred_username,
  cognito:user_status, status, sub), ``Limit`` up to 60, ``AttributesToGet``;
* ChangePassword needs the current password, and the new one meets the policy and the history;
* the Lambda triggers (``_triggers``): PreSignUp_AdminCreateUser for a new user (raising undoes it; its
  flags are ignored, as Cognito ignores them here), CustomMessage_AdminCreateUser for the invitation,
  PostConfirmation_ConfirmSignUp after AdminConfirmSignUp, CustomMessage_ForgotPassword for
  AdminResetUserPassword's code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ... import errors
from .. import _rules, _triggers, _users
from .._codes import FORGOT_PASSWORD, recovery_target
from .._records import User, UserPool
from ._base import Context, Route, page

__all__ = ["ROUTES", "FIDELITY"]

_FILTER = re.compile(r'^\s*([\w:]+)\s*(=|\^=)\s*"((?:[^"\\]|\\.)*)"\s*$')
_SEARCHABLE = frozenset(
    {
        "username",
        "email",
        "phone_number",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "cognito:user_status",
        "status",
        "sub",
    }
)


def _invite(
    ctx: Context, pool: UserPool, user: User, mediums: list[str], password: str, params: Mapping[str, Any]
) -> None:
    """The invitation carrying the temporary password, by the requested mediums the user can receive."""
    for medium, destination in _users.invitation_targets(user, mediums):
        text = _triggers.custom_message(
            ctx.state, pool, user, "CustomMessage_AdminCreateUser", medium, password, params=params
        )
        ctx.state.send(medium, destination, pool.id, user.username, "TEMPORARY_PASSWORD", password, text)


def admin_create_user(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    state = ctx.state
    pool = ctx.lookups.pool(params["UserPoolId"])
    name = str(params["Username"])
    given = params.get("TemporaryPassword")
    if given is not None:
        _rules.check_password_policy(pool, str(given))
    password = str(given) if given is not None else state.temporary_password()
    mediums = list(params.get("DesiredDeliveryMediums") or ["SMS"])
    action = params.get("MessageAction")
    if action == "RESEND":
        user = _rules.resolve_user(pool, name)
        if user is None:
            raise errors.UserNotFoundException("User does not exist.")
        if user.status != "FORCE_CHANGE_PASSWORD":
            raise errors.UnsupportedUserStateException(
                "Resend not possible. User is in a state that does not allow it."
            )
        user.set_password(password, state.now())
        _invite(ctx, pool, user, mediums, password, params)
        return {"User": _users.describe(user)}
    attributes = _users.attribute_map(params.get("UserAttributes") or [])
    if params.get("ForceAliasCreation"):
        _users.take_aliases(pool, attributes)
    # required attributes may be missing: NEW_PASSWORD_REQUIRED asks the user for them (requiredAttributes)
    user = _users.create_user(
        state, pool, name, attributes, status="FORCE_CHANGE_PASSWORD", password=password, required=False
    )
    try:
        _triggers.pre_sign_up(state, pool, user, "PreSignUp_AdminCreateUser", None, params)
    except Exception:
        pool.remove_user(user)  # the trigger refused: no user was created
        raise
    if action != "SUPPRESS":
        _invite(ctx, pool, user, mediums, password, params)
    return {"User": _users.describe(user)}


def admin_get_user(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    body = _users.describe(user)  # UserType; AdminGetUser names its attributes UserAttributes
    body["UserAttributes"] = body.pop("Attributes")
    preferred = ctx.mfa.preferred_factor(pool, user)
    if preferred:
        body["PreferredMfaSetting"] = preferred
    factors = ctx.mfa.enabled_factors(pool, user)
    if factors:
        body["UserMFASettingList"] = factors
    return body


def admin_delete_user(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    _users.delete_user(ctx.state, ctx.issuer, pool, user)
    return {}


def admin_enable_user(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    _pool, user = ctx.lookups.admin_user(params)
    user.enabled = True
    user.modified = ctx.state.now()
    return {}


def admin_disable_user(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    user.enabled = False
    user.modified = ctx.state.now()
    ctx.issuer.sign_out_user((pool.id, user.sub))
    return {}


def admin_set_user_password(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    password = str(params["Password"])
    _rules.check_password_policy(pool, password)
    permanent = bool(params.get("Permanent"))
    if permanent:
        _rules.check_password_history(pool, user, password)
    status = "CONFIRMED" if permanent else "FORCE_CHANGE_PASSWORD"
    user.set_password(password, ctx.state.now(), status=status)
    ctx.state.secrets_for((pool.id, user.sub)).failed_attempts = 0
    return {}


def admin_reset_user_password(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    if not user.enabled:
        raise errors.NotAuthorizedException("User is disabled.")
    target = recovery_target(pool, user)
    if user.status != "UNCONFIRMED":
        user.status = "RESET_REQUIRED"
    user.modified = ctx.state.now()
    ctx.codes.send_code(pool, user, FORGOT_PASSWORD, target, params=params)
    return {}


def admin_confirm_sign_up(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    if user.status != "UNCONFIRMED":
        raise errors.NotAuthorizedException(f"User cannot be confirmed. Current status is {user.status}")
    user.status = "CONFIRMED"
    user.modified = ctx.state.now()
    _triggers.post_confirmation(ctx.state, pool, user, "PostConfirmation_ConfirmSignUp", None, params)
    return {}


def admin_delete_user_attributes(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    names = [str(n) for n in params["UserAttributeNames"]]
    _users.delete_attributes(ctx.state, pool, user, names)
    key = (pool.id, user.sub)
    for name in names:
        ctx.state.pending_attributes.get(key, {}).pop(name, None)
        ctx.state.codes.pop((key, f"VERIFY_ATTRIBUTE:{name}"), None)
    return {}


def change_password(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user, _key = ctx.lookups.token_user(params["AccessToken"])
    previous = params.get("PreviousPassword")
    if previous is None or not user.password or not _rules.secret_equals(user.password, previous):
        raise errors.NotAuthorizedException(_rules.INCORRECT)
    proposed = str(params["ProposedPassword"])
    _rules.check_password_policy(pool, proposed)
    _rules.check_password_history(pool, user, proposed)
    user.set_password(proposed, ctx.state.now())
    return {}


def _matches(user: User, name: str, operator: str, wanted: str) -> bool:
    if name == "username":
        value: str | None = user.username
    elif name == "cognito:user_status":
        value = user.status
    elif name == "status":
        value = "Enabled" if user.enabled else "Disabled"
    else:
        value = user.attributes.get(name)
    if value is None:
        return False
    if operator == "=":
        return value == wanted
    return value.startswith(wanted)


def list_users(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    users = list(pool.users.values())
    text = params.get("Filter")
    if text:
        found = _FILTER.match(str(text))
        if found is None or found.group(1) not in _SEARCHABLE:
            raise errors.InvalidParameterException("Error while parsing filter.")
        name, operator, wanted = found.group(1), found.group(2), re.sub(r"\\(.)", r"\1", found.group(3))
        users = [u for u in users if _matches(u, name, operator, wanted)]
    chunk, token = page(users, params, key=lambda u: u.username, token="PaginationToken", limit="Limit")
    wanted_attributes = params.get("AttributesToGet")
    listed = []
    for user in chunk:
        body = _users.describe(user)
        if wanted_attributes is not None:
            body["Attributes"] = [a for a in body["Attributes"] if a["Name"] in wanted_attributes]
        listed.append(body)
    return {"Users": listed, **({"PaginationToken": token} if token else {})}


ROUTES: dict[str, Route] = {
    "AdminCreateUser": admin_create_user,
    "AdminGetUser": admin_get_user,
    "AdminDeleteUser": admin_delete_user,
    "AdminEnableUser": admin_enable_user,
    "AdminDisableUser": admin_disable_user,
    "AdminSetUserPassword": admin_set_user_password,
    "AdminResetUserPassword": admin_reset_user_password,
    "AdminConfirmSignUp": admin_confirm_sign_up,
    "AdminDeleteUserAttributes": admin_delete_user_attributes,
    "ChangePassword": change_password,
    "ListUsers": list_users,
}
FIDELITY: dict[str, str] = {name: "full" for name in ROUTES}
