"""The ``aiocognito`` command's argument parser (:func:`build_parser`) and :func:`main`: parse, run the
chosen command's handler, and turn errors into one line and an exit code.

Each subcommand's handler (``cmd_*``) lives in its command module (:mod:`.signin`, :mod:`.users`,
:mod:`.groups`, :mod:`.local`); ``build_parser`` declares every subcommand's options here, in one place,
and attaches the handler with ``set_defaults(handler=...)``. The exit codes and :class:`CliError` are
defined in ``_common``, which the command modules import too (they never import this module).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import sys
from collections.abc import Sequence

from .._errors import CognitoError, ConfigurationError, ServiceError
from ._common import EXIT_ERROR, EXIT_INTERRUPTED, CliError
from .groups import cmd_groups_add_users
from .local import cmd_demo, cmd_local
from .signin import cmd_sign_in, default_device_store
from .users import cmd_users_delete, cmd_users_export, cmd_users_import, cmd_users_list

__all__ = ["main", "build_parser"]


# ----- the parser -----------------------------------------------------------------------------------------
def _common_options(*, output: bool) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection")
    group.add_argument("--endpoint-url", help="a custom endpoint (a local pool, moto, a VPC endpoint)")
    group.add_argument(
        "--region", help="AWS region (default: from the environment, the profile or the pool id)"
    )
    group.add_argument("--profile", help="shared-config profile for credentials and region")
    group.add_argument("--debug", action="store_true", help="show tracebacks and the debug log")
    if output:
        group.add_argument("--output", choices=("json", "table", "csv"), help="output format")
    return common


def _bulk_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight (default 16)")
    parser.add_argument(
        "--rate", type=float, help="requests per second for the category (default: the quota)"
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: on a terminal)",
    )


def _user_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", nargs="?", metavar="FILE", help="usernames, one per line, or a CSV with a username column"
    )
    parser.add_argument("--username", action="append", metavar="NAME", help="a username (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``aiocognito`` command."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="aiocognito",
        description="Amazon Cognito user pools from the command line.",
        epilog="Exit codes: 0 done, 1 error, 2 usage, 3 some rows failed, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"aiocognito {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    plain, listing = _common_options(output=False), _common_options(output=True)

    p = commands.add_parser("sign-in", parents=[plain], help="sign in and print the tokens as JSON")
    p.add_argument("--user-pool-id", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret", help="the app client's secret (or AIOCOGNITO_CLIENT_SECRET)")
    p.add_argument("--username", help="default: asked")
    p.add_argument(
        "--flow",
        default="USER_SRP_AUTH",
        choices=(
            "USER_SRP_AUTH",
            "USER_PASSWORD_AUTH",
            "ADMIN_USER_PASSWORD_AUTH",
            "CUSTOM_AUTH",
            "USER_AUTH",
        ),
    )
    p.add_argument("--admin", action="store_true", help="use the admin (IAM-signed) sign-in operations")
    p.add_argument(
        "--remember-device", action="store_true", help="remember this device (skips MFA next time)"
    )
    p.add_argument("--device-name", help="the name of the remembered device")
    p.add_argument("--device-store", help=f"remembered devices file (default {default_device_store()})")
    p.set_defaults(handler=cmd_sign_in)

    users = commands.add_parser("users", help="list, export, import and delete users").add_subparsers(
        dest="users_command", metavar="ACTION", required=True
    )
    for name, handler, help_text in (
        ("list", cmd_users_list, "stream the users (JSON lines, a table or CSV)"),
        ("export", cmd_users_export, "write every user as CSV (the format `users import` reads)"),
    ):
        p = users.add_parser(name, parents=[listing], help=help_text)
        p.add_argument("--user-pool-id", required=True)
        p.add_argument("--filter", help="a ListUsers filter, e.g. 'email ^= \"ann\"'")
        p.add_argument("--attributes", help="comma-separated attribute columns")
        p.add_argument("--max-items", type=int, help="stop after this many users")
        if name == "export":
            p.add_argument("--file", help="write here instead of standard output")
        p.set_defaults(handler=handler)

    p = users.add_parser("import", parents=[plain], help="create users from a CSV file (resumable)")
    p.add_argument(
        "file", metavar="FILE.csv", help="username column, attribute columns, optional temporary_password"
    )
    p.add_argument("--user-pool-id", required=True)
    p.add_argument(
        "--result-file",
        help="outcome per row, JSON lines (default FILE.csv.results.jsonl); a rerun skips what it lists as done",
    )
    p.add_argument("--restart", action="store_true", help="ignore an existing result file")
    p.add_argument(
        "--send-invitations", action="store_true", help="let Cognito send invitations (default: suppressed)"
    )
    _bulk_options(p)
    p.set_defaults(handler=cmd_users_import)

    p = users.add_parser("delete", parents=[plain], help="delete users")
    p.add_argument("--user-pool-id", required=True)
    _user_source(p)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _bulk_options(p)
    p.set_defaults(handler=cmd_users_delete)

    groups = commands.add_parser("groups", help="group membership").add_subparsers(
        dest="groups_command", metavar="ACTION", required=True
    )
    p = groups.add_parser("add-users", parents=[plain], help="add users to a group")
    p.add_argument("--user-pool-id", required=True)
    p.add_argument("--group", required=True)
    _user_source(p)
    _bulk_options(p)
    p.set_defaults(handler=cmd_groups_add_users)

    p = commands.add_parser(
        "local", parents=[plain], help="serve a local user pool (needs the 'local' extra)"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9229)
    p.set_defaults(handler=cmd_local)

    p = commands.add_parser("demo", parents=[plain], help="run the sign-in journey against a local pool")
    p.add_argument("--user-pool-id")
    p.add_argument("--client-id")
    p.set_defaults(handler=cmd_demo)
    return parser


# ----- running a command ----------------------------------------------------------------------------------
def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(asyncio.run(args.handler(args)))
    except KeyboardInterrupt:
        sys.stderr.write("\naiocognito: interrupted\n")
        return EXIT_INTERRUPTED
    except (CognitoError, CliError, OSError, ValueError, csv.Error) as exc:
        if args.debug:
            raise
        prefix = "" if isinstance(exc, (CliError, ConfigurationError)) else f"{type(exc).__name__}: "
        if isinstance(exc, ServiceError):
            prefix = ""
        sys.stderr.write(f"aiocognito: error: {prefix}{_one_line(exc)}\n")
        return EXIT_ERROR
    except Exception as exc:  # a bug of ours: still one line, the traceback only with --debug
        if args.debug:
            raise
        sys.stderr.write(
            f"aiocognito: unexpected error: {type(exc).__name__}: {_one_line(exc)} (--debug shows where)\n"
        )
        return EXIT_ERROR
