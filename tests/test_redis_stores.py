"""The Redis stores against a real redis-server: the token, device and challenge store protocols, the token
fence, encryption at rest, single use across processes and concurrent takers, and Redis going away."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis_server import RedisServer

from aiocognito import CognitoError, ConfigurationError, DeviceRecord, SignedIn
from aiocognito._signin.stores import DeviceStore, TokenStore
from aiocognito.redis import (
    AesGcmCipher,
    JsonSerializer,
    RedisChallengeStore,
    RedisDeviceStore,
    RedisTokenStore,
)
from aiocognito.redis._stores import RedisUnavailable, StoredValueError, challenge_expiry
from aiocognito.testing import LocalUserPool
from aiocognito.web.challenges import ChallengeStore, SavedChallenge

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
REFRESH = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIn0.refresh-token-secret-value-0123456789"
TOKENS = {"version": 1, "username": "alice", "tokens": {"refresh_token": REFRESH, "access_token": "a.b.c"}}
DEVICE = DeviceRecord("us-east-1_device-key", "-group-key", "device-password-secret-0123456789")


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


async def server_now(redis: Redis) -> float:
    seconds, micros = await redis.time()
    return float(seconds) + micros / 1_000_000


# ----- tokens -----------------------------------------------------------------------------------------


async def test_token_store_protocol(redis: Redis) -> None:
    store = RedisTokenStore(redis)
    assert isinstance(store, TokenStore)
    assert await store.load("pool:client:alice") is None
    await store.save("pool:client:alice", TOKENS)
    loaded = await store.load("pool:client:alice")
    assert loaded == TOKENS and loaded is not TOKENS
    loaded["tokens"]["refresh_token"] = "changed"  # a copy: what is stored does not change
    assert await store.load("pool:client:alice") == TOKENS
    newer = {**TOKENS, "tokens": {"refresh_token": "rotated-" + REFRESH}}
    await store.save("pool:client:alice", newer)  # replaced as a whole
    assert await store.load("pool:client:alice") == newer
    assert await store.load("pool:client:bob") is None
    await store.delete("pool:client:alice")
    await store.delete("pool:client:alice")  # absent: no error
    assert await store.load("pool:client:alice") is None
    assert await redis.keys("*") == []

    with pytest.raises(TypeError):
        await store.save("k", ["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="JSON"):
        await store.save("k", {"x": float("nan")})
    with pytest.raises(TypeError, match="JSON"):
        await store.save("k", {"x": object()})
    assert await redis.keys("*") == []  # nothing written

    # one hash per entry, under the prefix; no expiry unless asked
    await store.save("pool:client:alice", TOKENS)
    assert await redis.keys("*") == [b"aiocognito:token:pool:client:alice"]
    assert await redis.pttl("aiocognito:token:pool:client:alice") == -1
    timed = RedisTokenStore(redis, prefix="svc:", ttl=60)
    await timed.save("k", TOKENS)
    assert 59_000 < await redis.pttl("svc:token:k") <= 60_000
    with pytest.raises(ConfigurationError):
        RedisTokenStore(redis, ttl=0)


async def test_token_fence_compare_and_set(redis: Redis) -> None:
    store = RedisTokenStore(redis)
    assert await store.load_with_fence("k") == (None, 0)
    first = {"tokens": {"refresh_token": "first"}}
    second = {"tokens": {"refresh_token": "second"}}
    assert await store.save_if("k", first, fence=1)
    assert await store.load_with_fence("k") == (first, 1)
    assert not await store.save_if("k", second, fence=1)  # the same fence twice: only the first writes
    assert await store.save_if("k", second, fence=5)
    assert not await store.save_if("k", first, fence=4)  # a holder whose lease ran out
    assert await store.load_with_fence("k") == (second, 5)

    plain = {"tokens": {"refresh_token": "plain"}}
    await store.save("k", plain)  # a plain save keeps the fence
    assert await store.load_with_fence("k") == (plain, 5)
    assert await store.load("k") == plain
    assert not await store.save_if("k", first, fence=5)

    await store.delete("k")  # the entry and its fence
    assert await store.load_with_fence("k") == (None, 0)

    for bad in (0, -1, True, 1.5, 2**53 + 1, "3"):
        with pytest.raises(ValueError):
            await store.save_if("k", first, fence=bad)  # type: ignore[arg-type]

    # 20 writers with fences 1..20 in any order: the newest wins, whatever order they run in
    fences = list(range(1, 21))
    random.Random(7).shuffle(fences)
    results = await asyncio.gather(*(store.save_if("race", {"fence": f}, fence=f) for f in fences))
    assert await store.load_with_fence("race") == ({"fence": 20}, 20)
    assert results[fences.index(20)] is True
    assert sum(results) >= 1

    timed = RedisTokenStore(redis, prefix="t:", ttl=30)
    assert await timed.save_if("k", first, fence=1)
    assert 29_000 < await redis.pttl("t:token:k") <= 30_000


async def test_session_tokens_shared_through_redis(redis: Redis, local_user_pool: LocalUserPool) -> None:
    """A second session (another worker) carries on with what the first saved, without signing in."""
    pool = local_user_pool
    pool_id = await pool.create_user_pool()
    app = await pool.create_app_client(pool_id)
    await pool.create_user(pool_id, "alice", "Passw0rd!-redis")
    store = RedisTokenStore(redis, cipher=AesGcmCipher(KEY))
    async with pool.client() as cognito:
        first = cognito.session(user_pool_id=pool_id, client_id=app.client_id, token_store=store)
        assert isinstance(await first.sign_in("alice", "Passw0rd!-redis"), SignedIn)
        second = cognito.session(user_pool_id=pool_id, client_id=app.client_id, token_store=store)
        assert await second.load("alice")
        assert await second.access_token() == await first.access_token()
        tokens = await second.refresh()  # saved again, in one write
        saved = await store.load(f"{pool_id}:{app.client_id}:alice")
        assert saved is not None and saved["tokens"]["refresh_token"] == tokens.refresh_token
        raw = await redis.hget(f"aiocognito:token:{pool_id}:{app.client_id}:alice", "data")
        assert raw is not None and tokens.refresh_token.encode() not in raw
        await second.sign_out()
        assert await store.load(f"{pool_id}:{app.client_id}:alice") is None


# ----- devices ----------------------------------------------------------------------------------------


async def test_device_store_protocol(redis: Redis) -> None:
    store = RedisDeviceStore(redis)
    assert isinstance(store, DeviceStore)
    assert await store.get("us-east-1_pool", "alice") is None
    await store.put("us-east-1_pool", "alice", DEVICE)
    assert await store.get("us-east-1_pool", "alice") == DEVICE
    assert await store.get("us-east-1_pool", "bob") is None
    assert await store.get("us-east-1_other", "alice") is None
    replaced = DeviceRecord("us-east-1_new", "-new-group", "new-password-0123456789")
    await store.put("us-east-1_pool", "alice", replaced)
    assert await store.get("us-east-1_pool", "alice") == replaced
    assert await redis.keys("*") == [b"aiocognito:device:us-east-1_pool:alice"]
    await store.delete("us-east-1_pool", "alice")
    await store.delete("us-east-1_pool", "alice")
    assert await store.get("us-east-1_pool", "alice") is None
    with pytest.raises(TypeError):
        await store.put("us-east-1_pool", "alice", DEVICE.to_dict())  # type: ignore[arg-type]

    await redis.set("aiocognito:device:us-east-1_pool:carl", b'{"device_key": "k"}')
    with pytest.raises(StoredValueError, match="malformed"):
        await store.get("us-east-1_pool", "carl")


# ----- encryption at rest -----------------------------------------------------------------------------


async def test_encryption_at_rest(redis: Redis) -> None:
    tokens = RedisTokenStore(redis, cipher=AesGcmCipher(KEY))
    devices = RedisDeviceStore(redis, cipher=AesGcmCipher(KEY))
    await tokens.save("alice", TOKENS)
    await tokens.save("bob", {**TOKENS, "username": "bob"})
    await devices.put("pool", "alice", DEVICE)
    raw = await redis.hget("aiocognito:token:alice", "data")
    raw_device = await redis.get("aiocognito:device:pool:alice")
    assert raw is not None and raw_device is not None
    assert REFRESH.encode() not in raw and b"refresh_token" not in raw
    assert DEVICE.device_password.encode() not in raw_device
    assert len(raw) == 1 + 12 + len(JsonSerializer().dumps(TOKENS)) + 16
    assert await tokens.load("alice") == TOKENS
    assert await devices.get("pool", "alice") == DEVICE
    # the same value twice encrypts differently (a fresh nonce each time)
    await tokens.save("alice", TOKENS)
    assert await redis.hget("aiocognito:token:alice", "data") != raw

    # a wrong key, no key, a tampered value, a value moved to another key: refused, never garbage
    with pytest.raises(StoredValueError, match="does not decrypt"):
        await RedisTokenStore(redis, cipher=AesGcmCipher(OTHER_KEY)).load("alice")
    with pytest.raises(StoredValueError, match="cannot be read"):
        await RedisTokenStore(redis).load("alice")
    raw = await redis.hget("aiocognito:token:alice", "data")
    assert raw is not None
    tampered = raw[:-20] + bytes([raw[-20] ^ 1]) + raw[-19:]
    await redis.hset("aiocognito:token:alice", "data", tampered)
    with pytest.raises(StoredValueError, match="altered or moved"):
        await tokens.load("alice")
    bob = await redis.hget("aiocognito:token:bob", "data")
    assert bob is not None
    await redis.hset("aiocognito:token:alice", "data", bob)  # bob's tokens copied under alice's key
    with pytest.raises(StoredValueError, match="altered or moved"):
        await tokens.load("alice")
    assert (await tokens.load("bob") or {})["username"] == "bob"
    await redis.copy("aiocognito:device:pool:alice", "aiocognito:device:pool:mallory")
    with pytest.raises(StoredValueError):
        await devices.get("pool", "mallory")
    await RedisTokenStore(redis).save("plain", TOKENS)  # written without a cipher
    with pytest.raises(StoredValueError, match="not an AES-GCM value"):
        await tokens.load("plain")

    # rotation: the new key writes, the old one still reads
    rotated = RedisTokenStore(redis, cipher=AesGcmCipher(OTHER_KEY, old_keys=[KEY]))
    assert (await rotated.load("bob") or {})["username"] == "bob"
    await rotated.save("bob", TOKENS)
    with pytest.raises(StoredValueError):
        await tokens.load("bob")

    for bad in (b"short", KEY + b"x", "0" * 32):
        with pytest.raises(ConfigurationError):
            AesGcmCipher(bad)  # type: ignore[arg-type]
    assert "AES-256-GCM" in repr(AesGcmCipher(KEY)) and KEY.hex() not in repr(AesGcmCipher(KEY))


class PrefixedJson:
    """A caller's own serializer: JSON with a format marker."""

    def dumps(self, value: Any) -> bytes:
        return b"v2:" + json.dumps(value, sort_keys=True).encode()

    def loads(self, data: bytes) -> Any:
        if not data.startswith(b"v2:"):
            raise ValueError("not v2")
        return json.loads(data[3:])


