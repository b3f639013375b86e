"""The ``aiocognito`` console script, run for real in a subprocess against a local user pool."""

from __future__ import annotations

import asyncio
import base64
import csv
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest

from aiocognito.testing import LocalUserPool

PASSWORD = "Passw0rd!1"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="AKIDLOCAL",
        AWS_SECRET_ACCESS_KEY="local-secret",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    return env


CONSOLE_SCRIPT = Path(sys.executable).with_name("aiocognito")  # [project.scripts] entry point, installed


async def cli(tmp_path: Path, *args: str, stdin: str = "", timeout: float = 60) -> Run:
    """Run the installed ``aiocognito`` console script without blocking the loop that serves the pool."""
    process = await asyncio.create_subprocess_exec(
        str(CONSOLE_SCRIPT),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(tmp_path),
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout)
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


def claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


# ----- sign-in --------------------------------------------------------------------------------------------
async def _user_with_totp(local: LocalUserPool) -> tuple[str, str, str]:
    """A pool that remembers devices, an app client, and alice with TOTP MFA enabled and preferred."""
    pool = await local.create_user_pool(mfa="OPTIONAL", device_tracking="always")
    app = await local.create_app_client(pool)
    await local.create_user(pool, "alice", PASSWORD)
    async with local.client() as cognito:
        step = await cognito.session(user_pool_id=pool, client_id=app.client_id).sign_in("alice", PASSWORD)
        access = step.tokens.access_token  # type: ignore[attr-defined]
        secret = (await cognito.associate_software_token(AccessToken=access))["SecretCode"]
        await cognito.verify_software_token(AccessToken=access, UserCode=pyotp.TOTP(secret).now())
        await cognito.set_user_mfa_preference(
            AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
        )
    return pool, app.client_id, secret


async def test_sign_in_with_totp_on_stdin_then_with_the_remembered_device(
    local_user_pool: LocalUserPool, tmp_path: Path
) -> None:
    local = local_user_pool
    pool, client_id, secret = await _user_with_totp(local)
    devices = tmp_path / "devices.json"
    common = ["--endpoint-url", local.endpoint_url, "--user-pool-id", pool, "--client-id", client_id]
    code = pyotp.TOTP(secret).at(time.time() + 30)  # the next step's code (the current one was used)

    first = await cli(
        tmp_path, "sign-in", *common, "--username", "alice", "--remember-device", "--device-store", str(devices),
        stdin=f"{PASSWORD}\n{code}\n",
    )  # fmt: skip
    assert first.code == 0, first.stderr
    tokens = json.loads(first.stdout)
    assert claims(tokens["IdToken"])["cognito:username"] == "alice"
    assert claims(tokens["AccessToken"])["token_use"] == "access"
    assert tokens["RefreshToken"] and tokens["TokenType"] == "Bearer"
    assert "authenticator app code" in first.stderr
    assert PASSWORD not in first.stderr and code not in first.stderr  # prompts only, no echo
    assert tokens["DeviceKey"] and devices.exists()

    # the remembered device answers DEVICE_SRP_AUTH: no MFA prompt, only the password on stdin
    second = await cli(
        tmp_path,
        "sign-in",
        *common,
        "--username",
        "alice",
        "--device-store",
        str(devices),
        stdin=f"{PASSWORD}\n",
    )
    assert second.code == 0, second.stderr
    assert "MFA" not in second.stderr
    again = json.loads(second.stdout)
    assert again["DeviceKey"] == tokens["DeviceKey"]
    assert claims(again["AccessToken"])["device_key"] == tokens["DeviceKey"]


async def test_sign_in_new_password_and_wrong_password(
    local_user_pool: LocalUserPool, tmp_path: Path
) -> None:
    local = local_user_pool
    pool = await local.create_user_pool()
    app = await local.create_app_client(pool)
    await local.create_user(pool, "bob", "Temp-Passw0rd1!", temporary=True)
    common = ["--endpoint-url", local.endpoint_url, "--user-pool-id", pool, "--client-id", app.client_id]

    run = await cli(tmp_path, "sign-in", *common, stdin="bob\nTemp-Passw0rd1!\nNew-Passw0rd2!\n")
    assert run.code == 0, run.stderr
    assert "New password" in run.stderr
    assert claims(json.loads(run.stdout)["IdToken"])["cognito:username"] == "bob"

    wrong = await cli(tmp_path, "sign-in", *common, "--username", "bob", stdin="Temp-Passw0rd1!\n")
    assert wrong.code == 1
    assert wrong.stdout == ""
    lines = wrong.stderr.strip().splitlines()
    assert lines[-1].startswith("aiocognito: error: NotAuthorizedException")
    assert "Traceback" not in wrong.stderr and "Temp-Passw0rd1!" not in wrong.stderr

    no_answer = await cli(tmp_path, "sign-in", *common, "--username", "bob", stdin="")
    assert no_answer.code == 1 and "no answer on standard input" in no_answer.stderr


