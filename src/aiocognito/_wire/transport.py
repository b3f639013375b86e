"""Sending one HTTP request: the aiohttp transport, its timeouts, and the one place where aiohttp's
exceptions become aiocognito's.

A transport is anything with ``async send(url, headers, body) -> RawResponse`` and ``async aclose()``;
tests may pass their own.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import aiohttp

from .._errors import ConfigurationError, ConnectionFailedError, RequestTimeoutError
from .._version import __version__

USER_AGENT = f"aiocognito/{__version__} (+aiohttp)"
#: Connections an owned session opens at most (aiohttp's default); more calls wait their turn.
MAX_CONNECTIONS = 100

__all__ = ["Timeout", "RawResponse", "Transport", "AiohttpTransport"]


@dataclass(frozen=True)
class Timeout:
    """Seconds allowed for connecting, and for the whole request (connect + send + answer).

    The clock starts when the request goes on the wire: time spent queued behind the client's connection
    limit does not count.
    """

    total: float | None = 30.0
    connect: float | None = 10.0

    def to_aiohttp(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.total, sock_connect=self.connect)


class RawResponse(NamedTuple):
    status: int
    headers: Any  # a case-insensitive mapping
    body: bytes


class Transport(Protocol):
    async def send(self, url: str, headers: dict[str, str], body: bytes) -> RawResponse: ...

    async def aclose(self) -> None: ...


class AiohttpTransport:
    """POSTs over one aiohttp session, owned (closed by ``aclose``) or borrowed (left open)."""

    __slots__ = ("_session", "_owner", "_timeout", "_closed", "max_connections")

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        timeout: Timeout = Timeout(),
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self._session = session
        self._owner = session is None
        self._timeout = timeout.to_aiohttp()
        self._closed = False
        #: How many requests can be on the wire at once (0: no limit); the client queues the rest.
        self.max_connections = (
            max_connections if session is None else session.connector.limit if session.connector else 0
        )

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session, opened on first use when this transport owns it."""
        if self._closed:
            raise ConfigurationError("this client is closed")
        session = self._session
        if session is None:
            session = self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(limit=self.max_connections, ttl_dns_cache=300),
                skip_auto_headers=("Accept-Encoding",),
                auto_decompress=False,
                headers={"User-Agent": USER_AGENT},
            )
        return session

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> RawResponse:
        try:
            async with self.session.post(url, data=body, headers=headers, timeout=self._timeout) as resp:
                try:
                    data = await resp.read()
                except aiohttp.ClientPayloadError as exc:
                    raise ConnectionFailedError(
                        f"HTTP {resp.status} from {_origin(url)}, but the body was cut short",
                        status=resp.status,
                    ) from exc
                return RawResponse(resp.status, resp.headers, data)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # The connection was never made: the request did not leave this machine.
            if _is_dns_failure(exc):
                raise ConnectionFailedError(
                    f"cannot resolve the host name of {_origin(url)} (DNS lookup failed): "
                    "check the region and the endpoint URL",
                    before_send=True,
                ) from exc
            raise ConnectionFailedError(
                f"cannot connect to {_origin(url)}: {type(exc).__name__}", before_send=True
            ) from exc
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise RequestTimeoutError(f"no answer from {_origin(url)} within the timeout") from exc
        except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            raise ConnectionFailedError(f"connection to {_origin(url)} broke: {type(exc).__name__}") from exc
        except aiohttp.ClientError as exc:
            raise ConnectionFailedError(
                f"HTTP failure talking to {_origin(url)}: {type(exc).__name__}"
            ) from exc

    async def aclose(self) -> None:
        self._closed = True
        if self._owner and self._session is not None and not self._session.closed:
            await self._session.close()


def _is_dns_failure(exc: BaseException) -> bool:
    """True when the host name could not be resolved (aiohttp >= 3.10 has its own class for it)."""
    if type(exc).__name__ == "ClientConnectorDNSError":
        return True
    return isinstance(getattr(exc, "os_error", None), socket.gaierror)


def _origin(url: str) -> str:
    return url.split("/", 3)[2] if "://" in url else url
