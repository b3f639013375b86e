"""Jobs fail fast on what concerns the whole job, and resume once it is fixed.

The command-line tests run the installed console script in subprocesses against a local user pool on
127.0.0.1: a 2,000-row CSV import with no AWS credentials (instance metadata enabled but pointed at a closed
loopback port), with the endpoint down, into an unknown user pool, and with the endpoint going away part-way
through. Each stops within 10 s with exit status 1 and one line on stderr naming the cause; the same command
then imports every row. The library tests check the credential source (one resolution for 2,000 concurrent
calls, refresh only when due), the classification of errors, and the bulk engine stopping on refused
credentials, a hung endpoint, a DNS failure and a malformed pool id. No test sends traffic outside
127.0.0.0/8 (the DNS test resolves through a resolver of its own that fails every lookup).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

import aiocognito
from aiocognito import bulk, errors
from aiocognito._wire.credentials import CredentialSource
from aiocognito.testing import FaultPlan, LocalUserPool

ROWS = 2000
LIMIT = 10.0  # seconds a stopped command may take, start to exit
CONSOLE_SCRIPT = Path(sys.executable).with_name("aiocognito")
TIMES: dict[str, float] = {}


# ----- helpers --------------------------------------------------------------------------------------------
@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound for a moment, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_csv(path: Path, n: int = ROWS) -> set[str]:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["username", "email"])
        for i in range(n):
            writer.writerow([f"ff{i:05d}", f"ff{i:05d}@example.com"])
    return {f"ff{i:05d}" for i in range(n)}


def cli_env(tmp_path: Path, *, credentials: bool) -> dict[str, str]:
    """No AWS_* from the outer environment; empty shared files; instance metadata enabled but pointed at a
    closed port on loopback (so a missing credential goes through the whole chain, and nothing leaves)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    (tmp_path / "empty-config").write_text("")
    (tmp_path / "empty-credentials").write_text("")
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "empty-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "empty-credentials"),
        AWS_EC2_METADATA_SERVICE_ENDPOINT=f"http://127.0.0.1:{closed_port()}/",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    if credentials:
        env.update(AWS_ACCESS_KEY_ID="AKIDLOCAL", AWS_SECRET_ACCESS_KEY="local-secret")
    return env


async def run_import(
    tmp_path: Path, source: Path, endpoint: str, pool: str, *, credentials: bool = True
) -> Run:
    """``aiocognito users import`` as a user would run it (the loop stays free for an in-process pool)."""
    args = ["users", "import", str(source), "--endpoint-url", endpoint, "--user-pool-id", pool,
            "--region", "us-east-1", "--rate", "5000", "--concurrency", "16"]  # fmt: skip
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        str(CONSOLE_SCRIPT), *args,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=cli_env(tmp_path, credentials=credentials),
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode(), time.monotonic() - started)


def assert_stopped(run: Run, name: str, *needles: str) -> str:
    """Exit 1 within LIMIT seconds, and exactly one line on stderr that names the cause."""
    TIMES[name] = run.seconds
    print(f"\n{name}: exit {run.code} in {run.seconds:.2f}s: {run.stderr.strip()}")
    lines = run.stderr.strip().splitlines()
    assert run.code == 1, run.stderr
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("aiocognito: error: ") and "Traceback" not in run.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert run.seconds < LIMIT, f"{name} took {run.seconds:.1f}s"
    return lines[0]


def result_records(source: Path) -> list[dict[str, Any]]:
    path = Path(str(source) + ".results.jsonl")
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def pool_usernames(local: LocalUserPool, pool: str) -> list[str]:
    async with local.client() as cognito:
        return [u["Username"] async for u in cognito.list_all_users(UserPoolId=pool)]


def assert_imported(run: Run, *, skipped: int = 0) -> None:
    assert run.code == 0, run.stderr
    summary = next(line for line in run.stderr.splitlines() if line.startswith("AdminCreateUser:"))
    succeeded, already, failed = (int(summary.split()[i]) for i in (1, 3, 5))
    assert failed == 0 and succeeded + already + skipped == ROWS, run.stderr
    assert already <= 16, run.stderr  # at most the calls in flight when an earlier run stopped


