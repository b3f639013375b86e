"""Import users from a CSV file into a user pool, paced under Cognito's quotas, with live progress.

    python examples/bulk_import.py users.csv us-east-1_AbCdEf123
    python examples/bulk_import.py --local 2000      # against a local pool with injected faults

The CSV has a ``username`` column and one column per attribute (``email``, ``given_name``,
``custom:team``...); see ``aiocognito.bulk.rows_from_csv``. Rows are streamed: the file is never loaded
whole. A rerun is safe: users that already exist count as ``already``, nothing is created twice.
(``aiocognito users import`` does the same from the command line, with a resumable result file.)
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
import tempfile
from pathlib import Path

import aiocognito
from aiocognito import bulk


async def import_csv(cognito: aiocognito.CognitoClient, pool_id: str, path: Path) -> bulk.BulkReport:
    def progress(report: bulk.BulkReport) -> None:
        print(
            f"\r{report.processed} rows, {report.rate:.0f}/s, {report.failed} failed", end="", file=sys.stderr
        )

    with path.open(newline="", encoding="utf-8") as lines:
        job = bulk.create_users(
            cognito, pool_id, bulk.rows_from_csv(lines), concurrency=16, on_progress=progress
        )
        async for outcome in job.results():  # each row as it is settled (the report keeps only counts)
            if outcome.status == "failed":
                print(f"\n{outcome.username}: {outcome.code}", file=sys.stderr)
    print(file=sys.stderr)
    return job.report


async def main_aws(path: Path, pool_id: str) -> int:
    # quotas=True: pace every call under the published per-category quotas (UserCreation: 50/s).
    async with aiocognito.CognitoClient(quotas=True) as cognito:
        report = await import_csv(cognito, pool_id, path)
    print(report.summary())
    return 0 if report.ok else 3


async def main_local(count: int) -> int:
    from aiocognito.testing import FaultPlan, LocalUserPool

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "users.csv"
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["username", "email"])
            writer.writerows([f"user{i:05d}", f"user{i:05d}@example.com"] for i in range(count))
        async with LocalUserPool() as local:
            pool_id = await local.create_user_pool()
            # 20% of requests fail (500s, dropped connections, lost replies), and a 300/s throttle
            local.faults = FaultPlan(
                seed=1, throttle_rps=300, error_rate=0.07, drop_rate=0.06, lost_reply_rate=0.07
            )
            async with local.client(quotas={"UserCreation": 500, "UserRead": 500}) as cognito:
                report = await import_csv(cognito, pool_id, path)
            local.faults = None
            async with local.client() as cognito:
                users = [u async for u in cognito.list_all_users(UserPoolId=pool_id)]
    print(report.summary())
    print(f"the pool holds {len(users)} users")
    return 0 if report.ok and len(users) == count else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("csv", nargs="?", type=Path)
    parser.add_argument("user_pool_id", nargs="?")
    parser.add_argument(
        "--local", type=int, metavar="N", help="import N generated users into a faulty local pool"
    )
    options = parser.parse_args()
    if options.local:
        sys.exit(asyncio.run(main_local(options.local)))
    if not options.csv or not options.user_pool_id:
        parser.error("give a CSV file and a user pool id, or --local N")
    sys.exit(asyncio.run(main_aws(options.csv, options.user_pool_id)))
