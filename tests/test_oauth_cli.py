"""``aiocognito login`` and ``aiocognito token`` run as real subprocesses against a local pool's managed login
on 127.0.0.1, and the managed login URLs of the domains ``aiocognito local`` seeds.

``login`` is driven as a person at a terminal would: the authorize URL is read from the process's standard
error, the pool's sign-in page is filled in by :class:`aiocognito.testing.LoginPages` (aiohttp and
``html.parser``), and the redirect to the CLI's loopback callback is a real request that the CLI answers.
Every wait is bounded; no client secret, password or code ever appears in what the commands print.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from aiocognito import TokenVerifier
from aiocognito.testing import LocalUserPool, LoginPages

CONSOLE_SCRIPT = Path(sys.executable).with_name("aiocognito")  # [project.scripts] entry point, installed
DOMAIN = "cli-login"
USER, PASSWORD = "alice", "Passw0rd!cli-login"
WAIT = 30.0  # seconds: the most any single step of a test may take
POOL_LOGGER = "aiocognito.testing.managed_login"  # logs each token request (grant type) at DEBUG


def token_requests(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The grant types of the requests the pool's token endpoint has received (in this process)."""
    return [
        str(r.args[0]) if isinstance(r.args, tuple) and r.args else ""
        for r in caplog.records
        if r.name == POOL_LOGGER and r.msg.startswith("managed login: token request")
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No AWS settings or client secret from the caller's environment; ``extra`` on top."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "AIOCOGNITO_CLIENT_SECRET"
    }
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    env.update(extra)
    return env


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


async def cli(tmp_path: Path, *args: str, **env: str) -> Run:
    """Run the console script to its end (at most ``WAIT`` seconds) without blocking the pool's loop."""
    process = await asyncio.create_subprocess_exec(
        str(CONSOLE_SCRIPT), *args,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=environment(tmp_path, **env),
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), WAIT)
    finally:
        if process.returncode is None:  # timed out or cancelled: never leave it running
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


# ----- the pool ----------------------------------------------------------------------------------------------


@dataclass
class Setup:
    local: LocalUserPool
    tmp_path: Path
    pool_id: str
    domain_url: str
    redirect_uri: str
    web_id: str  # code flow, with a secret
    web_secret: str
    public_id: str  # code flow, no secret
    m2m_id: str  # client_credentials: orders/read and orders/write
    m2m_secret: str
    secrets: list[str] = field(default_factory=list)  # what no output may contain

    def verifier(self, client_id: str) -> TokenVerifier:
        return TokenVerifier(
            self.pool_id,
            client_ids=client_id,
            jwks_url=self.local.jwks_url(self.pool_id),
            issuer=self.local.issuer(self.pool_id),
        )

    def assert_no_secret(self, *texts: str) -> None:
        for text in texts:
            for secret in self.secrets:
                assert secret not in text


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    async with LocalUserPool() as local:
        pool_id = await local.create_user_pool("cli")
        await local.call("CreateUserPoolDomain", UserPoolId=pool_id, Domain=DOMAIN)
        await local.call(
            "CreateResourceServer",
            UserPoolId=pool_id,
            Identifier="orders",
            Name="Orders API",
            Scopes=[
                {"ScopeName": "read", "ScopeDescription": "r"},
                {"ScopeName": "write", "ScopeDescription": "w"},
            ],
        )
        redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
        code_flow: dict[str, Any] = {
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email", "profile"],
            "SupportedIdentityProviders": ["COGNITO"],
            "CallbackURLs": [redirect_uri],
        }
        web = await local.create_app_client(pool_id, "web", secret=True, **code_flow)
        public = await local.create_app_client(pool_id, "cli", **code_flow)
        m2m = (
            await local.call(
                "CreateUserPoolClient",
                UserPoolId=pool_id,
                ClientName="worker",
                GenerateSecret=True,
                AllowedOAuthFlows=["client_credentials"],
                AllowedOAuthScopes=["orders/read", "orders/write"],
                AllowedOAuthFlowsUserPoolClient=True,
            )
        )["UserPoolClient"]
        await local.create_user(pool_id, USER, PASSWORD, attributes={"email": "alice@example.com"})
        yield Setup(
            local, tmp_path, pool_id, local.domain_url(DOMAIN), redirect_uri,
            web.client_id, str(web.client_secret), public.client_id,
            str(m2m["ClientId"]), str(m2m["ClientSecret"]),
            secrets=[PASSWORD, str(web.client_secret), str(m2m["ClientSecret"])],
        )  # fmt: skip


