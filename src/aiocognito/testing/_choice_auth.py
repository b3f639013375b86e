"""USER_AUTH (choice-based sign-in): the first factors a user can pick, SELECT_CHALLENGE, and starting one.

The factors are the pool's AllowedFirstAuthFactors that the user can use: PASSWORD and PASSWORD_SRP (with a
password), EMAIL_OTP (with an email), SMS_OTP (with a phone number). A PREFERRED_CHALLENGE among them starts
at once; otherwise SELECT_CHALLENGE lists them (AvailableChallenges). A one-time code replaces MFA.
USER_AUTH needs the Essentials tier or higher.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import errors
from . import _rules
from ._auth_types import Advance, Response
from ._challenges import Challenges
from ._lookups import Lookups
from ._password_auth import PasswordAuth
from ._rules import INCORRECT
from ._sessions import ChallengeSessions
from ._srp_auth import SrpAuth
from ._srp_server import SrpServer
from ._state import ChallengeState, SignIn

if TYPE_CHECKING:
    from ._records import Client, User, UserPool

__all__ = ["ChoiceAuth"]


class ChoiceAuth:
    """Starts USER_AUTH and the factor the user chose."""

    def __init__(
        self,
        lookups: Lookups,
        sessions: ChallengeSessions,
        password: PasswordAuth,
        srp: SrpAuth,
        challenges: Challenges,
        advance: Advance,
    ) -> None:
        self.lookups = lookups
        self.sessions = sessions
        self.password = password  # PASSWORD
        self.srp = srp  # PASSWORD_SRP
        self.challenges = challenges  # EMAIL_OTP / SMS_OTP
        self.advance = advance

    def __repr__(self) -> str:
        return "<ChoiceAuth>"

    def first_factors(self, pool: UserPool, user: User) -> list[str]:
        policy = (pool.config.get("Policies") or {}).get("SignInPolicy") or {}
        allowed = policy.get("AllowedFirstAuthFactors") or ["PASSWORD"]
        attrs = _rules.attributes(user)
        factors: list[str] = []
        if "PASSWORD" in allowed and user.password:
            factors += ["PASSWORD", "PASSWORD_SRP"]
        if "EMAIL_OTP" in allowed and attrs.get("email"):
            factors.append("EMAIL_OTP")
        if "SMS_OTP" in allowed and attrs.get("phone_number"):
            factors.append("SMS_OTP")
        return factors

    def initiate(
        self,
        pool: UserPool,
        client: Client,
        name: str,
        auth: Mapping[str, Any],
        admin: bool,
        device_key: str | None,
    ) -> Response:
        """InitiateAuth with AuthFlow USER_AUTH."""
        if str(pool.config.get("UserPoolTier", "ESSENTIALS")).upper() == "LITE":
            raise errors.FeatureUnavailableInTierException("USER_AUTH requires the Essentials tier or higher")
        user = self.lookups.find_user(pool, client, name)
        if user is None:
            raise errors.NotAuthorizedException(INCORRECT)
        if not user.enabled:
            raise errors.NotAuthorizedException("User is disabled.")
        sign_in = SignIn(
            pool.id, client.id, user.sub, user.username, admin, "USER_AUTH", device_key=device_key
        )
        available = self.first_factors(pool, user)
        preferred = auth.get("PREFERRED_CHALLENGE")
        if preferred in available:
            return self.start_factor(sign_in, pool, client, user, str(preferred), auth)
        response = self.sessions.issue(sign_in, "SELECT_CHALLENGE")
        response["AvailableChallenges"] = available
        return response

    def start_factor(
        self,
        sign_in: SignIn,
        pool: UserPool,
        client: Client,
        user: User,
        factor: str,
        inputs: Mapping[str, Any],
    ) -> Response:
        if factor == "PASSWORD":
            _rules.require(inputs, "PASSWORD")
            first = self.password.first_factor(
                pool, client, user, str(inputs["PASSWORD"]), "USER_AUTH", sign_in.admin
            )
            sign_in.password_verified = first.password_verified
            return self.advance(sign_in)
        if factor == "PASSWORD_SRP":
            _rules.require(inputs, "SRP_A")
            a_hex = SrpServer.check_srp_a(inputs["SRP_A"])
            return self.srp.password_verifier_challenge(
                pool, client, user, user.username, a_hex, "USER_AUTH", sign_in.admin, sign_in.device_key,
                session=True, sign_in=sign_in,
            )  # fmt: skip
        # EMAIL_OTP / SMS_OTP: passwordless; the code replaces MFA.
        sign_in.skip_mfa = True
        return self.challenges.code_challenge(sign_in, user, factor)

    def answer_select_challenge(
        self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]
    ) -> Response:
        """SELECT_CHALLENGE's ANSWER (or PASSWORD / PASSWORD_SRP named directly, with their inputs)."""
        sign_in = challenge.sign_in
        pool, client, user = self.lookups.signed_in_user(sign_in)
        _rules.require(responses, "ANSWER", where="ChallengeResponses")
        answer = str(responses["ANSWER"])
        available = self.first_factors(pool, user)
        if answer not in available:
            raise errors.InvalidParameterException(f"{answer} is not one of AvailableChallenges")
        return self.start_factor(sign_in, pool, client, user, answer, responses)
