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
Saved challenges live in memory: one process. Give ``CognitoBackend`` a shared ``store=`` for several.
"""

# No "from __future__ import annotations": FastAPI reads the routes' annotations, which name locals.
from typing import Annotated, Any

from fastapi import Depends, FastAPI

from aiocognito.web.backend import CognitoBackend, CognitoSettings
from aiocognito.web.bearer import CognitoClaims
from aiocognito.web.fastapi import CognitoAuth, cognito_router, install


def make_app(settings: CognitoSettings) -> FastAPI:
    """The FastAPI application for ``settings``."""
    backend = CognitoBackend(settings)
    auth = CognitoAuth(backend)
    app = FastAPI(title="aiocognito FastAPI example", lifespan=backend.lifespan)
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
    """``uvicorn --factory``: the app with settings from the environment."""
    return make_app(CognitoSettings.from_env())


if __name__ == "__main__":
    import importlib
    import logging

    uvicorn = importlib.import_module("uvicorn")  # not a dependency of aiocognito: pip install uvicorn
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    uvicorn.run(app_from_env(), host="127.0.0.1", port=8000)
