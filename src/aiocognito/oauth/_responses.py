"""Reading the domain endpoints' answers, with no I/O: a success body into a :class:`TokenSet` (or an
access token and its lifetime), an error answer into the right exception.

Error answers, by what arrived:

* JSON ``{"error": ..., "error_description": ...}`` with a 4xx status: the typed :class:`OAuthError`
  (``invalid_grant`` -> :class:`InvalidGrant`, ...).
* A 401 whose ``WWW-Authenticate: Bearer error="invalid_token", ...`` names the error (userInfo, RFC 6750).
* HTTP 429: ``ServiceError`` with code ``TooManyRequestsException`` (throttled: retried by the rule in
  ``_wire/retry.py``, like any throttled API call).
* HTTP 5xx: ``ServiceError`` (status set, code the body's ``error`` or ``InternalServerError``) when the
  body is JSON, else :class:`ResponseParseError`; both count as "ambiguous" for the retry rule.
* Anything else (an HTML page, a 4xx without an OAuth error): :class:`ResponseParseError` with a redacted
  excerpt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .._errors import CognitoError, ProtocolError, ResponseParseError, ServiceError, redact
from .._tokens.token_set import MAX_TOKEN_LIFETIME, TokenSet, check_authentication_result
from ._errors import oauth_error

__all__ = ["answer_error", "client_token", "json_object", "token_set"]

_AUTH_PARAM = re.compile(r'(\w+)="([^"]*)"')


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _excerpt(body: bytes) -> str:
    return redact(body.decode("utf-8", "replace"))


def json_object(status: int, body: bytes, endpoint: str) -> dict[str, Any]:
    """The JSON object of a success answer.

    Raises:
        ResponseParseError: the body is not a JSON object.
    """
    decoded = _decode(body)
    if not isinstance(decoded, dict):
        raise ResponseParseError(
            "the answer is not a JSON object", operation=endpoint, status=status, excerpt=_excerpt(body)
        )
    return decoded


def answer_error(status: int, headers: Mapping[str, str], body: bytes, endpoint: str) -> CognitoError:
    """The exception for a non-2xx answer of ``endpoint`` (see the module docstring)."""
    decoded = _decode(body)
    error = decoded.get("error") if isinstance(decoded, dict) else None
    description = decoded.get("error_description") if isinstance(decoded, dict) else None
    description = description if isinstance(description, str) else ""
    if status == 429:
        return ServiceError(
            description or "too many requests",
            code="TooManyRequestsException",
            operation=endpoint,
            status=status,
        )
    if status >= 500:
        if isinstance(decoded, dict):
            code = error if isinstance(error, str) and error else "InternalServerError"
            return ServiceError(redact(description), code=redact(code, 80), operation=endpoint, status=status)
        return ResponseParseError("server error", operation=endpoint, status=status, excerpt=_excerpt(body))
    if isinstance(error, str) and error:
        return oauth_error(error, description, status=status)
    challenge = headers.get("WWW-Authenticate") or ""
    if challenge.lower().startswith("bearer"):
        params = dict(_AUTH_PARAM.findall(challenge))
        if params.get("error"):
            return oauth_error(params["error"], params.get("error_description", ""), status=status)
    return ResponseParseError(
        "not an OAuth error answer", operation=endpoint, status=status, excerpt=_excerpt(body)
    )


def _lifetime(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_TOKEN_LIFETIME:
        raise ProtocolError(f"the token answer's expires_in is not 1 to {MAX_TOKEN_LIFETIME} seconds")
    return value


def token_set(
    answer: Mapping[str, Any],
    *,
    received_at: float,
    received_monotonic: float,
    refresh_token: str | None = None,
) -> TokenSet:
    """The :class:`TokenSet` of a token endpoint answer (``authorization_code`` or ``refresh_token``).

    ``refresh_token`` is kept when the answer brings none (a refresh without rotation). Without the
    ``openid`` scope there is no ID token: ``id_token`` is then ``""``.

    Raises:
        ProtocolError: a token that is not a JWT, a bad ``expires_in`` or field type (names the field only).
    """
    access, id_token = answer.get("access_token"), answer.get("id_token")
    result: dict[str, Any] = {
        "AccessToken": access,
        # Without an ID token, the access token stands in for the JWT check only.
        "IdToken": id_token if id_token is not None else access,
        "ExpiresIn": _lifetime(answer.get("expires_in")),
        "TokenType": answer.get("token_type"),
    }
    if answer.get("refresh_token") is not None:
        result["RefreshToken"] = answer["refresh_token"]
    expires_in = check_authentication_result(result)
    token_type = answer.get("token_type")
    return TokenSet(
        id_token=id_token if isinstance(id_token, str) else "",
        access_token=str(access),
        refresh_token=result.get("RefreshToken") or refresh_token,
        expires_in=expires_in,
        received_at=received_at,
        received_monotonic=received_monotonic,
        token_type=token_type if isinstance(token_type, str) and token_type else "Bearer",
    )


def client_token(answer: Mapping[str, Any]) -> tuple[str, int]:
    """The access token and its lifetime (seconds) from a ``client_credentials`` answer.

    Raises:
        ProtocolError: no access token, or a bad ``expires_in``.
    """
    access = answer.get("access_token")
    if not isinstance(access, str) or not access:
        raise ProtocolError("the token answer has no access_token")
    return access, _lifetime(answer.get("expires_in"))