# ----- the command line -----------------------------------------------------------------------------------
async def test_import_without_credentials_stops_at_once_then_imports_all(
    local_user_pool: LocalUserPool, tmp_path: Path
) -> None:
    local = local_user_pool
    pool = await local.create_user_pool()
    source = tmp_path / "users.csv"
    expected = write_csv(source)

    stopped = await run_import(tmp_path, source, local.endpoint_url, pool, credentials=False)
    assert_stopped(stopped, "no credentials", "CredentialsError", "no AWS credentials found")
    assert local.request_count == 0  # nothing was sent: the chain failed on this side
    assert all(r["status"] != "failed" for r in result_records(source))  # no row was marked failed

    fixed = await run_import(tmp_path, source, local.endpoint_url, pool, credentials=True)
    assert_imported(fixed)
    assert sorted(await pool_usernames(local, pool)) == sorted(expected)


async def test_import_with_the_endpoint_down_stops_then_the_same_command_imports_all(
    tmp_path: Path,
) -> None:
    port = closed_port()
    local = LocalUserPool(port=port)  # its data exists in-process; nothing listens on the port yet
    try:
        pool = await local.create_user_pool()
        source = tmp_path / "users.csv"
        expected = write_csv(source)
        endpoint = f"http://127.0.0.1:{port}"

        stopped = await run_import(tmp_path, source, endpoint, pool)
        assert_stopped(stopped, "endpoint down", "endpoint unreachable", f"127.0.0.1:{port}")
        assert result_records(source) == []

        await local.start()  # the cause fixed: the very same command now works
        fixed = await run_import(tmp_path, source, endpoint, pool)
        assert_imported(fixed)
        assert sorted(await pool_usernames(local, pool)) == sorted(expected)
    finally:
        await local.close()


async def test_import_into_an_unknown_pool_stops_then_imports_all_into_the_right_one(
    local_user_pool: LocalUserPool, tmp_path: Path
) -> None:
    local = local_user_pool
    pool = await local.create_user_pool()
    source = tmp_path / "users.csv"
    expected = write_csv(source)

    stopped = await run_import(tmp_path, source, local.endpoint_url, "us-east-1_NoSuchPool1")
    assert_stopped(
        stopped, "unknown pool", "ResourceNotFoundException", "User pool us-east-1_NoSuchPool1 does not exist"
    )
    assert local.request_count <= 2 * 16  # the calls in flight when the first answer came, no more
    assert all(r["status"] != "failed" for r in result_records(source))

    fixed = await run_import(tmp_path, source, local.endpoint_url, pool)
    assert_imported(fixed)
    assert sorted(await pool_usernames(local, pool)) == sorted(expected)


async def test_an_endpoint_that_goes_away_mid_import_stops_it_and_a_rerun_resumes(
    local_user_pool: LocalUserPool, tmp_path: Path
) -> None:
    local = local_user_pool
    pool = await local.create_user_pool()
    source = tmp_path / "users.csv"
    expected = write_csv(source)
    results = Path(str(source) + ".results.jsonl")

    async def break_the_endpoint_after(rows: int) -> None:
        while not results.exists() or len(results.read_text().splitlines()) < rows:
            await asyncio.sleep(0.02)
        local.faults = FaultPlan(drop_rate=1.0)  # every connection closed before an answer

    breaker = asyncio.ensure_future(break_the_endpoint_after(300))
    try:
        stopped = await run_import(tmp_path, source, local.endpoint_url, pool)
    finally:
        breaker.cancel()
    assert_stopped(stopped, "endpoint gone mid-import", "endpoint unreachable", "ConnectionFailedError")
    done = [r for r in result_records(source) if r["status"] in ("succeeded", "already")]
    assert 300 <= len(done) < ROWS
    assert all(r["status"] != "failed" for r in result_records(source))

    local.faults = None
    resumed = await run_import(tmp_path, source, local.endpoint_url, pool)
    assert f"resuming: {len(done)} users were done" in resumed.stderr
    assert_imported(resumed, skipped=len(done))
    assert sorted(await pool_usernames(local, pool)) == sorted(expected)


