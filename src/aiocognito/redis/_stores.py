"""Tokens, remembered devices and saved sign-in challenges in Redis, shared by every worker.

:class:`RedisTokenStore` and :class:`RedisDeviceStore` implement the ``Session`` store protocols
(:class:`~aiocognito._signin.stores.TokenStore`, :class:`~aiocognito._signin.stores.DeviceStore`);
:class:`RedisChallengeStore` implements the web backends'
:class:`~aiocognito.web.challenges.ChallengeStore`. Each takes a ``redis.asyncio.Redis`` the caller makes
(with the default ``decode_responses=False``) and owns, and touches one key per call, so a Redis Cluster
works too.

Keys (``prefix`` defaults to ``aiocognito:``); nothing secret is in a key name:

==================================================  =========================================================
``{prefix}token:{pool}:{client}:{username}``        a hash: ``data`` (the session's dict) and ``fence``
``{prefix}device:{pool}:{username}``                a string: the device record
``{prefix}challenge:{id}``                          a string with a TTL: ``{"data", "attempts"}``
==================================================  =========================================================

Why this design:

* **One atomic write per save.** A token save is one ``HSET`` of the whole dict, so the new refresh token
  (with rotation, the only valid one) replaces the old one at once; readers see the old dict or the new
  one. :meth:`RedisTokenStore.save_if` is a Lua compare-and-set on a fencing number kept beside the data:
  the cross-process refresh (``RedisRefreshLock``) writes only while its fence is the newest, so a holder
  whose lease ran out cannot overwrite a newer refresh. A plain ``save`` keeps the stored fence.
* **Single use by construction.** ``take`` is one Lua script that reads, deletes and returns the remaining
  life (from Redis's own ``PTTL`` and ``TIME``): of any number of concurrent takes, on any workers, exactly
  one gets the challenge. ``put_back`` (after a wrong code) re-creates it with ``SET ... PX <what is left>
  NX`` on Redis's clock, so a retry never extends its life and never overwrites; the attempt counter
  travels inside the value, so attempts are counted across workers.
* **Redis's clock, not the workers'.** Expiry is Redis's TTL and ``SavedChallenge.expires_at`` is Redis's
  Unix time: workers whose clocks disagree still agree on when a challenge ends.
* **Values are credentials** (refresh tokens, device passwords, Cognito's Session): a :class:`Serializer`
  turns them into bytes (:class:`JsonSerializer` by default) and an optional :class:`Cipher` encrypts them
  with the key name as associated data (:class:`AesGcmCipher`), so a value copied to another key does not
  decrypt. Bring your own cipher (KMS envelope encryption, say) through the same two methods.

When Redis goes away nothing is guessed: every method raises :class:`RedisUnavailable` (a
:class:`~aiocognito.CognitoError`) when Redis cannot be reached, times out or refuses the command; a load
never answers "nothing stored" because Redis was down. Redis-py reconnects by itself once Redis is back,
and the scripts are loaded again on first use. A value that cannot be read (a wrong cipher key, a tampered
or moved value, another kind of key) raises :class:`StoredValueError` (a
:class:`~aiocognito.ConfigurationError`), never garbage. Messages and reprs name the prefix and Redis's
host and port, never a key's value.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .._errors import CognitoError, ConfigurationError, RedisUnavailable
from .._signin.stores import DeviceRecord
from ..web.challenges import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TTL,
    SavedChallenge,
    check_store_settings,
    new_challenge_id,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "AesGcmCipher",
    "Cipher",
    "JsonSerializer",
    "RedisChallengeStore",
    "RedisDeviceStore",
    "RedisTokenStore",
    "RedisUnavailable",
    "Serializer",
    "StoredValueError",
    "challenge_expiry",
]

DEFAULT_PREFIX = "aiocognito:"
#: Fences are compared as Lua numbers (doubles): beyond 2**53 they would lose precision.
MAX_FENCE = 2**53
# The ids new_challenge_id() makes are 43 URL-safe characters; anything else is never sent to Redis.
_CHALLENGE_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")
_SCRIPT_ERROR = "aiocognito:"  # the start of the error replies our scripts send


class StoredValueError(ConfigurationError):
    """A stored value cannot be read: a wrong cipher key, a tampered value or one moved from another key,
    a value in another format, or a key of another kind. The message never holds the value."""


# --------------------------------------------------------------------------------------------------
# Serializer and cipher
# --------------------------------------------------------------------------------------------------


@runtime_checkable
class Serializer(Protocol):
    """Turns a stored value (JSON-able dicts and lists) into bytes and back."""

    def dumps(self, value: Any) -> bytes:
        """The bytes of ``value``; TypeError when it cannot be stored."""
        ...

    def loads(self, data: bytes) -> Any:
        """The value of ``data``; any exception means the bytes are not a value of this serializer."""
        ...


class JsonSerializer:
    """Compact UTF-8 JSON (no NaN or infinity, as the other stores): the default :class:`Serializer`."""

    def dumps(self, value: Any) -> bytes:
        try:
            return json.dumps(value, allow_nan=False, separators=(",", ":")).encode("utf-8")
        except (TypeError, ValueError):
            raise TypeError("the value is not JSON-serializable") from None

    def loads(self, data: bytes) -> Any:
        return json.loads(data)

    def __repr__(self) -> str:
        return "JsonSerializer()"


@runtime_checkable
class Cipher(Protocol):
    """Authenticated encryption of stored values; ``aad`` is the Redis key name, bound to the value.

    ``decrypt`` must refuse (raise) a value made with another key or another ``aad``, or altered.
    """

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes: ...

    def decrypt(self, ciphertext: bytes, aad: bytes) -> bytes: ...


_AES_FORMAT = b"\x01"  # one byte of format, a 96-bit nonce, then AES-GCM's ciphertext and 128-bit tag
_NONCE_SIZE = 12
_TAG_SIZE = 16


class AesGcmCipher:
    """AES-GCM with a key the caller keeps (16, 24 or 32 bytes, e.g. ``os.urandom(32)`` kept in a secret
    manager): a random 96-bit nonce per value, the key name as associated data.

    Args:
        key: encrypts new values and decrypts.
        old_keys: keys that only decrypt (for rotating ``key``: values are re-encrypted as they are saved).
        random_bytes: the nonce source (injectable for known-answer tests).

    Raises:
        ConfigurationError: a key is not 16, 24 or 32 bytes.
    """

    def __init__(
        self,
        key: bytes,
        *,
        old_keys: Iterable[bytes] = (),
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        keys = [key, *old_keys]
        for each in keys:
            if not isinstance(each, bytes) or len(each) not in (16, 24, 32):
                raise ConfigurationError("an AES-GCM key must be 16, 24 or 32 bytes")
        self._aeads = [AESGCM(each) for each in keys]
        self._bits = len(key) * 8
        self._random_bytes = random_bytes

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = self._random_bytes(_NONCE_SIZE)
        return _AES_FORMAT + nonce + self._aeads[0].encrypt(nonce, plaintext, aad)

    def decrypt(self, ciphertext: bytes, aad: bytes) -> bytes:
        """The plaintext; :class:`StoredValueError` for a wrong key, another ``aad`` or an altered value."""
        from cryptography.exceptions import InvalidTag

        head = 1 + _NONCE_SIZE
        if len(ciphertext) < head + _TAG_SIZE or ciphertext[:1] != _AES_FORMAT:
            raise StoredValueError("a stored value is not an AES-GCM value of aiocognito")
        nonce, body = ciphertext[1:head], ciphertext[head:]
        for aead in self._aeads:
            try:
                return aead.decrypt(nonce, body, aad)
            except InvalidTag:
                continue
        raise StoredValueError(
            "a stored value does not decrypt: a wrong key, or the value was altered or moved from another key"
        )

    def __repr__(self) -> str:
        old = len(self._aeads) - 1
        return f"AesGcmCipher(AES-{self._bits}-GCM" + (f", {old} old key(s))" if old else ")")


# --------------------------------------------------------------------------------------------------
# What all three stores share
# --------------------------------------------------------------------------------------------------


def challenge_expiry(server_seconds: int, server_micros: int, pttl_ms: int, ttl: float) -> float:
    """When a challenge taken now ends, in Redis's Unix time: its remaining TTL after Redis's ``TIME``.

    A key with no TTL (``pttl_ms`` < 0: not written by this store) gets the store's ``ttl`` from now.
    """
    now = server_seconds + server_micros / 1_000_000
    return now + (pttl_ms / 1000 if pttl_ms >= 0 else ttl)


def _origin(redis: Redis) -> str:
    """``host:port`` (or the socket path) of a client's pool, for messages; never a password."""
    kwargs: dict[str, Any] = getattr(getattr(redis, "connection_pool", None), "connection_kwargs", {})
    if kwargs.get("path"):
        return str(kwargs["path"])
    return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"


