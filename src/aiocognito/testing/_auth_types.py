"""What the sign-in modules hand each other: a response, the step after a factor, the answer to a challenge.

These sit below every flow module, so a flow can be given :meth:`~._auth.AuthService._advance` (an
:data:`Advance`) without importing the service that dispatches to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._state import ChallengeState, SignIn

__all__ = ["Advance", "Answer", "Response"]

#: An InitiateAuth / RespondToAuthChallenge answer (a challenge with its Session, or tokens).
Response = dict[str, Any]

#: After a factor succeeded: the sign-in's next challenge, or its tokens.
Advance = Callable[[SignIn], Response]

#: Answers one challenge: ``(handle, challenge, ChallengeResponses) -> Response``; ``handle`` is the
#: Session (or SRP handle) the challenge was taken from.
Answer = Callable[[str, ChallengeState, Mapping[str, Any]], Response]