def test_zz_report_the_times() -> None:
    """Prints the measured times of the stopped commands (run with -s to see them)."""
    for name, seconds in TIMES.items():
        print(f"{name}: {seconds:.2f}s")


# ----- a local server that counts what reaches it ---------------------------------------------------------
class Server:
    """An aiohttp server on 127.0.0.1 answering every request with ``answer(request)``; counts requests."""

    def __init__(self, answer: Callable[[web.Request], web.StreamResponse]) -> None:
        self.answer = answer
        self.requests: list[str] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.requests.append(f"{request.method} {request.path}")
        return self.answer(request)


async def serve(answer: Callable[[web.Request], web.StreamResponse]) -> AsyncIterator[Server]:
    server = Server(answer)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture
async def metadata() -> AsyncIterator[Server]:
    """A stand-in for instance metadata on loopback that has no credentials (404 to everything)."""
    async for server in serve(lambda request: web.Response(status=404)):
        yield server


@pytest.fixture
async def cognito_ok() -> AsyncIterator[Server]:
    """Answers every call with ``{}``."""
    async for server in serve(lambda request: web.json_response({})):
        yield server


@pytest.fixture
async def refusing() -> AsyncIterator[Server]:
    """Refuses every signature, as Cognito does with unknown access keys."""
    body = {"__type": "UnrecognizedClientException", "message": "The security token included is invalid."}
    async for server in serve(lambda request: web.json_response(body, status=400)):
        yield server


# ----- credentials: resolved once per client --------------------------------------------------------------
async def test_2000_concurrent_calls_resolve_the_chain_once_and_share_its_error(
    metadata: Server, cognito_ok: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    (tmp_path / "empty").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "empty"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "empty"))
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", metadata.url + "/")  # metadata enabled, local

    async with aiocognito.CognitoClient(region="us-east-1", endpoint_url=cognito_ok.url) as cognito:
        started = time.monotonic()
        outcomes = await asyncio.gather(
            *(cognito.admin_get_user(UserPoolId="us-east-1_x", Username=f"u{i}") for i in range(ROWS)),
            return_exceptions=True,
        )
        elapsed = time.monotonic() - started
        assert all(isinstance(o, aiocognito.CredentialsError) for o in outcomes)
        assert len({str(o) for o in outcomes}) == 1  # the same typed error for every waiting call
        asked = len(metadata.requests)
        assert 1 <= asked <= 4, metadata.requests  # one walk through the chain: a token, a role, ...
        assert cognito_ok.requests == []
        assert elapsed < 5, elapsed
        # the failure is remembered: the next calls fail at once without asking again
        with pytest.raises(aiocognito.CredentialsError):
            await cognito.admin_get_user(UserPoolId="us-east-1_x", Username="again")
        assert len(metadata.requests) == asked
        # and a bulk job on the same client stops on it with one typed error
        with pytest.raises(bulk.BulkJobAborted) as stopped:
            await bulk.create_users(cognito, "us-east-1_x", (f"u{i}" for i in range(ROWS)))
        assert stopped.value.reason == "credentials"
        assert isinstance(stopped.value.cause, aiocognito.CredentialsError)
        assert stopped.value.report.processed == 0
    print(f"\n2,000 concurrent calls without credentials: {elapsed:.3f}s, {asked} metadata requests")


class CountingProvider:
    """A botocore-like credential provider: counts resolutions; ``due`` is what refresh_needed() says."""

    def __init__(self) -> None:
        self.resolutions = 0
        self.due = False
        self.broken = False

    def refresh_needed(self) -> bool:
        return self.due

    async def get_frozen_credentials(self) -> Any:
        self.resolutions += 1
        await asyncio.sleep(0.01)
        if self.broken:
            raise RuntimeError("the provider's source is down")
        self.due = False
        return aiocognito.Credentials(f"AK{self.resolutions}", "secret", None)


