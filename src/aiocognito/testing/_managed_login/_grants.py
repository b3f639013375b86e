"""What managed login remembers between requests: authorization codes and browser sign-in sessions.

* An authorization code is single use and lives five minutes (Cognito's figures). It is bound to the app
  client, the callback URL, the PKCE challenge, the nonce, the scopes and the user; redeeming it removes
  it whatever the outcome, so a code can never be tried twice.
* A browser session is what the managed login cookie points to: the user signed in at this user pool
  domain, for an hour, so that a second ``/oauth2/authorize`` needs no password (unless ``prompt=login``).

Both are keyed by unguessable random strings. Time is a parameter (``now``) so the records are pure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field

from .._state import UserKey

__all__ = [
    "CODE_SECONDS",
    "BROWSER_SESSION_SECONDS",
    "AuthorizationCode",
    "BrowserSession",
    "GrantStore",
    "pkce_matches",
]

CODE_SECONDS = 300.0
BROWSER_SESSION_SECONDS = 3600.0


def pkce_matches(challenge: str, method: str, verifier: str) -> bool:
    """RFC 7636: ``BASE64URL(SHA256(verifier)) == challenge`` for S256, equality for plain."""
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        expected = verifier
    return hmac.compare_digest(expected.encode(), challenge.encode())


@dataclass
class AuthorizationCode:
    """One issued code and everything the token endpoint checks it against."""

    client_id: str
    redirect_uri: str
    user: UserKey
    scopes: tuple[str, ...]
    auth_time: int
    expires_at: float
    code_challenge: str | None = field(default=None, repr=False)
    code_challenge_method: str | None = None
    nonce: str | None = field(default=None, repr=False)


@dataclass
class BrowserSession:
    """A user signed in at the domain (what the ``cognito`` cookie names)."""

    user: UserKey
    auth_time: int
    expires_at: float


class GrantStore:
    """Authorization codes and browser sessions, by their random keys."""

    def __init__(self) -> None:
        self._codes: dict[str, AuthorizationCode] = {}
        self._sessions: dict[str, BrowserSession] = {}

    def __repr__(self) -> str:
        return f"<GrantStore codes={len(self._codes)} sessions={len(self._sessions)}>"

    def _prune(self, now: float) -> None:
        for key in [k for k, c in self._codes.items() if c.expires_at <= now]:
            del self._codes[key]
        for key in [k for k, s in self._sessions.items() if s.expires_at <= now]:
            del self._sessions[key]

    def add_code(self, code: str, record: AuthorizationCode, now: float) -> None:
        self._prune(now)
        self._codes[code] = record

    def redeem(self, code: str, now: float) -> AuthorizationCode | None:
        """The code's record, removed (single use); None when unknown, used or expired."""
        record = self._codes.pop(code, None)
        if record is None or now >= record.expires_at:
            return None
        return record

    def add_session(self, key: str, session: BrowserSession) -> None:
        self._sessions[key] = session

    def session(self, key: str | None, now: float) -> BrowserSession | None:
        found = self._sessions.get(key) if key else None
        if found is None or now >= found.expires_at:
            return None
        return found

    def end_session(self, key: str | None) -> None:
        if key:
            self._sessions.pop(key, None)
