"""The public surface: what `import aiocognito` offers, pinned."""

from __future__ import annotations

import aiocognito


def test_exported_members() -> None:
    for name in aiocognito.__all__:
        assert hasattr(aiocognito, name), name
    expected = {
        "CognitoClient",
        "Session",
        "SignedIn",
        "NewPasswordRequired",
        "MfaCodeRequired",
        "MfaSelectionRequired",
        "TotpSetupRequired",
        "CustomChallenge",
        "ChallengeSelectionRequired",
        "WebAuthnRequired",
        "Challenge",
        "TokenSet",
        "TokenVerifier",
        "DeviceStore",
        "TokenStore",
        "MemoryDeviceStore",
        "FileDeviceStore",
        "MemoryTokenStore",
        "FileTokenStore",
        "CognitoError",
        "ServiceError",
        "InvalidToken",
        "TokenExpired",
        "JwksUnavailable",
        "SignInRequired",
        "SessionExpiredError",
        "RetryPolicy",
        "Timeout",
        "Paginator",
        "errors",
        "CodeDelivery",
        "SignUpResult",
        "TotpEnrollment",
        "Passkey",
        "secret_hash",
    }
    assert expected <= set(aiocognito.__all__)


def test_error_tree() -> None:
    e = aiocognito.errors
    assert issubclass(e.NotAuthorizedException, aiocognito.ServiceError)
    assert issubclass(aiocognito.ServiceError, aiocognito.CognitoError)
    assert issubclass(aiocognito.TokenExpired, aiocognito.InvalidToken)
    assert issubclass(aiocognito.ConnectionFailedError, aiocognito.TransportError)
    assert e.error_class("NoSuchCode") is aiocognito.ServiceError
