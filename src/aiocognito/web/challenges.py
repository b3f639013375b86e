"""Where a sign-in challenge waits between two HTTP requests: the :class:`ChallengeStore` protocol and
:class:`MemoryChallengeStore`.

A challenge (``step.to_dict()``) is answered in a later request, maybe by another worker. The browser gets
an unguessable id; the saved value stays on the server because **it holds Cognito's Session string, a
credential** for as long as the challenge lives (store it like a password: private, never logged, never
sent to a client). The store also keeps the TOTP-enrollment state of ``POST /mfa/totp``.

The contract, which any implementation (a Redis one, say) keeps:

``await store.save(data) -> id``
    Keep a JSON-able dict for :attr:`~ChallengeStore.ttl` seconds under a new id of at least 256 random
    bits (``secrets.token_urlsafe(32)``). The TTL should not exceed the app client's AuthSessionValidity
    (3 minutes by default, 15 at most): past it Cognito refuses the Session anyway.
``await store.take(id) -> SavedChallenge | None``
    Remove and return the entry, atomically: of two concurrent takes of one id exactly one gets it, so a
    challenge is never answered twice at once. None when the id is unknown, taken or expired.
``await store.put_back(id, saved) -> bool``
    After an answer Cognito refused (a wrong code), keep the entry for another try under the same id with
    its attempt counter raised by one and its original expiry (a retry never extends the life). False, and
    the entry stays gone, when the counter reaches :attr:`~ChallengeStore.max_attempts` or it expired.

With Redis: ``save`` is ``SET <prefix><id> <json> EX <ttl> NX``, ``take`` is ``GETDEL`` (atomic; with
Redis < 6.2 a ``MULTI GET DEL``), ``put_back`` is ``SET <prefix><id> <json> PXAT <expires_at ms> NX``
with the counter inside the JSON, ``expires_at`` on the wall clock (``time.time``) as every worker shares
it. Ids may appear in logs only without the value; the stores here log nothing.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

from .._errors import ConfigurationError

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_TTL",
    "MAX_TTL",
    "ChallengeStore",
    "MemoryChallengeStore",
    "SavedChallenge",
    "check_store_settings",
    "new_challenge_id",
]

#: Seconds a saved challenge lives by default: the default AuthSessionValidity of an app client (3 min).
DEFAULT_TTL = 180.0
#: The longest TTL allowed: the largest AuthSessionValidity Cognito accepts (15 min).
MAX_TTL = 900.0
#: Answers allowed per challenge (the first one included); Cognito itself allows a few wrong codes.
DEFAULT_MAX_ATTEMPTS = 3


def new_challenge_id() -> str:
    """43 URL-safe characters, 256 random bits."""
    return secrets.token_urlsafe(32)


def check_store_settings(ttl: float, max_attempts: int) -> None:
    """Raise :class:`~aiocognito.ConfigurationError` unless ``0 < ttl <= MAX_TTL`` and ``max_attempts >= 1``."""
    if not 0 < ttl <= MAX_TTL:
        raise ConfigurationError(
            f"a challenge TTL must be more than 0 and at most {MAX_TTL:.0f} s "
            "(Cognito's longest AuthSessionValidity), and should not exceed the app client's"
        )
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ConfigurationError("max_attempts must be an int >= 1")


@dataclass(frozen=True)
class SavedChallenge:
    """What :meth:`ChallengeStore.take` returns.

    ``data`` is the dict given to ``save`` (hidden from the repr: it holds Cognito's Session);
    ``expires_at`` is on the store's clock; ``attempts`` counts the answers refused so far.
    """

    data: dict[str, Any] = field(repr=False)
    expires_at: float
    attempts: int = 0


@runtime_checkable
class ChallengeStore(Protocol):
    """Saved challenges under unguessable ids: save, take once, put back after a wrong answer.

    See the module docstring for the contract an implementation keeps.
    """

    #: Seconds an entry lives (``0 < ttl <= MAX_TTL``); the routes tell the browser this ``expires_in``.
    ttl: float
    #: Answers allowed per entry; ``put_back`` refuses once this many were refused.
    max_attempts: int

    async def save(self, data: dict[str, Any]) -> str:
        """Keep ``data`` (JSON-able) for :attr:`ttl` seconds; return its new id."""
        ...

    async def take(self, challenge_id: str) -> SavedChallenge | None:
        """Remove and return the entry (atomic single use), or None when unknown, taken or expired."""
        ...

    async def put_back(self, challenge_id: str, saved: SavedChallenge) -> bool:
        """Keep ``saved`` for one more try with ``attempts + 1`` and its own expiry; False when no try is
        left or it expired (it stays gone)."""
        ...


class MemoryChallengeStore:
    """A :class:`ChallengeStore` in a dict: for one process (one event loop); use a shared store (Redis)
    when several workers answer.

    Values are kept as JSON text, so what comes back is a copy and what cannot be stored in Redis fails
    here too. Expired entries are dropped on each save; beyond ``max_entries`` the oldest go first.

    Args:
        ttl: seconds an entry lives (default 180, at most 900).
        max_attempts: answers allowed per entry (default 3).
        clock: monotonic seconds (injectable for tests).
        max_entries: the most entries kept at once.
    """

    def __init__(
        self,
        ttl: float = DEFAULT_TTL,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 100_000,
    ) -> None:
        check_store_settings(ttl, max_attempts)
        if max_entries < 1:
            raise ConfigurationError("max_entries must be >= 1")
        self.ttl = float(ttl)
        self.max_attempts = max_attempts
        self._clock = clock
        self._max_entries = max_entries
        # id -> (JSON text, expires_at, attempts); insertion order is age order
        self._items: dict[str, tuple[str, float, int]] = {}

    def __repr__(self) -> str:
        return f"<MemoryChallengeStore ttl={self.ttl:g} entries={len(self._items)}>"

    def __len__(self) -> int:
        """Entries held, expired ones not yet dropped included."""
        return len(self._items)

    def _purge(self, now: float) -> None:
        for key in [k for k, (_, expires_at, _) in self._items.items() if expires_at <= now]:
            del self._items[key]
        while len(self._items) >= self._max_entries:
            del self._items[next(iter(self._items))]

    async def save(self, data: dict[str, Any]) -> str:
        text = json.dumps(data, allow_nan=False)
        now = self._clock()
        self._purge(now)
        challenge_id = new_challenge_id()
        self._items[challenge_id] = (text, now + self.ttl, 0)
        return challenge_id

    async def take(self, challenge_id: str) -> SavedChallenge | None:
        # No await between the lookup and the removal: on one event loop the pop is the atomic step.
        item = self._items.pop(challenge_id, None) if isinstance(challenge_id, str) else None
        if item is None:
            return None
        text, expires_at, attempts = item
        if expires_at <= self._clock():
            return None
        return SavedChallenge(json.loads(text), expires_at, attempts)

    async def put_back(self, challenge_id: str, saved: SavedChallenge) -> bool:
        again = replace(saved, attempts=saved.attempts + 1)
        if again.attempts >= self.max_attempts or again.expires_at <= self._clock():
            return False
        if challenge_id in self._items:  # never overwrite: ids are single use
            return False
        self._items[challenge_id] = (
            json.dumps(again.data, allow_nan=False),
            again.expires_at,
            again.attempts,
        )
        return True
