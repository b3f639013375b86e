"""The OAuth client's pure parts (no server): PKCE and the authorize URL, the pending login, reading the
callback, the logout URL, reading the endpoints' answers, and the token cache's single flight."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import aiocognito
from aiocognito import ParamValidationError, ProtocolError, ResponseParseError, ServiceError
from aiocognito.errors import ConfigurationError
from aiocognito.oauth import (
    AccessDenied,
    InvalidBearerToken,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    ManagedLogin,
    OAuthError,
    OpenIdConfiguration,
    PendingLogin,
    PendingLoginError,
    StateMismatch,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from aiocognito.oauth._pkce import check_domain_url, code_from_callback, new_pending_login, s256_challenge
from aiocognito.oauth._responses import answer_error, client_token, token_set
from aiocognito.oauth._token_cache import TokenCache, scope_key

DOMAIN = "https://myapp.auth.eu-west-1.amazoncognito.com"
CALLBACK = "https://app.example/callback"
# RFC 7636, appendix B.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def fixed_tokens(length: int) -> str:
    """A token_factory: the RFC's verifier for the verifier, recognisable values for state and nonce."""
    return RFC_VERIFIER if length == 64 else ("s" if length == 32 else "x") * length


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def jwt(claims: dict[str, Any]) -> str:
    import base64

    def seg(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'RS256', 'kid': 'k'})}.{seg(claims)}.c2lnbmF0dXJl"


# ----- PKCE and the authorize URL -------------------------------------------------------------------------


def test_s256_challenge_is_rfc7636_appendix_b() -> None:
    assert s256_challenge(RFC_VERIFIER) == RFC_CHALLENGE


def test_authorize_url_carries_what_cognito_reads() -> None:
    login = ManagedLogin(
        DOMAIN + "/", "client123", redirect_uri=CALLBACK, token_factory=fixed_tokens, clock=lambda: 1000.0
    )
    pending = login.start(identity_provider="COGNITO", prompt="login", lang="fr")
    parts = urlsplit(pending.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == DOMAIN + "/oauth2/authorize"
    q = query(pending.url)
    assert {k: v[0] for k, v in q.items()} == {
        "response_type": "code",
        "client_id": "client123",
        "redirect_uri": CALLBACK,
        "scope": "openid email profile",
        "state": "s" * 32,
        "nonce": "s" * 32,
        "code_challenge": RFC_CHALLENGE,
        "code_challenge_method": "S256",
        "identity_provider": "COGNITO",
        "prompt": "login",
        "lang": "fr",
    }
    assert all(len(v) == 1 for v in q.values())
    assert pending.code_verifier == RFC_VERIFIER
    assert pending.created_at == 1000.0 and pending.redirect_uri == CALLBACK
    assert pending.client_id == "client123"


def test_start_uses_given_state_and_nonce_and_scopes_and_fresh_randomness() -> None:
    login = ManagedLogin(DOMAIN, "client123", redirect_uri=CALLBACK)
    a, b = login.start(), login.start()
    assert len({a.state, b.state, a.nonce, b.nonce, a.code_verifier, b.code_verifier}) == 6
    assert 43 <= len(a.code_verifier) <= 128
    given = login.start(
        state="my-state", nonce="my-nonce", scopes=["openid", "orders/read"], idp_identifier="corp"
    )
    q = query(given.url)
    assert q["state"] == ["my-state"] and q["nonce"] == ["my-nonce"] and given.nonce == "my-nonce"
    assert q["scope"] == ["openid orders/read"] and q["idp_identifier"] == ["corp"]
    assert "identity_provider" not in q and "prompt" not in q
    # Without openid there is no ID token, so no nonce is sent or checked.
    plain = login.start(scopes=["email"])
    assert "nonce" not in query(plain.url) and plain.nonce == ""
    with pytest.raises(ParamValidationError):
        login.start(scopes="openid email")  # type: ignore[arg-type]


def test_token_factory_must_make_a_valid_verifier() -> None:
    with pytest.raises(ParamValidationError):
        new_pending_login(
            DOMAIN, "c", redirect_uri=CALLBACK, scopes=["openid"], now=0, token_factory=lambda n: "short"
        )


def test_domain_url_must_be_https_or_loopback() -> None:
    assert (
        check_domain_url("http://127.0.0.1:9229/managed-login/app/")
        == "http://127.0.0.1:9229/managed-login/app"
    )
    for bad in ("http://myapp.auth.eu-west-1.amazoncognito.com", "ftp://x", "https://x/?a=1", "no-url"):
        with pytest.raises(ConfigurationError):
            check_domain_url(bad)


# ----- PendingLogin ----------------------------------------------------------------------------------------


def test_pending_login_round_trips_through_json_and_hides_its_secrets() -> None:
    login = ManagedLogin(DOMAIN, "client123", redirect_uri=CALLBACK, clock=lambda: 1234.5)
    pending = login.start()
    data = json.loads(json.dumps(pending.to_dict()))
    assert data["version"] == 1
    again = PendingLogin.from_dict(data)
    assert again == pending
    for text in (repr(pending), str(pending)):
        for secret in (pending.code_verifier, pending.state, pending.nonce):
            assert secret not in text
    assert "1234.5" in repr(pending) and CALLBACK in repr(pending)


@pytest.mark.parametrize(
    "change",
    [
        {"version": 2},
        {"version": None},
        {"code_verifier": None},
        {"code_verifier": "short"},
        {"code_verifier": "a" * 42 + "!"},
        {"state": ""},
        {"url": 7},
        {"created_at": "yesterday"},
        {"created_at": float("nan")},
        {"created_at": True},
    ],
)
def test_pending_login_from_bad_data_is_a_typed_error(change: dict[str, Any]) -> None:
    data = ManagedLogin(DOMAIN, "c", redirect_uri=CALLBACK).start().to_dict()
    data.update(change)
    with pytest.raises(PendingLoginError) as caught:
        PendingLogin.from_dict(data)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, aiocognito.CognitoError)
    assert data["code_verifier"] is None or str(data["code_verifier"]) not in str(caught.value)
    with pytest.raises(PendingLoginError):
        PendingLogin.from_dict([1, 2])  # type: ignore[arg-type]


