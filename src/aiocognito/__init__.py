"""aiocognito: an asyncio client for Amazon Cognito user pools."""

from __future__ import annotations

from . import errors
from ._client import CognitoClient
from ._errors import (
    CognitoError,
    ConfigurationError,
    ConnectionFailedError,
    CredentialsError,
    InvalidToken,
    JwksUnavailable,
    PaginationError,
    ParamValidationError,
    ProtocolError,
    RequestTimeoutError,
    ResponseParseError,
    ServiceError,
    SessionExpiredError,
    SignInError,
    SignInRequired,
    TokenError,
    TokenExpired,
    TransportError,
)
from ._paginate import Paginator
from ._retry import RetryPolicy
from ._signing import Credentials
from ._transport import Timeout
from ._verifier import TokenVerifier

__version__ = "0.1.0"

__all__ = [
    "CognitoClient",
    "CognitoError",
    "ConfigurationError",
    "ConnectionFailedError",
    "Credentials",
    "CredentialsError",
    "InvalidToken",
    "JwksUnavailable",
    "PaginationError",
    "Paginator",
    "ParamValidationError",
    "ProtocolError",
    "RequestTimeoutError",
    "ResponseParseError",
    "RetryPolicy",
    "ServiceError",
    "SessionExpiredError",
    "SignInError",
    "SignInRequired",
    "Timeout",
    "TokenError",
    "TokenExpired",
    "TokenVerifier",
    "TransportError",
    "errors",
    "__version__",
]
