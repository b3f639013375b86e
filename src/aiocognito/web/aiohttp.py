"""aiohttp integration: the sign-in and account routes, and a bearer-check decorator.

::

    from aiohttp import web
    from aiocognito.web.aiohttp import CognitoAuth, setup
    from aiocognito.web.backend import CognitoBackend, CognitoSettings
    from aiocognito.web.bearer import CognitoClaims

    backend = CognitoBackend(CognitoSettings.from_env())
    auth = CognitoAuth(backend)

    @auth.require(groups="admins")
    async def admin(request: web.Request, user: CognitoClaims) -> web.Response:
        return web.json_response({"username": user.username})

    app = web.Application()
    setup(app, backend)                 # routes + one client and one verifier for the app's lifetime
    app.router.add_get("/admin", admin)

:func:`setup` mounts the routes of :mod:`aiocognito.web.routes` (under ``prefix``) and opens and closes
the backend with the app (``cleanup_ctx``); :func:`cognito_routes` gives the route definitions alone and
:func:`cognito_app` a sub-application for ``app.add_subapp("/auth", ...)``.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Literal

from aiohttp import web

from .._tokens.verifier import TokenVerifier
from .backend import CognitoBackend, verifier_of
from .bearer import CognitoClaims, Requirement, authenticate
from .http_errors import HttpError
from .routes import Route, selected

__all__ = ["BACKEND", "ClaimsHandler", "CognitoAuth", "Handler", "cognito_app", "cognito_routes", "setup"]

#: Where :func:`setup` keeps the backend (``request.app[BACKEND]``).
BACKEND = web.AppKey("aiocognito_backend", CognitoBackend)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: A handler that also takes the verified claims: ``async def h(request, user) -> web.StreamResponse``.
ClaimsHandler = Callable[[web.Request, CognitoClaims], Awaitable[web.StreamResponse]]


def _response(error: HttpError) -> web.Response:
    return web.json_response(error.body, status=error.status, headers=error.headers or None)


class CognitoAuth:
    """Bearer checks for aiohttp handlers: ``@auth.require(groups="admins")`` passes a handler the
    request's :class:`~aiocognito.web.bearer.CognitoClaims` as its second argument, or answers 401/403/503
    (see :mod:`aiocognito.web.bearer`).

    Args:
        verifier: a :class:`~aiocognito.TokenVerifier` (one pool, or several with ``TokenVerifier.multi``),
            or a :class:`~aiocognito.web.backend.CognitoBackend` (its verifier once started).
    """

    def __init__(self, verifier: TokenVerifier | CognitoBackend) -> None:
        self._source = verifier

    @property
    def verifier(self) -> TokenVerifier:
        return verifier_of(self._source)

    async def claims(self, request: web.Request, requirement: Requirement | None = None) -> CognitoClaims:
        """The verified claims of ``request``; raises :class:`~aiocognito.web.http_errors.HttpError`."""
        return await authenticate(self.verifier, request.headers.get("Authorization"), requirement)

    def require(
        self,
        token_use: Literal["access", "id"] = "access",
        *,
        groups: str | Iterable[str] | None = None,
        scopes: str | Iterable[str] | None = None,
    ) -> Callable[[ClaimsHandler], Handler]:
        """A decorator: the handler runs only for a token of ``token_use`` in any one of ``groups`` and
        with any one of ``scopes`` (on top of the verifier's own requirements), and gets its claims."""
        requirement = Requirement.of(token_use, groups=groups, scopes=scopes)

        def decorate(handler: ClaimsHandler) -> Handler:
            @functools.wraps(handler)
            async def checked(request: web.Request) -> web.StreamResponse:
                try:
                    user = await self.claims(request, requirement)
                except HttpError as exc:
                    return _response(exc)
                return await handler(request, user)

            return checked

        return decorate


def _handler(backend: CognitoBackend, route: Route) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        reply = await backend.handle(route, await request.read(), request.headers.get("Authorization"))
        return web.json_response(reply.body, status=reply.status, headers=dict(reply.headers) or None)

    handle.__name__ = route.name
    return handle


def cognito_routes(
    backend: CognitoBackend, *, account: bool = True, passkeys: bool = False, prefix: str = ""
) -> list[web.RouteDef]:
    """The route definitions (``app.add_routes(...)``): sign-in, the account flows with ``account``, the
    passkey routes with ``passkeys``."""
    return [
        web.route(route.method, prefix + route.path, _handler(backend, route), name=route.name)
        for route in selected(account=account, passkeys=passkeys)
    ]


def _lifetime(backend: CognitoBackend) -> Callable[[web.Application], AsyncIterator[None]]:
    async def cognito_backend(app: web.Application) -> AsyncIterator[None]:
        await backend.start()
        try:
            yield
        finally:
            await backend.close()

    return cognito_backend


def setup(
    app: web.Application,
    backend: CognitoBackend,
    *,
    account: bool = True,
    passkeys: bool = False,
    prefix: str = "",
) -> None:
    """Mount the routes on ``app`` (under ``prefix``) and start/close ``backend`` with it."""
    app[BACKEND] = backend
    app.cleanup_ctx.append(_lifetime(backend))
    app.add_routes(cognito_routes(backend, account=account, passkeys=passkeys, prefix=prefix))


def cognito_app(backend: CognitoBackend, *, account: bool = True, passkeys: bool = False) -> web.Application:
    """A sub-application with the routes (``app.add_subapp("/auth", cognito_app(backend))``)."""
    sub = web.Application(client_max_size=64 * 1024)
    setup(sub, backend, account=account, passkeys=passkeys)
    return sub
