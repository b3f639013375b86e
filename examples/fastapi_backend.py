"""A FastAPI web backend: sign-in (MFA answered in a second request), the account flows, bearer checks.

    pip install 'aiocognito[fastapi]' uvicorn
    AIOCOGNITO_USER_POOL_ID=eu-west-1_AbC AIOCOGNITO_CLIENT_ID=... \\
        uvicorn --factory fastapi_backend:app_from_env --app-dir examples

The routes of ``aiocognito.web.routes`` (``POST /sign-in``, ``/sign-in/answer``, ``/sign-up``,
``/sign-up/confirm``, ``/sign-up/resend``, ``/password/forgot``, ``/password/reset``, ``/password/change``,
``/mfa/totp``, ``/mfa/totp/confirm``, and the passkey routes ``/passkeys/sign-in``,
``/passkeys/sign-in/answer``, ``/passkeys/register``, ``/passkeys/register/complete``, ``GET /passkeys``,
``/passkeys/delete``), and three of our own: ``GET /me`` (any signed-in user), ``GET /admin`` (users in
the group ``admins``) and ``GET /`` (a page that signs in with a password or a passkey and registers,
lists and deletes passkeys). Errors follow ``aiocognito.web.http_errors``.

"Sign in with Cognito" through managed login, with AIOCOGNITO_DOMAIN_URL (the user pool domain) and
AIOCOGNITO_PUBLIC_URL (where browsers reach this app; default http://127.0.0.1:8000): the library's
``managed_login_router`` (``GET /login`` to the domain's sign-in page, ``GET /auth/callback`` back from it
with the tokens kept server-side behind an HttpOnly session cookie, ``GET /logout``, which revokes the
refresh token and goes through the domain's ``/logout``), and our own ``GET /account``, which shows who
is signed in through ``auth.browser_user(required=False)`` (tokens refreshed when due). The pending login
waits in the challenge store, one use, for AIOCOGNITO_CHALLENGE_TTL seconds: raise it toward 900 if users
take longer to sign in. The app client needs the ``code`` OAuth flow, ``<public url>/auth/callback``
among its callback URLs and ``<public url>/account`` among its sign-out URLs.

Passkeys need the pool's relying party to be the site's domain: WebAuthnConfiguration RelyingPartyId
(``localhost`` while developing on http://localhost:8000; browsers allow plain http only there), WEB_AUTHN
among the sign-in policy's AllowedFirstAuthFactors, and ALLOW_USER_AUTH on the app client. The page passes
WebAuthn's JSON between the routes and ``navigator.credentials`` untouched, with the browser's own
``PublicKeyCredential.parseCreationOptionsFromJSON`` / ``parseRequestOptionsFromJSON`` and ``toJSON()``
(in every major browser since 2025; older ones need base64url <-> ArrayBuffer conversions written out).

Configuration (environment): AIOCOGNITO_USER_POOL_ID, AIOCOGNITO_CLIENT_ID, AIOCOGNITO_CLIENT_SECRET (if
the app client has one), AWS_REGION (default: the pool's), AIOCOGNITO_ENDPOINT_URL (e.g. a local pool),
AIOCOGNITO_ISSUER and AIOCOGNITO_JWKS_URL (only for an issuer that is neither AWS's nor the endpoint's).

Several workers (``uvicorn --workers 4``, several pods): set REDIS_URL (``pip install 'aiocognito[redis]'``)
and every process keeps its saved challenges in that Redis, so the MFA code can be answered by any of them,
once; AIOCOGNITO_STORE_KEY (the base64 of 32 random bytes, the same for every worker) encrypts them there
(they hold Cognito's Session). The app checks Redis when it starts; while Redis is away, sign-in answers
5xx instead of losing a challenge. Without REDIS_URL the challenges live in memory: one process.
"""

# No "from __future__ import annotations": FastAPI reads the routes' annotations, which name locals.
import base64
import binascii
import contextlib
import html
import os
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse

from aiocognito import ConfigurationError
from aiocognito.web.backend import CognitoBackend, CognitoSettings
from aiocognito.web.bearer import CognitoClaims
from aiocognito.web.fastapi import (
    CognitoAuth,
    cognito_router,
    hide_query_strings,
    install,
    managed_login_router,
)
from aiocognito.web.managed_login import ManagedLoginSettings


