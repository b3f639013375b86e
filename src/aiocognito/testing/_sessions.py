"""Challenge Sessions: issued with each challenge, single use, bound to the challenge, expiring, pruned.

A Session expires after its app client's AuthSessionValidity; a used one answers "session can only be used
once". After a wrong code or an invalid answer the same Session may be answered again, up to three
failures (:meth:`ChallengeSessions.give_back`). USER_SRP_AUTH's PASSWORD_VERIFIER has no Session: it is
stored under its SECRET_BLOCK instead (see ``_srp_auth``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import errors
from . import _rules
from ._auth_types import Response
from ._lookups import Lookups
from ._rules import INVALID_SESSION
from ._state import ChallengeState, PoolState, SignIn

__all__ = ["ChallengeSessions", "EXPIRED_SESSION"]

EXPIRED_SESSION = "Invalid session for the user, session is expired."
_USED_SESSION = "Invalid session for the user, session can only be used once."
_MAX_CODE_FAILURES = 3
_PRUNE_EVERY = 1000


class ChallengeSessions:
    """The pending challenges of :attr:`PoolState.challenges`, by Session, and the Sessions already used."""

    def __init__(self, state: PoolState, lookups: Lookups) -> None:
        self.state = state
        self.lookups = lookups  # the app client's AuthSessionValidity
        self._used_sessions: dict[str, float] = {}  # used Session -> when it would have expired
        self._stored = 0

    def __repr__(self) -> str:
        return f"<ChallengeSessions pending={len(self.state.challenges)} used={len(self._used_sessions)}>"

    def _prune(self) -> None:
        """Forget expired challenges and used sessions (a long-running pool would otherwise grow)."""
        now = self.state.now()
        for key in [k for k, c in self.state.challenges.items() if c.expires_at <= now]:
            del self.state.challenges[key]
        for key in [k for k, expires in self._used_sessions.items() if expires <= now]:
            del self._used_sessions[key]

    def store(self, key: str, challenge: ChallengeState) -> None:
        """Keep a pending challenge under ``key`` (a Session, or an SRP handle)."""
        self._stored += 1
        if self._stored % _PRUNE_EVERY == 0:
            self._prune()
        self.state.challenges[key] = challenge

    def issue(
        self,
        sign_in: SignIn,
        challenge: str,
        parameters: Mapping[str, str] | None = None,
        **fields: Any,
    ) -> Response:
        """Store a challenge under a fresh Session and return the response carrying it."""
        _, client = self.lookups.client(sign_in.client_id)
        session = self.state.token(96)
        self.store(
            session,
            ChallengeState(
                sign_in=sign_in,
                challenge=challenge,
                expires_at=self.state.now() + _rules.session_seconds(client),
                **fields,
            ),
        )
        response: Response = {
            "ChallengeName": challenge,
            "Session": session,
            "ChallengeParameters": {"USERNAME": sign_in.username, **(parameters or {})},
        }
        return response

    def take_session(self, session: object) -> tuple[str, ChallengeState]:
        """Remove and return the challenge a Session points to (single use)."""
        if not isinstance(session, str) or not session:
            raise errors.InvalidParameterException("Missing required parameter Session")
        found = self.state.challenges.pop(session, None)
        if found is None:
            raise errors.NotAuthorizedException(
                _USED_SESSION if session in self._used_sessions else INVALID_SESSION
            )
        self._used_sessions[session] = found.expires_at
        if self.state.now() >= found.expires_at:
            raise errors.NotAuthorizedException(EXPIRED_SESSION)
        return session, found

    def give_back(self, session: str, challenge: ChallengeState) -> None:
        """After a wrong code: the same Session may be answered again, a few times."""
        challenge.failures += 1
        if challenge.failures < _MAX_CODE_FAILURES:
            self.state.challenges[session] = challenge
            self._used_sessions.pop(session, None)
