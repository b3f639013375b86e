"""TokenVerifier against tokens signed by local RSA keys and served from a local JWKS, and against moto."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import urllib.parse
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aiocognito
from aiocognito._errors import (
    ConfigurationError,
    InvalidToken,
    JwksUnavailable,
    ServiceError,
    TokenExpired,
)
from aiocognito._tokens.verifier import (
    INVALID_TOKEN_REASONS,
    MAX_TOKEN_SIZE,
    PoolConfig,
    TokenVerifier,
    check_claims,
    cognito_issuers,
    parse_jwks,
    parse_token,
)

POOL_ID = "us-east-1_TestPool1"
ISSUER = f"https://cognito-idp.us-east-1.amazonaws.com/{POOL_ID}"
CLIENT_ID = "client-a"
NOW = 1_700_000_000.0


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: Any) -> str:
    return b64url(json.dumps(value).encode())


@dataclass
class Signer:
    kid: str
    private: rsa.RSAPrivateKey

    def public_jwk(self) -> dict[str, str]:
        numbers = self.private.public_key().public_numbers()
        size = (numbers.n.bit_length() + 7) // 8
        return {
            "kid": self.kid,
            "alg": "RS256",
            "kty": "RSA",
            "use": "sig",
            "e": b64url(numbers.e.to_bytes(3, "big")),
            "n": b64url(numbers.n.to_bytes(size, "big")),
        }

    def sign(self, signing_input: str) -> str:
        return b64url(self.private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()))

    def token(self, claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
        head = b64json(header if header is not None else {"kid": self.kid, "alg": "RS256"})
        signing_input = f"{head}.{b64json(claims)}"
        return f"{signing_input}.{self.sign(signing_input)}"


def make_claims(token_use: str = "access", now: float = NOW, **changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": "3f1c2a9e-0000-4000-8000-000000000001",
        "iss": ISSUER,
        "token_use": token_use,
        "auth_time": int(now),
        "iat": int(now),
        "exp": int(now) + 3600,
        "jti": "8c1e7d3a-0000-4000-8000-000000000002",
    }
    if token_use == "access":
        claims.update(client_id=CLIENT_ID, username="alice", scope="aws.cognito.signin.user.admin")
    else:
        claims.update(aud=CLIENT_ID, **{"cognito:username": "alice", "email": "alice@example.com"})
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer("kid-a", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def rotated() -> Signer:
    return Signer("kid-b", rsa.generate_private_key(public_exponent=65537, key_size=2048))


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class JwksServer:
    """A JWKS endpoint that counts its requests and can be slowed down or broken."""

    def __init__(self, *signers: Signer) -> None:
        self.document: dict[str, Any] = {"keys": [s.public_jwk() for s in signers]}
        self.requests = 0
        self.status = 200
        self.delay = 0.0
        self.chunks = 1
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return web.Response(status=self.status, text="down")
        if self.chunks == 1:
            return web.json_response(self.document)
        body = json.dumps(self.document).encode()
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        step = len(body) // self.chunks + 1
        for i in range(0, len(body), step):
            await response.write(body[i : i + step])
            await asyncio.sleep(0.001)
        await response.write_eof()
        return response


@pytest.fixture
async def jwks(signer: Signer) -> AsyncIterator[JwksServer]:
    state = JwksServer(signer)
    app = web.Application()
    app.router.add_get(f"/{POOL_ID}/.well-known/jwks.json", state.handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    state.url = str(server.make_url(f"/{POOL_ID}/.well-known/jwks.json"))
    yield state
    await server.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_verifier(
    jwks: JwksServer, http: aiohttp.ClientSession, clock: Clock
) -> Callable[..., TokenVerifier]:
    def make(**options: Any) -> TokenVerifier:
        options.setdefault("client_ids", [CLIENT_ID])
        options.setdefault("jwks_url", jwks.url)
        options.setdefault("http_session", http)
        options.setdefault("clock", clock)
        return TokenVerifier(POOL_ID, **options)

    return make


def hs256_token(key: bytes, claims: dict[str, Any], kid: str, alg: str = "HS256") -> str:
    signing_input = f"{b64json({'kid': kid, 'alg': alg})}.{b64json(claims)}"
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def replace_segment(token: str, index: int, segment: str) -> str:
    parts = token.split(".")
    parts[index] = segment
    return ".".join(parts)


# --- acceptance ----------------------------------------------------------------------------------


async def test_valid_access_and_id_tokens_are_accepted_with_one_fetch(
    make_verifier: Callable[..., TokenVerifier], signer: Signer, jwks: JwksServer
) -> None:
    verifier = make_verifier()
    access, id_claims = make_claims("access"), make_claims("id")
    assert await verifier.verify(signer.token(access), "access") == access
    assert await verifier.verify(signer.token(id_claims), token_use="id") == id_claims
    assert jwks.requests == 1


async def test_accepted_edges(make_verifier: Callable[..., TokenVerifier], signer: Signer) -> None:
    verifier = make_verifier(client_ids=["other", CLIENT_ID], leeway=5)
    # exp two seconds ago, iat and nbf two seconds ahead: inside the 5 s leeway.
    edge = make_claims("access", exp=int(NOW) - 2, iat=int(NOW) + 2, nbf=int(NOW) + 2)
    assert (await verifier.verify(signer.token(edge)))["exp"] == int(NOW) - 2
    listed = make_claims("id", aud=["someone-else", CLIENT_ID])
    assert (await verifier.verify(signer.token(listed), "id"))["aud"] == ["someone-else", CLIENT_ID]


# --- rejection, each with its reason ---------------------------------------------------------------


def _cases(signer: Signer) -> dict[str, tuple[str, str, str]]:
    """name -> (token, token_use, expected reason)."""
    good = signer.token(make_claims("access"))
    head, payload, sig = good.split(".")
    pem = signer.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    sig_bytes = bytearray(base64.urlsafe_b64decode(sig + "=="))
    sig_bytes[10] ^= 0x01
    # 256 signature bytes = 342 base64 chars with 4 unused low bits in the last one.
    non_canonical = (
        sig[:-1]
        + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(sig[-1]) ^ 1)
        ]
    )
    tampered = dict(make_claims("access"), username="mallory")
    return {
        "expired": (signer.token(make_claims(exp=int(NOW) - 10)), "access", "expired"),
        "not_yet_valid": (signer.token(make_claims(nbf=int(NOW) + 60)), "access", "not_yet_valid"),
        "issued_in_future": (signer.token(make_claims(iat=int(NOW) + 60)), "access", "issued_in_future"),
        "wrong_iss": (signer.token(make_claims(iss=ISSUER + "x")), "access", "issuer"),
        "local_iss": (signer.token(make_claims(iss="http://127.0.0.1/" + POOL_ID)), "access", "issuer"),
        "id_as_access": (signer.token(make_claims("id")), "access", "token_use"),
        "access_as_id": (good, "id", "token_use"),
        "wrong_aud": (signer.token(make_claims("id", aud="client-b")), "id", "audience"),
        "no_aud": (signer.token(make_claims("id", aud=None)), "id", "audience"),
        "wrong_client_id": (signer.token(make_claims(client_id="client-b")), "access", "client_id"),
        "unknown_kid": (
            signer.token(make_claims(), {"kid": "kid-zzz", "alg": "RS256"}),
            "access",
            "unknown_kid",
        ),
        "no_kid": (signer.token(make_claims(), {"alg": "RS256"}), "access", "unknown_kid"),
        "alg_none_empty_sig": (
            f"{b64json({'kid': signer.kid, 'alg': 'none'})}.{payload}.",
            "access",
            "malformed",
        ),
        "alg_none": (f"{b64json({'kid': signer.kid, 'alg': 'none'})}.{payload}.{sig}", "access", "alg"),
        "alg_missing": (signer.token(make_claims(), {"kid": signer.kid}), "access", "alg"),
        "alg_lowercase": (signer.token(make_claims(), {"kid": signer.kid, "alg": "rs256"}), "access", "alg"),
        "hs256_public_pem": (hs256_token(pem, make_claims(), signer.kid), "access", "alg"),
        "hs256_public_jwk": (
            hs256_token(json.dumps(signer.public_jwk()).encode(), make_claims(), signer.kid),
            "access",
            "alg",
        ),
        "hmac_under_rs256": (hs256_token(pem, make_claims(), signer.kid, alg="RS256"), "access", "signature"),
        "tampered_payload": (f"{head}.{b64json(tampered)}.{sig}", "access", "signature"),
        "tampered_signature": (replace_segment(good, 2, b64url(bytes(sig_bytes))), "access", "signature"),
        "truncated_signature": (
            replace_segment(good, 2, b64url(bytes(sig_bytes[:-3]))),
            "access",
            "signature",
        ),
        "non_canonical_signature": (replace_segment(good, 2, non_canonical), "access", "malformed"),
        "bad_base64_char": (replace_segment(good, 1, payload[:5] + "!" + payload[6:]), "access", "malformed"),
        "bad_base64_length": (replace_segment(good, 0, head + "A"), "access", "malformed"),
        "header_not_json": (replace_segment(good, 0, b64url(b"{kid")), "access", "malformed"),
        "header_not_object": (replace_segment(good, 0, b64json(["RS256"])), "access", "malformed"),
        "deeply_nested_header": (replace_segment(good, 0, b64url(b"[" * 9000)), "access", "malformed"),
        "crit_header": (
            signer.token(make_claims(), {"kid": signer.kid, "alg": "RS256", "crit": ["exp"]}),
            "access",
            "malformed",
        ),
        "two_segments": (f"{head}.{payload}", "access", "malformed"),
        "four_segments": (f"{good}.{sig}", "access", "malformed"),
        "payload_not_json": (
            f"{head}.{b64url(b'not json')}.{signer.sign(head + '.' + b64url(b'not json'))}",
            "access",
            "malformed",
        ),
        "exp_string": (signer.token(make_claims(exp="9999999999")), "access", "malformed"),
        "exp_bool": (signer.token(make_claims(exp=True)), "access", "malformed"),
        "no_exp": (signer.token(make_claims(exp=None)), "access", "malformed"),
        "no_iat": (signer.token(make_claims(iat=None)), "access", "malformed"),
        "oversized": (signer.token(make_claims(pad="x" * MAX_TOKEN_SIZE)), "access", "too_large"),
        "empty": ("", "access", "malformed"),
    }


def _nan_token(signer: Signer, literal: str) -> str:
    text = json.dumps(make_claims()).replace(f'"exp": {int(NOW) + 3600}', f'"exp": {literal}')
    assert literal in text
    signing_input = f"{b64json({'kid': signer.kid, 'alg': 'RS256'})}.{b64url(text.encode())}"
    return f"{signing_input}.{signer.sign(signing_input)}"


CASE_NAMES = [
    "expired", "not_yet_valid", "issued_in_future", "wrong_iss", "local_iss", "id_as_access", "access_as_id",
    "wrong_aud", "no_aud", "wrong_client_id", "unknown_kid", "no_kid", "alg_none_empty_sig", "alg_none",
    "alg_missing", "alg_lowercase", "hs256_public_pem", "hs256_public_jwk", "hmac_under_rs256",
    "tampered_payload", "tampered_signature", "truncated_signature", "non_canonical_signature",
    "bad_base64_char", "bad_base64_length", "header_not_json", "header_not_object", "deeply_nested_header",
    "crit_header",
    "two_segments", "four_segments", "payload_not_json", "exp_string", "exp_bool", "no_exp", "no_iat",
    "oversized", "empty",
]  # fmt: skip


def test_case_list_is_complete(signer: Signer) -> None:
    assert sorted(CASE_NAMES) == sorted(_cases(signer))


@pytest.mark.parametrize("name", CASE_NAMES)
async def test_rejected_with_reason(
    name: str, make_verifier: Callable[..., TokenVerifier], signer: Signer
) -> None:
    token, token_use, reason = _cases(signer)[name]
    verifier = make_verifier()
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(token, token_use)  # type: ignore[arg-type]
    assert info.value.reason == reason
    assert reason in INVALID_TOKEN_REASONS
    assert isinstance(info.value, TokenExpired) == (reason == "expired")
    # No piece of the token leaks into the message.
    for segment in token.split("."):
        if len(segment) >= 8:
            assert segment[:8] not in str(info.value)
            assert segment[-8:] not in str(info.value)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_non_finite_time_claims_are_malformed(
    literal: str, make_verifier: Callable[..., TokenVerifier], signer: Signer
) -> None:
    with pytest.raises(InvalidToken) as info:
        await make_verifier().verify(_nan_token(signer, literal))
    assert info.value.reason == "malformed"


async def test_non_str_token_is_malformed(
    make_verifier: Callable[..., TokenVerifier], signer: Signer
) -> None:
    token = signer.token(make_claims()).encode()
    with pytest.raises(InvalidToken) as info:
        await make_verifier().verify(token)  # type: ignore[arg-type]
    assert info.value.reason == "malformed"


async def test_a_single_client_id_string_is_not_split_into_characters(
    make_verifier: Callable[..., TokenVerifier], signer: Signer
) -> None:
    verifier = make_verifier(client_ids=CLIENT_ID)
    assert (await verifier.verify(signer.token(make_claims())))["client_id"] == CLIENT_ID
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(signer.token(make_claims(client_id="c")))
    assert info.value.reason == "client_id"


# --- JWKS cache ----------------------------------------------------------------------------------


async def test_key_rotation_is_picked_up_at_once_and_a_vanished_kid_starts_the_cooldown(
    make_verifier: Callable[..., TokenVerifier],
    signer: Signer,
    rotated: Signer,
    jwks: JwksServer,
    clock: Clock,
) -> None:
    # aws-jwt-verify's rule: an unknown kid right after a successful fetch refetches at once; only a
    # failed lookup starts the cool-down (here 60 s, set through the former name min_refetch_interval).
    verifier = make_verifier(min_refetch_interval=60)
    assert verifier.jwks_cooldown == verifier.min_refetch_interval == 60
    await verifier.verify(signer.token(make_claims()))
    jwks.document = {"keys": [rotated.public_jwk()]}
    new_token = rotated.token(make_claims(iat=int(NOW) + 30))

    clock.now = NOW + 30  # 30 s after the first fetch: the new kid is fetched and accepted at once
    assert (await verifier.verify(new_token))["iat"] == int(NOW) + 30
    assert jwks.requests == 2

    # The old key left the JWKS: one refetch confirms it is gone, then the cool-down holds.
    old_token = signer.token(make_claims(iat=int(NOW) + 30))
    for _ in range(3):
        with pytest.raises(InvalidToken) as info:
            await verifier.verify(old_token)
        assert info.value.reason == "unknown_kid"
    assert jwks.requests == 3
    clock.now = NOW + 30 + 59
    with pytest.raises(InvalidToken):
        await verifier.verify(old_token)
    assert jwks.requests == 3
    clock.now = NOW + 30 + 60  # the cool-down is over: one more fetch
    with pytest.raises(InvalidToken):
        await verifier.verify(old_token)
    assert jwks.requests == 4
    assert await verifier.verify(new_token)  # a cached key never waits for anything
    assert jwks.requests == 4


async def test_concurrent_first_calls_fetch_once(
    make_verifier: Callable[..., TokenVerifier], signer: Signer, jwks: JwksServer
) -> None:
    jwks.delay = 0.05
    verifier = make_verifier()
    token = signer.token(make_claims())
    results = await asyncio.gather(*(verifier.verify(token) for _ in range(20)))
    assert all(r["sub"] == make_claims()["sub"] for r in results)
    assert jwks.requests == 1


async def test_concurrent_cold_calls_share_one_failed_fetch(
    make_verifier: Callable[..., TokenVerifier], signer: Signer, jwks: JwksServer
) -> None:
    jwks.delay, jwks.status = 0.05, 503
    verifier = make_verifier()
    token = signer.token(make_claims())
    results = await asyncio.gather(*(verifier.verify(token) for _ in range(10)), return_exceptions=True)
    assert all(isinstance(r, JwksUnavailable) for r in results)
    assert jwks.requests == 1


async def test_endpoint_down_with_a_warm_cache_keeps_working(
    make_verifier: Callable[..., TokenVerifier], signer: Signer, jwks: JwksServer, clock: Clock
) -> None:
    verifier = make_verifier(jwks_ttl=600, min_refetch_interval=60)
    await verifier.verify(signer.token(make_claims()))
    jwks.status = 503

    clock.now = NOW + 601  # the cache is stale: the old key answers at once, one refresh runs behind it
    fresh = signer.token(make_claims(now=clock.now))
    assert (await verifier.verify(fresh))["iat"] == int(clock.now)
    await background_refresh(verifier)
    assert jwks.requests == 2
    clock.now += 30  # no second try within the refetch interval
    assert await verifier.verify(fresh)
    await background_refresh(verifier)
    assert jwks.requests == 2

    jwks.status = 200
    clock.now += 31
    assert await verifier.verify(fresh)
    await background_refresh(verifier)
    assert jwks.requests == 3


async def test_a_slow_jwks_endpoint_never_holds_up_a_cached_key(
    make_verifier: Callable[..., TokenVerifier], signer: Signer, jwks: JwksServer, clock: Clock
) -> None:
    verifier = make_verifier(jwks_ttl=600, min_refetch_interval=60)
    await verifier.verify(signer.token(make_claims()))
    jwks.delay = 5.0  # the refresh would take 5 s
    clock.now = NOW + 601
    token = signer.token(make_claims(now=clock.now))
    claims = await asyncio.wait_for(verifier.verify(token), timeout=1.0)
    assert claims["iat"] == int(clock.now)
    await verifier.aclose()  # cancels the refresh still waiting on the endpoint


async def background_refresh(verifier: TokenVerifier) -> None:
    """Wait for the JWKS refresh a stale cache started behind the request, if any."""
    task = verifier._background
    if task is not None:
        await task


async def test_cold_start_with_the_endpoint_down_raises_jwks_unavailable(
    make_verifier: Callable[..., TokenVerifier], signer: Signer, jwks: JwksServer
) -> None:
    jwks.status = 503
    verifier = make_verifier()
    with pytest.raises(JwksUnavailable) as info:
        await verifier.verify(signer.token(make_claims()))
    assert not isinstance(info.value, InvalidToken)
    assert jwks.url in str(info.value) and "HTTP 503" in str(info.value)
    # Each cold call tries again, and the endpoint coming back is noticed at once.
    jwks.status = 200
    assert await verifier.verify(signer.token(make_claims()))
    assert jwks.requests == 2


async def test_unreachable_and_garbage_endpoints_raise_jwks_unavailable(
    http: aiohttp.ClientSession, signer: Signer, jwks: JwksServer, clock: Clock
) -> None:
    token = signer.token(make_claims())
    refused = TokenVerifier(
        POOL_ID, client_ids=CLIENT_ID, jwks_url="http://127.0.0.1:9/jwks.json", http_session=http, clock=clock
    )
    with pytest.raises(JwksUnavailable, match="127.0.0.1:9"):
        await refused.verify(token)
    jwks.delay = 0.5
    slow = TokenVerifier(
        POOL_ID, client_ids=CLIENT_ID, jwks_url=jwks.url, http_session=http, clock=clock, fetch_timeout=0.05
    )
    with pytest.raises(JwksUnavailable, match="TimeoutError"):
        await slow.verify(token)
    jwks.delay = 0.0
    jwks.document = {"keys": [{"kty": "EC", "kid": "x"}]}
    no_rsa = TokenVerifier(POOL_ID, client_ids=CLIENT_ID, jwks_url=jwks.url, http_session=http, clock=clock)
    with pytest.raises(JwksUnavailable, match="no usable RS256 key"):
        await no_rsa.verify(token)


async def test_jwks_body_in_many_chunks_and_size_cap(
    make_verifier: Callable[..., TokenVerifier], signer: Signer, rotated: Signer, jwks: JwksServer
) -> None:
    filler = [dict(rotated.public_jwk(), kid=f"pad-{i}") for i in range(40)]
    jwks.document = {"keys": [*filler, signer.public_jwk()]}
    jwks.chunks = 8
    assert await make_verifier().verify(signer.token(make_claims()))
    jwks.document = {"keys": [signer.public_jwk()], "padding": "x" * (300 * 1024)}
    with pytest.raises(JwksUnavailable, match="larger than"):
        await make_verifier().verify(signer.token(make_claims()))


def test_parse_jwks_keeps_only_public_rs256_signing_keys(signer: Signer, rotated: Signer) -> None:
    small = Signer("small", rsa.generate_private_key(public_exponent=65537, key_size=1024))
    private_numbers = signer.private.private_numbers()
    with_private = dict(signer.public_jwk(), d=b64url(private_numbers.d.to_bytes(256, "big")))
    document = {
        "keys": [
            with_private,
            dict(rotated.public_jwk(), kid="enc", use="enc"),
            dict(rotated.public_jwk(), kid="rs512", alg="RS512"),
            {k: v for k, v in rotated.public_jwk().items() if k != "alg"} | {"kid": "no-alg"},
            small.public_jwk(),
            {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
            "not a key",
        ]
    }
    keys = parse_jwks(json.dumps(document).encode())
    assert sorted(keys) == ["kid-a", "no-alg"]
    token = signer.token(make_claims())
    signing_input, _, sig = token.rpartition(".")
    assert keys["kid-a"].verify(signing_input.encode(), base64.urlsafe_b64decode(sig + "=="))
    assert not keys["kid-a"].prepared_key.__class__.__name__.endswith("PrivateKey")  # type: ignore[attr-defined]
    for body in (b"", b"[]", b'{"keys": {}}', b'{"keys": []}'):
        with pytest.raises(ValueError):
            parse_jwks(body)


# --- configuration and session ownership ----------------------------------------------------------


@dataclass
class StubClient:
    endpoint_url: str
    http_session: aiohttp.ClientSession
    region: str = "us-east-1"
    error: Exception | None = None
    calls: int = 0

    async def get_user(self, *, AccessToken: str) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        if self.error is not None:
            raise self.error
        return {"Username": "alice"}


def test_region_issuer_and_jwks_url_defaults(http: aiohttp.ClientSession) -> None:
    plain = TokenVerifier("eu-central-1_AbC123", client_ids=["c"])
    assert plain.region == "eu-central-1"
    assert plain.issuer == "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AbC123"
    assert plain.jwks_url == plain.issuer + "/.well-known/jwks.json"
    local = TokenVerifier(
        "eu-central-1_AbC123", client_ids=["c"], client=StubClient("http://127.0.0.1:5000/", http)
    )
    assert local.jwks_url == "http://127.0.0.1:5000/eu-central-1_AbC123/.well-known/jwks.json"
    assert local.issuer == plain.issuer
    custom = TokenVerifier("eu-central-1_AbC123", client_ids=["c"], region="us-west-2", issuer="https://i")
    assert (custom.region, custom.issuer, custom.jwks_url) == (
        "us-west-2",
        "https://i",
        "https://i/.well-known/jwks.json",
    )


@pytest.mark.parametrize(
    "args",
    [
        {"user_pool_id": "nopool"},
        {"user_pool_id": "us-east-1_ab/../x"},
        {"client_ids": []},
        {"client_ids": [""]},
        {"region": "Mars"},
        {"check_revocation": True},
        {"leeway": -1},
        {"jwks_cooldown": -1},
        {"jwks_cooldown": 5, "min_refetch_interval": 6},
        {"issuer": []},
        {"issuer": [""]},
        {"groups": []},
        {"scopes": ["orders/read orders/write"]},
        {"custom_check": "not callable"},
        {"jwks": {"keys": []}},
    ],
)
def test_bad_configuration_is_refused(args: dict[str, Any]) -> None:
    options: dict[str, Any] = {"user_pool_id": POOL_ID, "client_ids": [CLIENT_ID]} | args
    with pytest.raises(ConfigurationError):
        TokenVerifier(options.pop("user_pool_id"), **options)


async def test_client_endpoint_and_session_are_used(
    jwks: JwksServer, http: aiohttp.ClientSession, signer: Signer, clock: Clock
) -> None:
    base = jwks.url.split(f"/{POOL_ID}/")[0]
    verifier = TokenVerifier(POOL_ID, client_ids=CLIENT_ID, client=StubClient(base, http), clock=clock)
    assert await verifier.verify(signer.token(make_claims()))
    assert jwks.requests == 1
    await verifier.aclose()
    assert not http.closed  # borrowed, so not closed


async def test_owned_session_is_closed_by_the_context_manager(
    jwks: JwksServer, signer: Signer, clock: Clock
) -> None:
    async with TokenVerifier(POOL_ID, client_ids=CLIENT_ID, jwks_url=jwks.url, clock=clock) as verifier:
        assert await verifier.verify(signer.token(make_claims()))
    await verifier.aclose()  # idempotent
    cold = TokenVerifier(POOL_ID, client_ids=CLIENT_ID, jwks_url=jwks.url, clock=clock)
    await cold.aclose()
    with pytest.raises(JwksUnavailable, match="closed"):
        await cold.verify(signer.token(make_claims()))


# --- revocation ------------------------------------------------------------------------------------


async def test_revocation_check(
    jwks: JwksServer, http: aiohttp.ClientSession, signer: Signer, clock: Clock
) -> None:
    client = StubClient("http://unused.invalid", http)
    verifier = TokenVerifier(
        POOL_ID, client_ids=CLIENT_ID, jwks_url=jwks.url, client=client, check_revocation=True, clock=clock
    )
    access = signer.token(make_claims())
    assert await verifier.verify(access)
    assert await verifier.verify(signer.token(make_claims("id")), "id")  # id tokens: no GetUser
    assert client.calls == 1
    with pytest.raises(InvalidToken):
        await verifier.verify(signer.token(make_claims(exp=int(NOW) - 60)))
    assert client.calls == 1  # offline checks come first

    client.error = ServiceError("Access Token has been revoked", code="NotAuthorizedException")
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(access)
    assert info.value.reason == "revoked"
    assert await verifier.verify(access, check_revocation=False)

    client.error = ServiceError("Rate exceeded", code="TooManyRequestsException")
    with pytest.raises(ServiceError):  # not the token's fault: passed through
        await verifier.verify(access)

    offline = TokenVerifier(POOL_ID, client_ids=CLIENT_ID, jwks_url=jwks.url, http_session=http, clock=clock)
    with pytest.raises(ConfigurationError):
        await offline.verify(access, check_revocation=True)


# --- property-based: nothing but InvalidToken escapes -----------------------------------------------

_B64_AND_DOTS = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ", max_size=600
)
_ANY_TEXT = st.text(max_size=300)
_HEADER_VALUES = st.one_of(
    st.sampled_from(["RS256", "kid-a", "none"]), st.text(max_size=8), st.integers(), st.none()
)
_WELL_SHAPED = st.builds(
    lambda header, payload, sig: f"{b64json(header)}.{b64url(payload)}.{b64url(sig)}",
    st.dictionaries(st.sampled_from(["alg", "kid", "crit", "typ"]), _HEADER_VALUES, max_size=4),
    st.binary(min_size=1, max_size=64),
    st.one_of(st.binary(min_size=1, max_size=300), st.binary(min_size=256, max_size=256)),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(_ANY_TEXT, _B64_AND_DOTS, _WELL_SHAPED))
async def test_arbitrary_strings_only_raise_invalid_token(
    text: str, make_verifier: Callable[..., TokenVerifier]
) -> None:
    with pytest.raises(InvalidToken) as info:
        await make_verifier().verify(text)
    assert info.value.reason in INVALID_TOKEN_REASONS


def _mutate(token: str, op: str, pos: int, char: str) -> str:
    parts = token.split(".")
    i = pos % len(token)
    if op == "replace":
        return token[:i] + char + token[i + 1 :]
    if op == "delete":
        return token[:i] + token[i + 1 :]
    if op == "insert":
        return token[:i] + char + token[i:]
    if op == "truncate":
        return token[:i]
    if op == "swap":
        a, b = pos % 3, (pos // 3) % 3
        parts[a], parts[b] = parts[b], parts[a]
        return ".".join(parts)
    if op == "duplicate":
        parts.insert(pos % 4, parts[pos % 3])
        return ".".join(parts)
    # flip one bit of a decoded segment, re-encoded canonically
    seg = pos % 3
    raw = bytearray(base64.urlsafe_b64decode(parts[seg] + "=="))
    raw[(pos // 3) % len(raw)] ^= 1 << (pos % 8)
    parts[seg] = b64url(bytes(raw))
    return ".".join(parts)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    op=st.sampled_from(["replace", "delete", "insert", "truncate", "swap", "duplicate", "bitflip"]),
    pos=st.integers(min_value=0, max_value=10**6),
    char=st.characters(),
    token_use=st.sampled_from(["access", "id"]),
)
async def test_mutated_tokens_are_always_rejected(
    op: str, pos: int, char: str, token_use: str, make_verifier: Callable[..., TokenVerifier], signer: Signer
) -> None:
    good = signer.token(make_claims(token_use))
    token = _mutate(good, op, pos, char)
    verifier = make_verifier()
    if token == good:
        assert await verifier.verify(good, token_use)  # type: ignore[arg-type]
        return
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(token, token_use)  # type: ignore[arg-type]
    assert info.value.reason in INVALID_TOKEN_REASONS


# --- tokens issued by moto ------------------------------------------------------------------------


async def test_tokens_issued_by_moto(cognito: aiocognito.CognitoClient) -> None:
    pool = (await cognito.create_user_pool(PoolName="verify"))["UserPool"]["Id"]
    app = await cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="app", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    )
    client_id = app["UserPoolClient"]["ClientId"]
    await cognito.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
    await cognito.admin_set_user_password(
        UserPoolId=pool, Username="alice", Password="Pa55word!x", Permanent=True
    )
    result = (
        await cognito.admin_initiate_auth(
            UserPoolId=pool,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": "Pa55word!x"},
        )
    )["AuthenticationResult"]

    # moto's iss is the AWS form and its JWKS is on the local endpoint: the defaults with client= fit.
    verifier = TokenVerifier(pool, client_ids=client_id, client=cognito, check_revocation=True)
    assert verifier.jwks_url == f"{cognito.endpoint_url}/{pool}/.well-known/jwks.json"
    access = await verifier.verify(result["AccessToken"], "access")
    assert (access["username"], access["client_id"], access["token_use"]) == ("alice", client_id, "access")
    id_claims = await verifier.verify(result["IdToken"], "id")
    assert (id_claims["cognito:username"], id_claims["aud"]) == ("alice", client_id)

    with pytest.raises(InvalidToken) as info:
        await verifier.verify(result["IdToken"], "access")
    assert info.value.reason == "token_use"
    other_app = TokenVerifier(pool, client_ids="someone-else", client=cognito)
    with pytest.raises(InvalidToken) as info:
        await other_app.verify(result["AccessToken"])
    assert info.value.reason == "client_id"
    local_issuer = TokenVerifier(
        pool, client_ids=client_id, client=cognito, issuer=cognito.endpoint_url + "/" + pool
    )
    with pytest.raises(InvalidToken) as info:
        await local_issuer.verify(result["AccessToken"])
    assert info.value.reason == "issuer"

    await cognito.global_sign_out(AccessToken=result["AccessToken"])
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(result["AccessToken"])
    assert info.value.reason == "revoked"
    assert await verifier.verify(result["AccessToken"], check_revocation=False)  # offline it still passes


# === aws-jwt-verify parity ==========================================================================
# --- helpers ---------------------------------------------------------------------------------------

POOL_B = "eu-west-1_OtherPool"
ISSUER_B = f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL_B}"
UPDATED_ISSUER = f"https://issuer-cognito-idp.us-east-1.amazonaws.com/{POOL_ID}"


def assert_no_token_text(text: str, token: str) -> None:
    for segment in token.split("."):
        if len(segment) >= 8:
            assert segment[:8] not in text and segment[-8:] not in text


def claim(name: str, value: Any) -> dict[str, Any]:
    """``make_claims(**claim("cognito:groups", [...]))`` for claim names that are not identifiers."""
    return {name: value}


def random_kid(i: int) -> str:
    return f"made-up-{i}-{hashlib.sha256(str(i).encode()).hexdigest()[:12]}"


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class JwksHost:
    """One local HTTP server with several pools' JWKS at ``/{pool}/.well-known/jwks.json``."""

    def __init__(self) -> None:
        self.pools: dict[str, JwksServer] = {}
        self.base = ""

    def add(self, pool_id: str, *signers: Signer) -> JwksServer:
        state = JwksServer(*signers)
        state.url = f"{self.base}/{pool_id}/.well-known/jwks.json"
        self.pools[pool_id] = state
        return state

    async def handle(self, request: web.Request) -> web.StreamResponse:
        state = self.pools.get(request.match_info["pool"])
        if state is None:
            return web.Response(status=404, text="no such pool")
        return await state.handle(request)


