"""Token operations: GetTokensFromRefreshToken (rotation), RevokeToken, GlobalSignOut, GetUser.

* GetTokensFromRefreshToken takes the raw ClientSecret. With rotation on it returns a new refresh token
  and the old one stops working after RetryGracePeriodSeconds (0: at once); using it later gives
  RefreshTokenReuseException. A device-tracked sign-in needs its DeviceKey here as in REFRESH_TOKEN_AUTH.
* RevokeToken revokes a refresh token and every token issued from the same sign-in; only refresh
  tokens are accepted, and only by the client that issued them.
* GlobalSignOut / AdminUserGlobalSignOut revoke all of the user's tokens; GetUser (and every operation
  called with an AccessToken) then answers "Access Token has been revoked".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import errors
from . import _rules
from ._issuer import TokenIssuer
from ._lookups import Lookups
from ._mfa import MfaService
from ._refresh_auth import RefreshAuth
from ._state import PoolState

__all__ = ["TokenOperations"]


class TokenOperations:
    """The token-management operations of the local pool."""

    def __init__(
        self, state: PoolState, issuer: TokenIssuer, lookups: Lookups, refresh: RefreshAuth, mfa: MfaService
    ) -> None:
        self.state = state
        self.issuer = issuer
        self.lookups = lookups
        self.refresh = refresh  # the new tokens for a refresh token, as REFRESH_TOKEN_AUTH makes them
        self.mfa = mfa  # GetUser's MFA settings

    def __repr__(self) -> str:
        return "<TokenOperations>"

    def get_tokens_from_refresh_token(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _rules.require(params, "RefreshToken", "ClientId")
        pool, client = self.lookups.client(params["ClientId"])
        _rules.check_client_secret(client, params.get("ClientSecret"))
        _rules.check_flow(client, "REFRESH_TOKEN_AUTH")
        token = params["RefreshToken"]
        rotating, grace = _rules.rotation(client)
        known = self.state.refresh_tokens.get(token) if isinstance(token, str) else None
        now = self.state.now()
        if known is not None and known.rotated_at is not None and not known.revoked:
            if grace == 0 or now - known.rotated_at > grace:
                raise errors.RefreshTokenReuseException("The refresh token has already been used.")
        record = self.issuer.refresh_record(token, client.id, device_key=params.get("DeviceKey") or None)
        result = self.refresh.refreshed_result(pool, client, record, with_refresh=rotating)
        if rotating and record.rotated_at is None:
            record.rotated_at = now
        return {"AuthenticationResult": result}

    def revoke_token(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _rules.require(params, "Token", "ClientId")
        _pool, client = self.lookups.client(params["ClientId"])
        _rules.check_client_secret(client, params.get("ClientSecret"))
        if not _rules.revocation_enabled(client):
            raise errors.UnsupportedOperationException("Token revocation is not enabled for this app client.")
        token = params["Token"]
        if token in self.state.access_tokens or (isinstance(token, str) and token.count(".") == 2):
            raise errors.UnsupportedTokenTypeException("Only refresh tokens can be revoked.")
        record = self.state.refresh_tokens.get(token)
        if record is None:
            return {}  # unknown or already gone: revoking is idempotent
        if record.client_id != client.id:
            raise errors.UnauthorizedException("The token was not issued to this app client.")
        self.issuer.revoke_family(record.origin_jti)
        return {}

    def global_sign_out(self, params: Mapping[str, Any], *, admin: bool) -> dict[str, Any]:
        if admin:
            pool, user = self.lookups.admin_user(params)
            key = (pool.id, user.sub)
        else:
            _rules.require(params, "AccessToken")
            pool, user, key = self.lookups.token_user(params["AccessToken"])
        self.issuer.sign_out_user(key)
        return {}

    def get_user(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _rules.require(params, "AccessToken")
        pool, user, _key = self.lookups.token_user(params["AccessToken"])
        factors = self.mfa.enabled_factors(pool, user)
        preferred = self.mfa.preferred_factor(pool, user)
        response: dict[str, Any] = {
            "Username": user.username,
            "UserAttributes": user.attribute_list(),
            "UserMFASettingList": factors,
        }
        if preferred:
            response["PreferredMfaSetting"] = preferred
        if user.mfa_options:
            response["MFAOptions"] = [dict(o) for o in user.mfa_options]
        return response
