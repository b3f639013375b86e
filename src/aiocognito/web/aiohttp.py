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

"Sign in with Cognito" (managed login): with ``CognitoBackend(..., managed_login=ManagedLoginSettings(...))``
:func:`setup` also mounts ``GET /login``, the callback and ``GET /logout`` (:func:`managed_login_routes`);
``@auth.browser_user()`` gives a handler the signed-in user's claims from the session cookie (401 when
signed out) and ``await auth.browser_claims(request)`` gives them or None. See
:mod:`aiocognito.web.managed_login`. The callback's query holds the authorization code, which aiohttp's
default access log (``%r``) would write down: serve with ``web.run_app(app,
access_log_class=AccessLogWithoutQuery)``.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Literal

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from .._errors import CognitoError
from .._tokens.verifier import TokenVerifier
from .backend import CognitoBackend, verifier_of
from .bearer import CognitoClaims, Requirement, authenticate
from .http_errors import HttpError, http_error
from .managed_login import LOGIN_PATH, LOGOUT_PATH, Redirect, browser_claims, finish, sign_out, start
from .routes import Route, selected

__all__ = [
    "BACKEND",
    "AccessLogWithoutQuery",
    "ClaimsHandler",
    "CognitoAuth",
    "Handler",
    "cognito_app",
    "cognito_routes",
    "managed_login_routes",
    "setup",
]

#: Where :func:`setup` keeps the backend (``request.app[BACKEND]``).
BACKEND = web.AppKey("aiocognito_backend", CognitoBackend)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: A handler that also takes the verified claims: ``async def h(request, user) -> web.StreamResponse``.
ClaimsHandler = Callable[[web.Request, CognitoClaims], Awaitable[web.StreamResponse]]


class AccessLogWithoutQuery(AbstractAccessLogger):
    """An access log line with the path but not the query string (``web.run_app(app,
    access_log_class=AccessLogWithoutQuery)``): a managed-login callback's query carries the
    authorization code and state, which do not belong in a log."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %.3fs', request.remote, request.method, request.path, response.status, time
        )


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

    def _backend(self) -> CognitoBackend:
        source = self._source
        if not isinstance(source, CognitoBackend) or source.managed_login_settings is None:
            raise TypeError(
                "browser sessions need CognitoAuth(backend) with CognitoBackend(managed_login=...)"
            )
        return source

    async def browser_claims(self, request: web.Request) -> CognitoClaims | None:
        """The claims of the browser's managed-login session (its session cookie; tokens refreshed when
        due), or None when signed out.

        Raises:
            HttpError: 503 when the pool's keys cannot be fetched.
        """
        backend = self._backend()
        assert backend.managed_login_settings is not None
        try:
            return await browser_claims(
                backend, request.cookies.get(backend.managed_login_settings.cookie_name)
            )
        except CognitoError as exc:
            raise http_error(exc) from None

    def browser_user(self) -> Callable[[ClaimsHandler], Handler]:
        """A decorator: the handler runs only for a browser signed in through managed login (else 401
        ``not_signed_in``), and gets the session's claims. For pages that also serve signed-out
        visitors, call :meth:`browser_claims` instead."""
        self._backend()  # fail at decoration time, not at the first request

        def decorate(handler: ClaimsHandler) -> Handler:
            @functools.wraps(handler)
            async def checked(request: web.Request) -> web.StreamResponse:
                try:
                    user = await self.browser_claims(request)
                except HttpError as exc:
                    return _response(exc)
                if user is None:
                    return _response(HttpError(401, "not_signed_in", message="sign in first"))
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


def _redirect(redirect: Redirect) -> web.Response:
    response = web.Response(status=302, headers={"Location": redirect.location, "Cache-Control": "no-store"})
    for c in redirect.clear_cookies:
        response.del_cookie(c.name, path=c.path, secure=c.secure, httponly=c.http_only, samesite=c.same_site)
    for c in redirect.set_cookies:
        response.set_cookie(
            c.name,
            c.value,
            max_age=c.max_age,
            path=c.path,
            secure=c.secure,
            httponly=c.http_only,
            samesite=c.same_site,
        )
    return response


def managed_login_routes(backend: CognitoBackend) -> list[web.RouteDef]:
    """``GET /login``, ``GET <callback_path>`` and ``GET /logout`` of "Sign in with Cognito" for a backend
    with ``managed_login`` (mount them at the app's root: the callback path is the settings')."""
    settings = backend.managed_login_settings
    if settings is None:
        raise TypeError("managed_login_routes needs CognitoBackend(managed_login=...)")

    async def login(request: web.Request) -> web.StreamResponse:
        return _redirect(await start(backend))

    async def callback(request: web.Request) -> web.StreamResponse:
        query = request.query_string
        return _redirect(
            await finish(
                backend,
                settings.redirect_uri + ("?" + query if query else ""),
                request.cookies.get(settings.login_cookie_name),
                previous_session=request.cookies.get(settings.cookie_name),
            )
        )

    async def logout(request: web.Request) -> web.StreamResponse:
        return _redirect(await sign_out(backend, request.cookies.get(settings.cookie_name)))

    return [
        web.get(LOGIN_PATH, login, name="managed_login"),
        web.get(settings.callback_path, callback, name="managed_login_callback"),
        web.get(LOGOUT_PATH, logout, name="managed_logout"),
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
    managed_login: bool | None = None,
) -> None:
    """Mount the routes on ``app`` (under ``prefix``) and start/close ``backend`` with it. With
    ``managed_login`` (default: when the backend has ``managed_login`` settings) also the managed-login
    routes of :func:`managed_login_routes`, at the root."""
    if managed_login is None:
        managed_login = backend.managed_login_settings is not None
    app[BACKEND] = backend
    app.cleanup_ctx.append(_lifetime(backend))
    app.add_routes(cognito_routes(backend, account=account, passkeys=passkeys, prefix=prefix))
    if managed_login:
        app.add_routes(managed_login_routes(backend))


def cognito_app(backend: CognitoBackend, *, account: bool = True, passkeys: bool = False) -> web.Application:
    """A sub-application with the routes (``app.add_subapp("/auth", cognito_app(backend))``)."""
    sub = web.Application(client_max_size=64 * 1024)
    setup(sub, backend, account=account, passkeys=passkeys)
    return sub
