"""The local user pool vs moto's server, in one run: start, memory and request rates over HTTP.

    python benchmarks/local_pool.py [--users 50] [--seconds 1.5] [--rounds 2] [--creates 1000] [--json]
                                    [--local-thread]

Both servers run in the process of the client that measures them, as a test suite runs them, each in a
fresh subprocess (one after the other, so they never compete for the CPU):

* local pool: ``aiocognito.testing.LocalUserPool`` (its own state, no moto) on the client's event loop, as
  the ``local_user_pool`` fixture runs it (``--local-thread``: on its own loop in a thread, like moto);
* moto: ``moto.server.ThreadedMotoServer`` (werkzeug, a thread per connection) in a thread.

Both listen on 127.0.0.1 (a free port) and get the same calls from the same ``aiocognito.CognitoClient``
(no retries, no quota pacing):

* start: import + construct + start until the server answers a first call (ListUserPools), and again
  with the modules loaded (the cost of a fresh server per test); resident memory (VmRSS in
  /proc/self/status) added by the first start, measured after the client is imported;
* sign-ins/s (``cognito.session(...).sign_in``, one fresh Session each), sequential and 50 concurrent, over
  ``--users`` users created with AdminCreateUser + AdminSetUserPassword in a pool with the same password
  policy. USER_SRP_AUTH (InitiateAuth + RespondToAuthChallenge PASSWORD_VERIFIER) where the server can do
  it; moto 5 cannot with aiocognito (its SECRET_BLOCK is a UUID, not base64; SALT and SRP_B are random and
  the signature is never checked), so the compared rows are USER_PASSWORD_AUTH (one InitiateAuth) and the
  SRP rows are the local pool's alone. The moto worker tries SRP first and reports why it failed;
* AdminGetUser/s, sequential and 50 concurrent;
* ``--creates`` AdminCreateUser calls (50 concurrent) into a fresh pool: the rate and the resident memory
  they add. The local pool keeps a copy of a pool's user data (at most once a second) before writes, for
  point-in-time recovery; an informative row counts the copies taken during the creates and the time they
  took (by wrapping the internal ``_snapshots.take``).

Each rate runs for ``--seconds`` after a warm-up round. Each server gets ``--rounds`` fresh processes, run
alternately (local, moto, moto, local, ...) so that the machine's drift hits both alike; each measure keeps
its best round. Ratios are local / moto: above 1 is better for rates, below 1 for times and memory.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

REGION = "us-east-1"
CREDS = ("a", "b")
PASSWORD = "Bench-Passw0rd!"
TEMPORARY = "Temp-Passw0rd!1"
CONCURRENCY = 50
POLICY = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": 7,
}
FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

Stop = Callable[[], Awaitable[None]]


def rss_mib() -> float:
    """Resident memory now (VmRSS, kB in /proc/self/status)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


# ----- the servers (in the worker process) ----------------------------------------------------------------


async def start_moto() -> tuple[str, Stop]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log on stderr
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()

    async def stop() -> None:
        await asyncio.to_thread(server.stop)

    return f"http://{host}:{port}", stop


async def start_local() -> tuple[str, Stop]:
    from aiocognito.testing import LocalUserPool

    pool = await LocalUserPool("127.0.0.1", 0, region=REGION).start()
    return pool.endpoint_url, pool.close


async def start_local_thread() -> tuple[str, Stop]:
    from aiocognito.testing import LocalUserPool

    ready = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        pool = LocalUserPool("127.0.0.1", 0, region=REGION)
        loop.run_until_complete(pool.start())
        box.update(loop=loop, url=pool.endpoint_url)
        ready.set()
        loop.run_forever()
        loop.run_until_complete(pool.close())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(30)

    async def stop() -> None:
        box["loop"].call_soon_threadsafe(box["loop"].stop)
        await asyncio.to_thread(thread.join)

    return str(box["url"]), stop


def count_recovery_copies() -> dict[str, float] | None:
    """Count the local pool's point-in-time recovery copies and the time they take, from now on.

    Wraps ``aiocognito.testing._snapshots.take`` (internal: None when it is not there any more).
    """
    try:
        from aiocognito.testing import _snapshots
    except ImportError:
        return None
    take = getattr(_snapshots, "take", None)
    if take is None:
        return None
    seen = {"copies": 0, "ms": 0.0}

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return take(*args, **kwargs)
        finally:
            seen["copies"] += 1
            seen["ms"] += (time.perf_counter() - started) * 1e3

    _snapshots.take = timed
    return seen


# ----- measurements (in the worker process) ---------------------------------------------------------------


async def rate(op: Callable[[int], Awaitable[None]], concurrency: int, seconds: float) -> float:
    """Calls/s of ``op(i)`` from ``concurrency`` tasks for ``seconds``, after one warm-up round."""
    await asyncio.gather(*(op(i) for i in range(concurrency)))
    done = 0
    deadline = time.perf_counter() + seconds

    async def loop(i: int) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await op(i)
            done += 1
            i += concurrency

    started = time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(concurrency)))
    return done / (time.perf_counter() - started)


