"""aiocognito: an asyncio client for Amazon Cognito user pools."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
from ._version import __version__

if TYPE_CHECKING:
    from ._session import (
        Challenge,
        ChallengeSelectionRequired,
        ChallengeStep,
        CustomChallenge,
        MfaCodeRequired,
        MfaSelectionRequired,
        NewPasswordRequired,
        Session,
        SignedIn,
        Step,
        TotpSetupRequired,
        WebAuthnRequired,
    )
    from ._stores import (
        DeviceRecord,
        DeviceStore,
        FileDeviceStore,
        FileTokenStore,
        MemoryDeviceStore,
        MemoryTokenStore,
        TokenStore,
    )
    from ._tokens import (
        TokenSet,
    )
    from ._verifier import (
        PoolConfig,
        TokenVerifier,
    )


__all__ = [
    "Challenge",
    "ChallengeSelectionRequired",
    "ChallengeStep",
    "CognitoClient",
    "CognitoError",
    "ConfigurationError",
    "ConnectionFailedError",
    "Credentials",
    "CredentialsError",
    "CustomChallenge",
    "DeviceRecord",
    "DeviceStore",
    "FileDeviceStore",
    "FileTokenStore",
    "InvalidToken",
    "JwksUnavailable",
    "MemoryDeviceStore",
    "MemoryTokenStore",
    "MfaCodeRequired",
    "MfaSelectionRequired",
    "NewPasswordRequired",
    "PaginationError",
    "PoolConfig",
    "Paginator",
    "ParamValidationError",
    "ProtocolError",
    "RequestTimeoutError",
    "ResponseParseError",
    "RetryPolicy",
    "ServiceError",
    "Session",
    "SessionExpiredError",
    "SignInError",
    "SignInRequired",
    "SignedIn",
    "Step",
    "Timeout",
    "TokenError",
    "TokenExpired",
    "TokenSet",
    "TokenStore",
    "TokenVerifier",
    "TotpSetupRequired",
    "TransportError",
    "WebAuthnRequired",
    "errors",
    "__version__",
]


# Sign-in, stores and token verification load on first use: they pull in gmpy2, pyotp and python-jose,
# which a client that only makes admin calls never needs (``import aiocognito`` stays cheap).
_LAZY = {
    "Challenge": "_session",
    "ChallengeSelectionRequired": "_session",
    "ChallengeStep": "_session",
    "CustomChallenge": "_session",
    "MfaCodeRequired": "_session",
    "MfaSelectionRequired": "_session",
    "NewPasswordRequired": "_session",
    "Session": "_session",
    "SignedIn": "_session",
    "Step": "_session",
    "TotpSetupRequired": "_session",
    "WebAuthnRequired": "_session",
    "DeviceRecord": "_stores",
    "DeviceStore": "_stores",
    "FileDeviceStore": "_stores",
    "FileTokenStore": "_stores",
    "MemoryDeviceStore": "_stores",
    "MemoryTokenStore": "_stores",
    "TokenStore": "_stores",
    "TokenSet": "_tokens",
    "PoolConfig": "_verifier",
    "TokenVerifier": "_verifier",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aiocognito' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