class EnvelopeCipher:
    """A caller's own cipher (as a KMS envelope would be): a data key, here local, and its own format."""

    def __init__(self, key: bytes) -> None:
        self.aead = AESGCM(key)

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        return b"kms1" + nonce + self.aead.encrypt(nonce, plaintext, aad)

    def decrypt(self, ciphertext: bytes, aad: bytes) -> bytes:
        return self.aead.decrypt(ciphertext[4:16], ciphertext[16:], aad)  # raises InvalidTag


async def test_custom_serializer_and_cipher(redis: Redis) -> None:
    store = RedisDeviceStore(redis, serializer=PrefixedJson())
    await store.put("pool", "alice", DEVICE)
    assert (await redis.get("aiocognito:device:pool:alice") or b"").startswith(b"v2:{")
    assert await store.get("pool", "alice") == DEVICE
    with pytest.raises(StoredValueError, match="cannot be read"):
        await RedisDeviceStore(redis).get("pool", "alice")  # the default serializer does not read it

    sealed = RedisTokenStore(redis, serializer=PrefixedJson(), cipher=EnvelopeCipher(KEY))
    await sealed.save("k", TOKENS)
    raw = await redis.hget("aiocognito:token:k", "data")
    assert raw is not None and raw.startswith(b"kms1") and REFRESH.encode() not in raw
    assert await sealed.load("k") == TOKENS
    with pytest.raises(StoredValueError, match=r"cannot be read \(InvalidTag\)"):
        await RedisTokenStore(redis, serializer=PrefixedJson(), cipher=EnvelopeCipher(OTHER_KEY)).load("k")


