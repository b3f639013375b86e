"""``aiocognito groups create`` (make a group) and ``groups add-users`` (add users, from ``--username`` or a
FILE, to a group, as a bulk job)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._bulk_run import finish, run_bulk, usernames
from ._common import EXIT_OK, CliError, bulk_quotas, client_for, dumps


async def cmd_groups_create(args: argparse.Namespace) -> int:
    params: dict[str, Any] = {"UserPoolId": args.user_pool_id, "GroupName": args.name}
    if args.description is not None:
        params["Description"] = args.description
    if args.precedence is not None:
        params["Precedence"] = args.precedence
    async with client_for(args) as cognito:
        group = (await cognito.create_group(**params))["Group"]
    if args.output == "json":
        record = {k: group.get(k) for k in ("UserPoolId", "GroupName", "Description", "Precedence")}
        print(dumps({k: v for k, v in record.items() if v is not None}))
    else:
        print(group.get("GroupName", args.name))
    return EXIT_OK


async def cmd_groups_add_users(args: argparse.Namespace) -> int:
    from .. import bulk

    if not args.username and not args.file:
        raise CliError("name the users: --username NAME (repeatable) or a FILE of usernames")
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    async with client_for(args, quotas=bulk_quotas(args, "UserUpdate")) as cognito:
        job = bulk.add_users_to_group(
            cognito, args.user_pool_id, usernames(args), group_name=args.group, concurrency=args.concurrency
        )
        report = await run_bulk(job, total=None, result_out=None, progress=progress)
    return finish(report)
