"""The ``aiocognito`` command's argument parser (:func:`build_parser`) and :func:`main`: parse, run the
chosen command's handler, and turn errors into one line and an exit code.

Each subcommand's handler (``cmd_*``) lives in its command module (:mod:`.signin`, :mod:`.pools`,
:mod:`.users`, :mod:`.groups`, :mod:`.local`); ``build_parser`` declares every subcommand's options here, in
one place (but for ``login`` and ``token``, which :mod:`.oauth` declares beside their handlers), with a
description for each command and a help text for each option, and attaches the handler with
``set_defaults(handler=...)``. A command is offered only the options that apply to it: the connection
options (``--endpoint-url``, ``--region``, ``--profile``) go to the commands that call Cognito. The exit
codes and :class:`CliError` are defined in ``_common``, which the command modules import too (they never
import this module).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

from .._errors import CognitoError, ConfigurationError, ServiceError
from ._common import EXIT_ERROR, EXIT_INTERRUPTED, CliError
from .groups import cmd_groups_add_users, cmd_groups_create
from .local import cmd_demo, cmd_local
from .oauth import add_commands as add_oauth_commands
from .pools import (
    FLOWS,
    attribute,
    cmd_clients_create,
    cmd_clients_list,
    cmd_pools_create,
    cmd_pools_list,
    cmd_users_create,
)
from .signin import cmd_sign_in, default_device_store
from .users import cmd_users_delete, cmd_users_export, cmd_users_import, cmd_users_list
from .worker import cmd_worker

__all__ = ["main", "build_parser"]


# ----- the parser -----------------------------------------------------------------------------------------
_ENDPOINT_HELP = (
    "a custom endpoint: `aiocognito local`, moto, a VPC endpoint (default: "
    "$AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER or $AWS_ENDPOINT_URL when set, else the region's Cognito "
    "endpoint)"
)


def _options(
    *, connection: bool, output: Sequence[str] = (), output_help: str = ""
) -> argparse.ArgumentParser:
    """A parent parser: the connection options (when the command calls Cognito), --debug, --output."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection" if connection else "general")
    if connection:
        group.add_argument("--endpoint-url", metavar="URL", help=_ENDPOINT_HELP)
        group.add_argument(
            "--region",
            help="AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile, or the user pool id's)",
        )
        group.add_argument(
            "--profile", help="the shared-config profile that gives the credentials and the region"
        )
    group.add_argument("--debug", action="store_true", help="show tracebacks and the debug log")
    if output:
        group.add_argument("--output", choices=output, help=output_help)
    return parent


def _bulk_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight (default 16)")
    parser.add_argument(
        "--rate", type=float, help="requests per second for the category (default: the quota)"
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar on standard error (default: when it is a terminal)",
    )


def _user_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", nargs="?", metavar="FILE", help="usernames, one per line, or a CSV with a username column"
    )
    parser.add_argument("--username", action="append", metavar="NAME", help="a username (repeatable)")


def _pool_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--user-pool-id", required=True, metavar="ID", help="the user pool, e.g. eu-west-1_AbC123"
    )


def _command(
    commands: Any,
    name: str,
    help_text: str,
    description: str,
    parents: Sequence[argparse.ArgumentParser],
    **kw: Any,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, parents=list(parents), help=help_text, description=description, **kw
    )
    return parser


def _group(commands: Any, name: str, help_text: str, description: str) -> Any:
    """A command with actions (``aiocognito NAME ACTION``): its subparsers, one per action."""
    return _command(commands, name, help_text, description, []).add_subparsers(
        dest=f"{name}_command",
        metavar="ACTION",
        required=True,
        help=f"`aiocognito {name} ACTION --help` tells more",
    )


