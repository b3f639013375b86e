"""The exception tree of aiocognito.

::

    CognitoError
    ├── ConfigurationError          the client cannot be set up (no region, a bad endpoint option)
    ├── CredentialsError            a signed operation and no AWS credentials anywhere in the chain
    ├── ParamValidationError        the caller's parameters break the model (also a ValueError)
    ├── TransportError              the request did not get a usable HTTP answer
    │   ├── ConnectionFailedError   connect/reset/DNS failure (``before_send`` says if it never left)
    │   └── RequestTimeoutError     no answer within the configured timeout
    ├── ResponseParseError          the server's answer is not what the protocol allows (status + excerpt)
    ├── ProtocolError               the server's values break the auth protocol (bad SRP_B, u == 0, ...)
    ├── PaginationError             a listing sent back the same page token twice
    ├── BulkJobAborted              a bulk job stopped on an error that concerns the whole job (``.cause``)
    ├── RedisUnavailable            a shared store (``aiocognito.redis``) could not be reached or refused
    ├── ServiceError                Cognito answered with an error code (``.code``, ``.response``)
    │   └── one class per modeled code, named exactly as the service names it (see ``errors``)
    ├── SignInError                 the sign-in cannot go on
    │   ├── SessionExpiredError     the challenge session is gone: sign in again
    │   └── SignInRequired          the tokens cannot be refreshed any more: sign in again
    └── TokenError                  token verification
        ├── InvalidToken            the token is not acceptable (``.reason``)
        │   └── TokenExpired
        └── JwksUnavailable         the pool's keys could not be fetched and none are cached

Messages never carry secrets: nothing here formats a password, token, session or client secret, and
excerpts of server bodies pass through :func:`redact` first.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "CognitoError",
    "ConfigurationError",
    "CredentialsError",
    "ParamValidationError",
    "TransportError",
    "ConnectionFailedError",
    "RequestTimeoutError",
    "ResponseParseError",
    "ProtocolError",
    "PaginationError",
    "BulkJobAborted",
    "RedisUnavailable",
    "ServiceError",
    "SignInError",
    "SessionExpiredError",
    "SignInRequired",
    "TokenError",
    "InvalidToken",
    "TokenExpired",
    "JwksUnavailable",
    "redact",
]

# JWTs (three base64url segments), and long opaque base64 runs (sessions, refresh tokens, secrets).
_SECRET_LIKE = re.compile(r"[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*|[A-Za-z0-9+/=_\-]{40,}")


def redact(text: str, limit: int = 200) -> str:
    """Shorten ``text`` to ``limit`` characters and mask anything that looks like a token or secret."""
    text = _SECRET_LIKE.sub("<redacted>", text)
    if len(text) > limit:
        text = text[:limit] + "..."
    return text


class CognitoError(Exception):
    """Base class of every error aiocognito raises."""


class ConfigurationError(CognitoError):
    """The client cannot be set up as asked (no region, conflicting endpoint options, ...)."""


class CredentialsError(CognitoError):
    """A signed (IAM) operation was called and no AWS credentials could be found."""


class ParamValidationError(CognitoError, ValueError):
    """The parameters of a call do not match the operation's model; nothing was sent."""

    def __init__(self, operation: str, problems: list[str]) -> None:
        self.operation = operation
        self.problems = problems
        super().__init__(f"invalid parameters for {operation}: " + "; ".join(problems))


class TransportError(CognitoError):
    """The request did not get a usable HTTP answer."""

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        before_send: bool = False,
        status: int | None = None,
    ) -> None:
        self.operation = operation
        #: True when the request certainly never reached the server (so repeating it is always safe).
        self.before_send = before_send
        #: The HTTP status, when the answer's head arrived before the connection broke.
        self.status = status
        super().__init__(message)

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text} (operation {self.operation})" if self.operation else text


class ConnectionFailedError(TransportError):
    """Connecting failed, or the connection broke before the whole answer arrived."""


class RequestTimeoutError(TransportError):
    """No complete answer within the configured timeout."""


