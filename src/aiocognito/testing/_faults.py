"""Fault injection for reliability tests: seeded, and honest about what took effect.

Per request, in this order:

1. **throttle**: above ``throttle_rps`` (a token bucket holding one second's worth of requests) the
   request is refused with ``TooManyRequestsException`` (HTTP 400), as Cognito refuses it.
2. one uniform draw from the seeded generator decides among
   **error** (HTTP 500 ``InternalErrorException``), **drop** (the connection is closed before the request
   is read into the pool) and **lost_reply** (the request takes effect, then the connection is closed
   before the answer is written), with the given probabilities.

Throttle, error and drop have no effect on the pool's state; lost_reply does. :attr:`FaultInjector.log`
records every injected fault with that distinction, so a test can reconcile what the client saw with what
the pool holds (a lost reply to a request that failed anyway counts as no effect).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Literal

__all__ = ["FaultPlan", "FaultInjector", "FaultEvent", "FaultKind"]

FaultKind = Literal["throttle", "error", "drop", "lost_reply"]


@dataclass(frozen=True)
class FaultPlan:
    """What to inject. Rates are probabilities per request; ``operations`` limits faults to those names.

    Args:
        seed: seed of the generator (same seed, same requests: same faults).
        throttle_rps: refuse requests above this rate with ``TooManyRequestsException``; None: never.
        error_rate: probability of an HTTP 500 ``InternalErrorException`` (no effect).
        drop_rate: probability of a closed connection before the request is handled (no effect).
        lost_reply_rate: probability that the request takes effect and the answer is lost.
        operations: operation names the faults apply to; None: every operation.
    """

    seed: int | None = 0
    throttle_rps: float | None = None
    error_rate: float = 0.0
    drop_rate: float = 0.0
    lost_reply_rate: float = 0.0
    operations: frozenset[str] | None = None

    def __post_init__(self) -> None:
        rates = (self.error_rate, self.drop_rate, self.lost_reply_rate)
        if any(r < 0 for r in rates) or sum(rates) > 1:
            raise ValueError("fault rates must be >= 0 and sum to at most 1")
        if self.throttle_rps is not None and self.throttle_rps <= 0:
            raise ValueError("throttle_rps must be positive")


@dataclass(frozen=True)
class FaultEvent:
    """One injected fault: the operation, the kind, and whether the request took effect."""

    operation: str
    kind: FaultKind
    took_effect: bool


class FaultInjector:
    """Decides, per request, which fault (if any) to inject under a :class:`FaultPlan`."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._random = random.Random(plan.seed)
        self._tokens = float(plan.throttle_rps or 0.0)
        self._refilled_at: float | None = None
        self.log: list[FaultEvent] = []

    def __repr__(self) -> str:
        return f"<FaultInjector {self.plan!r} injected={len(self.log)}>"

    def counts(self) -> Counter[str]:
        """How many faults of each kind were injected."""
        return Counter(event.kind for event in self.log)

    def decide(self, operation: str, now: float) -> FaultKind | None:
        """The fault to inject into this request (logged), or None."""
        plan = self.plan
        if plan.operations is not None and operation not in plan.operations:
            return None
        if plan.throttle_rps is not None and not self._take_token(plan.throttle_rps, now):
            return self._record(operation, "throttle")
        draw = self._random.random()
        if draw < plan.error_rate:
            return self._record(operation, "error")
        draw -= plan.error_rate
        if draw < plan.drop_rate:
            return self._record(operation, "drop")
        draw -= plan.drop_rate
        if draw < plan.lost_reply_rate:
            return "lost_reply"  # logged by note_lost_reply once the outcome is known
        return None

    def note_lost_reply(self, operation: str, took_effect: bool) -> None:
        """Log a lost reply; ``took_effect`` is False when the request itself failed."""
        self.log.append(FaultEvent(operation, "lost_reply", took_effect=took_effect))

    def _take_token(self, rate: float, now: float) -> bool:
        capacity = max(1.0, rate)
        if self._refilled_at is not None:
            self._tokens = min(capacity, self._tokens + (now - self._refilled_at) * rate)
        else:
            self._tokens = capacity
        self._refilled_at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def _record(self, operation: str, kind: FaultKind) -> FaultKind:
        self.log.append(FaultEvent(operation, kind, took_effect=False))
        return kind
