"""Tokens: minting ID/access/refresh tokens, refreshing, rotation, revocation and sign-out.

ID and access tokens are RS256 JWTs with Cognito's claims (protocol doc section 6), signed with the pool's
keys and issued by ``{endpoint_url}/{user_pool_id}`` (the local issuer: verify them with that issuer and
``{endpoint_url}/{user_pool_id}/.well-known/jwks.json``). Refresh tokens are opaque random strings.

A PreTokenGeneration trigger (``_triggers``) changes the claims before they are signed: V1_0's
``claimsOverrideDetails`` the ID token's (string values), V2_0/V3_0's ``claimsAndScopeOverrideDetails``
both tokens' (any JSON value) and the access token's ``scope``; ``groupOverrideDetails`` replaces
``cognito:groups`` in both and ``cognito:roles`` / ``cognito:preferred_role`` in the ID token (present but
empty or null: no groups). Suppressing wins over adding. The claims Cognito does not let a trigger change
(``sub``, ``iss``, ``aud``, ``exp``, ``token_use``, ``cognito:username``, the access token's ``client_id``,
``username`` and ``scope``, ...) keep their values.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import TYPE_CHECKING, Any

from .. import errors
from . import _rules, _triggers
from ._session_config import max_token_sessions
from ._state import AccessRecord, PoolState, RefreshRecord, UserKey

if TYPE_CHECKING:
    from ._records import Client, User, UserPool

__all__ = ["TokenIssuer"]

_SCOPE = "aws.cognito.signin.user.admin"
_BOOLEAN_ATTRIBUTES = frozenset({"email_verified", "phone_number_verified"})
_NOT_IN_ID_TOKEN = frozenset({"sub"})
#: Claims a pre token generation trigger cannot add, change or suppress (groups: groupOverrideDetails).
_FIXED = frozenset(
    {"acr", "amr", "at_hash", "aud", "auth_time", "azp", "exp", "iat", "identities", "iss", "jti", "nbf"}
    | {"nonce", "origin_jti", "sub", "token_use", "event_id", "cognito:username"}
    | {"cognito:groups", "cognito:roles", "cognito:preferred_role"}
)
_FIXED_ACCESS = _FIXED | {"client_id", "username", "scope", "device_key", "version"}


def _uuid(state: PoolState) -> str:
    return str(uuid.UUID(bytes=state.random_bytes(16), version=4))


def _details(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.InvalidLambdaResponseException("Unrecognizable lambda output")
    return value


def _override(
    claims: dict[str, Any], details: dict[str, Any], fixed: frozenset[str], *, strings: bool
) -> None:
    """claimsToAddOrOverride, then claimsToSuppress (which wins), sparing the ``fixed`` claims."""
    added = _details(details.get("claimsToAddOrOverride"))
    suppressed = details.get("claimsToSuppress") or []
    if not isinstance(suppressed, list) or (strings and not all(isinstance(v, str) for v in added.values())):
        raise errors.InvalidLambdaResponseException("Unrecognizable lambda output")
    claims.update({k: v for k, v in added.items() if k not in fixed})
    for name in suppressed:
        if isinstance(name, str) and name not in fixed:
            claims.pop(name, None)


def _override_groups(id_claims: dict[str, Any], access_claims: dict[str, Any], value: object) -> None:
    """groupOverrideDetails: the groups of both tokens and the ID token's roles (empty or null: none)."""
    details = _details(value)
    groups, roles = details.get("groupsToOverride") or [], details.get("iamRolesToOverride") or []
    preferred = details.get("preferredRole")
    for claims, name, given in (
        (id_claims, "cognito:groups", groups),
        (access_claims, "cognito:groups", groups),
        (id_claims, "cognito:roles", roles),
        (id_claims, "cognito:preferred_role", preferred),
    ):
        if given:
            claims[name] = list(given) if isinstance(given, list) else given
        else:
            claims.pop(name, None)


def _customize(
    version: str, response: dict[str, Any], id_claims: dict[str, Any], access: dict[str, Any]
) -> None:
    """Apply a pre token generation trigger's response to the claims (V1_0 or V2_0/V3_0)."""
    if version == "1":
        details = _details(response.get("claimsOverrideDetails"))
        _override(id_claims, details, _FIXED, strings=True)
    else:
        details = _details(response.get("claimsAndScopeOverrideDetails"))
        _override(id_claims, _details(details.get("idTokenGeneration")), _FIXED, strings=False)
        access_details = _details(details.get("accessTokenGeneration"))
        _override(access, access_details, _FIXED_ACCESS, strings=False)
        scopes = access["scope"].split()
        added, suppressed = (
            access_details.get("scopesToAdd") or [],
            access_details.get("scopesToSuppress") or [],
        )
        if not isinstance(added, list) or not isinstance(suppressed, list):
            raise errors.InvalidLambdaResponseException("Unrecognizable lambda output")
        scopes += [str(s) for s in added if str(s) not in scopes]
        access["scope"] = " ".join(s for s in scopes if s not in suppressed)
        if not access["scope"]:
            del access["scope"]
    if "groupOverrideDetails" in details:
        _override_groups(id_claims, access, details["groupOverrideDetails"])


