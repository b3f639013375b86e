"""The tokens of one sign-in: ID, access and refresh token, their expiry, and their unverified claims.

Expiry is measured the skew-safe way: ``ExpiresIn`` (seconds, from the server) is added to a *monotonic*
clock reading taken when the answer arrived, so neither a wrong local wall clock nor a server whose clock
differs from ours moves the refresh point. The wall-clock receipt time is kept only to carry the expiry
across a process restart (:meth:`TokenSet.from_dict`).

Claims are decoded **without verifying the signature**: they are for routing and display (``username``,
``sub``, ``device_key``), never for authorization. Verify tokens with the JWKS before trusting them.

What the server sends is checked before it counts as a sign-in (:func:`check_authentication_result`):
the ID and access tokens must be JWTs, ``ExpiresIn`` a whole number of seconds from 1 to one day (Cognito's
longest token lifetime), ``RefreshToken``, ``TokenType`` and ``NewDeviceMetadata`` of the right types.
Anything else is a :class:`~aiocognito.ProtocolError`, never a session that expired before it started or
lasts 10^22 years. Without ``ExpiresIn`` the lifetime is the access token's own ``exp - iat`` (server clock
on both sides), with the same bounds.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .._errors import ProtocolError

__all__ = ["MAX_TOKEN_LIFETIME", "TokenSet", "check_authentication_result", "decode_claims"]

#: The longest access/ID token lifetime Cognito allows (1 day). Its shortest is 5 minutes, but emulators
#: and tests use seconds, so any lifetime from 1 second up to this is taken.
MAX_TOKEN_LIFETIME = 86_400


def decode_claims(token: str) -> dict[str, Any]:
    """Return the payload of a JWT without verifying it; ``{}`` when ``token`` is not a JWT."""
    claims = _payload(token)
    return claims if claims is not None else {}


def _payload(token: str) -> dict[str, Any] | None:
    """The unverified payload of a JWT, or None when ``token`` is not three segments with a JSON object."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        return None
    return claims if isinstance(claims, dict) else None