# ----- users ----------------------------------------------------------------------------------------------
async def test_users_list_streams_json_csv_and_a_table(
    local_user_pool: LocalUserPool, tmp_path: Path
) -> None:
    local = local_user_pool
    pool = await local.create_user_pool()
    for name in ("ann", "bob", "cid"):
        await local.create_user(pool, name, PASSWORD, attributes={"email": f"{name}@example.com"})
    base = ["users", "list", "--endpoint-url", local.endpoint_url, "--user-pool-id", pool]

    as_json = await cli(tmp_path, *base, "--output", "json")
    assert as_json.code == 0, as_json.stderr
    users = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert sorted(u["Username"] for u in users) == ["ann", "bob", "cid"]
    assert all(u["UserStatus"] == "CONFIRMED" for u in users)

    as_csv = await cli(tmp_path, *base, "--output", "csv", "--attributes", "email")
    rows = list(csv.DictReader(as_csv.stdout.splitlines()))
    assert {r["username"]: r["email"] for r in rows} == {n: f"{n}@example.com" for n in ("ann", "bob", "cid")}

    filtered = await cli(tmp_path, *base, "--output", "json", "--filter", 'username = "bob"')
    assert [json.loads(line)["Username"] for line in filtered.stdout.splitlines()] == ["bob"]

    table = await cli(tmp_path, *base, "--output", "table", "--max-items", "2")
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["USERNAME", "ENABLED", "STATUS"] and len(lines) == 3

    exported = tmp_path / "export.csv"
    export = await cli(tmp_path, "users", "export", "--endpoint-url", local.endpoint_url, "--user-pool-id", pool,
                       "--file", str(exported))  # fmt: skip
    assert export.code == 0 and "exported 3 users" in export.stderr
    header = exported.read_text().splitlines()[0].split(",")
    assert header[:3] == ["username", "enabled", "status"] and "email" in header


def _write_users_csv(path: Path, n: int) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["username", "email"])
        for i in range(n):
            writer.writerow([f"imp{i:04d}", f"imp{i:04d}@example.com"])


async def _pool_usernames(local: LocalUserPool, pool: str) -> list[str]:
    async with local.client() as cognito:
        return [u["Username"] async for u in cognito.list_all_users(UserPoolId=pool)]


async def test_import_resumes_after_being_killed(local_user_pool: LocalUserPool, tmp_path: Path) -> None:
    local = local_user_pool
    pool = await local.create_user_pool()
    source = tmp_path / "users.csv"
    _write_users_csv(source, 300)
    results = Path(str(source) + ".results.jsonl")
    args = ["users", "import", str(source), "--endpoint-url", local.endpoint_url, "--user-pool-id", pool,
            "--rate", "120", "--progress"]  # fmt: skip

    # first run: stopped (SIGTERM) part-way through
    process = await asyncio.create_subprocess_exec(
        str(CONSOLE_SCRIPT), *args,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=_env(tmp_path),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        if results.exists() and len(results.read_text().splitlines()) >= 100:
            break
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.communicate(), 30)
    done_first = {json.loads(line)["username"] for line in results.read_text().splitlines() if line.strip()}
    assert 100 <= len(done_first) < 300

    # second run: skips what the result file lists, finishes the rest
    second = await cli(tmp_path, *args)
    assert second.code == 0, second.stderr
    assert f"resuming: {len(done_first)} users were done" in second.stderr
    assert "ETA" in second.stderr  # the progress bar
    assert f"{len(done_first)} skipped" in second.stderr
    summary = next(line for line in second.stderr.splitlines() if line.startswith("AdminCreateUser:"))
    succeeded, already = (int(summary.split()[i]) for i in (1, 3))
    assert succeeded + already == 300 - len(done_first)
    assert already <= 16  # at most the calls in flight when the first run was stopped
    assert "0 failed" in summary

    names = await _pool_usernames(local, pool)
    assert sorted(names) == [f"imp{i:04d}" for i in range(300)]
    records = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    assert {r["username"] for r in records} == set(names)

    # a third run has nothing left to do
    third = await cli(tmp_path, *args)
    assert third.code == 0 and "300 skipped" in third.stderr


