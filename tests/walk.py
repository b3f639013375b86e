"""The walk over every operation of the model: a raw wire client that checks each answer, and a registry.

Scenario tests (``tests/test_pool_walk_*.py``) are decorated with ``@walks("Op", ...)``, naming the
operations they call over the wire; their :class:`Walker` checks each 200 answer against the operation's
output shape, and at the end that every named operation was answered with success at least once.
``tests/test_pool_walk.py`` checks that the scenarios together name every operation of the model, so an
operation added to the model without support in the pool fails the suite.

The Walker speaks JSON 1.1 with aiohttp directly (no conversion of the answer: what is checked is what the
wire carried), signs nothing, and names the region in a SigV4-shaped Authorization header as a client would.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

from aiocognito.testing import _shapes

__all__ = ["walks", "WALKED", "Walker", "WalkError"]

F = TypeVar("F", bound=Callable[..., Awaitable[None]])

#: operation -> the scenario tests that walk it (filled at import by ``@walks``)
WALKED: dict[str, list[str]] = {}


def walks(*operations: str) -> Callable[[F], F]:
    """Mark a scenario test as walking ``operations`` (its Walker checks that it really did)."""
    unknown = [op for op in operations if op not in _shapes.model().operations]
    if unknown:
        raise ValueError(f"not operations of the model: {unknown}")

    def mark(test: F) -> F:
        for op in operations:
            WALKED.setdefault(op, []).append(f"{test.__module__}.{test.__name__}")
        test.walked = operations  # type: ignore[attr-defined]
        return test

    return mark


class WalkError(Exception):
    """A non-200 answer: its status, ``__type`` code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class Walker:
    """Calls operations of a local pool over the wire and checks their answers."""

    def __init__(self, endpoint_url: str, region: str = "us-east-1") -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self.succeeded: set[str] = set()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Walker:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._session is not None
        await self._session.close()

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call ``operation``; its answer, checked against the output shape. WalkError when refused."""
        assert self._session is not None
        headers = {
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential=WALKER/20260101/{self.region}/cognito-idp/aws4_request, "
                "SignedHeaders=host, Signature=0"
            ),
        }
        async with self._session.post(self.endpoint_url + "/", data=json.dumps(params), headers=headers) as r:
            text = await r.text()
            body = json.loads(text) if text else {}
            if r.status != 200:
                raise WalkError(r.status, str(body.get("__type", "")), str(body.get("message", "")))
        problems = _shapes.output_problems(operation, body)
        assert not problems, f"{operation} answered outside its output shape: {problems}"
        self.succeeded.add(operation)
        return body

    async def refused(self, code: str, operation: str, **params: Any) -> WalkError:
        """Call ``operation`` expecting the error ``code``; the error."""
        try:
            await self.call(operation, **params)
        except WalkError as exc:
            assert exc.code == code, f"{operation}: expected {code}, got {exc}"
            return exc
        raise AssertionError(f"{operation} succeeded; expected {code}")

    def check_walked(self, test: Callable[..., Any]) -> None:
        """Every operation ``test`` declares was answered with success."""
        missing = set(getattr(test, "walked", ())) - self.succeeded
        assert not missing, f"declared but not walked with success: {sorted(missing)}"
