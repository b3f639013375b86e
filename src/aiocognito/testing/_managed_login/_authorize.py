"""The parameters of ``/oauth2/authorize`` and ``/login``, checked as Cognito checks them (no I/O).

The order matters, because it decides where a refusal goes:

1. an unknown ``client_id``, or a ``redirect_uri`` that is not exactly one of the app client's
   CallbackURLs, cannot be sent back to the app: :class:`ErrorPage` (``/error?error=...``; for the
   callback URL Cognito's code is ``redirect_mismatch``);
2. everything after that is redirected to the callback URL with ``state``
   (:class:`AuthorizeRefusal`): no or an unknown ``response_type`` (``invalid_request``,
   ``unsupported_response_type``), a client not allowed that flow (``unauthorized_client``), a scope the
   client may not ask for (``invalid_scope``), a ``code_challenge`` without ``code_challenge_method`` or
   with a method other than ``S256`` (``invalid_request``: Cognito supports only S256), an
   ``identity_provider`` or ``idp_identifier`` that names no identity provider of the pool among the
   client's SupportedIdentityProviders (``invalid_request``, "Login option is not available. Please try
   another one", Cognito's words), a client with neither COGNITO nor a provider of the pool.

Without ``scope`` the request gets every scope the client allows, as Cognito does. ``identity_provider``
wins over ``idp_identifier``; either resolves to :attr:`AuthorizeRequest.identity_provider` (the
provider's name; None for the user pool's own sign-in).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._errors import ErrorPage, OAuthError

if TYPE_CHECKING:
    from .._records import Client

__all__ = ["AuthorizeRequest", "AuthorizeRefusal", "parse_authorize", "UNAVAILABLE", "client_providers"]

_FLOW_OF_RESPONSE = {"code": "code", "token": "implicit"}
#: Cognito's description when the requested identity provider is not one the app client may use.
UNAVAILABLE = "Login option is not available. Please try another one"


class AuthorizeRefusal(OAuthError):
    """An OAuth error to redirect to the request's callback URL (with its ``state``)."""

    def __init__(self, error: str, description: str | None, redirect_uri: str, state: str | None) -> None:
        super().__init__(error, description)
        self.redirect_uri = redirect_uri
        self.state = state


@dataclass(frozen=True)
class AuthorizeRequest:
    """A checked authorization request: what the code (or the implicit tokens) will be bound to."""

    client_id: str
    redirect_uri: str
    response_type: str  # "code" or "token"
    state: str | None
    scopes: tuple[str, ...]
    code_challenge: str | None = field(repr=False)
    code_challenge_method: str | None
    nonce: str | None = field(repr=False)
    prompt: frozenset[str]
    lang: str | None
    #: the third-party identity provider to sign in with (None: the user pool's own sign-in page)
    identity_provider: str | None = None


def _one(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    return value if value else None


def client_providers(client: Client, providers: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The pool's identity providers the client supports, in the client's order."""
    return [p for p in client.config.get("SupportedIdentityProviders") or [] if p in providers]


def _chosen_provider(
    params: Mapping[str, str], client: Client, providers: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """The provider the request names (None: none named, or COGNITO); KeyError: not available."""
    usable = client_providers(client, providers)
    name, identifier = _one(params, "identity_provider"), _one(params, "idp_identifier")
    if name is not None:
        if name == "COGNITO":
            if "COGNITO" not in (client.config.get("SupportedIdentityProviders") or []):
                raise KeyError(name)
            return None
        if name not in usable:
            raise KeyError(name)
        return name
    if identifier is not None:
        for candidate in usable:
            if identifier in (providers[candidate].get("IdpIdentifiers") or []):
                return candidate
        raise KeyError(identifier)
    return None


def parse_authorize(
    params: Mapping[str, str],
    client: Client | None,
    providers: Mapping[str, Mapping[str, Any]] | None = None,
) -> AuthorizeRequest:
    """Check an authorize (or login page) request against its app client (None: unknown client) and the
    pool's identity providers (by name).

    Raises:
        ErrorPage: unknown client, or a callback URL the client does not list.
        AuthorizeRefusal: any other refusal, to redirect to the callback URL.
    """
    client_id = params.get("client_id", "")
    if client is None:
        raise ErrorPage("invalid_request", client_id or None)
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri or redirect_uri not in (client.config.get("CallbackURLs") or []):
        raise ErrorPage("redirect_mismatch", client.id)
    state = _one(params, "state")

    def refuse(error: str, description: str) -> AuthorizeRefusal:
        return AuthorizeRefusal(error, description, redirect_uri, state)

    response_type = _one(params, "response_type")
    if response_type is None:
        raise refuse("invalid_request", "response_type is required")
    if response_type not in _FLOW_OF_RESPONSE:
        raise refuse("unsupported_response_type", "response_type must be code or token")
    flows = client.config.get("AllowedOAuthFlows") or []
    if (
        not client.config.get("AllowedOAuthFlowsUserPoolClient")
        or _FLOW_OF_RESPONSE[response_type] not in flows
    ):
        raise refuse("unauthorized_client", f"Client is not allowed for the {response_type} response type")
    allowed = list(client.config.get("AllowedOAuthScopes") or [])
    requested = (params.get("scope") or "").split()
    for scope in requested:
        if scope not in allowed:
            raise refuse("invalid_scope", "A requested scope is not allowed for this client")
    scopes = tuple(dict.fromkeys(requested or allowed))
    challenge, method = _one(params, "code_challenge"), _one(params, "code_challenge_method")
    if (challenge is None) != (method is None):
        raise refuse("invalid_request", "code_challenge and code_challenge_method go together")
    if method is not None and method != "S256":
        raise refuse("invalid_request", "code_challenge_method must be S256")
    providers = providers or {}
    try:
        provider = _chosen_provider(params, client, providers)
    except KeyError:
        raise refuse("invalid_request", UNAVAILABLE) from None
    supported = client.config.get("SupportedIdentityProviders") or []
    if "COGNITO" not in supported and not client_providers(client, providers):
        raise refuse("invalid_request", "The app client does not support sign-in with the user pool")
    return AuthorizeRequest(
        client_id=client.id,
        redirect_uri=redirect_uri,
        response_type=response_type,
        state=state,
        scopes=scopes,
        code_challenge=challenge,
        code_challenge_method=method,
        nonce=_one(params, "nonce"),
        prompt=frozenset((params.get("prompt") or "").split()),
        lang=_one(params, "lang"),
        identity_provider=provider,
    )