@dataclass(frozen=True)
class TokenSet:
    """ID, access and (optionally) refresh token from one ``AuthenticationResult``.

    ``received_at`` is the local wall clock (epoch seconds) and ``received_monotonic`` the monotonic clock
    when the answer arrived; ``expires_in`` is the server's ``ExpiresIn``. The repr shows only the username
    and the expiry.
    """

    id_token: str = field(repr=False)
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: int
    received_at: float
    received_monotonic: float
    token_type: str = "Bearer"
    id_claims: dict[str, Any] = field(init=False, repr=False, compare=False)
    access_claims: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id_claims", decode_claims(self.id_token))
        object.__setattr__(self, "access_claims", decode_claims(self.access_token))

    @classmethod
    def from_authentication_result(
        cls,
        result: Mapping[str, Any],
        *,
        received_at: float,
        received_monotonic: float,
        previous: TokenSet | None = None,
    ) -> TokenSet:
        """Build a token set from Cognito's ``AuthenticationResult``.

        A refresh answer carries no ``RefreshToken`` (unless rotation is on); the one of ``previous`` is kept.

        Raises:
            ProtocolError: the result is malformed (see :func:`check_authentication_result`).
        """
        expires_in = check_authentication_result(result)
        refresh = result.get("RefreshToken") or (previous.refresh_token if previous is not None else None)
        return cls(
            id_token=result["IdToken"],
            access_token=result["AccessToken"],
            refresh_token=refresh,
            expires_in=expires_in,
            received_at=received_at,
            received_monotonic=received_monotonic,
            token_type=result.get("TokenType") or "Bearer",
        )

    # -- expiry ------------------------------------------------------------------------------------------

    def seconds_left(self, monotonic_now: float) -> float:
        """Seconds until the tokens expire, by the monotonic clock (negative once expired)."""
        return self.received_monotonic + self.expires_in - monotonic_now

    def needs_refresh(self, monotonic_now: float, margin: float) -> bool:
        """True when fewer than ``margin`` seconds are left."""
        return self.seconds_left(monotonic_now) <= margin

    @property
    def expires_at(self) -> datetime:
        """Estimated expiry on the local wall clock (UTC)."""
        return datetime.fromtimestamp(self.received_at, timezone.utc) + timedelta(seconds=self.expires_in)

    # -- claims ------------------------------------------------------------------------------------------

    @property
    def username(self) -> str | None:
        """The real (internal) username: access-token ``username``, else ID-token ``cognito:username``."""
        for value in (self.access_claims.get("username"), self.id_claims.get("cognito:username")):
            if isinstance(value, str) and value:
                return value
        return None

    @property
    def sub(self) -> str | None:
        """The user's ``sub`` (stable user id)."""
        value = self.id_claims.get("sub", self.access_claims.get("sub"))
        return value if isinstance(value, str) else None

    @property
    def device_key(self) -> str | None:
        """The ``device_key`` claim of the access token (the device these tokens are bound to), if any."""
        value = self.access_claims.get("device_key")
        return value if isinstance(value, str) and value else None

    # -- persistence -------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for a TokenStore. It holds the tokens themselves: store it like a password."""
        return {
            "id_token": self.id_token,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": self.expires_in,
            "received_at": self.received_at,
            "token_type": self.token_type,
        }

    @classmethod
    def from_access_token(
        cls,
        access_token: str,
        *,
        wall_now: float,
        monotonic_now: float,
        id_token: str = "",
        refresh_token: str | None = None,
    ) -> TokenSet:
        """A token set around an access token (a verified bearer token, say), expiring at its ``exp``.

        ``id_token`` is ``""`` when there is none.

        Raises:
            ValueError: not a JWT with an ``exp`` in the future (at most a day away).
        """
        exp = decode_claims(access_token).get("exp")
        if not isinstance(exp, int) or isinstance(exp, bool):
            raise ValueError("the access token has no exp")
        lifetime = exp - int(wall_now)
        if not 0 < lifetime <= MAX_TOKEN_LIFETIME:
            raise ValueError("the access token's exp is not within a day from now")
        return cls(
            id_token=id_token,
            access_token=access_token,
            refresh_token=refresh_token,
            expires_in=lifetime,
            received_at=wall_now,
            received_monotonic=monotonic_now,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, wall_now: float, monotonic_now: float) -> TokenSet:
        """Rebuild a saved token set, placing its receipt time on this process's monotonic clock.

        The time elapsed since the save is measured on the wall clock (the only clock that survives a
        restart); a wall clock that went backwards counts as no time elapsed.

        Raises:
            ValueError: ``data`` is not a saved token set.
        """
        try:
            received_at = float(data["received_at"])
            expires_in = int(data["expires_in"])
            id_token = data["id_token"]
            access_token = data["access_token"]
            refresh_token = data.get("refresh_token")
            token_type = data.get("token_type") or "Bearer"
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError("not a saved token set") from exc
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise ValueError("not a saved token set")
        if not 0 < expires_in <= MAX_TOKEN_LIFETIME:
            raise ValueError("not a saved token set")
        if refresh_token is not None and not isinstance(refresh_token, str):
            raise ValueError("not a saved token set")
        elapsed = max(0.0, wall_now - received_at)
        return cls(
            id_token=id_token,
            access_token=access_token,
            refresh_token=refresh_token,
            expires_in=expires_in,
            received_at=received_at,
            received_monotonic=monotonic_now - elapsed,
            token_type=str(token_type),
        )

    def __repr__(self) -> str:
        return f"TokenSet(username={self.username!r}, expires_at={self.expires_at.isoformat()!r})"


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_authentication_result(result: Mapping[str, Any]) -> int:
    """Check Cognito's ``AuthenticationResult`` and return the tokens' lifetime in seconds.

    Raises:
        ProtocolError: an ID or access token that is not a JWT, an ``ExpiresIn`` that is not a whole number
            of seconds from 1 to :data:`MAX_TOKEN_LIFETIME` (or, without one, an access token whose
            ``exp - iat`` is not), or ``RefreshToken``/``TokenType``/``NewDeviceMetadata`` of the wrong type.
            The message names the field, never a token.
    """
    if not isinstance(result, Mapping):
        raise ProtocolError("AuthenticationResult is not an object")
    claims: dict[str, Any] = {}
    for name in ("AccessToken", "IdToken"):
        token = result.get(name)
        decoded = _payload(token) if isinstance(token, str) else None
        if decoded is None:
            raise ProtocolError(f"AuthenticationResult has no {name} that is a JWT")
        if name == "AccessToken":
            claims = decoded
    refresh, token_type = result.get("RefreshToken"), result.get("TokenType")
    if refresh is not None and not isinstance(refresh, str):
        raise ProtocolError("AuthenticationResult has a RefreshToken that is not a string")
    if token_type is not None and not isinstance(token_type, str):
        raise ProtocolError("AuthenticationResult has a TokenType that is not a string")
    device = result.get("NewDeviceMetadata")
    if device is not None and not (
        isinstance(device, Mapping)
        and all(isinstance(device.get(k), str) and device.get(k) for k in ("DeviceKey", "DeviceGroupKey"))
    ):
        raise ProtocolError(
            "AuthenticationResult has a NewDeviceMetadata without DeviceKey and DeviceGroupKey"
        )
    expires_in = result.get("ExpiresIn")
    if expires_in is None:
        exp, iat = claims.get("exp"), claims.get("iat")
        if not (isinstance(exp, int) and isinstance(iat, int) and _is_whole(exp) and _is_whole(iat)):
            raise ProtocolError("AuthenticationResult has no ExpiresIn, and the access token no exp and iat")
        expires_in, what = exp - iat, "the access token's exp - iat"
    else:
        what = "ExpiresIn"
    if not _is_whole(expires_in) or not 0 < expires_in <= MAX_TOKEN_LIFETIME:
        shown = repr(expires_in) if _is_whole(expires_in) else type(expires_in).__name__
        raise ProtocolError(
            f"{what} is not a token lifetime of 1 to {MAX_TOKEN_LIFETIME} seconds ({shown[:30]})"
        )
    return int(expires_in)