def store_key_from_env(environ: Mapping[str, str] = os.environ) -> bytes | None:
    """AIOCOGNITO_STORE_KEY (base64 of a 16, 24 or 32-byte AES key), or None."""
    text = environ.get("AIOCOGNITO_STORE_KEY")
    if not text:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError("AIOCOGNITO_STORE_KEY must be base64 (of 32 random bytes)") from None


def make_app(
    settings: CognitoSettings,
    *,
    redis_url: str | None = None,
    store_key: bytes | None = None,
    domain_url: str | None = None,
    public_url: str = "http://127.0.0.1:8000",
) -> FastAPI:
    """The FastAPI application for ``settings``; with ``redis_url``, challenges (and managed-login sessions)
    are shared through Redis (encrypted with ``store_key``); with ``domain_url`` (the user pool domain),
    "Sign in with Cognito" through managed login, coming back to ``public_url``."""
    managed_login = None
    if domain_url:  # back to /account after signing in (or failing to) and after signing out
        managed_login = ManagedLoginSettings(
            domain_url, public_url, after_sign_in="/account", after_sign_out="/account"
        )
    lifespan: Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]
    if not redis_url:
        backend = CognitoBackend(settings, managed_login=managed_login)
        lifespan = backend.lifespan
    else:
        from redis.asyncio import Redis

        from aiocognito.redis import AesGcmCipher, RedisChallengeStore, RedisTokenStore

        redis = Redis.from_url(redis_url)
        cipher = AesGcmCipher(store_key) if store_key else None
        store = RedisChallengeStore(
            redis, ttl=settings.challenge_ttl, max_attempts=settings.max_attempts, cipher=cipher
        )
        sessions = RedisTokenStore(redis, prefix="aiocognito:web:", cipher=cipher, ttl=30 * 86400)
        backend = CognitoBackend(
            settings, store=store, managed_login=managed_login, browser_sessions=sessions
        )

        @contextlib.asynccontextmanager
        async def redis_lifespan(app: FastAPI) -> AsyncIterator[None]:
            try:
                await store.ping()  # a wrong REDIS_URL stops the start, not the first sign-in
                async with backend.lifespan(app):
                    yield
            finally:
                await redis.aclose()

        lifespan = redis_lifespan

    auth = CognitoAuth(backend)
    app = FastAPI(title="aiocognito FastAPI example", lifespan=lifespan)
    app.state.backend = backend
    install(app)
    app.include_router(cognito_router(backend, passkeys=True))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(PASSKEY_PAGE, headers={"Cache-Control": "no-store"})

    @app.get("/me")
    async def me(user: Annotated[CognitoClaims, Depends(auth.require())]) -> dict[str, Any]:
        return {"username": user.username, "sub": user.sub}

    @app.get("/admin")
    async def admin(user: Annotated[CognitoClaims, Depends(auth.require(groups="admins"))]) -> dict[str, Any]:
        return {"username": user.username, "groups": list(user.groups)}

    if managed_login is not None:
        app.include_router(managed_login_router(backend))  # GET /login, /auth/callback, /logout
        signed_in_user = auth.browser_user(required=False)

        @app.get("/account", response_class=HTMLResponse, include_in_schema=False)
        async def account(
            user: Annotated[CognitoClaims | None, Depends(signed_in_user)], error: str | None = None
        ) -> HTMLResponse:
            who = html.escape(user.username) if user else ""
            body = (
                f'<p id="who">Signed in as <strong>{who}</strong></p>'
                '<p><a id="logout" href="/logout">Sign out</a></p>'
                if user
                else '<p id="who">Not signed in</p><p><a id="login" href="/login">Sign in with Cognito</a></p>'
            )
            notice = f'<p id="error">{html.escape(error)}</p>' if error else ""
            return HTMLResponse(
                f"<!doctype html><html lang=en><meta charset=utf-8><title>Account</title>{notice}{body}</html>",
                headers={"Cache-Control": "no-store"},
            )

    return app


#: ``GET /``: password and passkey sign-in, passkey registration, the list of passkeys with delete buttons.
#: The access token stays in the page's memory (gone on reload). ``#status`` says how the last action
#: ended: ``data-state`` ``done`` or ``error``, and a line of text.
PASSKEY_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Passkeys</title>
</head>
<body>
<h1>Passkeys</h1>
<section>
  <h2>Sign in</h2>
  <p><label>Username <input id="username" autocomplete="username webauthn"></label></p>
  <p><label>Password <input id="password" type="password" autocomplete="current-password"></label>
    <button id="sign-in">Sign in with the password</button></p>
  <p><button id="passkey-sign-in">Sign in with a passkey</button></p>
  <p>Signed in as <strong id="who">nobody</strong></p>
