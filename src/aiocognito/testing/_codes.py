"""Sign-up and password-recovery codes: SignUp, ConfirmSignUp, ResendConfirmationCode, ForgotPassword and
ConfirmForgotPassword.

As Cognito does:

* SignUp sends a 6-digit code, valid for 24 hours, when the pool verifies the user's phone number or email
  (``AutoVerifiedAttributes``; the phone number when both); ResendConfirmationCode sends a new one.
* ForgotPassword sends a 6-digit code, valid for 1 hour, through the first usable mechanism of the pool's
  ``AccountRecoverySetting`` (by default a verified phone number, then a verified email).
* Only the latest code of each kind counts. A wrong code gives CodeMismatchException, an expired one
  ExpiredCodeException ("Invalid code provided, please request a code again.").
* A code works once. A used recovery code gives ExpiredCodeException like an expired one (it is no
  longer valid, and the message says what to do, as Cognito answers a stale code). A second
  ConfirmSignUp meets a confirmed user: NotAuthorizedException "User cannot be confirmed. Current status
  is CONFIRMED", Cognito's answer (the status is checked before the code).
* A refused attempt (wrong code, a new password that breaks the policy) leaves the code usable.
* Confirming a sign-up verifies the attribute the code went to (``email_verified`` / ``phone_number_verified``).
* With PreventUserExistenceErrors an unknown user gets a made-up CodeDeliveryDetails, and
  CodeMismatchException when confirming.

The codes are kept in :attr:`PoolState.codes`; messages go to the outbox with the purposes
``SIGN_UP`` and ``FORGOT_PASSWORD``.

The Lambda triggers (``_triggers``), where Cognito runs them: PreSignUp_SignUp once the new user is
checked (raising: the sign-up is undone; ``autoConfirmUser`` confirms without a code, ``autoVerifyEmail``
/ ``autoVerifyPhone`` verify the attribute, moving its alias from another user);
PostConfirmation_ConfirmSignUp / _ConfirmForgotPassword once the user is confirmed (raising fails the
call, the confirmation stays); UserMigration_ForgotPassword for an unknown user; the CustomMessage trigger
writes each message's text.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import errors
from . import _rules, _triggers, _users
from ._auth_events import record_auth_event
from ._lookups import Lookups
from ._state import PendingCode, PoolState

if TYPE_CHECKING:
    from ._records import Client, User, UserPool

__all__ = ["CodeService", "SIGN_UP", "FORGOT_PASSWORD"]

SIGN_UP = "SIGN_UP"
FORGOT_PASSWORD = "FORGOT_PASSWORD"
_LIFETIME = {SIGN_UP: 24 * 3600.0, FORGOT_PASSWORD: 3600.0}
_MISMATCH = "Invalid verification code provided, please try again."
_EXPIRED = "Invalid code provided, please request a code again."
_NOT_FOUND = "Username/client id combination not found."
_MESSAGE_SOURCES = {SIGN_UP: "CustomMessage_SignUp", FORGOT_PASSWORD: "CustomMessage_ForgotPassword"}
_LEGACY_RECOVERY = (
    {"Name": "verified_phone_number", "Priority": 1},
    {"Name": "verified_email", "Priority": 2},
)

#: (medium, attribute, destination) of one code.
_Target = tuple[str, str, str]


def verification_target(pool: UserPool, user: User) -> _Target | None:
    """Where a sign-up code goes: the phone number or email the pool verifies (phone first), or None."""
    auto = pool.config.get("AutoVerifiedAttributes") or []
    attrs = _rules.attributes(user)
    if "phone_number" in auto and attrs.get("phone_number"):
        return "SMS", "phone_number", attrs["phone_number"]
    if "email" in auto and attrs.get("email"):
        return "EMAIL", "email", attrs["email"]
    return None


def recovery_target(pool: UserPool, user: User) -> _Target:
    """Where a password-recovery code goes, following the pool's AccountRecoverySetting."""
    setting = pool.config.get("AccountRecoverySetting") or {}
    mechanisms = sorted(setting.get("RecoveryMechanisms") or _LEGACY_RECOVERY, key=lambda m: m["Priority"])
    attrs = _rules.attributes(user)

    def verified(name: str) -> bool:
        return bool(attrs.get(name)) and attrs.get(f"{name}_verified", "").lower() == "true"

    for mechanism in mechanisms:
        name = mechanism["Name"]
        if name == "admin_only":
            raise errors.NotAuthorizedException("Contact administrator to reset password.")
        if name == "verified_phone_number" and verified("phone_number"):
            return "SMS", "phone_number", attrs["phone_number"]
        if name == "verified_email" and verified("email"):
            return "EMAIL", "email", attrs["email"]
    raise errors.InvalidParameterException(
        "Cannot reset password for the user as there is no registered/verified email or phone_number"
    )


