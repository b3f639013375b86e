"""The challenges after the first factor, and their answers: NEW_PASSWORD_REQUIRED and MFA.

MFA here is the sign-in's side: SMS_MFA, EMAIL_OTP and SMS_OTP codes (delivered to the outbox, in the
words of a CustomMessage trigger when there is one: CustomMessage_Authentication),
SOFTWARE_TOKEN_MFA, SELECT_MFA_TYPE and MFA_SETUP. What a pool offers and a user has, and the TOTP
operations, are ``_mfa``'s. A wrong or reused code leaves the Session usable (see ``_sessions``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import errors
from . import _rules, _triggers
from ._auth_types import Advance, Response
from ._lookups import Lookups
from ._mfa import MfaService
from ._rules import INVALID_SESSION, secret_equals
from ._sessions import ChallengeSessions
from ._state import ChallengeState, PoolState, SignIn

if TYPE_CHECKING:
    from ._records import User, UserPool

__all__ = ["Challenges"]

_CODE_KEYS = {"SMS_MFA": "SMS_MFA_CODE", "EMAIL_OTP": "EMAIL_OTP_CODE", "SMS_OTP": "SMS_OTP_CODE"}


class Challenges:
    """Issues NEW_PASSWORD_REQUIRED and the MFA challenges, and checks their answers."""

    def __init__(
        self,
        state: PoolState,
        lookups: Lookups,
        sessions: ChallengeSessions,
        mfa: MfaService,
        advance: Advance,
    ) -> None:
        self.state = state
        self.lookups = lookups
        self.sessions = sessions
        self.mfa = mfa
        self.advance = advance

    def __repr__(self) -> str:
        return "<Challenges>"

    # ----- NEW_PASSWORD_REQUIRED ------------------------------------------------------------------------
    def _required_attributes(self, pool: UserPool) -> list[str]:
        return [name for name, attr in pool.schema().items() if attr.get("Required") and name != "sub"]

    def new_password_challenge(self, sign_in: SignIn, pool: UserPool, user: User) -> Response:
        attrs = _rules.attributes(user)
        missing = [n for n in self._required_attributes(pool) if not attrs.get(n)]
        shown = {k: v for k, v in attrs.items() if k != "sub"}
        return self.sessions.issue(
            sign_in,
            "NEW_PASSWORD_REQUIRED",
            {
                "USER_ID_FOR_SRP": sign_in.username,
                "requiredAttributes": json.dumps([f"userAttributes.{n}" for n in missing]),
                "userAttributes": json.dumps(shown),
            },
        )

    def answer_new_password(
        self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]
    ) -> Response:
        _rules.require(responses, "NEW_PASSWORD", where="ChallengeResponses")
        sign_in = challenge.sign_in
        pool, client, user = self.lookups.signed_in_user(sign_in)
        attrs = _rules.attributes(user)
        given = {
            k[len("userAttributes.") :]: str(v)
            for k, v in responses.items()
            if k.startswith("userAttributes.")
        }
        writable = client.config.get("WriteAttributes")
        known = set(pool.schema())
        required = self._required_attributes(pool)
        for name in given:
            if name not in known or name in ("sub", "email_verified", "phone_number_verified"):
                raise errors.InvalidParameterException(f"Cannot modify the non-mutable attribute {name}")
            if writable and name not in writable:
                raise errors.NotAuthorizedException(
                    f"A client attempted to write unauthorized attribute {name}"
                )
            if name in required and attrs.get(name) and given[name] != attrs[name]:
                raise errors.InvalidParameterException(
                    f"Cannot modify an already provided required attribute {name}"
                )
        for name in required:
            if not attrs.get(name) and not given.get(name):
                raise errors.InvalidParameterException(f"Invalid attributes given, {name} is missing")
        password = str(responses["NEW_PASSWORD"])
        _rules.check_password_policy(pool, password)
        _rules.check_password_history(pool, user, password)
        user.attributes.update(given)
        user.set_password(password, self.state.now(), status="CONFIRMED")
        sign_in.done.add("new_password")
        return self.advance(sign_in)

    # ----- MFA ------------------------------------------------------------------------------------------
    def mfa_step(self, sign_in: SignIn, pool: UserPool, user: User) -> Response | None:
        """The MFA challenge the pool's setting and the user's factors call for; None when none is due."""
        mode = pool.mfa_configuration
        if mode == "OFF":
            return None
        enabled = self.mfa.enabled_factors(pool, user)
        if enabled:
            preferred = self.mfa.preferred_factor(pool, user)
            if preferred in enabled:
                return self.mfa_challenge(sign_in, user, preferred)
            if len(enabled) == 1:
                return self.mfa_challenge(sign_in, user, enabled[0])
            return self.sessions.issue(sign_in, "SELECT_MFA_TYPE", {"MFAS_CAN_CHOOSE": json.dumps(enabled)})
        if mode != "ON":
            return None
        attrs = _rules.attributes(user)
        if self.mfa.pool_allows(pool, "SMS_MFA") and attrs.get("phone_number"):
            return self.mfa_challenge(sign_in, user, "SMS_MFA")
        if self.mfa.pool_allows(pool, "EMAIL_OTP") and attrs.get("email"):
            return self.mfa_challenge(sign_in, user, "EMAIL_OTP")
        can_setup = [f for f in ("SMS_MFA", "SOFTWARE_TOKEN_MFA") if self.mfa.pool_allows(pool, f)]
        if not can_setup:
            raise errors.MFAMethodNotFoundException("No MFA mechanism registered in the account.")
        return self.sessions.issue(sign_in, "MFA_SETUP", {"MFAS_CAN_SETUP": json.dumps(can_setup)})

    def mfa_challenge(self, sign_in: SignIn, user: User, factor: str) -> Response:
        if factor == "SOFTWARE_TOKEN_MFA":
            return self.sessions.issue(sign_in, "SOFTWARE_TOKEN_MFA", {"FRIENDLY_DEVICE_NAME": "TOTP device"})
        return self.code_challenge(sign_in, user, factor)

    def code_challenge(self, sign_in: SignIn, user: User, challenge: str) -> Response:
        """SMS_MFA, EMAIL_OTP or SMS_OTP: a fresh code, delivered to the outbox."""
        medium = "EMAIL" if challenge == "EMAIL_OTP" else "SMS"
        destination = _rules.attributes(user).get("email" if medium == "EMAIL" else "phone_number", "")
        code = self.state.code()
        pool = self.lookups.pool(sign_in.user_pool_id)
        text = _triggers.custom_message(
            self.state, pool, user, "CustomMessage_Authentication", medium, code, client_id=sign_in.client_id
        )
        self.state.send(medium, destination, sign_in.user_pool_id, user.username, challenge, code, text)
        return self.sessions.issue(
            sign_in,
            challenge,
            {
                "CODE_DELIVERY_DELIVERY_MEDIUM": medium,
                "CODE_DELIVERY_DESTINATION": _rules.mask_destination(medium, destination),
            },
            code=code,
        )

    def answer_code(self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]) -> Response:
        key = _CODE_KEYS[challenge.challenge]
        _rules.require(responses, key, where="ChallengeResponses")
        if challenge.code is None or not secret_equals(challenge.code, str(responses[key])):
            raise errors.CodeMismatchException("Invalid code received for user")
        sign_in = challenge.sign_in
        sign_in.done.add("mfa")
        return self.advance(sign_in)

    def answer_totp(self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]) -> Response:
        _rules.require(responses, "SOFTWARE_TOKEN_MFA_CODE", where="ChallengeResponses")
        sign_in = challenge.sign_in
        key = (sign_in.user_pool_id, sign_in.sub)
        secret = self.state.secrets_for(key).totp_secret
        if secret is None:
            raise errors.SoftwareTokenMFANotFoundException("Software Token MFA does not exist for the user.")
        if not self.mfa.totp_ok(key, secret, responses["SOFTWARE_TOKEN_MFA_CODE"]):
            raise errors.CodeMismatchException("Invalid code received for user")
        sign_in.done.add("mfa")
        return self.advance(sign_in)

    def answer_select_mfa(
        self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]
    ) -> Response:
        _rules.require(responses, "ANSWER", where="ChallengeResponses")
        answer = str(responses["ANSWER"])
        if answer == "EMAIL_MFA":
            answer = "EMAIL_OTP"
        pool, _client, user = self.lookups.signed_in_user(challenge.sign_in)
        if answer not in self.mfa.enabled_factors(pool, user):
            raise errors.InvalidParameterException(f"{answer} is not one of MFAS_CAN_CHOOSE")
        return self.mfa_challenge(challenge.sign_in, user, answer)

    def answer_mfa_setup(
        self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]
    ) -> Response:
        if not challenge.totp_verified:
            # Answered before AssociateSoftwareToken + VerifySoftwareToken: nothing was set up.
            raise errors.NotAuthorizedException(INVALID_SESSION)
        sign_in = challenge.sign_in
        sign_in.done.add("mfa")
        return self.advance(sign_in)
