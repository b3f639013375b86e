"""When to repeat a failed call, and how long to wait first. Pure: randomness is a parameter.

The rule, per failure kind:

* **Rejected before any effect**, repeated for every operation: throttling (``TooManyRequestsException``,
  ``ThrottlingException``, HTTP 429: the request was refused, not processed) and connection failures that
  happened before the request was sent (``TransportError.before_send``).
* **Ambiguous** (the request may have taken effect), repeated only for operations that are safe to repeat:
  HTTP 5xx, ``InternalErrorException``/``InternalServerException``, a connection reset or a timeout after
  the request was sent.
* **Never repeated**: every other error, including ``LimitExceededException`` (an attempt limit measured in
  minutes: the caller should wait and tell the user, not spin).

Operations that are **not safe to repeat** after an ambiguous failure, and why:

* ``InitiateAuth``/``AdminInitiateAuth``: may send an SMS or email code each time.
* ``RespondToAuthChallenge``/``AdminRespondToAuthChallenge``, ``VerifySoftwareToken``,
  ``AssociateSoftwareToken``: a challenge session or code is consumed by the first attempt.
* ``SignUp``, ``ConfirmSignUp``, ``ForgotPassword``, ``ConfirmForgotPassword``, ``ResendConfirmationCode``,
  ``GetUserAttributeVerificationCode``, ``AdminResetUserPassword``, ``ChangePassword``, ``VerifyUserAttribute``:
  they send messages or consume codes and passwords.
* ``GetTokensFromRefreshToken``: with rotation the first attempt may have invalidated the token.
* ``ConfirmDevice``, ``StartWebAuthnRegistration``, ``CompleteWebAuthnRegistration``: single-use state.
* ``AdminUpdateUserAttributes``/``UpdateUserAttributes``: changing an email or phone number sends a
  verification message each time.
* ``AdminCreateUser`` and every ``Create*``/``Add*``/``Start*``/``Initiate*`` operation: a repeat creates a
  duplicate or fails with "already exists" although the first attempt worked. Bulk operations
  (``aiocognito.bulk``) handle that case themselves by checking the state.

Deletes, sign-outs, ``AdminConfirmSignUp`` and ``AdminSetUserPassword`` are repeated: their effect is the
same once or twice, so a repeat can do no harm. When the first attempt did take effect, the repeat may
answer with the state already reached (``UserNotFoundException`` after a delete,
``PasswordHistoryPolicyViolationException`` after setting the same password with a password history);
that error is then the truth about the pool, and ``aiocognito.bulk`` counts such rows as succeeded.

Waits: throttling waits longer (``throttle_base_delay``, 0.5 s, doubling up to ``max_delay``) than
transient failures (``base_delay``, 0.1 s), since Cognito's quotas are counted per second.
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable
from dataclasses import dataclass

from .._errors import ResponseParseError, ServiceError, TransportError

__all__ = [
    "RetryPolicy",
    "failure_kind",
    "is_safe_to_repeat",
    "is_throttle",
    "next_delay",
    "retry_delay",
    "UNSAFE_TO_REPEAT",
]

THROTTLE_CODES = frozenset({"TooManyRequestsException", "ThrottlingException", "ThrottledException"})
TRANSIENT_CODES = frozenset({"InternalErrorException", "InternalServerException", "ServiceUnavailable"})

UNSAFE_TO_REPEAT = frozenset(
    {
        "InitiateAuth",
        "AdminInitiateAuth",
        "RespondToAuthChallenge",
        "AdminRespondToAuthChallenge",
        "AssociateSoftwareToken",
        "VerifySoftwareToken",
        "SignUp",
        "ConfirmSignUp",
        "ForgotPassword",
        "ConfirmForgotPassword",
        "ResendConfirmationCode",
        "GetUserAttributeVerificationCode",
        "AdminResetUserPassword",
        "ChangePassword",
        "VerifyUserAttribute",
        "GetTokensFromRefreshToken",
        "ConfirmDevice",
        "StartWebAuthnRegistration",
        "CompleteWebAuthnRegistration",
        "AdminCreateUser",
        "AdminUpdateUserAttributes",
        "UpdateUserAttributes",
    }
)
_UNSAFE_PREFIXES = ("Create", "Add", "Start", "Initiate")


def is_safe_to_repeat(operation: str) -> bool:
    """True when repeating ``operation`` after an ambiguous failure cannot do harm."""
    return operation not in UNSAFE_TO_REPEAT and not operation.startswith(_UNSAFE_PREFIXES)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter.

    ``max_attempts`` counts the first attempt (1 disables retries). The wait before attempt ``n + 1`` is
    uniform in ``[0, min(max_delay, base * 2 ** (n - 1))]``, where ``base`` is ``throttle_base_delay``
    after throttling and ``base_delay`` after any other retryable failure.
    """

    max_attempts: int = 4
    base_delay: float = 0.1
    max_delay: float = 8.0
    throttle_base_delay: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.base_delay, self.max_delay, self.throttle_base_delay) < 0:
            raise ValueError("delays must not be negative")

    @classmethod
    def of(cls, retries: RetryPolicy | int | None) -> RetryPolicy:
        """A policy from what ``CognitoClient(retries=...)`` accepts: a policy, a number of attempts, None."""
        if retries is None:
            return cls()
        return retries if isinstance(retries, RetryPolicy) else cls(max_attempts=retries)


def is_throttle(error: BaseException) -> bool:
    """True for request-rate throttling: a throttling code, or HTTP 429 with or without a code."""
    if isinstance(error, ServiceError):
        return error.code in THROTTLE_CODES or error.status == 429
    return isinstance(error, ResponseParseError) and error.status == 429


def failure_kind(error: BaseException) -> str | None:
    """``"rejected"`` (no effect happened), ``"ambiguous"`` (it may have), or None (not retryable)."""
    if isinstance(error, TransportError):
        return "rejected" if error.before_send else "ambiguous"
    if is_throttle(error):
        return "rejected"
    if isinstance(error, ServiceError):
        return "ambiguous" if error.code in TRANSIENT_CODES or (error.status or 0) >= 500 else None
    if isinstance(error, ResponseParseError) and error.status >= 500:
        return "ambiguous"
    return None


def retry_delay(
    policy: RetryPolicy,
    attempt: int,
    error: BaseException,
    operation: str,
    random: Callable[[], float] = _random.random,
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or None when the error must reach the caller."""
    return next_delay(policy, attempt, error, repeatable=is_safe_to_repeat(operation), random=random)


def next_delay(
    policy: RetryPolicy,
    attempt: int,
    error: BaseException,
    *,
    repeatable: bool,
    random: Callable[[], float] = _random.random,
) -> float | None:
    """:func:`retry_delay` for a request whose safety to repeat is given (``repeatable``) rather than
    looked up by operation name: None when attempts are spent, the error is final, or it is ambiguous and
    the request must not be sent twice."""
    if attempt >= policy.max_attempts:
        return None
    kind = failure_kind(error)
    if kind is None or (kind == "ambiguous" and not repeatable):
        return None
    return backoff(policy, attempt, throttled=is_throttle(error), random=random)


def backoff(
    policy: RetryPolicy, attempt: int, *, throttled: bool, random: Callable[[], float] = _random.random
) -> float:
    """Full-jitter wait after failed attempt number ``attempt`` (1-based)."""
    base = policy.throttle_base_delay if throttled else policy.base_delay
    return random() * min(policy.max_delay, base * (2.0 ** (attempt - 1)))
