"""``aiocognito demo`` runs its journey in-process and reports each step; a failed step fails the exit code."""

from __future__ import annotations

import asyncio
import io
import os
import re
import sys
import textwrap

import pytest

from aiocognito.testing import LocalUserPool
from aiocognito.testing.demo import run_demo

LOCAL_STEPS = [
    "start a local user pool",
    "create a user pool",
    "create an app client",
    "create a user with a temporary password",
    "sign in with SRP",
    "answer NEW_PASSWORD_REQUIRED",
    "set up TOTP (MFA_SETUP)",
    "signed in",
    "remember this device",
    "sign in again with the remembered device",
    "refresh the tokens",
    "verify the tokens against the JWKS",
    "list users with the async iterator",
    "sign out everywhere",
]
_LINE = re.compile(r"^\s*(\d+\.\d{3})s\s+\d+\.\d ms  (ok|FAIL|skip)\s+(.+?)(?: - (.*))?$")


def parse(output: str) -> list[tuple[float, str, str, str]]:
    """(elapsed, status, title, detail) of every step line."""
    steps = []
    for line in output.splitlines():
        match = _LINE.match(line)
        if match:
            steps.append((float(match[1]), match[2], match[3], match[4] or ""))
    return steps


async def test_demo_runs_the_whole_journey_against_a_local_pool() -> None:
    out = io.StringIO()
    assert await run_demo(out=out) == 0
    text = out.getvalue()
    steps = parse(text)
    assert [title for _, _, title, _ in steps] == LOCAL_STEPS
    assert all(status == "ok" for _, status, _, _ in steps)
    elapsed = [e for e, _, _, _ in steps]
    assert elapsed == sorted(elapsed)
    details = {title: detail for _, _, title, detail in steps}
    assert "no MFA prompt" in details["sign in again with the remembered device"]
    assert "NotAuthorizedException" in details["sign out everywhere"]
    assert text.rstrip().endswith(f"all {len(LOCAL_STEPS)} steps passed")
    assert "eyJ" not in text  # no token (nor any other secret) is printed


async def test_demo_adapts_to_an_existing_pool_without_mfa_or_devices(
    local_user_pool: LocalUserPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local-secret")
    pool_id = await local_user_pool.create_user_pool(mfa="OPTIONAL")
    app = await local_user_pool.create_app_client(pool_id)
    out = io.StringIO()
    code = await run_demo(
        endpoint_url=local_user_pool.endpoint_url, user_pool_id=pool_id, client_id=app.client_id, out=out
    )
    assert code == 0, out.getvalue()
    steps = {title: status for _, status, title, _ in parse(out.getvalue())}
    assert steps["set up TOTP (signed in)"] == "ok"
    assert steps["remember this device"] == "skip"
    assert steps["sign in again with TOTP"] == "ok"
    assert "TOTP code accepted" in out.getvalue()
    # the throw-away user was deleted afterwards
    assert (await local_user_pool.call("ListUsers", UserPoolId=pool_id))["Users"] == []


async def test_a_failing_step_fails_the_demo(
    local_user_pool: LocalUserPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local-secret")
    pool_id = await local_user_pool.create_user_pool()
    app = await local_user_pool.create_app_client(pool_id, flows=("ALLOW_USER_PASSWORD_AUTH",))  # no SRP
    out = io.StringIO()
    code = await run_demo(
        endpoint_url=local_user_pool.endpoint_url, user_pool_id=pool_id, client_id=app.client_id, out=out
    )
    assert code == 1
    steps = parse(out.getvalue())
    assert steps[-1][1:3] == ("FAIL", "sign in with SRP")
    assert "InvalidParameterException" in steps[-1][3]
    assert "demo FAILED at step: sign in with SRP" in out.getvalue()


async def test_half_a_target_is_refused() -> None:
    out = io.StringIO()
    assert await run_demo(user_pool_id="us-east-1_abc", out=out) == 2
    assert "both" in out.getvalue()


async def test_the_real_pool_mode_needs_no_local_extra(local_user_pool: LocalUserPool) -> None:
    """``aiocognito demo --endpoint-url/--user-pool-id/--client-id`` after a plain ``pip install .``."""
    pool_id = await local_user_pool.create_user_pool(mfa="OPTIONAL")
    app = await local_user_pool.create_app_client(pool_id)
    target = ["--endpoint-url", local_user_pool.endpoint_url, "--user-pool-id", pool_id, "--client-id"]
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["regex"] = None  # importing it now fails, as without the 'local' extra
        from aiocognito.cli import main
        real = main({["demo", *target, app.client_id]!r})
        local = main(["demo"])
        print("exit codes", real, local, sys.modules["regex"] is None)
        """
    )
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "AKIDLOCAL",
        "AWS_SECRET_ACCESS_KEY": "local-secret",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = (text.decode() for text in await asyncio.wait_for(process.communicate(), timeout=60))
    assert process.returncode == 0, err
    assert "exit codes 0 1 True" in out, out + err
    assert "steps passed" in out
    # only the local mode asks for the extra
    assert err.count("aiocognito[local]") == 1, err