class _RedisStore:
    """The client, the key prefix, the codec (serializer, then cipher) and the error boundary."""

    _kind = "store"

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        serializer: Serializer | None = None,
        cipher: Cipher | None = None,
    ) -> None:
        if not isinstance(prefix, str):
            raise ConfigurationError("prefix must be a str")
        kwargs = getattr(getattr(redis, "connection_pool", None), "connection_kwargs", {})
        if kwargs.get("decode_responses"):
            raise ConfigurationError(
                "aiocognito.redis needs a Redis client with decode_responses=False (its values are bytes)"
            )
        self._redis = redis
        self.prefix = prefix
        self._serializer: Serializer = serializer if serializer is not None else JsonSerializer()
        self._cipher = cipher

    def __repr__(self) -> str:
        extra = f", cipher={self._cipher!r}" if self._cipher is not None else ""
        return f"{type(self).__name__}(prefix={self.prefix!r}{extra})"

    def _key(self, *parts: str) -> str:
        return self.prefix + self._kind + ":" + ":".join(parts)

    def _encode(self, key: str, value: Any) -> bytes:
        data = self._serializer.dumps(value)
        return self._cipher.encrypt(data, key.encode("utf-8")) if self._cipher is not None else data

    def _decode(self, key: str, raw: bytes) -> Any:
        try:
            data = self._cipher.decrypt(raw, key.encode("utf-8")) if self._cipher is not None else raw
            return self._serializer.loads(data)
        except CognitoError:
            raise
        except Exception as exc:  # a custom serializer or cipher: whatever it raises, never garbage
            raise StoredValueError(
                f"a value of {self!r} cannot be read ({type(exc).__name__}): "
                "another format, a missing or wrong cipher, or an altered value"
            ) from None

    @contextlib.contextmanager
    def _talking(self) -> Iterator[None]:
        """Redis-py's errors as :class:`RedisUnavailable` or :class:`StoredValueError`."""
        from redis import exceptions

        try:
            yield
        except exceptions.ResponseError as exc:
            text = str(exc)
            if text.startswith("WRONGTYPE"):
                raise StoredValueError(f"a key of {self!r} holds another kind of value") from None
            if _SCRIPT_ERROR in text:
                raise StoredValueError(f"an entry of {self!r} is malformed") from None
            raise RedisUnavailable(
                f"Redis at {_origin(self._redis)} refused the command ({type(exc).__name__})"
            ) from exc
        except exceptions.AuthenticationError as exc:
            raise RedisUnavailable(f"Redis at {_origin(self._redis)} refused the credentials") from exc
        except (exceptions.ConnectionError, exceptions.TimeoutError, OSError) as exc:
            raise RedisUnavailable(
                f"Redis at {_origin(self._redis)} cannot be reached ({type(exc).__name__})"
            ) from exc
        except exceptions.RedisError as exc:
            raise RedisUnavailable(f"Redis at {_origin(self._redis)} failed ({type(exc).__name__})") from exc

    async def ping(self) -> None:
        """Check that Redis answers (at start-up, or in a health check).

        Raises:
            RedisUnavailable: it does not.
        """
        with self._talking():
            await self._redis.ping()


