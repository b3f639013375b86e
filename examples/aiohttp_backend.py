"""An aiohttp web backend: sign-in (MFA answered in a second request), the account flows, bearer checks.

    AIOCOGNITO_USER_POOL_ID=eu-west-1_AbC AIOCOGNITO_CLIENT_ID=... python examples/aiohttp_backend.py

The routes of ``aiocognito.web.routes`` (``POST /sign-in``, ``/sign-in/answer``, ``/sign-up``,
``/sign-up/confirm``, ``/sign-up/resend``, ``/password/forgot``, ``/password/reset``, ``/password/change``,
``/mfa/totp``, ``/mfa/totp/confirm``), and two of our own: ``GET /me`` (any signed-in user) and
``GET /admin`` (users in the group ``admins``). Errors follow ``aiocognito.web.http_errors``.

Configuration (environment): AIOCOGNITO_USER_POOL_ID, AIOCOGNITO_CLIENT_ID, AIOCOGNITO_CLIENT_SECRET (if
the app client has one), AWS_REGION (default: the pool's), AIOCOGNITO_ENDPOINT_URL (e.g. a local pool),
AIOCOGNITO_ISSUER and AIOCOGNITO_JWKS_URL (only for an issuer that is neither AWS's nor the endpoint's).
Saved challenges live in memory: one process. Give ``CognitoBackend`` a shared ``store=`` for several.
"""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from aiocognito.web.aiohttp import CognitoAuth, setup
from aiocognito.web.backend import CognitoBackend, CognitoSettings
from aiocognito.web.bearer import CognitoClaims


def make_app(settings: CognitoSettings) -> web.Application:
    """The aiohttp application for ``settings``."""
    backend = CognitoBackend(settings)
    auth = CognitoAuth(backend)

    @auth.require()
    async def me(request: web.Request, user: CognitoClaims) -> web.Response:
        return web.json_response({"username": user.username, "sub": user.sub})

    @auth.require(groups="admins")
    async def admin(request: web.Request, user: CognitoClaims) -> web.Response:
        return web.json_response({"username": user.username, "groups": list(user.groups)})

    app = web.Application(client_max_size=64 * 1024)
    setup(app, backend)  # the routes, and one client and one verifier while the app runs
    app.router.add_get("/me", me)
    app.router.add_get("/admin", admin)
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve the app (settings from the environment)."""
    parser = argparse.ArgumentParser(description="aiocognito aiohttp backend example")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # The access log shows method, path and status only (never the Authorization header or a body).
    web.run_app(make_app(CognitoSettings.from_env()), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