async def create_users(cognito: Any, pool_id: str, prefix: str, count: int, concurrency: int) -> float:
    """AdminCreateUser/s for ``count`` new users from ``concurrency`` tasks."""
    names = iter(range(count))

    async def loop() -> None:
        for i in names:
            await cognito.admin_create_user(
                UserPoolId=pool_id,
                Username=f"{prefix}{i:06d}",
                TemporaryPassword=TEMPORARY,
                MessageAction="SUPPRESS",
                UserAttributes=[{"Name": "email", "Value": f"{prefix}{i:06d}@example.com"}],
            )

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


async def new_pool(cognito: Any, name: str) -> tuple[str, str]:
    pool_id = (await cognito.create_user_pool(PoolName=name, Policies={"PasswordPolicy": POLICY}))[
        "UserPool"
    ]["Id"]
    app = await cognito.create_user_pool_client(UserPoolId=pool_id, ClientName=name, ExplicitAuthFlows=FLOWS)
    return str(pool_id), str(app["UserPoolClient"]["ClientId"])


async def worker(kind: str, users: int, seconds: float, creates: int) -> dict[str, Any]:
    import aiocognito  # the client (and aiohttp) are in the baseline: only the server's memory counts

    start = {"moto": start_moto, "local": start_local, "local-thread": start_local_thread}[kind]

    def client(url: str) -> aiocognito.CognitoClient:
        retries = aiocognito.RetryPolicy(max_attempts=1)
        return aiocognito.CognitoClient(endpoint_url=url, region=REGION, credentials=CREDS, retries=retries)

    out: dict[str, Any] = {}
    gc.collect()
    rss0 = rss_mib()
    t0 = time.perf_counter()
    url, stop = await start()
    cognito = client(url)
    await cognito.list_user_pools(MaxResults=1)
    out["start_ms"] = (time.perf_counter() - t0) * 1e3
    out["start_rss_mib"] = rss_mib() - rss0

    t0 = time.perf_counter()  # a second server, modules loaded
    url2, stop2 = await start()
    async with client(url2) as other:
        await other.list_user_pools(MaxResults=1)
        out["restart_ms"] = (time.perf_counter() - t0) * 1e3
    await stop2()

    async with cognito:
        pool_id, client_id = await new_pool(cognito, "bench")
        names = [f"user{i:05d}" for i in range(users)]
        for name in names:
            await cognito.admin_create_user(
                UserPoolId=pool_id,
                Username=name,
                MessageAction="SUPPRESS",
                UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
            )
            await cognito.admin_set_user_password(
                UserPoolId=pool_id, Username=name, Password=PASSWORD, Permanent=True
            )

        def sign_in(flow: str) -> Callable[[int], Awaitable[None]]:
            async def one(i: int) -> None:
                session = cognito.session(user_pool_id=pool_id, client_id=client_id)
                step = await session.sign_in(names[i % users], PASSWORD, flow=flow)
                assert isinstance(step, aiocognito.SignedIn), step

            return one

        async def get_user(i: int) -> None:
            user = await cognito.admin_get_user(UserPoolId=pool_id, Username=names[i % users])
            assert user["UserStatus"] == "CONFIRMED", user

        try:
            await sign_in("USER_SRP_AUTH")(0)
            out["srp_error"] = None
        except Exception as exc:  # moto 5: SECRET_BLOCK is not base64
            if kind != "moto":
                raise
            out["srp_error"] = f"{type(exc).__name__}: {exc}"
        for label, flow in (("srp", "USER_SRP_AUTH"), ("password", "USER_PASSWORD_AUTH")):
            if label == "srp" and out["srp_error"]:
                continue
            out[f"signin_{label}_seq"] = await rate(sign_in(flow), 1, seconds)
            out[f"signin_{label}_conc"] = await rate(sign_in(flow), CONCURRENCY, seconds)
        out["get_user_seq"] = await rate(get_user, 1, seconds)
        out["get_user_conc"] = await rate(get_user, CONCURRENCY, seconds)

        bulk_pool, _ = await new_pool(cognito, "bulk")
        copies = count_recovery_copies() if kind != "moto" else None
        gc.collect()
        rss_before = rss_mib()
        out["create_rate"] = await create_users(cognito, bulk_pool, "bulk", creates, CONCURRENCY)
        out["create_rss_mib"] = rss_mib() - rss_before
        if copies is not None:
            out["create_copies"] = copies["copies"]
            out["create_copies_ms"] = copies["ms"]
    await stop()
    return out


# ----- the report (in the parent process) -----------------------------------------------------------------


