"""FastAPI (and Starlette) integration: bearer dependencies, the sign-in and account routes, the error
handlers. ``pip install 'aiocognito[fastapi]'``.

::

    from typing import Annotated
    from fastapi import Depends, FastAPI
    from aiocognito.web.backend import CognitoBackend, CognitoSettings
    from aiocognito.web.bearer import CognitoClaims
    from aiocognito.web.fastapi import CognitoAuth, cognito_router, install

    backend = CognitoBackend(CognitoSettings.from_env())
    auth = CognitoAuth(backend)
    app = FastAPI(lifespan=backend.lifespan)           # one client and one verifier while the app runs
    install(app)                                       # flat error bodies; 400 (no echo) for bad bodies
    app.include_router(cognito_router(backend))        # /sign-in, /sign-in/answer, /sign-up, ...

    @app.get("/admin")
    async def admin(user: Annotated[CognitoClaims, Depends(auth.require(groups="admins"))]) -> dict:
        return {"username": user.username}

"Sign in with Cognito" (managed login): give the backend ``managed_login=ManagedLoginSettings(domain_url,
public_url)``, add ``app.include_router(managed_login_router(backend))`` (``GET /login``, the callback,
``GET /logout``; include it without a prefix: the callback path is the settings') and take the signed-in
user with ``Depends(auth.browser_user())`` (401 when signed out; ``required=False`` gives None instead,
for pages that offer a sign-in link). See :mod:`aiocognito.web.managed_login`.

Without :func:`install`, refusals still carry their status and ``WWW-Authenticate`` header, with the body
under FastAPI's ``"detail"``. The routes of :func:`cognito_router` never answer FastAPI's 422 (which
echoes the input, the password included): their bodies are checked by :mod:`aiocognito.web.forms`, and
:func:`install` turns every other route's 422 into a 400 naming fields only. In a plain Starlette app use
:func:`cognito_routes` and ``await auth.claims(request)``.

This module imports FastAPI; ``import aiocognito`` never imports it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPBearer
from starlette.applications import Starlette
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route as StarletteRoute

from .._errors import CognitoError
from .._tokens.verifier import TokenVerifier
from .backend import CognitoBackend, verifier_of
from .bearer import CognitoClaims, Requirement, authenticate
from .forms import MAX_BODY
from .http_errors import HttpError, bad_request, http_error
from .managed_login import LOGIN_PATH, LOGOUT_PATH, Redirect, browser_claims, finish, sign_out, start
from .routes import Route, selected

__all__ = [
    "CognitoAuth",
    "CognitoHTTPException",
    "cognito_router",
    "cognito_routes",
    "hide_query_strings",
    "install",
    "managed_login_router",
]

#: Only for the OpenAPI document (the "Authorize" button); the header is read by :class:`CognitoAuth`.
bearer_scheme = HTTPBearer(auto_error=False, bearerFormat="JWT", scheme_name="CognitoBearer")


class CognitoHTTPException(HTTPException):
    """An :class:`~aiocognito.web.http_errors.HttpError` as FastAPI's HTTPException (``detail`` is the body)."""

    def __init__(self, error: HttpError) -> None:
        super().__init__(error.status, detail=error.body, headers=error.headers or None)
        self.body = error.body


def _response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers or None)


class CognitoAuth:
    """Bearer-token dependencies: ``Depends(auth.require(groups="admins"))`` gives a route the request's
    :class:`~aiocognito.web.bearer.CognitoClaims`, or answers 401/403/503 (see
    :mod:`aiocognito.web.bearer`).

    Args:
        verifier: a :class:`~aiocognito.TokenVerifier` (one pool, or several with ``TokenVerifier.multi``),
            or a :class:`~aiocognito.web.backend.CognitoBackend` (its verifier once started).
    """

    def __init__(self, verifier: TokenVerifier | CognitoBackend) -> None:
        self._source = verifier

    @property
    def verifier(self) -> TokenVerifier:
        return verifier_of(self._source)

    async def claims(self, request: Request, requirement: Requirement | None = None) -> CognitoClaims:
        """The verified claims of ``request`` (for Starlette endpoints); raises :class:`CognitoHTTPException`."""
        try:
            return await authenticate(self.verifier, request.headers.get("authorization"), requirement)
        except HttpError as exc:
            raise CognitoHTTPException(exc) from None

    def require(
        self,
        token_use: Literal["access", "id"] = "access",
        *,
        groups: str | Iterable[str] | None = None,
        scopes: str | Iterable[str] | None = None,
    ) -> Callable[..., Awaitable[CognitoClaims]]:
        """A dependency returning the claims of a token of ``token_use`` in any one of ``groups`` and
        with any one of ``scopes`` (on top of the verifier's own requirements)."""
        requirement = Requirement.of(token_use, groups=groups, scopes=scopes)

        async def cognito_claims(request: Request, _scheme: Any = Depends(bearer_scheme)) -> CognitoClaims:  # noqa: B008
            return await self.claims(request, requirement)

        return cognito_claims

    def browser_user(self, required: bool = True) -> Callable[..., Awaitable[CognitoClaims | None]]:
        """A dependency giving the claims of the browser's managed-login session (its session cookie;
        tokens refreshed when due): 401 ``not_signed_in`` when signed out, or None with ``required=False``.
        Needs a :class:`~aiocognito.web.backend.CognitoBackend` with ``managed_login``."""
        source = self._source
        if not isinstance(source, CognitoBackend) or source.managed_login_settings is None:
            raise TypeError("browser_user needs CognitoAuth(backend) with CognitoBackend(managed_login=...)")
        backend, cookie_name = source, source.managed_login_settings.cookie_name

        async def browser_claims_of(request: Request) -> CognitoClaims | None:
            try:
                user = await browser_claims(backend, request.cookies.get(cookie_name))
            except CognitoError as exc:  # the pool's keys cannot be fetched: 503
                raise CognitoHTTPException(http_error(exc)) from None
            if user is None and required:
                raise CognitoHTTPException(HttpError(401, "not_signed_in", message="sign in first"))
            return user

        return browser_claims_of


