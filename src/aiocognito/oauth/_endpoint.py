"""HTTP to the user pool domain: the token, revocation and userInfo endpoints, client authentication,
the retry rule, and the one place where aiohttp's exceptions become aiocognito's.

Retries follow ``_wire/retry.py``: a failure that certainly had no effect (the connection never opened,
HTTP 429) is repeated for every request; an ambiguous one (a 5xx, a timeout or a connection broken after
sending) only for requests marked ``repeatable`` (``client_credentials``, ``refresh_token``, revoke,
userInfo). The ``authorization_code`` exchange is not: a code works once, and a repeat after the first
attempt spent it would turn a success into ``invalid_grant``. With rotation on, a repeated refresh relies on
Cognito's retry grace period (``RetryGracePeriodSeconds``) for the old token still to work.

Log lines (logger ``aiocognito.oauth``, DEBUG) name the endpoint, the grant type and the status, never a
code, verifier, token or secret.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random as _random
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Literal

import aiohttp

from .._errors import (
    CognitoError,
    ConfigurationError,
    ConnectionFailedError,
    RequestTimeoutError,
)
from .._wire.retry import RetryPolicy, next_delay
from ._responses import answer_error, json_object

__all__ = ["AuthMethod", "DomainHttp", "LOGGER", "send_request"]

LOGGER = logging.getLogger("aiocognito.oauth")

AuthMethod = Literal["client_secret_basic", "client_secret_post"]
_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
#: Three attempts with short waits: a token request sits in front of a user or a worker.
DEFAULT_RETRIES = RetryPolicy(max_attempts=3, base_delay=0.2, max_delay=2.0)


async def send_request(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    form: Mapping[str, str] | None,
    headers: Mapping[str, str],
    timeout: aiohttp.ClientTimeout,
) -> tuple[int, Mapping[str, str], bytes]:
    """One request, no redirects followed; aiohttp's failures become :class:`TransportError` subclasses
    (``before_send`` set when the connection never opened, so nothing reached the server)."""
    host = url.split("/", 3)[2] if "://" in url else url
    try:
        async with session.request(
            method, url, data=form, headers=headers, timeout=timeout, allow_redirects=False
        ) as resp:
            return resp.status, resp.headers, await resp.read()
    except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
        raise ConnectionFailedError(
            f"cannot connect to {host}: {type(exc).__name__}", before_send=True
        ) from exc
    except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise RequestTimeoutError(f"no answer from {host} within the timeout") from exc
    except aiohttp.ClientError as exc:
        raise ConnectionFailedError(f"connection to {host} broke: {type(exc).__name__}") from exc


class DomainHttp:
    """One app client's requests to one user pool domain over an owned or borrowed aiohttp session."""

    def __init__(
        self,
        domain_url: str,
        client_id: str,
        client_secret: str | None,
        *,
        auth_method: AuthMethod = "client_secret_basic",
        http: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        retries: RetryPolicy | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
    ) -> None:
        if auth_method not in _AUTH_METHODS:
            raise ConfigurationError(f"auth_method must be one of {_AUTH_METHODS}")
        if not isinstance(client_id, str) or not client_id:
            raise ConfigurationError("client_id must be a non-empty str")
        if timeout <= 0:
            raise ConfigurationError("timeout must be > 0")
        self.domain_url = domain_url
        self.client_id = client_id
        self._secret = client_secret
        self.auth_method: AuthMethod = auth_method
        self._http = http
        self._owned: aiohttp.ClientSession | None = None
        self._closed = False
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 10.0))
        self.retries = retries if retries is not None else DEFAULT_RETRIES
        self._sleep = sleep
        self._random = random

    @property
    def has_secret(self) -> bool:
        return bool(self._secret)

    # -- session -----------------------------------------------------------------------------------

    def _session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ConfigurationError("this client is closed")
        if self._http is not None:
            return self._http
        if self._owned is None:
            self._owned = aiohttp.ClientSession(timeout=self._timeout)
        return self._owned

    async def aclose(self) -> None:
        """Close the session if it was opened here (a borrowed one stays open). Idempotent."""
        self._closed = True
        session, self._owned = self._owned, None
        if session is not None:
            await session.close()

    async def __aenter__(self) -> DomainHttp:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- requests ----------------------------------------------------------------------------------

    def _client_auth(self, form: dict[str, str], headers: dict[str, str]) -> None:
        """Add the client's credentials: HTTP Basic or body fields; a public client sends its id only."""
        if not self._secret:
            form["client_id"] = self.client_id
        elif self.auth_method == "client_secret_basic":
            # Cognito's ids and secrets are [0-9a-z], so RFC 6749's form-encoding before Base64 changes nothing.
            pair = f"{self.client_id}:{self._secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        else:
            form["client_id"] = self.client_id
            form["client_secret"] = self._secret

    async def call(
        self,
        path: str,
        *,
        method: str = "POST",
        form: Mapping[str, str] | None = None,
        client_auth: bool = True,
        bearer: str | None = None,
        repeatable: bool,
        what: str,
    ) -> tuple[int, bytes]:
        """Send a request to ``domain_url + path`` with the retry rule; returns a 2xx status and body.

        ``what`` names the request in logs and errors (``token:refresh_token``); it must hold no secret.

        Raises:
            OAuthError: the endpoint answered an OAuth error (typed by its code).
            ServiceError / ResponseParseError / TransportError: see ``_responses`` and the module docstring.
        """
        url = self.domain_url + path
        attempt = 0
        while True:
            attempt += 1
            body = dict(form or {})
            headers = {"Accept": "application/json"}
            if client_auth:
                self._client_auth(body, headers)
            if bearer is not None:
                headers["Authorization"] = f"Bearer {bearer}"
            error: CognitoError
            try:
                status, answer_headers, data = await send_request(
                    self._session(),
                    method,
                    url,
                    form=body if method == "POST" else None,
                    headers=headers,
                    timeout=self._timeout,
                )
            except (ConnectionFailedError, RequestTimeoutError) as exc:
                LOGGER.debug("%s %s (%s): %s", method, path, what, type(exc).__name__)
                error = exc
            else:
                LOGGER.debug("%s %s (%s) -> HTTP %d", method, path, what, status)
                if 200 <= status < 300:
                    return status, data
                error = answer_error(status, answer_headers, data, what)
            delay = next_delay(self.retries, attempt, error, repeatable=repeatable, random=self._random)
            if delay is None:
                raise error
            LOGGER.debug("%s %s (%s): attempt %d failed, again in %.2fs", method, path, what, attempt, delay)
            await self._sleep(delay)

    async def token(self, form: Mapping[str, str], *, repeatable: bool) -> dict[str, Any]:
        """POST ``/oauth2/token`` with ``form`` (its ``grant_type`` is logged) and the client's credentials."""
        what = f"token:{form.get('grant_type', '?')}"
        status, data = await self.call("/oauth2/token", form=form, repeatable=repeatable, what=what)
        return json_object(status, data, what)