def run_worker(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", kind]
    command += ["--users", str(args.users), "--seconds", str(args.seconds), "--creates", str(args.creates)]
    env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true")
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(f"the {kind} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


#: (row label, result key, which way is better); {c}: concurrency, {n}: --creates, {k}: copies taken
SPEC = [
    ("start: import + construct + start + 1st answer (ms)", "start_ms", "lower"),
    ("start again, modules loaded (ms)", "restart_ms", "lower"),
    ("resident memory added by the first start (MiB)", "start_rss_mib", "lower"),
    ("USER_PASSWORD_AUTH sign-ins/s, sequential", "signin_password_seq", "higher"),
    ("USER_PASSWORD_AUTH sign-ins/s, {c} concurrent", "signin_password_conc", "higher"),
    ("USER_SRP_AUTH sign-ins/s, sequential", "signin_srp_seq", "higher"),
    ("USER_SRP_AUTH sign-ins/s, {c} concurrent", "signin_srp_conc", "higher"),
    ("AdminGetUser/s, sequential", "get_user_seq", "higher"),
    ("AdminGetUser/s, {c} concurrent", "get_user_conc", "higher"),
    ("AdminCreateUser/s, {n:,} users, {c} concurrent", "create_rate", "higher"),
    ("resident memory added by the {n:,} users (MiB)", "create_rss_mib", "lower"),
    ("  of which in the {k} recovery copies taken (ms)", "create_copies_ms", "lower"),
]


def best_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Each measure's best round: the highest rate, the lowest time or memory."""
    out: dict[str, Any] = {"srp_error": rounds[0].get("srp_error")}
    for _, key, better in SPEC:
        values = [r[key] for r in rounds if r.get(key) is not None]
        if values:
            out[key] = max(values) if better == "higher" else min(values)
    timed = [r for r in rounds if r.get("create_copies_ms") is not None]
    if timed:
        out["create_copies"] = min(timed, key=lambda r: r["create_copies_ms"])["create_copies"]
    return out


def rows(local: dict[str, Any], moto: dict[str, Any], creates: int) -> list[dict[str, Any]]:
    out = []
    for label, key, better in SPEC:
        metric = label.format(c=CONCURRENCY, n=creates, k=local.get("create_copies", "?"))
        ours, theirs = local.get(key), moto.get(key)
        ratio = ours / theirs if ours is not None and theirs else None
        out.append(
            {"metric": metric, "key": key, "local": ours, "moto": theirs, "ratio": ratio, "better": better}
        )
    return out


def cell(value: float | None, width: int) -> str:
    if value is None:
        return f"{'-':>{width}}"
    return f"{value:{width}.{0 if abs(value) >= 100 else 1}f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=50, help="users to sign in and read (default 50)")
    ap.add_argument("--seconds", type=float, default=1.5, help="duration of each rate (default 1.5)")
    ap.add_argument("--rounds", type=int, default=2, help="fresh processes per server (default 2)")
    ap.add_argument("--creates", type=int, default=1000, help="AdminCreateUser calls (default 1000)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument(
        "--local-thread", action="store_true", help="run the local pool on its own loop in a thread"
    )
    ap.add_argument("--worker", choices=["local", "local-thread", "moto"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(asyncio.run(worker(args.worker, args.users, args.seconds, args.creates))))
        return

    import moto

    started = time.perf_counter()
    kinds = ["local-thread" if args.local_thread else "local", "moto"]
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for round_ in range(args.rounds):  # local, moto, moto, local, ...: drift of the machine hits both alike
        for kind in kinds if round_ % 2 == 0 else kinds[::-1]:
            runs[kind].append(run_worker(kind, args))
    local, theirs = best_of(runs[kinds[0]]), best_of(runs["moto"])
    table = rows(local, theirs, args.creates)
    command = shlex.join([os.path.relpath(sys.executable), os.path.relpath(__file__), *sys.argv[1:]])
    setup = {
        "command": command,
        "users": args.users,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "creates": args.creates,
        "concurrency": CONCURRENCY,
        "local_pool": "own loop in a thread" if args.local_thread else "on the client's event loop",
        "moto": moto.__version__,
        "python": sys.version.split()[0],
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "moto_srp_error": theirs.get("srp_error"),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    if args.json:
        print(json.dumps({"setup": setup, "rows": table, "rounds": runs}, indent=2))
        return
    print(f"command: {command}")
    print(
        f"{args.users} users, {args.seconds:g} s per rate, best of {args.rounds} rounds run alternately, Python {setup['python']}, moto {setup['moto']}, "
        f"{setup['cpus']} CPUs; local pool {setup['local_pool']}, moto server in a thread; "
        f"run took {setup['wall_s']} s"
    )
    if setup["moto_srp_error"]:
        print(f"moto cannot complete USER_SRP_AUTH with aiocognito ({setup['moto_srp_error']})")
    print(f"{'metric':56} {'local pool':>10} {'moto server':>11} {'ratio':>7}  better")
    for row in table:
        ratio = f"{row['ratio']:7.2f}" if row["ratio"] is not None else f"{'-':>7}"
        print(f"{row['metric']:56} {cell(row['local'], 10)} {cell(row['moto'], 11)} {ratio}  {row['better']}")
    print("ratio = local / moto: for rates higher is better, for times and memory lower is better")


if __name__ == "__main__":
    main()