# ----- the callback -----------------------------------------------------------------------------------------


def pending_with_state(state: str = "good-state") -> PendingLogin:
    return ManagedLogin(DOMAIN, "c", redirect_uri=CALLBACK).start(state=state)


def test_callback_gives_the_code_when_state_matches() -> None:
    assert (
        code_from_callback(pending_with_state(), f"{CALLBACK}?code=the-code&state=good-state") == "the-code"
    )


@pytest.mark.parametrize(
    "callback",
    [
        f"{CALLBACK}?code=the-code&state=other",
        f"{CALLBACK}?code=the-code",
        f"{CALLBACK}?code=the-code&state=",
        f"{CALLBACK}?error=access_denied&state=other",  # a forged error is not believed either
    ],
)
def test_state_mismatch_is_refused_before_anything_is_sent(callback: str) -> None:
    with pytest.raises(StateMismatch) as caught:
        code_from_callback(pending_with_state(), callback)
    assert "the-code" not in str(caught.value) and "good-state" not in str(caught.value)
    assert isinstance(caught.value, OAuthError)


@pytest.mark.parametrize(
    ("error", "cls"),
    [
        ("access_denied", AccessDenied),
        ("invalid_scope", InvalidScope),
        ("unauthorized_client", UnauthorizedClient),
        ("invalid_request", InvalidRequest),
        ("server_error", OAuthError),
    ],
)
def test_callback_with_error_raises_its_typed_error(error: str, cls: type[OAuthError]) -> None:
    url = f"{CALLBACK}?error={error}&error_description=User+cancelled+login&state=good-state"
    with pytest.raises(cls) as caught:
        code_from_callback(pending_with_state(), url)
    assert type(caught.value) is cls
    assert caught.value.error == error and caught.value.description == "User cancelled login"
    assert caught.value.status is None
    assert str(caught.value) == f"{error}: User cancelled login"


def test_callback_without_code_or_with_repeats_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest):
        code_from_callback(pending_with_state(), f"{CALLBACK}?state=good-state")
    with pytest.raises(InvalidRequest):
        code_from_callback(pending_with_state(), f"{CALLBACK}?code=a&code=b&state=good-state")


async def test_finish_refuses_a_pending_login_of_another_client_before_sending() -> None:
    pending = ManagedLogin(DOMAIN, "other", redirect_uri=CALLBACK).start(state="s1")
    async with ManagedLogin(DOMAIN, "client123", redirect_uri=CALLBACK) as login:
        with pytest.raises(PendingLoginError):
            await login.finish(pending, f"{CALLBACK}?code=x&state=s1")
        with pytest.raises(StateMismatch):  # no request: the domain does not exist
            await login.finish(login.start(state="s2"), f"{CALLBACK}?code=x&state=s1")


