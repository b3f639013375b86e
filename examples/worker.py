"""A long-running worker that keeps its Cognito session fresh and survives restarts.

    AIOCOGNITO_USER_POOL_ID=eu-west-1_AbC AIOCOGNITO_CLIENT_ID=... AIOCOGNITO_PASSWORD=... \\
        python examples/worker.py --username svc-reports [--token-file PATH] [--interval 60] [--iterations N]

It signs in once, saves the tokens in a :class:`~aiocognito.FileTokenStore` (mode 0600) and, when
restarted, resumes from that file without signing in again (the password is then not needed). Each
iteration asks ``session.access_token()`` for a valid token, which refreshes it shortly before it expires
(one refresh for any number of concurrent callers), and does its work with it: here ``GetUser``, which
Cognito refuses for an expired or revoked token. When the refresh token itself is rejected (expired,
revoked, the user signed out everywhere), it signs in again if AIOCOGNITO_PASSWORD is set.

A service account should not need MFA; if Cognito asks for a code, it is read from the terminal (when
there is one) and the saved tokens carry the worker on from there.

SIGINT or SIGTERM stops it after the current iteration (exit code 0). A failed iteration (Cognito
unreachable after the client's retries) is reported and the next one tried; exit code 1 means it cannot
sign in, or ``MAX_FAILURES_IN_A_ROW`` iterations failed in a row.

Configuration (environment): AIOCOGNITO_USER_POOL_ID, AIOCOGNITO_CLIENT_ID, AIOCOGNITO_CLIENT_SECRET
(if the app client has one), AWS_REGION (default: the pool's), AIOCOGNITO_ENDPOINT_URL, and
AIOCOGNITO_PASSWORD (read from the environment, never from the command line, which other users can see).
Nothing secret is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from aiocognito import (
    CognitoClient,
    CognitoError,
    ConfigurationError,
    FileTokenStore,
    MfaCodeRequired,
    ServiceError,
    Session,
    SignedIn,
    SignInRequired,
    errors,
)

__all__ = ["main", "run"]

DEFAULT_TOKEN_FILE = Path("~/.cache/aiocognito/worker-tokens.json")
#: The worker gives up (exit code 1) after this many failed iterations in a row.
MAX_FAILURES_IN_A_ROW = 5


class CannotSignIn(Exception):
    """The worker has no valid tokens and cannot get new ones (message is safe to print)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="aiocognito worker example")
    parser.add_argument("--username", required=True, help="the account the worker signs in as")
    parser.add_argument("--token-file", type=Path, default=DEFAULT_TOKEN_FILE, help="where tokens are saved")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between iterations")
    parser.add_argument(
        "--iterations", type=int, default=None, help="stop after N iterations (default: never)"
    )
    return parser


async def _ask_code(prompt: str) -> str | None:
    """A code typed on the terminal, or None when nobody is there to type it."""
    if not sys.stdin.isatty():
        return None
    return (await asyncio.to_thread(input, prompt)).strip() or None


async def sign_in(session: Session, username: str, password: str | None, out: TextIO) -> None:
    """Sign in with the password (answering an MFA code from the terminal if one is asked)."""
    if not password:
        raise CannotSignIn("no saved tokens can be used and AIOCOGNITO_PASSWORD is not set")
    try:
        step = await session.sign_in(username, password)
        if isinstance(step, MfaCodeRequired):
            code = await _ask_code(f"{step.name} code for {username}: ")
            if code is None:
                raise CannotSignIn(f"the account needs {step.name}: run the worker once in a terminal")
            step = await step.respond(code)
    except ServiceError as exc:
        raise CannotSignIn(f"sign-in refused: {exc.code}") from None
    if not isinstance(step, SignedIn):
        raise CannotSignIn(f"sign-in needs {getattr(step, 'name', step)!r}, which this worker cannot answer")
    print(f"signed in as {session.username}", file=out, flush=True)


async def do_work(cognito: CognitoClient, access_token: str) -> str:
    """One unit of work that needs a valid access token; returns a line to print."""
    user = await cognito.get_user(AccessToken=access_token)
    return f"{user['Username']} has {len(user.get('UserAttributes', []))} attributes"


def _install_stop_handlers(stop: asyncio.Event) -> list[signal.Signals]:
    """Set ``stop`` on SIGINT/SIGTERM; returns the signals handled (none off the main thread/Windows)."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            continue
        installed.append(sig)
    return installed


async def run(
    args: argparse.Namespace, environ: Mapping[str, str] = os.environ, out: TextIO = sys.stdout
) -> int:
    """The worker; returns the exit code."""
    pool_id = environ.get("AIOCOGNITO_USER_POOL_ID", "")
    client_id = environ.get("AIOCOGNITO_CLIENT_ID", "")
    if not pool_id or not client_id:
        raise ConfigurationError("set AIOCOGNITO_USER_POOL_ID and AIOCOGNITO_CLIENT_ID")
    password = environ.get("AIOCOGNITO_PASSWORD") or None
    stop = asyncio.Event()
    handled = _install_stop_handlers(stop)
    loop = asyncio.get_running_loop()
    try:
        async with CognitoClient(
            region=environ.get("AWS_REGION") or pool_id.split("_", 1)[0],
            endpoint_url=environ.get("AIOCOGNITO_ENDPOINT_URL") or None,
        ) as cognito:
            session = cognito.session(
                user_pool_id=pool_id,
                client_id=client_id,
                client_secret=environ.get("AIOCOGNITO_CLIENT_SECRET") or None,
                token_store=FileTokenStore(args.token_file.expanduser()),
            )
            if await session.load(args.username):
                print(f"resumed saved tokens for {session.username}", file=out, flush=True)
            else:
                await sign_in(session, args.username, password, out)
            done = failures = 0
            needs_sign_in = False
            while not stop.is_set() and (args.iterations is None or done < args.iterations):
                try:
                    if needs_sign_in:
                        await sign_in(session, args.username, password, out)
                        needs_sign_in = False
                    token = await session.access_token()  # refreshed first when close to expiry
                    try:
                        line = await do_work(cognito, token)
                    except errors.NotAuthorizedException:  # revoked early (a sign-out elsewhere)
                        await session.refresh()
                        line = await do_work(cognito, await session.access_token())
                except SignInRequired:  # the refresh token is dead: sign in again
                    print("saved tokens no longer valid: signing in again", file=out, flush=True)
                    needs_sign_in = True
                    continue
                except CognitoError as exc:  # a failure after the client's retries: try next time
                    failures += 1
                    print(f"iteration failed: {type(exc).__name__}", file=sys.stderr, flush=True)
                    if failures >= MAX_FAILURES_IN_A_ROW:
                        raise
                else:
                    failures = 0
                    done += 1
                    print(f"iteration {done}: {line}", file=out, flush=True)
                    if args.iterations is not None and done >= args.iterations:
                        break
                try:
                    await asyncio.wait_for(stop.wait(), timeout=args.interval)
                except asyncio.TimeoutError:
                    pass
            print(f"stopped after {done} iteration(s)" + (" (signal)" if stop.is_set() else ""), file=out)
            return 0
    except CannotSignIn as exc:
        print(f"worker: {exc}", file=sys.stderr)
        return 1
    except CognitoError as exc:
        print(f"worker: {type(exc).__name__}", file=sys.stderr)
        return 1
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the worker until it is done or stopped; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(run(args))
    except ConfigurationError as exc:
        print(f"worker: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
