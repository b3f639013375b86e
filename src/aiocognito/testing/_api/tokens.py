"""Machine-to-machine tokens: GetClientToken and GetDerivedToken.

As Cognito does them:

* GetClientToken is the client-credentials grant as an API call. The app client must have a secret
  (``Secret`` is checked against every current one) and ``ALLOW_CLIENT_TOKEN_AUTH`` in ExplicitAuthFlows.
  ``Scopes`` must be custom scopes (``<resource server>/<scope>``) of the pool that the client's
  AllowedOAuthScopes allow; without them the client gets all of its custom scopes. The answer is an
  access token signed with the pool's access-token key, with Cognito's client-credentials claims: ``sub``
  and ``client_id`` are the client id, ``scope`` the granted scopes, ``token_use`` ``access``, ``version``
  2; it lives for the client's AccessTokenValidity. No user, so no ``username``; self-service operations
  refuse it.
* GetDerivedToken is RFC 8693 token exchange. The requesting client proves itself with its ClientSecret
  (when it has one) and needs ``ALLOW_TOKEN_EXCHANGE_IMPERSONATION`` (no ActorToken) or
  ``ALLOW_TOKEN_EXCHANGE_DELEGATION`` (with one); the pool must be on the Essentials or Plus plan. The
  subject (and actor) token must be an ID or access token of the same pool, checked as a resource server
  would (signature, issuer, ``token_use`` of the declared type, expiry) and as the pool does (not revoked,
  user still there and enabled). The issued token carries the subject's identity (``sub``, ``username``,
  groups, ``auth_time``, ``origin_jti``, so signing out or revoking the sign-in revokes it too), the
  requesting client's ``client_id``, an ``aud`` for the requested audience or resource server, and an
  ``act`` claim naming the actor (nesting any ``act`` the subject carried). Its scopes: the subject's; with
  ``Scopes``, only those requested that the subject holds and the client's AllowedOAuthScopes allow (none
  left is InvalidParameterException). No refresh token.

Not reproduced: tokens of third-party identity providers (SAML 2.0 assertions, OIDC tokens named by a
``...TokenProviderName``). Checking them needs the provider's keys from its own endpoints, so a
registered provider's token is refused with NotAuthorizedException (an unknown provider is
ResourceNotFoundException, a SAML2 token without a provider InvalidParameterException). Pre token
generation triggers are not run (the local pool runs no Lambda triggers).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from ... import errors
from .. import _ids, _rules
from .._records import Client, User, UserPool
from .._state import AccessRecord
from ._base import Context, Route

__all__ = ["ROUTES", "FIDELITY", "client_access_token"]

_CLIENT_TOKEN_FLOW = "ALLOW_CLIENT_TOKEN_AUTH"
_IMPERSONATION = "ALLOW_TOKEN_EXCHANGE_IMPERSONATION"
_DELEGATION = "ALLOW_TOKEN_EXCHANGE_DELEGATION"
_BOOLEAN_ATTRIBUTES = frozenset({"email_verified", "phone_number_verified"})
_LABEL = {"ACCESS_TOKEN": "Access Token", "ID_TOKEN": "Id Token"}


# ----- shared ----------------------------------------------------------------------------------------
def _custom_scopes(pool: UserPool) -> set[str]:
    """Every ``<resource server>/<scope>`` the pool defines."""
    return {
        f"{identifier}/{scope['ScopeName']}"
        for identifier, server in pool.resource_servers.items()
        for scope in server.get("Scopes", [])
    }


def _check_secret(client: Client, given: object, *, required: bool) -> None:
    """The raw client secret: any current one. ``required``: a client without a secret cannot be used."""
    if not client.secrets:
        if required:
            raise errors.NotAuthorizedException(f"Client {client.id} is not configured with a client secret")
        if given:
            raise errors.NotAuthorizedException(
                f"Client {client.id} is not configured for secret but secret was received"
            )
        return
    _rules.check_client_secret(client, given if isinstance(given, str) else None)


def client_access_token(ctx: Context, pool: UserPool, client: Client, scopes: list[str]) -> tuple[str, int]:
    """A client-credentials access token for ``client`` with ``scopes``, and its lifetime in seconds.

    (Minting belongs beside the user tokens in ``TokenIssuer``; it lives here until it moves there.)
    """
    state = ctx.state
    iat = int(state.now())
    seconds = _rules.token_lifetimes(client)[0]
    claims = {
        "sub": client.id,
        "token_use": "access",
        "scope": " ".join(scopes),
        "auth_time": iat,
        "iss": state.issuer(pool.id),
        "exp": iat + seconds,
        "iat": iat,
        "version": 2,
        "jti": _ids.sub(state.random_bytes),
        "client_id": client.id,
    }
    return state.keys.for_pool(pool.id).sign(claims, "access"), seconds


# ----- GetClientToken --------------------------------------------------------------------------------
def _granted_client_scopes(pool: UserPool, client: Client, requested: list[str] | None) -> list[str]:
    custom = _custom_scopes(pool)
    allowed = [s for s in client.config.get("AllowedOAuthScopes") or [] if s in custom]
    if not requested:
        if not allowed:
            raise errors.InvalidParameterException(
                f"Client {client.id} is not allowed any custom scope: add one to its AllowedOAuthScopes."
            )
        return list(dict.fromkeys(allowed))
    for scope in requested:
        if scope not in custom or scope not in allowed:
            raise errors.InvalidParameterException(f"Invalid scope requested: {scope}")
    return list(dict.fromkeys(requested))


def get_client_token(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, client = ctx.lookups.client(params["ClientId"])
    _check_secret(client, params["Secret"], required=True)
    if _CLIENT_TOKEN_FLOW not in (client.config.get("ExplicitAuthFlows") or []):
        raise errors.InvalidParameterException("CLIENT_TOKEN_AUTH flow not enabled for this client")
    scopes = _granted_client_scopes(pool, client, params.get("Scopes"))
    token, seconds = client_access_token(ctx, pool, client, scopes)
    return {"ClientAuthenticationResult": {"AccessToken": token, "ExpiresIn": seconds, "TokenType": "Bearer"}}


# ----- GetDerivedToken: checking the tokens presented ---------------------------------------------------
def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part.encode("ascii") + b"=" * (-len(part) % 4))


def _family_revoked(ctx: Context, origin_jti: object) -> bool:
    state = ctx.state
    return any(r.origin_jti == origin_jti and r.revoked for r in state.refresh_tokens.values()) or any(
        r.origin_jti == origin_jti and r.revoked for r in state.access_tokens.values()
    )


def _pool_token(ctx: Context, pool: UserPool, token: str, kind: str) -> tuple[dict[str, Any], User | None]:
    """The claims of an ID or access token ``pool`` issued, and its user (None: a client's own token).

    Raises:
        NotAuthorizedException: not this pool's token of that type, expired, revoked, or the user is
            disabled. UserNotFoundException: the user is gone.
    """
    label = _LABEL[kind]
    use = "access" if kind == "ACCESS_TOKEN" else "id"
    keys = ctx.state.keys.for_pool(pool.id)
    key = keys.access_key if use == "access" else keys.id_key
    try:
        head, body, signature = token.split(".")
        header = json.loads(_unb64(head))
        claims = json.loads(_unb64(body))
        key.private.public_key().verify(
            _unb64(signature), f"{head}.{body}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
        )
    except (ValueError, UnicodeError, binascii.Error, InvalidSignature):
        raise errors.NotAuthorizedException(f"Invalid {label}") from None
    if not isinstance(header, dict) or header.get("kid") != key.kid or not isinstance(claims, dict):
        raise errors.NotAuthorizedException(f"Invalid {label}")
    if claims.get("iss") != ctx.state.issuer(pool.id) or claims.get("token_use") != use:
        raise errors.NotAuthorizedException(f"Invalid {label}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or ctx.state.now() >= exp:
        raise errors.NotAuthorizedException(f"{label} has expired")
    if use == "access" and "username" not in claims:
        if ctx.state.app_client(claims.get("client_id")) is None:  # a client's token outlives no client
            raise errors.NotAuthorizedException(f"Invalid {label}")
        return claims, None
    if use == "access":
        ctx.issuer.check_access_token(token)
    elif _family_revoked(ctx, claims.get("origin_jti")):
        raise errors.NotAuthorizedException(f"{label} has been revoked")
    user = pool.by_sub.get(str(claims.get("sub")))
    if user is None:
        raise errors.UserNotFoundException("User does not exist.")
    if not user.enabled:
        raise errors.NotAuthorizedException("User is disabled.")
    return claims, user


def _presented(
    ctx: Context, pool: UserPool, params: Mapping[str, Any], role: str
) -> tuple[dict[str, Any], User | None]:
    """The checked claims of the ``Subject`` or ``Actor`` token of the request."""
    token = str(params[f"{role}Token"])
    kind = str(params[f"{role}TokenType"])
    provider = params.get(f"{role}TokenProviderName")
    if kind == "SAML2" and provider is None:
        raise errors.InvalidParameterException(f"{role}TokenProviderName is required for a SAML2 token.")
    if provider is not None:
        if provider not in pool.identity_providers:
            raise errors.ResourceNotFoundException(f"Identity provider {provider} does not exist.")
        raise errors.NotAuthorizedException(
            f"The local user pool cannot verify tokens of identity provider {provider}."
        )
    return _pool_token(ctx, pool, token, kind)


# ----- GetDerivedToken: the issued token ---------------------------------------------------------------
def _derived_scopes(client: Client, subject: Mapping[str, Any], requested: list[str] | None) -> list[str]:
    held = str(subject.get("scope") or "").split()
    if not requested:
        return held
    allowed = set(client.config.get("AllowedOAuthScopes") or [])
    granted = [s for s in dict.fromkeys(requested) if s in held and s in allowed]
    if not granted:
        raise errors.InvalidParameterException(
            "None of the requested scopes is held by the subject token and allowed for the app client."
        )
    return granted


def _audience(pool: UserPool, params: Mapping[str, Any]) -> str | None:
    audiences = params.get("Audiences") or []
    resources = params.get("Resources") or []
    if audiences and resources:
        raise errors.InvalidParameterException("Audiences and Resources cannot be requested together.")
    for identifier in resources:
        if identifier not in pool.resource_servers:
            raise errors.ResourceNotFoundException(f"Resource server {identifier} does not exist.")
    chosen = [*audiences, *resources]
    return str(chosen[0]) if chosen else None


def _actor_claim(actor: Mapping[str, Any], subject: Mapping[str, Any]) -> dict[str, Any]:
    act: dict[str, Any] = {"sub": actor.get("sub")}
    client_id = actor.get("client_id") or actor.get("aud")
    if client_id:
        act["client_id"] = client_id
    if isinstance(subject.get("act"), dict):
        act["act"] = subject["act"]  # RFC 8693 4.1: earlier actors nest inside the current one
    return act


def _id_claims(pool: UserPool, client: Client, user: User) -> dict[str, Any]:
    """The attribute claims of an ID token for ``client`` (its ReadAttributes), as TokenIssuer writes them."""
    readable = client.config.get("ReadAttributes")
    claims: dict[str, Any] = {}
    for name, value in _rules.attributes(user).items():
        if name == "sub" or (readable and name not in readable):
            continue
        claims[name] = value.lower() == "true" if name in _BOOLEAN_ATTRIBUTES else value
    return claims


def _issue(
    ctx: Context,
    pool: UserPool,
    client: Client,
    subject: tuple[dict[str, Any], User | None],
    *,
    kind: str,
    scopes: list[str],
    audience: str | None,
    act: dict[str, Any] | None,
) -> tuple[str, int]:
    state = ctx.state
    claims_in, user = subject
    now = state.now()
    iat = int(now)
    access_seconds, id_seconds, _refresh = _rules.token_lifetimes(client)
    origin_jti = str(claims_in.get("origin_jti") or _ids.sub(state.random_bytes))
    auth_time = claims_in.get("auth_time", iat)
    groups = _rules.group_names(pool, user) if user is not None else []
    claims: dict[str, Any] = {
        "sub": claims_in.get("sub"),
        "iss": state.issuer(pool.id),
        "origin_jti": origin_jti,
    }
    if kind == "ID_TOKEN":
        if user is None:
            raise errors.InvalidParameterException("An ID token can only be issued for a user.")
        claims.update({"aud": audience or client.id, "token_use": "id", **_id_claims(pool, client, user)})
        if groups:
            claims["cognito:groups"] = groups
        claims["cognito:username"] = user.username
        seconds = id_seconds
    else:
        claims.update({"client_id": client.id, "token_use": "access"})
        if scopes:
            claims["scope"] = " ".join(scopes)
        if audience:
            claims["aud"] = audience
        if groups:
            claims["cognito:groups"] = groups
        if user is not None:
            claims["username"] = user.username
        seconds = access_seconds
    claims.update(
        {"auth_time": auth_time, "exp": iat + seconds, "iat": iat, "jti": _ids.sub(state.random_bytes)}
    )
    if act is not None:
        claims["act"] = act
    token = state.keys.for_pool(pool.id).sign(claims, "id" if kind == "ID_TOKEN" else "access")
    if kind == "ACCESS_TOKEN" and user is not None:
        state.access_tokens[token] = AccessRecord(
            user=(pool.id, user.sub),
            username=user.username,
            client_id=client.id,
            origin_jti=origin_jti,
            expires_at=now + seconds,
        )
    return token, seconds


def get_derived_token(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, client = ctx.lookups.client(params["ClientId"])
    _check_secret(client, params.get("ClientSecret"), required=False)
    delegated = params.get("ActorToken") is not None
    flow = _DELEGATION if delegated else _IMPERSONATION
    if flow not in (client.config.get("ExplicitAuthFlows") or []):
        raise errors.InvalidParameterException(
            f"{flow.removeprefix('ALLOW_')} flow not enabled for this client"
        )
    if pool.config.get("UserPoolTier") == "LITE":
        raise errors.OperationNotEnabledException(
            "Token exchange is available in the Essentials and Plus feature plans only."
        )
    if delegated and params.get("ActorTokenType") is None:
        raise errors.InvalidParameterException("ActorTokenType is required when ActorToken is present.")
    if not delegated and (params.get("ActorTokenType") or params.get("ActorTokenProviderName")):
        raise errors.InvalidParameterException(
            "ActorTokenType and ActorTokenProviderName need an ActorToken."
        )
    audience = _audience(pool, params)
    subject = _presented(ctx, pool, params, "Subject")
    act = _actor_claim(_presented(ctx, pool, params, "Actor")[0], subject[0]) if delegated else None
    kind = str(params.get("RequestedTokenType") or "ACCESS_TOKEN")
    scopes = _derived_scopes(client, subject[0], params.get("Scopes")) if kind == "ACCESS_TOKEN" else []
    token, seconds = _issue(ctx, pool, client, subject, kind=kind, scopes=scopes, audience=audience, act=act)
    answer: dict[str, Any] = {
        "IssuedToken": token,
        "IssuedTokenType": kind,
        "TokenType": "Bearer",
        "ExpiresIn": seconds,
    }
    if kind == "ACCESS_TOKEN":
        answer["Scopes"] = scopes
    return answer


ROUTES: dict[str, Route] = {
    "GetClientToken": get_client_token,
    "GetDerivedToken": get_derived_token,
}
#: operation -> "full", or "stored: <why the behaviour cannot be reproduced offline>"
FIDELITY: dict[str, str] = {name: "full" for name in ROUTES}
