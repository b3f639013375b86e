"""USER_AUTH (choice-based sign-in): the first factors a user can pick, SELECT_CHALLENGE, and starting one.

The factors are the pool's AllowedFirstAuthFactors that the user can use: PASSWORD and PASSWORD_SRP (with a
password), EMAIL_OTP (with an email), SMS_OTP (with a phone number), WEB_AUTHN (with a passkey of the pool's
relying party). A PREFERRED_CHALLENGE among them starts at once; otherwise SELECT_CHALLENGE lists them
(AvailableChallenges). A one-time code replaces MFA. USER_AUTH needs the Essentials tier or higher.

WEB_AUTHN (chosen as PREFERRED_CHALLENGE, or as SELECT_CHALLENGE's ANSWER) answers the WEB_AUTHN challenge
with CREDENTIAL_REQUEST_OPTIONS (a JSON string, see ``_api/webauthn.request_options``); its fresh random
challenge lives with the challenge Session, so it can be answered once. The answer's CREDENTIAL (an
AuthenticationResponseJSON string) is checked by ``_api/webauthn.verify_assertion``; a refused one is a
NotAuthorizedException that ends the sign-in. A CREDENTIAL sent already with SELECT_CHALLENGE answers no
challenge of this pool, so it is refused the same way. After a passkey, MFA follows as after a password,
unless the pool's WebAuthnConfiguration FactorConfiguration is MULTI_FACTOR_WITH_USER_VERIFICATION and the
authenticator verified the user: Cognito documents that setting as the one where a user-verified passkey
counts for MFA, and SINGLE_FACTOR (the default) as the one where a passkey is one factor only.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import errors
from . import _rules
from ._api import webauthn
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


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


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
        if "WEB_AUTHN" in allowed and webauthn.sign_in_passkeys(pool, user):
            factors.append("WEB_AUTHN")
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
        if factor == "WEB_AUTHN":
            if "CREDENTIAL" in inputs:  # no request options were issued yet: nothing it can answer
                raise errors.NotAuthorizedException("The passkey credential was not accepted.")
            challenge = self.sessions.state.random_bytes(32)
            options = webauthn.request_options(pool, user, challenge)
            parameters = {"CREDENTIAL_REQUEST_OPTIONS": json.dumps(options, separators=(",", ":"))}
            # the challenge is kept with the Session (ChallengeState.code): single use, as the Session
            return self.sessions.issue(sign_in, "WEB_AUTHN", parameters, code=_b64url(challenge))
        # EMAIL_OTP / SMS_OTP: passwordless; the code replaces MFA.
        sign_in.skip_mfa = True
        return self.challenges.code_challenge(sign_in, user, factor)

    def answer_web_authn(
        self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]
    ) -> Response:
        """WEB_AUTHN's CREDENTIAL: the assertion of one of the user's passkeys over the issued challenge."""
        sign_in = challenge.sign_in
        pool, _client, user = self.lookups.signed_in_user(sign_in)
        _rules.require(responses, "CREDENTIAL", where="ChallengeResponses")
        issued = _unb64url(challenge.code or "")
        user_verified = webauthn.verify_assertion(pool, user, responses["CREDENTIAL"], issued)
        sign_in.skip_mfa = user_verified and webauthn.passkey_is_mfa(pool)
        return self.advance(sign_in)

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
