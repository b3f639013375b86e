"""The cognito-idp service model as the local pool reads it: every request checked against its input shape.

The model is the one the client is generated from (``model/service-2.json.gz``, botocore 1.44.8). Cognito
checks each request against it before anything else and answers a broken constraint with
``InvalidParameterException`` "1 validation error detected: Value 'x' at 'userPoolId' failed to satisfy
constraint: Member must ...". Members the model marks ``sensitive`` (passwords, codes, tokens, client ids
and secrets, usernames) are never echoed: their message leaves the value out, as Cognito's does.

Patterns are the model's (Java) regular expressions, compiled with the ``regex`` package, which knows
``\\p{L}`` and the other Unicode classes. A wrong JSON type is a ``SerializationException``, as on the wire.

:func:`output_problems` checks an answer against the operation's output shape (the walk over every
operation in the tests uses it). Pure: no I/O but reading the packaged model once.
"""

from __future__ import annotations

import functools
import gzip
import json
import math
from collections.abc import Mapping
from importlib import resources
from typing import Any

import regex

from .. import errors

__all__ = ["Model", "model", "check_input", "output_problems", "paginators"]


class Model:
    """The operations and shapes of the service model."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.operations: dict[str, Any] = dict(document["operations"])
        self.shapes: dict[str, Any] = dict(document["shapes"])

    def input_shape(self, operation: str) -> str | None:
        spec = self.operations[operation].get("input")
        return str(spec["shape"]) if spec else None

    def output_shape(self, operation: str) -> str | None:
        spec = self.operations[operation].get("output")
        return str(spec["shape"]) if spec else None

    def errors(self, operation: str) -> list[str]:
        return [str(e["shape"]) for e in self.operations[operation].get("errors", [])]


@functools.lru_cache(maxsize=1)
def model() -> Model:
    """The packaged service model (read once)."""
    data = resources.files(__package__).joinpath("model/service-2.json.gz").read_bytes()
    document = json.loads(gzip.decompress(data))
    # GetClientToken needs ALLOW_CLIENT_TOKEN_AUTH, which Cognito accepts but the model's enum lacks.
    document["shapes"]["ExplicitAuthFlowsType"]["enum"].append("ALLOW_CLIENT_TOKEN_AUTH")
    return Model(document)


@functools.lru_cache(maxsize=1)
def paginators() -> dict[str, Any]:
    """botocore's paginator configuration of the model (which members carry the tokens)."""
    data = resources.files(__package__).joinpath("model/paginators-1.json").read_text("utf-8")
    return dict(json.loads(data)["pagination"])


#: Patterns Cognito does not hold requests to: a custom domain (CreateUserPoolDomain with
#: CustomDomainConfig) is a dotted name such as auth.example.com, which DomainType's pattern refuses;
#: ``_api/domains.py`` checks prefix domains against that pattern itself, with Cognito's message.
_UNENFORCED_PATTERNS = frozenset({"DomainType"})


@functools.lru_cache(maxsize=512)
def _pattern(source: str) -> Any:
    return regex.compile(source)


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


class _Problem(Exception):
    def __init__(self, path: str, constraint: str, value: Any = None, *, show: bool = True) -> None:
        super().__init__(constraint)
        self.path = path
        self.constraint = constraint
        self.value = value
        self.show = show


def _value_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))[:200]
    return str(value)[:200]