</section>
<section>
  <h2>Your passkeys</h2>
  <p><button id="register">Register a passkey</button></p>
  <ul id="passkeys"></ul>
</section>
<p><output id="status" data-state=""></output></p>
<script>
"use strict";
let accessToken = null;  // in this page's memory only
const $ = (id) => document.getElementById(id);

function show(state, text) {
  $("status").textContent = text;
  $("status").dataset.state = state;
}

class ApiError extends Error {
  get name() { return "ApiError"; }
}

// One route of the backend: JSON in, JSON out; an error answer throws "<error>: <message>".
async function api(method, path, body) {
  const headers = {};
  if (accessToken) headers.authorization = "Bearer " + accessToken;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  const answer = await response.json();
  if (!response.ok) throw new ApiError(answer.message ? answer.error + ": " + answer.message : answer.error);
  return answer;
}

async function signedIn(answer) {
  if (!answer.tokens) throw new ApiError(answer.challenge + " must be answered first (POST /sign-in/answer)");
  accessToken = answer.tokens.access_token;
  const me = await api("GET", "/me");
  $("who").textContent = me.username;
  await listPasskeys();
  return me.username;
}

async function listPasskeys() {
  const {passkeys} = await api("GET", "/passkeys");
  const items = passkeys.map((passkey) => {
    const item = document.createElement("li");
    item.textContent = passkey.name + " (" + passkey.credential_id + ", " + passkey.created_at + ") ";
    const remove = document.createElement("button");
    remove.textContent = "Delete";
    remove.className = "delete";
    remove.dataset.credentialId = passkey.credential_id;
    item.append(remove);
    return item;
  });
  $("passkeys").replaceChildren(...items);
}

// Runs one action of the page and shows what it returned, or its error.
async function run(task) {
  show("working", "...");
  try {
    show("done", await task());
  } catch (err) {
    show("error", err.name + ": " + err.message);
  }
}

function action(element, task) {
  element.addEventListener("click", () => run(task));
}

action($("sign-in"), async () => {
  const answer = await api("POST", "/sign-in", {username: $("username").value, password: $("password").value});
  $("password").value = "";
  return "signed in as " + await signedIn(answer);
});

action($("passkey-sign-in"), async () => {
  const started = await api("POST", "/passkeys/sign-in", {username: $("username").value});
  const credential = await navigator.credentials.get(
    {publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(started.request_options)});
  const answer = await api(
    "POST", "/passkeys/sign-in/answer", {challenge_id: started.challenge_id, credential: credential.toJSON()});
  return "signed in with a passkey as " + await signedIn(answer);
});

action($("register"), async () => {
  const {creation_options} = await api("POST", "/passkeys/register");
  const credential = await navigator.credentials.create(
    {publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(creation_options)});
  await api("POST", "/passkeys/register/complete", {credential: credential.toJSON()});
  await listPasskeys();
  return "registered " + credential.id;
});

$("passkeys").addEventListener("click", (event) => {
  const button = event.target.closest("button.delete");
  if (!button) return;
  const id = button.dataset.credentialId;
  run(async () => {
    await api("POST", "/passkeys/delete", {credential_id: id});
    await listPasskeys();
    return "deleted " + id;
  });
});
</script>
</body>
</html>
"""


def app_from_env() -> FastAPI:
    """``uvicorn --factory``: the app with settings from the environment (and REDIS_URL)."""
    hide_query_strings()  # the sign-in callback's query (code, state) stays out of uvicorn's access log
    return make_app(
        CognitoSettings.from_env(),
        redis_url=os.environ.get("REDIS_URL"),
        store_key=store_key_from_env(),
        domain_url=os.environ.get("AIOCOGNITO_DOMAIN_URL"),
        public_url=os.environ.get("AIOCOGNITO_PUBLIC_URL", "http://127.0.0.1:8000"),
    )


if __name__ == "__main__":
    import importlib
    import logging

    uvicorn = importlib.import_module("uvicorn")  # not a dependency of aiocognito: pip install uvicorn
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    uvicorn.run(app_from_env(), host="127.0.0.1", port=8000)
