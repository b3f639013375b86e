"""From a Cognito error to an HTTP answer: :data:`COGNITO_ERRORS` and :func:`http_error`.

Every body is ``{"error": <word>, "message": <text>, ...}``; the word is for programs, the text for people.
The rules the table keeps:

* **No user enumeration**: ``UserNotFoundException`` answers exactly what a wrong password answers (401
  ``not_authorized``, same body, same headers). Sign-up cannot hide an existing username
  (``UsernameExistsException``, 409): Cognito itself tells. Turn on the app client's
  PreventUserExistenceErrors (the default for new clients) so that recovery and confirmation codes do
  not tell either.
* **Nothing echoed**: no password, code or token is ever in a body; Cognito's own message is passed on
  only where it is the point (the password policy of ``InvalidPasswordException``), masked with
  :func:`aiocognito._errors.redact` and dropped when it holds any of the request's secret values.
  A malformed request body answers 400 ``bad_request`` naming fields, never values (FastAPI's default
  422 would send the input back).
* A wrong or expired code (400) leaves a saved challenge answerable; throttling answers 429 with
  ``Retry-After``; an expired challenge session answers 401 "sign in again"; when Cognito or its keys
  cannot be reached, 503.

========================================  ======  ===========================  ==========================
Cognito error                             status  ``error``                    notes
========================================  ======  ===========================  ==========================
NotAuthorizedException                    401     not_authorized               also a disabled user
UserNotFoundException                     401     not_authorized               same body as the above
CodeMismatchException                     400     code_mismatch                try again
EnableSoftwareTokenMFAException           400     code_mismatch                TOTP set-up's wrong code
ExpiredCodeException                      400     code_expired                 e.g. a used TOTP code
InvalidPasswordException                  400     invalid_password             with the policy message
PasswordHistoryPolicyViolationException   400     invalid_password             with Cognito's message
InvalidParameterException                 400     invalid_parameter            message not passed on
UserLambdaValidationException             400     rejected                     a trigger refused
SoftwareTokenMFANotFoundException         400     totp_not_enabled
UserNotConfirmedException                 403     user_not_confirmed
PasswordResetRequiredException            403     password_reset_required
ForbiddenException                        403     forbidden                    AWS WAF
UsernameExistsException                   409     username_exists
AliasExistsException                      409     alias_exists
TooManyRequestsException                  429     too_many_requests            ``Retry-After: 1``
LimitExceededException                    429     too_many_requests            ``Retry-After: 60``
TooManyFailedAttemptsException            429     too_many_requests            ``Retry-After: 60``
CodeDeliveryFailureException              502     code_delivery_failed
any other Cognito error code              502     cognito_error
========================================  ======  ===========================  ==========================

and by exception type: :class:`~aiocognito.SessionExpiredError` 401 ``session_expired``,
:class:`~aiocognito.SignInRequired` 401 ``sign_in_required``, :class:`~aiocognito.InvalidToken` 401
``invalid_token`` (``WWW-Authenticate: Bearer error="invalid_token"``), :class:`~aiocognito.JwksUnavailable`
503 ``keys_unavailable``, :class:`~aiocognito.TransportError` 503 ``cognito_unavailable``,
:class:`~aiocognito.redis.RedisUnavailable` 503 ``store_unavailable`` (``Retry-After: 1``),
:class:`~aiocognito.ParamValidationError` 400 ``bad_request`` (its problems name parameters, not values),
``ResponseParseError``/``ProtocolError`` 502 ``cognito_error``, ``ConfigurationError``/``CredentialsError``
500 ``server_misconfigured``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .._errors import (
    CognitoError,
    ConfigurationError,
    CredentialsError,
    InvalidToken,
    JwksUnavailable,
    ParamValidationError,
    RedisUnavailable,
    ServiceError,
    SessionExpiredError,
    SignInError,
    SignInRequired,
    TransportError,
    redact,
)

__all__ = ["COGNITO_ERRORS", "ErrorRule", "HttpError", "bad_request", "bearer_challenge", "http_error"]


@dataclass(frozen=True)
class ErrorRule:
    """One row of the table: the status, the ``error`` word, the message, and ``Retry-After`` seconds.

    ``cognito_message``: pass Cognito's message on (masked) instead of ``message``.
    """

    status: int
    error: str
    message: str
    retry_after: int | None = None
    cognito_message: bool = False


_NOT_AUTHORIZED = ErrorRule(401, "not_authorized", "incorrect username or password")
_THROTTLED = "too many requests: try again later"

#: Cognito error code -> how it is answered. Codes not here answer 502 ``cognito_error``.
COGNITO_ERRORS: Mapping[str, ErrorRule] = MappingProxyType(
    {
        "NotAuthorizedException": _NOT_AUTHORIZED,
        "UserNotFoundException": _NOT_AUTHORIZED,  # the same answer: who exists is not told
        "CodeMismatchException": ErrorRule(400, "code_mismatch", "wrong code: try again"),
        "EnableSoftwareTokenMFAException": ErrorRule(400, "code_mismatch", "wrong code: try again"),
        "ExpiredCodeException": ErrorRule(400, "code_expired", "the code expired or was used: use a new one"),
        "InvalidPasswordException": ErrorRule(
            400, "invalid_password", "the password does not meet the policy", cognito_message=True
        ),
        "PasswordHistoryPolicyViolationException": ErrorRule(
            400, "invalid_password", "the password was used before", cognito_message=True
        ),
        "InvalidParameterException": ErrorRule(400, "invalid_parameter", "a value was refused"),
        "UserLambdaValidationException": ErrorRule(400, "rejected", "refused by the user pool's rules"),
        "SoftwareTokenMFANotFoundException": ErrorRule(
            400, "totp_not_enabled", "no authenticator app is set up"
        ),
        "UserNotConfirmedException": ErrorRule(403, "user_not_confirmed", "confirm the sign-up first"),
        "PasswordResetRequiredException": ErrorRule(
            403, "password_reset_required", "reset the password (POST /password/forgot)"
        ),
        "ForbiddenException": ErrorRule(403, "forbidden", "the request was refused"),
        "UsernameExistsException": ErrorRule(409, "username_exists", "this username is taken"),
        "AliasExistsException": ErrorRule(409, "alias_exists", "this email or phone number is taken"),
        "TooManyRequestsException": ErrorRule(429, "too_many_requests", _THROTTLED, retry_after=1),
        "LimitExceededException": ErrorRule(429, "too_many_requests", _THROTTLED, retry_after=60),
        "TooManyFailedAttemptsException": ErrorRule(429, "too_many_requests", _THROTTLED, retry_after=60),
        "CodeDeliveryFailureException": ErrorRule(502, "code_delivery_failed", "the code could not be sent"),
    }
)

_UNKNOWN_SERVICE_ERROR = ErrorRule(502, "cognito_error", "the user pool refused the request")


class HttpError(Exception):
    """An HTTP answer for a failed request: ``status``, JSON ``body`` (``{"error": error, **extra}``) and
    ``headers``. The routes raise it; both adapters turn it into a response."""

    def __init__(
        self, status: int, error: str, *, headers: Mapping[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(f"{status} {error}")
        self.status = status
        self.body: dict[str, Any] = {"error": error, **extra}
        self.headers: dict[str, str] = dict(headers or {})

    @property
    def error(self) -> str:
        """The body's ``error`` word."""
        return str(self.body["error"])

    def __repr__(self) -> str:
        return f"HttpError({self.status}, {self.error!r})"


