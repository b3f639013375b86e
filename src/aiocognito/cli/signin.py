"""``aiocognito sign-in [USERNAME]``: sign in, answer the challenges from the terminal, print the tokens.

The username is the positional USERNAME, or ``--username`` (the older form), or asked."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import ServiceError
from ._common import EXIT_OK, CliError, ask, ask_secret, client_for, dumps

if TYPE_CHECKING:
    from .._signin.steps import Step


def default_device_store() -> Path:
    """Where remembered devices are kept unless ``--device-store`` says otherwise."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "aiocognito" / "devices.json"


async def _answer(step: Step, args: argparse.Namespace) -> Step:
    """Ask the user for what ``step`` needs and answer it; returns the next step."""
    from .._signin.steps import (
        ChallengeSelectionRequired,
        CustomChallenge,
        MfaCodeRequired,
        MfaSelectionRequired,
        NewPasswordRequired,
        TotpSetupRequired,
    )

    if isinstance(step, MfaCodeRequired):
        where = f" sent to {step.destination}" if step.destination else ""
        label = "authenticator app code" if step.kind == "TOTP" else f"{step.kind} code{where}"
        return await _with_retries(lambda: step.respond(ask_secret(f"MFA {label}: ")))
    if isinstance(step, NewPasswordRequired):
        new_password = ask_secret("New password: ")
        if sys.stdin.isatty() and ask_secret("Repeat the new password: ") != new_password:
            raise CliError("the two new passwords differ")
        attributes = {name: ask(f"{name}: ") for name in step.missing_attributes}
        return await step.respond(new_password, attributes)
    if isinstance(step, MfaSelectionRequired):
        choice = ask(f"MFA method ({', '.join(step.options)}): ").strip()
        return await step.respond(choice)
    if isinstance(step, TotpSetupRequired):
        secret = await step.associate()
        sys.stderr.write(
            "Set up an authenticator app with this key:\n"
            f"  secret: {secret}\n  uri:    {step.provisioning_uri('aiocognito')}\n"
        )
        return await _with_retries(lambda: step.respond(ask_secret("Authenticator app code: ")))
    if isinstance(step, CustomChallenge):
        shown = {k: v for k, v in step.parameters.items() if k != "USERNAME"}
        if shown:
            sys.stderr.write(f"Challenge: {dumps(shown)}\n")
        return await step.respond(ask_secret("Answer: "))
    if isinstance(step, ChallengeSelectionRequired):
        choice = ask(f"Sign in with ({', '.join(step.available)}): ").strip().upper()
        password = ask_secret("Password: ") if choice in ("PASSWORD", "PASSWORD_SRP") else None
        return await step.respond(choice, password)
    name = getattr(step, "name", type(step).__name__)
    raise CliError(f"the {name} challenge cannot be answered from the command line")


async def _with_retries(respond: Any, attempts: int = 3) -> Step:
    """Re-ask a code after CodeMismatchException (the challenge stays usable)."""
    for attempt in range(1, attempts + 1):
        try:
            step: Step = await respond()
            return step
        except ServiceError as exc:
            if exc.code != "CodeMismatchException" or attempt == attempts:
                raise
            sys.stderr.write("Wrong code, try again.\n")
    raise AssertionError("unreachable")


async def cmd_sign_in(args: argparse.Namespace) -> int:
    from .._signin.steps import SignedIn
    from .._signin.stores import FileDeviceStore

    if args.user and args.username and args.user != args.username:
        raise CliError(f"two usernames: {args.user!r} and --username {args.username!r}")
    username = args.user or args.username or ask("Username: ").strip()
    client_secret = args.client_secret or os.environ.get("AIOCOGNITO_CLIENT_SECRET") or None
    store = FileDeviceStore(args.device_store or default_device_store())
    async with client_for(args) as cognito:
        session = cognito.session(
            user_pool_id=args.user_pool_id,
            client_id=args.client_id,
            client_secret=client_secret,
            device_store=store,
            admin=args.admin,
        )
        needs_password = args.flow not in ("CUSTOM_AUTH", "USER_AUTH")
        password = ask_secret("Password: ") if needs_password else None
        step = await session.sign_in(username, password, flow=args.flow)
        del password
        for _ in range(10):
            if isinstance(step, SignedIn):
                break
            step = await _answer(step, args)
        else:
            raise CliError("too many challenges")
        assert isinstance(step, SignedIn)
        tokens = step.tokens
        result: dict[str, Any] = {
            "IdToken": tokens.id_token,
            "AccessToken": tokens.access_token,
            "RefreshToken": tokens.refresh_token,
            "ExpiresIn": tokens.expires_in,
            "TokenType": tokens.token_type,
        }
        if args.remember_device:
            if step.new_device is not None:
                result["DeviceKey"] = await session.remember_device(args.device_name)
                sys.stderr.write(f"Device remembered in {store.path}\n")
            elif session.device_key:
                result["DeviceKey"] = session.device_key
            else:
                sys.stderr.write("The pool did not offer to remember this device (device tracking off?).\n")
        elif session.device_key:
            result["DeviceKey"] = session.device_key
    print(json.dumps(result, indent=2))
    return EXIT_OK
