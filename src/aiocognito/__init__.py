"""aiocognito: an asyncio client for Amazon Cognito user pools."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import errors
from ._errors import (
    BulkJobAborted,
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
from ._lazy import lazy_attributes
from ._version import __version__
from ._wire.client import CognitoClient
from ._wire.paginate import Paginator
from ._wire.retry import RetryPolicy
from ._wire.signing import Credentials
from ._wire.transport import Timeout

if TYPE_CHECKING:
    from ._signin.account import CodeDelivery, Passkey, SignUpResult, TotpEnrollment
    from ._signin.parameters import secret_hash
    from ._signin.session import Session
    from ._signin.steps import (
        Challenge,
        ChallengeSelectionRequired,
        ChallengeStep,
        CustomChallenge,
        MfaCodeRequired,
        MfaSelectionRequired,
        NewPasswordRequired,
        SignedIn,
        Step,
        TotpSetupRequired,
        WebAuthnRequired,
    )
    from ._signin.stores import (
        DeviceRecord,
        DeviceStore,
        FileDeviceStore,
        FileTokenStore,
        MemoryDeviceStore,
        MemoryTokenStore,
        TokenStore,
    )
    from ._tokens.token_set import (
        TokenSet,
    )
    from ._tokens.verifier import (
        PoolConfig,
        TokenVerifier,
    )
    from .oauth._client_credentials import ClientCredentials, ClientTokenSource
    from .oauth._discovery import OpenIdConfiguration
    from .oauth._errors import OAuthError
    from .oauth._login import ManagedLogin
    from .oauth._pkce import PendingLogin


__all__ = [
    "BulkJobAborted",
    "Challenge",
    "ChallengeSelectionRequired",
    "ChallengeStep",
    "ClientCredentials",
    "ClientTokenSource",
    "CognitoClient",
    "CodeDelivery",
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
    "ManagedLogin",
    "MemoryDeviceStore",
    "MemoryTokenStore",
    "MfaCodeRequired",
    "MfaSelectionRequired",
    "NewPasswordRequired",
    "OAuthError",
    "OpenIdConfiguration",
    "PaginationError",
    "PoolConfig",
    "Paginator",
    "ParamValidationError",
    "Passkey",
    "PendingLogin",
    "ProtocolError",
    "RequestTimeoutError",
    "ResponseParseError",
    "RetryPolicy",
    "ServiceError",
    "Session",
    "SessionExpiredError",
    "SignInError",
    "SignInRequired",
    "SignUpResult",
    "SignedIn",
    "Step",
    "Timeout",
    "TokenError",
    "TokenExpired",
    "TokenSet",
    "TokenStore",
    "TokenVerifier",
    "TotpEnrollment",
    "TotpSetupRequired",
    "TransportError",
    "WebAuthnRequired",
    "errors",
    "secret_hash",
    "__version__",
]


# Sign-in, stores and token verification load on first use: they pull in gmpy2, pyotp and python-jose,
# which a client that only makes admin calls never needs (``import aiocognito`` stays cheap).
_LAZY = {
    "Challenge": "_signin.steps",
    "ChallengeSelectionRequired": "_signin.steps",
    "ChallengeStep": "_signin.steps",
    "CustomChallenge": "_signin.steps",
    "MfaCodeRequired": "_signin.steps",
    "MfaSelectionRequired": "_signin.steps",
    "NewPasswordRequired": "_signin.steps",
    "Session": "_signin.session",
    "CodeDelivery": "_signin.account",
    "Passkey": "_signin.account",
    "SignUpResult": "_signin.account",
    "TotpEnrollment": "_signin.account",
    "secret_hash": "_signin.parameters",
    "SignedIn": "_signin.steps",
    "Step": "_signin.steps",
    "TotpSetupRequired": "_signin.steps",
    "WebAuthnRequired": "_signin.steps",
    "DeviceRecord": "_signin.stores",
    "DeviceStore": "_signin.stores",
    "FileDeviceStore": "_signin.stores",
    "FileTokenStore": "_signin.stores",
    "MemoryDeviceStore": "_signin.stores",
    "MemoryTokenStore": "_signin.stores",
    "TokenStore": "_signin.stores",
    "TokenSet": "_tokens.token_set",
    "PoolConfig": "_tokens.verifier",
    "TokenVerifier": "_tokens.verifier",
    # managed login and machine-to-machine tokens (aiocognito.oauth)
    "ClientCredentials": "oauth._client_credentials",
    "ClientTokenSource": "oauth._client_credentials",
    "ManagedLogin": "oauth._login",
    "OAuthError": "oauth._errors",
    "OpenIdConfiguration": "oauth._discovery",
    "PendingLogin": "oauth._pkce",
}


__getattr__, __dir__ = lazy_attributes(
    __name__, {name: "." + module for name, module in _LAZY.items()}, globals()
)
