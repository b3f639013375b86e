"""``aiocognito users list|export|import|delete``: stream users out as JSON lines, a table or CSV; create
users from a CSV file (resumable through a result file); delete users.

Import and delete run :mod:`aiocognito.bulk` jobs through the helpers of :mod:`._bulk_run`. ``users import
--redis URL`` instead submits the rows as a job to Redis (:mod:`aiocognito.redis`), for any number of
``aiocognito worker`` processes, and shows the whole job's progress until every row is settled.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ._bulk_run import finish, redis_client, run_bulk, usernames, wait_with_progress
from ._common import EXIT_OK, CliError, ask, bulk_quotas, client_for, dumps

if TYPE_CHECKING:
    from .._wire.client import CognitoClient


# ----- writing users out: JSON lines, CSV or a table ------------------------------------------------------
def _attribute_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [a.strip() for a in text.split(",") if a.strip()]


def _user_columns(attributes: Sequence[str]) -> list[str]:
    return ["username", "enabled", "status", "created", "modified", *attributes]


def _user_record(user: dict[str, Any], attributes: Sequence[str]) -> list[str]:
    values = {
        a["Name"]: a.get("Value", "") for a in user.get("Attributes") or user.get("UserAttributes") or ()
    }
    created, modified = user.get("UserCreateDate"), user.get("UserLastModifiedDate")
    return [
        str(user.get("Username", "")),
        str(user.get("Enabled", "")).lower(),
        str(user.get("UserStatus", "")),
        created.isoformat() if isinstance(created, datetime) else str(created or ""),
        modified.isoformat() if isinstance(modified, datetime) else str(modified or ""),
        *(str(values.get(name, "")) for name in attributes),
    ]


async def _write_users(
    users: AsyncIterator[dict[str, Any]], output: str, attributes: Sequence[str], out: IO[str]
) -> int:
    """Stream users to ``out`` as JSON lines, CSV or a fixed-width table; returns how many."""
    count = 0
    if output == "csv":
        writer = csv.writer(out)
        writer.writerow(_user_columns(attributes))
    elif output == "table":
        widths = [28, 7, 22, 25, *(max(len(a), 24) for a in attributes)]
        header = ["USERNAME", "ENABLED", "STATUS", "CREATED", *(a.upper() for a in attributes)]
        out.write("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip() + "\n")
    async for user in users:
        count += 1
        if output == "json":
            out.write(dumps(user) + "\n")
        elif output == "csv":
            writer.writerow(_user_record(user, attributes))
        else:
            record = _user_record(user, attributes)
            cells = [record[0], record[1], record[2], record[3][:19], *record[5:]]
            out.write("  ".join(_fit(c, w) for c, w in zip(cells, widths, strict=True)).rstrip() + "\n")
    out.flush()
    return count


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


# ----- list and export ------------------------------------------------------------------------------------
async def _users(cognito: CognitoClient, args: argparse.Namespace) -> AsyncIterator[dict[str, Any]]:
    seen = 0
    async for user in cognito.list_all_users(UserPoolId=args.user_pool_id, Filter=args.filter):
        yield dict(user)
        seen += 1
        if args.max_items is not None and seen >= args.max_items:
            return


async def cmd_users_list(args: argparse.Namespace) -> int:
    attributes = _attribute_list(args.attributes) or ["email"]
    async with client_for(args) as cognito:
        await _write_users(_users(cognito, args), args.output or "table", attributes, sys.stdout)
    return EXIT_OK


async def cmd_users_export(args: argparse.Namespace) -> int:
    async with client_for(args) as cognito:
        attributes = _attribute_list(args.attributes)
        if attributes is None:
            pool = await cognito.describe_user_pool(UserPoolId=args.user_pool_id)
            attributes = [a["Name"] for a in pool["UserPool"].get("SchemaAttributes", []) if a.get("Name")]
        output = args.output or "csv"
        if args.file and args.file != "-":
            with open(args.file, "w", newline="", encoding="utf-8") as out:
                count = await _write_users(_users(cognito, args), output, attributes, out)
            sys.stderr.write(f"exported {count} users to {args.file}\n")
        else:
            await _write_users(_users(cognito, args), output, attributes, sys.stdout)
    return EXIT_OK


# ----- import ---------------------------------------------------------------------------------------------
def _count_csv_rows(path: str) -> int | None:
    if path == "-":
        return None
    with open(path, newline="", encoding="utf-8") as f:
        return max(0, sum(1 for _ in csv.reader(f)) - 1)


def _load_done(result_file: Path) -> set[str]:
    """Usernames a previous run settled (succeeded or already); failed rows are tried again.

    They are held in memory while the rerun skips them (about 100 bytes each: 1 GB for 10 million done
    rows); the rows still to import are streamed as usual.
    """
    done: set[str] = set()
    if not result_file.exists():
        return done
    with result_file.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                if number == 1:
                    raise CliError(f"{result_file} is not an aiocognito result file") from None
                continue  # a line cut short when the last run was killed
            if record.get("status") in ("succeeded", "already") and isinstance(record.get("username"), str):
                done.add(record["username"])
    return done


async def cmd_users_import(args: argparse.Namespace) -> int:
    from .. import bulk

    if getattr(args, "redis", None):
        return await _import_through_redis(args)
    source = args.file
    result_file = (
        Path(args.result_file)
        if args.result_file
        else (None if source == "-" else Path(source + ".results.jsonl"))
    )
    if args.restart and result_file is not None and result_file.exists():
        result_file.unlink()
    done = _load_done(result_file) if result_file is not None else set()
    total = _count_csv_rows(source)
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    skipped = 0

    def rows(parsed: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        nonlocal skipped
        for row in parsed:
            if row["Username"] in done:
                skipped += 1
                continue
            yield row

    if done:
        sys.stderr.write(f"resuming: {len(done)} users were done by an earlier run ({result_file})\n")
    with (
        open(source, newline="", encoding="utf-8")
        if source != "-"
        else contextlib.nullcontext(sys.stdin) as lines
    ):
        try:
            parsed = bulk.rows_from_csv(lines, message_action=None if args.send_invitations else "SUPPRESS")
        except ValueError as exc:
            raise CliError(f"{source}: {exc}") from None
        csv_rows = rows(parsed)
        result_out = result_file.open("a", encoding="utf-8", buffering=1) if result_file is not None else None
        try:
            async with client_for(args, quotas=bulk_quotas(args, "UserCreation")) as cognito:
                job = bulk.create_users(cognito, args.user_pool_id, csv_rows, concurrency=args.concurrency)
                report = await run_bulk(
                    job,
                    total=None if total is None else max(0, total - len(done)),
                    result_out=result_out,
                    progress=progress,
                    rerun=(
                        "run the same command again: it resumes, skipping the users "
                        f"{result_file} lists as done"
                        if result_file is not None
                        else "run the same command again (users that exist count as already done)"
                    ),
                )
        finally:
            if result_out is not None:
                result_out.close()
    return finish(report, skipped=skipped, result_file=result_file)


async def _import_through_redis(args: argparse.Namespace) -> int:
    """``users import --redis URL``: submit the rows as a Redis bulk job, then wait for all its workers."""
    import secrets

    from .. import bulk
    from ..redis import submit_job

    if args.result_file or args.restart:
        raise CliError(
            "--result-file and --restart do not apply with --redis: the outcomes are kept in Redis"
        )
    source = args.file
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    job_id = secrets.token_hex(8)
    async with redis_client(args.redis) as redis:
        with (
            open(source, newline="", encoding="utf-8")
            if source != "-"
            else contextlib.nullcontext(sys.stdin) as lines
        ):
            try:
                parsed = bulk.rows_from_csv(
                    lines, message_action=None if args.send_invitations else "SUPPRESS"
                )
            except ValueError as exc:
                raise CliError(f"{source}: {exc}") from None
            sys.stderr.write(
                f"bulk job {job_id}: submitting the rows; workers: aiocognito worker --redis URL --job {job_id}\n"
            )
            await submit_job(redis, parsed, user_pool_id=args.user_pool_id, job_id=job_id)
        report = await wait_with_progress(
            redis,
            job_id,
            progress=progress,
            rerun="run the same command again (users that exist count as already done)",
        )
    return finish(report)


# ----- delete ---------------------------------------------------------------------------------------------
def _confirm(question: str, args: argparse.Namespace) -> None:
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise CliError("refusing to go on without --yes (standard input is not a terminal)")
    if ask(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        raise CliError("cancelled")


async def cmd_users_delete(args: argparse.Namespace) -> int:
    from .. import bulk

    if not args.username and not args.file:
        raise CliError("name the users: --username NAME (repeatable) or a FILE of usernames")
    _confirm(f"Delete these users from {args.user_pool_id}?", args)
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    async with client_for(args, quotas=bulk_quotas(args, "UserUpdate")) as cognito:
        job = bulk.delete_users(cognito, args.user_pool_id, usernames(args), concurrency=args.concurrency)
        report = await run_bulk(job, total=None, result_out=None, progress=progress)
    return finish(report)
