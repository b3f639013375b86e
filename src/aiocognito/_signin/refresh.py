"""Refreshing a token set: which request to send, and when the newer operation is not on offer.

GetTokensFromRefreshToken answers for every app client (and is the only refresh that works with refresh-token
rotation); REFRESH_TOKEN_AUTH is the older way. :class:`~aiocognito._signin.session.Session` tries the first
and falls back to the second only where :func:`refresh_unavailable` says the endpoint lacks it.
"""

from __future__ import annotations

from typing import Any

from .._errors import (
    CognitoError,
    ParamValidationError,
    ResponseParseError,
    ServiceError,
)
from .events import (
    ClientConfig,
    Request,
)
from .parameters import (
    secret_hash,
)

__all__ = ["refresh_request", "refresh_unavailable"]


def refresh_request(
    config: ClientConfig,
    *,
    refresh_token: str,
    username: str | None,
    device_key: str | None,
    rotation: bool,
) -> Request:
    """The request that refreshes a token set.

    ``rotation=True``: GetTokensFromRefreshToken, which Cognito answers for every app client (with
    refresh-token rotation it also returns a new refresh token); it takes the raw ClientSecret and DeviceKey.
    ``rotation=False``: (Admin)InitiateAuth REFRESH_TOKEN_AUTH, with DEVICE_KEY and a SECRET_HASH over
    ``username``, which must be the *real* username (access-token ``username``), not an alias. Cognito
    refuses it on app clients with rotation.

    Raises:
        ParamValidationError: a client secret is set and ``username`` is unknown.
    """
    if rotation:
        params: dict[str, Any] = {"RefreshToken": refresh_token, "ClientId": config.client_id}
        if config.client_secret is not None:
            params["ClientSecret"] = config.client_secret
        if device_key:
            params["DeviceKey"] = device_key
        return Request("GetTokensFromRefreshToken", params)
    auth = {"REFRESH_TOKEN": refresh_token}
    if device_key:
        auth["DEVICE_KEY"] = device_key
    if config.client_secret is not None:
        if not username:
            raise ParamValidationError(
                "refresh", ["SECRET_HASH needs the username, and the tokens name none"]
            )
        auth["SECRET_HASH"] = secret_hash(config.client_secret, username, config.client_id)
    params = {"ClientId": config.client_id, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": auth}
    if config.admin:
        params["UserPoolId"] = config.user_pool_id
        return Request("AdminInitiateAuth", params)
    return Request("InitiateAuth", params)


#: Error codes with which an endpoint says it does not know an operation (AWS JSON protocol and emulators).
_UNKNOWN_OPERATION_CODES = frozenset(
    {"UnknownOperationException", "UnsupportedOperationException", "InvalidAction", "NotImplemented"}
)
#: Statuses of a non-JSON error answer that mean "no such operation here" rather than a passing fault.
_NO_SUCH_OPERATION_STATUSES = frozenset({400, 404, 405, 500, 501})


def refresh_unavailable(error: CognitoError) -> bool:
    """Whether GetTokensFromRefreshToken failed because the endpoint does not offer it at all.

    Cognito answers every operation it has with a JSON error; an endpoint without the operation (an older
    emulator, a partition it has not reached) answers with an unknown-operation code or a non-JSON error
    page. A gateway's 502/503/504 is a passing fault, not a missing operation, and a modeled Cognito error
    (``NotAuthorizedException``, ``InvalidParameterException``...) is the operation's own answer.
    """
    if isinstance(error, ServiceError):
        return error.code in _UNKNOWN_OPERATION_CODES
    return isinstance(error, ResponseParseError) and error.status in _NO_SUCH_OPERATION_STATUSES
