"""Checks of the identifiers a caller configures, before anything is sent (pure).

User pool ids and app client ids follow botocore's model patterns (``UserPoolIdType``: ``[\\w-]+_[0-9a-zA-Z]+``,
at most 55 characters; ``ClientIdType``: ``[\\w+]+``, at most 128); regions follow the shape every AWS
partition uses (``eu-west-1``, ``us-gov-west-1``, ``cn-north-1``, ``us-isob-east-1``, ``eusc-de-east-1``), so a
value that could never be a region never becomes part of a host name; endpoint URLs must be absolute http(s)
URLs. A well-formed region that does not exist (``eu-wst-1``) passes here and fails as an unreachable
endpoint. Each failure is a :class:`~aiocognito.ParamValidationError` that names the setting.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .._errors import ParamValidationError

__all__ = ["check_client_id", "check_endpoint_url", "check_region", "check_user_pool_id"]

_USER_POOL_ID = re.compile(r"[\w-]+_[0-9a-zA-Z]+", re.ASCII)
_CLIENT_ID = re.compile(r"[\w+]+", re.ASCII)
_REGION = re.compile(r"[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "..."


def check_user_pool_id(value: object, *, where: str = "user_pool_id") -> str:
    """``value`` if it is a user pool id (``eu-west-1_AbC123``); else ParamValidationError."""
    if not isinstance(value, str) or len(value) > 55 or _USER_POOL_ID.fullmatch(value) is None:
        raise ParamValidationError(
            where, [f"{where} {_show(value)} is not a user pool id (like 'eu-west-1_AbC123')"]
        )
    return value


def check_client_id(value: object, *, where: str = "client_id") -> str:
    """``value`` if it is an app client id (letters, digits, ``_`` and ``+``); else ParamValidationError."""
    if not isinstance(value, str) or len(value) > 128 or _CLIENT_ID.fullmatch(value) is None:
        raise ParamValidationError(where, [f"{where} {_show(value)} is not an app client id"])
    return value


def check_region(value: object, *, where: str = "region") -> str:
    """``value`` if it has the shape of an AWS region name; else ParamValidationError."""
    if not isinstance(value, str) or _REGION.fullmatch(value) is None:
        raise ParamValidationError(
            where, [f"{where} {_show(value)} is not an AWS region name (like 'eu-west-1')"]
        )
    return value


def check_endpoint_url(value: object, *, where: str = "endpoint_url") -> str:
    """``value`` if it is an absolute http(s) URL with a host and no query or fragment."""
    problem = None
    if not isinstance(value, str) or any(c.isspace() for c in value):
        problem = "is not a URL"
    else:
        try:
            parts = urlsplit(value)
            port = parts.port  # raises ValueError for a port that is not a number in range
        except ValueError:
            problem = "is not a URL"
        else:
            if parts.scheme not in ("http", "https") or not parts.hostname:
                problem = "must be an absolute http:// or https:// URL"
            elif parts.query or parts.fragment:
                problem = "must not have a query or a fragment"
            del port
    if problem is not None:
        raise ParamValidationError(where, [f"{where} {_show(value)} {problem}"])
    assert isinstance(value, str)
    return value
