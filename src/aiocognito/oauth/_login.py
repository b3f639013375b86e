"""Managed login (the hosted UI): the authorization code flow with PKCE against a user pool domain, and
the refresh, revocation, userInfo and logout endpoints around it.

:meth:`ManagedLogin.start` makes no request: it returns the URL to send the browser to and the
:class:`PendingLogin` to keep (server-side) until the browser comes back. :meth:`ManagedLogin.finish`
checks the callback's ``state`` before anything is sent, exchanges the code once (never repeated after
an ambiguous failure: :class:`CodeExchangeUncertain`), and, with a ``verifier``, verifies the ID and
access tokens and checks that the ID token's ``nonce`` is the pending login's and its ``aud`` this client.

``TokenVerifier`` checks signatures, issuer, expiry, ``token_use`` and that ``aud``/``client_id`` is one
of its configured clients; it has no nonce check, so the nonce (and the exact audience) are compared here
after its verification.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Protocol

import aiohttp
from authlib.common.security import generate_token  # type: ignore[import-untyped]

from .._errors import (
    ConfigurationError,
    InvalidToken,
    ResponseParseError,
    ServiceError,
    TransportError,
)
from .._tokens.token_set import TokenSet
from .._wire.retry import failure_kind
from ._discovery import OpenIdConfiguration
from ._endpoint import AuthMethod, DomainHttp
from ._errors import CodeExchangeUncertain, PendingLoginError
from ._pkce import PendingLogin, TokenFactory, check_domain_url, code_from_callback, logout_url
from ._pkce import new_pending_login as _new_pending_login
from ._responses import json_object, token_set

__all__ = ["ManagedLogin"]


class _Verifier(Protocol):
    """What :class:`ManagedLogin` needs from :class:`aiocognito.TokenVerifier`."""

    async def verify(self, token: str, token_use: Any = "access") -> dict[str, Any]: ...


class ManagedLogin:
    """One app client's managed login on one user pool domain.

    Args:
        domain_url: ``https://<prefix>.auth.<region>.amazoncognito.com``, a custom domain, or
            ``LocalUserPool.domain_url(domain)``.
        client_id: the app client (AllowedOAuthFlows with ``code``, the redirect URI among its CallbackURLs).
        redirect_uri: where Cognito sends the browser back with the code.
        client_secret: the app client's secret, if it has one.
        scopes: the default scopes of :meth:`start` (``openid`` brings the ID token).
        verifier: a :class:`~aiocognito.TokenVerifier` for the pool; with it :meth:`finish` and
            :meth:`refresh` verify the tokens (and the nonce) before returning them.
        auth_method: ``client_secret_basic`` (HTTP Basic) or ``client_secret_post`` (body fields).
        http: an aiohttp session to borrow; else one is opened and closed by :meth:`aclose`.
        timeout: seconds allowed for one request.
        token_factory: randomness for verifier, state and nonce (``length -> str``).
        clock: wall-clock seconds, for ``PendingLogin.created_at`` and ``TokenSet.received_at``.
        monotonic: monotonic seconds, for ``TokenSet.received_monotonic``.
    """

    def __init__(
        self,
        domain_url: str,
        client_id: str,
        *,
        redirect_uri: str,
        client_secret: str | None = None,
        scopes: Sequence[str] = ("openid", "email", "profile"),
        verifier: _Verifier | None = None,
        auth_method: AuthMethod = "client_secret_basic",
        http: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        token_factory: TokenFactory = generate_token,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = DomainHttp(
            check_domain_url(domain_url),
            client_id,
            client_secret,
            auth_method=auth_method,
            http=http,
            timeout=timeout,
        )
        self.redirect_uri = redirect_uri
        self.scopes = tuple(scopes)
        self.verifier = verifier
        self._token_factory = token_factory
        self._clock = clock
        self._monotonic = monotonic

    @classmethod
    def from_discovery(
        cls, config: OpenIdConfiguration, client_id: str, *, redirect_uri: str, **options: Any
    ) -> ManagedLogin:
        """A managed login on the domain an issuer's OpenID configuration names (see :func:`discover`).

        Raises:
            ConfigurationError: the configuration lists no ``/oauth2/authorize`` endpoint (no domain).
        """
        domain = config.domain_url
        if domain is None:
            raise ConfigurationError("the OpenID configuration names no user pool domain")
        return cls(domain, client_id, redirect_uri=redirect_uri, **options)

    @property
    def domain_url(self) -> str:
        return self._http.domain_url

    @property
    def client_id(self) -> str:
        return self._http.client_id

    def __repr__(self) -> str:
        return f"ManagedLogin({self.domain_url!r}, client_id={self.client_id!r})"

    # -- the code flow -----------------------------------------------------------------------------

    def start(
        self,
        *,
        state: str | None = None,
        nonce: str | None = None,
        identity_provider: str | None = None,
        idp_identifier: str | None = None,
        prompt: str | None = None,
        lang: str | None = None,
        scopes: Sequence[str] | None = None,
    ) -> PendingLogin:
        """A new sign-in: redirect the browser to ``.url`` and keep the result until the callback.

        ``identity_provider`` (``COGNITO``, ``Google``, a SAML provider name) or ``idp_identifier`` skip
        the provider choice; ``prompt="login"`` asks for the password even with a live sign-in session;
        ``lang`` picks the managed login language. No request is made.
        """
        return _new_pending_login(
            self.domain_url,
            self.client_id,
            redirect_uri=self.redirect_uri,
            scopes=self.scopes if scopes is None else scopes,
            now=self._clock(),
            token_factory=self._token_factory,
            state=state,
            nonce=nonce,
            identity_provider=identity_provider,
            idp_identifier=idp_identifier,
            prompt=prompt,
            lang=lang,
        )

    async def finish(self, pending: PendingLogin, callback_url: str) -> TokenSet:
        """Complete a sign-in from the URL the browser came back to.

        Raises:
            StateMismatch: the callback's state is missing or not ``pending``'s (nothing was sent).
            OAuthError: the callback carries an error (``AccessDenied``, ...), or the token endpoint
                refused the code (``InvalidGrant``: used, expired, wrong verifier or redirect URI).
            CodeExchangeUncertain: the exchange failed after it may have reached Cognito; sign in again.
            InvalidToken: with a verifier, a token failed verification (``reason="nonce"``: the ID
                token's nonce is not the pending login's; ``"audience"``: not issued to this client).
        """
        if pending.client_id not in (None, self.client_id):
            raise PendingLoginError("the pending login was started for another app client")
        code = code_from_callback(pending, callback_url)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "code_verifier": pending.code_verifier,
        }
        try:
            answer = await self._http.token(form, repeatable=False)
        except (TransportError, ServiceError, ResponseParseError) as exc:
            if failure_kind(exc) == "ambiguous":  # may have reached Cognito and spent the code
                raise CodeExchangeUncertain(exc) from exc
            raise
        tokens = self._token_set(answer, None)
        await self._verify(tokens, nonce=pending.nonce or None)
        return tokens

    async def refresh(self, refresh_token: str) -> TokenSet:
        """New ID and access tokens from ``refresh_token`` (the ``refresh_token`` grant). The refresh
        token in the result is the new one when the client rotates them, else ``refresh_token``.

        Raises:
            InvalidGrant: the refresh token is expired, revoked or another client's.
        """
        answer = await self._http.token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}, repeatable=True
        )
        tokens = self._token_set(answer, refresh_token)
        await self._verify(tokens, nonce=None)
        return tokens

    async def revoke(self, refresh_token: str) -> None:
        """Revoke ``refresh_token`` and the access tokens issued from it (``/oauth2/revoke``).

        Raises:
            OAuthError: refused (``InvalidClient``, ``InvalidRequest``, ``unsupported_token_type``...).
        """
        await self._http.call("/oauth2/revoke", form={"token": refresh_token}, repeatable=True, what="revoke")

    async def user_info(self, access_token: str) -> dict[str, Any]:
        """The user's attributes from ``/oauth2/userInfo`` (the access token needs the ``openid`` scope).

        Raises:
            InvalidBearerToken: the token is expired, revoked, not this pool's or lacks ``openid``.
        """
        status, body = await self._http.call(
            "/oauth2/userInfo",
            method="GET",
            client_auth=False,
            bearer=access_token,
            repeatable=True,
            what="userInfo",
        )
        return json_object(status, body, "userInfo")

    def logout_url(
        self,
        *,
        logout_uri: str | None = None,
        redirect_uri: str | None = None,
        state: str | None = None,
    ) -> str:
        """The ``/logout`` URL: to ``logout_uri`` (a sign-out URL of the client) after signing out, or,
        with ``redirect_uri``, back to the sign-in page (``response_type=code``, this login's scopes)."""
        return logout_url(
            self.domain_url,
            self.client_id,
            logout_uri=logout_uri,
            redirect_uri=redirect_uri,
            state=state,
            scopes=self.scopes if redirect_uri is not None else (),
        )

    # -- plumbing ----------------------------------------------------------------------------------

    def _token_set(self, answer: dict[str, Any], refresh_token: str | None) -> TokenSet:
        return token_set(
            answer,
            received_at=self._clock(),
            received_monotonic=self._monotonic(),
            refresh_token=refresh_token,
        )

    async def _verify(self, tokens: TokenSet, *, nonce: str | None) -> None:
        """With a verifier: both tokens verified, then the ID token's audience and nonce compared."""
        if self.verifier is None:
            return
        await self.verifier.verify(tokens.access_token, "access")
        if not tokens.id_token:
            if nonce:
                raise InvalidToken("nonce", "no ID token came back to carry the nonce")
            return
        claims = await self.verifier.verify(tokens.id_token, "id")
        if claims.get("aud") != self.client_id:
            raise InvalidToken("audience", "the ID token was issued to another app client")
        if nonce:
            got = claims.get("nonce")
            if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
                raise InvalidToken("nonce", "the ID token's nonce is not the one this login sent")

    async def aclose(self) -> None:
        """Close the HTTP session if it was opened here (a borrowed one stays open). Idempotent."""
        await self._http.aclose()

    async def __aenter__(self) -> ManagedLogin:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
