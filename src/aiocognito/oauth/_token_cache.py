"""Access tokens cached per scope set, renewed before they expire, fetched once for any number of callers.

One implementation for both machine-to-machine sources (the ``client_credentials`` grant and the
GetClientToken operation): each gives a *fetcher* ``fetch(scopes) -> (access_token, expires_in)``.

* The key is the set of scopes (order and repeats do not matter).
* A token is reused until ``renew_before`` seconds before it expires (at most half its lifetime before,
  so a short-lived token is not refetched on every call). Expiry is measured from the moment the request
  was sent, on the ``clock`` given (monotonic by default), so a slow answer only renews earlier.
* Concurrent callers of one key share one fetch: the first starts a task, the others await the same task
  (shielded, so a caller that gives up does not cancel it for the rest). A failure reaches every caller
  waiting on that fetch and is not remembered: the next call starts a new fetch.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from .._errors import ConfigurationError
from .._tasks import stop_task

__all__ = ["Fetcher", "ScopeKey", "TokenCache", "scope_key"]

ScopeKey = frozenset[str]
#: ``fetch(scopes)`` -> ``(access_token, expires_in_seconds)``; ``scopes`` sorted, empty for "the default".
Fetcher = Callable[[tuple[str, ...]], Awaitable[tuple[str, int]]]


def scope_key(scopes: Iterable[str]) -> ScopeKey:
    """The cache key of a scope list; a single str is refused (it would become its characters)."""
    if isinstance(scopes, str):
        raise ConfigurationError("scopes are a list of names, not one str")
    key = frozenset(scopes)
    if not all(isinstance(s, str) and s and len(s.split()) == 1 for s in key):
        raise ConfigurationError("each scope is one non-empty name without spaces")
    return key


@dataclass(frozen=True)
class _Cached:
    token: str
    renew_at: float


class TokenCache:
    """The cache and single flight shared by :class:`ClientCredentials` and :class:`ClientTokenSource`."""

    def __init__(self, fetch: Fetcher, *, renew_before: float, clock: Callable[[], float]) -> None:
        if renew_before < 0:
            raise ConfigurationError("renew_before must be >= 0")
        self._fetch = fetch
        self._renew_before = float(renew_before)
        self._clock = clock
        self._tokens: dict[ScopeKey, _Cached] = {}
        self._flights: dict[ScopeKey, asyncio.Task[str]] = {}
        #: How many fetches were started (for tests and metrics).
        self.fetches = 0

    async def get(self, key: ScopeKey) -> str:
        """A valid access token for ``key``: cached, or from the fetch in flight, or from a new one."""
        cached = self._tokens.get(key)
        if cached is not None and self._clock() < cached.renew_at:
            return cached.token
        task = self._flights.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fetch_and_store(key))
            self._flights[key] = task
            task.add_done_callback(functools.partial(self._landed, key))
            self.fetches += 1
        return await asyncio.shield(task)

    def _landed(self, key: ScopeKey, task: asyncio.Task[str]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so an error nobody awaited is not logged as lost

    async def _fetch_and_store(self, key: ScopeKey) -> str:
        sent_at = self._clock()
        token, expires_in = await self._fetch(tuple(sorted(key)))
        margin = min(self._renew_before, expires_in / 2)
        self._tokens[key] = _Cached(token, sent_at + expires_in - margin)
        return token

    def invalidate(self, key: ScopeKey | None = None) -> None:
        """Forget the cached token of ``key`` (None: every one); a fetch in flight still lands."""
        if key is None:
            self._tokens.clear()
        else:
            self._tokens.pop(key, None)

    async def aclose(self) -> None:
        """Stop fetches in flight and forget every token."""
        for task in list(self._flights.values()):
            if not task.done():
                with contextlib.suppress(Exception):  # its callers got the error; closing goes on
                    await stop_task(task)
        self._flights.clear()
        self._tokens.clear()