def _check(
    shapes: Mapping[str, Any],
    shape_name: str,
    value: Any,
    path: str,
    sensitive: bool,
    *,
    lenient: bool = False,
) -> None:
    shape = shapes[shape_name]
    if shape.get("document"):
        return  # a Document is any JSON value (a passkey credential, branding settings)
    kind = shape["type"]
    sensitive = sensitive or bool(shape.get("sensitive"))
    if kind == "structure":
        if not isinstance(value, Mapping):
            raise errors.SerializationException(f"Expected a JSON object at '{path or 'input'}'")
        for required in shape.get("required", []):
            if value.get(required) is None:
                where = f"{path}.{_camel(required)}" if path else _camel(required)
                raise _Problem(where, "Member must not be null", show=False)
        for member, spec in shape.get("members", {}).items():
            if member in value and value[member] is not None:
                where = f"{path}.{_camel(member)}" if path else _camel(member)
                _check(shapes, spec["shape"], value[member], where, sensitive or bool(spec.get("sensitive")))
        return
    if kind == "list":
        if not isinstance(value, list):
            raise errors.SerializationException(f"Expected a JSON array at '{path}'")
        _length(shape, len(value), value, path, sensitive)
        for index, item in enumerate(value):
            _check(shapes, shape["member"]["shape"], item, f"{path}.{index + 1}.member", sensitive)
        return
    if kind == "map":
        if not isinstance(value, Mapping):
            raise errors.SerializationException(f"Expected a JSON object at '{path}'")
        _length(shape, len(value), value, path, sensitive)
        for key, item in value.items():
            _check(shapes, shape["key"]["shape"], key, f"{path}.key", sensitive)
            _check(shapes, shape["value"]["shape"], item, f"{path}.value", sensitive)
        return
    if kind == "string":
        if not isinstance(value, str):
            raise errors.SerializationException(f"Expected a string at '{path}'")
        if lenient:
            return
        _length(shape, len(value), value, path, sensitive)
        if "enum" in shape and value not in shape["enum"]:
            choices = ", ".join(shape["enum"])
            raise _Problem(
                path, f"Member must satisfy enum value set: [{choices}]", value, show=not sensitive
            )
        pattern = shape.get("pattern") if shape_name not in _UNENFORCED_PATTERNS else None
        if pattern and value and not _pattern(pattern).fullmatch(value):
            raise _Problem(
                path, f"Member must satisfy regular expression pattern: {pattern}", value, show=not sensitive
            )
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise errors.SerializationException(f"Expected an integer at '{path}'")
        if lenient:
            return
        if "min" in shape and value < shape["min"]:
            raise _Problem(path, f"Member must have value greater than or equal to {shape['min']}", value)
        if "max" in shape and value > shape["max"]:
            raise _Problem(path, f"Member must have value less than or equal to {shape['max']}", value)
        return
    if kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise errors.SerializationException(f"Expected a number at '{path}'")
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            raise errors.SerializationException(f"Expected a boolean at '{path}'")
        return
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise errors.SerializationException(f"Expected a timestamp at '{path}'")
        return
    if kind == "blob":
        if not isinstance(value, str):
            raise errors.SerializationException(f"Expected base64 text at '{path}'")
        return
    # document and anything newer: any JSON value


def _length(shape: Mapping[str, Any], size: int, value: Any, path: str, sensitive: bool) -> None:
    if "min" in shape and size < shape["min"]:
        raise _Problem(
            path,
            f"Member must have length greater than or equal to {shape['min']}",
            value,
            show=not sensitive,
        )
    if "max" in shape and size > shape["max"]:
        raise _Problem(
            path, f"Member must have length less than or equal to {shape['max']}", value, show=not sensitive
        )


def check_input(operation: str, params: Mapping[str, Any]) -> None:
    """Check a request against its input shape; raise Cognito's error for the first broken constraint."""
    m = model()
    shape = m.input_shape(operation)
    if shape is None:
        return
    try:
        _check(m.shapes, shape, params, "", False)
    except _Problem as problem:
        if problem.show and problem.value is not None:
            text = f"Value '{_value_text(problem.value)}' at '{problem.path}'"
        else:
            text = f"Value at '{problem.path}'"
        raise errors.InvalidParameterException(
            f"1 validation error detected: {text} failed to satisfy constraint: {problem.constraint}"
        ) from None


def output_problems(operation: str, body: Any) -> list[str]:
    """What in ``body`` breaks the operation's output shape (an empty list: it fits)."""
    m = model()
    shape = m.output_shape(operation)
    if shape is None:
        return [] if body in ({}, None) else ["the operation has no output, but the answer has members"]
    problems: list[str] = []
    _walk_output(m.shapes, shape, body, operation, problems)
    return problems


def _walk_output(shapes: Mapping[str, Any], name: str, value: Any, path: str, problems: list[str]) -> None:
    """Types, enums, required and unknown members (lengths and patterns are not checked: Cognito's own
    answers break some, such as ``phone_number_verified`` in SchemaAttributes, longer than its 20)."""
    shape = shapes[name]
    kind = shape["type"]
    if value is None:
        problems.append(f"{path}: null")
    elif shape.get("document"):
        return  # a Document is any JSON value (CredentialCreationOptions, branding settings)
    elif kind == "structure":
        if not isinstance(value, Mapping):
            problems.append(f"{path}: not an object")
            return
        members = shape.get("members", {})
        for required in shape.get("required", []):
            if required not in value:
                problems.append(f"{path}.{required}: required but missing")
        for key, item in value.items():
            if key not in members:
                problems.append(f"{path}.{key}: not in the model")
            else:
                _walk_output(shapes, members[key]["shape"], item, f"{path}.{key}", problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: not a list")
            return
        for index, item in enumerate(value):
            _walk_output(shapes, shape["member"]["shape"], item, f"{path}[{index}]", problems)
    elif kind == "map":
        if not isinstance(value, Mapping):
            problems.append(f"{path}: not an object")
            return
        for key, item in value.items():
            _walk_output(shapes, shape["value"]["shape"], item, f"{path}[{key}]", problems)
    elif kind == "string" and "enum" in shape and value not in shape["enum"]:
        problems.append(f"{path}: {value!r} is not one of {shape['enum']}")
    else:
        try:
            _check(shapes, name, value, path, True, lenient=True)
        except errors.SerializationException as exc:
            problems.append(str(exc))
