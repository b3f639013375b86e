"""The ``aiocognito`` console script, run for real in a subprocess against a local user pool."""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import csv
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
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


async def cli(
    tmp_path: Path, *args: str, stdin: str = "", timeout: float = 60, env: dict[str, str] | None = None
) -> Run:
    """Run the installed ``aiocognito`` console script without blocking the loop that serves the pool."""
    process = await asyncio.create_subprocess_exec(
        str(CONSOLE_SCRIPT),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(tmp_path) if env is None else env,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout)
    finally:
        if process.returncode is None:  # timed out (or the test was cancelled): never leave it running
            process.kill()
            await process.wait()
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


# ----- `aiocognito local` in the background, used with only what its banner says -------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _bare_env(tmp_path: Path) -> dict[str, str]:
    """No AWS settings at all (no credentials, region or endpoint), and no shared AWS files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    return env


@dataclass
class Server:
    process: asyncio.subprocess.Process
    banner: list[str]
    env: dict[str, str]  # the bare environment plus the banner's `export` lines
    stderr: str = ""

    @property
    def text(self) -> str:
        return "\n".join(self.banner)

    @property
    def exports(self) -> dict[str, str]:
        pairs = [p for line in self.banner if line.startswith("  export ") for p in line.split()[1:]]
        return dict(p.split("=", 1) for p in pairs)


@contextlib.asynccontextmanager
async def local_server(tmp_path: Path, *args: str) -> AsyncIterator[Server]:
    """``aiocognito local ARGS`` in the background until its banner is complete; stopped (SIGTERM) on exit."""
    process = await asyncio.create_subprocess_exec(
        str(CONSOLE_SCRIPT), "local", *args,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=_bare_env(tmp_path),
    )  # fmt: skip
    server = Server(process, [], {})
    try:
        assert process.stdout is not None
        while not server.banner or not server.banner[-1].startswith("Ready"):
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            assert line, "aiocognito local stopped before its banner was complete:\n" + server.text
            server.banner.append(line.decode().rstrip("\n"))
        server.env = {**_bare_env(tmp_path), **server.exports}
        yield server
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            _, err = await asyncio.wait_for(process.communicate(), 30)
            server.stderr = err.decode()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


SEED_FILE: dict[str, Any] = {
    "version": 1,
    "pools": [
        {
            "name": "main",
            "domain": "main-login",
            "resource_servers": [{"identifier": "orders", "name": "Orders API", "scopes": {"read": "read orders"}}],
            "clients": [
                {"name": "web", "oauth": {"flows": ["code"], "scopes": ["openid", "orders/read"],
                                          "callback_urls": ["http://localhost:3000/callback"]}},
                {"name": "backend", "secret": True, "flows": ["USER_PASSWORD_AUTH"]},
            ],
            "groups": [{"name": "admins"}],
            "users": [
                {"username": "alice", "password": PASSWORD, "groups": ["admins"],
                 "attributes": {"email": "alice@example.com"}},
                {"username": "bob", "password": "Temp-Passw0rd1!", "temporary": True},
            ],
        }
    ],
}  # fmt: skip


async def test_local_seeded_serves_the_cli_with_only_the_banner_settings(tmp_path: Path) -> None:
    seed, ids_file = tmp_path / "seed.json", tmp_path / "ids.json"
    seed.write_text(json.dumps(SEED_FILE))
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    async with local_server(
        tmp_path, "--port", str(port), "--seed", str(seed), "--seed-output", str(ids_file)
    ) as server:
        assert server.banner[0] == f"aiocognito local user pool listening on {endpoint} (Ctrl-C to stop)"
        assert f"endpoint URL  {endpoint}" in server.text and "region        us-east-1" in server.text
        assert "credentials   any" in server.text
        assert server.exports == {
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        }
        assert f"--endpoint-url {endpoint} --region us-east-1" in server.text
        ids = json.loads(ids_file.read_text())
        assert (ids["version"], ids["endpoint_url"], ids["region"]) == (1, endpoint, "us-east-1")
        main = ids["pools"]["main"]
        web, backend = main["clients"]["web"], main["clients"]["backend"]
        assert f"pool 'main': {main['id']}" in server.text
        assert "    domain: main-login" in server.text and "    resource servers: orders" in server.text
        assert (main["domain"], main["resource_servers"]) == ("main-login", ["orders"])
        assert f"client 'web': {web['id']} (no secret)" in server.text
        assert (
            backend["secret"]
            and f"client 'backend': {backend['id']} (secret {backend['secret']})" in server.text
        )
        assert "user alice: CONFIRMED" in server.text and "user bob: FORCE_CHANGE_PASSWORD" in server.text
        assert PASSWORD not in server.text and "Temp-Passw0rd1!" not in server.text

        listed = await cli(tmp_path, "users", "list", "--user-pool-id", main["id"], "--output", "json",
                           env=server.env)  # fmt: skip
        assert listed.code == 0, listed.stderr
        assert sorted(json.loads(line)["Username"] for line in listed.stdout.splitlines()) == ["alice", "bob"]

        # the README's form, the username last; the password on stdin
        signed = await cli(tmp_path, "sign-in", "--user-pool-id", main["id"], "--client-id", web["id"], "alice",
                           stdin=f"{PASSWORD}\n", env=server.env)  # fmt: skip
        assert signed.code == 0, signed.stderr
        assert "Username" not in signed.stderr  # not asked: it was given
        id_claims = claims(json.loads(signed.stdout)["IdToken"])
        assert id_claims["cognito:username"] == "alice" and id_claims["cognito:groups"] == ["admins"]

        with_secret = await cli(tmp_path, "sign-in", "--user-pool-id", main["id"], "--client-id", backend["id"],
                                "--flow", "USER_PASSWORD_AUTH", "alice", stdin=f"{PASSWORD}\n",
                                env={**server.env, "AIOCOGNITO_CLIENT_SECRET": backend["secret"]})  # fmt: skip
        assert with_secret.code == 0, with_secret.stderr

        bob = await cli(tmp_path, "sign-in", "--user-pool-id", main["id"], "--client-id", web["id"], "bob",
                        stdin="Temp-Passw0rd1!\nNew-Passw0rd2!\n", env=server.env)  # fmt: skip
        assert bob.code == 0 and "New password" in bob.stderr, bob.stderr
    assert server.process.returncode == 0 and "aiocognito local: stopped" in server.stderr


async def test_create_commands_then_sign_in_against_the_local_pool(tmp_path: Path) -> None:
    async with local_server(tmp_path, "--port", str(_free_port())) as server:
        env = server.env
        created = await cli(
            tmp_path, "pools", "create", "shop", "--mfa", "OPTIONAL", "--output", "json", env=env
        )
        assert created.code == 0, created.stderr
        pool = json.loads(created.stdout)
        assert pool["Name"] == "shop" and pool["MfaConfiguration"] == "OPTIONAL"
        pool_id = pool["UserPoolId"]
        other = await cli(tmp_path, "pools", "create", "other", env=env)
        assert (
            other.stdout.strip().startswith("us-east-1_") and "\t" not in other.stdout
        )  # text: the id alone

        app = await cli(tmp_path, "clients", "create", "--user-pool-id", pool_id, "web", "--secret",
                        "--flow", "USER_PASSWORD_AUTH", "--flow", "USER_SRP_AUTH", env=env)  # fmt: skip
        assert app.code == 0, app.stderr
        client_id, client_secret = app.stdout.strip().split("\t")  # text: id and secret, tab-separated
        spa = await cli(tmp_path, "clients", "create", "--user-pool-id", pool_id, "spa", "--output", "json",
                        env=env)  # fmt: skip
        spa_client = json.loads(spa.stdout)
        assert "ClientSecret" not in spa_client
        assert spa_client["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

        team = await cli(tmp_path, "groups", "create", "--user-pool-id", pool_id, "team", "--precedence", "2",
                         env=env)  # fmt: skip
        assert team.code == 0 and team.stdout.strip() == "team", team.stderr

        erin = await cli(tmp_path, "users", "create", "--user-pool-id", pool_id, "erin",
                         "--attribute", "email=erin@example.com", "--group", "team", "--debug", stdin=f"{PASSWORD}\n",
                         env=env)  # fmt: skip
        assert erin.code == 0, erin.stderr
        assert erin.stdout.strip() == "erin" and PASSWORD not in erin.stdout + erin.stderr
        frank = await cli(tmp_path, "users", "create", "--user-pool-id", pool_id, "frank", "--temporary",
                          "--output", "json", stdin=f"{PASSWORD}\n", env=env)  # fmt: skip
        record = json.loads(frank.stdout)
        assert (
            record["Username"] == "frank"
            and record["UserStatus"] == "FORCE_CHANGE_PASSWORD"
            and record["Sub"]
        )
        missing = await cli(tmp_path, "users", "create", "--user-pool-id", pool_id, "gus", "--group", "nope",
                            stdin=f"{PASSWORD}\n", env=env)  # fmt: skip
        assert missing.code == 1 and missing.stderr.splitlines()[1:] == [missing.stderr.splitlines()[-1]]
        assert "ResourceNotFoundException" in missing.stderr and "deleted again" in missing.stderr
        listed = await cli(tmp_path, "users", "list", "--user-pool-id", pool_id, "--output", "csv", env=env)
        rows = list(csv.DictReader(listed.stdout.splitlines()))
        assert {r["username"]: r["status"] for r in rows} == {
            "erin": "CONFIRMED",
            "frank": "FORCE_CHANGE_PASSWORD",
        }

        signed = await cli(tmp_path, "sign-in", "--user-pool-id", pool_id, "--client-id", client_id,
                           "--client-secret", client_secret, "--flow", "USER_PASSWORD_AUTH", "erin",
                           stdin=f"{PASSWORD}\n", env=env)  # fmt: skip
        assert signed.code == 0, signed.stderr
        id_claims = claims(json.loads(signed.stdout)["IdToken"])
        assert id_claims["email"] == "erin@example.com" and id_claims["cognito:groups"] == ["team"]

        pools = await cli(tmp_path, "pools", "list", "--output", "json", env=env)
        assert {json.loads(line)["Name"] for line in pools.stdout.splitlines()} == {"shop", "other"}
        clients = await cli(tmp_path, "clients", "list", "--user-pool-id", pool_id, env=env)
        assert clients.stdout.split()[:2] == ["ID", "NAME"] and {"web", "spa"} <= set(clients.stdout.split())


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        (
            {"version": 1, "pools": [{"name": "p", "users": [{"username": "a", "password": PASSWORD,
                                                              "groups": ["admins"]}]}]},
            "pools[0].users[0].groups[0]: 'admins' is not a group of this pool (its groups: none)",
        ),
        (
            {"version": 1, "pools": [{"name": "p", "username_attributes": ["email"],
                                      "users": [{"username": "bob", "password": PASSWORD}]}]},
            "pools[0].users[0]: creating user 'bob': InvalidParameterException: ",
        ),
        ({"version": 2, "pools": []}, "version: 2 is not supported (this aiocognito reads 1)"),
        ("{not json", "not JSON: "),
    ],
    ids=["undeclared-group", "refused-by-the-pool", "version", "not-json"],
)  # fmt: skip
async def test_a_bad_seed_file_fails_in_one_line_naming_the_entry(
    tmp_path: Path, seed: Any, message: str
) -> None:
    path = tmp_path / "seed.json"
    path.write_text(seed if isinstance(seed, str) else json.dumps(seed))
    run = await cli(tmp_path, "local", "--port", str(_free_port()), "--seed", str(path), timeout=30)
    assert run.code == 1 and run.stdout == "", run.stdout + run.stderr
    assert run.stderr.startswith(f"aiocognito: error: {path}: {message}"), run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert PASSWORD not in run.stderr


async def test_local_on_a_busy_port_says_so(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = await cli(tmp_path, "local", "--port", str(port), timeout=30)
    assert run.code == 1 and run.stderr.startswith(f"aiocognito: error: cannot listen on 127.0.0.1:{port}: ")
    assert len(run.stderr.strip().splitlines()) == 1


async def test_sign_in_refuses_two_different_usernames(tmp_path: Path) -> None:
    run = await cli(tmp_path, "sign-in", "--user-pool-id", "us-east-1_x", "--client-id", "c", "alice",
                    "--username", "bob")  # fmt: skip
    assert run.code == 1 and "two usernames" in run.stderr


def test_the_endpoint_comes_from_the_argument_then_the_sdk_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client (and so the CLI and the web backends) reads the AWS SDKs' endpoint variables."""
    from aiocognito import CognitoClient, ParamValidationError

    for name in (
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
        "AWS_ENDPOINT_URL",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    ):
        monkeypatch.delenv(name, raising=False)

    def endpoint(**kwargs: str) -> str:
        return CognitoClient(region="us-east-1", **kwargs).endpoint_url

    assert endpoint() == "https://cognito-idp.us-east-1.amazonaws.com"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://all:1")
    assert endpoint() == "http://all:1"
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "http://cognito:2")
    assert endpoint() == "http://cognito:2"
    assert endpoint(endpoint_url="http://flag:3") == "http://flag:3"
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert endpoint() == "https://cognito-idp.us-east-1.amazonaws.com"
    monkeypatch.delenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "not a url")
    with pytest.raises(ParamValidationError, match="AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"):
        endpoint()


