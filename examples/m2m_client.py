"""A service that calls an API protected by Cognito with a machine-to-machine token (client_credentials).

    AIOCOGNITO_DOMAIN_URL=https://my-login.auth.eu-west-1.amazoncognito.com AIOCOGNITO_CLIENT_ID=... \\
    AIOCOGNITO_CLIENT_SECRET=... python examples/m2m_client.py https://api.example.com/orders \\
        [--scope orders/read] [--requests 10] [--concurrency 5]

No user signs in: the app client (with a secret, the ``client_credentials`` OAuth flow and custom scopes of
a resource server) gets an access token from the user pool domain's token endpoint, and the service sends
it as ``Authorization: Bearer`` to the API, which checks it with :class:`aiocognito.TokenVerifier` (the
client id and the scope; the aiohttp and FastAPI integrations do it in one line: ``auth.require(scopes=
"orders/read")``). :class:`aiocognito.oauth.ClientCredentials` keeps the token: any number of concurrent
requests share one token request, and it is renewed a minute before it expires. A 401 from the API (the
token revoked, keys rotated) drops it and retries once with a new one.

It prints one line per request (the status and the start of the API's answer, never the token) and exits 1
if any request failed (no token, the API unreachable, or not a 2xx answer: a 403 when the token lacks the
scope the API requires), 2 when a variable is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping, Sequence

import aiohttp

from aiocognito import CognitoError
from aiocognito.oauth import ClientCredentials

__all__ = ["call_api", "main"]


async def call_api(
    source: ClientCredentials, http: aiohttp.ClientSession, url: str, scopes: Sequence[str]
) -> tuple[int, str]:
    """GET ``url`` with a bearer token; one retry with a new token after a 401. Returns (status, body)."""
    for attempt in (1, 2):
        token = await source.access_token(scopes)
        async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
            body = await response.text()
            if response.status != 401 or attempt == 2:
                return response.status, body
        source.invalidate(scopes)
    raise AssertionError("unreachable")


async def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    missing = [
        n
        for n in ("AIOCOGNITO_DOMAIN_URL", "AIOCOGNITO_CLIENT_ID", "AIOCOGNITO_CLIENT_SECRET")
        if not environ.get(n)
    ]
    if missing:
        print(f"set {', '.join(missing)}", file=sys.stderr)
        return 2
    scopes = tuple(args.scope or ())
    gate = asyncio.Semaphore(args.concurrency)
    async with (
        ClientCredentials(
            environ["AIOCOGNITO_DOMAIN_URL"],
            environ["AIOCOGNITO_CLIENT_ID"],
            environ["AIOCOGNITO_CLIENT_SECRET"],
        ) as source,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
    ):

        async def one(number: int) -> bool:
            async with gate:
                try:
                    status, body = await call_api(source, http, args.url, scopes)
                except CognitoError as error:  # no token: wrong secret, scope not allowed, domain unreachable
                    print(f"request {number}: no token: {type(error).__name__}: {error}")
                    return False
                except (aiohttp.ClientError, asyncio.TimeoutError) as error:  # the API did not answer
                    print(f"request {number}: {type(error).__name__}")
                    return False
            print(f"request {number}: {status} {' '.join(body[:200].split())}")  # one line
            return 200 <= status < 300

        results = await asyncio.gather(*(one(n) for n in range(1, args.requests + 1)))
    return 0 if all(results) else 1


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("url", help="the API to call")
    parser.add_argument(
        "--scope", action="append", help="a custom scope to ask for (repeatable; default: all allowed)"
    )
    parser.add_argument("--requests", type=int, default=10, help="how many requests (default 10)")
    parser.add_argument("--concurrency", type=int, default=5, help="requests in flight (default 5)")
    return asyncio.run(run(parser.parse_args(argv), environ))


if __name__ == "__main__":
    sys.exit(main())
