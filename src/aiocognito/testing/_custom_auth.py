"""CUSTOM_AUTH: the CUSTOM_CHALLENGE rounds and their answers.

With a DefineAuthChallenge trigger (``_triggers``) the pool runs Cognito's loop: DefineAuthChallenge reads
the session so far (``[{challengeName, challengeResult, challengeMetadata}, ...]``) and answers
``issueTokens``, ``failAuthentication`` ("Incorrect username or password.") or the next ``challengeName``;
for CUSTOM_CHALLENGE, CreateAuthChallenge makes ``publicChallengeParameters`` (sent to the client with
USERNAME), ``privateChallengeParameters`` and ``challengeMetadata``; the ANSWER goes to
VerifyAuthChallengeResponse, whose ``answerCorrect`` joins the session, and DefineAuthChallenge decides
again. CUSTOM_AUTH started with ``CHALLENGE_NAME: SRP_A`` opens the session with ``SRP_A``; when
DefineAuthChallenge answers PASSWORD_VERIFIER, ``_srp_auth`` checks the password and comes back here with
``PASSWORD_VERIFIER`` added. Tokens skip MFA (the triggers decide). A client that prevents user existence
errors lets an unknown user through the loop (``userNotFound: true``) and fails it at the end.

Without the trigger, the pool's ``custom_challenge`` factory makes each round's challenge (by default a
6-digit code emailed to the outbox); a right answer gives tokens, a wrong one ends the sign-in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import errors
from . import _rules, _triggers
from ._auth_types import Advance, Response
from ._lookups import Lookups
from ._rules import INCORRECT, secret_equals
from ._sessions import ChallengeSessions
from ._state import ChallengeState, CustomChallenge, PoolState, SignIn

if TYPE_CHECKING:
    from ._records import Client, User, UserPool

__all__ = ["CustomAuth", "CustomRound", "PasswordVerifierStep"]

#: Issues PASSWORD_VERIFIER for a CUSTOM_AUTH sign-in started with SRP_A, carrying the session so far.
PasswordVerifierStep = Callable[[SignIn, CustomChallenge | None], Response]


@dataclass(frozen=True)
class CustomRound(CustomChallenge):
    """A challenge of the trigger-driven loop: CreateAuthChallenge's answer and the session before it."""

    private: dict[str, str] = field(default_factory=dict, repr=False)
    metadata: str | None = None
    history: tuple[dict[str, Any], ...] = ()


def _entry(name: str, result: bool, metadata: str | None = None) -> dict[str, Any]:
    return {"challengeName": name, "challengeResult": result, "challengeMetadata": metadata}


