"""The tokens of one sign-in: ID, access and refresh token, their expiry, and their unverified claims.

Expiry is measured the skew-safe way: ``ExpiresIn`` (seconds, from the server) is added to a *monotonic*
clock reading taken when the answer arrived, so neither a wrong local wall clock nor a server whose clock
differs from ours moves the refresh point. The wall-clock receipt time is kept only to carry the expiry
across a process restart (:meth:`TokenSet.from_dict`).

Claims are decoded **without verifying the signature**: they are for routing and display (``username``,
``sub``, ``device_key``), never for authorization. Verify tokens with the JWKS before trusting them.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ._errors import ProtocolError

__all__ = ["TokenSet", "decode_claims"]

#: Used only when the server sends no ExpiresIn and the access token has no usable exp/iat (never seen).
_DEFAULT_LIFETIME = 3600


def decode_claims(token: str) -> dict[str, Any]:
    """Return the payload of a JWT without verifying it; ``{}`` when ``token`` is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


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
            ProtocolError: the result has no ID or access token.
        """
        access = result.get("AccessToken")
        id_token = result.get("IdToken")
        if not isinstance(access, str) or not access or not isinstance(id_token, str) or not id_token:
            raise ProtocolError("AuthenticationResult without an AccessToken and an IdToken")
        refresh = result.get("RefreshToken")
        if not isinstance(refresh, str) or not refresh:
            refresh = previous.refresh_token if previous is not None else None
        expires_in = result.get("ExpiresIn")
        if not isinstance(expires_in, int) or isinstance(expires_in, bool) or expires_in <= 0:
            expires_in = _lifetime_from_claims(decode_claims(access))
        token_type = result.get("TokenType")
        return cls(
            id_token=id_token,
            access_token=access,
            refresh_token=refresh,
            expires_in=expires_in,
            received_at=received_at,
            received_monotonic=received_monotonic,
            token_type=token_type if isinstance(token_type, str) and token_type else "Bearer",
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


def _lifetime_from_claims(claims: Mapping[str, Any]) -> int:
    """Lifetime from the token's own exp - iat (both server clock, so skew cancels out)."""
    exp, iat = claims.get("exp"), claims.get("iat")
    if isinstance(exp, int) and isinstance(iat, int) and exp > iat:
        return exp - iat
    return _DEFAULT_LIFETIME