def test_aes_gcm_known_answer_and_format() -> None:
    """With the nonce given, the value is exactly format byte + nonce + AES-GCM(key, nonce, data, aad)."""
    nonce = bytes(range(12))
    cipher = AesGcmCipher(KEY, random_bytes=lambda n: nonce[:n])
    value = cipher.encrypt(b'{"a":1}', b"aiocognito:token:k")
    assert value == b"\x01" + nonce + AESGCM(KEY).encrypt(nonce, b'{"a":1}', b"aiocognito:token:k")
    assert cipher.decrypt(value, b"aiocognito:token:k") == b'{"a":1}'
    with pytest.raises(StoredValueError):
        cipher.decrypt(value, b"aiocognito:token:other")
    with pytest.raises(StoredValueError):
        cipher.decrypt(value[:20], b"aiocognito:token:k")
    assert JsonSerializer().loads(JsonSerializer().dumps({"x": [1, "é"]})) == {"x": [1, "é"]}


# ----- challenges -------------------------------------------------------------------------------------


async def test_challenge_store_protocol(redis: Redis) -> None:
    store = RedisChallengeStore(redis, ttl=120, max_attempts=3, cipher=AesGcmCipher(KEY))
    assert isinstance(store, ChallengeStore)
    data = {"purpose": "sign-in", "step": {"challenge": "SOFTWARE_TOKEN_MFA", "session": "AYABe" * 40}}
    first, second = await store.save(data), await store.save(data)
    assert first != second and len(first) == 43
    keys = sorted(await redis.keys("*"))
    assert keys == sorted(
        [f"aiocognito:challenge:{first}".encode(), f"aiocognito:challenge:{second}".encode()]
    )
    raw = await redis.get(keys[0])
    assert raw is not None and b"AYABe" not in raw and b"SOFTWARE_TOKEN_MFA" not in raw
    assert 119_000 < await redis.pttl(f"aiocognito:challenge:{first}") <= 120_000

    before = await server_now(redis)
    saved = await store.take(first)
    assert saved is not None and saved.data == data and saved.attempts == 0
    assert before + 119 < saved.expires_at <= before + 120.01  # on Redis's clock
    assert await store.take(first) is None  # single use
    assert await redis.exists(f"aiocognito:challenge:{first}") == 0
    for unknown in ("x" * 43, "", "a", "*", "../" * 20, "é" * 43, "a" * 500):
        assert await store.take(unknown) is None
    assert await store.take(None) is None  # type: ignore[arg-type]

    # a wrong answer: put back with the attempt counted and the same end; never overwrites
    assert await store.put_back(first, saved)
    assert not await store.put_back(first, saved)  # the id is in use again
    again = await store.take(first)
    assert again is not None and again.attempts == 1 and again.data == data
    assert abs(again.expires_at - saved.expires_at) < 0.002
    assert await store.put_back(first, again)
    third = await store.take(first)
    assert third is not None and third.attempts == 2
    assert not await store.put_back(first, third)  # the third refused answer ends it
    assert await store.take(first) is None
    assert await store.take(second) is not None  # the other one was untouched

    with pytest.raises(TypeError):
        await store.save({"x": {1, 2}})
    with pytest.raises(ConfigurationError):
        RedisChallengeStore(redis, ttl=901)  # longer than Cognito's longest AuthSessionValidity
    with pytest.raises(ConfigurationError):
        RedisChallengeStore(redis, ttl=0)
    with pytest.raises(ConfigurationError):
        RedisChallengeStore(redis, max_attempts=0)
    assert (
        repr(store) == "RedisChallengeStore(prefix='aiocognito:', ttl=120, cipher=AesGcmCipher(AES-256-GCM))"
    )


