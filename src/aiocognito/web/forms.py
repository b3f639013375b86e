"""The JSON bodies the routes accept: :class:`Form`, checked without pydantic and without echoing input.

A bad body (not JSON, not an object, a missing or wrongly typed field, a value too long) raises
:func:`~aiocognito.web.http_errors.bad_request` naming the fields only: a password sent in the wrong field
never comes back. Unknown fields are ignored. :meth:`Form.json_schema` describes the body for OpenAPI.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .http_errors import bad_request

__all__ = ["MAX_BODY", "Field", "Form"]

#: The largest request body the routes read (bytes).
MAX_BODY = 64 * 1024
_MAX_ATTRIBUTES = 50

Kind = Literal["text", "secret", "attributes", "json"]


@dataclass(frozen=True)
class Field:
    """One body field: ``text`` (a non-empty str), ``secret`` (the same, never logged or echoed: passwords
    and codes), ``attributes`` (an object of str values, e.g. ``{"email": "a@example.com"}``) or ``json``
    (any JSON object, passed on as it came: a passkey's credential)."""

    name: str
    kind: Kind = "text"
    required: bool = True
    max_length: int = 256
    description: str = ""


@dataclass(frozen=True)
class Form:
    """The fields of one route's JSON body."""

    fields: tuple[Field, ...] = ()

    def parse(self, raw: bytes) -> dict[str, Any]:
        """The checked values by field name (absent optional fields left out).

        Raises:
            HttpError: 400 ``bad_request`` naming the offending fields.
        """
        if len(raw) > MAX_BODY:
            raise bad_request("the body is too large")
        if not raw.strip():
            data: Any = {}
        else:
            try:
                data = json.loads(raw)
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise bad_request("the body is not JSON") from None
        if not isinstance(data, dict):
            raise bad_request("the body must be a JSON object")
        values: dict[str, Any] = {}
        wrong: list[str] = []
        for field in self.fields:
            value = data.get(field.name)
            if value is None:
                if field.required:
                    wrong.append(field.name)
                continue
            if field.kind == "json":
                ok = isinstance(value, dict) and bool(value)
            elif field.kind == "attributes":
                ok = (
                    isinstance(value, dict)
                    and len(value) <= _MAX_ATTRIBUTES
                    and all(
                        isinstance(k, str) and 0 < len(k) <= 128 and isinstance(v, str) and len(v) <= 2048
                        for k, v in value.items()
                    )
                )
            else:
                ok = isinstance(value, str) and 0 < len(value) <= field.max_length
            if ok:
                values[field.name] = dict(value) if isinstance(value, dict) else value
            else:
                wrong.append(field.name)
        if wrong:
            raise bad_request("missing or invalid fields: " + ", ".join(sorted(wrong)), fields=wrong)
        return values

    def secret_values(self, values: Mapping[str, Any]) -> list[str]:
        """The values of the secret fields (to keep them out of any message)."""
        return [values[f.name] for f in self.fields if f.kind == "secret" and f.name in values]

    def json_schema(self) -> dict[str, Any]:
        """A JSON Schema of the body."""
        properties: dict[str, Any] = {}
        for field in self.fields:
            if field.kind == "json":
                schema: dict[str, Any] = {"type": "object"}
            elif field.kind == "attributes":
                schema = {"type": "object", "additionalProperties": {"type": "string"}}
            else:
                schema = {"type": "string", "minLength": 1, "maxLength": field.max_length}
                if field.kind == "secret":
                    schema["format"] = "password"
            if field.description:
                schema["description"] = field.description
            properties[field.name] = schema
        required = [f.name for f in self.fields if f.required]
        return {"type": "object", "properties": properties, **({"required": required} if required else {})}
