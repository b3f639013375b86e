"""Managed login as library routes (``aiocognito.web.managed_login``) in FastAPI and aiohttp apps, against a
local pool over HTTP on 127.0.0.1, with :class:`~aiocognito.testing.LoginPages` playing the browser on the
pool's pages: the redirect to the pool (PKCE, state, nonce), the callback's cookies, the signed-in
dependency, a replayed callback, a forged state, a refusal on the callback, refresh of expiring tokens, a
revoked session, sign-out (revocation and the domain's ``/logout``), the store's key names, and no secret
in the logs.

No ``from __future__ import annotations``: FastAPI reads the routes' annotations, which name locals.
"""

import asyncio
import importlib.util
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import aiohttp
import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from fastapi import Depends, FastAPI

from aiocognito import ConfigurationError, MemoryTokenStore
from aiocognito.testing import LocalUserPool, LoginPages
from aiocognito.web import aiohttp as web_aiohttp
from aiocognito.web import fastapi as web_fastapi
from aiocognito.web.backend import CognitoBackend, CognitoSettings
from aiocognito.web.bearer import CognitoClaims
from aiocognito.web.managed_login import ManagedLoginSettings, session_key, start

PUBLIC = "http://localhost:8000"
CALLBACK = PUBLIC + "/auth/callback"
USER, PASSWORD = "nora", "Passw0rd!-web-login"
DOMAIN = "web-login"


@dataclass
class Answer:
    status: int
    location: str
    cookies: SimpleCookie
    body: Any

    def cookie(self, name: str) -> str | None:
        """The value a cookie is set to (None when not set; "" when cleared)."""
        morsel = self.cookies.get(name)
        return None if morsel is None else morsel.value


Get = Callable[[str, dict[str, str]], Awaitable[Answer]]


@dataclass
class Pool:
    local: LocalUserPool
    pool_id: str
    client_id: str
    secret: str
    domain_url: str
    secrets: list[str] = field(default_factory=list)  # what must never be logged

    def settings(self) -> CognitoSettings:
        return CognitoSettings(
            self.pool_id, self.client_id, client_secret=self.secret, endpoint_url=self.local.endpoint_url
        )

    def login_settings(self, **options: Any) -> ManagedLoginSettings:
        options.setdefault("after_sign_in", "/account")
        return ManagedLoginSettings(self.domain_url, PUBLIC, **options)

    async def sessions(self) -> list[dict[str, Any]]:
        listed = await self.local.call("AdminListUserSessions", UserPoolId=self.pool_id, Username=USER)
        return [s for s in listed["Sessions"] if s["ClientId"] == self.client_id]


@pytest.fixture
async def pool() -> AsyncIterator[Pool]:
    async with LocalUserPool() as local:
        pool_id = await local.create_user_pool("web-login")
        await local.call("CreateUserPoolDomain", UserPoolId=pool_id, Domain=DOMAIN)
        await local.call(
            "SetUserPoolSessionConfiguration",
            UserPoolId=pool_id,
            UserSessionTracking="ENABLED",
            TokenSession={"MaxPerUser": 10},
        )
        client = await local.create_app_client(
            pool_id,
            "web",
            secret=True,
            flows=("ALLOW_REFRESH_TOKEN_AUTH",),
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email", "profile"],
            SupportedIdentityProviders=["COGNITO"],
            CallbackURLs=[CALLBACK],
            LogoutURLs=[PUBLIC + "/"],
        )
        await local.create_user(pool_id, USER, PASSWORD, attributes={"email": "nora@example.com"})
        assert client.client_secret is not None
        yield Pool(local, pool_id, client.client_id, client.client_secret, local.domain_url(DOMAIN))


# ----- the two apps ------------------------------------------------------------------------------------
# Each has the library's routes and two of its own: /whoami (the required user, else 401) and /maybe (the
# user or null). Cookies are sent by hand: no cookie jar, so a test can replay and forge at will.