async def test_put_back_after_the_end_is_refused(redis: Redis) -> None:
    store = RedisChallengeStore(redis, ttl=60)
    challenge_id = await store.save({"step": 1})
    saved = await store.take(challenge_id)
    assert saved is not None
    late = SavedChallenge(saved.data, await server_now(redis) - 0.001, saved.attempts)
    assert not await store.put_back(challenge_id, late)
    assert await redis.exists(f"aiocognito:challenge:{challenge_id}") == 0


async def test_challenge_expiry(redis: Redis) -> None:
    """An expired challenge is gone: by the store's own short TTL, and by Redis's TTL set from outside."""
    short = RedisChallengeStore(redis, ttl=0.2)
    challenge_id = await short.save({"step": 1})
    assert 0 < await redis.pttl(f"aiocognito:challenge:{challenge_id}") <= 200
    await asyncio.sleep(0.3)
    assert await short.take(challenge_id) is None

    store = RedisChallengeStore(redis, ttl=180)
    challenge_id = await store.save({"step": 2})
    assert await redis.pexpire(f"aiocognito:challenge:{challenge_id}", 50)
    await asyncio.sleep(0.1)
    assert await store.take(challenge_id) is None


async def test_put_back_keeps_the_original_expiry(redis: Redis) -> None:
    store = RedisChallengeStore(redis, ttl=180)
    challenge_id = await store.save({"step": 1})
    key = f"aiocognito:challenge:{challenge_id}"
    await redis.pexpire(key, 5_000)  # as if it had been waiting for 175 s
    now = await server_now(redis)
    saved = await store.take(challenge_id)
    assert saved is not None and now + 4.9 < saved.expires_at <= now + 5.01
    await asyncio.sleep(0.2)
    assert await store.put_back(challenge_id, saved)
    left = await redis.pttl(key)
    assert 4_000 < left <= 4_800  # what was left, not a new 180 s
    again = await store.take(challenge_id)
    assert again is not None and abs(again.expires_at - saved.expires_at) < 0.002