def _reply_bytes(value: object) -> bytes | None:
    """A value Redis sent back: bytes, or None for a missing key."""
    if value is None or isinstance(value, bytes):
        return value
    raise StoredValueError("Redis sent text where bytes were expected: use decode_responses=False")


def _milliseconds(ttl: float | None, what: str) -> int:
    """A TTL as whole milliseconds for Redis (0: none)."""
    if ttl is None:
        return 0
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not 0.001 <= ttl < 2**40:
        raise ConfigurationError(f"{what} must be a number of seconds, at least 0.001")
    return max(1, int(ttl * 1000))


# --------------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------------

# ARGV: data, ttl ms (0: none). The stored fence stays as it is.
_TOKEN_SAVE = """
redis.call('HSET', KEYS[1], 'data', ARGV[1])
if ARGV[2] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
"""

# ARGV: data, fence, ttl ms (0: none). Writes data and fence only when the stored fence is lower.
_TOKEN_SAVE_IF = """
local stored = redis.call('HGET', KEYS[1], 'fence')
local current = 0
if stored then
  current = tonumber(stored)
  if current == nil then return redis.error_reply('aiocognito: the stored fence is not a number') end
end
if current >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'fence', ARGV[2])
if ARGV[3] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
"""


class RedisTokenStore(_RedisStore):
    """A :class:`~aiocognito._signin.stores.TokenStore` in Redis, with a fence for cross-process refresh.

    Each entry is a hash of the (serialized, optionally encrypted) dict and a fencing number.

    Args:
        redis: the client (``decode_responses=False``), not closed here.
        prefix: the start of every key name.
        serializer: default :class:`JsonSerializer`.
        cipher: encrypts values at rest (:class:`AesGcmCipher` or your own :class:`Cipher`).
        ttl: seconds an entry lives after each save (e.g. the refresh token's validity); None: until
            deleted, as the memory and file stores.

    Raises (every method):
        RedisUnavailable: Redis cannot be reached or refused the command.
        StoredValueError: a stored value cannot be read.
        TypeError: ``save`` got a value the serializer cannot store (nothing is written).
    """

    _kind = "token"

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        serializer: Serializer | None = None,
        cipher: Cipher | None = None,
        ttl: float | None = None,
    ) -> None:
        super().__init__(redis, prefix=prefix, serializer=serializer, cipher=cipher)
        self._ttl_ms = _milliseconds(ttl, "ttl")
        self._save_script = redis.register_script(_TOKEN_SAVE)
        self._save_if_script = redis.register_script(_TOKEN_SAVE_IF)

    def _value(self, key: str, data: dict[str, Any]) -> bytes:
        if not isinstance(data, dict):
            raise TypeError("token data must be a dict")
        return self._encode(key, data)

    def _dict(self, key: str, raw: bytes | None) -> dict[str, Any] | None:
        if raw is None:
            return None
        data = self._decode(key, raw)
        if not isinstance(data, dict):
            raise StoredValueError(f"a token entry of {self!r} is not an object")
        return data

    async def load(self, key: str) -> dict[str, Any] | None:
        name = self._key(key)
        with self._talking():
            raw = await self._redis.hget(name, "data")
        return self._dict(name, _reply_bytes(raw))

    async def save(self, key: str, data: dict[str, Any]) -> None:
        """Replace the entry's dict in one atomic write; its fence stays as stored."""
        name = self._key(key)
        value = self._value(name, data)
        with self._talking():
            await self._save_script(keys=[name], args=[value, self._ttl_ms])

    async def delete(self, key: str) -> None:
        """Remove the entry and its fence; no error when absent."""
        with self._talking():
            await self._redis.delete(self._key(key))

    async def load_with_fence(self, key: str) -> tuple[dict[str, Any] | None, int]:
        """The stored dict (or None) and the fence it was saved with (0: none yet), read together."""
        name = self._key(key)
        with self._talking():
            raw, fence = await self._redis.hmget(name, ["data", "fence"])
        try:
            number = int(fence) if fence is not None else 0
        except ValueError:
            raise StoredValueError(f"a token entry of {self!r} has a malformed fence") from None
        return self._dict(name, _reply_bytes(raw)), number

    async def save_if(self, key: str, data: dict[str, Any], *, fence: int) -> bool:
        """Save ``data`` with ``fence`` only when the stored fence is lower (one Lua script): True when
        written, False when a save with this fence or a newer one already happened.

        Raises:
            ValueError: ``fence`` is not an int from 1 to 2**53.
        """
        if isinstance(fence, bool) or not isinstance(fence, int) or not 1 <= fence <= MAX_FENCE:
            raise ValueError("fence must be an int from 1 to 2**53")
        name = self._key(key)
        value = self._value(name, data)
        with self._talking():
            written = await self._save_if_script(keys=[name], args=[value, fence, self._ttl_ms])
        return bool(written)


