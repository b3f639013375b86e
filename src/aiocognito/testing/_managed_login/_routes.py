"""The HTTP side of managed login: aiohttp handlers under ``/managed-login/{domain}``.

Everything Cognito serves on ``https://<domain>/...`` is served on ``{endpoint_url}/managed-login/<domain>/...``:
``GET /oauth2/authorize``, ``GET|POST /login``, ``POST /oauth2/token``, ``POST /oauth2/revoke``,
``GET|POST /oauth2/userInfo``, ``GET /logout`` and Cognito's ``GET /error`` page; for identity providers
``GET /oauth2/idpresponse`` and ``POST /saml2/idpresponse`` (where providers answer on Cognito), and
``GET|POST /_idp/<provider>``, the local pool's stand-in for the provider (see ``_federation``). An
unknown domain answers 404. The handlers only translate: the decisions are ``_service``'s, ``_signin``'s,
``_authorize``'s and ``_token_endpoint``'s, and each runs without awaiting, so it is atomic like an API call.

``/oauth2/authorize`` sends a signed-in browser (the ``cognito`` cookie, path-scoped to the domain) straight
back to the app with a code, unless ``prompt=login``; otherwise to ``/login`` with the same query
(``prompt=none`` without a session: ``login_required``). ``/logout`` ends that session: with ``logout_uri``
(one of the client's LogoutURLs) it redirects there; with ``redirect_uri`` and ``response_type`` to the
sign-in page. An authorize request that names an identity provider goes to its stand-in page (whatever
the browser session: the provider decides).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlencode

from aiohttp import web

from ... import errors
from ._authorize import UNAVAILABLE, AuthorizeRefusal, AuthorizeRequest, client_providers, parse_authorize
from ._errors import ErrorPage, OAuthError
from ._federation import FEDERATION_SECONDS, ProviderAnswer, parse_claims
from ._pages import challenge_page, error_page, provider_page, saml_post_page, sign_in_page
from ._service import ManagedLogin, with_query
from ._signin import ChallengeStep

if TYPE_CHECKING:
    from .._records import UserPool

__all__ = ["add_routes", "PATH_PREFIX", "COOKIE"]

logger = logging.getLogger("aiocognito.testing.managed_login")

#: Where a domain's pages live on the local pool's server.
PATH_PREFIX = "/managed-login"
#: The managed login session cookie (Cognito's name).
COOKIE = "cognito"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_routes(app: web.Application, service: ManagedLogin) -> None:
    """Register the managed login routes of ``service`` on the pool's aiohttp application."""
    routes = _Routes(service)
    base = PATH_PREFIX + "/{domain}"
    app.router.add_get(base + "/oauth2/authorize", routes.authorize)
    app.router.add_get(base + "/login", routes.login_page)
    app.router.add_post(base + "/login", routes.login_post)
    app.router.add_post(base + "/oauth2/token", routes.token)
    app.router.add_post(base + "/oauth2/revoke", routes.revoke)
    app.router.add_get(base + "/oauth2/userInfo", routes.user_info)
    app.router.add_post(base + "/oauth2/userInfo", routes.user_info)
    app.router.add_get(base + "/logout", routes.logout)
    app.router.add_get(base + "/error", routes.error)
    app.router.add_get(base + "/_idp/{provider}", routes.provider_page)
    app.router.add_post(base + "/_idp/{provider}", routes.provider_answer)
    app.router.add_get(base + "/oauth2/idpresponse", routes.idp_response)
    app.router.add_post(base + "/saml2/idpresponse", routes.idp_response)


def _base(request: web.Request) -> str:
    """The absolute URL of the request's domain (``http://127.0.0.1:<port>/managed-login/<domain>``)."""
    return f"{request.url.origin()}{PATH_PREFIX}/{request.match_info['domain']}"


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})