# ----- logout -----------------------------------------------------------------------------------------------


def test_logout_url_has_cognitos_two_forms() -> None:
    login = ManagedLogin(DOMAIN, "client123", redirect_uri=CALLBACK, scopes=("openid", "email"))
    out = login.logout_url(logout_uri="https://app.example/bye")
    assert out.startswith(DOMAIN + "/logout?")
    assert query(out) == {"client_id": ["client123"], "logout_uri": ["https://app.example/bye"]}
    again = login.logout_url(redirect_uri=CALLBACK, state="st")
    assert query(again) == {
        "client_id": ["client123"],
        "redirect_uri": [CALLBACK],
        "response_type": ["code"],
        "state": ["st"],
        "scope": ["openid email"],
    }
    for bad in ({}, {"logout_uri": "a", "redirect_uri": "b"}):
        with pytest.raises(ParamValidationError):
            login.logout_url(**bad)


# ----- answers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "cls"),
    [
        ("invalid_request", 400, InvalidRequest),
        ("invalid_client", 401, InvalidClient),
        ("invalid_client", 400, InvalidClient),
        ("invalid_grant", 400, InvalidGrant),
        ("unauthorized_client", 400, UnauthorizedClient),
        ("unsupported_grant_type", 400, UnsupportedGrantType),
        ("invalid_scope", 400, InvalidScope),
        ("unsupported_token_type", 400, OAuthError),
    ],
)
def test_oauth_error_answers_map_to_typed_errors(error: str, status: int, cls: type[OAuthError]) -> None:
    body = json.dumps({"error": error, "error_description": "said the server"}).encode()
    err = answer_error(status, {}, body, "token:authorization_code")
    assert type(err) is cls and err.error == error and err.status == status  # type: ignore[attr-defined]
    assert err.description == "said the server"  # type: ignore[attr-defined]
    assert isinstance(err, aiocognito.errors.OAuthError)


def test_other_answers_map_to_the_projects_errors() -> None:
    bearer = answer_error(
        401,
        {"WWW-Authenticate": 'Bearer error="invalid_token", error_description="Access token is expired"'},
        b"",
        "userInfo",
    )
    assert isinstance(bearer, InvalidBearerToken) and bearer.description == "Access token is expired"
    throttled = answer_error(429, {}, b"slow down", "token:client_credentials")
    assert isinstance(throttled, ServiceError) and throttled.code == "TooManyRequestsException"
    server = answer_error(503, {}, b'{"error":"server_error"}', "token:refresh_token")
    assert isinstance(server, ServiceError) and server.status == 503 and server.code == "server_error"
    page = answer_error(502, {}, b"<html>bad gateway</html>", "token:refresh_token")
    assert isinstance(page, ResponseParseError) and page.status == 502
    html = answer_error(400, {}, b"<html>error</html>", "token:authorization_code")
    assert isinstance(html, ResponseParseError) and html.status == 400
    leaked = answer_error(
        400, {}, json.dumps({"error": "invalid_grant", "error_description": "x" * 64}).encode(), "t"
    )
    assert "x" * 64 not in str(leaked)  # a long opaque run (a token echoed back) is redacted


def test_token_answers_become_token_sets() -> None:
    access = jwt({"username": "alice", "exp": 2000, "iat": 1000, "token_use": "access"})
    ident = jwt({"cognito:username": "alice", "sub": "u-1", "exp": 2000, "iat": 1000})
    answer = {
        "access_token": access,
        "id_token": ident,
        "refresh_token": "r1",
        "expires_in": 3600,
        "token_type": "Bearer",
    }
    tokens = token_set(answer, received_at=10.0, received_monotonic=5.0)
    assert (tokens.access_token, tokens.id_token, tokens.refresh_token) == (access, ident, "r1")
    assert tokens.expires_in == 3600 and tokens.username == "alice" and tokens.sub == "u-1"
    refreshed = token_set(
        {**answer, "refresh_token": None}, received_at=10, received_monotonic=5, refresh_token="r0"
    )
    assert refreshed.refresh_token == "r0"
    no_openid = token_set({"access_token": access, "expires_in": 60}, received_at=1, received_monotonic=1)
    assert no_openid.id_token == "" and no_openid.token_type == "Bearer"
    for bad in ({"expires_in": 0}, {"expires_in": "3600"}, {"access_token": "opaque"}, {"id_token": 5}):
        with pytest.raises(ProtocolError):
            token_set({**answer, **bad}, received_at=1, received_monotonic=1)
    assert client_token({"access_token": access, "expires_in": 3600}) == (access, 3600)
    with pytest.raises(ProtocolError):
        client_token({"expires_in": 3600})