def bearer_challenge(error: str | None = None, *, scope: Iterable[str] = ()) -> dict[str, str]:
    """The ``WWW-Authenticate`` header of RFC 6750: ``Bearer`` alone when the request had no bearer token,
    else ``Bearer error="..."`` (and ``scope="..."`` for ``insufficient_scope``)."""
    if error is None:
        return {"WWW-Authenticate": "Bearer"}
    value = f'Bearer error="{error}"'
    scopes = " ".join(scope)
    if scopes:
        value += f', scope="{scopes}"'
    return {"WWW-Authenticate": value}


def bad_request(message: str, *, fields: Iterable[str] = ()) -> HttpError:
    """400 ``bad_request``: ``message`` and the names of the offending ``fields`` (never their values)."""
    error = HttpError(400, "bad_request", message=message)
    names = sorted(set(fields))
    if names:
        error.body["fields"] = names
    return error


def _clean(message: str, secrets: Iterable[str]) -> str | None:
    """``message`` masked, or None when it holds one of the request's secret values."""
    if any(secret and secret in message for secret in secrets):
        return None
    return redact(message, limit=300)


def http_error(exc: BaseException, *, secrets: Iterable[str] = ()) -> HttpError:
    """The HTTP answer for ``exc`` (see the module docstring for the table).

    ``secrets``: the request's secret values (passwords, codes); a message holding one is not passed on.
    Exceptions that are not aiocognito's answer 500 ``internal_error``.
    """
    secrets = tuple(secrets)
    if isinstance(exc, HttpError):
        return exc
    if isinstance(exc, ServiceError):
        rule = COGNITO_ERRORS.get(exc.code, _UNKNOWN_SERVICE_ERROR)
        message = rule.message
        if rule.cognito_message and exc.message:
            message = _clean(exc.message, secrets) or rule.message
        headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else None
        return HttpError(rule.status, rule.error, headers=headers, message=message)
    if isinstance(exc, InvalidToken):
        return HttpError(401, "invalid_token", headers=bearer_challenge("invalid_token"), reason=exc.reason)
    if isinstance(exc, JwksUnavailable):
        return HttpError(503, "keys_unavailable", message="the user pool's keys cannot be fetched now")
    if isinstance(exc, SessionExpiredError):
        return HttpError(401, "session_expired", message="sign in again")
    if isinstance(exc, SignInRequired):
        return HttpError(401, "sign_in_required", message="sign in again")
    if isinstance(exc, SignInError):
        return HttpError(401, "session_expired", message="sign in again")
    if isinstance(exc, ParamValidationError):
        problems = [_clean(p, secrets) for p in exc.problems]
        return bad_request("; ".join(p for p in problems if p) or "invalid request")
    if isinstance(exc, TransportError):
        return HttpError(503, "cognito_unavailable", message="the user pool cannot be reached now")
    if isinstance(exc, RedisUnavailable):
        return HttpError(
            503,
            "store_unavailable",
            headers={"Retry-After": "1"},
            message="the server's store cannot be reached now",
        )
    if isinstance(exc, (ConfigurationError, CredentialsError)):
        return HttpError(500, "server_misconfigured", message="the server is not set up for this")
    if isinstance(exc, CognitoError):  # ResponseParseError, ProtocolError, ...
        return HttpError(502, "cognito_error", message="the user pool sent an answer that cannot be used")
    return HttpError(500, "internal_error", message="internal error")
