"""The local pool's request-rate quotas: ``TooManyRequestsException`` above a category's rate, as Cognito.

Cognito refuses a call with ``TooManyRequestsException`` ("Rate exceeded", HTTP 400) when the account's
calls in the operation's quota category (``aiocognito.quotas.OPERATION_CATEGORY``) go over the category's
rate. The local pool does the same, per category, with the rate from, in this order:

1. ``LocalUserPool(quotas={"UserCreation": 20, ...})``: the rates a test asks for;
2. the category's provisioned limit, once ``UpdateProvisionedLimit`` has set one (the account's settings);
3. otherwise none: the category is not throttled (the default, so a test that does not ask sees no
   throttling; the free quotas of a real account are not imposed).

Each category is a token bucket holding one second's worth of requests (the shape of
:attr:`FaultPlan.throttle_rps`): a sustained rate above the quota is refused, a burst up to one second's
worth after a quiet spell is not. AWS does not publish its algorithm; this is the usual one. A refused call
has no effect and takes no token. The per-pool, per-operation limit of the ``UserPool*`` categories is not
enforced. The decision is pure: :meth:`CategoryThrottle.refuses` takes ``now``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping

from ..quotas import CATEGORY_RPS, CHALLENGE_CATEGORY, OPERATION_CATEGORY, TokenBucket

__all__ = ["CategoryThrottle"]


class CategoryThrottle:
    """Decides, per request, whether the operation's quota category is over its rate.

    Args:
        quotas: requests per second per category (``CATEGORY_RPS`` names, or ``"UserAuthenticationChallenge"``
            for RespondToAuthChallenge); these win over provisioned limits.
        provisioned: returns the provisioned limits set so far (category -> requests per second), read on
            every request so that an ``UpdateProvisionedLimit`` applies at once.
    """

    def __init__(
        self,
        quotas: Mapping[str, float] | None = None,
        provisioned: Callable[[], Mapping[str, float]] = dict,
    ) -> None:
        known = {*CATEGORY_RPS, CHALLENGE_CATEGORY}
        rates: dict[str, float] = {}
        for category, value in (quotas or {}).items():
            if category not in known:
                raise ValueError(f"unknown quota category {category!r}")
            rate = float(value)
            if not rate > 0:
                raise ValueError(f"the quota of {category} must be positive")
            rates[category] = rate
        self.quotas = rates
        self._provisioned = provisioned
        self._buckets: dict[str, TokenBucket] = {}
        #: Requests refused for rate, per category.
        self.refused: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"<CategoryThrottle quotas={self.quotas} refused={dict(self.refused)}>"

    def rate(self, category: str) -> float | None:
        """The rate ``category`` is held to (None: not throttled)."""
        rate = self.quotas.get(category)
        if rate is None:
            value = self._provisioned().get(category)
            rate = float(value) if value is not None else None
        return rate

    def refuses(self, operation: str, now: float) -> bool:
        """True when ``operation`` is over its category's rate at ``now`` (counted in :attr:`refused`);
        otherwise the request takes a token and False is returned."""
        category = OPERATION_CATEGORY.get(operation)
        if category is None:
            return False
        rate = self.rate(category)
        if rate is None:
            return False
        bucket = self._buckets.get(category)
        if bucket is None or bucket.target != rate:  # new, or the provisioned limit changed
            capacity = max(1.0, rate)
            tokens = capacity
            if bucket is not None and bucket.updated is not None:  # keep what is left, refilled to now
                tokens = min(capacity, bucket.tokens + max(0.0, now - bucket.updated) * bucket.target)
            bucket = TokenBucket(target=rate, capacity=capacity, tokens=tokens, updated=now)
            self._buckets[category] = bucket
        if bucket.take(now) > 0.0:
            self.refused[category] += 1
            return True
        return False