class ResponseParseError(CognitoError):
    """The server's answer is not valid for the protocol (not JSON, an HTML error page, truncated...)."""

    def __init__(self, message: str, *, operation: str | None, status: int, excerpt: str) -> None:
        self.operation = operation
        self.status = status
        self.excerpt = excerpt
        super().__init__(f"{message} (operation {operation}, HTTP {status}): {excerpt!r}")


class ProtocolError(CognitoError):
    """The server sent values that break the authentication protocol (for example SRP_B % N == 0)."""


class PaginationError(CognitoError):
    """A paginated listing cannot go on (the server sent back a token it had already sent)."""


class BulkJobAborted(CognitoError):
    """A bulk job (:mod:`aiocognito.bulk`) stopped early on an error that concerns the whole job.

    ``cause`` is that error (a :class:`CredentialsError`, the service's ``UnrecognizedClientException`` or
    ``ResourceNotFoundException`` for the user pool, the :class:`TransportError` of an unreachable
    endpoint, ...); ``reason`` says what it is about (``"credentials"``, ``"permissions"``, ``"user pool"``,
    ``"group"``, ``"endpoint"`` or ``"configuration"``); ``report`` is the job's report so far (a
    ``BulkReport``). Rows that were not settled have no outcome: they were neither done nor failed, and a
    rerun of the same rows picks them up.
    """

    def __init__(self, operation: str, reason: str, cause: CognitoError, report: Any = None) -> None:
        self.operation = operation
        self.reason = reason
        self.cause = cause
        self.report = report
        if isinstance(cause, ServiceError):
            detail = f"{cause.code}: {cause.message}" if cause.message else cause.code
        else:
            detail = f"{type(cause).__name__}: {cause}"
        what = _ABORT_REASONS.get(reason, reason)
        super().__init__(f"{operation} job stopped ({what}): " + " ".join(detail.split()))


_ABORT_REASONS = {
    "credentials": "AWS credentials missing or refused",
    "permissions": "access denied",
    "user pool": "user pool not usable",
    "group": "group not found",
    "endpoint": "endpoint unreachable",
    "configuration": "configuration error",
}


class RedisUnavailable(CognitoError):
    """Redis (``aiocognito.redis``) could not be reached, did not answer in time, or refused the command;
    nothing was assumed (a load never answers "nothing stored" because Redis was down)."""


class ServiceError(CognitoError):
    """Cognito answered with an error.

    Attributes mirror botocore's ``ClientError``: ``err.response["Error"]["Code"]`` works.
    """

    code: str = ""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        operation: str | None = None,
        request_id: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        if code is not None:
            self.code = code
        self.message = message
        self.operation = operation
        self.request_id = request_id
        self.status = status
        self.extra = extra or {}
        error: dict[str, Any] = {"Code": self.code, "Message": message}
        error.update(self.extra)
        self.response: dict[str, Any] = {
            "Error": error,
            "ResponseMetadata": {"RequestId": request_id, "HTTPStatusCode": status},
        }
        super().__init__(f"{self.code} in {operation} (HTTP {status}, request {request_id}): {message}")

    @property
    def operation_name(self) -> str | None:
        """botocore's name for :attr:`operation`."""
        return self.operation


class SignInError(CognitoError):
    """The sign-in cannot go on from here."""


class SessionExpiredError(SignInError):
    """The challenge session expired or was already used: start a new sign-in."""


class SignInRequired(SignInError):
    """The session's tokens can no longer be refreshed: sign in again."""


class TokenError(CognitoError):
    """Base of token verification errors."""


class InvalidToken(TokenError):
    """The token is not acceptable; ``reason`` is a short machine-readable word."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"invalid token: {reason}" + (f" ({detail})" if detail else ""))


class TokenExpired(InvalidToken):
    """The token's ``exp`` is in the past (beyond the leeway)."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("expired", detail)


class JwksUnavailable(TokenError):
    """The pool's JWKS could not be fetched and no cached key can be used."""
