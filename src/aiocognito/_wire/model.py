"""What the client knows about each operation, and the pure conversions it does on every call.

``OperationSpec`` and ``PaginatedSpec`` rows are generated into ``operations.py`` from botocore's model.
This module turns caller parameters into a request body (checking them first) and a response body into
boto3's shapes (timestamps as aware datetimes, blobs as bytes). No I/O.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .._errors import ParamValidationError

__all__ = [
    "MISSING",
    "OperationSpec",
    "PaginatedSpec",
    "check_params",
    "convert_output",
    "defer_required",
    "encode_body",
]

_KIND_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "bool": (bool,),
    "float": (float, int),
    "list": (list, tuple),
    "dict": (Mapping,),
    "timestamp": (datetime, int, float, str),
    "blob": (bytes, bytearray, memoryview, str),
}


@dataclass(frozen=True, slots=True)
class OperationSpec:
    """One operation of the model: how to send it and how to read its answer."""

    name: str
    signed: bool
    required: tuple[str, ...]
    kinds: dict[str, str]
    output_plan: Any = None
    input_plan: Any = None
    target: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", "AWSCognitoIdentityProviderService." + self.name)


@dataclass(frozen=True, slots=True)
class PaginatedSpec:
    """A paginated listing: which members carry the token, the page size and the items."""

    operation: str
    input_token: str
    output_token: str
    limit_key: str | None
    result_key: str
    limit_required: bool = False
    max_limit: int | None = None


class _Missing:
    """The run-time default of a required parameter that the caller left out (see :func:`defer_required`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<required>"


#: What a generated method receives for a required parameter the caller did not pass. Typed ``Any`` so that
#: it can stand in for any parameter type; it never reaches the wire (``check_params`` reports it missing).
MISSING: Any = _Missing()


def defer_required(cls: type) -> None:
    """Let every required keyword-only parameter of ``cls``'s methods default to :data:`MISSING` at run time.

    The generated methods declare required parameters without a default, so type checkers (which read the
    source) keep them required. Python would then raise ``TypeError`` for a missing one before the call
    reaches :func:`check_params`; with ``MISSING`` as the run-time default (set here, on the function's
    ``__kwdefaults__``), the call goes on and ``check_params`` raises ParamValidationError naming it.
    """
    for value in vars(cls).values():
        code = getattr(value, "__code__", None)
        if code is None:
            continue
        first = code.co_argcount
        names = code.co_varnames[first : first + code.co_kwonlyargcount]
        given: dict[str, Any] = value.__kwdefaults__ or {}
        if len(given) < len(names):
            value.__kwdefaults__ = {name: given.get(name, MISSING) for name in names}


def check_params(spec: OperationSpec, params: Mapping[str, Any]) -> None:
    """Raise ParamValidationError naming every required parameter that is missing (None or left out) and
    every unknown parameter or wrong basic type."""
    problems: list[str] = []
    for name in spec.required:
        value = params.get(name)
        if value is None or value is MISSING:
            problems.append(f"missing required parameter {name}")
    kinds = spec.kinds
    for name, value in params.items():
        kind = kinds.get(name)
        if kind is None:
            problems.append(f"unknown parameter {name}")
        elif (
            value is not None
            and value is not MISSING
            and (
                not isinstance(value, _KIND_TYPES[kind])
                or (kind in ("int", "float") and isinstance(value, bool))
            )
        ):
            problems.append(f"parameter {name} must be {kind}, got {type(value).__name__}")
    if problems:
        raise ParamValidationError(spec.name, problems)


def _json_default(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"value of type {type(value).__name__} is not JSON serializable")


# botocore's JSON serializer uses json.dumps' default separators and ASCII escapes; matching it byte for
# byte keeps request bodies (and so signatures) identical to boto3's for the same parameters.
_dumps = json.JSONEncoder(default=_json_default).encode


def _timestamp_in(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return float(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        seconds = value.timestamp()
        return int(seconds) if value.microsecond == 0 else seconds
    return value


def _blob_in(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(bytes(value)).decode("ascii")


def _prepare(value: Any, plan: Any) -> Any:
    if plan == "T":
        return _timestamp_in(value)
    if plan == "B":
        return _blob_in(value)
    if isinstance(plan, tuple):
        kind, inner = plan
        if kind == "L" and isinstance(value, (list, tuple)):
            return [_prepare(v, inner) for v in value]
        if kind == "M" and isinstance(value, Mapping):
            return {k: _prepare(v, inner) for k, v in value.items()}
        return value
    if isinstance(plan, dict) and isinstance(value, Mapping):
        return {k: (_prepare(v, plan[k]) if k in plan else v) for k, v in value.items()}
    return value


def encode_body(params: Mapping[str, Any], plan: Any = None) -> bytes:
    """The JSON 1.1 request body; ``plan`` names the timestamps and blobs to encode as the protocol wants."""
    if plan:
        params = _prepare(params, plan)
    return _dumps(params).encode("utf-8")


def _to_datetime(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    if isinstance(value, str):
        try:
            return datetime.fromtimestamp(float(value), tz=timezone.utc)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return value
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return value


def _convert(value: Any, plan: Any) -> Any:
    if plan == "T":
        return _to_datetime(value)
    if plan == "B":
        if isinstance(value, str):
            try:
                return base64.b64decode(value)
            except ValueError:
                return value
        return value
    if isinstance(plan, tuple):
        kind, inner = plan
        if kind == "L" and isinstance(value, list):
            return [_convert(v, inner) for v in value]
        if kind == "M" and isinstance(value, dict):
            return {k: _convert(v, inner) for k, v in value.items()}
        return value
    if isinstance(plan, dict) and isinstance(value, dict):
        for key, sub in plan.items():
            if key in value:
                value[key] = _convert(value[key], sub)
    return value


def convert_output(body: dict[str, Any], plan: Any) -> dict[str, Any]:
    """Convert, in place, the members the plan names: timestamps to aware datetimes, blobs to bytes."""
    if plan:
        _convert(body, plan)
    return body
