"""One refresh for every process of a session: what :class:`~aiocognito._signin.session.Session` needs from a
cross-process lock and a token store (``refresh_lock=``), and which tokens a process goes on from.

Protocols only, and pure decisions: no I/O here. ``aiocognito.redis.RedisRefreshLock`` is the lock shipped
with the library; any other lock service fits :class:`RefreshLock`.

How a session uses them (``Session._refresh_across_processes``): its own single flight first (one refresh
task per process), then

1. read the shared store without the lock: when another process has saved newer tokens that are still
   fresh, take them (no lock, no call);
2. otherwise take the lock (``async with lock.holding(key) as fence``), read the store again (the holder
   before us may just have saved), and either take what is there or refresh *from the newest saved tokens*
   (with rotation, ours may be spent already), then ``save_if(key, data, fence=fence)``;
3. a save refused because a later holder (higher fence) saved first means our lease ran out while we were
   refreshing: the later tokens win and we take them.

Which saved tokens are newer is decided by the access token's ``iat`` (the pool's clock, one clock for
every process) and, without one, by the local receipt time: :func:`newest`. That matters in one case: our
refresh succeeded, but the save failed (Redis unreachable for a moment); the store then holds older tokens
whose refresh token the rotation has spent, and sending it would be refused (and, at Cognito, may revoke
the whole family). Ties go to the stored tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, runtime_checkable

from .._errors import CognitoError
from .._tokens.token_set import TokenSet

__all__ = ["FencedTokenStore", "RefreshLock", "RefreshLockError", "newest", "adoptable"]


class RefreshLockError(CognitoError):
    """Another process held the cross-process refresh lock for longer than this one would wait.
    ``access_token()`` still hands out the current token while it has time left."""


@runtime_checkable
class RefreshLock(Protocol):
    """A lease on a key, held by one process at a time, with a fencing token.

    ``async with lock.holding(key) as fence:`` waits until this process holds the lease (raising
    :class:`RefreshLockError` when the wait runs out, or another ``CognitoError`` when the lock service
    cannot be reached), keeps it while the block runs, and releases it only if it
    is still the holder. ``fence`` grows with every acquisition of ``key``: a holder whose lease ran out
    has a lower fence than the next one, so a store that refuses lower fences refuses its late write.
    """

    def holding(self, key: str) -> AbstractAsyncContextManager[int]:
        """Hold the lease on ``key``; the value entered is its fencing token."""
        ...


@runtime_checkable
class FencedTokenStore(Protocol):
    """A :class:`~aiocognito._signin.stores.TokenStore` that can also refuse a write from a holder whose
    lease was taken over. (The TokenStore methods are repeated here: ``stores`` does file I/O with asyncio,
    and this module stays pure.)"""

    async def load(self, key: str) -> dict[str, Any] | None:
        """The stored dict, or None."""
        ...

    async def save(self, key: str, data: dict[str, Any]) -> None:
        """Store ``data`` under ``key``, replacing what was there."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; no error when it is absent."""
        ...

    async def save_if(self, key: str, data: dict[str, Any], *, fence: int) -> bool:
        """Save ``data`` only when the fence stored with ``key`` is lower than ``fence``; True when saved."""
        ...


def _issued(tokens: TokenSet) -> float | None:
    value = tokens.access_claims.get("iat")
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else None


def newest(ours: TokenSet, stored: TokenSet | None) -> TokenSet:
    """The newer of this process's tokens and the stored ones (``ours`` itself when they are the same).

    Newer: the later access-token ``iat`` (the pool's clock), else the later local receipt time; a tie
    goes to the stored tokens (another process saved them under the lock).
    """
    if stored is None or stored.access_token == ours.access_token:
        return ours
    ours_at, stored_at = _issued(ours), _issued(stored)
    if ours_at is None or stored_at is None:
        ours_at, stored_at = ours.received_at, stored.received_at
    return stored if stored_at >= ours_at else ours


def adoptable(ours: TokenSet, candidate: TokenSet, needs_refresh: Callable[[TokenSet], bool]) -> bool:
    """Whether a process can take ``candidate`` (from :func:`newest`) instead of refreshing: they are
    another process's tokens and still fresh."""
    return candidate is not ours and not needs_refresh(candidate)
