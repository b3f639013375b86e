"""An aiohttp web backend: sign-in (MFA answered in a second request), the account flows, bearer checks.

    AIOCOGNITO_USER_POOL_ID=eu-west-1_AbC AIOCOGNITO_CLIENT_ID=... python examples/aiohttp_backend.py

The routes of ``aiocognito.web.routes`` (``POST /sign-in``, ``/sign-in/answer``, ``/sign-up``,
``/sign-up/confirm``, ``/sign-up/resend``, ``/password/forgot``, ``/password/reset``, ``/password/change``,
``/mfa/totp``, ``/mfa/totp/confirm``), and two of our own: ``GET /me`` (any signed-in user) and
``GET /admin`` (users in the group ``admins``). Errors follow ``aiocognito.web.http_errors``.

"Sign in with Cognito" through managed login, with AIOCOGNITO_DOMAIN_URL (the user pool domain) and
AIOCOGNITO_PUBLIC_URL (where browsers reach this app; default http://127.0.0.1:8080): ``GET /login``,
``GET /auth/callback`` and ``GET /logout`` come from the library (a session cookie in front of tokens kept
on the server), and ``GET /account`` answers who is signed in (401 when nobody is). The app client needs
the ``code`` OAuth flow, ``<public url>/auth/callback`` among its callback URLs and ``<public url>/``
among its sign-out URLs.

Configuration (environment): AIOCOGNITO_USER_POOL_ID, AIOCOGNITO_CLIENT_ID, AIOCOGNITO_CLIENT_SECRET (if
the app client has one), AWS_REGION (default: the pool's), AIOCOGNITO_ENDPOINT_URL (e.g. a local pool),
AIOCOGNITO_ISSUER and AIOCOGNITO_JWKS_URL (only for an issuer that is neither AWS's nor the endpoint's).

Several workers: set REDIS_URL (``pip install 'aiocognito[redis]'``) and every process keeps its saved
challenges in that Redis, so the MFA code can be answered by any of them, once; AIOCOGNITO_STORE_KEY (the
base64 of 32 random bytes, the same for every worker) encrypts them there (they hold Cognito's Session).
The app checks Redis when it starts; while Redis is away, sign-in answers 5xx instead of losing a
challenge. Without REDIS_URL the challenges live in memory: one process.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import logging
import os
from collections.abc import AsyncIterator, Mapping

from aiohttp import web

from aiocognito import ConfigurationError
from aiocognito.web.aiohttp import AccessLogWithoutQuery, CognitoAuth, setup
from aiocognito.web.backend import CognitoBackend, CognitoSettings
from aiocognito.web.bearer import CognitoClaims
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
    public_url: str = "http://127.0.0.1:8080",
) -> web.Application:
    """The aiohttp application for ``settings``; with ``redis_url``, challenges are shared through Redis
    (encrypted with ``store_key``); with ``domain_url``, "Sign in with Cognito" coming back to ``public_url``
    (sessions in memory: one process)."""
    store = redis = None
    if redis_url:
        from redis.asyncio import Redis

        from aiocognito.redis import AesGcmCipher, RedisChallengeStore

        redis = Redis.from_url(redis_url)
        store = RedisChallengeStore(
            redis,
            ttl=settings.challenge_ttl,
            max_attempts=settings.max_attempts,
            cipher=AesGcmCipher(store_key) if store_key else None,
        )
    login = ManagedLoginSettings(domain_url, public_url, after_sign_in="/account") if domain_url else None
    backend = CognitoBackend(settings, store=store, managed_login=login)
    auth = CognitoAuth(backend)

    @auth.require()
    async def me(request: web.Request, user: CognitoClaims) -> web.Response:
        return web.json_response({"username": user.username, "sub": user.sub})

    @auth.require(groups="admins")
    async def admin(request: web.Request, user: CognitoClaims) -> web.Response:
        return web.json_response({"username": user.username, "groups": list(user.groups)})

    app = web.Application(client_max_size=64 * 1024)
    setup(
        app, backend
    )  # the routes (/login, /auth/callback, /logout too with login), the client, the verifier
    app.router.add_get("/me", me)
    app.router.add_get("/admin", admin)
    if login is not None:

        @auth.browser_user()
        async def account(request: web.Request, user: CognitoClaims) -> web.Response:
            return web.json_response({"username": user.username, "sub": user.sub})

        app.router.add_get("/account", account)
    if store is not None and redis is not None:

        async def redis_lifetime(app: web.Application) -> AsyncIterator[None]:
            await store.ping()  # a wrong REDIS_URL stops the start, not the first sign-in
            yield
            await redis.aclose()

        app.cleanup_ctx.append(redis_lifetime)
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve the app (settings from the environment)."""
    parser = argparse.ArgumentParser(description="aiocognito aiohttp backend example")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # The access log shows method, path and status only (never the Authorization header, a body, or the
    # query string, which on /auth/callback holds the authorization code).
    app = make_app(
        CognitoSettings.from_env(),
        redis_url=os.environ.get("REDIS_URL"),
        store_key=store_key_from_env(),
        domain_url=os.environ.get("AIOCOGNITO_DOMAIN_URL"),
        public_url=os.environ.get("AIOCOGNITO_PUBLIC_URL", f"http://{args.host}:{args.port}"),
    )
    web.run_app(app, host=args.host, port=args.port, access_log_class=AccessLogWithoutQuery)


if __name__ == "__main__":
    main()
