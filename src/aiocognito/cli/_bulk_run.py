"""Running a bulk job from the command line (``users import``/``delete``, ``groups add-users``): the users
named by ``--username``/FILE, the progress bar, result-file lines, and the summary with its exit code; for
jobs split across ``aiocognito worker`` processes through Redis (``--redis URL``), the Redis client and the
wait for the whole job with its progress.

A job that stops on an error concerning all of it (:class:`~aiocognito.BulkJobAborted`: no credentials,
an unknown user pool, an unreachable endpoint, ...) ends the command with exit status 1 and one line on
standard error naming the cause; the rows it did not settle are left for a rerun of the same command.

The jobs themselves are :mod:`aiocognito.bulk`'s, imported by the command modules when a command runs.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .._errors import BulkJobAborted
from ._common import EXIT_OK, EXIT_ROWS_FAILED, CliError, dumps

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from ..bulk import BulkJob, BulkReport, Outcome


class ProgressBar:
    """``[#####-----] 1234/2000  62%  410/s  ETA 0:02`` on one terminal line, redrawn at most 10 times a second."""

    def __init__(self, total: int | None, out: IO[str]) -> None:
        self.total = total
        self.out = out
        self._drawn = 0.0

    def update(self, report: BulkReport, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._drawn < 0.1:
            return
        self._drawn = now
        done = report.processed
        rate = report.rate
        if self.total:
            fraction = min(1.0, done / self.total)
            filled = int(fraction * 24)
            eta = (self.total - done) / rate if rate > 0 else 0.0
            line = (
                f"[{'#' * filled}{'-' * (24 - filled)}] {done}/{self.total} {fraction:4.0%} "
                f"{rate:6.0f}/s  ETA {int(eta // 60)}:{int(eta % 60):02d}"
            )
        else:
            line = f"{done} rows {rate:6.0f}/s"
        if report.failed:
            line += f"  failed {report.failed}"
        self.out.write("\r" + line)
        if final:
            self.out.write("\n")
        self.out.flush()


def usernames(args: argparse.Namespace) -> Iterator[str]:
    """Usernames from ``--username`` and from FILE (one per line, or a CSV with a username column)."""
    yield from args.username or ()
    if not args.file:
        return
    with (
        open(args.file, newline="", encoding="utf-8")
        if args.file != "-"
        else contextlib.nullcontext(sys.stdin) as f
    ):
        first = f.readline()
        header = [c.strip().lower() for c in next(csv.reader([first]), [])]
        if "username" in header or "cognito:username" in header:
            column = header.index("username") if "username" in header else header.index("cognito:username")
            for record in csv.reader(f):
                if len(record) > column and record[column].strip():
                    yield record[column].strip()
        else:
            for line in (first, *f):
                if line.strip():
                    yield line.strip()


def _outcome_record(outcome: Outcome) -> dict[str, Any]:
    record: dict[str, Any] = {"row": outcome.index, "username": outcome.username, "status": outcome.status}
    if outcome.error is not None:
        record["error"] = outcome.code
        record["message"] = str(getattr(outcome.error, "message", "") or outcome.error)
    return record


async def run_bulk(
    job: BulkJob,
    *,
    total: int | None,
    result_out: IO[str] | None,
    progress: bool,
    rerun: str = "run the same command again to do the rest",
) -> BulkReport:
    """Run ``job``, writing a JSON line per outcome to ``result_out`` and drawing the progress bar.

    Raises:
        CliError: the job stopped on an error that concerns all of it; the message names the cause, how many
            rows were settled, and (``rerun``) what to do once the cause is fixed.
    """
    bar = ProgressBar(total, sys.stderr) if progress else None
    try:
        async for outcome in job.results():
            if result_out is not None:
                result_out.write(dumps(_outcome_record(outcome)) + "\n")
            if bar is not None:
                bar.update(job.report)
    except BulkJobAborted as stopped:
        if bar is not None:
            bar.update(job.report, final=True)
        settled = job.report.processed
        raise CliError(
            f"{str(stopped).rstrip('.')}. {settled} row{'' if settled == 1 else 's'} settled before it stopped; "
            f"fix the cause and {rerun}"
        ) from stopped
    if bar is not None:
        bar.update(job.report, final=True)
    return job.report


def finish(report: BulkReport, *, skipped: int = 0, result_file: Path | None = None) -> int:
    """Print the summary and the first failures; the exit code (3 when some rows failed)."""
    extra = f", {skipped} skipped (done in an earlier run)" if skipped else ""
    sys.stderr.write(report.summary() + extra + "\n")
    for failure in report.failures[:10]:
        message = str(getattr(failure.error, "message", "") or failure.error).replace("\n", " ")
        sys.stderr.write(f"  row {failure.index} {failure.username}: {failure.code}: {message}\n")
    if report.failed > 10:
        where = f" (all in {result_file})" if result_file else ""
        sys.stderr.write(f"  ... and {report.failed - 10} more failures{where}\n")
    return EXIT_ROWS_FAILED if report.failed else EXIT_OK


# ----- bulk jobs through Redis (``users import --redis``, ``worker``) -------------------------------------
@contextlib.asynccontextmanager
async def redis_client(url: str) -> AsyncIterator[Redis]:
    """A ``redis.asyncio`` client for ``--redis URL``, closed at the end. The URL is never echoed (it may
    hold a password)."""
    try:
        from redis.asyncio import Redis
    except ImportError:
        raise CliError("--redis needs the redis extra: pip install 'aiocognito[redis]'") from None
    try:
        client = Redis.from_url(url, socket_connect_timeout=5, socket_timeout=15)
    except ValueError as exc:
        raise CliError(f"--redis: not a Redis URL ({' '.join(str(exc).split()[:6])}...)") from None
    try:
        yield client
    finally:
        await client.aclose()


async def wait_with_progress(redis: Redis, job_id: str, *, progress: bool, rerun: str) -> BulkReport:
    """Wait for a Redis bulk job (all its workers), drawing the progress bar; the final report.

    Raises:
        CliError: a worker stopped the job on an error that concerns all of it (as :func:`run_bulk`).
    """
    from ..redis import JobReport, wait_for_job

    bar = ProgressBar(None, sys.stderr) if progress else None

    def show(report: JobReport) -> None:
        if bar is not None and report.state not in ("done", "aborted"):  # the last line is drawn below
            bar.total = report.total
            bar.update(report)

    try:
        report: BulkReport = await wait_for_job(redis, job_id, on_progress=show)
    except BulkJobAborted as stopped:
        if bar is not None and stopped.report is not None:
            bar.update(stopped.report, final=True)
        settled = stopped.report.processed if stopped.report is not None else 0
        raise CliError(
            f"{str(stopped).rstrip('.')}. {settled} row{'' if settled == 1 else 's'} settled before it stopped; "
            f"fix the cause and {rerun}"
        ) from stopped
    if bar is not None:
        bar.update(report, final=True)
    return report
