"""CUSTOM_AUTH: the CUSTOM_CHALLENGE rounds and their answers.

The pool's ``custom_challenge`` factory makes each round's challenge (by default a 6-digit code emailed to
the outbox). A right answer skips MFA (there is no DefineAuthChallenge here to ask for more); a wrong one
ends the sign-in. CUSTOM_AUTH may start with SRP (``CHALLENGE_NAME: SRP_A``): then ``_srp_auth`` verifies
the password first and comes back here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import errors
from . import _rules
from ._auth_types import Advance, Response
from ._lookups import Lookups
from ._rules import INCORRECT, secret_equals
from ._sessions import ChallengeSessions
from ._state import ChallengeState, CustomChallenge, PoolState, SignIn

__all__ = ["CustomAuth"]


class CustomAuth:
    """Issues CUSTOM_CHALLENGE and checks its ANSWER."""

    def __init__(
        self, state: PoolState, lookups: Lookups, sessions: ChallengeSessions, advance: Advance
    ) -> None:
        self.state = state
        self.lookups = lookups
        self.sessions = sessions
        self.advance = advance

    def __repr__(self) -> str:
        return "<CustomAuth>"

    def custom_challenge(self, sign_in: SignIn) -> Response:
        """The next round's CUSTOM_CHALLENGE (its answer sent to the outbox when the challenge says so)."""
        sign_in.custom_round += 1
        pool, _client, user = self.lookups.signed_in_user(sign_in)
        factory = self.state.custom_challenge
        if factory is None:
            custom = CustomChallenge({"CHALLENGE_TYPE": "EMAIL_CODE"}, self.state.code(), send_to_outbox=True)
        else:
            custom = factory(user.username, sign_in.custom_round)
        if custom.send_to_outbox:
            destination = _rules.attributes(user).get("email", user.username)
            self.state.send("EMAIL", destination, pool.id, user.username, "CUSTOM_CHALLENGE", custom.answer)
        return self.sessions.issue(sign_in, "CUSTOM_CHALLENGE", custom.parameters, custom=custom)

    def answer_custom(self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]) -> Response:
        _rules.require(responses, "ANSWER", where="ChallengeResponses")
        assert challenge.custom is not None
        if not secret_equals(challenge.custom.answer, str(responses["ANSWER"])):
            raise errors.NotAuthorizedException(INCORRECT)
        sign_in = challenge.sign_in
        sign_in.skip_mfa = True  # the custom challenge decides; there is no DefineAuthChallenge here
        return self.advance(sign_in)
