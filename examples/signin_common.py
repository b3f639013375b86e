"""What the two example backends share: settings, the saved-challenge store, the error table.

Imported by ``aiohttp_backend.py`` and ``fastapi_backend.py`` (run them from this folder, or put it on
``sys.path``).
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiocognito import (
    CognitoError,
    ConfigurationError,
    ParamValidationError,
    ServiceError,
    SignedIn,
    SignInError,
)

__all__ = ["SERVICE_ERRORS", "ChallengeStore", "SavedChallenge", "Settings", "failure", "tokens_body"]

logger = logging.getLogger("signin_backend")


# ----- configuration --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Where the user pool is and how long a saved challenge lives."""

    user_pool_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    region: str | None = None
    endpoint_url: str | None = None
    issuer: str | None = None
    jwks_url: str | None = None
    #: Seconds a saved challenge is kept: at most the app client's AuthSessionValidity (3 min by default).
    challenge_ttl: float = 180.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings from environment variables (see the module docstring)."""
        pool_id = environ.get("AIOCOGNITO_USER_POOL_ID", "")
        client_id = environ.get("AIOCOGNITO_CLIENT_ID", "")
        if not pool_id or not client_id:
            raise ConfigurationError("set AIOCOGNITO_USER_POOL_ID and AIOCOGNITO_CLIENT_ID")
        return cls(
            user_pool_id=pool_id,
            client_id=client_id,
            client_secret=environ.get("AIOCOGNITO_CLIENT_SECRET") or None,
            region=environ.get("AWS_REGION") or None,
            endpoint_url=environ.get("AIOCOGNITO_ENDPOINT_URL") or None,
            issuer=environ.get("AIOCOGNITO_ISSUER") or None,
            jwks_url=environ.get("AIOCOGNITO_JWKS_URL") or None,
        )


# ----- saved challenges -----------------------------------------------------------------------------


@dataclass
class SavedChallenge:
    """A challenge kept for its second request: ``step.to_dict()`` and the tries left."""

    data: dict[str, Any] = field(repr=False)
    expires_at: float
    tries_left: int


class ChallengeStore:
    """Saved challenges under random ids, each for ``ttl`` seconds (in memory: use Redis in production).

    ``take`` removes the entry, so two requests cannot answer the same challenge at once; ``give_back``
    returns it after an answer Cognito refused (a wrong code), as long as tries are left.
    """

    def __init__(self, ttl: float, *, tries: int = 3, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.tries = tries
        self._clock = clock
        self._items: dict[str, SavedChallenge] = {}

    def __len__(self) -> int:
        return len(self._items)

    def _purge(self, now: float) -> None:
        for key in [k for k, v in self._items.items() if v.expires_at <= now]:
            del self._items[key]

    def put(self, data: dict[str, Any]) -> str:
        """Save a challenge; returns its new id."""
        now = self._clock()
        self._purge(now)
        challenge_id = secrets.token_urlsafe(32)
        self._items[challenge_id] = SavedChallenge(data, now + self.ttl, self.tries)
        return challenge_id

    def take(self, challenge_id: str) -> SavedChallenge | None:
        """Remove and return the challenge, or None when it is unknown or expired."""
        saved = self._items.pop(challenge_id, None)
        if saved is None or saved.expires_at <= self._clock():
            return None
        return saved

    def give_back(self, challenge_id: str, saved: SavedChallenge) -> bool:
        """Keep the challenge for another try; False when none is left (it is gone then)."""
        saved.tries_left -= 1
        if saved.tries_left <= 0 or saved.expires_at <= self._clock():
            return False
        self._items[challenge_id] = saved
        return True


# ----- errors ------------------------------------------------------------------------------------------

#: Cognito errors a caller can act on: (HTTP status, our error word).
SERVICE_ERRORS = {
    "NotAuthorizedException": (401, "not_authorized"),
    "UserNotFoundException": (401, "not_authorized"),  # same answer: do not reveal who exists
    "CodeMismatchException": (400, "code_mismatch"),
    "ExpiredCodeException": (400, "code_expired"),  # e.g. a TOTP code used once already: try the next one
    "InvalidPasswordException": (400, "invalid_password"),
    "PasswordResetRequiredException": (403, "password_reset_required"),
    "UserNotConfirmedException": (403, "user_not_confirmed"),
    "TooManyRequestsException": (429, "too_many_requests"),
    "LimitExceededException": (429, "too_many_requests"),
}


def failure(exc: CognitoError, what: str) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) for a failed sign-in step; logs the error's type and code, never its text."""
    if isinstance(exc, ServiceError):
        status, error = SERVICE_ERRORS.get(exc.code, (502, "cognito_error"))
        logger.info("%s failed: %s", what, exc.code)
        return status, {"error": error}
    if isinstance(exc, SignInError):  # SessionExpiredError among them: start again
        logger.info("%s failed: %s", what, type(exc).__name__)
        return 410, {"error": "challenge_expired", "message": "sign in again"}
    if isinstance(exc, ParamValidationError):
        return 400, {"error": "bad_request", "message": "; ".join(exc.problems)}
    logger.warning("%s failed: %s", what, type(exc).__name__)
    return 502, {"error": "cognito_unavailable"}


def tokens_body(step: SignedIn) -> dict[str, Any]:
    """The tokens as the client receives them."""
    tokens = step.tokens
    return {
        "tokens": {
            "access_token": tokens.access_token,
            "id_token": tokens.id_token,
            "refresh_token": tokens.refresh_token,
            "expires_in": tokens.expires_in,
            "token_type": tokens.token_type,
        }
    }