async def test_import_reports_failed_rows_with_exit_code_3(
    local_user_pool: LocalUserPool, tmp_path: Path
) -> None:
    local = local_user_pool
    pool = await local.create_user_pool(username_attributes=["email"])  # usernames must be emails here
    source = tmp_path / "bad.csv"
    secret = "Secr3t-Temp!"
    source.write_text(f"username,temporary_password\nok1@example.com,{secret}\nbad1,{secret}\n")
    result_file = tmp_path / "r.jsonl"
    run = await cli(tmp_path, "users", "import", str(source), "--endpoint-url", local.endpoint_url,
                    "--user-pool-id", pool, "--result-file", str(result_file))  # fmt: skip
    assert run.code == 3, run.stderr
    assert "1 succeeded, 0 already, 1 failed" in run.stderr
    assert "bad1: InvalidParameterException" in run.stderr
    assert secret not in run.stderr and secret not in result_file.read_text()
    records = [json.loads(line) for line in result_file.read_text().splitlines()]
    assert {r["username"]: r["status"] for r in records} == {"ok1@example.com": "succeeded", "bad1": "failed"}


async def test_delete_and_group_commands(local_user_pool: LocalUserPool, tmp_path: Path) -> None:
    local = local_user_pool
    pool = await local.create_user_pool()
    for name in ("ann", "bob", "cid"):
        await local.create_user(pool, name, PASSWORD)
    await local.call("CreateGroup", UserPoolId=pool, GroupName="team")
    conn = ["--endpoint-url", local.endpoint_url, "--user-pool-id", pool]
    names = tmp_path / "names.txt"
    names.write_text("ann\nbob\n")

    added = await cli(tmp_path, "groups", "add-users", *conn, "--group", "team", str(names))
    assert added.code == 0, added.stderr
    async with local.client() as cognito:
        members = [
            u["Username"] async for u in cognito.list_all_users_in_group(UserPoolId=pool, GroupName="team")
        ]
    assert sorted(members) == ["ann", "bob"]

    refused = await cli(tmp_path, "users", "delete", *conn, "--username", "cid")
    assert refused.code == 1 and "--yes" in refused.stderr
    deleted = await cli(
        tmp_path, "users", "delete", *conn, "--username", "cid", "--username", "nobody", "--yes"
    )
    assert deleted.code == 0, deleted.stderr
    assert "1 succeeded, 1 already, 0 failed" in deleted.stderr
    assert sorted(await _pool_usernames(local, pool)) == ["ann", "bob"]


# ----- errors, local, demo ----------------------------------------------------------------------------
async def test_errors_are_one_line_and_usage_errors_exit_2(tmp_path: Path) -> None:
    down = await cli(
        tmp_path, "users", "list", "--endpoint-url", "http://127.0.0.1:9", "--user-pool-id", "us-east-1_x"
    )
    assert down.code == 1
    assert down.stderr.startswith("aiocognito: error: ") and len(down.stderr.strip().splitlines()) == 1
    assert "Traceback" not in down.stderr
    debug = await cli(tmp_path, "users", "list", "--endpoint-url", "http://127.0.0.1:9", "--user-pool-id",
                      "us-east-1_x", "--debug")  # fmt: skip
    assert debug.code == 1 and "Traceback" in debug.stderr
    usage = await cli(tmp_path, "users", "list")
    assert usage.code == 2 and "--user-pool-id" in usage.stderr
    huge = tmp_path / "huge.csv"
    huge.write_text("username,email\nbob," + "x" * 200_000 + "\n")
    bad_csv = await cli(tmp_path, "users", "import", str(huge), "--endpoint-url", "http://127.0.0.1:9",
                        "--user-pool-id", "us-east-1_x")  # fmt: skip
    assert bad_csv.code == 1 and "Traceback" not in bad_csv.stderr, bad_csv.stderr
    assert len(bad_csv.stderr.strip().splitlines()) == 1


async def test_local_serves_a_pool_and_demo_passes(tmp_path: Path) -> None:
    from aiocognito import CognitoClient

    process = await asyncio.create_subprocess_exec(
        str(CONSOLE_SCRIPT), "local", "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_env(tmp_path),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        url = line.split("listening on ")[1].split()[0]
        async with CognitoClient(region="us-east-1", endpoint_url=url, credentials=("AK", "SK")) as cognito:
            created = await cognito.create_user_pool(PoolName="from-the-cli")
            assert created["UserPool"]["Name"] == "from-the-cli"
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode in (0, 130)

    demo = await cli(tmp_path, "demo")
    assert demo.code == 0, demo.stdout + demo.stderr
    assert "steps passed" in demo.stdout


@pytest.mark.parametrize("argv", [["--version"], ["users", "import", "--help"]])
async def test_help_and_version(tmp_path: Path, argv: list[str]) -> None:
    run = await cli(tmp_path, *argv)
    assert run.code == 0 and ("aiocognito" in run.stdout)
