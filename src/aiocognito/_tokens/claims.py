"""Token checks with no I/O: split a JWT and read its header, decode its claims, and check them.

Everything here takes ``now`` as a parameter and raises :class:`~aiocognito.InvalidToken` with a
machine-readable ``reason``; :class:`~aiocognito._tokens.verifier.TokenVerifier` adds keys and routing.
Also the issuers Cognito uses for a pool (:func:`cognito_issuers`).
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .._errors import (
    ConfigurationError,
    InvalidToken,
    TokenExpired,
)

__all__ = [
    "INVALID_TOKEN_REASONS",
    "MAX_TOKEN_SIZE",
    "ParsedToken",
    "TokenUse",
    "check_claims",
    "cognito_issuers",
    "decode_payload",
    "parse_token",
]

#: Tokens longer than this (characters) are rejected before any decoding. Cognito tokens are 1-4 KiB.
MAX_TOKEN_SIZE = 16 * 1024

#: Every ``InvalidToken.reason`` that :meth:`TokenVerifier.verify` can raise (a custom check may raise
#: its own ``InvalidToken`` with a reason of its choosing).
INVALID_TOKEN_REASONS = frozenset(
    {
        "malformed",
        "too_large",
        "alg",
        "issuer",
        "unknown_kid",
        "signature",
        "expired",
        "not_yet_valid",
        "issued_in_future",
        "token_use",
        "audience",
        "client_id",
        "groups",
        "scope",
        "custom",
        "revoked",
    }
)

TokenUse = Literal["access", "id"]

_JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_POOL_ID = re.compile(r"([a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d+")


@dataclass(frozen=True)
class ParsedToken:
    """A token split into its parts, with its decoded header; nothing in it is verified yet."""

    kid: str
    signing_input: bytes = field(repr=False)
    payload_segment: str = field(repr=False)
    signature: bytes = field(repr=False)
    header: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def _b64url_decode(segment: str) -> bytes:
    """Decode one base64url segment already known to hold only alphabet characters."""
    if len(segment) % 4 == 1:
        raise ValueError("impossible base64url length")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


# One decoder for all calls: json.loads(..., parse_constant=...) would build a new one each time (~5 us).
_JSON = json.JSONDecoder(parse_constant=_reject_constant)


def _json_object(raw: bytes) -> dict[str, Any]:
    """Parse a UTF-8 JSON object; NaN/Infinity are refused. Raises ValueError (or RecursionError)."""
    value = _JSON.decode(raw.decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _show(value: object, limit: int = 80) -> str:
    """A short repr of a (non-secret) claim or header value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _pool_region(user_pool_id: str, region: str | None) -> str:
    match = _POOL_ID.fullmatch(user_pool_id) if isinstance(user_pool_id, str) else None
    if match is None:
        raise ConfigurationError(f"not a user pool id: {user_pool_id!r}")
    if region is None:
        return match.group(1)
    if not isinstance(region, str) or _REGION.fullmatch(region) is None:
        raise ConfigurationError(f"not a region: {region!r}")
    return region


def cognito_issuers(user_pool_id: str, region: str | None = None) -> tuple[str, str]:
    """The two issuers Cognito uses for a pool: ``(ORIGINAL, UPDATED)``.

    ``https://cognito-idp.{region}.amazonaws.com/{pool}`` and
    ``https://issuer-cognito-idp.{region}.amazonaws.com/{pool}`` (the one multi-Region replicated pools
    use), where region is the pool's primary region (its id's prefix); the China regions use
    ``amazonaws.com.cn``.

    Raises:
        ConfigurationError: not a pool id, or not a region.
    """
    region = _pool_region(user_pool_id, region)
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return (
        f"https://cognito-idp.{region}.{domain}/{user_pool_id}",
        f"https://issuer-cognito-idp.{region}.{domain}/{user_pool_id}",
    )