@asynccontextmanager
async def fastapi_app(backend: CognitoBackend) -> AsyncIterator[Get]:
    auth = web_fastapi.CognitoAuth(backend)
    app = FastAPI(lifespan=backend.lifespan)
    web_fastapi.install(app)
    app.include_router(web_fastapi.managed_login_router(backend))

    @app.get("/whoami")
    async def whoami(user: Annotated[CognitoClaims, Depends(auth.browser_user())]) -> dict[str, Any]:
        return {"username": user.username}

    @app.get("/maybe")
    async def maybe(user: Annotated[CognitoClaims | None, Depends(auth.browser_user(required=False))]) -> Any:
        return user and user.username

    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as client:

            async def get(path: str, cookies: dict[str, str]) -> Answer:
                client.cookies.clear()
                headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
                response = await asyncio.wait_for(client.get(path, headers=headers), 15)
                jar: SimpleCookie = SimpleCookie()
                for header in response.headers.get_list("set-cookie"):
                    jar.load(header)
                body = response.json() if response.headers.get("content-type") == "application/json" else None
                return Answer(response.status_code, response.headers.get("location", ""), jar, body)

            yield get


@asynccontextmanager
async def aiohttp_app(backend: CognitoBackend) -> AsyncIterator[Get]:
    auth = web_aiohttp.CognitoAuth(backend)

    @auth.browser_user()
    async def whoami(request: web.Request, user: CognitoClaims) -> web.Response:
        return web.json_response({"username": user.username})

    async def maybe(request: web.Request) -> web.Response:
        user = await auth.browser_claims(request)
        return web.json_response(user and user.username)

    app = web.Application()
    web_aiohttp.setup(app, backend)  # the managed-login routes come with the backend's settings
    app.router.add_get("/whoami", whoami)
    app.router.add_get("/maybe", maybe)
    async with serving(app) as get:
        yield get


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[Get]:
    """An aiohttp app on 127.0.0.1, and a GET with cookies sent by hand."""
    server = TestServer(app, host="127.0.0.1")
    # the default access log's %r would show the callback's code: the library's logger leaves out queries
    await server.start_server(access_log_class=web_aiohttp.AccessLogWithoutQuery)
    async with TestClient(server, cookie_jar=aiohttp.DummyCookieJar()) as client:

        async def get(path: str, cookies: dict[str, str]) -> Answer:
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
            async with asyncio.timeout(15):
                response = await client.get(path, headers=headers, allow_redirects=False)
                jar: SimpleCookie = SimpleCookie()
                for header in response.headers.getall("Set-Cookie", []):
                    jar.load(header)
                body = await response.json() if response.content_type == "application/json" else None
            return Answer(response.status, response.headers.get("Location", ""), jar, body)

        yield get


APPS: dict[str, Callable[[CognitoBackend], AbstractAsyncContextManager[Get]]] = {
    "fastapi": fastapi_app,
    "aiohttp": aiohttp_app,
}


@pytest.fixture(params=sorted(APPS))
def make_app(request: pytest.FixtureRequest) -> Callable[[CognitoBackend], AbstractAsyncContextManager[Get]]:
    return APPS[request.param]


def path_of(url: str) -> str:
    """``url`` as a request path (with its query), for the app under test."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC, url
    return urlunsplit(("", "", parts.path, parts.query, ""))


async def to_the_pool(pool: Pool, get: Get) -> tuple[str, str]:
    """``GET /login``: the authorize URL and the login cookie."""
    answer = await get("/login", {})
    assert answer.status == 302
    login_cookie = answer.cookie("aiocognito_session_login")
    assert login_cookie
    pool.secrets.append(login_cookie)
    return answer.location, login_cookie


async def through_the_pages(pool: Pool, authorize_url: str) -> str:
    """The pool's sign-in page, as a browser: the callback URL (with its code and state)."""
    async with LoginPages() as pages:
        callback = await asyncio.wait_for(pages.sign_in(authorize_url, USER, PASSWORD), 15)
    assert callback.startswith(CALLBACK + "?"), callback
    pool.secrets.extend(parse_qs(urlsplit(callback).query)["code"])
    return callback


