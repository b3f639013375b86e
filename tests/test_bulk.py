"""Bulk operations: counts, ambiguity handling, streaming, caps, secrets, memory, and a faulty local pool."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import gc
import io
import json
import time
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict

import aiocognito
from aiocognito import bulk
from aiocognito._bulk_engine import _BULK_PACERS, _bulk_view
from aiocognito._errors import ConnectionFailedError
from aiocognito._wire.transport import RawResponse
from aiocognito.testing import FaultPlan, LocalUserPool

POOL = "us-east-1_stub"


# ----- an in-memory stub of a few admin operations, with scripted faults ----------------------------------
class StubPool:
    """A client transport that answers AdminCreateUser/GetUser/DeleteUser/SetUserPassword in memory.

    ``script[(operation, username)]`` is a list of faults applied to that pair's successive calls:
    ``throttle``/``error``/``drop`` (no effect) or ``lost_reply`` (takes effect, answer lost).
    """

    def __init__(self, *, echo_password: bool = False, latency: float = 0.0) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.creates: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.script: dict[tuple[str, str], list[str]] = {}
        self.echo_password = echo_password
        self.latency = latency
        self.in_flight = 0
        self.max_in_flight = 0

    @staticmethod
    def _reply(status: int, body: dict[str, Any]) -> RawResponse:
        return RawResponse(status, CIMultiDict({"x-amzn-RequestId": "req"}), json.dumps(body).encode())

    def _error(self, code: str, message: str = "", status: int = 400) -> RawResponse:
        return self._reply(status, {"__type": code, "message": message})

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> RawResponse:
        operation = headers["X-Amz-Target"].rsplit(".", 1)[1]
        params = json.loads(body)
        self.calls[operation] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency)
            faults = self.script.get((operation, params.get("Username", "")))
            fault = faults.pop(0) if faults else None
            if fault == "throttle":
                return self._error("TooManyRequestsException", "Rate exceeded")
            if fault == "error":
                return self._error("InternalErrorException", "injected", 500)
            if fault == "drop":
                raise ConnectionFailedError("connection broke (injected)")
            reply = self._handle(operation, params)
            if fault == "lost_reply":
                raise ConnectionFailedError("connection broke after the request (injected)")
            return reply
        finally:
            self.in_flight -= 1

    def _handle(self, operation: str, params: dict[str, Any]) -> RawResponse:
        name = params.get("Username", "")
        user = self.users.get(name)
        if operation == "AdminCreateUser":
            if user is not None:
                return self._error("UsernameExistsException", "User account already exists")
            password = params.get("TemporaryPassword", "")
            if password and len(password) < 8:
                text = f"Password {password} is too short" if self.echo_password else "Password too short"
                return self._error("InvalidPasswordException", text)
            self.creates[name] += 1
            self.users[name] = {
                "Username": name,
                "Attributes": list(params.get("UserAttributes", [])),
                "UserCreateDate": time.time(),
                "Enabled": True,
                "Password": password,
            }
            return self._reply(200, {"User": {"Username": name, "Enabled": True}})
        if user is None:
            return self._error("UserNotFoundException", "User does not exist.")
        if operation == "AdminGetUser":
            return self._reply(
                200,
                {
                    "Username": name,
                    "UserAttributes": user["Attributes"],
                    "UserCreateDate": user["UserCreateDate"],
                },
            )
        if operation == "AdminDeleteUser":
            del self.users[name]
            return self._reply(200, {})
        if operation == "AdminSetUserPassword":
            if params["Password"] == user["Password"]:
                return self._error("PasswordHistoryPolicyViolationException", "Password was used before")
            user["Password"] = params["Password"]
            return self._reply(200, {})
        return self._error("InvalidParameterException", f"stub does not do {operation}")

    async def aclose(self) -> None:
        pass


def stub_client(stub: StubPool, **options: Any) -> aiocognito.CognitoClient:
    options.setdefault(
        "quotas", {"UserCreation": float("inf"), "UserRead": float("inf"), "UserUpdate": float("inf")}
    )
    return aiocognito.CognitoClient(
        region="us-east-1",
        endpoint_url="http://stub.invalid",
        credentials=("AK", "SK"),
        transport=stub,
        **options,
    )


def old(stub: StubPool, name: str, **fields: Any) -> None:
    """A user that existed long before the run."""
    stub.users[name] = {
        "Username": name,
        "Attributes": [],
        "UserCreateDate": time.time() - 86400,
        "Enabled": True,
        "Password": "",
        **fields,
    }


# ----- against moto -------------------------------------------------------------------------------------
async def test_every_operation_against_moto(cognito: aiocognito.CognitoClient) -> None:
    pool = (await cognito.create_user_pool(PoolName="bulk"))["UserPool"]["Id"]
    await cognito.admin_create_user(UserPoolId=pool, Username="bob", MessageAction="SUPPRESS")
    rows = [
        {
            "Username": name,
            "MessageAction": "SUPPRESS",
            "UserAttributes": [{"Name": "email", "Value": f"{name}@x.org"}],
        }
        for name in ("alice", "bob", "carol")
    ]
    created = await bulk.create_users(cognito, pool, rows, concurrency=2)
    assert (created.succeeded, created.already, created.failed) == (2, 1, 0)
    carol = await cognito.admin_get_user(UserPoolId=pool, Username="carol")
    assert {"Name": "email", "Value": "carol@x.org"} in carol["UserAttributes"]

    await cognito.create_group(UserPoolId=pool, GroupName="team")
    added = await bulk.add_users_to_group(cognito, pool, ["alice", "carol"], group_name="team")
    assert (added.succeeded, added.failed) == (2, 0)
    members = sorted(
        [u["Username"] async for u in cognito.list_all_users_in_group(UserPoolId=pool, GroupName="team")]
    )
    assert members == ["alice", "carol"]
    removed = await bulk.remove_users_from_group(cognito, pool, [{"Username": "alice", "GroupName": "team"}])
    assert removed.succeeded == 1
    members = [
        u["Username"] async for u in cognito.list_all_users_in_group(UserPoolId=pool, GroupName="team")
    ]
    assert members == ["carol"]

    disabled = await bulk.disable_users(cognito, pool, ["alice", "bob"])
    assert disabled.succeeded == 2
    assert (await cognito.admin_get_user(UserPoolId=pool, Username="bob"))["Enabled"] is False
    enabled = await bulk.enable_users(cognito, pool, ["bob"])
    assert enabled.succeeded == 1
    assert (await cognito.admin_get_user(UserPoolId=pool, Username="bob"))["Enabled"] is True

    updated = await bulk.update_user_attributes(
        cognito, pool, [{"Username": "alice", "UserAttributes": [{"Name": "given_name", "Value": "Alice"}]}]
    )
    assert updated.succeeded == 1
    alice = await cognito.admin_get_user(UserPoolId=pool, Username="alice")
    assert {"Name": "given_name", "Value": "Alice"} in alice["UserAttributes"]

    passwords = await bulk.set_passwords(
        cognito, pool, [{"Username": "alice", "Password": "N3w-Passw0rd!"}], defaults={"Permanent": True}
    )
    assert passwords.succeeded == 1
    assert (await cognito.admin_get_user(UserPoolId=pool, Username="alice"))["UserStatus"] == "CONFIRMED"

    deleted = await bulk.delete_users(cognito, pool, ["alice", "bob", "nobody"])
    assert (deleted.succeeded, deleted.already, deleted.failed) == (2, 1, 0)
    left = [u["Username"] async for u in cognito.list_all_users(UserPoolId=pool)]
    assert left == ["carol"]


async def test_missing_group_is_a_typed_failure(cognito: aiocognito.CognitoClient) -> None:
    pool = (await cognito.create_user_pool(PoolName="bulk"))["UserPool"]["Id"]
    await cognito.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
    await cognito.create_group(UserPoolId=pool, GroupName="team")
    # a row's own group that does not exist fails that row only, at the first attempt
    rows = [{"Username": "alice", "GroupName": "no-such-group"}, {"Username": "alice", "GroupName": "team"}]
    report = await bulk.add_users_to_group(cognito, pool, rows, concurrency=1)
    assert (report.succeeded, report.failed) == (1, 1)
    assert isinstance(report.failures[0].error, aiocognito.errors.ResourceNotFoundException)
    assert report.failures[0].attempts == 1  # not retried
    # a row that names its own group instead of the job's: its missing group is its own problem
    rows = [{"Username": "alice", "GroupName": "no-such-group"}, "alice"]
    report = await bulk.add_users_to_group(cognito, pool, rows, group_name="team", concurrency=1)
    assert (report.succeeded, report.failed) == (1, 1)
    # the group every row names (group_name=) does not exist: the whole job stops, no row is failed
    job = bulk.add_users_to_group(cognito, pool, ["alice"] * 50, group_name="no-such-group")
    with pytest.raises(bulk.BulkJobAborted) as stopped:
        await job
    assert stopped.value.reason == "group"
    assert isinstance(stopped.value.cause, aiocognito.errors.ResourceNotFoundException)
    assert job.report.failed == 0 and job.report.processed == 0


# ----- ambiguity: what a retry whose first attempt worked counts as --------------------------------------
async def test_ambiguous_creates_are_checked_and_counted_once() -> None:
    stub = StubPool()
    old(stub, "bob")
    stub.script = {
        ("AdminCreateUser", "alice"): ["lost_reply"],  # created, answer lost -> retry -> exists -> ours
        ("AdminCreateUser", "bob"): ["error"],  # existed before; 500 -> retry -> exists -> not ours
        ("AdminCreateUser", "carol"): ["drop"],  # not created; retry creates
        ("AdminCreateUser", "dave"): ["lost_reply", "throttle", "lost_reply"],
        ("AdminGetUser", "dave"): ["throttle", "error"],  # the check itself is retried
        ("AdminCreateUser", "erin"): ["throttle", "throttle"],  # refused twice, then created
    }
    async with stub_client(stub) as client:
        job = bulk.create_users(
            client, POOL, ["alice", "bob", "carol", "dave", "erin", "frank"], concurrency=3
        )
        outcomes = {o.username: o async for o in job.results()}
    report = job.report
    assert (report.succeeded, report.already, report.failed) == (5, 1, 0)
    assert outcomes["bob"].status == "already"
    assert outcomes["alice"].status == outcomes["dave"].status == "succeeded"
    assert outcomes["erin"].attempts == 1  # throttled calls are not attempts
    assert set(stub.creates) == {"alice", "carol", "dave", "erin", "frank"}
    assert max(stub.creates.values()) == 1


async def test_an_existing_user_with_other_attributes_is_not_ours() -> None:
    stub = StubPool()
    # created a moment ago (so the date alone would pass) but with another email: someone else's user
    stub.users["gina"] = {
        "Username": "gina",
        "Attributes": [{"Name": "email", "Value": "other@x.org"}],
        "UserCreateDate": time.time(),
        "Enabled": True,
        "Password": "",
    }
    stub.script = {("AdminCreateUser", "gina"): ["error"]}
    row = {"Username": "gina", "UserAttributes": [{"Name": "email", "Value": "gina@x.org"}]}
    async with stub_client(stub) as client:
        report = await bulk.create_users(client, POOL, [row])
    assert (report.succeeded, report.already) == (0, 1)


async def test_lost_replies_for_delete_and_set_password_count_as_done() -> None:
    stub = StubPool()
    for name in ("a", "b", "c"):
        old(stub, name, Password="Old-pass-1")
    stub.script = {("AdminDeleteUser", "a"): ["lost_reply"], ("AdminSetUserPassword", "b"): ["lost_reply"]}
    async with stub_client(stub) as client:
        deleted = await bulk.delete_users(client, POOL, ["a", "zed"])
        assert (deleted.succeeded, deleted.already) == (1, 1)
        rows = [{"Username": "b", "Password": "New-pass-1"}, {"Username": "c", "Password": "Old-pass-1"}]
        changed = await bulk.set_passwords(client, POOL, rows)
    # b: the lost first attempt set it, the retry hits the history rule -> succeeded.
    # c: the history rule on a clean first attempt is a real failure.
    assert (changed.succeeded, changed.failed) == (1, 1)
    assert changed.failures[0].code == "PasswordHistoryPolicyViolationException"


async def test_retries_give_up_after_max_attempts() -> None:
    stub = StubPool()
    stub.script = {("AdminCreateUser", "x"): ["error"] * 10}
    async with stub_client(stub) as client:
        report = await bulk.create_users(client, POOL, ["x"], max_attempts=3)
    assert report.failed == 1 and report.failures[0].attempts == 3
    assert isinstance(report.failures[0].error, aiocognito.errors.InternalErrorException)
    assert stub.calls["AdminCreateUser"] == 3


# ----- streaming, callbacks, bounds ---------------------------------------------------------------------
async def _async_rows(n: int, pulled: list[int]) -> AsyncIterator[dict[str, Any]]:
    for i in range(n):
        pulled.append(i)
        await asyncio.sleep(0)
        yield {"Username": f"user{i}"}


async def test_async_rows_stream_through_a_bounded_pool() -> None:
    stub = StubPool(latency=0.002)
    pulled: list[int] = []
    seen_progress: list[int] = []
    results: list[bulk.Outcome] = []

    async def on_result(outcome: bulk.Outcome) -> None:
        results.append(outcome)
        # rows are pulled as workers free up, never all at once
        assert len(pulled) <= len(results) + 4

    async with stub_client(stub) as client:
        report = await bulk.create_users(
            client,
            POOL,
            _async_rows(200, pulled),
            concurrency=4,
            on_result=on_result,
            on_progress=lambda r: seen_progress.append(r.processed),
        )
    assert report.succeeded == 200 and len(results) == 200
    assert sorted(o.index for o in results) == list(range(200))
    assert stub.max_in_flight == 4
    assert seen_progress[-1] == 200  # the final progress call sees everything


async def test_results_can_stop_early() -> None:
    stub = StubPool(latency=0.001)
    pulled: list[int] = []
    async with stub_client(stub) as client:
        job = bulk.create_users(client, POOL, _async_rows(10_000, pulled), concurrency=4)
        got = 0
        async with contextlib.aclosing(job.results()) as results:
            async for _outcome in results:
                got += 1
                if got == 10:
                    break
        await asyncio.sleep(0.01)
    assert len(pulled) < 30  # the run stopped with the consumer
    with pytest.raises(RuntimeError):
        await job


async def test_an_error_in_the_row_source_reaches_the_caller() -> None:
    def rows() -> Iterator[dict[str, Any]]:
        yield {"Username": "ok"}
        raise ValueError("bad input line 2")

    async with stub_client(StubPool()) as client:
        with pytest.raises(ValueError, match="line 2"):
            await bulk.create_users(client, POOL, rows())
        with pytest.raises(ValueError, match="line 2"):
            async for _ in bulk.create_users(client, POOL, rows()).results():
                pass


async def test_failures_are_capped_but_counted() -> None:
    rows = [{"Username": f"u{i}", "NotAParameter": 1} for i in range(30)]
    async with stub_client(StubPool()) as client:
        report = await bulk.create_users(client, POOL, rows, max_failures=10)
    assert report.failed == 30
    assert len(report.failures) == 10 and report.failures_dropped == 20
    assert all(isinstance(f.error, aiocognito.ParamValidationError) for f in report.failures)
    assert "30 failed" in repr(report)


async def test_rows_naming_another_pool_or_not_mappings_fail() -> None:
    rows: list[Any] = [{"Username": "a", "UserPoolId": "us-east-1_other"}, 42]
    async with stub_client(StubPool()) as client:
        report = await bulk.delete_users(client, POOL, rows)
    assert report.failed == 2
    assert {f.code for f in report.failures} == {"ParamValidationError"}


async def test_no_password_reaches_the_report() -> None:
    secret = "Sh0rt!"
    stub = StubPool(echo_password=True)
    async with stub_client(stub) as client:
        report = await bulk.create_users(client, POOL, [{"Username": "p", "TemporaryPassword": secret}])
        changed = await bulk.set_passwords(client, POOL, [{"Username": "nobody", "Password": secret}])
    assert report.failed == 1 and changed.failed == 1
    error = report.failures[0].error
    assert isinstance(error, aiocognito.errors.InvalidPasswordException)
    texts = [
        repr(report),
        repr(report.failures),
        str(error),
        repr(error),
        error.message,
        json.dumps(error.response),
    ]
    texts += [repr(changed), str(changed.failures[0].error)]
    assert all(secret not in text for text in texts)
    assert "<redacted>" in str(error)
    assert error.__traceback__ is None  # the frames holding the row are dropped


async def test_bulk_paces_with_its_own_pacer_when_the_client_has_none() -> None:
    stub = StubPool()
    async with stub_client(stub, quotas=None) as client:
        assert client._pacer is None
        started = time.monotonic()
        report = await bulk.create_users(client, POOL, [f"u{i}" for i in range(30)], concurrency=8)
        elapsed = time.monotonic() - started
        again = _bulk_view(client)._pacer
    assert report.succeeded == 30
    assert elapsed >= 29 / (50 * 0.95) - 0.05  # the published UserCreation default, 50/s
    assert again is _BULK_PACERS[client]  # shared by every bulk job on that client


# ----- memory -------------------------------------------------------------------------------------------
async def _peak_bytes(rows: int) -> int:
    stub = StubPool()
    stub._handle = lambda operation, params: StubPool._reply(200, {"User": {"Username": params["Username"]}})  # type: ignore[method-assign]

    def generate() -> Iterator[dict[str, Any]]:
        for i in range(rows):
            yield {
                "Username": f"user{i:08d}",
                "TemporaryPassword": "Temp-Passw0rd!",
                "UserAttributes": [{"Name": "email", "Value": f"user{i:08d}@example.com"}],
                "MessageAction": "SUPPRESS",
            }

    async with stub_client(stub) as client:
        gc.collect()
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            report = await bulk.create_users(client, POOL, generate(), concurrency=16)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    assert report.succeeded == rows
    return peak


async def test_peak_memory_does_not_grow_with_the_row_count() -> None:
    small = await _peak_bytes(2_000)
    large = await _peak_bytes(20_000)
    print(f"peak traced memory: 2k rows {small / 1024:.0f} KiB, 20k rows {large / 1024:.0f} KiB")
    assert large < small * 1.25 + 64 * 1024


# ----- the acceptance run: a CSV into a faulty local pool -------------------------------------------------
def _write_csv(path: Path, n: int) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["username", "email", "given_name"])
        for i in range(n):
            writer.writerow([f"user{i:05d}", f"user{i:05d}@example.com", f"User {i}"])


async def test_csv_import_into_a_faulty_pool_creates_each_user_exactly_once(tmp_path: Path) -> None:
    source = tmp_path / "users.csv"
    _write_csv(source, 2000)
    async with LocalUserPool() as local:
        pool = await local.create_user_pool()
        # throttle_rps below the ~300 rows/s a busy 2-core machine still reaches, so throttles always happen
        local.faults = FaultPlan(
            seed=7, throttle_rps=250, error_rate=0.07, drop_rate=0.06, lost_reply_rate=0.07
        )
        async with local.client(quotas={"UserCreation": 1000, "UserRead": 1000}) as client:
            with source.open(newline="") as lines:
                report = await bulk.create_users(client, pool, bulk.rows_from_csv(lines), concurrency=16)
        faults = Counter(event.kind for event in local.fault_log)
        lost_creates = [e for e in local.fault_log if e.kind == "lost_reply" and e.took_effect]
        local.faults = None
        async with local.client() as client:
            users = {u["Username"]: u async for u in client.list_all_users(UserPoolId=pool)}
    print(f"{report!r}; injected {dict(faults)}")
    assert (report.succeeded, report.already, report.failed) == (2000, 0, 0)
    assert set(faults) == {"throttle", "error", "drop", "lost_reply"}
    assert len(lost_creates) > 50  # many creates took effect with their answer lost
    with source.open(newline="") as lines:
        expected = {row["username"]: row["email"] for row in csv.DictReader(lines)}
    assert set(users) == set(expected)  # exactly those 2,000: none missing, none extra, none twice
    for name, user in users.items():
        attrs = {a["Name"]: a["Value"] for a in user["Attributes"]}
        assert attrs["email"] == expected[name]


def test_rows_from_csv_maps_columns() -> None:
    text = (
        "cognito:username,email,temporary_password,status,sub,cognito:mfa_enabled,custom:team\n"
        "ann,ann@x.org,Temp-1234,CONFIRMED,abc,false,\n"
    )
    rows = list(bulk.rows_from_csv(io.StringIO(text)))
    assert rows == [
        {
            "Username": "ann",
            "UserAttributes": [{"Name": "email", "Value": "ann@x.org"}],
            "TemporaryPassword": "Temp-1234",
            "MessageAction": "SUPPRESS",
        }
    ]
    with pytest.raises(ValueError):
        list(bulk.rows_from_csv(io.StringIO("email\nx@y\n")))


def test_report_and_outcome_reprs_are_short_and_safe() -> None:
    report = bulk.BulkReport("AdminCreateUser")
    error = aiocognito.errors.InvalidParameterException("bad", code="InvalidParameterException")
    report.record(bulk.Outcome(0, "a", "succeeded"))
    report.record(bulk.Outcome(1, "b", "failed", error, 2))
    assert (report.processed, report.ok) == (2, False)
    assert "InvalidParameterException" in repr(report.failures[0])


async def test_a_user_that_keeps_vanishing_fails_within_the_row_budget() -> None:
    """After a lost create, AdminCreateUser says the user exists while AdminGetUser says it does not."""
    import json

    from multidict import CIMultiDict

    from aiocognito._errors import ConnectionFailedError
    from aiocognito._wire.transport import RawResponse

    calls = {"AdminCreateUser": 0, "AdminGetUser": 0}

    class Contradicting:
        async def send(self, url: str, headers: dict[str, str], body: bytes) -> RawResponse:
            await asyncio.sleep(0)
            operation = headers["X-Amz-Target"].rsplit(".", 1)[1]
            calls[operation] += 1
            if operation == "AdminCreateUser" and calls[operation] == 1:
                raise ConnectionFailedError("lost")
            code = "UsernameExistsException" if operation == "AdminCreateUser" else "UserNotFoundException"
            return RawResponse(400, CIMultiDict(), json.dumps({"__type": code, "message": "x"}).encode())

        async def aclose(self) -> None:
            pass

    async with aiocognito.CognitoClient(
        "us-east-1", endpoint_url="http://stub", credentials=("a", "b"), transport=Contradicting(),
        quotas={"UserCreation": 1e6, "UserRead": 1e6},
    ) as client:  # fmt: skip
        report = await asyncio.wait_for(bulk.create_users(client, "us-east-1_x", ["u"], max_attempts=3), 10)
    assert (report.succeeded, report.failed) == (0, 1)
    assert calls["AdminCreateUser"] <= 3