async def _read_body(request: Request) -> bytes | None:
    """The body, or None when it is larger than :data:`~aiocognito.web.forms.MAX_BODY`."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _endpoint(backend: CognitoBackend, route: Route) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        body = await _read_body(request)
        if body is None:
            error = bad_request("the body is too large")
            return _response(error.status, error.body)
        reply = await backend.handle(route, body, request.headers.get("authorization"))
        return _response(reply.status, reply.body, dict(reply.headers))

    endpoint.__name__ = route.name
    return endpoint


def cognito_router(
    backend: CognitoBackend, *, account: bool = True, passkeys: bool = False, tags: Iterable[str] = ("auth",)
) -> APIRouter:
    """An APIRouter with the sign-in routes, (``account=True``) the account routes and (``passkeys=True``)
    the passkey routes of :mod:`aiocognito.web.routes`; mount it with ``app.include_router(router,
    prefix=...)``."""
    router = APIRouter(tags=list(tags))
    for route in selected(account=account, passkeys=passkeys):
        body: dict[str, Any] = {"content": {"application/json": {"schema": route.form.json_schema()}}}
        body["required"] = bool(route.form.fields)
        router.add_api_route(
            route.path,
            _endpoint(backend, route),
            methods=[route.method],
            name=route.name,
            summary=route.summary,
            response_model=None,
            dependencies=[Depends(bearer_scheme)] if route.bearer else None,
            openapi_extra={"requestBody": body},
        )
    return router


def cognito_routes(
    backend: CognitoBackend, *, account: bool = True, passkeys: bool = False, prefix: str = ""
) -> list[StarletteRoute]:
    """The same routes for a plain Starlette app (``Starlette(routes=[...])``)."""
    return [
        StarletteRoute(
            prefix + route.path, _endpoint(backend, route), methods=[route.method], name=route.name
        )
        for route in selected(account=account, passkeys=passkeys)
    ]


def _redirect(redirect: Redirect) -> Response:
    response = RedirectResponse(redirect.location, status_code=302, headers={"Cache-Control": "no-store"})
    for c in redirect.clear_cookies:
        response.delete_cookie(
            c.name, path=c.path, secure=c.secure, httponly=c.http_only, samesite=c.same_site
        )
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


def managed_login_router(backend: CognitoBackend) -> APIRouter:
    """``GET /login``, ``GET <callback_path>`` and ``GET /logout`` of "Sign in with Cognito" for a backend
    with ``managed_login`` (see :mod:`aiocognito.web.managed_login`); include it without a prefix."""
    settings = backend.managed_login_settings
    if settings is None:
        raise TypeError("managed_login_router needs CognitoBackend(managed_login=...)")

    async def login(request: Request) -> Response:
        return _redirect(await start(backend))

    async def callback(request: Request) -> Response:
        query = request.url.query
        return _redirect(
            await finish(
                backend,
                settings.redirect_uri + ("?" + query if query else ""),
                request.cookies.get(settings.login_cookie_name),
                previous_session=request.cookies.get(settings.cookie_name),
            )
        )

    async def logout(request: Request) -> Response:
        return _redirect(await sign_out(backend, request.cookies.get(settings.cookie_name)))

    router = APIRouter(include_in_schema=False)
    router.add_api_route(LOGIN_PATH, login, methods=["GET"], name="managed_login", response_model=None)
    router.add_api_route(
        settings.callback_path, callback, methods=["GET"], name="managed_login_callback", response_model=None
    )
    router.add_api_route(LOGOUT_PATH, logout, methods=["GET"], name="managed_logout", response_model=None)
    return router


async def _cognito_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CognitoHTTPException)
    return _response(exc.status_code, exc.body, dict(exc.headers or {}))


async def _validation_error(request: Request, exc: Exception) -> Response:
    """400 naming the bad fields, without FastAPI's echo of the input (it would hold the password)."""
    assert isinstance(exc, RequestValidationError)
    fields = {".".join(str(p) for p in error.get("loc", ())[1:]) or "body" for error in exc.errors()}
    error = bad_request("missing or invalid fields: " + ", ".join(sorted(fields)), fields=fields)
    return _response(error.status, error.body)


def install(app: Starlette, *, validation_errors: bool = True) -> None:
    """Register the error handlers: :class:`CognitoHTTPException` as a flat ``{"error": ...}`` body, and
    (``validation_errors``) FastAPI's 422 for request validation as a 400 that echoes no input."""
    app.add_exception_handler(CognitoHTTPException, _cognito_error)
    if validation_errors:
        app.add_exception_handler(RequestValidationError, _validation_error)


class _WithoutQuery(logging.Filter):
    """Cuts the query string off the path of uvicorn's access log lines (their third argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (args[0], args[1], args[2].split("?", 1)[0], *args[3:])
        return True


def hide_query_strings(logger: str = "uvicorn.access") -> None:
    """Keep query strings out of the ASGI server's access log: a managed-login callback's query holds the
    authorization code and the state (uvicorn logs ``full path?query`` at INFO). Idempotent."""
    target = logging.getLogger(logger)
    if not any(isinstance(f, _WithoutQuery) for f in target.filters):
        target.addFilter(_WithoutQuery())