def _html(text: str, status: int = 200) -> web.Response:
    response = web.Response(status=status, text=text, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _no_domain() -> web.Response:
    return web.json_response(
        {"error": "not_found", "error_description": "No such user pool domain"}, status=404
    )


def _refusal(request: web.Request, exc: ErrorPage | AuthorizeRefusal) -> web.Response:
    """An authorize-time refusal: Cognito's error page, or a redirect to the app with ``error``."""
    if isinstance(exc, ErrorPage):
        return _redirect(
            with_query(_base(request) + "/error", {"error": exc.error, "client_id": exc.client_id})
        )
    params = {"error": exc.error, "error_description": exc.description, "state": exc.state}
    return _redirect(with_query(exc.redirect_uri, params))


def _form_fields(form: Mapping[str, object]) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


class _Routes:
    def __init__(self, service: ManagedLogin) -> None:
        self.service = service

    def _pool(self, request: web.Request) -> UserPool | None:
        return self.service.pool_of_domain(request.match_info["domain"])

    def _authorized(self, request: web.Request) -> tuple[UserPool, AuthorizeRequest] | web.Response:
        """The domain's pool and the checked authorize request of the query, or the answer refusing it
        (an unknown domain, the error page, or a redirect with the error)."""
        pool = self._pool(request)
        if pool is None:
            return _no_domain()
        try:
            return pool, self._authorize_request(pool, request.query)
        except (ErrorPage, AuthorizeRefusal) as exc:
            return _refusal(request, exc)

    def _authorize_request(self, pool: UserPool, query: Mapping[str, str]) -> AuthorizeRequest:
        client = self.service.client(pool, query.get("client_id"))
        return parse_authorize(query, client, pool.identity_providers)

    def _sign_in_page(
        self, request: web.Request, pool: UserPool, *, error: str | None = None, username: str = ""
    ) -> web.Response:
        """The sign-in page: a button per identity provider of the client, the form if it offers COGNITO."""
        client = pool.clients[request.query.get("client_id", "")]
        query = [(k, v) for k, v in request.query.items() if k not in ("identity_provider", "idp_identifier")]
        buttons = [
            (name, f"{_base(request)}/oauth2/authorize?{urlencode([*query, ('identity_provider', name)])}")
            for name in client_providers(client, pool.identity_providers)
        ]
        own = "COGNITO" in (client.config.get("SupportedIdentityProviders") or [])
        page = sign_in_page(
            request.path_qs, error=error, username=username, providers=buttons, with_password=own
        )
        return _html(page)

    def _signed_in_redirect(
        self, request: web.Request, pool: UserPool, parsed: AuthorizeRequest, key: str
    ) -> web.Response:
        session = self.service.grants.session(key, self.service.state.now())
        assert session is not None
        response = _redirect(self.service.complete(pool, parsed, session))
        response.set_cookie(
            COOKIE,
            key,
            path=f"{PATH_PREFIX}/{request.match_info['domain']}",
            httponly=True,
            samesite="Lax",
            max_age=int(session.expires_at - self.service.state.now()),
        )
        return response

    # ----- the browser's pages ---------------------------------------------------------------------------
    async def authorize(self, request: web.Request) -> web.StreamResponse:
        checked = self._authorized(request)
        if isinstance(checked, web.Response):
            return checked
        pool, parsed = checked
        logger.debug("managed login: authorize request of client %s", parsed.client_id)
        if parsed.identity_provider is not None:  # to the provider (here: its stand-in page)
            key = self.service.state.token(32)
            now = self.service.state.now()
            self.service.federation.store.begin(key, parsed.identity_provider, request.query_string, now)
            target = f"{_base(request)}/_idp/{quote(parsed.identity_provider, safe='')}"
            return _redirect(f"{target}?{urlencode({'state': key})}")
        session = self.service.browser_session(pool, request.cookies.get(COOKIE))
        if session is not None and "login" not in parsed.prompt:
            return _redirect(self.service.complete(pool, parsed, session))
        if session is None and "none" in parsed.prompt:
            refusal = AuthorizeRefusal("login_required", None, parsed.redirect_uri, parsed.state)
            return _refusal(request, refusal)
        return _redirect(f"{_base(request)}/login?{request.query_string}")

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        checked = self._authorized(request)
        if isinstance(checked, web.Response):
            return checked
        return self._sign_in_page(request, checked[0])

    async def login_post(self, request: web.Request) -> web.StreamResponse:
        checked = self._authorized(request)
        if isinstance(checked, web.Response):
            return checked
        pool, parsed = checked
        form = _form_fields(await request.post())
        action = request.path_qs
        login_id = form.get("login_session")
        try:
            if login_id:
                step = self.service.sign_in.answer(login_id, parsed.client_id, form)
            else:
                client = pool.clients[parsed.client_id]
                if "COGNITO" not in (client.config.get("SupportedIdentityProviders") or []):
                    raise errors.InvalidParameterException(UNAVAILABLE)
                step = self.service.sign_in.start(
                    pool, client, form.get("username", ""), form.get("password", "")
                )
        except errors.ServiceError as exc:
            pending = self.service.sign_in.pending(login_id) if login_id else None
            if pending is not None and login_id:
                return _html(
                    challenge_page(
                        action,
                        pending.challenge,
                        pending.parameters,
                        login_id,
                        error=exc.message,
                        totp=pending.totp,
                    )
                )
            return self._sign_in_page(request, pool, error=exc.message, username=form.get("username", ""))
        if isinstance(step, ChallengeStep):
            return _html(
                challenge_page(action, step.challenge, step.parameters, step.login_id, totp=step.totp)
            )
        logger.debug("managed login: %s signed in through client %s", step.username, parsed.client_id)
        key, _session = self.service.start_browser_session(step.user)
        return self._signed_in_redirect(request, pool, parsed, key)

    async def logout(self, request: web.Request) -> web.StreamResponse:
        pool = self._pool(request)
        if pool is None:
            return _no_domain()
        query = request.query
        client = self.service.client(pool, query.get("client_id"))
        logout_uri = query.get("logout_uri")
        try:
            if client is None:
                raise ErrorPage("invalid_request", query.get("client_id") or None)
            if logout_uri:
                if logout_uri not in (client.config.get("LogoutURLs") or []):
                    raise ErrorPage("redirect_mismatch", client.id)
                location = logout_uri
            elif query.get("redirect_uri") and query.get("response_type"):
                self._authorize_request(pool, query)
                location = f"{_base(request)}/login?{request.query_string}"
            else:
                raise ErrorPage("invalid_request", client.id)
        except (ErrorPage, AuthorizeRefusal) as exc:
            return _refusal(request, exc)
        self.service.grants.end_session(request.cookies.get(COOKIE))
        response = _redirect(location)
        response.del_cookie(COOKIE, path=f"{PATH_PREFIX}/{request.match_info['domain']}")
        logger.debug("managed login: signed out through client %s", client.id)
        return response

    async def error(self, request: web.Request) -> web.StreamResponse:
        if self._pool(request) is None:
            return _no_domain()
        return _html(error_page(request.query.get("error", "")), status=400)

    # ----- identity providers ------------------------------------------------------------------------------
    def _provider(self, request: web.Request, pool: UserPool) -> dict[str, object] | None:
        return pool.identity_providers.get(request.match_info["provider"])

    async def provider_page(self, request: web.Request) -> web.StreamResponse:
        pool = self._pool(request)
        if pool is None:
            return _no_domain()
        record, key = self._provider(request, pool), request.query.get("state")
        now = self.service.state.now()
        if (
            record is None
            or key is None
            or self.service.federation.store.login(key, str(record["ProviderName"]), now) is None
        ):
            return _refusal(request, ErrorPage("invalid_request"))
        name, kind = str(record["ProviderName"]), str(record["ProviderType"])
        return _html(provider_page(request.path, name, kind, key))

    async def provider_answer(self, request: web.Request) -> web.StreamResponse:
        """The stand-in provider's form: "the provider answered" (to ``/oauth2/idpresponse`` or, for SAML,
        a posted SAMLResponse to ``/saml2/idpresponse``)."""
        pool = self._pool(request)
        if pool is None:
            return _no_domain()
        form = _form_fields(await request.post())
        record, key = self._provider(request, pool), form.get("state", "")
        store, now = self.service.federation.store, self.service.state.now()
        if record is None or store.login(key, str(record["ProviderName"]), now) is None:
            return _refusal(request, ErrorPage("invalid_request"))
        name, kind = str(record["ProviderName"]), str(record["ProviderType"])
        subject = form.get("subject", "").strip()
        try:
            claims = parse_claims(form.get("attributes", ""))
        except ValueError as exc:
            return _html(provider_page(request.path, name, kind, key, error=str(exc), subject=subject))
        if not subject:
            return _html(provider_page(request.path, name, kind, key, error="The subject is required."))
        code = self.service.state.token(32)
        store.answer(code, ProviderAnswer(key, name, subject, claims, now + FEDERATION_SECONDS))
        logger.debug("managed login: the stand-in for %s answered", name)
        if kind == "SAML":
            return _html(saml_post_page(f"{_base(request)}/saml2/idpresponse", code, key))
        return _redirect(f"{_base(request)}/oauth2/idpresponse?{urlencode({'code': code, 'state': key})}")

    async def idp_response(self, request: web.Request) -> web.StreamResponse:
        """Where the provider sends the browser back: sign the user in, then on to the app's callback."""
        pool = self._pool(request)
        if pool is None:
            return _no_domain()
        if request.method == "POST":
            form = _form_fields(await request.post())
            code, key = form.get("SAMLResponse"), form.get("RelayState")
        else:
            code, key = request.query.get("code"), request.query.get("state")
        try:
            login, answer = self.service.federation.store.redeem(code, key, self.service.state.now())
        except LookupError:
            return _refusal(request, ErrorPage("invalid_request"))
        query = dict(parse_qsl(login.query, keep_blank_values=True))
        try:
            parsed = self._authorize_request(pool, query)
        except (ErrorPage, AuthorizeRefusal) as exc:
            return _refusal(request, exc)
        record = pool.identity_providers.get(answer.provider)
        try:
            if record is None or parsed.identity_provider != answer.provider:
                raise errors.InvalidParameterException(UNAVAILABLE)
            user = self.service.federation.sign_in(
                pool, parsed.client_id, record, answer.subject, answer.claims
            )
        except errors.ServiceError as exc:
            refusal = AuthorizeRefusal("invalid_request", exc.message, parsed.redirect_uri, parsed.state)
            return _refusal(request, refusal)
        logger.debug("managed login: %s signed in through %s", user.username, answer.provider)
        key_, _session = self.service.start_browser_session((pool.id, user.sub))
        return self._signed_in_redirect(request, pool, parsed, key_)

    # ----- the app's back channel ------------------------------------------------------------------------
    async def token(self, request: web.Request) -> web.StreamResponse:
        pool = self._pool(request)
        if pool is None:
            return _no_domain()
        form = _form_fields(await request.post())
        logger.debug("managed login: token request, grant %s", form.get("grant_type"))
        try:
            body = self.service.endpoint.token(pool, form, request.headers.get("Authorization"))
        except OAuthError as exc:
            return web.json_response(exc.body(), status=exc.status)
        return web.json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def revoke(self, request: web.Request) -> web.StreamResponse:
        pool = self._pool(request)
        if pool is None:
            return _no_domain()
        form = _form_fields(await request.post())
        try:
            self.service.endpoint.revoke(pool, form, request.headers.get("Authorization"))
        except OAuthError as exc:
            return web.json_response(exc.body(), status=exc.status)
        return web.Response(status=200)

    async def user_info(self, request: web.Request) -> web.StreamResponse:
        pool = self._pool(request)
        if pool is None:
            return _no_domain()
        try:
            body = self.service.endpoint.user_info(pool, request.headers.get("Authorization"))
        except OAuthError as exc:
            challenge = f'Bearer error="{exc.error}", error_description="{exc.description}"'
            return web.json_response(exc.body(), status=exc.status, headers={"WWW-Authenticate": challenge})
        return web.json_response(body)
