"""What sharing through Redis costs: the Redis pacer and token store against the in-memory ones, in one run.

    python benchmarks/redis.py                     # starts its own redis-server on 127.0.0.1
    python benchmarks/redis.py --redis-url redis://127.0.0.1:6379/0 --calls 10000

* the quota pacer: ``acquire()`` of ``RedisQuotaPacer`` vs ``QuotaPacer``, at a rate far above what the run
  reaches (1e9/s), so no call waits and only the pacer's own cost is measured: wall and CPU microseconds per
  call, at concurrency 1 (a call's latency) and 16 (throughput); round trips per call (commands the client
  sent) and the commands Redis ran per call, those inside the Lua script included (``INFO commandstats``);
* the token store: ``save``/``load`` of ``RedisTokenStore`` (plain, and with ``AesGcmCipher``) vs
  ``MemoryTokenStore``, a Cognito-sized token dict (three JWTs and a refresh token, about 4 KB).

The client and redis-server share the machine (loopback TCP), so a round trip here is the floor; across a
network add its latency per round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _unshadow() -> None:
    """This file is named redis.py: keep its folder off sys.path so that ``import redis`` finds redis-py."""
    sys.path[:] = [entry for entry in sys.path if Path(entry or os.getcwd()).resolve() != HERE]
    sys.modules.pop("redis", None)


def start_redis(folder: str) -> tuple[subprocess.Popen[bytes], str]:
    executable = shutil.which("redis-server")
    if executable is None:
        raise SystemExit("redis-server is not installed (scripts/install-test-services), or pass --redis-url")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [
            executable,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            folder,
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.02)
    process.kill()
    raise SystemExit("redis-server did not start")


class Counting:
    """Counts the commands a redis-py client sends (each is one round trip; a pipeline would be one too)."""

    def __init__(self, redis: Any) -> None:
        self.sent = 0
        send = redis.execute_command

        async def counted(*args: Any, **options: Any) -> Any:
            self.sent += 1
            return await send(*args, **options)

        redis.execute_command = counted


async def commands(redis: Any) -> int:
    """Commands the server has run so far, inside scripts too (INFO itself excluded)."""
    stats = await redis.info("commandstats")
    return sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")


Row = tuple[str, float, float, float, float, "float | None"]


async def measure(
    redis: Any, counter: Counting, calls: int, concurrency: int, one: Callable[[int], Awaitable[object]]
) -> tuple[float, float, float, float]:
    """(wall µs, CPU µs, round trips, commands run by Redis) per call, for ``calls`` calls of ``one(i)``."""
    for i in range(min(200, calls)):  # warm up: connections, script loading
        await one(i)
    before, sent = await commands(redis), counter.sent
    per_task = calls // concurrency

    async def worker(offset: int) -> None:
        for i in range(per_task):
            await one(offset + i)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(t * per_task) for t in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    done = per_task * concurrency
    trips = (counter.sent - sent) / done
    return wall / done * 1e6, cpu / done * 1e6, trips, (await commands(redis) - before) / done


def token_dict() -> dict[str, Any]:
    jwt = "eyJraWQiOiJrMSIsImFsZyI6IlJTMjU2In0." + "a" * 700 + "." + "b" * 342
    return {
        "access_token": jwt,
        "id_token": jwt + "c" * 300,
        "refresh_token": "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIn0." + "d" * 1700,
        "token_type": "Bearer",
        "expires_at": 1_800_000_000.0,
        "username": "alice",
    }


async def run(url: str, calls: int) -> list[Row]:
    from redis.asyncio import Redis

    from aiocognito._signin.stores import MemoryTokenStore
    from aiocognito.quotas import QuotaPacer
    from aiocognito.redis import AesGcmCipher, RedisQuotaPacer, RedisTokenStore

    redis = Redis.from_url(url)
    counter = Counting(redis)
    rows: list[Row] = []
    unlimited = {"UserRead": 1e9}
    try:
        for concurrency in (1, 16):
            memory = QuotaPacer(unlimited)
            shared = RedisQuotaPacer(redis, account="123456789012", region="us-east-1", overrides=unlimited)
            base = await measure(
                redis, counter, calls, concurrency, lambda i, p=memory: p.acquire("AdminGetUser")
            )
            cost = await measure(
                redis, counter, calls, concurrency, lambda i, p=shared: p.acquire("AdminGetUser")
            )
            rows.append((f"QuotaPacer.acquire, concurrency {concurrency}", *base, None))
            rows.append((f"RedisQuotaPacer.acquire, concurrency {concurrency}", *cost, cost[0] / base[0]))

        data = token_dict()
        memory_store = MemoryTokenStore()
        stores: list[tuple[str, Any]] = [
            ("RedisTokenStore", RedisTokenStore(redis, prefix="bench:")),
            (
                "RedisTokenStore + AesGcmCipher",
                RedisTokenStore(redis, prefix="bench:", cipher=AesGcmCipher(os.urandom(32))),
            ),
        ]
        keys = [f"pool:client:user{i % 100}" for i in range(calls)]
        for operation in ("save", "load"):

            def call(store: Any, operation: str = operation) -> Callable[[int], Awaitable[object]]:
                if operation == "save":
                    return lambda i: store.save(keys[i % calls], data)
                return lambda i: store.load(keys[i % calls])

            await memory_store.save(keys[0], data)
            base = await measure(redis, counter, calls, 1, call(memory_store))
            rows.append((f"MemoryTokenStore.{operation}", *base, None))
            for name, store in stores:
                for key in set(keys):
                    await store.save(key, data)
                cost = await measure(redis, counter, calls, 1, call(store))
                rows.append((f"{name}.{operation}", *cost, cost[0] / base[0]))
    finally:
        await redis.aclose()
    return rows


def main(argv: list[str] | None = None) -> int:
    _unshadow()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--redis-url", help="an existing Redis (it is written to: keys bench:* and aiocognito:*)"
    )
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="aiocognito-bench-") as folder:
        process = None
        url = args.redis_url
        if url is None:
            process, url = start_redis(folder)
        try:
            rows = asyncio.run(run(url, args.calls))
        finally:
            if process is not None:
                process.kill()
                process.wait()
    print(f"{args.calls} calls each; the Redis client and redis-server on one machine (loopback)\n")
    print(
        f"{'':40} {'wall µs/call':>12} {'CPU µs/call':>12} {'round trips':>12} {'cmds in Redis':>14} {'wall ratio':>11}"
    )
    for name, wall, cpu, trips, ran, ratio in rows:
        times = f"{ratio:.0f}x" if ratio is not None else "1x"
        print(f"{name:40} {wall:12.1f} {cpu:12.1f} {trips:12.2f} {ran:14.2f} {times:>11}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
