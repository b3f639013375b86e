"""Pacing calls against Cognito's per-category request-rate quotas.

Cognito groups its user-pool operations into quota categories; each category has one request-per-second
quota shared by every caller in the account and region (protocol doc section 8, and
https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html). :class:`QuotaPacer` keeps one token
bucket per category, shared by every task that uses the same client, so a bulk run stays under the quota
instead of collecting ``TooManyRequestsException`` answers.

Rules this module follows (and where the docs are silent, the decision taken):

* ``OPERATION_CATEGORY`` puts every one of the 153 operations in a category. Operations the quotas page
  lists are marked ``documented`` in ``DOCUMENTED``; the others are placed by the category descriptions
  (reads of a user's resources in ``UserResourceRead``, pool configuration in ``UserPool*``, app-client
  configuration in ``UserPoolClient*``, token exchange and session revocation in ``UserToken``).
* ``RespondToAuthChallenge``/``AdminRespondToAuthChallenge`` get their own bucket,
  ``UserAuthenticationChallenge``, at three times the ``UserAuthentication`` rate. Cognito counts a
  ``NEW_PASSWORD_REQUIRED`` answer against ``UserAccountRecovery``; the pacer only sees the operation name,
  so it paces all challenge answers in the challenge bucket and relies on :meth:`QuotaPacer.on_throttled`
  if those answers are ever the bottleneck.
* Operations in the ``UserPoolResource*`` and ``UserPoolClient*`` categories are also limited to 5 RPS per
  user pool and operation. The pacer does not see the pool, so it applies that limit per operation (exact
  for the usual single-pool client, conservative for a client serving several pools).
* The pacer aims at ``utilization`` (95 %) of each quota, so clock differences and network jitter do not
  push a window over the limit, and allows a burst of about 20 ms of calls (at least one call).
* On a throttling answer the category's rate is cut by ``backoff`` (half) at most once per ``cooldown``
  seconds, then grows back linearly to the target over ``recovery`` seconds.

The bucket arithmetic (:class:`TokenBucket`) is pure: it takes ``now`` and returns how long to wait. The
slowdown and recovery (:func:`recovering_rate`, :func:`cut_rate`) and the parsing of overrides
(:func:`quota_rates`) are pure functions shared with the Redis pacer (``aiocognito.redis``), whose buckets
live in Redis so that every process of an account paces together. :class:`Pacer` is the interface a client
accepts as ``quotas=``: this module's :class:`QuotaPacer` or any object with the same four members.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ._errors import ConfigurationError

__all__ = [
    "CATEGORY_RPS",
    "CHALLENGE_CATEGORY",
    "DOCUMENTED",
    "OPERATION_CATEGORY",
    "PER_POOL_OPERATION_RPS",
    "PER_POOL_CATEGORIES",
    "Pacer",
    "QuotaPacer",
    "TokenBucket",
    "category_of",
    "cut_rate",
    "quota_rates",
    "recovering_rate",
]

logger = logging.getLogger("aiocognito.quotas")

#: The challenge-answer bucket (not a Cognito category name: Cognito calls it "3 x UserAuthentication").
CHALLENGE_CATEGORY = "UserAuthenticationChallenge"

#: Published default quotas in requests per second (quotas page, checked 2026). The challenge bucket is
#: derived: 3 x UserAuthentication, unless overridden on its own.
CATEGORY_RPS: dict[str, float] = {
    "UserAuthentication": 120.0,
    "UserCreation": 50.0,
    "UserFederation": 25.0,
    "UserAccountRecovery": 30.0,
    "UserRead": 120.0,
    "UserUpdate": 25.0,
    "UserToken": 120.0,
    "UserResourceRead": 50.0,
    "UserResourceUpdate": 25.0,
    "UserList": 30.0,
    "UserPoolRead": 15.0,
    "UserPoolUpdate": 15.0,
    "UserPoolResourceRead": 20.0,
    "UserPoolResourceUpdate": 15.0,
    "UserPoolClientRead": 15.0,
    "UserPoolClientUpdate": 15.0,
    "ClientAuthentication": 150.0,
    "LimitManagement": 1.0,
}

#: Categories whose every operation is also capped per user pool (footnote 3 of the quotas page).
PER_POOL_CATEGORIES = frozenset(
    {"UserPoolResourceRead", "UserPoolResourceUpdate", "UserPoolClientRead", "UserPoolClientUpdate"}
)
#: The per-pool, per-operation cap of those categories; override with the key ``"PerPoolOperation"``.
PER_POOL_OPERATION_RPS = 5.0
_PER_POOL_KEY = "PerPoolOperation"
_EPSILON = 1e-9

_DOCUMENTED_TABLE: dict[str, tuple[str, ...]] = {
    "UserAuthentication": ("InitiateAuth", "AdminInitiateAuth", "GetTokensFromRefreshToken"),
    CHALLENGE_CATEGORY: ("RespondToAuthChallenge", "AdminRespondToAuthChallenge"),
    "UserCreation": ("SignUp", "ConfirmSignUp", "AdminCreateUser", "AdminConfirmSignUp"),
    "UserAccountRecovery": (
        "ChangePassword",
        "ConfirmForgotPassword",
        "ForgotPassword",
        "AdminResetUserPassword",
        "AdminSetUserPassword",
    ),
    "UserRead": ("AdminGetUser", "AdminGetUserAuthFactors", "GetUser"),
    "UserUpdate": (
        "AdminAddUserToGroup",
        "AdminDeleteUserAttributes",
        "AdminUpdateUserAttributes",
        "AdminDeleteUser",
        "AdminDisableUser",
        "AdminEnableUser",
        "AdminLinkProviderForUser",
        "AdminDisableProviderForUser",
        "VerifyUserAttribute",
        "DeleteUser",
        "DeleteUserAttributes",
        "UpdateUserAttributes",
        "AdminUserGlobalSignOut",
        "GlobalSignOut",
        "AdminRemoveUserFromGroup",
    ),
    "UserToken": ("RevokeToken",),
    "UserResourceRead": (
        "AdminGetDevice",
        "AdminListGroupsForUser",
        "AdminListDevices",
        "GetDevice",
        "ListDevices",
        "GetUserAttributeVerificationCode",
        "ResendConfirmationCode",
        "AdminListUserAuthEvents",
    ),
    "UserResourceUpdate": (
        "AdminForgetDevice",
        "AdminUpdateAuthEventFeedback",
        "AdminSetUserMFAPreference",
        "AdminDeleteSoftwareToken",
        "AdminSetUserSettings",
        "AdminUpdateDeviceStatus",
        "UpdateDeviceStatus",
        "UpdateAuthEventFeedback",
        "ConfirmDevice",
        "SetUserMFAPreference",
        "SetUserSettings",
        "VerifySoftwareToken",
        "AssociateSoftwareToken",
        "ForgetDevice",
    ),
    "UserList": ("ListUsers", "ListUsersInGroup"),
    "UserPoolRead": ("DescribeUserPool", "ListUserPools"),
    "UserPoolUpdate": ("CreateUserPool", "UpdateUserPool", "DeleteUserPool"),
    "UserPoolResourceRead": (
        "DescribeIdentityProvider",
        "DescribeResourceServer",
        "DescribeUserImportJob",
        "DescribeUserPoolDomain",
        "GetCSVHeader",
        "GetGroup",
        "GetSigningCertificate",
        "GetIdentityProviderByIdentifier",
        "GetUserPoolMfaConfig",
        "ListGroups",
        "ListIdentityProviders",
        "ListResourceServers",
        "ListTagsForResource",
        "ListUserImportJobs",
        "DescribeRiskConfiguration",
        "GetUICustomization",
        "DescribeManagedLoginBranding",
        "DescribeManagedLoginBrandingByClient",
    ),
    "UserPoolResourceUpdate": (
        "AddCustomAttributes",
        "CreateGroup",
        "CreateIdentityProvider",
        "CreateResourceServer",
        "CreateUserImportJob",
        "CreateUserPoolDomain",
        "DeleteGroup",
        "DeleteIdentityProvider",
        "DeleteResourceServer",
        "DeleteUserPoolDomain",
        "SetUserPoolMfaConfig",
        "StartUserImportJob",
        "StopUserImportJob",
        "UpdateGroup",
        "UpdateIdentityProvider",
        "UpdateResourceServer",
        "UpdateUserPoolDomain",
        "SetRiskConfiguration",
        "SetUICustomization",
        "TagResource",
        "UntagResource",
        "CreateManagedLoginBranding",
        "UpdateManagedLoginBranding",
        "DeleteManagedLoginBranding",
    ),
    "UserPoolClientRead": ("DescribeUserPoolClient", "ListUserPoolClients"),
    "UserPoolClientUpdate": ("CreateUserPoolClient", "DeleteUserPoolClient", "UpdateUserPoolClient"),
    "ClientAuthentication": ("GetClientToken",),
    "LimitManagement": ("GetProvisionedLimit", "UpdateProvisionedLimit"),
}

# Not on the quotas page: placed by the category descriptions. Change here when AWS documents them.
_INFERRED_TABLE: dict[str, tuple[str, ...]] = {
    "UserRead": ("GetUserAuthFactors",),  # the self-service twin of AdminGetUserAuthFactors
    "UserToken": ("GetDerivedToken", "RevokeUserSession", "AdminRevokeUserSession"),  # token management
    "UserResourceRead": ("ListWebAuthnCredentials", "ListUserSessions", "AdminListUserSessions"),
    "UserResourceUpdate": (
        "StartWebAuthnRegistration",
        "CompleteWebAuthnRegistration",
        "DeleteWebAuthnCredential",
    ),
    "UserPoolRead": (
        "ListUserPoolReplicas",
        "GetLogDeliveryConfiguration",
        "GetUserPoolSessionConfiguration",
        "DescribePointInTimeRecovery",
        "ListPointInTimeRecoveries",
    ),
    "UserPoolUpdate": (
        "CreateUserPoolReplica",
        "UpdateUserPoolReplica",
        "DeleteUserPoolReplica",
        "SetLogDeliveryConfiguration",
        "SetUserPoolSessionConfiguration",
        "InitiatePointInTimeRecovery",
        "StartPointInTimeRecovery",
        "CancelPointInTimeRecovery",
    ),
    "UserPoolResourceRead": ("DescribeTerms", "DescribeTermsByClient", "ListTerms"),
    "UserPoolResourceUpdate": ("CreateTerms", "UpdateTerms", "DeleteTerms"),
    "UserPoolClientRead": (
        "ListUserPoolClientSecrets",
        "GetUserPoolClientSessionConfiguration",
        "DescribeCIMDPolicy",
        "ListCIMDPolicies",
        "ListClientMetadataURLs",
    ),
    "UserPoolClientUpdate": (
        "AddUserPoolClientSecret",
        "DeleteUserPoolClientSecret",
        "SetUserPoolClientSessionConfiguration",
        "CreateCIMDPolicy",
        "UpdateCIMDPolicy",
        "DeleteCIMDPolicy",
        "UpdateClientMetadataURLState",
    ),
}


def _build_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for source in (_DOCUMENTED_TABLE, _INFERRED_TABLE):
        for category, operations in source.items():
            for operation in operations:
                if operation in table:  # pragma: no cover - guarded by the tests
                    raise AssertionError(f"{operation} is listed twice")
                table[operation] = category
    return table


#: Operation name -> the bucket that paces it.
OPERATION_CATEGORY: dict[str, str] = _build_table()
#: The operations whose category the quotas page states.
DOCUMENTED: frozenset[str] = frozenset(op for ops in _DOCUMENTED_TABLE.values() for op in ops)


def category_of(operation: str) -> str | None:
    """The bucket that paces ``operation`` (None for a name the table does not know)."""
    return OPERATION_CATEGORY.get(operation)


def recovering_rate(target: float, cut: float, cut_at: float, now: float, recovery: float) -> float:
    """The rate at ``now`` after a cut to ``cut`` at ``cut_at``: it grows back linearly, reaching ``target``
    ``recovery`` seconds after a cut to zero (so a cut to half the target takes ``recovery / 2``)."""
    if recovery <= 0:
        return target
    return min(target, cut + max(0.0, now - cut_at) * target / recovery)


def cut_rate(current: float, target: float, backoff: float) -> float:
    """The rate after a throttling answer: ``current * backoff``, with a floor of 2 % of the target (and
    0.05/s) so that repeated throttles never stop a category."""
    return max(current * backoff, target * 0.02, 0.05)


def quota_rates(overrides: Mapping[str, float] | None) -> tuple[dict[str, float], float]:
    """The quota of every category (published defaults with ``overrides`` applied, the challenge bucket
    derived) and the per-pool operation quota. Raises ConfigurationError for an unknown name or a bad value.
    """
    rates = dict(CATEGORY_RPS)
    per_pool = PER_POOL_OPERATION_RPS
    challenge: float | None = None
    for key, value in (overrides or {}).items():
        try:
            rate = float(value)
        except (TypeError, ValueError):
            raise ConfigurationError(f"quota for {key!r} must be a number") from None
        if not rate > 0:
            raise ConfigurationError(f"quota for {key!r} must be positive")
        if key == _PER_POOL_KEY:
            per_pool = rate
        elif key == CHALLENGE_CATEGORY:
            challenge = rate
        elif key in rates:
            rates[key] = rate
        else:
            known = ", ".join(sorted([*CATEGORY_RPS, CHALLENGE_CATEGORY, _PER_POOL_KEY]))
            raise ConfigurationError(f"unknown quota category {key!r} (known: {known})")
    rates[CHALLENGE_CATEGORY] = challenge if challenge is not None else 3 * rates["UserAuthentication"]
    return rates, per_pool


@runtime_checkable
class Pacer(Protocol):
    """What a client needs of a pacer (``CognitoClient(quotas=...)``): :class:`QuotaPacer` for one process,
    ``aiocognito.redis.RedisQuotaPacer`` for every process of an account and Region."""

    #: Calls refused for rate, per bucket (category name, or ``"op:<Operation>"`` for a per-pool bucket).
    throttles: dict[str, int]

    async def acquire(self, operation: str) -> None:
        """Return when ``operation`` may be sent."""

    def on_throttled(self, operation: str) -> None:
        """Cognito refused ``operation`` for rate."""

    def current_rate(self, category: str) -> float:
        """The rate (calls per second) allowed for ``category`` now."""


@dataclass
class TokenBucket:
    """One category's token bucket, with a throttle-driven slowdown. Pure: every method takes ``now``.

    ``target`` is the steady rate in calls per second; ``capacity`` the largest burst.
    """

    target: float
    capacity: float
    backoff: float = 0.5
    cooldown: float = 0.5
    recovery: float = 5.0
    tokens: float = 1.0
    updated: float | None = None
    _cut_rate: float | None = None
    _cut_at: float = float("-inf")

    def rate(self, now: float) -> float:
        """The rate in force at ``now``: the target, or a cut rate growing back to it."""
        cut = self._cut_rate
        if cut is None:
            return self.target
        grown = recovering_rate(self.target, cut, self._cut_at, now, self.recovery)
        if grown >= self.target:
            self._cut_rate = None
            return self.target
        return grown

    def _refill(self, now: float) -> float:
        rate = self.rate(now)
        if self.updated is not None and now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * rate)
        if self.updated is None or now > self.updated:
            self.updated = now
        return rate

    def take(self, now: float) -> float:
        """Take one token if there is one and return 0, else return the seconds until one is due."""
        rate = self._refill(now)
        if self.tokens >= 1.0 - _EPSILON:  # refills computed from a wait can land a hair under 1
            self.tokens = max(0.0, self.tokens - 1.0)
            return 0.0
        return (1.0 - self.tokens) / rate

    def throttled(self, now: float) -> bool:
        """Slow down after a throttling answer. Returns False when still cooling down from the last cut."""
        if now - self._cut_at < self.cooldown:
            return False
        current = self._refill(now)
        self._cut_rate = cut_rate(current, self.target, self.backoff)
        self._cut_at = now
        self.tokens = min(self.tokens, 0.0)
        return True


class QuotaPacer:
    """Waits before each call so that every quota category stays under its request rate.

    One pacer serves every task using a client; its buckets are shared. ``acquire(operation)`` returns when
    the call may be sent; ``on_throttled(operation)`` tells the pacer that Cognito refused a call for rate.

    Args:
        overrides: ``{"UserCreation": 20, ...}`` replaces the published default of those categories
            (requests per second; ``float("inf")`` disables pacing of one category). Also accepted:
            ``"UserAuthenticationChallenge"`` (default 3 x UserAuthentication) and ``"PerPoolOperation"``
            (default 5).
        utilization: fraction of each quota to aim at.
        backoff / cooldown / recovery: the slowdown on throttling (see the module docstring).
        clock / sleep: injected for tests.
    """

    def __init__(
        self,
        overrides: Mapping[str, float] | None = None,
        *,
        utilization: float = 0.95,
        burst_seconds: float = 0.02,
        backoff: float = 0.5,
        cooldown: float = 0.5,
        recovery: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if not 0 < utilization <= 1:
            raise ConfigurationError("utilization must be in (0, 1]")
        if not 0 < backoff < 1:
            raise ConfigurationError("backoff must be in (0, 1)")
        rates, per_pool = quota_rates(overrides)
        self.rates: dict[str, float] = rates
        self.per_pool_rate = per_pool
        self.utilization = utilization
        self._burst_seconds = burst_seconds
        self._bucket_options = {"backoff": backoff, "cooldown": cooldown, "recovery": recovery}
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, TokenBucket | None] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        #: Calls refused for rate, per category (for reports and tests).
        self.throttles: dict[str, int] = {}

    def __repr__(self) -> str:
        changed = {
            k: v for k, v in self.rates.items() if CATEGORY_RPS.get(k) != v and k != CHALLENGE_CATEGORY
        }
        return f"<QuotaPacer utilization={self.utilization} overrides={changed}>"

    def _bucket(self, key: str, quota: float) -> TokenBucket | None:
        if key in self._buckets:
            return self._buckets[key]
        bucket: TokenBucket | None = None
        if quota != float("inf"):
            target = quota * self.utilization
            bucket = TokenBucket(
                target=target, capacity=max(1.0, target * self._burst_seconds), **self._bucket_options
            )
        self._buckets[key] = bucket
        self._locks[key] = asyncio.Lock()
        return bucket

    def _keys(self, operation: str) -> list[tuple[str, TokenBucket]]:
        category = OPERATION_CATEGORY.get(operation)
        if category is None:
            return []
        keys: list[tuple[str, TokenBucket]] = []
        if category in PER_POOL_CATEGORIES:  # the narrower bucket first, so no category token waits on it
            op_bucket = self._bucket("op:" + operation, self.per_pool_rate)
            if op_bucket is not None:
                keys.append(("op:" + operation, op_bucket))
        bucket = self._bucket(category, self.rates[category])
        if bucket is not None:
            keys.append((category, bucket))
        return keys

    def current_rate(self, category: str) -> float:
        """The rate (calls per second) the pacer allows for ``category`` right now."""
        bucket = self._bucket(category, self.rates[category])
        return float("inf") if bucket is None else bucket.rate(self._clock())

    async def acquire(self, operation: str) -> None:
        """Wait until ``operation`` may be sent. Unknown operation names are not paced."""
        for key, bucket in self._keys(operation):
            # One waiter per bucket sleeps at a time; the rest queue (FIFO) on the lock, so a rate cut
            # takes effect for the very next call and no herd wakes up per token.
            async with self._locks[key]:
                while True:
                    wait = bucket.take(self._clock())
                    if wait <= 0.0:
                        break
                    await self._sleep(wait)

    def on_throttled(self, operation: str) -> None:
        """Cognito refused ``operation`` for rate: slow its category (and its per-pool bucket) down."""
        now = self._clock()
        for key, bucket in self._keys(operation):
            self.throttles[key] = self.throttles.get(key, 0) + 1
            if bucket.throttled(now):
                logger.debug("%s throttled: %s slowed to %.1f/s", operation, key, bucket.rate(now))
