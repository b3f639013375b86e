"""Errors of the user pool domain's OAuth 2.0 endpoints, and of the code flow around them.

::

    CognitoError
    ├── OAuthError                  an OAuth error answer (``.error``, ``.description``, ``.status``)
    │   ├── InvalidRequest          invalid_request: a parameter is missing, repeated or malformed
    │   ├── InvalidClient           invalid_client: client authentication failed (wrong or missing secret)
    │   ├── InvalidGrant            invalid_grant: the code or refresh token is expired, used, revoked or
    │   │                           not this client's, or the code_verifier / redirect_uri does not match
    │   ├── UnauthorizedClient      unauthorized_client: the app client may not use this flow
    │   ├── UnsupportedGrantType    unsupported_grant_type
    │   ├── InvalidScope            invalid_scope: a scope the app client is not allowed
    │   ├── AccessDenied            access_denied: the sign-in was refused or cancelled (callback)
    │   ├── InvalidBearerToken      invalid_token: userInfo refused the access token (RFC 6750)
    │   └── StateMismatch           the callback's ``state`` is not the pending login's: nothing was sent
    ├── CodeExchangeUncertain       the code exchange failed in a way that may or may not have used the code
    └── PendingLoginError           ``PendingLogin.from_dict`` got something that is not a saved login

An ``error`` value with no class of its own raises a plain :class:`OAuthError`. Answers that are not OAuth
errors (an HTML page, a 5xx, a broken connection) raise the project's usual errors
(:class:`~aiocognito.ResponseParseError`, :class:`~aiocognito.ServiceError`,
:class:`~aiocognito.TransportError`). No message holds a code, verifier, token or secret: descriptions
from the server pass through :func:`~aiocognito._errors.redact`.
"""

from __future__ import annotations

from .._errors import CognitoError, redact

__all__ = [
    "AccessDenied",
    "CodeExchangeUncertain",
    "InvalidBearerToken",
    "InvalidClient",
    "InvalidGrant",
    "InvalidRequest",
    "InvalidScope",
    "OAuthError",
    "PendingLoginError",
    "StateMismatch",
    "UnauthorizedClient",
    "UnsupportedGrantType",
]


class OAuthError(CognitoError):
    """An OAuth 2.0 error answer: ``error`` is the server's code (``invalid_grant``), ``description`` its
    ``error_description`` (redacted, may be empty), ``status`` the HTTP status (None for an error that came
    back on the callback URL)."""

    error: str = ""

    def __init__(self, error: str | None = None, description: str = "", *, status: int | None = None) -> None:
        if error is not None:
            self.error = redact(error, 80)
        self.description = redact(description or "")
        self.status = status
        text = f"{self.error}: {self.description}" if self.description else self.error
        super().__init__(text + (f" (HTTP {status})" if status is not None else ""))


class InvalidRequest(OAuthError):
    """``invalid_request``: a parameter is missing, repeated or malformed."""

    error = "invalid_request"


class InvalidClient(OAuthError):
    """``invalid_client``: client authentication failed (unknown client, wrong or missing secret)."""

    error = "invalid_client"


class InvalidGrant(OAuthError):
    """``invalid_grant``: the code or refresh token is expired, already used, revoked or another client's,
    or the ``code_verifier``/``redirect_uri`` does not match the authorize request."""

    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    """``unauthorized_client``: the app client is not allowed this flow (AllowedOAuthFlows)."""

    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    """``unsupported_grant_type``."""

    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    """``invalid_scope``: a scope the app client is not allowed (AllowedOAuthScopes)."""

    error = "invalid_scope"


class AccessDenied(OAuthError):
    """``access_denied``: the sign-in was refused or cancelled (an error on the callback URL)."""

    error = "access_denied"


class InvalidBearerToken(OAuthError):
    """``invalid_token``: the userInfo endpoint refused the access token (expired, revoked, not this pool's
    or without the ``openid`` scope)."""

    error = "invalid_token"


class StateMismatch(OAuthError):
    """The callback's ``state`` is missing or is not the pending login's (a forged or stale callback).
    Raised before any request: the code was not sent anywhere."""

    error = "state_mismatch"


class CodeExchangeUncertain(CognitoError):
    """The authorization code exchange failed after the request may have reached Cognito (a 5xx, a timeout,
    a connection broken mid-answer). A code works once, so it is not sent again: the code may already be
    spent. Start a new sign-in. ``cause`` is the underlying error (also ``__cause__``)."""

    def __init__(self, cause: CognitoError) -> None:
        self.cause = cause
        super().__init__(
            "the authorization code exchange may or may not have happened "
            f"({type(cause).__name__}); codes are single-use, so it was not repeated: sign in again"
        )


class PendingLoginError(CognitoError, ValueError):
    """``PendingLogin.from_dict`` got data that is not a saved pending login (or of another version)."""


OAUTH_ERROR_CLASSES: dict[str, type[OAuthError]] = {
    cls.error: cls
    for cls in (
        InvalidRequest,
        InvalidClient,
        InvalidGrant,
        UnauthorizedClient,
        UnsupportedGrantType,
        InvalidScope,
        AccessDenied,
        InvalidBearerToken,
    )
}


def oauth_error(error: str, description: str = "", *, status: int | None = None) -> OAuthError:
    """The typed error for an OAuth ``error`` code; a plain :class:`OAuthError` for a code with no class."""
    cls = OAUTH_ERROR_CLASSES.get(error)
    if cls is None:
        return OAuthError(error, description, status=status)
    return cls(None, description, status=status)
