"""A FastAPI web backend: sign-in (MFA answered in a second request), the account flows, bearer checks.

    pip install 'aiocognito[fastapi]' uvicorn
    AIOCOGNITO_USER_POOL_ID=eu-west-1_AbC AIOCOGNITO_CLIENT_ID=... \\
        uvicorn --factory fastapi_backend:app_from_env --app-dir examples

The routes of ``aiocognito.web.routes`` (``POST /sign-in``, ``/sign-in/answer``, ``/sign-up``,
``/sign-up/confirm``, ``/sign-up/resend``, ``/password/forgot``, ``/password/reset``, ``/password/change``,
``/mfa/totp``, ``/mfa/totp/confirm``), and two of our own: ``GET /me`` (any signed-in user) and
``GET /admin`` (users in the group ``admins``). Errors follow ``aiocognito.web.http_errors``.

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
import os
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI

from aiocognito import ConfigurationError
from aiocognito.web.backend import CognitoBackend, CognitoSettings
from aiocognito.web.bearer import CognitoClaims
from aiocognito.web.fastapi import CognitoAuth, cognito_router, install


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
    settings: CognitoSettings, *, redis_url: str | None = None, store_key: bytes | None = None
) -> FastAPI:
    """The FastAPI application for ``settings``; with ``redis_url``, challenges are shared through Redis
    (encrypted with ``store_key``)."""
    if not redis_url:
        backend = CognitoBackend(settings)
        lifespan = backend.lifespan
    else:
        from redis.asyncio import Redis

        from aiocognito.redis import AesGcmCipher, RedisChallengeStore

        redis = Redis.from_url(redis_url)
        store = RedisChallengeStore(
            redis,
            ttl=settings.challenge_ttl,
            max_attempts=settings.max_attempts,
            cipher=AesGcmCipher(store_key) if store_key else None,
        )
        backend = CognitoBackend(settings, store=store)

        @contextlib.asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            try:
                await store.ping()  # a wrong REDIS_URL stops the start, not the first sign-in
                async with backend.lifespan(app):
                    yield
            finally:
                await redis.aclose()

    auth = CognitoAuth(backend)
    app = FastAPI(title="aiocognito FastAPI example", lifespan=lifespan)
    app.state.backend = backend
    install(app)
    app.include_router(cognito_router(backend))

    @app.get("/me")
    async def me(user: Annotated[CognitoClaims, Depends(auth.require())]) -> dict[str, Any]:
        return {"username": user.username, "sub": user.sub}

    @app.get("/admin")
    async def admin(user: Annotated[CognitoClaims, Depends(auth.require(groups="admins"))]) -> dict[str, Any]:
        return {"username": user.username, "groups": list(user.groups)}

    return app


def app_from_env() -> FastAPI:
    """``uvicorn --factory``: the app with settings from the environment (and REDIS_URL)."""
    return make_app(
        CognitoSettings.from_env(), redis_url=os.environ.get("REDIS_URL"), store_key=store_key_from_env()
    )


if __name__ == "__main__":
    import importlib
    import logging

    uvicorn = importlib.import_module("uvicorn")  # not a dependency of aiocognito: pip install uvicorn
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    uvicorn.run(app_from_env(), host="127.0.0.1", port=8000)