@pytest.fixture
async def jwks_host() -> AsyncIterator[JwksHost]:
    host = JwksHost()
    app = web.Application()
    app.router.add_get("/{pool}/.well-known/jwks.json", host.handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    host.base = str(server.make_url("/")).rstrip("/")
    yield host
    await server.close()


class Redirect:
    """Stands in for the aiohttp session: every GET goes to the local host with the same path, and the
    URL the verifier asked for is noted (so the AWS issuer URLs can be checked without leaving 127.0.0.1)."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base
        self.urls: list[str] = []

    def get(self, url: str, **options: Any) -> Any:
        self.urls.append(url)
        return self.session.get(self.base + urllib.parse.urlsplit(url).path, **options)


# --- unknown kid and cool-down ---------------------------------------------------------------------


async def test_a_key_added_after_the_first_fetch_is_accepted_a_second_later(
    make_verifier: Callable[..., TokenVerifier],
    signer: Signer,
    rotated: Signer,
    jwks: JwksServer,
    clock: Clock,
) -> None:
    verifier = make_verifier()
    assert verifier.jwks_cooldown == 10.0  # aws-jwt-verify's penalty box default
    assert await verifier.verify(signer.token(make_claims()))
    assert jwks.requests == 1
    jwks.document = {"keys": [signer.public_jwk(), rotated.public_jwk()]}
    clock.now = NOW + 1
    new_token = rotated.token(make_claims(now=clock.now))
    assert (await verifier.verify(new_token))["iat"] == int(clock.now)
    assert jwks.requests == 2  # exactly one extra fetch
    assert await verifier.verify(new_token) and await verifier.verify(signer.token(make_claims()))
    assert jwks.requests == 2


async def test_random_kids_in_a_row_cost_one_fetch_per_cooldown(
    make_verifier: Callable[..., TokenVerifier],
    signer: Signer,
    rotated: Signer,
    jwks: JwksServer,
    clock: Clock,
) -> None:
    verifier = make_verifier()
    good = signer.token(make_claims())
    assert await verifier.verify(good)
    for i in range(20):
        with pytest.raises(InvalidToken) as info:
            await verifier.verify(signer.token(make_claims(), {"kid": random_kid(i), "alg": "RS256"}))
        assert info.value.reason == "unknown_kid"
    assert jwks.requests == 2  # the first fetch, then one refetch for the whole flood
    assert await verifier.verify(good)  # known keys are unaffected by the cool-down

    # A real new key during the cool-down waits for its end (the price of the flood protection).
    jwks.document = {"keys": [signer.public_jwk(), rotated.public_jwk()]}
    clock.now = NOW + 9.9
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(rotated.token(make_claims()))
    assert info.value.reason == "unknown_kid" and "no refetch" in str(info.value)
    assert jwks.requests == 2

    clock.now = NOW + 10  # the cool-down is over: one more fetch is allowed
    assert await verifier.verify(rotated.token(make_claims()))
    assert jwks.requests == 3
    for i in range(20, 40):
        with pytest.raises(InvalidToken):
            await verifier.verify(signer.token(make_claims(), {"kid": random_kid(i), "alg": "RS256"}))
    assert jwks.requests == 4  # this kid was found, so the next unknown one refetched once more


async def test_random_kids_concurrently_cost_one_fetch(
    make_verifier: Callable[..., TokenVerifier], signer: Signer, jwks: JwksServer
) -> None:
    jwks.delay = 0.05
    bogus = [signer.token(make_claims(), {"kid": random_kid(i), "alg": "RS256"}) for i in range(20)]
    cold = make_verifier()  # nothing cached yet: the 20 share the one first fetch
    results = await asyncio.gather(*(cold.verify(t) for t in bogus), return_exceptions=True)
    assert all(isinstance(r, InvalidToken) and r.reason == "unknown_kid" for r in results)
    assert jwks.requests == 1

    warm = make_verifier()
    assert await warm.verify(signer.token(make_claims()))
    assert jwks.requests == 2
    results = await asyncio.gather(*(warm.verify(t) for t in bogus), return_exceptions=True)
    assert all(isinstance(r, InvalidToken) and r.reason == "unknown_kid" for r in results)
    assert jwks.requests == 3  # one refetch shared by all 20, then the cool-down


async def test_a_failed_refetch_with_keys_cached_starts_the_cooldown(
    make_verifier: Callable[..., TokenVerifier], signer: Signer, jwks: JwksServer, clock: Clock
) -> None:
    verifier = make_verifier(jwks_cooldown=30)
    assert verifier.min_refetch_interval == 30
    assert await verifier.verify(signer.token(make_claims()))
    jwks.status = 503
    bogus = signer.token(make_claims(), {"kid": "kid-new", "alg": "RS256"})
    for _ in range(5):
        with pytest.raises(InvalidToken) as info:
            await verifier.verify(bogus)
        assert info.value.reason == "unknown_kid"
    assert jwks.requests == 2
    clock.now = NOW + 30
    with pytest.raises(InvalidToken):
        await verifier.verify(bogus)
    assert jwks.requests == 3
    assert await verifier.verify(signer.token(make_claims(now=clock.now)))


# --- groups, scopes, custom check ------------------------------------------------------------------


async def test_groups_any_of_on_cognito_groups(
    make_verifier: Callable[..., TokenVerifier], signer: Signer
) -> None:
    verifier = make_verifier(groups=["admins", "ops"])
    ops = signer.token(make_claims(**claim("cognito:groups", ["users", "ops"])))
    assert (await verifier.verify(ops))["cognito:groups"] == ["users", "ops"]
    id_ops = signer.token(make_claims("id", **claim("cognito:groups", ["admins"])))
    assert await verifier.verify(id_ops, "id")
    refused = {
        "no groups": signer.token(make_claims()),
        "other groups": signer.token(make_claims(**claim("cognito:groups", ["users"]))),
        "a str, not a list": signer.token(make_claims(**claim("cognito:groups", "admins"))),
        "not str members": signer.token(make_claims(**claim("cognito:groups", [["admins"]]))),
    }
    for name, token in refused.items():
        with pytest.raises(InvalidToken) as info:
            await verifier.verify(token)
        assert info.value.reason == "groups", name
        assert_no_token_text(str(info.value), token)
    # Per call: replace the requirement, or drop it with None.
    assert await verifier.verify(refused["other groups"], groups="users")
    assert await verifier.verify(refused["no groups"], groups=None)
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(ops, groups=["admins"])
    assert info.value.reason == "groups"
    with pytest.raises(ConfigurationError):
        await verifier.verify(ops, groups=[])


async def test_scopes_any_of_on_the_scope_claim(
    make_verifier: Callable[..., TokenVerifier], signer: Signer
) -> None:
    plain = make_verifier()
    default_scope = signer.token(make_claims())  # scope "aws.cognito.signin.user.admin"
    orders = signer.token(make_claims(scope="openid orders/read orders/write"))
    verifier = make_verifier(scopes=["orders/write", "orders/admin"])
    assert await verifier.verify(orders)
    for token, use in (
        (default_scope, "access"),
        (signer.token(make_claims(scope=None)), "access"),
        (signer.token(make_claims(scope=["orders/write"])), "access"),
        (signer.token(make_claims(scope="orders/writer")), "access"),
        (signer.token(make_claims("id")), "id"),  # ID tokens carry no scope
    ):
        with pytest.raises(InvalidToken) as info:
            await verifier.verify(token, use)  # type: ignore[arg-type]
        assert info.value.reason == "scope"
        assert_no_token_text(str(info.value), token)
    assert await verifier.verify(default_scope, scopes="aws.cognito.signin.user.admin")
    assert await verifier.verify(signer.token(make_claims("id")), "id", scopes=None)
    with pytest.raises(InvalidToken) as info:
        await plain.verify(orders, scopes="orders/admin")
    assert info.value.reason == "scope"
    assert await plain.verify(orders)  # the per-call requirement did not stick


async def test_sync_custom_check(make_verifier: Callable[..., TokenVerifier], signer: Signer) -> None:
    seen: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def tenant_a(header: dict[str, Any], claims: dict[str, Any]) -> bool:
        seen.append((header, claims))
        return bool(claims.get("custom:tenant") == "a")

    verifier = make_verifier(custom_check=tenant_a)
    good = signer.token(make_claims(**claim("custom:tenant", "a")))
    assert await verifier.verify(good)
    assert seen[-1][0] == {"kid": signer.kid, "alg": "RS256"} and seen[-1][1]["custom:tenant"] == "a"
    other = signer.token(make_claims(**claim("custom:tenant", "b")))
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(other)
    assert info.value.reason == "custom" and "refused" in str(info.value)
    # The custom check runs last: a token failing a standard check never reaches it.
    calls = len(seen)
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(signer.token(make_claims(client_id="client-b", **claim("custom:tenant", "a"))))
    assert info.value.reason == "client_id" and len(seen) == calls

    def explodes(header: dict[str, Any], claims: dict[str, Any]) -> None:
        raise KeyError(f"no tenant for {other}")  # even a message quoting the token stays out

    def own_reason(header: dict[str, Any], claims: dict[str, Any]) -> None:
        raise InvalidToken("tenant_suspended")

    def odd(header: dict[str, Any], claims: dict[str, Any]) -> Any:
        return "yes"

    with pytest.raises(InvalidToken) as info:
        await verifier.verify(good, custom_check=explodes)
    assert info.value.reason == "custom" and "KeyError" in str(info.value)
    assert isinstance(info.value.__cause__, KeyError)
    assert_no_token_text(str(info.value), other)
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(good, custom_check=own_reason)
    assert info.value.reason == "tenant_suspended"
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(good, custom_check=odd)
    assert info.value.reason == "custom" and "str" in str(info.value)
    assert await verifier.verify(other, custom_check=None)
    with pytest.raises(ConfigurationError):
        await verifier.verify(good, custom_check="not callable")  # type: ignore[arg-type]
    assert await verifier.verify(good, custom_check=lambda h, c: None)


async def test_async_custom_check(make_verifier: Callable[..., TokenVerifier], signer: Signer) -> None:
    async def allowed(header: dict[str, Any], claims: dict[str, Any]) -> bool:
        await asyncio.sleep(0)
        return bool(claims["username"] != "mallory")

    async def broken(header: dict[str, Any], claims: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        raise RuntimeError("tenant service down")

    verifier = make_verifier(custom_check=allowed)
    assert await verifier.verify(signer.token(make_claims()))
    mallory = signer.token(make_claims(username="mallory"))
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(mallory)
    assert info.value.reason == "custom"
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(signer.token(make_claims()), custom_check=broken)
    assert info.value.reason == "custom" and "RuntimeError" in str(info.value)
    assert "tenant service down" not in str(info.value)


async def test_cancellation_is_not_turned_into_a_custom_refusal(
    make_verifier: Callable[..., TokenVerifier], signer: Signer
) -> None:
    async def slow(header: dict[str, Any], claims: dict[str, Any]) -> None:
        await asyncio.sleep(10)

    verifier = make_verifier(custom_check=slow)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(verifier.verify(signer.token(make_claims())), timeout=0.05)


def test_parse_token_keeps_the_header_and_check_claims_takes_requirements(signer: Signer) -> None:
    header = {"kid": signer.kid, "alg": "RS256", "typ": "JWT"}
    parsed = parse_token(signer.token(make_claims(), header))
    assert parsed.header == header and parsed.kid == signer.kid
    assert "header" not in repr(parsed)
    claims = make_claims(scope="x y", **claim("cognito:groups", ["a"]))
    common: dict[str, Any] = {"token_use": "access", "client_ids": {CLIENT_ID}, "now": NOW, "leeway": 0}
    check_claims(claims, issuer=ISSUER, groups={"a", "b"}, scopes={"y"}, **common)
    check_claims(claims, issuer={ISSUER, UPDATED_ISSUER}, **common)
    for changes, reason in (
        ({"issuer": {UPDATED_ISSUER}}, "issuer"),
        ({"issuer": ISSUER, "groups": {"b"}}, "groups"),
        ({"issuer": ISSUER, "scopes": {"x y"}}, "scope"),
    ):
        with pytest.raises(InvalidToken) as info:
            check_claims(claims, **common, **changes)
        assert info.value.reason == reason


# --- several pools ----------------------------------------------------------------------------------


async def test_one_verifier_serves_two_pools_each_with_its_own_keys(
    jwks_host: JwksHost, http: aiohttp.ClientSession, signer: Signer, rotated: Signer, clock: Clock
) -> None:
    pool_a = jwks_host.add(POOL_ID, signer)
    pool_b = jwks_host.add(POOL_B, rotated)
    verifier = TokenVerifier.multi(
        [
            PoolConfig(POOL_ID, client_ids=CLIENT_ID, jwks_url=pool_a.url),
            PoolConfig(POOL_B, client_ids=["client-b", "client-c"], jwks_url=pool_b.url, groups="admins"),
        ],
        http_session=http,
        clock=clock,
    )
    assert verifier.user_pool_ids == (POOL_ID, POOL_B) and POOL_B in repr(verifier)
    token_a = signer.token(make_claims())
    token_b = rotated.token(
        make_claims(iss=ISSUER_B, client_id="client-b", **claim("cognito:groups", ["admins"]))
    )
    assert (await verifier.verify(token_a))["iss"] == ISSUER
    assert (await verifier.verify(token_b))["iss"] == ISSUER_B
    id_b = rotated.token(
        make_claims("id", iss=ISSUER_B, aud="client-c", **claim("cognito:groups", ["admins"]))
    )
    assert await verifier.verify(id_b, "id")
    assert (pool_a.requests, pool_b.requests) == (1, 1)

    def reason_of(token: str) -> Any:
        async def run() -> str:
            with pytest.raises(InvalidToken) as info:
                await verifier.verify(token)
            return info.value.reason

        return run()

    # Pool A's iss, signed with pool B's key: A's JWKS has no such kid (one refetch of A, none of B).
    assert await reason_of(rotated.token(make_claims())) == "unknown_kid"
    assert (pool_a.requests, pool_b.requests) == (2, 1)
    # Pool B's key under pool A's kid: the signature does not verify with A's key.
    assert await reason_of(rotated.token(make_claims(), {"kid": signer.kid, "alg": "RS256"})) == "signature"
    # Each pool's own client ids and requirements.
    assert await reason_of(signer.token(make_claims(client_id="client-b"))) == "client_id"
    assert await reason_of(rotated.token(make_claims(iss=ISSUER_B))) == "client_id"
    assert await reason_of(rotated.token(make_claims(iss=ISSUER_B, client_id="client-b"))) == "groups"
    assert await verifier.verify(signer.token(make_claims()))  # pool A has no groups requirement
    # An iss no pool accepts: refused before any fetch.
    other = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Stranger"
    assert await reason_of(signer.token(make_claims(iss=other))) == "issuer"
    assert await reason_of(signer.token(make_claims(iss=["list"]))) == "issuer"
    assert (pool_a.requests, pool_b.requests) == (2, 1)
    # Pool A's cool-down is its own: pool B still refetches for an unknown kid.
    assert await reason_of(signer.token(make_claims(), {"kid": "zz", "alg": "RS256"})) == "unknown_kid"
    assert await reason_of(rotated.token(make_claims(iss=ISSUER_B), {"kid": "zz", "alg": "RS256"})) == (
        "unknown_kid"
    )
    assert (pool_a.requests, pool_b.requests) == (2, 2)


def test_multi_configuration_is_checked() -> None:
    with pytest.raises(ConfigurationError):
        TokenVerifier.multi([])
    with pytest.raises(ConfigurationError):
        TokenVerifier.multi([PoolConfig(POOL_ID, client_ids="a"), PoolConfig(POOL_ID, client_ids="b")])
    with pytest.raises(ConfigurationError, match="two pools"):
        TokenVerifier.multi(
            [PoolConfig(POOL_ID, client_ids="a"), PoolConfig(POOL_B, client_ids="b", issuer=ISSUER)]
        )
    with pytest.raises(ConfigurationError):
        TokenVerifier.multi([{"user_pool_id": POOL_ID, "client_ids": "a"}])  # type: ignore[list-item]
    both = TokenVerifier.multi([PoolConfig(POOL_ID, client_ids="a"), PoolConfig(POOL_B, client_ids="b")])
    assert set(both.jwks_urls) == {ISSUER, UPDATED_ISSUER, ISSUER_B, ISSUER_B.replace("//", "//issuer-")}


# --- issuer forms and endpoints ---------------------------------------------------------------------


async def test_updated_issuer_form_is_accepted_and_fetched_from_its_own_url(
    jwks_host: JwksHost, http: aiohttp.ClientSession, signer: Signer, clock: Clock
) -> None:
    state = jwks_host.add(POOL_ID, signer)
    session = Redirect(http, jwks_host.base)
    verifier = TokenVerifier(POOL_ID, client_ids=CLIENT_ID, http_session=session, clock=clock)  # type: ignore[arg-type]
    assert verifier.issuers == (ISSUER, UPDATED_ISSUER) and verifier.issuer == ISSUER
    assert verifier.jwks_urls[UPDATED_ISSUER] == UPDATED_ISSUER + "/.well-known/jwks.json"
    assert (await verifier.verify(signer.token(make_claims(iss=UPDATED_ISSUER))))["iss"] == UPDATED_ISSUER
    assert session.urls == [UPDATED_ISSUER + "/.well-known/jwks.json"]
    # Both forms name the same pool, whose keys are the same: one cache, no second fetch.
    assert (await verifier.verify(signer.token(make_claims(iss=ISSUER))))["iss"] == ISSUER
    assert state.requests == 1
    # An ORIGINAL-form token with a new kid refetches from the ORIGINAL URL.
    with pytest.raises(InvalidToken):
        await verifier.verify(signer.token(make_claims(), {"kid": "new", "alg": "RS256"}))
    assert session.urls[-1] == ISSUER + "/.well-known/jwks.json"
    # Lookalikes of the two forms are not accepted.
    for iss in (
        f"https://issuer.cognito-idp.us-east-1.amazonaws.com/{POOL_ID}",
        f"https://issuer-cognito-idp.us-west-2.amazonaws.com/{POOL_ID}",
        f"http://cognito-idp.us-east-1.amazonaws.com/{POOL_ID}",
        ISSUER + "/",
    ):
        with pytest.raises(InvalidToken) as info:
            await verifier.verify(signer.token(make_claims(iss=iss)))
        assert info.value.reason == "issuer", iss


@pytest.mark.parametrize("region", ["cn-north-1", "cn-northwest-1"])
async def test_china_regions_use_the_amazonaws_com_cn_domain(
    region: str, jwks_host: JwksHost, http: aiohttp.ClientSession, signer: Signer, clock: Clock
) -> None:
    pool = f"{region}_ChinaPool1"
    original = f"https://cognito-idp.{region}.amazonaws.com.cn/{pool}"
    updated = f"https://issuer-cognito-idp.{region}.amazonaws.com.cn/{pool}"
    assert cognito_issuers(pool) == (original, updated)
    jwks_host.add(pool, signer)
    session = Redirect(http, jwks_host.base)
    verifier = TokenVerifier(pool, client_ids=CLIENT_ID, http_session=session, clock=clock)  # type: ignore[arg-type]
    assert verifier.issuers == (original, updated)
    assert verifier.jwks_url == original + "/.well-known/jwks.json"
    for iss in (updated, original):
        assert (await verifier.verify(signer.token(make_claims(iss=iss))))["iss"] == iss
    assert session.urls == [updated + "/.well-known/jwks.json"]
    with pytest.raises(InvalidToken) as info:  # the .com form is another partition's
        await verifier.verify(
            signer.token(make_claims(iss=f"https://cognito-idp.{region}.amazonaws.com/{pool}"))
        )
    assert info.value.reason == "issuer"


async def test_explicit_issuer_list_and_jwks_url_override_the_defaults(
    jwks: JwksServer, http: aiohttp.ClientSession, signer: Signer, clock: Clock
) -> None:
    custom = ["https://auth.example.com/pool", "https://auth2.example.com/pool"]
    verifier = TokenVerifier(
        POOL_ID, client_ids=CLIENT_ID, issuer=custom, jwks_url=jwks.url, http_session=http, clock=clock
    )
    assert verifier.issuers == tuple(custom) and set(verifier.jwks_urls.values()) == {jwks.url}
    for iss in custom:
        assert await verifier.verify(signer.token(make_claims(iss=iss)))
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(signer.token(make_claims()))  # the AWS issuer is no longer accepted
    assert info.value.reason == "issuer"
    assert jwks.requests == 1
    no_url = TokenVerifier(POOL_ID, client_ids=CLIENT_ID, issuer=custom)
    assert no_url.jwks_urls == {i: i + "/.well-known/jwks.json" for i in custom}


async def test_a_client_with_a_custom_endpoint_adds_its_issuer(
    jwks: JwksServer, http: aiohttp.ClientSession, signer: Signer, clock: Clock
) -> None:
    base = jwks.url.split(f"/{POOL_ID}/")[0]
    local_issuer = f"{base}/{POOL_ID}"
    verifier = TokenVerifier(POOL_ID, client_ids=CLIENT_ID, client=StubClient(base + "/", http), clock=clock)
    assert verifier.issuers == (ISSUER, UPDATED_ISSUER, local_issuer)
    assert set(verifier.jwks_urls.values()) == {jwks.url}
    for iss in (local_issuer, ISSUER, UPDATED_ISSUER):
        assert (await verifier.verify(signer.token(make_claims(iss=iss))))["iss"] == iss
    assert jwks.requests == 1

    # Cognito's own endpoints (standard, FIPS, China) are not custom: the AWS issuers and URLs stay.
    for endpoint, region in (
        ("https://cognito-idp.us-east-1.amazonaws.com", "us-east-1"),
        ("https://cognito-idp-fips.us-east-1.amazonaws.com/", "us-east-1"),
        ("https://cognito-idp.cn-north-1.amazonaws.com.cn", "cn-north-1"),
    ):
        aws = TokenVerifier(POOL_ID, client_ids=CLIENT_ID, client=StubClient(endpoint, http, region=region))
        assert aws.issuers == (ISSUER, UPDATED_ISSUER), endpoint
        assert aws.jwks_urls == {i: i + "/.well-known/jwks.json" for i in aws.issuers}


async def test_local_user_pool_tokens_verify_with_only_the_client(local_user_pool: Any) -> None:
    local = local_user_pool
    pool_id = await local.create_user_pool()
    app = await local.create_app_client(
        pool_id, flows=("ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
    )
    await local.create_user(pool_id, "alice", "Passw0rd!", attributes={"email": "alice@example.com"})
    await local.call("CreateGroup", UserPoolId=pool_id, GroupName="admins")
    await local.call("AdminAddUserToGroup", UserPoolId=pool_id, Username="alice", GroupName="admins")
    async with local.client(retries=aiocognito.RetryPolicy(max_attempts=1)) as cognito:
        result = (
            await cognito.initiate_auth(
                ClientId=app.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "alice", "PASSWORD": "Passw0rd!"},
            )
        )["AuthenticationResult"]
        async with TokenVerifier(
            pool_id, client_ids=app.client_id, client=cognito, groups="admins"
        ) as verifier:
            assert local.issuer(pool_id) in verifier.issuers
            access = await verifier.verify(result["AccessToken"], "access")
            identity = await verifier.verify(result["IdToken"], "id")
            assert access["iss"] == local.issuer(pool_id) and access["cognito:groups"] == ["admins"]
            assert identity["email"] == "alice@example.com"
            with pytest.raises(InvalidToken) as info:
                await verifier.verify(result["AccessToken"], groups="auditors")
            assert info.value.reason == "groups"
            with pytest.raises(InvalidToken) as info:
                await verifier.verify(result["AccessToken"], scopes="orders/read")
            assert info.value.reason == "scope"


# --- offline start and hydrate ------------------------------------------------------------------------


async def test_a_jwks_from_a_file_verifies_with_the_network_down(
    tmp_path: Path, http: aiohttp.ClientSession, signer: Signer, rotated: Signer, clock: Clock
) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [signer.public_jwk()]}))
    down = f"http://127.0.0.1:{closed_port()}/{POOL_ID}/.well-known/jwks.json"
    token = signer.token(make_claims())
    for source in (path, str(path)):
        verifier = TokenVerifier(
            POOL_ID, client_ids=CLIENT_ID, jwks=source, jwks_url=down, http_session=http, clock=clock
        )
        assert (await verifier.verify(token))["sub"] == make_claims()["sub"]
        await verifier.hydrate()  # the fetch fails, but the pool has keys: no error
        assert await verifier.verify(token)

    # Stale keys keep answering while the refresh fails in the background.
    clock.now = NOW + 3601
    fresh = signer.token(make_claims(now=clock.now))
    assert await verifier.verify(fresh)
    await background_refresh(verifier)
    assert await verifier.verify(fresh)
    # An unknown kid: the refetch fails, the answer is still a typed refusal.
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(rotated.token(make_claims(now=clock.now)))
    assert info.value.reason == "unknown_kid"

    # Without keys the same verifier setup cannot start.
    cold = TokenVerifier(POOL_ID, client_ids=CLIENT_ID, jwks_url=down, http_session=http, clock=clock)
    with pytest.raises(JwksUnavailable, match="127.0.0.1"):
        await cold.verify(token)
    with pytest.raises(JwksUnavailable, match="127.0.0.1"):
        await cold.hydrate()


async def test_cache_jwks_from_a_dict_text_bytes_or_file(
    tmp_path: Path, http: aiohttp.ClientSession, signer: Signer, rotated: Signer, clock: Clock
) -> None:
    down = f"http://127.0.0.1:{closed_port()}/jwks.json"
    verifier = TokenVerifier.multi(
        [PoolConfig(POOL_ID, client_ids=CLIENT_ID), PoolConfig(POOL_B, client_ids="client-b")],
        http_session=Redirect(http, down.rsplit("/", 1)[0]),  # type: ignore[arg-type]
        clock=clock,
    )
    document = {"keys": [signer.public_jwk()]}
    path_a, path = tmp_path / "a.json", tmp_path / "b.json"
    path_a.write_text(json.dumps(document))
    path.write_text(json.dumps({"keys": [rotated.public_jwk()]}))
    sources: list[Any] = [document, json.dumps(document), json.dumps(document).encode(), path_a, str(path_a)]
    for source in sources:
        verifier.cache_jwks(POOL_ID, source)
        assert await verifier.verify(signer.token(make_claims()))
    verifier.cache_jwks(UPDATED_ISSUER.replace(POOL_ID, POOL_B).replace("us-east-1", "eu-west-1"), path)
    assert await verifier.verify(rotated.token(make_claims(iss=ISSUER_B, client_id="client-b")))
    await verifier.hydrate()  # both pools have keys: the failed fetches are not an error

    bad: list[tuple[str, Any, str]] = [
        ("us-east-1_Stranger", document, "no configured pool"),
        (POOL_ID, {"keys": [{"kty": "EC", "kid": "x"}]}, "no usable RS256 key"),
        (POOL_ID, "{not json", "cannot be used"),
        (POOL_ID, tmp_path / "missing.json", "missing.json"),
        (POOL_ID, 42, "not a JWKS source"),
    ]
    for pool, source, match in bad:
        with pytest.raises(ConfigurationError, match=match):
            verifier.cache_jwks(pool, source)


async def test_hydrate_prefetches_every_pool(
    jwks_host: JwksHost, http: aiohttp.ClientSession, signer: Signer, rotated: Signer, clock: Clock
) -> None:
    pool_a = jwks_host.add(POOL_ID, signer)
    pool_b = jwks_host.add(POOL_B, rotated)
    pool_b.delay = 0.05
    verifier = TokenVerifier.multi(
        [
            PoolConfig(POOL_ID, client_ids=CLIENT_ID, jwks_url=pool_a.url),
            PoolConfig(POOL_B, client_ids="client-b", jwks_url=pool_b.url),
        ],
        http_session=http,
        clock=clock,
    )
    # hydrate and a token arriving meanwhile share pool B's fetch.
    await asyncio.gather(
        verifier.hydrate(), verifier.verify(rotated.token(make_claims(iss=ISSUER_B, client_id="client-b")))
    )
    assert (pool_a.requests, pool_b.requests) == (1, 1)
    assert await verifier.verify(signer.token(make_claims()))
    assert (pool_a.requests, pool_b.requests) == (1, 1)

    pool_b.status = 503
    broken = TokenVerifier.multi(
        [
            PoolConfig(POOL_ID, client_ids=CLIENT_ID, jwks_url=pool_a.url),
            PoolConfig(POOL_B, client_ids="client-b", jwks_url=pool_b.url),
        ],
        http_session=http,
        clock=clock,
    )
    with pytest.raises(JwksUnavailable) as info:
        await broken.hydrate()
    assert pool_b.url in str(info.value) and pool_a.url not in str(info.value)
    assert await broken.verify(signer.token(make_claims()))  # pool A is ready all the same
    assert pool_a.requests == 2


# --- nothing secret anywhere; only InvalidToken for bad tokens -----------------------------------------


async def test_no_token_text_in_errors_logs_or_repr(
    make_verifier: Callable[..., TokenVerifier],
    signer: Signer,
    jwks: JwksServer,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def nosy(header: dict[str, Any], claims: dict[str, Any]) -> None:
        raise ValueError("refused")

    verifier = make_verifier(groups="admins", scopes="orders/read", custom_check=nosy)
    tokens = [
        signer.token(make_claims(**claim("cognito:groups", ["users"]))),
        signer.token(make_claims(**claim("cognito:groups", ["admins"]))),
        signer.token(make_claims(scope="orders/read", **claim("cognito:groups", ["admins"]))),
        signer.token(make_claims(iss="https://evil.example.com")),
        signer.token(make_claims(), {"kid": "nope", "alg": "RS256"}),
    ]
    messages = []
    for token in tokens:  # a warm cache first, then the endpoint down after the cool-down
        with pytest.raises(InvalidToken) as info:
            await verifier.verify(token)
        messages.append(str(info.value))
    jwks.status = 503
    clock.now = NOW + 60
    for token in tokens:
        with pytest.raises(InvalidToken) as info:
            await verifier.verify(token)
        messages.append(str(info.value))
    with pytest.raises(JwksUnavailable) as unavailable:
        await make_verifier().verify(tokens[0])
    messages.append(str(unavailable.value))
    assert "could not be fetched" in caplog.text
    text = "\n".join([*messages, repr(verifier), caplog.text])
    for token in tokens:
        assert_no_token_text(text, token)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    op=st.sampled_from(["replace", "delete", "insert", "truncate", "swap", "duplicate", "bitflip"]),
    pos=st.integers(min_value=0, max_value=10**6),
    char=st.characters(),
    token_use=st.sampled_from(["access", "id"]),
)
async def test_mutated_tokens_are_rejected_by_a_two_pool_verifier_with_every_check(
    op: str,
    pos: int,
    char: str,
    token_use: str,
    jwks: JwksServer,
    http: aiohttp.ClientSession,
    signer: Signer,
    rotated: Signer,
    clock: Clock,
) -> None:
    verifier = TokenVerifier.multi(
        [
            PoolConfig(POOL_ID, client_ids=CLIENT_ID, jwks_url=jwks.url, groups="admins"),
            PoolConfig(POOL_B, client_ids=CLIENT_ID, jwks={"keys": [rotated.public_jwk()]}),
        ],
        http_session=http,
        clock=clock,
        custom_check=lambda header, claims: claims.get("sub") is not None,
    )
    good = signer.token(make_claims(token_use, **claim("cognito:groups", ["admins"])))
    token = _mutate(good, op, pos, char)
    if token == good:
        assert await verifier.verify(good, token_use)  # type: ignore[arg-type]
        return
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(token, token_use)  # type: ignore[arg-type]
    assert info.value.reason in INVALID_TOKEN_REASONS
