"""``aiocognito groups add-users``: add users (``--username`` or a FILE) to a group, as a bulk job."""

from __future__ import annotations

import argparse
import sys

from ._bulk_run import finish, run_bulk, usernames
from ._common import CliError, bulk_quotas, client_for


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