def _string_map(value: object, member: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise errors.InvalidLambdaResponseException(f"CreateAuthChallenge returned an invalid {member}")
    return {str(k): v for k, v in value.items()}


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

    # ----- InitiateAuth -----------------------------------------------------------------------------------
    def initiate(
        self,
        pool: UserPool,
        client: Client,
        user: User | None,
        typed_name: str,
        admin: bool,
        device_key: str | None,
        password_verifier: PasswordVerifierStep | None,
    ) -> Response:
        """CUSTOM_AUTH's first step; ``password_verifier`` when it started with SRP_A."""
        hides = _rules.prevents_user_existence_errors(client)
        driven = _triggers.bound(self.state, pool, "DefineAuthChallenge")
        if user is None and not (driven and hides and password_verifier is None):
            raise errors.NotAuthorizedException(INCORRECT)
        if user is not None and not user.enabled:
            raise errors.NotAuthorizedException("User is disabled.")
        _triggers.pre_authentication(self.state, pool, user, client.id, hides_users=hides)
        sub, username = (user.sub, user.username) if user is not None else ("", typed_name)
        sign_in = SignIn(pool.id, client.id, sub, username, admin, "CUSTOM_AUTH", device_key=device_key)
        if not driven:
            return password_verifier(sign_in, None) if password_verifier else self.custom_challenge(sign_in)
        history = (_entry("SRP_A", True),) if password_verifier else ()
        return self._next(sign_in, history, password_verifier)

    def after_password_verifier(self, sign_in: SignIn, custom: CustomChallenge | None) -> Response:
        """PASSWORD_VERIFIER passed in a CUSTOM_AUTH sign-in: the loop goes on (or the fixed challenge)."""
        if not isinstance(custom, CustomRound):
            return self.custom_challenge(sign_in)
        return self._next(sign_in, (*custom.history, _entry("PASSWORD_VERIFIER", True)), None)

    # ----- the trigger-driven loop ------------------------------------------------------------------------
    def _who(self, sign_in: SignIn) -> tuple[UserPool, Client, User | None]:
        if sign_in.sub:
            return self.lookups.signed_in_user(sign_in)
        pool, client = self.lookups.client(sign_in.client_id)
        return pool, client, None

    def _run(
        self,
        sign_in: SignIn,
        name: str,
        request: dict[str, Any],
        response: dict[str, Any],
    ) -> dict[str, Any]:
        """Run one of the three triggers with the user's attributes (and ``userNotFound``) added."""
        pool, client, user = self._who(sign_in)
        request = {"userAttributes": _triggers.user_attributes(user) if user else {}, **request}
        if _rules.prevents_user_existence_errors(client):
            request["userNotFound"] = user is None
        source = f"{name}_Authentication"
        answered = _triggers.run(
            self.state, pool, name, source, sign_in.username, client.id, request, response
        )
        return answered or {}

    def _next(
        self,
        sign_in: SignIn,
        history: tuple[dict[str, Any], ...],
        password_verifier: PasswordVerifierStep | None,
    ) -> Response:
        """Ask DefineAuthChallenge what follows ``history``, and do it."""
        decided = self._run(
            sign_in,
            "DefineAuthChallenge",
            {"session": list(history)},
            {"challengeName": None, "issueTokens": None, "failAuthentication": None},
        )
        if _triggers.flag(decided.get("failAuthentication")):
            raise errors.NotAuthorizedException(INCORRECT)
        if _triggers.flag(decided.get("issueTokens")):
            if not sign_in.sub:  # an unknown user never gets tokens
                raise errors.NotAuthorizedException(INCORRECT)
            sign_in.skip_mfa = True  # the triggers decided; MFA is theirs to ask for
            return self.advance(sign_in)
        name = decided.get("challengeName")
        if name == "PASSWORD_VERIFIER" and password_verifier is not None:
            return password_verifier(sign_in, CustomRound({}, "", history=history))
        if name == "CUSTOM_CHALLENGE":
            return self._create(sign_in, history)
        raise errors.InvalidLambdaResponseException(
            f"DefineAuthChallenge answered challengeName {name!r}, which the local pool cannot issue here "
            "(CUSTOM_CHALLENGE, or PASSWORD_VERIFIER right after SRP_A)"
        )

    def _create(self, sign_in: SignIn, history: tuple[dict[str, Any], ...]) -> Response:
        sign_in.custom_round += 1
        made = self._run(
            sign_in,
            "CreateAuthChallenge",
            {"challengeName": "CUSTOM_CHALLENGE", "session": list(history)},
            {
                "publicChallengeParameters": None,
                "privateChallengeParameters": None,
                "challengeMetadata": None,
            },
        )
        public = _string_map(made.get("publicChallengeParameters"), "publicChallengeParameters")
        private = _string_map(made.get("privateChallengeParameters"), "privateChallengeParameters")
        metadata = made.get("challengeMetadata")
        if metadata is not None and not isinstance(metadata, str):
            raise errors.InvalidLambdaResponseException(
                "CreateAuthChallenge returned an invalid challengeMetadata"
            )
        custom = CustomRound(public, "", private=private, metadata=metadata, history=history)
        return self.sessions.issue(sign_in, "CUSTOM_CHALLENGE", public, custom=custom)

    def _verify(self, sign_in: SignIn, custom: CustomRound, answer: str) -> Response:
        checked = self._run(
            sign_in,
            "VerifyAuthChallengeResponse",
            {"privateChallengeParameters": dict(custom.private), "challengeAnswer": answer},
            {"answerCorrect": None},
        )
        correct = _triggers.flag(checked.get("answerCorrect"))
        return self._next(
            sign_in, (*custom.history, _entry("CUSTOM_CHALLENGE", correct, custom.metadata)), None
        )

    # ----- the fixed challenge (no trigger) ---------------------------------------------------------------
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
        custom = challenge.custom
        assert custom is not None
        if isinstance(custom, CustomRound):
            return self._verify(challenge.sign_in, custom, str(responses["ANSWER"]))
        if not secret_equals(custom.answer, str(responses["ANSWER"])):
            raise errors.NotAuthorizedException(INCORRECT)
        sign_in = challenge.sign_in
        sign_in.skip_mfa = True  # the custom challenge decides; there is no DefineAuthChallenge here
        return self.advance(sign_in)
