"""The managed login of a local pool: its records and the decisions behind each page (no HTTP here).

:class:`ManagedLogin` finds the user pool of a domain, remembers who is signed in at it (the browser
session behind the ``cognito`` cookie), and turns a finished sign-in into the answer to the authorize
request: a single-use code on the callback URL (``?code=...&state=...``), or for the implicit grant the
tokens in its fragment. The HTTP side is ``_routes``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from .._api import Context
from .._api.domains import find_domain
from .._issuer import TokenIssuer
from .._lookups import Lookups
from .._mfa import MfaService
from .._refresh_auth import RefreshAuth
from .._sessions import ChallengeSessions
from .._state import PoolState, UserKey
from ._authorize import AuthorizeRequest
from ._federation import FederatedSignIn
from ._grants import BROWSER_SESSION_SECONDS, CODE_SECONDS, AuthorizationCode, BrowserSession, GrantStore
from ._signin import PageSignIn
from ._token_endpoint import HOSTED_AUTH_SOURCE, TokenEndpoint

if TYPE_CHECKING:
    from .._records import Client, UserPool

__all__ = ["ManagedLogin", "with_query"]

logger = logging.getLogger("aiocognito.testing.managed_login")


def with_query(url: str, params: Mapping[str, str | None], *, fragment: bool = False) -> str:
    """``url`` with ``params`` (None values left out) added to its query, or as its fragment."""
    encoded = urlencode({k: v for k, v in params.items() if v is not None})
    if fragment:
        return f"{url}#{encoded}"
    return f"{url}{'&' if '?' in url else '?'}{encoded}"


class ManagedLogin:
    """Everything the managed login pages and endpoints of one local pool share."""

    def __init__(
        self,
        state: PoolState,
        issuer: TokenIssuer,
        lookups: Lookups,
        sessions: ChallengeSessions,
        mfa: MfaService,
        refresh: RefreshAuth,
        context: Context,
    ) -> None:
        self.state = state
        self.issuer = issuer
        self.lookups = lookups
        self.grants = GrantStore()
        self.sign_in = PageSignIn(state, lookups, sessions, mfa)
        self.federation = FederatedSignIn(state)
        self.endpoint = TokenEndpoint(state, issuer, lookups, refresh, self.grants, context)

    def __repr__(self) -> str:
        return f"<ManagedLogin {self.grants!r}>"

    # ----- lookups ---------------------------------------------------------------------------------------
    def pool_of_domain(self, domain: str) -> UserPool | None:
        """The user pool a prefix or custom domain belongs to (None: no such domain)."""
        found = find_domain(self.state, domain)
        return found[0] if found is not None else None

    @staticmethod
    def client(pool: UserPool, client_id: str | None) -> Client | None:
        return pool.clients.get(client_id) if client_id else None

    # ----- browser sessions ------------------------------------------------------------------------------
    def start_browser_session(self, user: UserKey) -> tuple[str, BrowserSession]:
        """A new sign-in session at the domain: ``(cookie value, session)``."""
        now = self.state.now()
        key = self.state.token(32)
        session = BrowserSession(user, int(now), now + BROWSER_SESSION_SECONDS)
        self.grants.add_session(key, session)
        return key, session

    def browser_session(self, pool: UserPool, cookie: str | None) -> BrowserSession | None:
        """The cookie's session when it is this pool's and its user can still sign in."""
        session = self.grants.session(cookie, self.state.now())
        if session is None or session.user[0] != pool.id:
            return None
        found = self.lookups.user_by_key(session.user)
        if found is None or not found[1].enabled:
            return None
        return session

    # ----- the answer to an authorize request ------------------------------------------------------------
    def complete(self, pool: UserPool, request: AuthorizeRequest, session: BrowserSession) -> str:
        """Where to send the browser once the user is signed in (the callback URL with a code or tokens)."""
        if request.response_type == "token":
            return self._implicit(pool, request, session)
        code = str(uuid.UUID(bytes=self.state.random_bytes(16), version=4))
        now = self.state.now()
        record = AuthorizationCode(
            client_id=request.client_id,
            redirect_uri=request.redirect_uri,
            user=session.user,
            scopes=request.scopes,
            auth_time=session.auth_time,
            expires_at=now + CODE_SECONDS,
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
            nonce=request.nonce,
        )
        self.grants.add_code(code, record, now)
        logger.debug("managed login: authorization code issued to client %s", request.client_id)
        return with_query(request.redirect_uri, {"code": code, "state": request.state})

    def _implicit(self, pool: UserPool, request: AuthorizeRequest, session: BrowserSession) -> str:
        client = pool.clients[request.client_id]
        found = self.lookups.user_by_key(session.user)
        assert found is not None  # browser_session() checked it
        result, _ = self.issuer.authentication_result(
            pool,
            client,
            found[1],
            device_key=None,
            auth_time=session.auth_time,
            with_refresh=False,
            source=HOSTED_AUTH_SOURCE,
            scopes=request.scopes,
            nonce=request.nonce,
        )
        params: dict[str, str | None] = {}
        if "openid" in request.scopes:
            params["id_token"] = result["IdToken"]
        params.update(
            {
                "access_token": result["AccessToken"],
                "token_type": "Bearer",
                "expires_in": str(result["ExpiresIn"]),
                "state": request.state,
            }
        )
        logger.debug("managed login: implicit tokens issued to client %s", request.client_id)
        return with_query(request.redirect_uri, params, fragment=True)
