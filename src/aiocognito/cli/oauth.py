"""``aiocognito login`` (managed login from a terminal) and ``aiocognito token`` (a machine-to-machine token).

``login`` runs the authorization code flow with PKCE as ``aws sso login`` and ``gcloud auth login`` do: it
listens on the loopback address for the redirect, prints the authorize URL on standard error ("Sign in at:")
and opens the browser on it (unless ``--no-browser``), and when the browser comes back with the code,
exchanges it and prints the tokens as JSON on standard output. The page the browser lands on says how the
exchange ended (it is answered once the exchange is over). The first request on the callback path ends the
wait: a callback with an error (``access_denied``), or with a ``state`` that is not this login's, is a
one-line error (exit 1), and so is ``--timeout`` passing without one. Cognito matches callback URLs
exactly, port included: register the ``--redirect-uri`` (default ``http://localhost:8976/callback``) on the
app client; a ``localhost`` URI is served on 127.0.0.1 (and on ::1 when the machine has it).

``token`` asks the domain's token endpoint for a ``client_credentials`` token with the app client's secret
(``--client-secret`` or ``$AIOCOGNITO_CLIENT_SECRET``) and prints the access token.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import urllib.parse
import webbrowser
from typing import TYPE_CHECKING, Any

from ._common import EXIT_OK, CliError

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["DEFAULT_REDIRECT_URI", "add_commands", "cmd_login", "cmd_token"]

DEFAULT_REDIRECT_URI = "http://localhost:8976/callback"
_DONE_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>aiocognito login</title>"
    "<p id=status>{text}</p></html>"
)
#: Seconds the callback page waits for the code exchange (and the server, at the end, for that page).
_PAGE_WAIT = 15.0


def add_commands(commands: Any, parent: argparse.ArgumentParser) -> None:
    """Declare ``login`` and ``token`` on the ``aiocognito`` parser's subcommands."""
    p = commands.add_parser(
        "login",
        parents=[parent],
        help="sign in through managed login in the browser and print the tokens as JSON",
        description="Sign in through the user pool's managed login: open the browser on the authorize URL "
        "(authorization code with PKCE), receive the code on a loopback redirect and print the tokens as "
        "JSON. The app client must allow the code flow and list --redirect-uri among its callback URLs.",
    )
    _domain_and_client(p)
    p.add_argument(
        "--redirect-uri",
        default=DEFAULT_REDIRECT_URI,
        metavar="URL",
        help=f"an http://localhost or http://127.0.0.1 callback URL to listen on (default {DEFAULT_REDIRECT_URI})",
    )
    p.add_argument(
        "--scope",
        action="append",
        metavar="SCOPE",
        help="a scope (repeatable; default: openid email profile)",
    )
    p.add_argument("--identity-provider", metavar="NAME", help="go straight to this identity provider")
    p.add_argument("--no-browser", action="store_true", help="print the URL to open instead of opening it")
    p.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for the browser (default 300)"
    )
    p.set_defaults(handler=cmd_login)

    p = commands.add_parser(
        "token",
        parents=[parent],
        help="print a machine-to-machine access token (client_credentials)",
        description="Ask the user pool domain's token endpoint for an access token with the client_credentials "
        "grant and print it (--output json: the token, its scopes and lifetime).",
    )
    _domain_and_client(p)
    p.add_argument(
        "--client-credentials",
        action="store_true",
        help="the grant (the only one this command uses; accepted for clarity)",
    )
    p.add_argument(
        "--scope",
        action="append",
        metavar="SCOPE",
        help="a custom scope (repeatable; default: all the client's)",
    )
    p.add_argument("--output", choices=("text", "json"), default="text", help="text (the token) or json")
    p.set_defaults(handler=cmd_token)


def _domain_and_client(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--domain",
        required=True,
        metavar="URL",
        help="the user pool domain: https://PREFIX.auth.REGION.amazoncognito.com, a custom domain, or a local "
        "pool's domain URL",
    )
    p.add_argument("--client-id", required=True, metavar="ID", help="the app client")
    p.add_argument(
        "--client-secret",
        metavar="SECRET",
        help="the app client's secret, if it has one (better: $AIOCOGNITO_CLIENT_SECRET)",
    )


def _secret(args: argparse.Namespace) -> str | None:
    return args.client_secret or os.environ.get("AIOCOGNITO_CLIENT_SECRET") or None


