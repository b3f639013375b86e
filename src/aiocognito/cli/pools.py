"""``aiocognito pools create|list``, ``clients create|list`` and ``users create``: make a user pool, an app
client or a user (on AWS, or on any endpoint such as ``aiocognito local``) and print its ids.

The create commands print the ids on one line, tab-separated (``--output json``: one JSON object); the
list commands stream JSON lines, a table or CSV. A user's password is asked without echo on a terminal, or
read as one line of standard input; it is never printed, logged nor taken from the command line (where
other users and the shell history would see it).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from .._errors import CognitoError
from ._common import EXIT_OK, CliError, ask_secret, client_for, dumps

#: the sign-in flows an app client can allow (ALLOW_REFRESH_TOKEN_AUTH is always added)
FLOWS = ("USER_SRP_AUTH", "USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "CUSTOM_AUTH", "USER_AUTH")


def _emit(args: argparse.Namespace, record: dict[str, Any], ids: Sequence[str]) -> None:
    """A create command's answer: the record as JSON with ``--output json``, else the ids on one line."""
    print(dumps(record) if args.output == "json" else "\t".join(ids), flush=True)


async def _write_rows(
    rows: AsyncIterator[dict[str, Any]], columns: Sequence[tuple[str, str, int]], output: str
) -> None:
    """Stream ``rows`` as JSON lines, CSV or a table; ``columns`` are (key, header, the table's least width).

    Table cells are never cut short: an id is always whole, even where it is wider than its column.
    """

    def cell(row: dict[str, Any], key: str) -> str:
        value = row.get(key)
        return value.isoformat() if isinstance(value, datetime) else "" if value is None else str(value)

    writer = csv.writer(sys.stdout) if output == "csv" else None
    if writer is not None:
        writer.writerow([header.lower() for _, header, _ in columns])
    elif output == "table":
        print("  ".join(header.ljust(width) for _, header, width in columns).rstrip())
    async for row in rows:
        if output == "json":
            print(dumps(row))
        elif writer is not None:
            writer.writerow([cell(row, key) for key, _, _ in columns])
        else:
            print("  ".join(cell(row, key).ljust(width) for key, _, width in columns).rstrip())
    sys.stdout.flush()


# ----- pools ----------------------------------------------------------------------------------------------
async def cmd_pools_create(args: argparse.Namespace) -> int:
    params: dict[str, Any] = {"PoolName": args.name}
    if args.username_attribute:
        params["UsernameAttributes"] = args.username_attribute
    if args.alias_attribute:
        params["AliasAttributes"] = args.alias_attribute
    async with client_for(args) as cognito:
        pool = (await cognito.create_user_pool(**params))["UserPool"]
        pool_id = str(pool["Id"])
        if args.mfa != "OFF":
            try:
                await cognito.set_user_pool_mfa_config(
                    UserPoolId=pool_id,
                    MfaConfiguration=args.mfa,
                    SoftwareTokenMfaConfiguration={"Enabled": True},
                )
            except CognitoError as exc:
                raise CliError(
                    f"user pool {pool_id} was created, but setting its MFA failed: {exc}"
                ) from None
    record = {"UserPoolId": pool_id, "Name": pool.get("Name", args.name), "MfaConfiguration": args.mfa}
    _emit(args, record, [pool_id])
    return EXIT_OK


async def cmd_pools_list(args: argparse.Namespace) -> int:
    async with client_for(args) as cognito:

        async def pools() -> AsyncIterator[dict[str, Any]]:
            async for pool in cognito.list_all_user_pools(MaxResults=60):
                yield dict(pool)

        columns = [("Id", "ID", 42), ("Name", "NAME", 30), ("CreationDate", "CREATED", 25)]
        await _write_rows(pools(), columns, args.output or "table")
    return EXIT_OK


# ----- app clients ----------------------------------------------------------------------------------------
async def cmd_clients_create(args: argparse.Namespace) -> int:
    flows = [f"ALLOW_{flow}" for flow in dict.fromkeys(args.flow or ["USER_SRP_AUTH"])]
    params: dict[str, Any] = {
        "UserPoolId": args.user_pool_id,
        "ClientName": args.name,
        "GenerateSecret": args.secret,
        "ExplicitAuthFlows": [*flows, "ALLOW_REFRESH_TOKEN_AUTH"],
    }
    if args.rotation:
        params["RefreshTokenRotation"] = {"Feature": "ENABLED", "RetryGracePeriodSeconds": 0}
    async with client_for(args) as cognito:
        created = (await cognito.create_user_pool_client(**params))["UserPoolClient"]
    client_id, secret = str(created["ClientId"]), created.get("ClientSecret")
    record: dict[str, Any] = {
        "UserPoolId": args.user_pool_id,
        "ClientId": client_id,
        "ClientName": created.get("ClientName", args.name),
        "ExplicitAuthFlows": params["ExplicitAuthFlows"],
    }
    if secret:
        record["ClientSecret"] = secret
    _emit(args, record, [client_id, secret] if secret else [client_id])
    return EXIT_OK


async def cmd_clients_list(args: argparse.Namespace) -> int:
    async with client_for(args) as cognito:

        async def clients() -> AsyncIterator[dict[str, Any]]:
            async for client in cognito.list_all_user_pool_clients(UserPoolId=args.user_pool_id):
                yield dict(client)

        columns = [("ClientId", "ID", 28), ("ClientName", "NAME", 40)]
        await _write_rows(clients(), columns, args.output or "table")
    return EXIT_OK


# ----- users ----------------------------------------------------------------------------------------------
def attribute(text: str) -> tuple[str, str]:
    """``--attribute NAME=VALUE`` (argparse type)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return name.strip(), value


def _new_password() -> str:
    password = ask_secret("Password: ")
    if not password:
        raise CliError("the password is empty")
    if sys.stdin.isatty() and ask_secret("Repeat the password: ") != password:
        raise CliError("the two passwords differ")
    return password


async def cmd_users_create(args: argparse.Namespace) -> int:
    attributes = dict(args.attribute or ())
    password = _new_password()
    async with client_for(args) as cognito:
        created = await cognito.admin_create_user(
            UserPoolId=args.user_pool_id,
            Username=args.username,
            UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
            TemporaryPassword=password,
            MessageAction="SUPPRESS",
        )
        user = created["User"]
        username = str(user["Username"])  # the pool's: a generated id where usernames are emails or phones
        try:
            if not args.temporary:
                await cognito.admin_set_user_password(
                    UserPoolId=args.user_pool_id, Username=username, Password=password, Permanent=True
                )
            for group in dict.fromkeys(args.group or ()):
                await cognito.admin_add_user_to_group(
                    UserPoolId=args.user_pool_id, Username=username, GroupName=group
                )
        except CognitoError as exc:
            try:  # leave nothing half made: the same command can be run again
                await cognito.admin_delete_user(UserPoolId=args.user_pool_id, Username=username)
            except CognitoError as cleanup:
                raise CliError(
                    f"{exc}; the half-made user {username} could not be deleted: {cleanup}"
                ) from None
            raise CliError(f"{exc} (the user was deleted again)") from None
    sub = next((a.get("Value") for a in user.get("Attributes", ()) if a.get("Name") == "sub"), None)
    record: dict[str, Any] = {
        "UserPoolId": args.user_pool_id,
        "Username": username,
        "UserStatus": "FORCE_CHANGE_PASSWORD" if args.temporary else "CONFIRMED",
    }
    if sub:
        record["Sub"] = sub
    if args.group:
        record["Groups"] = list(dict.fromkeys(args.group))
    _emit(args, record, [username])
    return EXIT_OK
