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
        "ManagedLogin",
        "PendingLogin",
        "ClientCredentials",
        "ClientTokenSource",
        "OpenIdConfiguration",
        "OAuthError",
    }
    assert expected <= set(aiocognito.__all__)


def test_error_tree() -> None:
    e = aiocognito.errors
    assert issubclass(e.NotAuthorizedException, aiocognito.ServiceError)
    assert issubclass(aiocognito.ServiceError, aiocognito.CognitoError)
    assert issubclass(aiocognito.TokenExpired, aiocognito.InvalidToken)
    assert issubclass(aiocognito.ConnectionFailedError, aiocognito.TransportError)
    assert e.error_class("NoSuchCode") is aiocognito.ServiceError


def test_oauth_surface() -> None:
    import aiocognito.oauth as oauth

    for name in oauth.__all__:
        assert hasattr(oauth, name), name
    assert oauth.ManagedLogin is aiocognito.ManagedLogin
    e = aiocognito.errors
    for name in (
        "OAuthError",
        "InvalidRequest",
        "InvalidClient",
        "InvalidGrant",
        "UnauthorizedClient",
        "UnsupportedGrantType",
        "InvalidScope",
        "AccessDenied",
        "InvalidBearerToken",
        "StateMismatch",
        "CodeExchangeUncertain",
        "PendingLoginError",
    ):
        assert name in e.__all__ and getattr(e, name) is getattr(oauth, name), name
        assert issubclass(getattr(e, name), aiocognito.CognitoError), name
    assert issubclass(e.InvalidGrant, e.OAuthError) and issubclass(e.StateMismatch, e.OAuthError)
