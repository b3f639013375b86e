"""``aiocognito login`` (managed login from a terminal) and ``aiocognito token`` (a machine-to-machine token).

``login`` runs the authorization code flow with PKCE as ``aws sso login`` and ``gcloud auth login`` do: it
listens on the loopback address for the redirect, opens the browser on the authorize URL (or prints it),
and when the browser comes back with the code, exchanges it and prints the tokens as JSON. Cognito matches
callback URLs exactly, port included: register the ``--redirect-uri`` (default
``http://localhost:8976/callback``) on the app client.

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
from typing import Any

from aiohttp import web

from ._common import EXIT_OK, CliError

__all__ = ["DEFAULT_REDIRECT_URI", "add_commands", "cmd_login", "cmd_token"]

DEFAULT_REDIRECT_URI = "http://localhost:8976/callback"
_DONE_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>aiocognito login</title>"
    "<p id=status>{text}</p></html>"
)


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


def _loopback(redirect_uri: str) -> tuple[str, int, str]:
    """(host to bind, port, path) of a loopback redirect URI; CliError for any other."""
    parts = urllib.parse.urlsplit(redirect_uri)
    if parts.scheme != "http" or parts.hostname not in ("localhost", "127.0.0.1") or parts.port is None:
        raise CliError("--redirect-uri must be http://localhost:PORT/... or http://127.0.0.1:PORT/...")
    return "127.0.0.1", parts.port, parts.path or "/"


async def cmd_login(args: argparse.Namespace) -> int:
    from ..oauth import ManagedLogin

    host, port, path = _loopback(args.redirect_uri)
    arrived: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def callback(request: web.Request) -> web.Response:
        if not arrived.done():
            arrived.set_result(str(request.url))
        text = (
            "Signed in: you can close this tab."
            if "code" in request.query
            else "Sign-in ended: see the terminal."
        )
        return web.Response(text=_DONE_PAGE.format(text=text), content_type="text/html")

    app = web.Application()
    app.router.add_get(path, callback)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            raise CliError(
                f"cannot listen on {host}:{port} ({exc.strerror}): pick another --redirect-uri"
            ) from None
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
            tokens = await login.finish(pending, callback_url)
    finally:
        await runner.cleanup()
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