# --------------------------------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------------------------------


class RedisDeviceStore(_RedisStore):
    """A :class:`~aiocognito._signin.stores.DeviceStore` in Redis: one string per ``(pool, username)``.

    Args and errors: as :class:`RedisTokenStore` (without ``ttl``: a remembered device lives until
    forgotten, as in Cognito).
    """

    _kind = "device"

    async def get(self, user_pool_id: str, username: str) -> DeviceRecord | None:
        name = self._key(user_pool_id, username)
        with self._talking():
            raw = _reply_bytes(await self._redis.get(name))
        if raw is None:
            return None
        data = self._decode(name, raw)
        try:
            return DeviceRecord.from_dict(data)
        except ValueError:
            raise StoredValueError(f"a device record of {self!r} is malformed") from None

    async def put(self, user_pool_id: str, username: str, record: DeviceRecord) -> None:
        """Store ``record`` in one ``SET``, replacing any earlier one for the same user."""
        if not isinstance(record, DeviceRecord):
            raise TypeError("record must be a DeviceRecord")
        name = self._key(user_pool_id, username)
        value = self._encode(name, record.to_dict())
        with self._talking():
            await self._redis.set(name, value)

    async def delete(self, user_pool_id: str, username: str) -> None:
        with self._talking():
            await self._redis.delete(self._key(user_pool_id, username))