async def test_credentials_are_refreshed_only_when_due(cognito_ok: Server) -> None:
    provider = CountingProvider()
    async with aiocognito.CognitoClient(
        region="us-east-1", endpoint_url=cognito_ok.url, credentials=provider
    ) as cognito:

        async def many(n: int) -> list[Any]:
            return await asyncio.gather(
                *(cognito.admin_get_user(UserPoolId="us-east-1_x", Username=f"u{i}") for i in range(n)),
                return_exceptions=True,
            )

        assert not any(isinstance(o, Exception) for o in await many(200))
        assert provider.resolutions == 1
        provider.due = True  # about to expire: the next calls renew them once
        assert not any(isinstance(o, Exception) for o in await many(200))
        assert provider.resolutions == 2
        provider.due, provider.broken = True, True
        outcomes = await many(200)
        assert all(isinstance(o, aiocognito.CredentialsError) for o in outcomes)
        assert "RuntimeError: the provider's source is down" in str(outcomes[0])
        assert provider.resolutions == 3  # one failed attempt for 200 waiting calls
    assert len(cognito_ok.requests) == 400


async def test_a_remembered_failure_is_retried_after_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    provider = CountingProvider()
    provider.broken = True
    source = CredentialSource(provider, clock=lambda: now[0])
    for _ in range(3):
        with pytest.raises(aiocognito.CredentialsError):
            await source.get()
    assert provider.resolutions == 1
    now[0] = 31.0
    provider.broken = False
    assert (await source.get()).access_key == "AK2"


# ----- which errors concern the whole job (pure) ----------------------------------------------------------
def service(code: str, message: str = "") -> aiocognito.ServiceError:
    return errors.error_class(code)(message, code=code, operation="AdminCreateUser", status=400)


@pytest.mark.parametrize(
    ("error", "shared", "cause"),
    [
        (aiocognito.CredentialsError("no AWS credentials found"), (), "credentials"),
        (service("UnrecognizedClientException", "The security token is invalid."), (), "credentials"),
        (service("InvalidSignatureException", "Signature expired"), (), "credentials"),
        (service("ExpiredTokenException", "The security token has expired."), (), "credentials"),
        (service("AccessDeniedException", "not authorized to perform AdminCreateUser"), (), "permissions"),
        (service("ResourceNotFoundException", "User pool us-east-1_x does not exist."), (), "user pool"),
        (service("InvalidParameterException", "Value at 'userPoolId' failed to satisfy"), (), "user pool"),
        (service("ResourceNotFoundException", "team"), ("GroupName",), "group"),
        (service("UnknownOperationException", "Unknown operation"), (), "endpoint"),
        (aiocognito.ConnectionFailedError("cannot connect", before_send=True), (), "endpoint"),
        (aiocognito.RequestTimeoutError("no answer"), (), "endpoint"),
        (aiocognito.ResponseParseError("HTML", operation="X", status=403, excerpt="<html>"), (), "endpoint"),
        (aiocognito.ConfigurationError("this client is closed"), (), "configuration"),
        (service("UsernameExistsException", "User account already exists"), (), None),
        (service("InvalidParameterException", "Invalid email address format."), (), None),
        (service("ResourceNotFoundException", "Group not found."), (), None),  # the row's own group
        (service("ResourceNotFoundException", "User pool client abc does not exist."), (), None),
        (service("UserNotFoundException", "User does not exist."), (), None),
        (service("InternalErrorException", "boom"), (), None),
        (aiocognito.ParamValidationError("AdminCreateUser", ["missing Username"]), (), None),
    ],
)
def test_classify(error: Exception, shared: tuple[str, ...], cause: str | None) -> None:
    assert bulk.job_cause(error, shared=shared) == cause
    assert bulk.classify(error, shared=shared) == ("row" if cause is None else "job")


# ----- the engine stops its workers -----------------------------------------------------------------------
async def test_refused_credentials_stop_a_job_after_the_calls_in_flight(refusing: Server) -> None:
    async with aiocognito.CognitoClient(
        region="us-east-1", endpoint_url=refusing.url, credentials=("AKIDBAD", "bad")
    ) as cognito:
        job = bulk.create_users(cognito, "us-east-1_x", (f"u{i}" for i in range(ROWS)), concurrency=16)
        started = time.monotonic()
        seen = []
        with pytest.raises(bulk.BulkJobAborted) as stopped:
            async for outcome in job.results():
                seen.append(outcome)
    assert time.monotonic() - started < 2
    assert stopped.value.reason == "credentials"
    assert isinstance(stopped.value.cause, errors.UnrecognizedClientException)
    assert "UnrecognizedClientException" in str(stopped.value)
    assert seen == [] and job.report.failed == 0  # no row marked failed
    assert len(refusing.requests) <= 2 * 16