async def test_concurrent_takes_exactly_one_wins(redis_url: str) -> None:
    """20 takers per id (each its own connection pool, as separate workers): one winner per id."""
    clients = [Redis.from_url(redis_url) for _ in range(20)]
    try:
        stores = [RedisChallengeStore(c, cipher=AesGcmCipher(KEY)) for c in clients]
        ids = [await stores[0].save({"n": n}) for n in range(25)]
        for challenge_id in ids:
            results = await asyncio.gather(*(s.take(challenge_id) for s in stores))
            winners = [r for r in results if r is not None]
            assert len(winners) == 1
        assert await clients[0].keys("*") == []
    finally:
        for client in clients:
            await client.aclose()


CHILD = r"""
import asyncio, json, os, sys
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from aiocognito.redis import AesGcmCipher, RedisChallengeStore

async def main(op, arg):
    redis = Redis.from_url(os.environ["REDIS_URL"])
    store = RedisChallengeStore(redis, cipher=AesGcmCipher(bytes.fromhex(os.environ["STORE_KEY"])))
    try:
        if op == "save":
            print(await store.save(json.loads(arg)))
        else:
            saved = await store.take(arg)
            out = None if saved is None else {"data": saved.data, "attempts": saved.attempts}
            if saved is not None and op == "refuse":
                out["put_back"] = await store.put_back(arg, saved)
            print(json.dumps(out))
    finally:
        await redis.aclose()

asyncio.run(main(*sys.argv[1:]))
"""