_LOCAL_EPILOG = """\
The seed file (JSON, version 1). Only the names, usernames and passwords are required; the values shown
are the defaults, or examples:
  {"version": 1,
   "pools": [{"name": "main",
              "mfa": "OFF", "totp": true, "sms": false, "email_mfa": false,  (mfa: OFF, OPTIONAL, ON)
              "device_tracking": null,                              (null, "always" or "opt-in")
              "username_attributes": [], "alias_attributes": [],   (email, phone_number, ...)
              "required_attributes": [],                           (standard attributes)
              "password_policy": {"minimum_length": 8, "require_uppercase": true,
                  "require_lowercase": true, "require_numbers": true, "require_symbols": true,
                  "temporary_password_validity_days": 7},
              "domain": "my-login",                                 (a prefix domain)
              "resource_servers": [{"identifier": "orders", "name": "Orders API",
                                    "scopes": {"read": "read orders"}}],
              "identity_providers": [{"name": "Google", "type": "Google",
                                      "details": {...}, "attribute_mapping": {...}}],
              "clients": [{"name": "web", "secret": false, "flows": ["USER_SRP_AUTH"],
                           "rotation": false, "grace_seconds": 0,   (refresh always allowed)
                           "identity_providers": ["COGNITO"],
                           "oauth": {"flows": ["code"], "scopes": ["openid", "orders/read"],
                                     "callback_urls": [...], "logout_urls": [...]}}],
              "groups": [{"name": "admins", "description": "...", "precedence": 1}],
              "users": [{"username": "alice", "password": "...", "temporary": false,
                         "attributes": {"email": "alice@example.com"}, "groups": ["admins"]}]}]}
Errors name the entry (seed.json: pools[0].users[1].groups[0]: ...). With --seed-output, the ids:
  {"version": 1, "endpoint_url": ..., "region": ..., "pools": {"main": {"id": ...,
   "domain": "my-login", "domain_url": ..., "resource_servers": ["orders"],
   "clients": {"web": {"id": ..., "secret": null}}, "groups": ["admins"],
   "users": {"alice": {"username": "alice", "status": "CONFIRMED"}}}}}
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``aiocognito`` command."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="aiocognito",
        description="Amazon Cognito user pools from the command line: on AWS, or on a local user pool "
        "(`aiocognito local`) with --endpoint-url.",
        epilog="Exit codes: 0 done, 1 error, 2 usage, 3 some rows failed, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"aiocognito {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, help="`aiocognito COMMAND --help` tells more"
    )
    plain = _options(connection=True)
    listing = _options(
        connection=True, output=("json", "table", "csv"), output_help="json (one object a line), table or csv"
    )
    creating = _options(
        connection=True,
        output=("text", "json"),
        output_help="text (default: the new ids on one line, tab-separated) or json",
    )
    offline = _options(connection=False)

    # ----- sign-in
    p = _command(
        commands,
        "sign-in",
        "sign in and print the tokens as JSON",
        "Sign in to an app client and print the tokens as JSON. The password, MFA codes and a new password "
        "are asked without echo on a terminal, else read one line each from standard input.",
        [plain],
    )
    p.add_argument("user", nargs="?", metavar="USERNAME", help="the user to sign in (default: asked)")
    _pool_id(p)
    p.add_argument("--client-id", required=True, metavar="ID", help="the app client to sign in to")
    p.add_argument(
        "--client-secret",
        metavar="SECRET",
        help="the app client's secret, if it has one (better: $AIOCOGNITO_CLIENT_SECRET)",
    )
    p.add_argument("--username", metavar="NAME", help="the same as USERNAME")
    p.add_argument(
        "--flow",
        default="USER_SRP_AUTH",
        choices=FLOWS,
        help="the authentication flow (default USER_SRP_AUTH; the app client must allow it)",
    )
    p.add_argument("--admin", action="store_true", help="use the admin (IAM-signed) sign-in operations")
    p.add_argument(
        "--remember-device", action="store_true", help="remember this device (skips MFA next time)"
    )
    p.add_argument("--device-name", metavar="NAME", help="the name of the remembered device")
    p.add_argument(
        "--device-store", metavar="FILE", help=f"remembered devices file (default {default_device_store()})"
    )
    p.set_defaults(handler=cmd_sign_in)
    add_oauth_commands(commands, offline)  # login, token: the user pool domain's endpoints (.oauth)

    # ----- pools and app clients
    pools = _group(commands, "pools", "create and list user pools", "Create and list user pools.")
    p = _command(
        pools,
        "create",
        "create a user pool and print its id",
        "Create a user pool and print its id (with --output json: its id, name and MFA setting).",
        [creating],
    )
    p.add_argument("name", metavar="NAME", help="the pool's name")
    p.add_argument(
        "--mfa",
        choices=("OFF", "OPTIONAL", "ON"),
        default="OFF",
        help="multi-factor authentication with an authenticator app (TOTP); default OFF",
    )
    p.add_argument(
        "--username-attribute",
        action="append",
        choices=("email", "phone_number"),
        help="users sign in with this instead of a username (repeatable)",
    )
    p.add_argument(
        "--alias-attribute",
        action="append",
        choices=("email", "phone_number", "preferred_username"),
        help="users may sign in with this as well as their username (repeatable)",
    )
    p.set_defaults(handler=cmd_pools_create)
    p = _command(
        pools, "list", "list the user pools", "List the user pools of the account and region.", [listing]
    )
    p.set_defaults(handler=cmd_pools_list)

    clients = _group(
        commands, "clients", "create and list app clients", "Create and list a user pool's app clients."
    )
    p = _command(
        clients,
        "create",
        "create an app client and print its id (and secret)",
        "Create an app client and print its id, and its secret when it has one. Refreshing tokens is "
        "always allowed (ALLOW_REFRESH_TOKEN_AUTH).",
        [creating],
    )
    _pool_id(p)
    p.add_argument("name", metavar="NAME", help="the app client's name")
    p.add_argument("--secret", action="store_true", help="generate a client secret (for server-side apps)")
    p.add_argument(
        "--flow",
        action="append",
        choices=FLOWS,
        help="a sign-in flow to allow (repeatable; default USER_SRP_AUTH)",
    )
    p.add_argument(
        "--rotation",
        action="store_true",
        help="turn on refresh-token rotation (each refresh gives a new refresh token)",
    )
    p.set_defaults(handler=cmd_clients_create)
    p = _command(
        clients, "list", "list the app clients of a pool", "List a user pool's app clients.", [listing]
    )
    _pool_id(p)
    p.set_defaults(handler=cmd_clients_list)

    # ----- users
    users = _group(
        commands,
        "users",
        "create, list, export, import and delete users",
        "Create, list, export, import and delete a user pool's users.",
    )
    p = _command(
        users,
        "create",
        "create a user with a password",
        "Create a user with a password and print the pool's username for it (a generated id where users "
        "sign in with their email or phone). The password is asked twice without echo on a terminal, else "
        "read as one line of standard input; it is never taken from the command line. No invitation is sent.",
        [creating],
    )
    _pool_id(p)
    p.add_argument(
        "username",
        metavar="USERNAME",
        help="the username (an email or phone number where the pool asks for one)",
    )
    p.add_argument(
        "--attribute",
        action="append",
        type=attribute,
        metavar="NAME=VALUE",
        help="a user attribute, e.g. email=alice@example.com (repeatable)",
    )
    p.add_argument(
        "--temporary",
        action="store_true",
        help="make the password temporary: it must be changed at the first sign-in (FORCE_CHANGE_PASSWORD)",
    )
    p.add_argument("--group", action="append", metavar="NAME", help="add the user to this group (repeatable)")
    p.set_defaults(handler=cmd_users_create)
    for name, handler, help_text, description in (
        (
            "list",
            cmd_users_list,
            "stream the users (JSON lines, a table or CSV)",
            "Stream a user pool's users as JSON lines, a table (the default) or CSV.",
        ),
        (
            "export",
            cmd_users_export,
            "write every user as CSV (the format `users import` reads)",
            "Write every user as CSV, with every attribute of the pool's schema by default (the format "
            "`users import` reads).",
        ),
    ):
        p = _command(users, name, help_text, description, [listing])
        _pool_id(p)
        p.add_argument("--filter", help="a ListUsers filter, e.g. 'email ^= \"ann\"'")
        p.add_argument(
            "--attributes",
            metavar="NAMES",
            help="comma-separated attribute columns (default: "
            + ("email)" if name == "list" else "every attribute of the pool's schema)"),
        )
        p.add_argument("--max-items", type=int, metavar="N", help="stop after this many users")
        if name == "export":
            p.add_argument("--file", help="write here instead of standard output")
        p.set_defaults(handler=handler)

    p = _command(
        users,
        "import",
        "create users from a CSV file (resumable)",
        "Create users from a CSV file, paced to Cognito's quotas. Each row's outcome goes to a result file; "
        "a rerun skips the rows it lists as done.",
        [plain],
    )
    p.add_argument(
        "file", metavar="FILE.csv", help="username column, attribute columns, optional temporary_password"
    )
    _pool_id(p)
    p.add_argument(
        "--result-file",
        metavar="FILE",
        help="outcome per row, JSON lines (default FILE.csv.results.jsonl); a rerun skips what it lists as done",
    )
    p.add_argument("--restart", action="store_true", help="ignore an existing result file")
    p.add_argument(
        "--send-invitations", action="store_true", help="let Cognito send invitations (default: suppressed)"
    )
    p.add_argument(
        "--redis",
        metavar="URL",
        help="submit the rows as a job to this Redis (redis://host:6379/0) for `aiocognito worker` processes "
        "and show the whole job's progress until every row is settled (needs the 'redis' extra)",
    )
    _bulk_options(p)
    p.set_defaults(handler=cmd_users_import)

    p = _command(
        users,
        "delete",
        "delete users",
        "Delete users named with --username or listed in FILE (asks for confirmation unless --yes).",
        [plain],
    )
    _pool_id(p)
    _user_source(p)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _bulk_options(p)
    p.set_defaults(handler=cmd_users_delete)

    # ----- groups
    groups = _group(
        commands, "groups", "create groups, add users to them", "Create groups and add users to them."
    )
    p = _command(
        groups,
        "create",
        "create a group",
        "Create a group in a user pool and print its name.",
        [creating],
    )
    _pool_id(p)
    p.add_argument("name", metavar="NAME", help="the group's name")
    p.add_argument("--description", help="what the group is for")
    p.add_argument(
        "--precedence",
        type=int,
        metavar="N",
        help="the group's rank when a user is in several (lower comes first)",
    )
    p.set_defaults(handler=cmd_groups_create)
    p = _command(
        groups,
        "add-users",
        "add users to a group",
        "Add users named with --username or listed in FILE to a group.",
        [plain],
    )
    _pool_id(p)
    p.add_argument("--group", required=True, metavar="NAME", help="the group")
    _user_source(p)
    _bulk_options(p)
    p.set_defaults(handler=cmd_groups_add_users)

    # ----- workers of bulk jobs in Redis
    p = _command(
        commands,
        "worker",
        "settle the rows of bulk jobs in Redis (needs the 'redis' extra)",
        "Settle the rows of bulk jobs submitted to Redis (`users import --redis`), together with any number "
        "of other workers, until the job (or every job not yet done) is done. A worker that dies leaves its "
        "rows to the others; a Redis unreachable for 30 seconds ends the worker (exit status 1), its rows "
        "staying in Redis.",
        [plain],
    )
    p.add_argument(
        "--redis", required=True, metavar="URL", help="the Redis that holds the jobs (redis://host:6379/0)"
    )
    p.add_argument(
        "--job", metavar="ID", help="work on this job only (default: every job not done, oldest first)"
    )
    p.add_argument("--concurrency", type=int, default=16, help="calls in flight (default 16)")
    p.add_argument(
        "--rate",
        type=float,
        help="requests per second per quota category: for this worker alone (N workers send up to N times "
        "it), or for all workers together with --shared-quota (default: the quota)",
    )
    p.add_argument(
        "--shared-quota",
        metavar="ACCOUNT_ID",
        help="pace every worker of this AWS account and region together through the same Redis "
        "(aiocognito.redis.RedisQuotaPacer), so that together they stay under the quota",
    )
    p.add_argument(
        "--reclaim-after",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="take over the rows of a worker silent this long (default 30)",
    )
    p.add_argument(
        "--keep-running", action="store_true", help="when no job is left, wait for new ones (default: exit)"
    )
    p.set_defaults(handler=cmd_worker)

    # ----- the local pool and the demo
    p = _command(
        commands,
        "local",
        "serve a local user pool (needs the 'local' extra)",
        textwrap.fill(
            "Serve a local user pool (moto underneath; real SRP, MFA, devices and tokens) until Ctrl-C. "
            "It accepts any AWS credentials. With --seed it first creates the pools, app clients, groups "
            "and users a seed file describes. The banner says how to point the CLI and the SDKs at it, "
            "and the seeded ids.",
            78,
        ),
        [offline],
        epilog=_LOCAL_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=9229, help="the port to listen on (default 9229; 0 picks a free one)"
    )
    p.add_argument("--seed", metavar="FILE", help="a JSON seed file: what to create before serving")
    p.add_argument(
        "--seed-output", metavar="FILE", help="write the seeded ids (and client secrets) to FILE as JSON"
    )
    p.add_argument(
        "--triggers",
        metavar="MODULE:OBJECT",
        help="run these Lambda trigger functions in the pool: a mapping {'PreSignUp': fn, ...} (or by function "
        "ARN) or an object with such attributes, as module:object or path/to/file.py:object",
    )
    p.set_defaults(handler=cmd_local)

    p = _command(
        commands,
        "demo",
        "run the sign-in journey against a local pool",
        "Run a user's whole journey (SRP sign-in, new password, TOTP set-up, remembered device, refresh, "
        "token checks, sign-out), step by step: against a local pool started in this process, or against "
        "--endpoint-url (such as `aiocognito local`), or an existing pool with --user-pool-id and --client-id.",
        [offline],
    )
    p.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="run against this endpoint (e.g. `aiocognito local`'s) instead of a pool in this process",
    )
    p.add_argument(
        "--user-pool-id",
        metavar="ID",
        help="an existing pool (with --client-id): a throw-away user is made there, then deleted",
    )
    p.add_argument("--client-id", metavar="ID", help="its app client: SRP and refresh allowed, no secret")
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
