"""JWKS: parsing a key set, loading one offline (dict, JSON text, file), and the cache of one pool's keys.

The cache (:class:`KeyCache`) fetches once for concurrent callers, refreshes stale keys in the background
while they keep serving, and after a failed lookup refuses unknown kids for a cool-down without fetching
(see :class:`~aiocognito._tokens.verifier.TokenVerifier` for the rules).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
from collections.abc import Mapping
from typing import Any, Protocol

import aiohttp
from jose import jwk  # type: ignore[import-untyped]

from .._errors import (
    ConfigurationError,
    InvalidToken,
    JwksUnavailable,
)
from .claims import _json_object, _show

__all__ = ["MAX_JWKS_SIZE", "MIN_RSA_BITS", "JwksSource", "KeyCache", "parse_jwks", "load_jwks"]

_log = logging.getLogger("aiocognito.verifier")

#: A JWKS document larger than this (bytes) is refused.
MAX_JWKS_SIZE = 256 * 1024
#: RSA keys shorter than this are ignored when the JWKS is parsed (Cognito uses 2048-bit keys).
MIN_RSA_BITS = 2048

#: What a JWKS can be loaded from: the parsed document, JSON text (a ``str`` starting with ``{``) or
#: bytes, or the path of a JSON file (any other ``str``, or an ``os.PathLike``).
JwksSource = Mapping[str, Any] | str | bytes | os.PathLike[str]


class _JoseKey(Protocol):
    """The part of python-jose's key object we use."""

    def verify(self, msg: bytes, sig: bytes) -> bool: ...


class CacheOwner(Protocol):
    """What a :class:`KeyCache` needs from its verifier: settings, the clock and an HTTP session."""

    jwks_cooldown: float
    _closed: bool
    _timeout: aiohttp.ClientTimeout
    _background: asyncio.Task[None] | None

    def _clock(self) -> float: ...

    def _session(self) -> aiohttp.ClientSession: ...


def _keys_from_document(document: Mapping[str, Any]) -> dict[str, _JoseKey]:
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise ValueError("no 'keys' list")
    keys: dict[str, _JoseKey] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        kid, n, e = entry.get("kid"), entry.get("n"), entry.get("e")
        if not (isinstance(kid, str) and kid and isinstance(n, str) and isinstance(e, str)):
            continue
        if entry.get("alg", "RS256") != "RS256" or entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwk.construct({"kty": "RSA", "n": n, "e": e}, "RS256")
            bits = key.prepared_key.key_size
        except Exception:  # a bad entry is skipped, whatever python-jose raises
            continue
        if bits >= MIN_RSA_BITS:
            keys[kid] = key
    if not keys:
        raise ValueError("no usable RS256 key")
    return keys


def parse_jwks(body: bytes) -> dict[str, _JoseKey]:
    """Parse a JWKS document into ``{kid: key}``, keeping only RSA signing keys usable with RS256.

    Private members of a key are never read: each key is rebuilt from ``n`` and ``e`` alone.

    Raises:
        ValueError: the body is not a JWKS or holds no usable key.
    """
    return _keys_from_document(_json_object(body))


def load_jwks(source: JwksSource) -> dict[str, _JoseKey]:
    """Keys from a JWKS given as a dict, JSON text/bytes or a file path. Raises ConfigurationError."""
    where = "the JWKS"
    try:
        if isinstance(source, Mapping):
            return _keys_from_document(source)
        if isinstance(source, (bytes, bytearray)):
            body = bytes(source)
        elif isinstance(source, str) and source.lstrip().startswith("{"):
            body = source.encode("utf-8")
        elif isinstance(source, (str, os.PathLike)):
            where = f"the JWKS file {os.fspath(source)!r}"
            with open(source, "rb") as file:
                body = file.read(MAX_JWKS_SIZE + 1)
        else:
            raise ValueError(f"a {type(source).__name__} is not a JWKS source")
        if len(body) > MAX_JWKS_SIZE:
            raise ValueError(f"larger than {MAX_JWKS_SIZE} bytes")
        return parse_jwks(body)
    except (ValueError, RecursionError, OSError) as exc:
        detail = str(exc) if isinstance(exc, ValueError) else type(exc).__name__
        raise ConfigurationError(f"{where} cannot be used ({detail})") from None


