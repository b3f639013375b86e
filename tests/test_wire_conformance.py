"""Wire conformance with aiobotocore as the reference.

Every operation that both aiocognito and the installed botocore model know is sent by both clients to one
capturing server, with the same credentials and a frozen clock. The body, ``X-Amz-Target``,
``Content-Type`` and (for signed operations) ``Authorization`` must be identical; unsigned operations must
carry no signature from either client.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import botocore.auth
import botocore.handlers
import botocore.loaders
import pytest
from aiobotocore.session import get_session
from aiohttp import web

import aiocognito
from aiocognito._wire.operations import OPERATIONS
from aiocognito._wire.operations import OperationsMixin as _Ops

FROZEN = datetime(2026, 11, 3, 5, 7, 9, tzinfo=timezone.utc)
CREDS = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-example")

_MODEL = botocore.loaders.Loader().load_service_model("cognito-idp", "service-2")
_SHAPES = _MODEL["shapes"]


def sample(shape_name: str, depth: int = 0) -> Any:
    """A small valid value for a shape (required members only below the top level)."""
    shape = _SHAPES[shape_name]
    t = shape["type"]
    if t == "string":
        if "enum" in shape:
            return shape["enum"][0]
        return (
            "v" * max(int(shape.get("min", 1)), 3) if shape.get("min", 1) <= 64 else "v" * int(shape["min"])
        )
    if t in ("integer", "long"):
        return int(shape.get("min", 1)) or 1
    if t == "boolean":
        return True
    if t in ("float", "double"):
        return 1.5
    if t == "timestamp":
        return datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    if t == "blob":
        return b"\x00blob\xff"
    if t == "list":
        return [sample(shape["member"]["shape"], depth + 1)]
    if t == "map":
        return {"k": sample(shape["value"]["shape"], depth + 1)}
    members = shape.get("members", {})
    names = shape.get("required", []) if depth > 0 else list(members)
    if depth > 3:
        names = shape.get("required", [])
    return {n: sample(members[n]["shape"], depth + 1) for n in names}


def ordered_params(op_name: str) -> dict[str, Any]:
    """Sample parameters in the order aiocognito's generated method puts them in the body."""
    op = _MODEL["operations"][op_name]
    if "input" not in op:
        return {}
    values = sample(op["input"]["shape"])
    spec = OPERATIONS[op_name]
    values = {k: v for k, v in values.items() if k in spec.kinds}
    required = [k for k in spec.kinds if k in spec.required and k in values]
    optional = [k for k in spec.kinds if k not in spec.required and k in values]
    return {k: values[k] for k in required + optional}


COMMON = sorted(set(_MODEL["operations"]) & set(OPERATIONS))


@pytest.fixture
async def capture() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append({"headers": dict(request.headers), "body": await request.read()})
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


def _snake_methods() -> dict[str, str]:
    """Operation name -> method name, read from the generated mixin's docstrings."""
    names: dict[str, str] = {}
    for attr in dir(_Ops):
        fn = getattr(_Ops, attr)
        doc = getattr(fn, "__doc__", None) or ""
        head = doc.split(":", 1)[0]
        if head in OPERATIONS and not attr.startswith(("list_all_", "admin_list_all_")):
            names[head] = attr
    return names


METHODS = _snake_methods()


def test_every_operation_has_a_method() -> None:
    assert len(METHODS) == len(OPERATIONS) == 153
    missing = set(_MODEL["operations"]) - set(OPERATIONS)
    assert not missing, f"the installed botocore model has operations the client lacks: {sorted(missing)}"


async def test_wire_matches_aiobotocore(
    capture: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen = capture
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: FROZEN.replace(tzinfo=None))
    session = get_session()
    # aiocognito does not send botocore's optional SDK telemetry headers (amz-sdk-invocation-id is random
    # per call); configure the reference to leave them out too so signatures are comparable.
    session.unregister("request-created", botocore.handlers.add_retry_headers)
    checked_signed = checked_unsigned = 0
    async with (
        session.create_client(
            "cognito-idp",
            region_name="eu-west-1",
            endpoint_url=url,
            aws_access_key_id=CREDS[0],
            aws_secret_access_key=CREDS[1],
            aws_session_token=CREDS[2],
        ) as reference,
        aiocognito.CognitoClient(
            region="eu-west-1", endpoint_url=url, credentials=CREDS, clock=lambda: FROZEN, retries=1
        ) as ours,
    ):
        for op_name in COMMON:
            params = ordered_params(op_name)
            seen.clear()
            await getattr(reference, METHODS[op_name])(**params)
            await getattr(ours, METHODS[op_name])(**params)
            ref, got = seen
            assert got["body"] == ref["body"], op_name
            for header in ("X-Amz-Target", "Content-Type"):
                assert got["headers"][header] == ref["headers"][header], (op_name, header)
            if OPERATIONS[op_name].signed:
                assert got["headers"]["Authorization"] == ref["headers"]["Authorization"], op_name
                assert got["headers"]["X-Amz-Security-Token"] == CREDS[2]
                checked_signed += 1
            else:
                assert "Authorization" not in got["headers"], op_name
                assert "Authorization" not in ref["headers"], op_name
                checked_unsigned += 1
    assert checked_signed >= 30 and checked_unsigned >= 25, (checked_signed, checked_unsigned)


async def test_body_encodes_timestamps_and_blobs_like_botocore(
    capture: tuple[str, list[dict[str, Any]]],
) -> None:
    url, seen = capture
    async with aiocognito.CognitoClient(region="eu-west-1", endpoint_url=url, credentials=CREDS) as ours:
        await ours.set_ui_customization(UserPoolId="eu-west-1_abc", ImageFile=b"\x89PNG")
        await ours.set_ui_customization(UserPoolId="eu-west-1_abc", ImageFile="text")
    first, second = (json.loads(s["body"]) for s in seen)
    assert first["ImageFile"] == "iVBORw=="
    assert second["ImageFile"] == "dGV4dA=="
