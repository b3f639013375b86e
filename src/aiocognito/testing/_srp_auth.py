"""The password by SRP: the PASSWORD_VERIFIER challenge and its answer.

USER_SRP_AUTH's PASSWORD_VERIFIER has no Session (as measured on a real pool): its SECRET_BLOCK is the
single-use handle. CUSTOM_AUTH's ``SRP_A`` step and USER_AUTH's PASSWORD_SRP factor issue it with a Session.
An unknown user behind PreventUserExistenceErrors gets a made-up identity and verifier, and then
"Incorrect username or password."; failed proofs count towards the lockout of ``_password_auth``. A
PreAuthentication trigger (``_triggers``) runs before PASSWORD_VERIFIER is issued (CUSTOM_AUTH runs it in
``_custom_auth``), and CUSTOM_AUTH's PASSWORD_VERIFIER carries DefineAuthChallenge's session so far.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import errors
from .._signin.srp import pool_name_of
from . import _rules, _triggers
from ._auth_types import Advance, Response
from ._custom_auth import CustomAuth
from ._lookups import Lookups
from ._password_auth import PasswordAuth
from ._rules import INCORRECT
from ._sessions import ChallengeSessions
from ._srp_server import SrpServer
from ._state import ChallengeState, CustomChallenge, PoolState, SignIn

if TYPE_CHECKING:
    from ._records import Client, User, UserPool

__all__ = ["SrpAuth"]


class SrpAuth:
    """Issues PASSWORD_VERIFIER for an ``SRP_A`` and checks the client's proof."""

    def __init__(
        self,
        state: PoolState,
        lookups: Lookups,
        sessions: ChallengeSessions,
        srp: SrpServer,
        password: PasswordAuth,
        custom: CustomAuth,
        advance: Advance,
    ) -> None:
        self.state = state
        self.lookups = lookups
        self.sessions = sessions
        self.srp = srp
        self.password = password  # lockout
        self.custom = custom  # CUSTOM_AUTH goes on to its custom challenge
        self.advance = advance

    def __repr__(self) -> str:
        return "<SrpAuth>"

    def password_verifier_challenge(
        self,
        pool: UserPool,
        client: Client,
        user: User | None,
        typed_name: str,
        a_hex: str,
        flow: str,
        admin: bool,
        device_key: str | None,
        *,
        session: bool,
        sign_in: SignIn | None = None,
        custom: CustomChallenge | None = None,
    ) -> Response:
        """PASSWORD_VERIFIER with a Session (``session``), or under its SECRET_BLOCK (USER_SRP_AUTH).

        ``custom``: a CUSTOM_AUTH sign-in's session so far, kept with the challenge.
        """
        if user is not None:
            if not user.enabled:
                raise errors.NotAuthorizedException("User is disabled.")
            if flow != "CUSTOM_AUTH":
                hides = _rules.prevents_user_existence_errors(client)
                _triggers.pre_authentication(self.state, pool, user, client.id, hides_users=hides)
            salt, verifier = self.srp.user_verifier(pool, user)
            user_id, sub = user.username, user.sub
        else:
            # PreventUserExistenceErrors: a stable made-up identity, and a verifier nobody can match.
            user_id, sub = self.srp.made_up_user_id(pool, typed_name), ""
            salt, verifier = self.srp.made_up_verifier(pool, user_id, f"unknown/{typed_name}")
        if sign_in is None:
            sign_in = SignIn(pool.id, client.id, sub, user_id, admin, flow, device_key=device_key)
        srp = self.srp.srp_state(pool_name_of(pool.id), user_id, salt, verifier, a_hex)
        parameters = {**srp.challenge_parameters(), "USER_ID_FOR_SRP": user_id}
        if session:
            return self.sessions.issue(sign_in, "PASSWORD_VERIFIER", parameters, srp=srp, custom=custom)
        # USER_SRP_AUTH: no Session; the SECRET_BLOCK is the handle (measured on a real pool).
        handle = "srp:" + parameters["SECRET_BLOCK"]
        self.sessions.store(
            handle,
            ChallengeState(
                sign_in=sign_in,
                challenge="PASSWORD_VERIFIER",
                expires_at=self.state.now() + _rules.session_seconds(client),
                srp=srp,
                has_session=False,
            ),
        )
        return {
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeParameters": {**parameters, "USERNAME": user_id},
        }

    def answer_password_verifier(
        self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]
    ) -> Response:
        _rules.require(
            responses,
            "PASSWORD_CLAIM_SIGNATURE",
            "PASSWORD_CLAIM_SECRET_BLOCK",
            "TIMESTAMP",
            where="ChallengeResponses",
        )
        sign_in = challenge.sign_in
        assert challenge.srp is not None
        if not sign_in.sub:
            raise errors.NotAuthorizedException(INCORRECT)
        pool, client, user = self.lookups.signed_in_user(sign_in)
        key = (pool.id, user.sub)
        self.password.check_lockout(key)
        if not self.srp.srp_ok(challenge.srp, responses):
            raise self.password.fail_password(key)
        self.state.secrets_for(key).failed_attempts = 0
        sign_in.password_verified = True
        if responses.get("DEVICE_KEY"):
            sign_in.device_key = str(responses["DEVICE_KEY"])
        if sign_in.flow == "CUSTOM_AUTH":
            return self.custom.after_password_verifier(sign_in, challenge.custom)
        return self.advance(sign_in)
