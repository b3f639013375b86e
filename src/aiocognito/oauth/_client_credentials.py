"""Machine-to-machine access tokens: the ``client_credentials`` grant at the domain's token endpoint
(:class:`ClientCredentials`) and the GetClientToken API operation (:class:`ClientTokenSource`), both on
the one cache and single flight of ``_token_cache``.

Neither object's repr, log lines nor errors hold the client secret or a token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Protocol

import aiohttp

from .._errors import ConfigurationError, ProtocolError
from .._wire.retry import RetryPolicy
from ._endpoint import AuthMethod, DomainHttp
from ._pkce import check_domain_url
from ._responses import client_token
from ._token_cache import TokenCache, scope_key

__all__ = ["ClientCredentials", "ClientTokenSource"]


class _M2MSource:
    """What both sources share: the default scopes, the cache, ``access_token``/``invalidate``."""

    _cache: TokenCache

    def __init__(self, scopes: Sequence[str]) -> None:
        self.scopes = tuple(sorted(scope_key(scopes)))

    def _key(self, scopes: Sequence[str] | None) -> frozenset[str]:
        return scope_key(self.scopes if scopes is None else scopes)

    async def access_token(self, scopes: Sequence[str] | None = None) -> str:
        """A valid access token for ``scopes`` (None: the source's default scopes; empty: every custom
        scope the app client is allowed). Cached per scope set and renewed ``renew_before`` seconds before
        it expires; concurrent callers share one request, and a failed request reaches all of them.

        Raises:
            OAuthError / ServiceError: the token was refused (``InvalidClient``, ``InvalidScope``, ...).
            TransportError: the endpoint could not be reached (after the retries).
        """
        return await self._cache.get(self._key(scopes))

    def invalidate(self, scopes: Sequence[str] | None = None) -> None:
        """Forget the cached token of ``scopes`` (None: every cached token), e.g. after an API refused it."""
        self._cache.invalidate(None if scopes is None else scope_key(scopes))

    @property
    def fetches(self) -> int:
        """How many token requests this source has started (a retry counts once)."""
        return self._cache.fetches


class ClientCredentials(_M2MSource):
    """Access tokens from the ``client_credentials`` grant of a user pool domain's token endpoint.

    The app client needs a secret, ``client_credentials`` in AllowedOAuthFlows and custom scopes (from a
    resource server) in AllowedOAuthScopes. ``async with`` or :meth:`aclose` closes the HTTP session when it
    was opened here (``http`` is borrowed and left open).

    Args:
        domain_url: ``https://<prefix>.auth.<region>.amazoncognito.com``, a custom domain, or
            ``LocalUserPool.domain_url(domain)``.
        client_id, client_secret: the app client's credentials.
        scopes: the default scopes of :meth:`access_token` (empty: all the client is allowed).
        auth_method: ``client_secret_basic`` (HTTP Basic) or ``client_secret_post`` (body fields).
        http: an aiohttp session to borrow.
        renew_before: renew a token this many seconds before it expires (at most half its lifetime).
        clock: monotonic seconds, for expiry.
        timeout: seconds allowed for one request.
        retries: the retry policy for 5xx, 429 and connection failures (default: 3 attempts).
    """

    def __init__(
        self,
        domain_url: str,
        client_id: str,
        client_secret: str,
        *,
        scopes: Sequence[str] = (),
        auth_method: AuthMethod = "client_secret_basic",
        http: aiohttp.ClientSession | None = None,
        renew_before: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 10.0,
        retries: RetryPolicy | None = None,
    ) -> None:
        if not isinstance(client_secret, str) or not client_secret:
            raise ConfigurationError("client_credentials needs the app client's secret")
        super().__init__(scopes)
        self._http = DomainHttp(
            check_domain_url(domain_url),
            client_id,
            client_secret,
            auth_method=auth_method,
            http=http,
            timeout=timeout,
            retries=retries,
        )
        self._cache = TokenCache(self._fetch, renew_before=renew_before, clock=clock)

    @property
    def domain_url(self) -> str:
        return self._http.domain_url

    @property
    def client_id(self) -> str:
        return self._http.client_id

    def __repr__(self) -> str:
        return f"ClientCredentials({self.domain_url!r}, client_id={self.client_id!r}, scopes={self.scopes!r})"

    async def _fetch(self, scopes: tuple[str, ...]) -> tuple[str, int]:
        form = {"grant_type": "client_credentials"}
        if scopes:
            form["scope"] = " ".join(scopes)
        return client_token(await self._http.token(form, repeatable=True))

    async def aclose(self) -> None:
        """Stop a request in flight, forget the tokens, close an owned session. Idempotent."""
        await self._cache.aclose()
        await self._http.aclose()

    async def __aenter__(self) -> ClientCredentials:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class _ClientTokenClient(Protocol):
    """What :class:`ClientTokenSource` needs from :class:`aiocognito.CognitoClient`."""

    async def get_client_token(
        self, *, ClientId: str, Secret: str, Scopes: Sequence[str] | None = None
    ) -> Any: ...


class ClientTokenSource(_M2MSource):
    """Access tokens from the GetClientToken operation (app clients with ``ALLOW_CLIENT_TOKEN_AUTH``),
    cached and shared as :class:`ClientCredentials` does. Requests go through ``client`` (its endpoint,
    credentials, retries); closing the source does not close the client.
    """

    def __init__(
        self,
        client: _ClientTokenClient,
        client_id: str,
        client_secret: str,
        *,
        scopes: Sequence[str] = (),
        renew_before: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(client_secret, str) or not client_secret:
            raise ConfigurationError("GetClientToken needs the app client's secret")
        if not isinstance(client_id, str) or not client_id:
            raise ConfigurationError("client_id must be a non-empty str")
        super().__init__(scopes)
        self._client = client
        self.client_id = client_id
        self._secret = client_secret
        self._cache = TokenCache(self._fetch, renew_before=renew_before, clock=clock)

    def __repr__(self) -> str:
        return f"ClientTokenSource(client_id={self.client_id!r}, scopes={self.scopes!r})"

    async def _fetch(self, scopes: tuple[str, ...]) -> tuple[str, int]:
        answer = await self._client.get_client_token(
            ClientId=self.client_id, Secret=self._secret, Scopes=list(scopes) if scopes else None
        )
        result = answer.get("ClientAuthenticationResult") if isinstance(answer, dict) else None
        if not isinstance(result, dict):
            raise ProtocolError("GetClientToken answered no ClientAuthenticationResult")
        return client_token(
            {"access_token": result.get("AccessToken"), "expires_in": result.get("ExpiresIn")}
        )

    async def aclose(self) -> None:
        """Stop a request in flight and forget the tokens (the client stays open). Idempotent."""
        await self._cache.aclose()

    async def __aenter__(self) -> ClientTokenSource:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