def test_openid_configuration_reads_the_document() -> None:
    doc = {
        "issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A",
        "jwks_uri": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A/.well-known/jwks.json",
        "authorization_endpoint": DOMAIN + "/oauth2/authorize",
        "token_endpoint": DOMAIN + "/oauth2/token",
        "scopes_supported": ["openid", "email"],
    }
    config = OpenIdConfiguration.from_document(doc)
    assert config.domain_url == DOMAIN and config.scopes_supported == ("openid", "email")
    assert config.userinfo_endpoint is None
    login = ManagedLogin.from_discovery(config, "client123", redirect_uri=CALLBACK)
    assert login.domain_url == DOMAIN
    with pytest.raises(ProtocolError):
        OpenIdConfiguration.from_document({"issuer": "x"})
    with pytest.raises(ConfigurationError):
        ManagedLogin.from_discovery(OpenIdConfiguration("i", "j"), "c", redirect_uri=CALLBACK)


# ----- the token cache --------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_token_cache_shares_one_fetch_and_renews_once() -> None:
    clock = Clock()
    calls: list[tuple[str, ...]] = []
    gate = asyncio.Event()

    async def fetch(scopes: tuple[str, ...]) -> tuple[str, int]:
        calls.append(scopes)
        await gate.wait()
        return f"token-{len(calls)}", 3600

    cache = TokenCache(fetch, renew_before=60, clock=clock)
    key = scope_key(["b/x", "a/y", "b/x"])
    waiters = [asyncio.ensure_future(cache.get(key)) for _ in range(1000)]
    await asyncio.sleep(0)
    gate.set()
    got = await asyncio.wait_for(asyncio.gather(*waiters), 5)
    assert set(got) == {"token-1"} and calls == [("a/y", "b/x")] and cache.fetches == 1
    assert await cache.get(scope_key(["a/y", "b/x"])) == "token-1"  # order-insensitive
    clock.now += 3600 - 61
    assert await cache.get(key) == "token-1"
    clock.now += 2  # inside renew_before: renewed once for many callers
    got = await asyncio.wait_for(asyncio.gather(*(cache.get(key) for _ in range(200))), 5)
    assert set(got) == {"token-2"} and len(calls) == 2
    await cache.aclose()


async def test_token_cache_failure_reaches_every_waiter_and_is_not_cached() -> None:
    attempts = 0

    async def fetch(scopes: tuple[str, ...]) -> tuple[str, int]:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.01)
        if attempts == 1:
            raise InvalidClient(None, "bad secret", status=400)
        return "fresh", 20

    cache = TokenCache(fetch, renew_before=60, clock=Clock())
    results = await asyncio.wait_for(
        asyncio.gather(*(cache.get(frozenset()) for _ in range(50)), return_exceptions=True), 5
    )
    assert all(isinstance(r, InvalidClient) for r in results) and attempts == 1
    assert await asyncio.wait_for(cache.get(frozenset()), 5) == "fresh" and attempts == 2
    # renew_before longer than the lifetime: renewed at half of it, not on every call.
    assert await cache.get(frozenset()) == "fresh" and attempts == 2


async def test_a_cancelled_caller_does_not_cancel_the_fetch_for_the_others() -> None:
    gate = asyncio.Event()

    async def fetch(scopes: tuple[str, ...]) -> tuple[str, int]:
        await gate.wait()
        return "t", 3600

    cache = TokenCache(fetch, renew_before=60, clock=Clock())
    first = asyncio.ensure_future(cache.get(frozenset()))
    second = asyncio.ensure_future(cache.get(frozenset()))
    await asyncio.sleep(0)
    first.cancel()
    gate.set()
    assert await asyncio.wait_for(second, 5) == "t" and first.cancelled() and cache.fetches == 1
    cache.invalidate()
    gate.clear()
    third = asyncio.ensure_future(cache.get(frozenset()))
    await asyncio.sleep(0)
    await cache.aclose()  # stops the fetch in flight
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(third, 5)


def test_scope_key_refuses_a_single_string() -> None:
    with pytest.raises(ConfigurationError):
        scope_key("orders/read")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        scope_key(["a b"])
