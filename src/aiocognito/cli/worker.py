"""``aiocognito worker --redis URL``: settle the rows of bulk jobs submitted to Redis (``users import
--redis``), together with any number of other workers, until the job (or every job) is done.

The work itself is :func:`aiocognito.redis.run_worker`'s: rows come from the job's Redis Stream, are settled
as in a single-process import (pacing, retries, unclear creates checked), and their outcomes go back to
Redis, where ``users import --redis`` (or :func:`aiocognito.redis.wait_for_job`) shows the whole job. A
worker that dies leaves its rows to the others (they take them over after ``--reclaim-after`` seconds). When
Redis stays unreachable longer than 30 seconds the worker exits with status 1 and one line; its rows stay
in Redis for the next worker. ``--rate`` paces this worker alone, unless ``--shared-quota ACCOUNT_ID`` makes
every worker of the account and region draw from one quota in the same Redis.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial

from ._bulk_run import redis_client
from ._common import EXIT_OK, client_for

#: The quota categories of the bulk operations (and of AdminGetUser, which checks unclear creates).
_BULK_CATEGORIES = ("UserCreation", "UserUpdate", "UserRead", "UserAccountRecovery")


async def cmd_worker(args: argparse.Namespace) -> int:
    from ..redis import run_worker
    from ..redis._job_layout import DEFAULT_PREFIX, JobKeys, RedisGuard

    async with redis_client(args.redis) as redis:
        if args.job:  # without --region, the region comes from the job's user pool id
            pool = await RedisGuard(redis, 30.0)(
                partial(redis.hget, JobKeys.of(DEFAULT_PREFIX, args.job).meta, "pool")
            )
            args.user_pool_id = pool.decode() if isinstance(pool, bytes) else pool
        rates = {c: args.rate for c in _BULK_CATEGORIES} if args.rate else None
        async with client_for(args, quotas=rates or True) as cognito:
            if args.shared_quota:  # one quota for every worker of the account and region
                from ..redis import RedisQuotaPacer

                pacer = RedisQuotaPacer(
                    redis, account=args.shared_quota, region=cognito.region, overrides=rates
                )
                cognito = cognito.with_options(quotas=pacer)
            stats = await run_worker(
                redis,
                cognito,
                job_id=args.job or "any",
                concurrency=args.concurrency,
                idle_reclaim=args.reclaim_after,
                stop_when_done=not args.keep_running,
            )
    sys.stderr.write(stats.summary() + "\n")
    return EXIT_OK
