"""REFRESH_TOKEN_AUTH, and the new tokens for a refresh token (shared with GetTokensFromRefreshToken).

With rotation on, InitiateAuth refuses to refresh (GetTokensFromRefreshToken, in ``_token_ops``, is the way).
SECRET_HASH is checked over the user's real username (``cognito:username``), not an alias; a device-tracked
sign-in needs its DEVICE_KEY.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import errors
from . import _rules
from ._auth_types import Response
from ._issuer import TokenIssuer
from ._lookups import Lookups

if TYPE_CHECKING:
    from ._records import Client, UserPool

__all__ = ["RefreshAuth"]


class RefreshAuth:
    """Refreshes tokens for a refresh-token record whose user still exists and is enabled."""

    def __init__(self, issuer: TokenIssuer, lookups: Lookups) -> None:
        self.issuer = issuer
        self.lookups = lookups

    def __repr__(self) -> str:
        return "<RefreshAuth>"

    def refreshed_result(self, pool: Any, client: Any, record: Any, *, with_refresh: bool) -> dict[str, Any]:
        """New tokens for a refresh-token record (the user must still exist and be enabled)."""
        found = self.lookups.user_by_key(record.user)
        if found is None:
            raise errors.NotAuthorizedException("Invalid Refresh Token")
        if not found[1].enabled:
            raise errors.NotAuthorizedException("User is disabled.")
        result, _ = self.issuer.authentication_result(
            pool,
            client,
            found[1],
            device_key=record.device_key,
            auth_time=record.auth_time,
            origin_jti=record.origin_jti,
            with_refresh=with_refresh,
        )
        return result

    def initiate(self, pool: UserPool, client: Client, auth: Mapping[str, Any]) -> Response:
        """InitiateAuth with AuthFlow REFRESH_TOKEN_AUTH (or REFRESH_TOKEN)."""
        _rules.require(auth, "REFRESH_TOKEN", where="AuthParameters")
        if _rules.rotation(client)[0]:
            raise errors.InvalidParameterException(
                "Refresh token rotation is enabled for this app client: use GetTokensFromRefreshToken"
            )
        record = self.issuer.refresh_record(
            auth["REFRESH_TOKEN"], client.id, device_key=auth.get("DEVICE_KEY") or None
        )
        # SECRET_HASH over the user's real username (cognito:username), not an alias.
        _rules.check_secret_hash(client, record.username, auth.get("SECRET_HASH"))
        result = self.refreshed_result(pool, client, record, with_refresh=False)
        return {"ChallengeParameters": {}, "AuthenticationResult": result}