class KeyCache:
    """The keys of one pool, fetched from the URL of the issuer form the token at hand names.

    ``cooldown_until``: before this time an unknown kid is refused without fetching. It is set by a
    failed lookup: a fetch that did not find the kid, or (with keys cached) a fetch that failed.
    """

    def __init__(self, owner: CacheOwner, user_pool_id: str) -> None:
        self._owner = owner
        self.user_pool_id = user_pool_id
        self.keys: dict[str, _JoseKey] | None = None
        self.fetched_at = 0.0
        self.attempted_at = 0.0
        self.cooldown_until = -math.inf
        self.attempts = 0
        self.last_error = "never fetched"
        self.lock = asyncio.Lock()
        self.background: asyncio.Task[None] | None = None

    def load(self, keys: dict[str, _JoseKey], now: float) -> None:
        self.keys = keys
        self.fetched_at = now

    async def lookup(self, kid: str, now: float, url: str) -> _JoseKey:
        """The slow path for a kid not in the cache (or no cache yet): at most one shared fetch."""
        if self.keys is not None and now < self.cooldown_until:
            raise InvalidToken(
                "unknown_kid",
                f"kid {_show(kid)} is not in the JWKS (no refetch for {self.cooldown_until - now:.0f}s)",
            )
        await self.fetch_once(url)
        keys = self.keys
        if keys is None:
            raise JwksUnavailable(self.last_error)
        key = keys.get(kid)
        if key is None:
            self.cooldown_until = max(self.cooldown_until, self.attempted_at + self._owner.jwks_cooldown)
            raise InvalidToken("unknown_kid", f"kid {_show(kid)} is not in the JWKS")
        return key

    async def fetch_once(self, url: str) -> None:
        """Fetch, unless a fetch finished while we waited for the lock: its outcome is ours too."""
        seen = self.attempts
        async with self.lock:
            if self.attempts == seen:
                await self._fetch(url)

    def refresh_in_background(self, now: float, url: str) -> None:
        """Stale keys keep serving while one refresh runs behind the request (not during a cool-down)."""
        if now < self.cooldown_until or (self.background is not None and not self.background.done()):
            return
        seen = self.attempts

        async def refresh() -> None:
            async with self.lock:
                if self.attempts == seen and not self._owner._closed:
                    await self._fetch(url)

        self.background = asyncio.get_running_loop().create_task(refresh())
        self._owner._background = self.background

    async def _fetch(self, url: str) -> None:
        """Fetch and parse the JWKS; on failure keep the old keys and remember why. Never raises."""
        owner = self._owner
        self.attempted_at = owner._clock()
        try:
            async with owner._session().get(
                url, timeout=owner._timeout, headers={"Accept": "application/json"}
            ) as response:
                if response.status != 200:
                    raise ValueError(f"HTTP {response.status}")
                body = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    body += chunk
                    if len(body) > MAX_JWKS_SIZE:
                        raise ValueError(f"larger than {MAX_JWKS_SIZE} bytes")
            keys = parse_jwks(bytes(body))
        except Exception as exc:  # any failure means "unavailable", reported below
            what = str(exc) if isinstance(exc, ValueError) else ""
            what = what or type(exc).__name__ + (f": {exc}" if str(exc) else "")
            self.last_error = f"JWKS {url} could not be fetched ({what})"
            if self.keys is not None:
                self.cooldown_until = self.attempted_at + owner.jwks_cooldown
            _log.warning("%s; %s", self.last_error, "keeping cached keys" if self.keys else "no keys cached")
        else:
            self.keys = keys
            self.fetched_at = self.attempted_at
        self.attempts += 1
