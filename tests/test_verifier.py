"""TokenVerifier against tokens signed by local RSA keys and served from a local JWKS, and against moto."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
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
from aiocognito._verifier import INVALID_TOKEN_REASONS, MAX_TOKEN_SIZE, TokenVerifier, parse_jwks

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


async def test_key_rotation_is_picked_up_by_a_rate_limited_refetch(
    make_verifier: Callable[..., TokenVerifier],
    signer: Signer,
    rotated: Signer,
    jwks: JwksServer,
    clock: Clock,
) -> None:
    verifier = make_verifier(min_refetch_interval=60)
    await verifier.verify(signer.token(make_claims()))
    jwks.document = {"keys": [rotated.public_jwk()]}
    new_token = rotated.token(make_claims(iat=int(NOW) + 30))

    clock.now = NOW + 30  # within a minute of the first fetch: no refetch yet
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(new_token)
    assert info.value.reason == "unknown_kid"
    assert jwks.requests == 1

    clock.now = NOW + 61
    assert (await verifier.verify(new_token))["iat"] == int(NOW) + 30
    assert jwks.requests == 2
    # The old key left the JWKS, so its tokens are no longer accepted; no further fetch for that.
    with pytest.raises(InvalidToken) as info:
        await verifier.verify(signer.token(make_claims(iat=int(NOW) + 61)))
    assert info.value.reason == "unknown_kid"
    assert jwks.requests == 2


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
