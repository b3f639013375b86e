"""Peak memory of ``bulk.create_users`` streaming generated rows through a fast local stub.

    python benchmarks/bulk_memory.py               # 100,000 rows, in-process stub transport
    python benchmarks/bulk_memory.py --rows 20000 --http   # over HTTP to an aiohttp stub on 127.0.0.1

Prints the peak RSS (``ru_maxrss``) after a 1,000-row warm-up and after the full run, plus tracemalloc's
peak of the run. Flat means the full run's peak RSS is within a few MB of the warm-up's: rows are pulled
one at a time by the worker pool and only the counts (and the first 1,000 failures) are kept.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

from multidict import CIMultiDict

import aiocognito
from aiocognito import bulk
from aiocognito._wire.transport import RawResponse

POOL = "us-east-1_bench"
_CREATED = json.dumps(
    {"User": {"Username": "x", "Enabled": True, "UserStatus": "FORCE_CHANGE_PASSWORD"}}
).encode()


class StubTransport:
    """Answers every request with an AdminCreateUser success, without sockets."""

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> RawResponse:
        await asyncio.sleep(0)  # let the other workers run: calls really are in flight together
        return RawResponse(200, CIMultiDict({"x-amzn-RequestId": "bench"}), _CREATED)

    async def aclose(self) -> None:
        pass


def start_http_stub() -> str:
    """An aiohttp server in a thread that answers every POST with an AdminCreateUser success."""
    import aiohttp.web

    ready = threading.Event()
    url: list[str] = []

    async def handle(request: aiohttp.web.Request) -> aiohttp.web.Response:
        await request.read()
        return aiohttp.web.Response(body=_CREATED, content_type="application/x-amz-json-1.1")

    async def serve() -> None:
        app = aiohttp.web.Application()
        app.router.add_post("/", handle)
        runner = aiohttp.web.AppRunner(app, access_log=None)
        await runner.setup()
        site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url.append(f"http://127.0.0.1:{runner.addresses[0][1]}")
        ready.set()
        await asyncio.Event().wait()

    threading.Thread(target=lambda: asyncio.run(serve()), daemon=True).start()
    ready.wait(10)
    return url[0]


def rows(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {
            "Username": f"user{i:09d}",
            "TemporaryPassword": "Temp-Passw0rd!",
            "UserAttributes": [
                {"Name": "email", "Value": f"user{i:09d}@example.com"},
                {"Name": "given_name", "Value": f"User {i}"},
            ],
            "MessageAction": "SUPPRESS",
        }


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


async def main(n: int, http: bool, concurrency: int) -> None:
    unlimited = {"UserCreation": float("inf")}
    if http:
        client = aiocognito.CognitoClient(
            region="us-east-1", endpoint_url=start_http_stub(), credentials=("AK", "SK"), quotas=unlimited
        )
    else:
        client = aiocognito.CognitoClient(
            region="us-east-1", endpoint_url="http://stub.invalid", credentials=("AK", "SK"),
            transport=StubTransport(), quotas=unlimited,
        )  # fmt: skip
    async with client:
        warm = await bulk.create_users(client, POOL, rows(1000), concurrency=concurrency)
        after_warmup = peak_rss_mib()
        tracemalloc.start()
        started = time.perf_counter()
        report = await bulk.create_users(client, POOL, rows(n), concurrency=concurrency)
        took = time.perf_counter() - started
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert warm.succeeded == 1000 and report.succeeded == n, report
    print(
        f"transport: {'aiohttp stub on 127.0.0.1' if http else 'in-process stub'}; concurrency {concurrency}"
    )
    print(f"rows: {n:,} in {took:.1f}s ({n / took:,.0f}/s, with tracemalloc on)")
    print(f"peak RSS after 1,000-row warm-up: {after_warmup:.1f} MiB")
    print(f"peak RSS after {n:,} rows:        {peak_rss_mib():.1f} MiB")
    print(f"tracemalloc peak during the run:  {traced_peak / 1024:.0f} KiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--http", action="store_true", help="go over HTTP to an aiohttp stub")
    options = parser.parse_args()
    asyncio.run(main(options.rows, options.http, options.concurrency))