class CodeService:
    """The sign-up and password-recovery operations of the local pool."""

    def __init__(self, state: PoolState, lookups: Lookups) -> None:
        self.state = state
        self.lookups = lookups  # app clients and users

    def __repr__(self) -> str:
        return f"<CodeService pending={len(self.state.codes)}>"

    # ----- helpers ---------------------------------------------------------------------------------------
    def _client_and_user(
        self, params: Mapping[str, Any], *required: str, migrate: bool = False
    ) -> tuple[UserPool, Client, User | None]:
        """Pool, client and user of a call (None: unknown, and the client hides that); SECRET_HASH checked.

        With ``migrate``, an unknown user is first offered to the UserMigration trigger (ForgotPassword).
        """
        _rules.require(params, "ClientId", "Username", *required)
        pool, client = self.lookups.client(params["ClientId"])
        _rules.check_secret_hash(client, str(params["Username"]), params.get("SecretHash"))
        user = _rules.resolve_user(pool, str(params["Username"]))
        if user is None and migrate:
            name = str(params["Username"])
            user = _users.migrate_user(self.state, pool, client, name, "UserMigration_ForgotPassword", params)
        if user is None and not _rules.prevents_user_existence_errors(client):
            raise errors.UserNotFoundException(_NOT_FOUND)
        return pool, client, user

    def send_code(
        self,
        pool: UserPool,
        user: User,
        purpose: str,
        target: _Target,
        *,
        source: str | None = None,
        client_id: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, str]:
        """A new code for ``purpose`` (replacing the last one), sent; returns its CodeDeliveryDetails.

        ``source`` is the custom message trigger's (default: CustomMessage_SignUp / _ForgotPassword).
        """
        medium, attribute, destination = target
        code = self.state.code()
        source = source or _MESSAGE_SOURCES[purpose]
        text = _triggers.custom_message(
            self.state, pool, user, source, medium, code, client_id=client_id, params=params
        )
        self.state.codes[((pool.id, user.sub), purpose)] = PendingCode(
            code, self.state.now() + _LIFETIME[purpose], attribute
        )
        self.state.send(medium, destination, pool.id, user.username, purpose, code, text)
        return _rules.code_delivery(medium, destination)

    def _check_code(self, pool: UserPool, user: User, purpose: str, given: object) -> PendingCode:
        pending = self.state.codes.get(((pool.id, user.sub), purpose))
        if pending is None or not hmac.compare_digest(pending.code.encode(), str(given).encode()):
            raise errors.CodeMismatchException(_MISMATCH)
        if pending.used or self.state.now() >= pending.expires_at:
            raise errors.ExpiredCodeException(_EXPIRED)
        return pending

    @staticmethod
    def _made_up_delivery(name: object) -> dict[str, str]:
        """PreventUserExistenceErrors: a plausible CodeDeliveryDetails for a user that does not exist."""
        text = str(name)
        return _rules.code_delivery("EMAIL", text if "@" in text else f"{text}@example.com")

    # ----- sign-up ---------------------------------------------------------------------------------------
    def sign_up(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """SignUp: a new UNCONFIRMED user; a code goes out when the pool verifies an attribute."""
        _rules.require(params, "ClientId", "Username", "Password")
        pool, client = self.lookups.client(params["ClientId"])
        _rules.check_secret_hash(client, str(params["Username"]), params.get("SecretHash"))
        if (pool.config.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly"):
            raise errors.NotAuthorizedException("SignUp is not permitted for this user pool")
        password = str(params["Password"])
        _rules.check_password_policy(pool, password)
        attributes = _users.attribute_map(params.get("UserAttributes") or [])
        user = _users.create_user(
            self.state, pool, str(params["Username"]), attributes, status="UNCONFIRMED", password=password
        )
        try:
            flags = _triggers.pre_sign_up(self.state, pool, user, "PreSignUp_SignUp", client.id, params) or {}
            self._auto_verify(pool, user, flags)
        except Exception:
            pool.remove_user(user)  # the trigger refused: no user was signed up
            raise
        record_auth_event(self.state, pool, user, event_type="SignUp", response="Pass")
        if flags.get("autoConfirmUser"):
            user.status = "CONFIRMED"
            _triggers.post_confirmation(
                self.state, pool, user, "PostConfirmation_ConfirmSignUp", client.id, params
            )
            return {"UserConfirmed": True, "UserSub": user.sub}
        response: dict[str, Any] = {"UserConfirmed": False, "UserSub": user.sub}
        target = verification_target(pool, user)
        if target is not None:
            response["CodeDeliveryDetails"] = self.send_code(
                pool, user, SIGN_UP, target, client_id=client.id, params=params
            )
        return response

    def _auto_verify(self, pool: UserPool, user: User, flags: Mapping[str, bool]) -> None:
        """PreSignUp's autoVerifyEmail / autoVerifyPhone: the attribute verified (its alias moved here)."""
        for name, wanted in (
            ("email", flags.get("autoVerifyEmail")),
            ("phone_number", flags.get("autoVerifyPhone")),
        ):
            if not wanted:
                continue
            value = user.attributes.get(name)
            if not value:
                raise errors.InvalidLambdaResponseException(
                    f"{name} must have a value to be verified by the PreSignUp trigger"
                )
            _users.take_aliases(pool, {name: value, f"{name}_verified": "true"})
            user.attributes[f"{name}_verified"] = "true"

    def resend_confirmation_code(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """ResendConfirmationCode: a new sign-up code for an unconfirmed user (the old one stops working)."""
        pool, client, user = self._client_and_user(params)
        if user is None:
            return {"CodeDeliveryDetails": self._made_up_delivery(params["Username"])}
        if _rules.user_status(user) != "UNCONFIRMED":
            raise errors.InvalidParameterException("User is already confirmed.")
        target = verification_target(pool, user)
        if target is None:
            raise errors.InvalidParameterException("Auto verification not turned on.")
        delivery = self.send_code(
            pool, user, SIGN_UP, target, source="CustomMessage_ResendCode", client_id=client.id, params=params
        )
        return {"CodeDeliveryDetails": delivery}

    def confirm_sign_up(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """ConfirmSignUp: the latest sign-up code, unexpired, for an unconfirmed user."""
        pool, client, user = self._client_and_user(params, "ConfirmationCode")
        if user is None:
            raise errors.CodeMismatchException(_MISMATCH)
        status = _rules.user_status(user)
        if status != "UNCONFIRMED":
            raise errors.NotAuthorizedException(f"User cannot be confirmed. Current status is {status}")
        pending = self._check_code(pool, user, SIGN_UP, params["ConfirmationCode"])
        pending.used = True
        user.status = "CONFIRMED"
        user.attributes[f"{pending.attribute}_verified"] = "true"
        user.modified = self.state.now()
        _triggers.post_confirmation(
            self.state, pool, user, "PostConfirmation_ConfirmSignUp", client.id, params
        )
        return {}

    # ----- password recovery -----------------------------------------------------------------------------
    def forgot_password(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """ForgotPassword: a recovery code to the user's verified phone number or email."""
        pool, client, user = self._client_and_user(params, migrate=True)
        if user is None:
            return {"CodeDeliveryDetails": self._made_up_delivery(params["Username"])}
        if not user.enabled:
            raise errors.NotAuthorizedException("User is disabled.")
        target = recovery_target(pool, user)
        record_auth_event(self.state, pool, user, event_type="ForgotPassword", response="Pass")
        delivery = self.send_code(pool, user, FORGOT_PASSWORD, target, client_id=client.id, params=params)
        return {"CodeDeliveryDetails": delivery}

    def confirm_forgot_password(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """ConfirmForgotPassword: the latest recovery code, unexpired and unused, and a valid new password."""
        pool, client, user = self._client_and_user(params, "ConfirmationCode", "Password")
        if user is None:
            raise errors.CodeMismatchException(_MISMATCH)
        pending = self._check_code(pool, user, FORGOT_PASSWORD, params["ConfirmationCode"])
        password = str(params["Password"])
        _rules.check_password_policy(pool, password)
        _rules.check_password_history(pool, user, password)
        pending.used = True
        status = "CONFIRMED" if user.status in ("RESET_REQUIRED", "FORCE_CHANGE_PASSWORD") else None
        user.set_password(password, self.state.now(), status=status)
        source = "PostConfirmation_ConfirmForgotPassword"
        _triggers.post_confirmation(self.state, pool, user, source, client.id, params)
        return {}
