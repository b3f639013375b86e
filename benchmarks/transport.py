"""Transport cost: aiocognito vs aiobotocore's cognito-idp client, in one run.

    python benchmarks/transport.py [--calls 5000]

A canned-response aiohttp server (its own process, so its CPU is not counted) answers AdminGetUser. Each
measurement runs in a fresh subprocess:

* client CPU per call (``time.process_time``) for ``--calls`` signed AdminGetUser calls at concurrency 1 and 64;
* time to build a client (median of 50);
* ``import`` time (best of 5 fresh interpreters): ``import aiocognito`` vs ``import aiobotocore.session``;
* peak traced memory (tracemalloc) while 10,000 calls are pending at once.

Targets (issue 2): CPU per call at concurrency 64 <= 0.25x aiobotocore; build <= 5 ms; import no slower;
peak memory with 10,000 pending calls <= 0.6x.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time

CANNED = {
    "Username": "alice",
    "UserAttributes": [
        {"Name": "sub", "Value": "5f0c9d1e-0000-4000-8000-000000000000"},
        {"Name": "email", "Value": "a@example.com"},
    ],
    "UserCreateDate": 1.7e9,
    "UserLastModifiedDate": 1.7e9,
    "Enabled": True,
    "UserStatus": "CONFIRMED",
}
CREDS = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


def serve(port: int, delay: float) -> None:
    from aiohttp import web

    body = json.dumps(CANNED).encode()

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        if delay:
            await asyncio.sleep(delay)
        return web.Response(
            body=body, content_type="application/x-amz-json-1.1", headers={"x-amzn-RequestId": "r"}
        )

    app = web.Application()
    app.router.add_post("/", handler)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, backlog=4096)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(delay: float = 0.0) -> tuple[multiprocessing.Process, str]:
    port = free_port()
    proc = multiprocessing.Process(target=serve, args=(port, delay), daemon=True)
    proc.start()
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port}"


# ----- workers (run in a subprocess) ---------------------------------------------------------------------


async def make_client(kind: str, url: str):  # type: ignore[no-untyped-def]
    if kind == "aiocognito":
        import aiocognito

        client = aiocognito.CognitoClient(region="us-east-1", endpoint_url=url, credentials=CREDS)
        return client, client
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    cm = get_session().create_client(
        "cognito-idp",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id=CREDS[0],
        aws_secret_access_key=CREDS[1],
        config=AioConfig(max_pool_connections=100),
    )
    return cm, await cm.__aenter__()


async def close_client(kind: str, cm) -> None:  # type: ignore[no-untyped-def]
    if kind == "aiocognito":
        await cm.close()
    else:
        await cm.__aexit__(None, None, None)


async def worker_cpu(kind: str, url: str, calls: int, concurrency: int) -> dict[str, float]:
    cm, client = await make_client(kind, url)
    for _ in range(200):  # warm up: connections, caches
        await client.admin_get_user(UserPoolId="us-east-1_abc", Username="alice")
    remaining = calls

    async def loop() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            resp = await client.admin_get_user(UserPoolId="us-east-1_abc", Username="alice")
            assert resp["Username"] == "alice"

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    await close_client(kind, cm)
    return {"cpu_us_per_call": cpu / calls * 1e6, "wall_s": wall}


async def worker_build(kind: str, url: str) -> dict[str, float]:
    await close_client(kind, (await make_client(kind, url))[0])  # imports and first-use caches
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        cm, _client = await make_client(kind, url)
        times.append(time.perf_counter() - t0)
        await close_client(kind, cm)
    return {"build_ms": statistics.median(times) * 1e3}


async def worker_memory(kind: str, url: str, pending: int) -> dict[str, float]:
    import tracemalloc

    cm, client = await make_client(kind, url)
    await client.admin_get_user(UserPoolId="us-east-1_abc", Username="alice")
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    await asyncio.gather(
        *(client.admin_get_user(UserPoolId="us-east-1_abc", Username="alice") for _ in range(pending))
    )
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    await close_client(kind, cm)
    return {"peak_mib": peak / 2**20}


def run_worker(args: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def import_time(module: str) -> float:
    """Best of 5 fresh interpreters, over a bare one; both packages imported from byte-compiled files."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    import aiocognito

    # An editable install has no .pyc until the first import writes them; a wheel install compiles at
    # install time like aiobotocore's. Compile first so both sides load byte code.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", os.path.dirname(aiocognito.__file__)], check=True
    )

    def best(code: str) -> float:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=env)
            times.append(time.perf_counter() - t0)
        return min(times)

    return (best(f"import {module}") - best("pass")) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=5000)
    ap.add_argument("--pending", type=int, default=10000)
    ap.add_argument("--worker", nargs="*")
    args = ap.parse_args()
    if args.worker is not None:
        mode, kind, url, *rest = args.worker
        if mode == "cpu":
            result = asyncio.run(worker_cpu(kind, url, int(rest[0]), int(rest[1])))
        elif mode == "build":
            result = asyncio.run(worker_build(kind, url))
        else:
            result = asyncio.run(worker_memory(kind, url, int(rest[0])))
        print(json.dumps(result))
        return

    server, url = start_server()
    slow_server, slow_url = start_server(delay=0.2)
    rows: list[tuple[str, float, float, float, str]] = []
    try:
        for conc in (1, 64):
            ours = run_worker(["cpu", "aiocognito", url, str(args.calls), str(conc)])["cpu_us_per_call"]
            ref = run_worker(["cpu", "aiobotocore", url, str(args.calls), str(conc)])["cpu_us_per_call"]
            target = "<= 0.25" if conc == 64 else ""
            rows.append((f"CPU per call, concurrency {conc} (us)", ours, ref, ours / ref, target))
        ours = run_worker(["build", "aiocognito", url])["build_ms"]
        ref = run_worker(["build", "aiobotocore", url])["build_ms"]
        rows.append(("build a client (ms, HTTP opens at 1st call)", ours, ref, ours / ref, "ours <= 5 ms"))
        ours, ref = import_time("aiocognito"), import_time("aiobotocore.session")
        rows.append(("import (ms, over a bare interpreter)", ours, ref, ours / ref, "<= 1.0"))
        ours = run_worker(["memory", "aiocognito", slow_url, str(args.pending)])["peak_mib"]
        ref = run_worker(["memory", "aiobotocore", slow_url, str(args.pending)])["peak_mib"]
        rows.append(
            (f"peak traced memory, {args.pending} pending calls (MiB)", ours, ref, ours / ref, "<= 0.6")
        )
    finally:
        server.terminate()
        slow_server.terminate()
    print(f"{'measure':48} {'aiocognito':>11} {'aiobotocore':>12} {'ratio':>7}  target")
    for name, ours, ref, ratio, target in rows:
        print(f"{name:48} {ours:11.2f} {ref:12.2f} {ratio:7.3f}  {target}")


if __name__ == "__main__":
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    main()
