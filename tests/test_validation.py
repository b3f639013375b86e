"""Input is checked before anything is sent: the client's region and endpoint URL, and every operation's
required parameters. Each bad input raises ParamValidationError (a CognitoError) naming the setting or the
parameter, and a local server on 127.0.0.1 that counts requests sees none."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from botocore import xform_name

import aiocognito
from aiocognito._wire.model import MISSING
from aiocognito._wire.operations import OPERATIONS, PAGINATED

ROOT = Path(__file__).resolve().parent.parent


class Counter:
    def __init__(self) -> None:
        self.requests = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.json_response({})


@pytest.fixture
async def server() -> AsyncIterator[Counter]:
    counter = Counter()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", counter.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    counter.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        yield counter
    finally:
        await runner.cleanup()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No region or profile from the outer environment; an empty shared config (returned, to write to)."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    return config


# ----- the client's settings ------------------------------------------------------------------------------
BAD_REGIONS = ["not a region", "us-east-1/../x", "us-east-1.evil.com", "EU-WEST-1", "eu-west-1 ", "x" * 80]


@pytest.mark.parametrize("region", BAD_REGIONS)
async def test_a_bad_region_argument_is_refused(region: str, server: Counter, clean_env: Path) -> None:
    with pytest.raises(aiocognito.ParamValidationError) as caught:
        aiocognito.CognitoClient(region=region, endpoint_url=server.url, credentials=("a", "b"))
    assert isinstance(caught.value, aiocognito.CognitoError)
    assert str(caught.value).startswith("invalid parameters for region: region ")
    assert "is not an AWS region name" in str(caught.value)
    assert server.requests == 0


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
async def test_a_bad_region_from_the_environment_names_the_variable(
    variable: str, server: Counter, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "us-east-1/../x")
    with pytest.raises(aiocognito.ParamValidationError, match=f"{variable} 'us-east-1/../x' is not"):
        aiocognito.CognitoClient(credentials=("a", "b"))
    assert server.requests == 0


def test_a_bad_region_in_the_shared_config_names_it(clean_env: Path) -> None:
    clean_env.write_text("[default]\nregion = not a region\n[profile p]\nregion = eu west 1\n")
    with pytest.raises(aiocognito.ParamValidationError, match=r"region \(AWS config\) 'not a region'"):
        aiocognito.CognitoClient()
    with pytest.raises(aiocognito.ParamValidationError, match=r"region \(AWS config, profile p\)"):
        aiocognito.CognitoClient(profile="p")


@pytest.mark.parametrize("region", ["eu-west-1", "us-gov-west-1", "cn-north-1", "ap-southeast-5"])
def test_good_regions_make_their_endpoint(region: str, clean_env: Path) -> None:
    client = aiocognito.CognitoClient(region=region)
    assert client.endpoint_url.startswith(f"https://cognito-idp.{region}.amazonaws.com")


@pytest.mark.parametrize(
    "url",
    [
        "127.0.0.1:9229",
        "ftp://127.0.0.1:9229",
        "http://",
        "http://127.0.0.1:99999",
        "http://127.0.0.1:9229/?x=1",
        "http://127.0.0.1:9229/#frag",
        "http://127.0.0.1 :9229",
    ],
)
async def test_a_bad_endpoint_url_is_refused(url: str, server: Counter) -> None:
    with pytest.raises(aiocognito.ParamValidationError) as caught:
        aiocognito.CognitoClient(region="us-east-1", endpoint_url=url, credentials=("a", "b"))
    assert str(caught.value).startswith("invalid parameters for endpoint_url: endpoint_url ")
    assert server.requests == 0


# ----- operations' parameters -----------------------------------------------------------------------------
async def test_every_operation_names_its_missing_required_parameters(server: Counter) -> None:
    checked = 0
    async with aiocognito.CognitoClient(
        region="us-east-1", endpoint_url=server.url, credentials=("a", "b")
    ) as cognito:
        for name, spec in OPERATIONS.items():
            if not spec.required:
                continue
            method = getattr(cognito, xform_name(name))
            with pytest.raises(aiocognito.ParamValidationError) as caught:
                await method()
            assert caught.value.operation == name
            assert caught.value.problems == [f"missing required parameter {p}" for p in spec.required], name
            checked += 1
    assert checked > 100
    assert server.requests == 0


async def test_one_missing_parameter_among_given_ones(server: Counter) -> None:
    async with aiocognito.CognitoClient(
        region="us-east-1", endpoint_url=server.url, credentials=("a", "b")
    ) as cognito:
        with pytest.raises(aiocognito.ParamValidationError) as caught:
            await cognito.admin_get_user(UserPoolId="us-east-1_x")  # type: ignore[call-arg]
        assert str(caught.value) == "invalid parameters for AdminGetUser: missing required parameter Username"
        with pytest.raises(aiocognito.ParamValidationError, match="missing required parameter Username"):
            await cognito.admin_get_user(UserPoolId="us-east-1_x", Username=None)  # type: ignore[arg-type]
        with pytest.raises(aiocognito.ParamValidationError, match="missing required parameter Username"):
            await cognito.call("AdminGetUser", UserPoolId="us-east-1_x")
        with pytest.raises(aiocognito.ParamValidationError, match="Limit must be int"):
            await cognito.list_users(UserPoolId="us-east-1_x", Limit="10")  # type: ignore[arg-type]
        with pytest.raises(aiocognito.ParamValidationError, match="unknown parameter Nope"):
            await cognito.call("AdminGetUser", UserPoolId="us-east-1_x", Username="u", Nope=1)
        assert await cognito.admin_get_user(UserPoolId="us-east-1_x", Username="u") is not None
    assert server.requests == 1  # only the last, complete call


async def test_listings_check_their_parameters_when_called_not_when_iterated(server: Counter) -> None:
    async with aiocognito.CognitoClient(
        region="us-east-1", endpoint_url=server.url, credentials=("a", "b")
    ) as cognito:
        for method, spec in PAGINATED.items():
            required = [p for p in OPERATIONS[spec.operation].required if p != spec.limit_key]
            if not required:
                continue
            with pytest.raises(
                aiocognito.ParamValidationError, match=f"missing required parameter {required[0]}"
            ):
                getattr(cognito, method)()
        # a required page size is filled in, not reported missing
        listing = cognito.list_all_user_import_jobs(UserPoolId="us-east-1_x")
        assert [job async for job in listing] == []
    assert server.requests == 1


def test_the_run_time_default_is_a_visible_marker() -> None:
    import inspect

    parameters = inspect.signature(aiocognito.CognitoClient.admin_get_user).parameters
    assert parameters["Username"].default is MISSING
    assert repr(MISSING) == "<required>"
    assert inspect.signature(aiocognito.CognitoClient.list_users).parameters["Limit"].default is None


def test_type_checkers_still_see_required_parameters(tmp_path: Path) -> None:
    """mypy (reading the source, where required parameters have no default) reports a missing one."""
    pytest.importorskip("mypy")
    snippet = tmp_path / "snippet.py"
    snippet.write_text(
        "import aiocognito\n\n\n"
        "async def f(c: aiocognito.CognitoClient) -> None:\n"
        '    await c.admin_get_user(UserPoolId="us-east-1_x")\n'
        "    c.list_all_users()\n"
        '    await c.admin_get_user(UserPoolId="us-east-1_x", Username="u")\n'
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(snippet),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(lines) == 2, result.stdout + result.stderr
    assert 'Missing named argument "Username" for "admin_get_user"' in lines[0]
    assert 'Missing named argument "UserPoolId" for "list_all_users"' in lines[1]
