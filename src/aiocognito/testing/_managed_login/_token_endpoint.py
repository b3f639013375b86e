"""``/oauth2/token``, ``/oauth2/revoke`` and ``/oauth2/userInfo``: the app's back-channel, as Cognito answers it.

Client authentication (token and revoke): ``client_secret_basic`` (``Authorization: Basic
base64(client_id:client_secret)``) or ``client_secret_post`` (``client_id`` and ``client_secret`` in the
form); a public client sends only ``client_id``. An unknown client, a client of another user pool, a
wrong or missing secret, or a secret sent for a client without one: ``invalid_client``.

The token endpoint's refusals are HTTP 400 with ``{"error": ...}`` (Cognito's table): ``invalid_request``
(a parameter missing), ``invalid_client``, ``invalid_grant`` (a code used, expired, unknown or issued
to another client; a PKCE verifier that does not match; a revoked, expired or unknown refresh token),
``unauthorized_client`` (the flow is not allowed for the client; a ``redirect_uri`` other than the
authorize request's, with the description ``invalid_redirect``), ``invalid_scope`` and
``unsupported_grant_type``. A code is removed when it is presented, whatever follows, so it can never be
tried twice.

Tokens are the pool's own (``TokenIssuer``): the refresh token goes into the same records as an API
sign-in's, so REFRESH_TOKEN_AUTH, RevokeToken, GlobalSignOut and ListUserSessions see it. A code's
tokens run the PreTokenGeneration trigger as ``TokenGeneration_HostedAuth``; the ID token (only with
the ``openid`` scope) carries the authorize request's ``nonce``. ``client_credentials`` tokens are
GetClientToken's (``sub`` and ``client_id`` the client id, the granted custom scopes, no user).

The revoke endpoint answers ``invalid_request`` (no token, or revocation off for the client),
``unsupported_token_type`` (not a refresh token) and ``invalid_client`` (HTTP 401); an unknown or
already revoked token, or one issued to another client, is answered 200 and left alone. The userInfo
endpoint wants ``Authorization: Bearer`` with a valid access token that has the ``openid`` scope: none
is HTTP 400 ``invalid_request``, a bad one HTTP 401 ``invalid_token`` (both in ``WWW-Authenticate``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ... import errors
from .. import _rules
from .._api import Context
from .._api.tokens import client_access_token
from .._issuer import TokenIssuer
from .._lookups import Lookups
from .._refresh_auth import RefreshAuth
from .._state import PoolState
from ._errors import OAuthError
from ._grants import GrantStore, pkce_matches

if TYPE_CHECKING:
    from .._records import Client, UserPool

__all__ = ["TokenEndpoint", "HOSTED_AUTH_SOURCE"]

HOSTED_AUTH_SOURCE = "TokenGeneration_HostedAuth"
_GRANTS = ("authorization_code", "refresh_token", "client_credentials")
_BAD_TOKEN = "Access token is expired, disabled, or deleted, or the user has globally signed out."
_BOOLEAN_ATTRIBUTES = frozenset({"email_verified", "phone_number_verified"})


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` of an ``Authorization: Basic`` header (None: no such header)."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "Client authentication failed") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError("invalid_client", "Client authentication failed")
    return unquote(client_id), unquote(secret)  # RFC 6749 2.3.1: form-encoded before base64


class TokenEndpoint:
    """Answers the token, revoke and userInfo endpoints of one local pool's domains."""

    def __init__(
        self,
        state: PoolState,
        issuer: TokenIssuer,
        lookups: Lookups,
        refresh: RefreshAuth,
        grants: GrantStore,
        context: Context,
    ) -> None:
        self.state = state
        self.issuer = issuer
        self.lookups = lookups
        self.refresh = refresh
        self.grants = grants
        self.context = context

    def __repr__(self) -> str:
        return "<TokenEndpoint>"

    # ----- client authentication -------------------------------------------------------------------------
    def authenticate(
        self, pool: UserPool, form: Mapping[str, str], authorization: str | None, *, status: int = 400
    ) -> Client:
        """The app client the request authenticates as (``invalid_client`` otherwise)."""
        basic = _basic_credentials(authorization)
        if basic is not None:
            client_id, secret = basic
            if form.get("client_id") not in (None, "", client_id):
                raise OAuthError("invalid_client", "Client authentication failed", status=status)
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        client = pool.clients.get(client_id) if client_id else None
        if client is None:
            raise OAuthError("invalid_client", "Client authentication failed", status=status)
        values = client.secret_values()
        if values:
            if not secret or not any(hmac.compare_digest(v.encode(), secret.encode()) for v in values):
                raise OAuthError("invalid_client", "Client authentication failed", status=status)
        elif secret:
            raise OAuthError("invalid_client", "Client is not configured with a secret", status=status)
        return client

    # ----- /oauth2/token ---------------------------------------------------------------------------------
    def token(self, pool: UserPool, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        """The token endpoint's JSON answer; raises :class:`OAuthError`."""
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant not in _GRANTS:
            raise OAuthError("unsupported_grant_type", "grant_type must be one of " + ", ".join(_GRANTS))
        client = self.authenticate(pool, form, authorization)
        try:
            if grant == "authorization_code":
                return self._authorization_code(pool, client, form)
            if grant == "refresh_token":
                return self._refresh_token(pool, client, form)
            return self._client_credentials(pool, client, form)
        except errors.ServiceError as exc:  # a trigger refused, the user went away, ...
            raise OAuthError("invalid_request", exc.message) from None

    @staticmethod
    def _allows(client: Client, flow: str) -> bool:
        config = client.config
        return bool(config.get("AllowedOAuthFlowsUserPoolClient")) and flow in (
            config.get("AllowedOAuthFlows") or []
        )

    def _authorization_code(self, pool: UserPool, client: Client, form: Mapping[str, str]) -> dict[str, Any]:
        code, redirect_uri = form.get("code"), form.get("redirect_uri")
        if not code or not redirect_uri:
            raise OAuthError("invalid_request", "code and redirect_uri are required")
        if not self._allows(client, "code"):
            raise OAuthError("unauthorized_client", "Client is not allowed for code grant flow")
        record = self.grants.redeem(code, self.state.now())
        if record is None or record.client_id != client.id or record.user[0] != pool.id:
            raise OAuthError(
                "invalid_grant", "Authorization code has been consumed already or does not exist"
            )
        if redirect_uri != record.redirect_uri:
            raise OAuthError("unauthorized_client", "invalid_redirect")
        if record.code_challenge is not None:
            verifier = form.get("code_verifier")
            if not verifier:
                raise OAuthError("invalid_request", "code_verifier is required")
            if not pkce_matches(record.code_challenge, record.code_challenge_method or "S256", verifier):
                raise OAuthError("invalid_grant", "The code_verifier does not match the code_challenge")
        found = self.lookups.user_by_key(record.user)
        if found is None or not found[1].enabled:
            raise OAuthError("invalid_grant", "The user is no longer able to sign in")
        result, _refresh = self.issuer.authentication_result(
            pool,
            client,
            found[1],
            device_key=None,
            auth_time=record.auth_time,
            source=HOSTED_AUTH_SOURCE,
            scopes=record.scopes,
            nonce=record.nonce,
        )
        return self._answer(result, record.scopes)

    def _refresh_token(self, pool: UserPool, client: Client, form: Mapping[str, str]) -> dict[str, Any]:
        token = form.get("refresh_token")
        if not token:
            raise OAuthError("invalid_request", "refresh_token is required")
        if not self._can_refresh(client):
            raise OAuthError("unauthorized_client", "Client is not allowed for refreshing tokens")
        rotating, grace = _rules.rotation(client)
        known = self.state.refresh_tokens.get(token)
        now = self.state.now()
        if known is not None and known.rotated_at is not None and not known.revoked:
            if grace == 0 or now - known.rotated_at > grace:
                raise OAuthError("invalid_grant", "The refresh token has already been used")
        try:
            record = self.issuer.refresh_record(token, client.id, device_key=None)
            result = self.refresh.refreshed_result(pool, client, record, with_refresh=rotating)
        except (errors.NotAuthorizedException, errors.UserNotFoundException) as exc:
            raise OAuthError("invalid_grant", exc.message) from None
        if rotating and record.rotated_at is None:
            record.rotated_at = now
        return self._answer(result, self.issuer.oauth_scopes.get(record.origin_jti))

    @staticmethod
    def _can_refresh(client: Client) -> bool:
        try:
            _rules.check_flow(client, "REFRESH_TOKEN_AUTH")
        except errors.InvalidParameterException:
            return False
        return True

    def _client_credentials(self, pool: UserPool, client: Client, form: Mapping[str, str]) -> dict[str, Any]:
        if not client.secrets or not self._allows(client, "client_credentials"):
            raise OAuthError("unauthorized_client", "Client is not allowed for the client_credentials flow")
        custom = {
            f"{identifier}/{scope['ScopeName']}"
            for identifier, server in pool.resource_servers.items()
            for scope in server.get("Scopes", [])
        }
        allowed = [s for s in client.config.get("AllowedOAuthScopes") or [] if s in custom]
        requested = (form.get("scope") or "").split()
        for scope in requested:
            if scope not in allowed:
                raise OAuthError("invalid_scope", "A requested scope is not allowed for this client")
        scopes = list(dict.fromkeys(requested or allowed))
        if not scopes:
            raise OAuthError("invalid_scope", "The client is allowed no custom scope")
        token, seconds = client_access_token(self.context, pool, client, scopes)
        return {"access_token": token, "expires_in": seconds, "token_type": "Bearer"}

    @staticmethod
    def _answer(result: Mapping[str, Any], scopes: tuple[str, ...] | None) -> dict[str, Any]:
        answer: dict[str, Any] = {}
        if scopes is None or "openid" in scopes:  # an API sign-in's tokens always had an ID token
            answer["id_token"] = result["IdToken"]
        answer["access_token"] = result["AccessToken"]
        if result.get("RefreshToken"):
            answer["refresh_token"] = result["RefreshToken"]
        answer["expires_in"] = result["ExpiresIn"]
        answer["token_type"] = "Bearer"
        return answer

    # ----- /oauth2/revoke --------------------------------------------------------------------------------
    def revoke(self, pool: UserPool, form: Mapping[str, str], authorization: str | None) -> None:
        """Revoke a refresh token and every token of its sign-in; raises :class:`OAuthError`."""
        token = form.get("token")
        if not token:
            raise OAuthError("invalid_request", "token is required")
        client = self.authenticate(pool, form, authorization, status=401)
        if not _rules.revocation_enabled(client):
            raise OAuthError("invalid_request", "Token revocation is not enabled for this app client")
        if token in self.state.access_tokens or token.count(".") == 2:
            raise OAuthError("unsupported_token_type", "Only refresh tokens can be revoked")
        record = self.state.refresh_tokens.get(token)
        if record is not None and record.client_id == client.id:
            self.issuer.revoke_family(record.origin_jti)

    # ----- /oauth2/userInfo ------------------------------------------------------------------------------
    def user_info(self, pool: UserPool, authorization: str | None) -> dict[str, str]:
        """The signed-in user's attributes; raises :class:`OAuthError` (400 or 401)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise OAuthError("invalid_request", "Bad OAuth2 request at UserInfo Endpoint", status=400)
        token = token.strip()
        try:
            token_pool, user, _key = self.lookups.token_user(token)
        except (errors.NotAuthorizedException, errors.UserNotFoundException):
            raise OAuthError("invalid_token", _BAD_TOKEN, status=401) from None
        record = self.state.access_tokens[token]
        scopes = self.issuer.oauth_scopes.get(record.origin_jti) or ()
        if token_pool.id != pool.id or "openid" not in scopes:
            raise OAuthError("invalid_token", _BAD_TOKEN, status=401)
        found = self.state.app_client(record.client_id)
        readable = found[1].config.get("ReadAttributes") if found is not None else None
        answer: dict[str, str] = {}
        for name, value in _rules.attributes(user).items():
            if name == "sub" or not readable or name in readable:
                answer[name] = value.lower() if name in _BOOLEAN_ATTRIBUTES else value
        answer["username"] = user.username
        return answer
