"""A user's own account operations, as Cognito does them: attribute updates with verification, attribute
verification codes, deleting attributes and deleting the user.

As Cognito does them:

* UpdateUserAttributes (access token) and AdminUpdateUserAttributes: a changed ``email`` /
  ``phone_number`` becomes unverified (``email_verified=false``). When the pool verifies it
  (``AutoVerifiedAttributes``), a 6-digit code, valid for 24 hours, goes to the new value (outbox purpose
  ``VERIFY_ATTRIBUTE``) and UpdateUserAttributes answers its ``CodeDeliveryDetailsList``. The admin form
  sends the code too, unless the same call sets ``<attr>_verified=true`` (then the value is verified
  at once, and no code goes out).
* With ``UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate`` naming the attribute, the
  old value (still verified) stays until the new one is verified; the new one waits here
  (:attr:`PoolState.pending_attributes`).
* GetUserAttributeVerificationCode sends a new code (only the latest counts) to the waiting value, else the
  current one. VerifyUserAttribute checks it (CodeMismatchException, ExpiredCodeException; a code works
  once, a wrong one leaves it usable), sets ``<attr>_verified=true`` and applies a waiting value.
* DeleteUserAttributes removes attributes (not required ones), with their waiting values and codes.
* DeleteUser deletes the user and revokes their tokens; what the pool kept about them goes too.
  A later sign-in meets an unknown user (UserNotFoundException, or NotAuthorizedException when the app
  client prevents user existence errors).
* A CustomMessage trigger (``_triggers``) writes the codes' messages: CustomMessage_UpdateUserAttribute
  for an update, CustomMessage_VerifyUserAttribute for GetUserAttributeVerificationCode.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import errors
from . import _rules, _triggers, _users
from ._issuer import TokenIssuer
from ._lookups import Lookups
from ._state import PendingCode, PoolState, UserKey

if TYPE_CHECKING:
    from ._records import User, UserPool

__all__ = ["UserOperations", "VERIFY_ATTRIBUTE"]

VERIFY_ATTRIBUTE = "VERIFY_ATTRIBUTE"
_LIFETIME = 24 * 3600.0
#: The attributes a code verifies, and the medium it goes by.
_VERIFIABLE = {"email": "EMAIL", "phone_number": "SMS"}
_MISMATCH = "Invalid verification code provided, please try again."
_EXPIRED = "Invalid code provided, please request a code again."


def _code_slot(key: UserKey, name: str) -> tuple[UserKey, str]:
    return key, f"{VERIFY_ATTRIBUTE}:{name}"


def _verifiable(name: object) -> str:
    if not isinstance(name, str) or name not in _VERIFIABLE:
        raise errors.InvalidParameterException(f"Invalid attribute name: {name} cannot be verified")
    return name


class UserOperations:
    """UpdateUserAttributes (and its Admin form), attribute verification, DeleteUserAttributes, DeleteUser."""

    def __init__(self, state: PoolState, issuer: TokenIssuer, lookups: Lookups) -> None:
        self.state = state
        self.issuer = issuer  # revokes a deleted user's tokens
        self.lookups = lookups  # the user of an access token or an admin call

    def __repr__(self) -> str:
        return f"<UserOperations pending={sum(map(len, self.state.pending_attributes.values()))}>"

    # ----- helpers ---------------------------------------------------------------------------------------
    def _token_user(self, params: Mapping[str, Any], *required: str) -> tuple[UserPool, User, UserKey]:
        _rules.require(params, "AccessToken", *required)
        return self.lookups.token_user(params["AccessToken"])

    def _send_code(
        self, pool: UserPool, user: User, name: str, destination: str, source: str, params: Mapping[str, Any]
    ) -> dict[str, str]:
        """A new code for ``name`` (the last one stops counting) to ``destination``: its delivery details."""
        code = self.state.code()
        medium = _VERIFIABLE[name]
        text = _triggers.custom_message(self.state, pool, user, source, medium, code, params=params)
        slot = _code_slot((pool.id, user.sub), name)
        self.state.codes[slot] = PendingCode(code, self.state.now() + _LIFETIME, name)
        self.state.send(medium, destination, pool.id, user.username, VERIFY_ATTRIBUTE, code, text)
        return _rules.code_delivery(medium, destination)

    # ----- updates ---------------------------------------------------------------------------------------
    def update_user_attributes(self, params: Mapping[str, Any], *, admin: bool) -> dict[str, Any]:
        """UpdateUserAttributes / AdminUpdateUserAttributes with Cognito's verification of email and phone."""
        if admin:
            pool, user = self.lookups.admin_user(params)
            key: UserKey = (pool.id, user.sub)
        else:
            pool, user, key = self._token_user(params)
        _rules.require(params, "UserAttributes")
        given = _users.attribute_map(params["UserAttributes"])
        current = _rules.attributes(user)
        config = pool.config
        auto = set(config.get("AutoVerifiedAttributes") or [])
        before_update = set(
            (config.get("UserAttributeUpdateSettings") or {}).get("AttributesRequireVerificationBeforeUpdate")
            or []
        )
        apply = dict(given)
        waiting: dict[str, str | None] = {}  # attribute -> its new waiting value (None: nothing waits)
        to_send: list[tuple[str, str]] = []
        for name in _VERIFIABLE:
            if name not in given or given[name] == current.get(name):
                continue
            flag = f"{name}_verified"
            waiting[name] = None
            if admin and given.get(flag, "").lower() == "true":
                continue  # verified by the administrator in the same call: no code
            if name in before_update and current.get(name):
                waiting[name] = apply.pop(name)  # the old value, still verified, stays until then
                apply.pop(flag, None)
            else:
                apply[flag] = "false"
            if name in auto:
                to_send.append((name, given[name]))
        _users.write_attributes(self.state, pool, user, apply)
        pending = self.state.pending_attributes.setdefault(key, {})
        for name, value in waiting.items():
            self.state.codes.pop(_code_slot(key, name), None)  # a code for an older value stops working
            if value is None:
                pending.pop(name, None)
            else:
                pending[name] = value
        source = "CustomMessage_UpdateUserAttribute"
        deliveries = [self._send_code(pool, user, name, value, source, params) for name, value in to_send]
        return {"CodeDeliveryDetailsList": deliveries} if deliveries and not admin else {}

    # ----- verification ----------------------------------------------------------------------------------
    def get_user_attribute_verification_code(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """GetUserAttributeVerificationCode: a code to the waiting value of the attribute, else its value."""
        pool, user, key = self._token_user(params, "AttributeName")
        name = _verifiable(params["AttributeName"])
        value = self.state.pending_attributes.get(key, {}).get(name) or _rules.attributes(user).get(name)
        if not value:
            raise errors.InvalidParameterException(f"User has no attribute {name} to verify")
        delivery = self._send_code(pool, user, name, value, "CustomMessage_VerifyUserAttribute", params)
        return {"CodeDeliveryDetails": delivery}

    def verify_user_attribute(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """VerifyUserAttribute: the latest code, unexpired and unused; then the attribute is verified."""
        pool, user, key = self._token_user(params, "AttributeName", "Code")
        name = _verifiable(params["AttributeName"])
        pending = self.state.codes.get(_code_slot(key, name))
        if pending is None or not _rules.secret_equals(pending.code, params["Code"]):
            raise errors.CodeMismatchException(_MISMATCH)
        if pending.used or self.state.now() >= pending.expires_at:
            raise errors.ExpiredCodeException(_EXPIRED)
        waiting = self.state.pending_attributes.get(key, {})
        values = {f"{name}_verified": "true"}
        if name in waiting:
            values[name] = waiting[name]
        _users.write_attributes(self.state, pool, user, values)
        pending.used = True
        waiting.pop(name, None)
        return {}

    # ----- deletion --------------------------------------------------------------------------------------
    def delete_user_attributes(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DeleteUserAttributes: attributes (not required ones) go, with their verified flags and codes."""
        pool, user, key = self._token_user(params, "UserAttributeNames")
        names = params["UserAttributeNames"]
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise errors.InvalidParameterException("UserAttributeNames must be a list of attribute names")
        _users.delete_attributes(self.state, pool, user, names)
        for name in names:
            self.state.pending_attributes.get(key, {}).pop(name, None)
            self.state.codes.pop(_code_slot(key, name), None)
        return {}

    def delete_user(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DeleteUser: the user goes, their tokens are revoked, the state kept about them dropped."""
        pool, user, _key = self._token_user(params)
        _users.delete_user(self.state, self.issuer, pool, user)
        return {}