class TokenIssuer:
    """Issues and checks the pool's tokens."""

    def __init__(self, state: PoolState) -> None:
        self.state = state
        #: origin_jti -> the OAuth scopes of a managed-login sign-in, so its refreshes (token endpoint or
        #: REFRESH_TOKEN_AUTH) keep the access token's ``scope`` and the userInfo endpoint can check it
        self.oauth_scopes: dict[str, tuple[str, ...]] = {}

    def __repr__(self) -> str:
        return (
            f"<TokenIssuer access={len(self.state.access_tokens)} refresh={len(self.state.refresh_tokens)}>"
        )

    # ----- minting -------------------------------------------------------------------------------------
    def authentication_result(
        self,
        pool: UserPool,
        client: Client,
        user: User,
        *,
        device_key: str | None,
        auth_time: int | None = None,
        origin_jti: str | None = None,
        with_refresh: bool = True,
        source: str | None = None,
        scopes: tuple[str, ...] | None = None,
        nonce: str | None = None,
    ) -> tuple[dict[str, Any], str | None]:
        """``(AuthenticationResult, refresh token or None)`` for a finished sign-in or a refresh.

        ``source`` is the pre token generation trigger's (default: TokenGeneration_RefreshTokens for a
        refresh, that is with ``origin_jti``, else TokenGeneration_Authentication). ``scopes`` are the
        OAuth scopes of a managed-login sign-in (the access token's ``scope``; its refreshes keep them) and
        ``nonce`` the authorize request's, put in the ID token with ``at_hash`` as OIDC asks.
        """
        state = self.state
        now = state.now()
        iat = int(now)
        auth_time = iat if auth_time is None else auth_time
        refreshing = origin_jti is not None
        origin_jti = origin_jti or _uuid(state)
        if scopes is not None:
            self.oauth_scopes[origin_jti] = tuple(scopes)
        scopes = self.oauth_scopes.get(origin_jti)
        access_seconds, id_seconds, refresh_seconds = _rules.token_lifetimes(client)
        key: UserKey = (pool.id, user.sub)
        groups = _rules.group_names(pool, user)
        common: dict[str, Any] = {"sub": user.sub, "iss": state.issuer(pool.id), "origin_jti": origin_jti}
        event_id = _uuid(state)
        access_claims: dict[str, Any] = {
            **common,
            "client_id": client.id,
            "event_id": event_id,
            "token_use": "access",
            "scope": " ".join(scopes) if scopes is not None else _SCOPE,
            "auth_time": auth_time,
            "exp": iat + access_seconds,
            "iat": iat,
            "jti": _uuid(state),
            "username": user.username,
        }
        if groups:
            access_claims["cognito:groups"] = groups
        if device_key:
            access_claims["device_key"] = device_key
        id_claims: dict[str, Any] = {**common, "aud": client.id, "event_id": event_id, "token_use": "id"}
        if nonce is not None:
            id_claims["nonce"] = nonce
        readable = client.config.get("ReadAttributes")
        for name, value in _rules.attributes(user).items():
            if name in _NOT_IN_ID_TOKEN or (readable and name not in readable):
                continue
            id_claims[name] = value.lower() == "true" if name in _BOOLEAN_ATTRIBUTES else value
        if isinstance(id_claims.get("identities"), str):  # a JSON list, as Cognito's ID tokens carry it
            try:
                id_claims["identities"] = json.loads(id_claims["identities"])
            except ValueError:
                pass
        if groups:
            id_claims["cognito:groups"] = groups
        roles = [g.role_arn for g in map(pool.groups.get, groups) if g is not None and g.role_arn]
        if roles:
            id_claims["cognito:roles"], id_claims["cognito:preferred_role"] = roles, roles[0]
        id_claims.update(
            {
                "cognito:username": user.username,
                "auth_time": auth_time,
                "exp": iat + id_seconds,
                "iat": iat,
                "jti": _uuid(state),
            }
        )
        if source is None:
            source = "TokenGeneration_RefreshTokens" if refreshing else "TokenGeneration_Authentication"
        customized = _triggers.token_generation(
            state,
            pool,
            user,
            client.id,
            source,
            {
                "groupsToOverride": groups,
                "iamRolesToOverride": roles,
                "preferredRole": roles[0] if roles else None,
            },
            access_claims["scope"].split(),
        )
        if customized is not None:
            _customize(*customized, id_claims, access_claims)
        keys = state.keys.for_pool(pool.id)
        access_token = keys.sign(access_claims, "access")
        if scopes is not None:  # OIDC: the left half of the access token's SHA-256, base64url
            half = hashlib.sha256(access_token.encode("ascii")).digest()[:16]
            id_claims["at_hash"] = base64.urlsafe_b64encode(half).rstrip(b"=").decode("ascii")
        id_token = keys.sign(id_claims, "id")
        state.access_tokens[access_token] = AccessRecord(
            user=key,
            username=user.username,
            client_id=client.id,
            origin_jti=origin_jti,
            expires_at=now + access_seconds,
        )
        result: dict[str, Any] = {
            "AccessToken": access_token,
            "ExpiresIn": access_seconds,
            "TokenType": "Bearer",
            "IdToken": id_token,
        }
        refresh_token = None
        if with_refresh:
            refresh_token = state.token(96)
            state.refresh_tokens[refresh_token] = RefreshRecord(
                user=key,
                username=user.username,
                client_id=client.id,
                origin_jti=origin_jti,
                auth_time=auth_time,
                expires_at=now + refresh_seconds,
                device_key=device_key,
                last_used_at=now,
            )
            result["RefreshToken"] = refresh_token
            self._evict_beyond_limit(pool, key)
        return result, refresh_token

    def _evict_beyond_limit(self, pool: UserPool, user: UserKey) -> None:
        """With session tracking, a user keeps at most MaxPerUser token sessions: the least recently used go."""
        limit = max_token_sessions(pool)
        if limit is None:
            return
        now = self.state.now()
        last_used: dict[str, float] = {}
        for record in self.state.refresh_tokens.values():
            if record.user == user and not record.revoked and now < record.expires_at:
                last_used[record.origin_jti] = max(last_used.get(record.origin_jti, 0.0), record.last_used_at)
        for origin_jti in sorted(last_used, key=last_used.__getitem__)[: max(0, len(last_used) - limit)]:
            self.revoke_family(origin_jti)

    # ----- checking ------------------------------------------------------------------------------------
    def check_access_token(self, token: object) -> AccessRecord:
        """The record of a valid access token; NotAuthorizedException when unknown, revoked or expired."""
        record = self.state.access_tokens.get(token) if isinstance(token, str) else None
        if record is None:
            raise errors.NotAuthorizedException("Invalid Access Token")
        if record.revoked:
            raise errors.NotAuthorizedException("Access Token has been revoked")
        if self.state.now() >= record.expires_at:
            raise errors.NotAuthorizedException("Access Token has expired")
        return record

    def refresh_record(self, token: object, client_id: str, *, device_key: str | None) -> RefreshRecord:
        """The record of a usable refresh token for ``client_id``.

        Raises:
            NotAuthorizedException: unknown, revoked, expired, issued to another client, or the sign-in
                was device-tracked and ``device_key`` is not that device, or that device was forgotten
                since ("Invalid Refresh Token").
        """
        record = self.state.refresh_tokens.get(token) if isinstance(token, str) else None
        if record is None or record.client_id != client_id:
            raise errors.NotAuthorizedException("Invalid Refresh Token")
        if record.revoked:
            raise errors.NotAuthorizedException("Refresh Token has been revoked")
        if self.state.now() >= record.expires_at:
            raise errors.NotAuthorizedException("Refresh Token has expired")
        if record.device_key is not None:
            device = self.state.devices.get(record.device_key)  # ForgetDevice removes it
            if device_key != record.device_key or device is None or device.user != record.user:
                raise errors.NotAuthorizedException("Invalid Refresh Token")
        record.last_used_at = self.state.now()
        return record

    # ----- revoking ------------------------------------------------------------------------------------
    def revoke_family(self, origin_jti: str) -> None:
        """Revoke every refresh and access token of one sign-in (``origin_jti``)."""
        for record in self.state.refresh_tokens.values():
            if record.origin_jti == origin_jti:
                record.revoked = True
        for access in self.state.access_tokens.values():
            if access.origin_jti == origin_jti:
                access.revoked = True

    def sign_out_user(self, user: UserKey) -> None:
        """GlobalSignOut: revoke all of the user's refresh and access tokens, on every client."""
        for record in self.state.refresh_tokens.values():
            if record.user == user:
                record.revoked = True
        for access in self.state.access_tokens.values():
            if access.user == user:
                access.revoked = True
