"""MFA settings and TOTP: which factors a pool offers and a user has, AssociateSoftwareToken,
VerifySoftwareToken and SetUserMFAPreference (and its Admin form).

The user record keeps the SMS/TOTP switches and the preferred factor; the protocol state keeps the TOTP
secrets (per user, real), the last TOTP step used (a code works once), and the user's email-MFA switches.
What a pool offers is SetUserPoolMfaConfig's settings (``UserPool.mfa``).

The sign-in's MFA challenges themselves (SMS_MFA, SOFTWARE_TOKEN_MFA, SELECT_MFA_TYPE, MFA_SETUP) are
issued and answered in ``_challenges``, which asks this module what the user has.
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pyotp

from .. import errors
from . import _rules
from ._lookups import Lookups
from ._rules import INVALID_SESSION
from ._sessions import ChallengeSessions
from ._state import PoolState, UserKey

if TYPE_CHECKING:
    from ._records import User, UserPool

__all__ = ["MfaService", "MFA_ORDER"]

#: The factors in the order Cognito lists them (MFAS_CAN_CHOOSE, UserMFASettingList).
MFA_ORDER = ("SMS_MFA", "SOFTWARE_TOKEN_MFA", "EMAIL_OTP")
_TOTP_CODE = re.compile(r"[0-9]{6}")
_TOTP_NOT_ENABLED = "Software Token MFA is not enabled for the user pool."


class MfaService:
    """The MFA settings of pools and users, and the TOTP operations."""

    def __init__(self, state: PoolState, lookups: Lookups, sessions: ChallengeSessions) -> None:
        self.state = state
        self.lookups = lookups  # the user of an admin call, an access token or a sign-in
        self.sessions = sessions  # MFA_SETUP's Sessions

    def __repr__(self) -> str:
        return "<MfaService>"

    # ===== what a pool offers and a user has ==============================================================
    def pool_allows(self, pool: UserPool, factor: str) -> bool:
        """Whether the pool's MFA configuration offers ``factor``."""
        mfa = pool.mfa
        if factor == "SOFTWARE_TOKEN_MFA":
            config = mfa.get("SoftwareTokenMfaConfiguration")
            if config is None:
                return "SmsMfaConfiguration" not in mfa and "EmailMfaConfiguration" not in mfa
            return bool(config.get("Enabled"))
        if factor == "SMS_MFA":
            return "SmsMfaConfiguration" in mfa
        return "EmailMfaConfiguration" in mfa

    def enabled_factors(self, pool: UserPool, user: User) -> list[str]:
        """The factors the user has enabled (and can use) that the pool offers, in Cognito's order."""
        secrets_ = self.state.secrets_for((pool.id, user.sub))
        attrs = _rules.attributes(user)
        enabled = {
            "SMS_MFA": user.sms_mfa_enabled and bool(attrs.get("phone_number")),
            "SOFTWARE_TOKEN_MFA": user.software_token_mfa_enabled and secrets_.totp_secret is not None,
            "EMAIL_OTP": secrets_.email_mfa_enabled and bool(attrs.get("email")),
        }
        return [f for f in MFA_ORDER if enabled[f] and self.pool_allows(pool, f)]

    def preferred_factor(self, pool: UserPool, user: User) -> str:
        """The user's preferred factor ("" when none)."""
        if user.preferred_mfa_setting:
            return str(user.preferred_mfa_setting)
        return "EMAIL_OTP" if self.state.secrets_for((pool.id, user.sub)).email_mfa_preferred else ""

    # ===== TOTP ===========================================================================================
    def totp_ok(self, key: UserKey, secret: str, code: object) -> bool:
        """Check a TOTP code (±1 step of 30 s) and burn its step; ExpiredCodeException when already used."""
        if not isinstance(code, str) or not _TOTP_CODE.fullmatch(code):
            return False
        totp = pyotp.TOTP(secret)
        step = int(self.state.now() // 30)
        secrets_ = self.state.secrets_for(key)
        for candidate in (step, step - 1, step + 1):
            if hmac.compare_digest(totp.at(candidate * 30).encode(), code.encode()):
                if candidate <= secrets_.last_totp_step:
                    raise errors.ExpiredCodeException("Your software token has already been used once.")
                secrets_.last_totp_step = candidate
                return True
        return False

    def _new_totp_secret(self) -> str:
        return base64.b32encode(self.state.random_bytes(20)).decode("ascii")

    def associate_software_token(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """AssociateSoftwareToken with a Session (MFA_SETUP) or an AccessToken."""
        token, session = params.get("AccessToken"), params.get("Session")
        if bool(token) == bool(session):
            raise errors.InvalidParameterException("Provide either AccessToken or Session, not both")
        if session:
            _, challenge = self.sessions.take_session(session)
            if challenge.challenge != "MFA_SETUP":
                raise errors.NotAuthorizedException(INVALID_SESSION)
            pool, _client, _user = self.lookups.signed_in_user(challenge.sign_in)
            if not self.pool_allows(pool, "SOFTWARE_TOKEN_MFA"):
                raise errors.SoftwareTokenMFANotFoundException(_TOTP_NOT_ENABLED)
            secret = self._new_totp_secret()
            response = self.sessions.issue(challenge.sign_in, "MFA_SETUP", totp_secret=secret)
            return {"SecretCode": secret, "Session": response["Session"]}
        pool, _user, key = self.lookups.token_user(token)
        if not self.pool_allows(pool, "SOFTWARE_TOKEN_MFA"):
            raise errors.SoftwareTokenMFANotFoundException(_TOTP_NOT_ENABLED)
        secret = self._new_totp_secret()
        self.state.secrets_for(key).pending_totp_secret = secret
        return {"SecretCode": secret}

    def verify_software_token(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """VerifySoftwareToken with a Session (MFA_SETUP) or an AccessToken."""
        _rules.require(params, "UserCode")
        token, session = params.get("AccessToken"), params.get("Session")
        if bool(token) == bool(session):
            raise errors.InvalidParameterException("Provide either AccessToken or Session, not both")
        mismatch = errors.EnableSoftwareTokenMFAException("Code mismatch and fail enable Software Token MFA")
        if session:
            handle, challenge = self.sessions.take_session(session)
            if challenge.challenge != "MFA_SETUP" or challenge.totp_secret is None or challenge.totp_verified:
                raise errors.NotAuthorizedException(INVALID_SESSION)
            sign_in = challenge.sign_in
            key = (sign_in.user_pool_id, sign_in.sub)
            if not self.totp_ok(key, challenge.totp_secret, params["UserCode"]):
                self.sessions.give_back(handle, challenge)
                raise mismatch
            _pool, _client, user = self.lookups.signed_in_user(sign_in)
            self._activate_totp(key, user, challenge.totp_secret, enable=True)
            response = self.sessions.issue(
                sign_in, "MFA_SETUP", totp_secret=challenge.totp_secret, totp_verified=True
            )
            return {"Status": "SUCCESS", "Session": response["Session"]}
        _pool, user, key = self.lookups.token_user(token)
        secrets_ = self.state.secrets_for(key)
        pending = secrets_.pending_totp_secret
        if pending is None:
            raise errors.SoftwareTokenMFANotFoundException(
                "Software Token MFA has not been associated with the user."
            )
        if not self.totp_ok(key, pending, params["UserCode"]):
            raise mismatch
        self._activate_totp(key, user, pending, enable=False)
        return {"Status": "SUCCESS"}

    def _activate_totp(self, key: UserKey, user: User, secret: str, *, enable: bool) -> None:
        secrets_ = self.state.secrets_for(key)
        secrets_.totp_secret = secret
        secrets_.pending_totp_secret = None
        if enable:
            user.software_token_mfa_enabled = True
            if not user.preferred_mfa_setting and not secrets_.email_mfa_preferred:
                user.preferred_mfa_setting = "SOFTWARE_TOKEN_MFA"

    # ===== SetUserMFAPreference ===========================================================================
    def set_user_mfa_preference(self, params: Mapping[str, Any], *, admin: bool) -> dict[str, Any]:
        """SetUserMFAPreference / AdminSetUserMFAPreference, stored on the user (email MFA: in its protocol state)."""
        if admin:
            pool, user = self.lookups.admin_user(params)
            key: UserKey = (pool.id, user.sub)
        else:
            _rules.require(params, "AccessToken")
            pool, user, key = self.lookups.token_user(params["AccessToken"])
        settings = {
            "SMS_MFA": params.get("SMSMfaSettings"),
            "SOFTWARE_TOKEN_MFA": params.get("SoftwareTokenMfaSettings"),
            "EMAIL_OTP": params.get("EmailMfaSettings"),
        }
        preferred = [f for f, s in settings.items() if isinstance(s, dict) and s.get("PreferredMfa")]
        if len(preferred) > 1:
            raise errors.InvalidParameterException("Only one MFA method can be preferred")
        secrets_ = self.state.secrets_for(key)
        totp = settings["SOFTWARE_TOKEN_MFA"]
        if isinstance(totp, dict) and totp.get("Enabled") and secrets_.totp_secret is None:
            raise errors.InvalidParameterException("User has not verified software token mfa")
        for factor, setting in settings.items():
            if not isinstance(setting, dict) or "Enabled" not in setting:
                continue
            enabled = bool(setting["Enabled"])
            if factor == "SMS_MFA":
                user.sms_mfa_enabled = enabled
            elif factor == "SOFTWARE_TOKEN_MFA":
                user.software_token_mfa_enabled = enabled
            else:
                secrets_.email_mfa_enabled = enabled
            if self.preferred_factor(pool, user) == factor and (
                not enabled or setting.get("PreferredMfa") is False
            ):
                user.preferred_mfa_setting = ""
                secrets_.email_mfa_preferred = False
        if preferred:
            choice = preferred[0]
            secrets_.email_mfa_preferred = choice == "EMAIL_OTP"
            user.preferred_mfa_setting = "" if choice == "EMAIL_OTP" else choice
        return {}