def parse_token(token: object) -> ParsedToken:
    """Split ``token`` and check its header: shape, size, base64url, JSON, ``alg`` and ``kid``.

    Raises:
        InvalidToken: reasons ``malformed``, ``too_large``, ``alg`` or ``unknown_kid`` (no kid).
    """
    if not isinstance(token, str):
        raise InvalidToken("malformed", "token is not a str")
    if len(token) > MAX_TOKEN_SIZE:
        raise InvalidToken("too_large", f"longer than {MAX_TOKEN_SIZE} characters")
    if _JWT_SHAPE.fullmatch(token) is None:
        raise InvalidToken("malformed", "not three base64url segments")
    header_segment, payload_segment, signature_segment = token.split(".")
    try:
        header = _json_object(_b64url_decode(header_segment))
        signature = _b64url_decode(signature_segment)
    except (ValueError, RecursionError):
        raise InvalidToken("malformed", "header or signature does not decode") from None
    # The header and payload are covered by the signature; the signature segment is not, so insist on
    # its one canonical spelling (no stray low bits) to keep tokens non-malleable.
    if _b64url_encode(signature) != signature_segment:
        raise InvalidToken("malformed", "signature is not canonical base64url")
    if header.get("alg") != "RS256":
        raise InvalidToken("alg", f"alg {_show(header.get('alg'))} is not RS256")
    if "crit" in header:
        raise InvalidToken("malformed", "unsupported crit header")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("unknown_kid", "header has no kid")
    return ParsedToken(
        kid,
        token[: len(header_segment) + 1 + len(payload_segment)].encode("ascii"),
        payload_segment,
        signature,
        header,
    )


def decode_payload(parsed: ParsedToken) -> dict[str, Any]:
    """Decode the claims of a token (not verified by this alone)."""
    try:
        return _json_object(_b64url_decode(parsed.payload_segment))
    except (ValueError, RecursionError):
        raise InvalidToken("malformed", "payload is not a JSON object") from None


def _time_claim(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidToken("malformed", f"claim {name} is missing or not a number")
    return float(value)


def check_claims(
    claims: Mapping[str, Any],
    *,
    token_use: TokenUse,
    issuer: str | Collection[str],
    client_ids: Collection[str],
    now: float,
    leeway: float,
    groups: Collection[str] | None = None,
    scopes: Collection[str] | None = None,
) -> None:
    """Check the time claims, ``iss``, ``token_use``, ``aud`` / ``client_id``, then the optional
    ``cognito:groups`` and ``scope`` requirements (each any-of), in that order.

    ``issuer`` is the accepted issuer or a collection of them. ``groups``: at least one of them must be
    in the ``cognito:groups`` list; ``scopes``: at least one of them must be in the space-separated
    ``scope`` claim (ID tokens have none, so they fail a scopes requirement).

    Raises:
        InvalidToken: see :data:`INVALID_TOKEN_REASONS`; ``TokenExpired`` for ``exp``.
    """
    exp = _time_claim(claims, "exp")
    iat = _time_claim(claims, "iat")
    nbf = _time_claim(claims, "nbf") if "nbf" in claims else None
    if now >= exp + leeway:
        raise TokenExpired(f"exp {exp:.0f} is not after now {now:.0f} (leeway {leeway:g}s)")
    if nbf is not None and now + leeway < nbf:
        raise InvalidToken("not_yet_valid", f"nbf {nbf:.0f} is after now {now:.0f} (leeway {leeway:g}s)")
    if iat > now + leeway:
        raise InvalidToken("issued_in_future", f"iat {iat:.0f} is after now {now:.0f} (leeway {leeway:g}s)")
    iss = claims.get("iss")
    if isinstance(issuer, str):
        if iss != issuer:
            raise InvalidToken("issuer", f"iss {_show(iss)} is not {issuer!r}")
    elif not isinstance(iss, str) or iss not in issuer:
        raise InvalidToken("issuer", f"iss {_show(iss)} is not an accepted issuer")
    if claims.get("token_use") != token_use:
        raise InvalidToken("token_use", f"token_use {_show(claims.get('token_use'))} is not {token_use!r}")
    if token_use == "id":
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not any(isinstance(a, str) and a in client_ids for a in audiences):
            raise InvalidToken("audience", f"aud {_show(aud)} is not an accepted client id")
    else:
        client_id = claims.get("client_id")
        if not isinstance(client_id, str) or client_id not in client_ids:
            raise InvalidToken("client_id", f"client_id {_show(client_id)} is not an accepted client id")
    if groups is not None:
        have = claims.get("cognito:groups")
        if not isinstance(have, list) or not any(isinstance(g, str) and g in groups for g in have):
            raise InvalidToken("groups", f"cognito:groups {_show(have)} holds none of {sorted(groups)}")
    if scopes is not None:
        scope = claims.get("scope")
        if not isinstance(scope, str) or not any(s in scopes for s in scope.split()):
            raise InvalidToken("scope", f"scope {_show(scope)} holds none of {sorted(scopes)}")
