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
from ._signing import Credentials
from ._stores import (
    DeviceRecord,
    DeviceStore,
    FileDeviceStore,
    FileTokenStore,
    MemoryDeviceStore,
    MemoryTokenStore,
    TokenStore,
)
from ._tokens import TokenSet
from ._transport import Timeout
from ._verifier import TokenVerifier

__version__ = "0.1.0"

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