# --------------------------------------------------------------------------------------------------
# Challenges
# --------------------------------------------------------------------------------------------------

# Read, delete and say how long it had left, on Redis's clock: one atomic step.
_CHALLENGE_TAKE = """
local value = redis.call('GET', KEYS[1])
if not value then return false end
local pttl = redis.call('PTTL', KEYS[1])
redis.call('DEL', KEYS[1])
local now = redis.call('TIME')
return {value, pttl, now[1], now[2]}
"""

# ARGV: value, expires_at (Redis Unix ms). Re-create the key for what is left of its life, never overwrite.
_CHALLENGE_PUT_BACK = """
local now = redis.call('TIME')
local left = tonumber(ARGV[2]) - (tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000))
if left <= 0 then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'PX', left, 'NX') then return 1 end
return 0
"""


class RedisChallengeStore(_RedisStore):
    """A :class:`~aiocognito.web.challenges.ChallengeStore` in Redis: any worker answers a challenge any
    other saved, once.

    ``SavedChallenge.expires_at`` is Redis's Unix time. Ids are :func:`~aiocognito.web.challenges.new_challenge_id`
    (256 random bits); an id of another shape is answered None without asking Redis.

    Args:
        redis: the client (``decode_responses=False``), not closed here.
        ttl: seconds a challenge lives: at most the app client's AuthSessionValidity (180 s by default,
            900 s at most, as :func:`~aiocognito.web.challenges.check_store_settings` checks).
        max_attempts: answers allowed per challenge, counted across workers.
        prefix, serializer, cipher: as :class:`RedisTokenStore`. The values hold Cognito's Session (and a
            TOTP secret during enrollment): a cipher is worth it.

    Raises (every method): RedisUnavailable, StoredValueError, as :class:`RedisTokenStore`; ``save`` a
    TypeError for a value the serializer cannot store.
    """

    _kind = "challenge"

    def __init__(
        self,
        redis: Redis,
        *,
        ttl: float = DEFAULT_TTL,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        prefix: str = DEFAULT_PREFIX,
        serializer: Serializer | None = None,
        cipher: Cipher | None = None,
    ) -> None:
        check_store_settings(ttl, max_attempts)
        super().__init__(redis, prefix=prefix, serializer=serializer, cipher=cipher)
        self.ttl = float(ttl)
        self.max_attempts = max_attempts
        self._ttl_ms = _milliseconds(self.ttl, "ttl")
        self._take_script = redis.register_script(_CHALLENGE_TAKE)
        self._put_back_script = redis.register_script(_CHALLENGE_PUT_BACK)

    def __repr__(self) -> str:
        extra = f", cipher={self._cipher!r}" if self._cipher is not None else ""
        return f"RedisChallengeStore(prefix={self.prefix!r}, ttl={self.ttl:g}{extra})"

    async def save(self, data: dict[str, Any]) -> str:
        """Keep ``data`` for :attr:`ttl` seconds (``SET ... PX NX``) under a new id."""
        if not isinstance(data, dict):
            raise TypeError("challenge data must be a dict")
        for _ in range(3):  # a collision of 256-bit ids does not happen; NX makes sure anyway
            challenge_id = new_challenge_id()
            name = self._key(challenge_id)
            value = self._encode(name, {"data": data, "attempts": 0})
            with self._talking():
                if await self._redis.set(name, value, px=self._ttl_ms, nx=True):
                    return challenge_id
        raise RuntimeError("no free challenge id after 3 tries: the random source is broken")

    async def take(self, challenge_id: str) -> SavedChallenge | None:
        """Remove and return the challenge in one step (exactly one of concurrent takes gets it), or None
        when the id is unknown, taken or expired."""
        if not isinstance(challenge_id, str) or not _CHALLENGE_ID.fullmatch(challenge_id):
            return None
        name = self._key(challenge_id)
        with self._talking():
            answer = await self._take_script(keys=[name])
        if answer is None:
            return None
        raw, pttl, seconds, micros = answer
        entry = self._decode(name, _reply_bytes(raw) or b"")
        data = entry.get("data") if isinstance(entry, dict) else None
        attempts = entry.get("attempts") if isinstance(entry, dict) else None
        if not isinstance(data, dict) or isinstance(attempts, bool) or not isinstance(attempts, int):
            raise StoredValueError(f"a challenge of {self!r} is malformed")
        expires_at = challenge_expiry(int(seconds), int(micros), int(pttl), self.ttl)
        return SavedChallenge(data, expires_at, attempts)

    async def put_back(self, challenge_id: str, saved: SavedChallenge) -> bool:
        """Keep ``saved`` for another answer with ``attempts + 1``, until its original expiry; False (it
        stays gone) when no answer is left, it expired, or the id is in use."""
        attempts = saved.attempts + 1
        if attempts >= self.max_attempts:
            return False
        if not isinstance(challenge_id, str) or not _CHALLENGE_ID.fullmatch(challenge_id):
            return False
        name = self._key(challenge_id)
        value = self._encode(name, {"data": saved.data, "attempts": attempts})
        with self._talking():
            written = await self._put_back_script(keys=[name], args=[value, int(saved.expires_at * 1000)])
        return bool(written)