# ----- aiocognito login ------------------------------------------------------------------------------------


@dataclass
class Login:
    """A running ``aiocognito login``: the authorize URL it printed, and what it printed so far."""

    process: asyncio.subprocess.Process
    url: str
    stderr_lines: list[str]

    @property
    def state(self) -> str:
        return parse_qs(urlsplit(self.url).query)["state"][0]

    async def result(self) -> Run:
        """Wait (bounded) for the process to end: its exit code and whole output."""
        out, err = await asyncio.wait_for(self.process.communicate(), WAIT)
        assert self.process.returncode is not None
        return Run(self.process.returncode, out.decode(), "".join(self.stderr_lines) + err.decode())


@contextlib.asynccontextmanager
async def login(s: Setup, *args: str) -> AsyncIterator[Login]:
    """``aiocognito login --no-browser`` on the setup's domain, once it has printed the authorize URL."""
    process = await asyncio.create_subprocess_exec(
        str(CONSOLE_SCRIPT), "login", "--no-browser", "--domain", s.domain_url,
        "--redirect-uri", s.redirect_uri, *args,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=environment(s.tmp_path),
    )  # fmt: skip
    try:
        assert process.stderr is not None
        lines: list[str] = []
        while not lines or lines[-1] != "Sign in at:\n":
            line = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
            assert line, "aiocognito login ended before printing the URL:\n" + "".join(lines)
            lines.append(line)
        url_line = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
        lines.append(url_line)
        yield Login(process, url_line.strip(), lines)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()