async def child(redis_url: str, op: str, arg: str) -> str:
    """``op`` (save, take, or refuse: take then put back) in a new Python process on the same Redis."""
    env = {**os.environ, "REDIS_URL": redis_url, "STORE_KEY": KEY.hex()}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        op,
        arg,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, err.decode()
    return out.decode().strip()


async def test_challenge_saved_by_one_process_is_taken_by_another_once(redis_url: str, redis: Redis) -> None:
    data = {"purpose": "sign-in", "step": {"challenge": "SMS_MFA"}}
    challenge_id = await child(redis_url, "save", json.dumps(data))  # process A
    refused = json.loads(await child(redis_url, "refuse", challenge_id))  # process B: a wrong code
    assert refused == {"data": data, "attempts": 0, "put_back": True}
    taken = json.loads(await child(redis_url, "take", challenge_id))  # process C: the attempt counted
    assert taken == {"data": data, "attempts": 1}
    assert json.loads(await child(redis_url, "take", challenge_id)) is None  # again, anywhere: gone
    store = RedisChallengeStore(redis, cipher=AesGcmCipher(KEY))
    assert await store.take(challenge_id) is None


# ----- corrupt entries, settings, reprs ---------------------------------------------------------------


async def test_unreadable_entries_raise_typed_errors(redis: Redis) -> None:
    tokens = RedisTokenStore(redis)
    await redis.set("aiocognito:token:str", b"{}")  # another kind of key
    with pytest.raises(StoredValueError, match="another kind"):
        await tokens.load("str")
    await redis.hset("aiocognito:token:list", "data", b"[1, 2]")
    with pytest.raises(StoredValueError, match="not an object"):
        await tokens.load("list")
    await redis.hset("aiocognito:token:fence", mapping={"data": b"{}", "fence": b"seven"})
    with pytest.raises(StoredValueError, match="fence"):
        await tokens.load_with_fence("fence")
    with pytest.raises(StoredValueError, match="malformed"):
        await tokens.save_if("fence", {}, fence=3)
    with pytest.raises(StoredValueError, match="another kind"):
        await tokens.save("str", {})  # the save script meets a string
    with pytest.raises(StoredValueError, match="another kind"):
        await tokens.save_if("str", {}, fence=1)
    assert await redis.get("aiocognito:token:str") == b"{}"  # left as it was
    challenges = RedisChallengeStore(redis)
    await redis.hset("aiocognito:challenge:" + "B" * 43, "data", b"{}")
    with pytest.raises(StoredValueError, match="another kind"):
        await challenges.take("B" * 43)
    challenge_id = "A" * 43
    await redis.set(f"aiocognito:challenge:{challenge_id}", b'{"data": "not a dict", "attempts": 0}')
    with pytest.raises(StoredValueError, match="malformed"):
        await challenges.take(challenge_id)
    await redis.set(f"aiocognito:challenge:{challenge_id}", b"\xff\xfe garbage")
    with pytest.raises(StoredValueError):
        await challenges.take(challenge_id)
    assert isinstance(StoredValueError("x"), ConfigurationError)


async def test_settings_and_reprs(redis_url: str, redis: Redis) -> None:
    text_client = Redis.from_url(redis_url, decode_responses=True)
    try:
        with pytest.raises(ConfigurationError, match="decode_responses=False"):
            RedisTokenStore(text_client)
    finally:
        await text_client.aclose()
    with pytest.raises(ConfigurationError):
        RedisDeviceStore(redis, prefix=b"x")  # type: ignore[arg-type]
    store = RedisTokenStore(redis, prefix="app1:", cipher=AesGcmCipher(KEY))
    await store.save("k", TOKENS)
    assert repr(store) == "RedisTokenStore(prefix='app1:', cipher=AesGcmCipher(AES-256-GCM))"
    assert repr(RedisDeviceStore(redis)) == "RedisDeviceStore(prefix='aiocognito:')"
    assert repr(JsonSerializer()) == "JsonSerializer()"
    await store.ping()


