"""Auth events: what a sign-in, sign-up or recovery records when the pool has threat protection.

``record_auth_event`` is called by the sign-in and code services; the event operations (AdminListUserAuthEvents
and the feedback operations, in ``_api.account``) read what it kept in ``pool.features["auth_events"]``.
Cognito records events only with threat protection (``UserPoolAddOns.AdvancedSecurityMode`` AUDIT or
ENFORCED); its risk scores need its threat model, so every event here is NoRisk.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._records import User, UserPool
    from ._state import PoolState

__all__ = ["AUTH_EVENTS", "AuthEvent", "record_auth_event", "threat_protection"]

AUTH_EVENTS = "auth_events"
_EVENT_TYPES = frozenset({"SignIn", "SignUp", "ForgotPassword", "PasswordChange", "ResendCode"})
_EVENT_RESPONSES = frozenset({"Pass", "Fail", "InProgress"})
_CHALLENGE_NAMES = frozenset({"Password", "Mfa"})
_CHALLENGE_RESULTS = frozenset({"Success", "Failure"})
_NO_RISK = {"RiskDecision": "NoRisk", "CompromisedCredentialsDetected": False}


@dataclass(eq=False)
class AuthEvent:
    """One recorded auth event (AuthEventType) and the feedback token its notification would carry."""

    event_id: str
    seq: int
    event_type: str
    created: float
    response: str
    risk: dict[str, Any]
    challenges: list[dict[str, str]]
    context: dict[str, str] | None
    feedback_token: str = field(repr=False)
    feedback: dict[str, Any] | None = None

    def describe(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "EventId": self.event_id,
            "EventType": self.event_type,
            "CreationDate": self.created,
            "EventResponse": self.response,
            "EventRisk": dict(self.risk),
            "ChallengeResponses": [dict(c) for c in self.challenges],
        }
        if self.context:
            body["EventContextData"] = dict(self.context)
        if self.feedback is not None:
            body["EventFeedback"] = dict(self.feedback)
        return body


def threat_protection(pool: UserPool) -> bool:
    mode = (pool.config.get("UserPoolAddOns") or {}).get("AdvancedSecurityMode")
    return mode in ("AUDIT", "ENFORCED")


def record_auth_event(
    state: PoolState,
    pool: UserPool,
    user: User,
    *,
    event_type: str,
    response: str,
    challenges: Sequence[tuple[str, str]] = (),
    context: Mapping[str, str] | None = None,
    risk: Mapping[str, Any] | None = None,
) -> AuthEvent | None:
    """Record an auth event for ``user`` when the pool has threat protection; the event, else None.

    Args:
        event_type: SignIn, SignUp, ForgotPassword, PasswordChange or ResendCode.
        response: Pass, Fail or InProgress.
        challenges: ``(name, result)`` pairs: name Password or Mfa, result Success or Failure.
        context: EventContextData members (IpAddress, DeviceName, Timezone, City, Country).
        risk: EventRisk members (default: no risk, no compromised credentials).
    """
    if event_type not in _EVENT_TYPES or response not in _EVENT_RESPONSES:
        raise ValueError(f"not an auth event: {event_type}/{response}")
    if any(n not in _CHALLENGE_NAMES or r not in _CHALLENGE_RESULTS for n, r in challenges):
        raise ValueError(f"not challenge responses: {list(challenges)}")
    if not threat_protection(pool):
        return None
    events: list[AuthEvent] = pool.features.setdefault(AUTH_EVENTS, {}).setdefault(user.sub, [])
    event = AuthEvent(
        event_id=str(uuid.UUID(bytes=state.random_bytes(16), version=4)),
        seq=len(events),
        event_type=event_type,
        created=state.now(),
        response=response,
        risk=dict(risk or _NO_RISK),
        challenges=[{"ChallengeName": n, "ChallengeResponse": r} for n, r in challenges],
        context=dict(context) if context else None,
        feedback_token=state.token(32),
    )
    events.append(event)
    return event