def _loopback(redirect_uri: str) -> tuple[tuple[str, ...], int, str]:
    """(addresses to listen on, port, path) of a loopback redirect URI; CliError for any other.

    The port must be given and not 0: Cognito compares the whole callback URL with the registered ones, so
    the browser comes back to exactly this port. ``localhost`` is served on both loopback addresses
    (a browser may try ::1 first).
    """
    usage = "--redirect-uri must be http://localhost:PORT/... or http://127.0.0.1:PORT/..."
    try:
        parts = urllib.parse.urlsplit(redirect_uri)
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        raise CliError(usage) from None
    if parts.scheme != "http" or parts.hostname not in ("localhost", "127.0.0.1") or not port:
        raise CliError(usage)
    hosts = ("127.0.0.1", "::1") if parts.hostname == "localhost" else ("127.0.0.1",)
    return hosts, port, parts.path or "/"


async def _listen(runner: web.AppRunner, hosts: tuple[str, ...], port: int) -> None:
    """Listen on ``port`` of the first address (required) and of the others (where the machine has them)."""
    from aiohttp import web

    for number, host in enumerate(hosts):
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            if number == 0:
                raise CliError(
                    f"cannot listen on {host}:{port} ({exc.strerror or exc}): pick another --redirect-uri"
                ) from None


async def cmd_login(args: argparse.Namespace) -> int:
    from aiohttp import web

    from ..oauth import ManagedLogin

    hosts, port, path = _loopback(args.redirect_uri)
    loop = asyncio.get_running_loop()
    arrived: asyncio.Future[str] = loop.create_future()  # the callback URL
    outcome: asyncio.Future[str] = loop.create_future()  # what the browser's page says about the exchange

    async def callback(request: web.Request) -> web.Response:
        if arrived.done():
            text = "This sign-in has already come back: see the terminal."
        else:
            arrived.set_result(str(request.url))
            try:
                text = await asyncio.wait_for(asyncio.shield(outcome), _PAGE_WAIT)
            except asyncio.TimeoutError:
                text = "Sign-in still in progress: see the terminal."
        return web.Response(text=_DONE_PAGE.format(text=text), content_type="text/html")

    app = web.Application()
    app.router.add_get(path, callback)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=_PAGE_WAIT)
    await runner.setup()
    try:
        await _listen(runner, hosts, port)
        scopes = tuple(args.scope) if args.scope else ("openid", "email", "profile")
        async with ManagedLogin(
            args.domain,
            args.client_id,
            client_secret=_secret(args),
            redirect_uri=args.redirect_uri,
            scopes=scopes,
        ) as login:
            pending = login.start(identity_provider=args.identity_provider)
            sys.stderr.write(f"Sign in at:\n  {pending.url}\n")
            sys.stderr.flush()
            if not args.no_browser:
                await asyncio.to_thread(webbrowser.open, pending.url)
            try:
                callback_url = await asyncio.wait_for(arrived, args.timeout)
            except asyncio.TimeoutError:
                raise CliError(f"no sign-in came back within {args.timeout:g} seconds") from None
            try:
                tokens = await login.finish(pending, callback_url)
            except BaseException:
                outcome.set_result("Sign-in failed: see the terminal.")
                raise
            outcome.set_result("Signed in: you can close this tab.")
    finally:
        await runner.cleanup()  # after the callback's page is answered (it waits for the outcome)
    result = {
        "IdToken": tokens.id_token,
        "AccessToken": tokens.access_token,
        "RefreshToken": tokens.refresh_token,
        "ExpiresIn": tokens.expires_in,
        "TokenType": tokens.token_type,
    }
    print(json.dumps(result, indent=2))
    return EXIT_OK


async def cmd_token(args: argparse.Namespace) -> int:
    from .._tokens.token_set import decode_claims
    from ..oauth import ClientCredentials

    secret = _secret(args)
    if secret is None:
        raise CliError(
            "the client_credentials grant needs the app client's secret: --client-secret or $AIOCOGNITO_CLIENT_SECRET"
        )
    scopes = tuple(args.scope or ())
    async with ClientCredentials(args.domain, args.client_id, secret, scopes=scopes) as source:
        token = await source.access_token()
    if args.output == "json":
        claims = decode_claims(token)
        print(
            json.dumps({"AccessToken": token, "Scope": claims.get("scope"), "ExpiresAt": claims.get("exp")})
        )
    else:
        print(token)
    return EXIT_OK
