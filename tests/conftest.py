"""Shared fixtures: an in-process moto server, and clients pointed at it; a real redis-server (``redis_server``)."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import AsyncIterator, Iterator

import pytest

# Never let a test reach instance metadata or a real AWS account.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ.pop("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", None)
os.environ.pop("AWS_CONTAINER_CREDENTIALS_FULL_URI", None)

from hang_report import _report_hangs  # noqa: E402, F401  (fixture)
from redis_server import redis_server, redis_url  # noqa: E402, F401  (fixtures)

import aiocognito  # noqa: E402

DUMMY_CREDENTIALS = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


@pytest.fixture(scope="session")
def moto_server_url() -> Iterator[str]:
    """One moto server for the whole run, on 127.0.0.1 and a free port."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto_endpoint(moto_server_url: str) -> str:
    """The moto server's URL, with its state cleared before the test."""
    req = urllib.request.Request(moto_server_url + "/moto-api/reset", method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()
    return moto_server_url


@pytest.fixture
async def cognito(moto_endpoint: str) -> AsyncIterator[aiocognito.CognitoClient]:
    """A client on the moto server with dummy credentials and no retry waits to speak of."""
    async with aiocognito.CognitoClient(
        region="us-east-1",
        endpoint_url=moto_endpoint,
        credentials=DUMMY_CREDENTIALS,
        retries=aiocognito.RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01),
    ) as client:
        yield client