def test_challenge_expiry_arithmetic() -> None:
    assert challenge_expiry(1_700_000_000, 250_000, 4_500, 180) == 1_700_000_004.75
    assert challenge_expiry(1_700_000_000, 0, -1, 180) == 1_700_000_180  # no TTL: the store's from now


# ----- Redis going away -------------------------------------------------------------------------------


def _silent_port() -> tuple[socket.socket, int]:
    """A listening socket that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock, int(sock.getsockname()[1])


async def test_redis_down_raises_a_typed_error_then_recovers(tmp_path: Path) -> None:
    executable = shutil.which("redis-server")
    assert executable is not None
    server = RedisServer(executable, tmp_path)
    server.start()
    client = Redis.from_url(server.url, socket_timeout=1, socket_connect_timeout=1)
    try:
        tokens = RedisTokenStore(client, cipher=AesGcmCipher(KEY))
        devices = RedisDeviceStore(client)
        challenges = RedisChallengeStore(client)
        await tokens.save("k", TOKENS)
        challenge_id = await challenges.save({"step": 1})
        saved = await challenges.take(challenge_id)
        assert saved is not None
        server.stop(kill=True)

        calls: list[Any] = [
            tokens.load("k"),
            tokens.save("k", TOKENS),
            tokens.delete("k"),
            tokens.load_with_fence("k"),
            tokens.save_if("k", TOKENS, fence=9),
            devices.get("p", "u"),
            devices.put("p", "u", DEVICE),
            devices.delete("p", "u"),
            challenges.save({"step": 1}),
            challenges.take(challenge_id),
            challenges.put_back(challenge_id, saved),
            tokens.ping(),
        ]
        started = time.monotonic()
        for call in calls:
            with pytest.raises(RedisUnavailable) as caught:
                await call
            message = str(caught.value)
            assert f"127.0.0.1:{server.port}" in message and "cannot be reached" in message
            assert REFRESH not in message and "device-password" not in message
            assert isinstance(caught.value, CognitoError)
        elapsed = time.monotonic() - started
        assert elapsed < 10  # refused connections fail at once (redis-py's own retries included)

        server.start()  # the same port, an empty Redis: scripts are loaded again on first use
        assert await tokens.load("k") is None
        assert await tokens.save_if("k", TOKENS, fence=1)
        challenge_id = await challenges.save({"step": 2})
        taken = await challenges.take(challenge_id)
        assert taken is not None and await challenges.put_back(challenge_id, taken)
    finally:
        await client.aclose()
        server.stop(kill=True)
    print(f"\n12 calls on a stopped Redis: RedisUnavailable in {elapsed:.2f} s in total")


async def test_redis_that_does_not_answer_times_out_with_a_typed_error() -> None:
    """How long it takes is the client's to decide (its timeouts and retries); the store adds no wait."""
    sock, port = _silent_port()
    timings: dict[str, float] = {}
    for name, retry in (("no retries", Retry(NoBackoff(), 0)), ("redis-py's default retries", None)):
        options: dict[str, Any] = {"retry": retry} if retry is not None else {}
        client = Redis(host="127.0.0.1", port=port, socket_timeout=0.3, socket_connect_timeout=0.3, **options)
        try:
            store = RedisChallengeStore(client)
            started = time.monotonic()
            with pytest.raises(RedisUnavailable, match=f"127.0.0.1:{port} cannot be reached"):
                await store.take("A" * 43)
            timings[name] = time.monotonic() - started
        finally:
            await client.aclose()
    sock.close()
    assert 0.3 <= timings["no retries"] < 1.5
    assert timings["redis-py's default retries"] < 20  # 10 retries, 10 ms..1 s jittered backoff
    print("\nsilent Redis (socket_timeout 0.3 s): " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