async def signed_in(pool: Pool, get: Get) -> tuple[str, str]:
    """A whole sign-in: the session cookie, and the callback URL it came from."""
    authorize_url, login_cookie = await to_the_pool(pool, get)
    callback = await through_the_pages(pool, authorize_url)
    answer = await get(path_of(callback), {"aiocognito_session_login": login_cookie})
    assert (answer.status, answer.location) == (302, PUBLIC + "/account")
    session_cookie = answer.cookie("aiocognito_session")
    assert session_cookie
    pool.secrets.append(session_cookie)
    return session_cookie, callback


def stored_tokens(backend: CognitoBackend, session_cookie: str) -> dict[str, Any]:
    store = backend.browser_sessions
    assert isinstance(store, MemoryTokenStore)
    tokens: dict[str, Any] = store._data[session_key(session_cookie)]["tokens"]
    return tokens


def assert_no_secrets(pool: Pool, caplog: pytest.LogCaptureFixture) -> None:
    # httpx logs the URLs the test (the browser's part) requests: those are not the app's logs
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records if not r.name.startswith("httpx"))
    assert "managed login" in text
    for secret in [PASSWORD, pool.secret, *pool.secrets]:
        assert secret and secret not in text


# ----- the journey -------------------------------------------------------------------------------------


async def test_sign_in_use_and_sign_out(
    pool: Pool,
    make_app: Callable[[CognitoBackend], AbstractAsyncContextManager[Get]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    backend = CognitoBackend(pool.settings(), managed_login=pool.login_settings(after_sign_out="/"))
    async with make_app(backend) as get:
        # /login: to the pool's authorize endpoint with PKCE (S256), state and nonce; the login cookie
        answer = await get("/login", {})
        assert answer.status == 302
        authorize = urlsplit(answer.location)
        assert (
            f"{authorize.scheme}://{authorize.netloc}{authorize.path}"
            == pool.domain_url + "/oauth2/authorize"
        )
        query = {k: v[0] for k, v in parse_qs(authorize.query).items()}
        assert query["response_type"] == "code" and query["client_id"] == pool.client_id
        assert query["redirect_uri"] == CALLBACK and query["code_challenge_method"] == "S256"
        assert len(query["code_challenge"]) == 43 and query["state"] and query["nonce"]
        assert set(query["scope"].split()) == {"openid", "email", "profile"}
        login = answer.cookies["aiocognito_session_login"]
        assert login["httponly"] and login["path"] == "/auth/callback" and login["samesite"].lower() == "lax"
        assert not login["secure"] and 0 < int(login["max-age"]) <= 900  # http://localhost: no Secure
        login_cookie = login.value
        pool.secrets += [login_cookie, query["state"], query["nonce"]]

        # the pool's pages, then the callback: a session cookie, the login cookie cleared
        callback = await through_the_pages(pool, answer.location)
        answer = await get(path_of(callback), {"aiocognito_session_login": login_cookie})
        assert (answer.status, answer.location) == (302, PUBLIC + "/account")
        session = answer.cookies["aiocognito_session"]
        assert session["httponly"] and session["path"] == "/" and session["samesite"].lower() == "lax"
        assert int(session["max-age"]) == 30 * 86400
        assert answer.cookie("aiocognito_session_login") == ""  # cleared
        session_cookie = session.value
        pool.secrets.append(session_cookie)

        # the dependency sees the user; without the cookie (or with another) nobody is signed in
        assert (await get("/whoami", {"aiocognito_session": session_cookie})).body == {"username": USER}
        assert (await get("/maybe", {"aiocognito_session": session_cookie})).body == USER
        refused = await get("/whoami", {})
        assert (refused.status, refused.body["error"]) == (401, "not_signed_in")
        assert (await get("/whoami", {"aiocognito_session": "x" + session_cookie})).status == 401
        assert (await get("/maybe", {})).body is None

        # the tokens are on the server, under a hash of the cookie; the pending login is gone (one use)
        store = backend.browser_sessions
        assert isinstance(store, MemoryTokenStore)
        assert list(store._data) == [session_key(session_cookie)]
        assert all(session_cookie not in key and login_cookie not in key for key in store._data)
        tokens = stored_tokens(backend, session_cookie)
        pool.secrets += [tokens["access_token"], tokens["id_token"], tokens["refresh_token"]]
        assert len(backend.store) == 0  # type: ignore[arg-type]
        [tracked] = await pool.sessions()

        # the same callback again (a replay, a second tab): refused cleanly, no session
        again = await get(path_of(callback), {"aiocognito_session_login": login_cookie})
        assert (again.status, again.location) == (302, PUBLIC + "/account?error=login_expired")
        assert again.cookie("aiocognito_session") is None
        assert list(store._data) == [session_key(session_cookie)]

        # sign-out: the refresh token revoked, the domain's /logout, the cookie cleared, the session gone
        out = await get("/logout", {"aiocognito_session": session_cookie})
        assert out.status == 302 and out.cookie("aiocognito_session") == ""
        logout = urlsplit(out.location)
        assert f"{logout.scheme}://{logout.netloc}{logout.path}" == pool.domain_url + "/logout"
        assert parse_qs(logout.query) == {"client_id": [pool.client_id], "logout_uri": [PUBLIC + "/"]}
        assert await pool.sessions() == []
        assert tracked["ClientId"] == pool.client_id
        assert (await get("/whoami", {"aiocognito_session": session_cookie})).status == 401
        assert store._data == {}

        # signed out already: the same redirect
        assert (await get("/logout", {})).location == out.location
    if make_app is aiohttp_app:  # the access log has the callback's path, not its query
        access = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
        assert any('"GET /auth/callback" 302' in line for line in access), access
    assert_no_secrets(pool, caplog)


async def test_a_forged_state_a_refusal_and_a_missing_login_cookie(
    pool: Pool,
    make_app: Callable[[CognitoBackend], AbstractAsyncContextManager[Get]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    backend = CognitoBackend(pool.settings(), managed_login=pool.login_settings())
    async with make_app(backend) as get:
        authorize_url, login_cookie = await to_the_pool(pool, get)
        callback = await through_the_pages(pool, authorize_url)
        parts = urlsplit(callback)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        forged = parts._replace(query=urlencode({**query, "state": "forged-state"})).geturl()
        answer = await get(path_of(forged), {"aiocognito_session_login": login_cookie})
        assert (answer.status, answer.location) == (302, PUBLIC + "/account?error=state_mismatch")
        assert answer.cookie("aiocognito_session") is None and answer.cookie("aiocognito_session_login") == ""
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert warnings == ["managed login: callback refused: StateMismatch"]
        # the pending login was spent on the forgery: the real callback now finds none
        answer = await get(path_of(callback), {"aiocognito_session_login": login_cookie})
        assert answer.location == PUBLIC + "/account?error=login_expired"
        assert answer.cookie("aiocognito_session") is None

        # Cognito's refusal on the callback, with the right state: its error word, nothing else
        authorize_url, login_cookie = await to_the_pool(pool, get)
        state = parse_qs(urlsplit(authorize_url).query)["state"][0]
        refusal = "/auth/callback?" + urlencode(
            {"error": "access_denied", "error_description": "no", "state": state}
        )
        answer = await get(refusal, {"aiocognito_session_login": login_cookie})
        assert answer.location == PUBLIC + "/account?error=access_denied"
        # an error word that is not one is not passed on
        authorize_url, login_cookie = await to_the_pool(pool, get)
        state = parse_qs(urlsplit(authorize_url).query)["state"][0]
        odd = "/auth/callback?" + urlencode({"error": "<b>Hi</b>", "state": state})
        answer = await get(odd, {"aiocognito_session_login": login_cookie})
        assert answer.location == PUBLIC + "/account?error=oauth_error"

        # no login cookie at all (cookies blocked, another browser)
        answer = await get(path_of(callback), {})
        assert answer.location == PUBLIC + "/account?error=login_expired"
        assert backend.browser_sessions._data == {}  # type: ignore[attr-defined]
    assert_no_secrets(pool, caplog)


async def test_expiring_tokens_are_refreshed_and_a_revoked_session_ends(
    pool: Pool,
    make_app: Callable[[CognitoBackend], AbstractAsyncContextManager[Get]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    pool.local.set_token_lifetimes(pool.client_id, access=30, id_token=30)  # under the one-minute margin
    backend = CognitoBackend(pool.settings(), managed_login=pool.login_settings())
    async with make_app(backend) as get:
        session_cookie, _ = await signed_in(pool, get)
        first = stored_tokens(backend, session_cookie)
        pool.secrets += [first["access_token"], first["refresh_token"]]
        assert (await get("/whoami", {"aiocognito_session": session_cookie})).body == {"username": USER}
        second = stored_tokens(backend, session_cookie)
        assert second["access_token"] != first["access_token"]  # refreshed, and saved
        assert second["refresh_token"] == first["refresh_token"]
        pool.secrets.append(second["access_token"])
        assert "managed login: tokens refreshed" in caplog.text

        # revoked elsewhere (another tab's sign-out, an admin): the next refresh ends the session
        await backend.managed_login.revoke(first["refresh_token"])
        refused = await get("/whoami", {"aiocognito_session": session_cookie})
        assert (refused.status, refused.body["error"]) == (401, "not_signed_in")
        assert backend.browser_sessions._data == {}  # type: ignore[attr-defined]
    assert_no_secrets(pool, caplog)


async def test_a_new_sign_in_drops_the_old_session_and_old_sessions_expire(
    pool: Pool, make_app: Callable[[CognitoBackend], AbstractAsyncContextManager[Get]]
) -> None:
    backend = CognitoBackend(pool.settings(), managed_login=pool.login_settings())
    async with make_app(backend) as get:
        first, _ = await signed_in(pool, get)
        authorize_url, login_cookie = await to_the_pool(pool, get)
        callback = await through_the_pages(pool, authorize_url)
        answer = await get(
            path_of(callback), {"aiocognito_session_login": login_cookie, "aiocognito_session": first}
        )
        second = answer.cookie("aiocognito_session")
        assert second and second != first
        store = backend.browser_sessions
        assert isinstance(store, MemoryTokenStore)
        assert list(store._data) == [session_key(second)]  # the planted or old session is gone

        # past session_ttl the session is over, whatever its tokens
        entry = store._data[session_key(second)]
        await store.save(session_key(second), {**entry, "expires_at": 0})
        assert (await get("/whoami", {"aiocognito_session": second})).status == 401
        assert store._data == {}


async def test_sign_out_when_the_revocation_fails(
    pool: Pool,
    make_app: Callable[[CognitoBackend], AbstractAsyncContextManager[Get]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    backend = CognitoBackend(pool.settings(), managed_login=pool.login_settings())
    async with make_app(backend) as get:
        session_cookie, _ = await signed_in(pool, get)
        tokens = stored_tokens(backend, session_cookie)
        pool.secrets += [tokens["access_token"], tokens["id_token"], tokens["refresh_token"]]
        await pool.local.call("DeleteUserPoolDomain", UserPoolId=pool.pool_id, Domain=DOMAIN)
        out = await get("/logout", {"aiocognito_session": session_cookie})
        assert out.status == 302 and out.location.startswith(pool.domain_url + "/logout?")
        assert out.cookie("aiocognito_session") == ""
        assert backend.browser_sessions._data == {}  # type: ignore[attr-defined]  # signed out here anyway
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and warnings[0].startswith(
            "managed login: revoking the refresh token failed: "
        )
    assert_no_secrets(pool, caplog)


async def test_the_aiohttp_example(pool: Pool, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    spec = importlib.util.spec_from_file_location(
        "_aiocognito_example_aiohttp_backend",
        Path(__file__).parent.parent / "examples" / "aiohttp_backend.py",
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.make_app(pool.settings(), domain_url=pool.domain_url, public_url=PUBLIC)
    async with serving(app) as get:
        assert (await get("/account", {})).status == 401
        session_cookie, _ = await signed_in(pool, get)  # back to /account
        assert (await get("/account", {"aiocognito_session": session_cookie})).body["username"] == USER
        out = await get("/logout", {"aiocognito_session": session_cookie})
        assert parse_qs(urlsplit(out.location).query)["logout_uri"] == [PUBLIC + "/"]
        assert await pool.sessions() == []
    assert_no_secrets(pool, caplog)


# ----- settings and configuration ----------------------------------------------------------------------


async def test_https_apps_get_secure_cookies(pool: Pool) -> None:
    settings = ManagedLoginSettings(pool.domain_url, "https://app.example/shop/", callback_path="/cb")
    assert settings.public_url == "https://app.example/shop" and settings.secure
    assert settings.redirect_uri == "https://app.example/shop/cb"
    assert settings.logout_uri == "https://app.example/shop/"
    async with CognitoBackend(pool.settings(), managed_login=settings) as backend:
        redirect = await start(backend)
        [cookie] = redirect.set_cookies
        assert cookie.secure and cookie.http_only and cookie.path == "/shop/cb"
        assert parse_qs(urlsplit(redirect.location).query)["redirect_uri"] == ["https://app.example/shop/cb"]
        assert "location" not in repr(redirect) and cookie.value not in repr(redirect)
    with pytest.raises(RuntimeError):
        backend.managed_login  # noqa: B018  (closed with the backend)


@pytest.mark.parametrize(
    "options",
    [
        {"public_url": "ftp://app.example"},
        {"public_url": "https://app.example/?next=1"},
        {"callback_path": "auth/callback"},
        {"after_sign_in": "//evil.example/"},
        {"scopes": ()},
        {"cookie_name": "bad name"},
        {"session_ttl": 0},
        {"domain_url": "http://login.example.com"},  # plain http only on loopback
    ],
)
def test_settings_are_checked(options: dict[str, Any]) -> None:
    values: dict[str, Any] = {"domain_url": "https://login.example.com", "public_url": PUBLIC, **options}
    with pytest.raises(ConfigurationError):
        ManagedLoginSettings(**values)


async def test_without_managed_login_the_helpers_refuse(pool: Pool) -> None:
    backend = CognitoBackend(pool.settings())
    with pytest.raises(RuntimeError, match="no managed login"):
        backend.managed_login  # noqa: B018
    with pytest.raises(TypeError):
        web_fastapi.CognitoAuth(backend).browser_user()
    with pytest.raises(TypeError):
        web_fastapi.managed_login_router(backend)
    with pytest.raises(TypeError):
        web_aiohttp.CognitoAuth(backend).browser_user()
    app = web.Application()
    web_aiohttp.setup(app, backend)  # no managed-login routes without settings
    assert "/login" not in {r.resource.canonical for r in app.router.routes() if r.resource is not None}


async def test_uvicorns_access_log_keeps_no_query_string(caplog: pytest.LogCaptureFixture) -> None:
    """A callback's query (the code and the state) reaches uvicorn's access log only as the path."""
    from browser import uvicorn_serving

    app = FastAPI()

    @app.get("/auth/callback")
    async def callback() -> dict[str, str]:
        return {}

    web_fastapi.hide_query_strings()
    web_fastapi.hide_query_strings()  # idempotent
    assert len(logging.getLogger("uvicorn.access").filters) == 1
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    async with uvicorn_serving(app, access_log=True) as port, httpx.AsyncClient() as http:
        answer = await http.get(f"http://127.0.0.1:{port}/auth/callback?code=secret-code&state=secret-state")
        assert answer.status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any('"GET /auth/callback HTTP/1.1" 200' in line for line in lines), lines
    assert not any("secret" in line for line in lines)