async def visit(url: str) -> str:
    """A browser's request to the CLI's callback: the page it answers with (the text of ``#status``)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as http:
        async with http.get(url, allow_redirects=False) as response:
            assert response.status == 200
            page = await response.text()
    return page.split("<p id=status>", 1)[1].split("</p>", 1)[0]


def one_error_line(run: Run) -> str:
    """The single ``aiocognito: error: ...`` line of a failed command (and nothing on stdout)."""
    assert run.code == 1, run
    assert run.stdout == ""
    lines = [line for line in run.stderr.splitlines() if line.startswith("aiocognito:")]
    assert len(lines) == 1 and lines[0].startswith("aiocognito: error: "), run.stderr
    assert "Traceback" not in run.stderr
    return lines[0]


@pytest.mark.parametrize("with_secret", [True, False], ids=["client-secret", "public-client"])
async def test_login_signs_in_through_the_page_and_prints_tokens_that_verify(
    setup: Setup, with_secret: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, POOL_LOGGER)
    client_id = setup.web_id if with_secret else setup.public_id
    args = ["--client-id", client_id] + (["--client-secret", setup.web_secret] if with_secret else [])
    async with login(setup, *args) as running:
        authorize = urlsplit(running.url)
        query = parse_qs(authorize.query)
        assert running.url.startswith(f"{setup.domain_url}/oauth2/authorize?")
        assert query["client_id"] == [client_id] and query["redirect_uri"] == [setup.redirect_uri]
        assert query["code_challenge_method"] == ["S256"] and query["response_type"] == ["code"]
        assert query["scope"][0].split() == ["openid", "email", "profile"]

        async with LoginPages(timeout=WAIT) as pages:
            callback = await asyncio.wait_for(pages.sign_in(running.url, USER, PASSWORD), WAIT)
        assert callback.startswith(setup.redirect_uri + "?")
        code = parse_qs(urlsplit(callback).query)["code"][0]
        assert await visit(callback) == "Signed in: you can close this tab."  # answered after the exchange
        run = await running.result()

    assert run.code == 0, run.stderr
    assert token_requests(caplog) == ["authorization_code"]  # one code exchange
    tokens = json.loads(run.stdout)
    assert set(tokens) == {"IdToken", "AccessToken", "RefreshToken", "ExpiresIn", "TokenType"}
    assert tokens["RefreshToken"] and tokens["TokenType"] == "Bearer" and tokens["ExpiresIn"] > 0
    async with setup.verifier(client_id) as verifier:
        access = await verifier.verify(tokens["AccessToken"], "access")
        identity = await verifier.verify(tokens["IdToken"], "id")
    assert access["username"] == USER and set(access["scope"].split()) == {"openid", "email", "profile"}
    assert identity["cognito:username"] == USER and identity["email"] == "alice@example.com"
    assert identity["aud"] == client_id and identity["nonce"] == query["nonce"][0]
    setup.assert_no_secret(run.output)
    assert code not in run.output and query["code_challenge"][0] not in run.stdout


async def test_login_refuses_a_redirect_uri_it_cannot_listen_on(setup: Setup) -> None:
    for redirect_uri in (
        "https://app.example/callback",  # not loopback
        "http://192.0.2.1:8976/callback",  # an address, but not a loopback one
        "http://127.0.0.1/callback",  # no port: the browser would come back to port 80
        "http://127.0.0.1:0/callback",  # a port Cognito could never send the browser back to
    ):
        run = await cli(setup.tmp_path, "login", "--no-browser", "--domain", setup.domain_url,
                        "--client-id", setup.public_id, "--redirect-uri", redirect_uri)  # fmt: skip
        line = one_error_line(run)
        assert "--redirect-uri must be http://localhost:PORT/" in line, redirect_uri
        assert "Sign in at" not in run.stderr  # refused before anything started

    port = int(urlsplit(setup.redirect_uri).port or 0)
    with socket.socket() as taken:  # another program has the port: said in one line, nothing printed
        taken.bind(("127.0.0.1", port))
        taken.listen()
        run = await cli(setup.tmp_path, "login", "--no-browser", "--domain", setup.domain_url,
                        "--client-id", setup.public_id, "--redirect-uri", setup.redirect_uri)  # fmt: skip
    line = one_error_line(run)
    assert f"cannot listen on 127.0.0.1:{port}" in line and "pick another --redirect-uri" in line, line
    assert "Sign in at" not in run.stderr


async def test_login_with_access_denied_on_the_callback_is_one_line(setup: Setup) -> None:
    async with login(setup, "--client-id", setup.public_id) as running:
        denied = (
            f"{setup.redirect_uri}?error=access_denied&error_description=User+cancelled&state={running.state}"
        )
        assert await visit(denied) == "Sign-in failed: see the terminal."
        run = await running.result()
    line = one_error_line(run)
    assert "access_denied" in line and "User cancelled" in line, line


async def test_login_with_a_wrong_state_sends_nothing_and_is_one_line(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, POOL_LOGGER)
    async with login(setup, "--client-id", setup.public_id) as running:
        async with LoginPages(timeout=WAIT) as pages:
            callback = await asyncio.wait_for(pages.sign_in(running.url, USER, PASSWORD), WAIT)
        code = parse_qs(urlsplit(callback).query)["code"][0]
        forged = callback.replace(f"state={running.state}", "state=forged-state")
        assert forged != callback
        assert await visit(forged) == "Sign-in failed: see the terminal."
        run = await running.result()
    line = one_error_line(run)
    assert "state" in line, line
    assert code not in run.output
    assert token_requests(caplog) == []  # the code was not sent anywhere


async def test_login_timeout_is_one_line(setup: Setup) -> None:
    async with login(setup, "--client-id", setup.public_id, "--timeout", "0.5") as running:
        started = time.monotonic()
        run = await running.result()
    assert time.monotonic() - started < 10
    assert one_error_line(run) == "aiocognito: error: no sign-in came back within 0.5 seconds"


# ----- aiocognito token ------------------------------------------------------------------------------------


async def test_token_prints_a_client_credentials_token_with_its_scope(setup: Setup) -> None:
    common = ["token", "--domain", setup.domain_url, "--client-id", setup.m2m_id, "--scope", "orders/read"]
    env = {"AIOCOGNITO_CLIENT_SECRET": setup.m2m_secret}
    text, as_json, every = await asyncio.gather(
        cli(setup.tmp_path, *common, **env),
        cli(setup.tmp_path, *common, "--client-credentials", "--output", "json", **env),
        cli(setup.tmp_path, "token", "--domain", setup.domain_url, "--client-id", setup.m2m_id, **env),
    )
    for run in (text, as_json, every):
        assert run.code == 0 and run.stderr == "", run.stderr
        setup.assert_no_secret(run.output)
    token = text.stdout.strip()
    assert text.stdout == token + "\n" and token.count(".") == 2  # the token alone: `$(aiocognito token ...)`
    answer = json.loads(as_json.stdout)
    assert set(answer) == {"AccessToken", "Scope", "ExpiresAt"}
    assert answer["Scope"] == "orders/read" and answer["ExpiresAt"] > time.time() + 60
    async with setup.verifier(setup.m2m_id) as verifier:
        claims = await verifier.verify(token, "access", scopes="orders/read")
        assert claims["sub"] == setup.m2m_id and claims["scope"] == "orders/read"
        assert (await verifier.verify(answer["AccessToken"], "access"))["scope"] == "orders/read"
        every_scope = await verifier.verify(every.stdout.strip(), "access")
        assert set(every_scope["scope"].split()) == {"orders/read", "orders/write"}  # default: all allowed


async def test_token_refusals_are_one_line_without_the_secret(setup: Setup) -> None:
    common = ["token", "--domain", setup.domain_url, "--client-id", setup.m2m_id]
    wrong_secret = "wrong-" + setup.m2m_secret[6:]
    setup.secrets.append(wrong_secret)
    wrong, wrong_on_command_line, missing, bad_scope = await asyncio.gather(
        cli(setup.tmp_path, *common, AIOCOGNITO_CLIENT_SECRET=wrong_secret),
        cli(setup.tmp_path, *common, "--client-secret", wrong_secret),
        cli(setup.tmp_path, *common),
        cli(setup.tmp_path, *common, "--scope", "orders/delete", AIOCOGNITO_CLIENT_SECRET=setup.m2m_secret),
    )
    for run in (wrong, wrong_on_command_line):
        assert "invalid_client" in one_error_line(run)
        setup.assert_no_secret(run.output)
    assert one_error_line(missing) == (
        "aiocognito: error: the client_credentials grant needs the app client's secret: --client-secret or "
        "$AIOCOGNITO_CLIENT_SECRET"
    )
    assert "invalid_scope" in one_error_line(bad_scope)
    setup.assert_no_secret(bad_scope.output)


# ----- aiocognito local: the seeded domains' managed login URLs -------------------------------------------

SEED: dict[str, Any] = {
    "version": 1,
    "pools": [
        {
            "name": "main",
            "domain": "main-login",
            "resource_servers": [{"identifier": "orders", "name": "Orders API", "scopes": {"read": "read orders"}}],
            "clients": [
                {"name": "worker", "secret": True,
                 "oauth": {"flows": ["client_credentials"], "scopes": ["orders/read"]}},
            ],
        },
        {"name": "bare"},
    ],
}  # fmt: skip


async def test_local_shows_each_seeded_domains_managed_login_url(tmp_path: Path) -> None:
    seed, ids_file = tmp_path / "seed.json", tmp_path / "ids.json"
    seed.write_text(json.dumps(SEED))
    process = await asyncio.create_subprocess_exec(
        str(CONSOLE_SCRIPT), "local", "--port", "0", "--seed", str(seed), "--seed-output", str(ids_file),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=environment(tmp_path),
    )  # fmt: skip
    banner: list[str] = []
    try:
        assert process.stdout is not None
        while not banner or not banner[-1].startswith("Ready"):
            line = (await asyncio.wait_for(process.stdout.readline(), WAIT)).decode()
            assert line, "aiocognito local stopped before its banner was complete:\n" + "\n".join(banner)
            banner.append(line.rstrip("\n"))
        endpoint = banner[0].split(" listening on ", 1)[1].split(" ", 1)[0]
        domain_url = f"{endpoint}/managed-login/main-login"
        assert "    domain: main-login" in banner
        assert banner[banner.index("    domain: main-login") + 1] == f"    managed login: {domain_url}"
        assert sum("managed login:" in line for line in banner) == 1  # the bare pool has no domain

        ids = json.loads(ids_file.read_text())
        main, bare = ids["pools"]["main"], ids["pools"]["bare"]
        assert list(main)[:3] == ["id", "domain", "domain_url"]  # beside "domain"
        assert (main["domain"], main["domain_url"]) == ("main-login", domain_url)
        assert (bare["domain"], bare["domain_url"]) == (None, None)

        # the URL is the one the OAuth commands take
        worker = main["clients"]["worker"]
        run = await cli(tmp_path, "token", "--domain", domain_url, "--client-id", worker["id"],
                        "--output", "json", AIOCOGNITO_CLIENT_SECRET=worker["secret"])  # fmt: skip
        assert run.code == 0, run.stderr
        assert json.loads(run.stdout)["Scope"] == "orders/read"
        assert worker["secret"] not in run.output
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.communicate(), WAIT)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0