async def test_a_hung_endpoint_stops_the_job_within_seconds() -> None:
    """Connections are accepted and never answered: every attempt times out; the job stops."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aiocognito.CognitoClient(
            region="us-east-1",
            endpoint_url=f"http://127.0.0.1:{port}",
            credentials=("a", "b"),
            timeout=aiocognito.Timeout(total=0.5, connect=0.5),
        ) as cognito:
            started = time.monotonic()
            with pytest.raises(bulk.BulkJobAborted) as stopped:
                await bulk.create_users(cognito, "us-east-1_x", (f"u{i}" for i in range(ROWS)))
            elapsed = time.monotonic() - started
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
    assert stopped.value.reason == "endpoint"
    assert isinstance(stopped.value.cause, aiocognito.RequestTimeoutError)
    assert stopped.value.report.failed == 0
    assert elapsed < 6, elapsed


class NoDns(AbstractResolver):
    """A resolver that fails every lookup, as for a region typo (``eu-wst-1``): nothing leaves the machine."""

    def __init__(self) -> None:
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        self.lookups.append(host)
        raise OSError(socket.EAI_NONAME, "Name or service not known")

    async def close(self) -> None:
        pass


async def test_a_dns_failure_stops_the_job_naming_the_host() -> None:
    resolver = NoDns()
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver)) as http,
        aiocognito.CognitoClient(region="eu-wst-1", credentials=("a", "b"), http_session=http) as cognito,
    ):
        started = time.monotonic()
        with pytest.raises(bulk.BulkJobAborted) as stopped:
            await bulk.create_users(cognito, "eu-wst-1_AbC", (f"u{i}" for i in range(ROWS)))
        elapsed = time.monotonic() - started
    assert stopped.value.reason == "endpoint"
    assert "cannot resolve the host name of cognito-idp.eu-wst-1.amazonaws.com" in str(stopped.value)
    assert set(resolver.lookups) == {"cognito-idp.eu-wst-1.amazonaws.com"}
    assert elapsed < 6, elapsed


async def test_a_malformed_pool_id_stops_the_job_before_anything_is_sent(cognito_ok: Server) -> None:
    async with aiocognito.CognitoClient(
        region="us-east-1", endpoint_url=cognito_ok.url, credentials=("a", "b")
    ) as cognito:
        with pytest.raises(bulk.BulkJobAborted) as stopped:
            await bulk.delete_users(cognito, "not a pool id", ["alice"])
    assert stopped.value.reason == "user pool"
    assert isinstance(stopped.value.cause, aiocognito.ParamValidationError)
    assert cognito_ok.requests == []


async def test_unknown_pool_on_moto_stops_the_job(cognito: aiocognito.CognitoClient) -> None:
    rows = [{"Username": f"u{i}", "MessageAction": "SUPPRESS"} for i in range(200)]
    with pytest.raises(bulk.BulkJobAborted) as stopped:
        await bulk.create_users(cognito, "us-east-1_NoSuchPool1", rows)
    assert stopped.value.reason == "user pool"
    assert isinstance(stopped.value.cause, errors.ResourceNotFoundException)
    assert stopped.value.report.failed == 0


async def test_row_errors_stay_with_their_rows(cognito: aiocognito.CognitoClient) -> None:
    pool = (await cognito.create_user_pool(PoolName="rows", UsernameAttributes=["email"]))["UserPool"]["Id"]
    rows = ["a@example.com", "not-an-email", "b@example.com", "a@example.com"]
    report = await bulk.create_users(cognito, pool, rows, concurrency=1)
    assert (report.succeeded, report.already, report.failed) == (2, 1, 1)
    assert report.failures[0].code == "InvalidParameterException"