# ----- help that tells the truth --------------------------------------------------------------------------
def _commands() -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every command and subcommand of the parser, by its words."""
    from aiocognito.cli import build_parser

    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}

    def walk(words: tuple[str, ...], parser: argparse.ArgumentParser) -> None:
        found[words] = parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk((*words, name), sub)

    walk((), build_parser())
    return found


COMMANDS = sorted(words for words in _commands() if words)
CONNECTION = {"--endpoint-url", "--region", "--profile"}


def _squeeze(text: str) -> str:
    return "".join(text.split())  # argparse re-wraps help texts, even at hyphens


def test_every_command_has_a_description_and_every_option_a_help_text() -> None:
    missing = []
    for words, parser in _commands().items():
        if words and not parser.description:
            missing.append(f"{' '.join(words)}: no description")
        for action in parser._actions:
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(
                    f"{' '.join(words) or 'aiocognito'} {action.option_strings or action.dest}: no help"
                )
    assert missing == []


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(w) for w in COMMANDS])
async def test_help_shows_the_description_and_each_option(
    tmp_path: Path, words: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "XDG_CONFIG_HOME", _env(tmp_path)["XDG_CONFIG_HOME"]
    )  # defaults as the script sees them
    parser = _commands()[words]
    run = await cli(tmp_path, *words, "--help")
    assert run.code == 0, run.stderr
    shown = _squeeze(run.stdout)
    assert parser.description and _squeeze(parser.description) in shown
    for action in parser._actions:
        assert action.help and _squeeze(action.help % {"default": action.default}) in shown, action.dest
    options = {o for action in parser._actions for o in action.option_strings}
    if words[0] in ("local", "demo"):
        assert not options & {"--region", "--profile"}
        assert ("--endpoint-url" in options) == (words == ("demo",))  # the demo can run against an endpoint
    elif words in (("users",), ("groups",), ("pools",), ("clients",), ("login",), ("token",)):
        assert not options & CONNECTION  # groups, or commands that talk to the user pool domain only
    else:
        assert CONNECTION <= options


async def test_help_of_local_documents_the_seed_file(tmp_path: Path) -> None:
    run = await cli(tmp_path, "local", "--help")
    for text in ('"version": 1', '"clients"', '"users"', '"password_policy"', "--seed-output", "pools[0]"):
        assert text in run.stdout
