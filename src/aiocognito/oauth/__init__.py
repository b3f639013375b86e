"""OAuth 2.0 / OpenID Connect against a user pool domain: managed login (authorization code + PKCE),
machine-to-machine tokens (``client_credentials`` and GetClientToken), discovery.

::

    login = ManagedLogin(domain_url, client_id, redirect_uri="https://app.example/callback")
    pending = login.start()                   # redirect the browser to pending.url; keep pending.to_dict()
    tokens = await login.finish(pending, callback_url)          # a TokenSet; Session.use_tokens(tokens)

    async with ClientCredentials(domain_url, client_id, client_secret, scopes=["orders/read"]) as m2m:
        bearer = await m2m.access_token()     # cached, renewed before expiry, one request for all callers

The errors load with the package; the rest on first use (``import aiocognito.oauth`` stays cheap).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes
from ._errors import (
    AccessDenied,
    CodeExchangeUncertain,
    InvalidBearerToken,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    OAuthError,
    PendingLoginError,
    StateMismatch,
    UnauthorizedClient,
    UnsupportedGrantType,
)

if TYPE_CHECKING:
    from ._client_credentials import ClientCredentials, ClientTokenSource
    from ._discovery import OpenIdConfiguration, discover
    from ._login import ManagedLogin
    from ._pkce import PendingLogin

__all__ = [
    "AccessDenied",
    "ClientCredentials",
    "ClientTokenSource",
    "CodeExchangeUncertain",
    "InvalidBearerToken",
    "InvalidClient",
    "InvalidGrant",
    "InvalidRequest",
    "InvalidScope",
    "ManagedLogin",
    "OAuthError",
    "OpenIdConfiguration",
    "PendingLogin",
    "PendingLoginError",
    "StateMismatch",
    "UnauthorizedClient",
    "UnsupportedGrantType",
    "discover",
]

_LAZY = {
    "ClientCredentials": "._client_credentials",
    "ClientTokenSource": "._client_credentials",
    "OpenIdConfiguration": "._discovery",
    "discover": "._discovery",
    "ManagedLogin": "._login",
    "PendingLogin": "._pkce",
}

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
