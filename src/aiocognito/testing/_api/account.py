"""A user's factors and settings, their sessions and their auth events.

Operations: GetUserAuthFactors and AdminGetUserAuthFactors, SetUserSettings and AdminSetUserSettings,
AdminDeleteSoftwareToken, ListUserSessions and AdminListUserSessions, RevokeUserSession and
AdminRevokeUserSession, AdminListUserAuthEvents, AdminUpdateAuthEventFeedback and UpdateAuthEventFeedback.

As Cognito does them:

* the auth factors answer the user's MFA facts (the factors they have enabled that the pool offers, and the
  preferred one) and ``ConfiguredUserAuthFactors``, what the user can use in USER_AUTH: PASSWORD when they
  have a password and the pool's sign-in policy allows it, EMAIL_OTP / SMS_OTP with a verified email /
  phone number when the policy allows them (or when they are the user's enabled MFA factor), WEB_AUTHN with
  a registered passkey when the policy allows passkey sign-in or the pool has passkey MFA, SOFTWARE_TOKEN
  with an enabled authenticator app (an MFA factor only);
* the legacy settings (MFAOptions) only configure SMS MFA: ``[{"DeliveryMedium": "SMS", "AttributeName":
  "phone_number"}]`` turns the user's SMS MFA on (AdminGetUser then answers the options), an empty list
  turns it off (and drops it as the preferred factor); any other medium or attribute is refused;
* AdminDeleteSoftwareToken removes the user's authenticator (verified or waiting for verification) and any
  preference for it, leaving their other factors alone; a user without one is ResourceNotFoundException;
* sessions: with session tracking on (SetUserPoolSessionConfiguration), each sign-in is a token session:
  the family of refresh tokens it issued (one ``origin_jti``), active while one of its refresh tokens is
  neither revoked nor expired. Its id (``tkn`` + 25 lowercase letters and digits) is derived from the
  family, so it is stable and reveals no token. Revoking a session revokes its refresh and access tokens
  (a refresh is then "Refresh Token has been revoked"); a user cannot revoke the session of the access
  token they call with. With tracking off Cognito keeps no session records: the lists are empty and there
  is nothing to revoke. There are no SSO sessions (no managed login here), so RevokeAssociatedSessions
  has nothing more to revoke;
* auth events are recorded only with threat protection (``UserPoolAddOns.AdvancedSecurityMode`` AUDIT or
  ENFORCED), by :func:`record_auth_event`, for sign-in, sign-up and recovery to call. Without it the event
  operations are UserPoolAddOnNotEnabledException. Events list newest first (MaxResults 0 means 60).
  Each event has its own random feedback token (what the notification email would carry); feedback is
  stored on the event (Provider ``Admin`` from the admin operation, ``User`` with the token). Cognito's
  risk scores, and what it learns from feedback, need its threat model: every event here is NoRisk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ... import errors
from .. import _rules
from .._auth_events import AUTH_EVENTS, AuthEvent, record_auth_event, threat_protection
from .._session_config import session_configuration
from ._base import Context, Route, page

if TYPE_CHECKING:
    from .._records import User, UserPool
    from .._state import RefreshRecord

__all__ = [
    "ROUTES",
    "FIDELITY",
    "AuthEvent",
    "record_auth_event",
    "configured_auth_factors",
    "session_id",
    "session_tracking",
    "AUTH_EVENTS",
]

#: ``pool.features`` key: sub -> the user's recorded :class:`AuthEvent` list, oldest first
#: ``pool.features`` key of the passkeys: sub -> list of credentials
WEBAUTHN_CREDENTIALS = "webauthn_credentials"

_FACTOR_ORDER = ("PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN", "SOFTWARE_TOKEN")
_SESSION_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_SESSIONS_PER_PAGE = 125
_EVENTS_PER_PAGE = 60
_ADD_ON_OFF = "Threat protection (UserPoolAddOns) is not enabled for this user pool."
_NO_SESSION = "Session not found."
_NO_EVENT = "Auth event not found."


# ===== auth factors =======================================================================================
def _verified(user: User, attribute: str) -> bool:
    attrs = _rules.attributes(user)
    return bool(attrs.get(attribute)) and attrs.get(f"{attribute}_verified", "").lower() == "true"


def configured_auth_factors(
    pool: UserPool, user: User, *, mfa_factors: Sequence[str], has_passkeys: bool
) -> list[str]:
    """ConfiguredUserAuthFactors: what ``user`` can use in USER_AUTH, first factors and MFA factors.

    ``mfa_factors`` are the user's enabled MFA factors the pool offers (``MfaService.enabled_factors``).
    """
    policy = (pool.config.get("Policies") or {}).get("SignInPolicy") or {}
    allowed = set(policy.get("AllowedFirstAuthFactors") or ["PASSWORD"])
    passkey_mfa = (pool.mfa.get("WebAuthnConfiguration") or {}).get("FactorConfiguration")
    usable = {
        "PASSWORD": "PASSWORD" in allowed and bool(user.password),
        "EMAIL_OTP": ("EMAIL_OTP" in allowed and _verified(user, "email")) or "EMAIL_OTP" in mfa_factors,
        "SMS_OTP": ("SMS_OTP" in allowed and _verified(user, "phone_number")) or "SMS_MFA" in mfa_factors,
        "WEB_AUTHN": has_passkeys
        and ("WEB_AUTHN" in allowed or passkey_mfa == "MULTI_FACTOR_WITH_USER_VERIFICATION"),
        "SOFTWARE_TOKEN": "SOFTWARE_TOKEN_MFA" in mfa_factors,
    }
    return [factor for factor in _FACTOR_ORDER if usable[factor]]


def _auth_factors(ctx: Context, pool: UserPool, user: User) -> dict[str, Any]:
    mfa_factors = ctx.mfa.enabled_factors(pool, user)
    passkeys = (pool.features.get(WEBAUTHN_CREDENTIALS) or {}).get(user.sub)
    body: dict[str, Any] = {"Username": user.username}
    preferred = ctx.mfa.preferred_factor(pool, user)
    if preferred:
        body["PreferredMfaSetting"] = preferred
    if mfa_factors:
        body["UserMFASettingList"] = mfa_factors
    body["ConfiguredUserAuthFactors"] = configured_auth_factors(
        pool, user, mfa_factors=mfa_factors, has_passkeys=bool(passkeys)
    )
    return body


def get_user_auth_factors(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user, _key = ctx.lookups.token_user(params["AccessToken"])
    return _auth_factors(ctx, pool, user)


def admin_get_user_auth_factors(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    return _auth_factors(ctx, pool, user)


# ===== legacy MFA settings ================================================================================
def _set_mfa_options(ctx: Context, user: User, options: Iterable[Mapping[str, Any]]) -> None:
    kept: list[dict[str, str]] = []
    for option in options:
        if option.get("DeliveryMedium") != "SMS":
            raise errors.InvalidParameterException("Only SMS can be set as the MFA delivery medium.")
        if option.get("AttributeName") != "phone_number":
            raise errors.InvalidParameterException("Only phone_number can be set as the MFA attribute.")
        entry = {"DeliveryMedium": "SMS", "AttributeName": "phone_number"}
        if entry not in kept:
            kept.append(entry)
    user.mfa_options = kept
    user.sms_mfa_enabled = bool(kept)
    if not kept and user.preferred_mfa_setting == "SMS_MFA":
        user.preferred_mfa_setting = ""
    user.modified = ctx.state.now()


def set_user_settings(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    _pool, user, _key = ctx.lookups.token_user(params["AccessToken"])
    _set_mfa_options(ctx, user, params["MFAOptions"])
    return {}


def admin_set_user_settings(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    _pool, user = ctx.lookups.admin_user(params)
    _set_mfa_options(ctx, user, params["MFAOptions"])
    return {}


def admin_delete_software_token(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    if _rules.user_status(user) == "UNCONFIRMED":
        raise errors.UserNotConfirmedException("User is not confirmed.")
    secrets_ = ctx.state.secrets_for((pool.id, user.sub))
    if secrets_.totp_secret is None and secrets_.pending_totp_secret is None:
        raise errors.ResourceNotFoundException("The user has no software token.")
    secrets_.totp_secret = secrets_.pending_totp_secret = None
    user.software_token_mfa_enabled = False
    if user.preferred_mfa_setting == "SOFTWARE_TOKEN_MFA":
        user.preferred_mfa_setting = ""
    user.modified = ctx.state.now()
    return {}


# ===== sessions ===========================================================================================
def session_tracking(pool: UserPool) -> bool:
    """Whether the pool tracks sessions (SetUserPoolSessionConfiguration; off by default)."""
    return bool(session_configuration(pool)["UserSessionTracking"] == "ENABLED")


def session_id(origin_jti: str) -> str:
    """The id of the token session of one sign-in: ``tkn`` + 25 base-36 digits derived from its family."""
    number = int.from_bytes(hashlib.sha256(f"token-session:{origin_jti}".encode()).digest(), "big")
    digits = []
    for _ in range(25):
        number, digit = divmod(number, 36)
        digits.append(_SESSION_ALPHABET[digit])
    return "tkn" + "".join(digits)


@dataclass
class _Session:
    origin_jti: str
    client_id: str
    created: float
    last_active: float


def _sessions(ctx: Context, pool: UserPool, user: User) -> list[_Session]:
    """The user's active token sessions (none when the pool does not track sessions)."""
    if not session_tracking(pool):
        return []
    now = ctx.state.now()
    key = (pool.id, user.sub)
    families: dict[str, list[RefreshRecord]] = {}
    for record in ctx.state.refresh_tokens.values():
        if record.user == key:
            families.setdefault(record.origin_jti, []).append(record)
    found: list[_Session] = []
    for origin_jti, records in families.items():
        if not any(not r.revoked and now < r.expires_at for r in records):
            continue
        created = float(min(r.auth_time for r in records))
        active = [created, *(r.rotated_at for r in records if r.rotated_at is not None)]
        active += _refresh_times(ctx, pool, origin_jti, records[0].client_id)
        found.append(_Session(origin_jti, records[0].client_id, created, max(active)))
    return found


def _refresh_times(ctx: Context, pool: UserPool, origin_jti: str, client_id: str) -> list[float]:
    """When the family's access tokens were issued (sign-in and each refresh)."""
    client = pool.clients.get(client_id)
    if client is None:
        return []
    lifetime = _rules.token_lifetimes(client)[0]
    return [a.expires_at - lifetime for a in ctx.state.access_tokens.values() if a.origin_jti == origin_jti]


def _session_order(session: _Session) -> str:
    return f"{10**12 - int(session.created):013d}:{session_id(session.origin_jti)}"  # newest first


def _list_sessions(
    ctx: Context, params: Mapping[str, Any], pool: UserPool, user: User, current: str | None
) -> dict[str, Any]:
    found = _sessions(ctx, pool, user)
    chunk, next_token = page(found, params, key=_session_order, default=_SESSIONS_PER_PAGE)
    body: dict[str, Any] = {
        "Sessions": [
            {
                "SessionId": session_id(s.origin_jti),
                "SessionType": "TOKEN",
                "ClientId": s.client_id,
                "CreateDate": s.created,
                "LastActiveDate": s.last_active,
                "IsCurrentSession": s.origin_jti == current,
            }
            for s in chunk
        ]
    }
    if next_token:
        body["NextToken"] = next_token
    return body


def list_user_sessions(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user, _key = ctx.lookups.token_user(params["AccessToken"])
    current = ctx.issuer.check_access_token(params["AccessToken"]).origin_jti
    return _list_sessions(ctx, params, pool, user, current)


def admin_list_user_sessions(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    return _list_sessions(ctx, params, pool, user, None)


def _revoke(ctx: Context, pool: UserPool, user: User, wanted: str, current: str | None) -> None:
    for session in _sessions(ctx, pool, user):
        if session_id(session.origin_jti) == wanted:
            if session.origin_jti == current:
                raise errors.InvalidParameterException(
                    "You can't revoke the session of the access token in this request."
                )
            ctx.issuer.revoke_family(session.origin_jti)
            return
    raise errors.ResourceNotFoundException(_NO_SESSION)


def revoke_user_session(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user, _key = ctx.lookups.token_user(params["AccessToken"])
    current = ctx.issuer.check_access_token(params["AccessToken"]).origin_jti
    _revoke(ctx, pool, user, str(params["SessionId"]), current)
    return {}


def admin_revoke_user_session(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    _revoke(ctx, pool, user, str(params["SessionId"]), None)
    return {}


# ===== auth events ========================================================================================
def _events(pool: UserPool, user: User) -> list[AuthEvent]:
    if not threat_protection(pool):
        raise errors.UserPoolAddOnNotEnabledException(_ADD_ON_OFF)
    found: list[AuthEvent] = (pool.features.get(AUTH_EVENTS) or {}).get(user.sub, [])
    return found


def _event(pool: UserPool, user: User, event_id: object) -> AuthEvent:
    for event in _events(pool, user):
        if event.event_id == event_id:
            return event
    raise errors.ResourceNotFoundException(_NO_EVENT)


def admin_list_user_auth_events(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    events = _events(pool, user)
    limited = {**params, "MaxResults": params.get("MaxResults") or _EVENTS_PER_PAGE}
    chunk, next_token = page(events, limited, key=lambda e: f"{10**12 - e.seq:013d}")  # newest first
    body: dict[str, Any] = {"AuthEvents": [e.describe() for e in chunk]}
    if next_token:
        body["NextToken"] = next_token
    return body


def _give_feedback(ctx: Context, event: AuthEvent, value: object, provider: str) -> None:
    event.feedback = {"FeedbackValue": str(value), "Provider": provider, "FeedbackDate": ctx.state.now()}


def admin_update_auth_event_feedback(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    event = _event(pool, user, params["EventId"])
    _give_feedback(ctx, event, params["FeedbackValue"], "Admin")
    return {}


def update_auth_event_feedback(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user = ctx.lookups.admin_user(params)
    event = _event(pool, user, params["EventId"])
    if not _rules.secret_equals(event.feedback_token, params["FeedbackToken"]):
        raise errors.NotAuthorizedException("Invalid feedback token.")
    _give_feedback(ctx, event, params["FeedbackValue"], "User")
    return {}


ROUTES: dict[str, Route] = {
    "GetUserAuthFactors": get_user_auth_factors,
    "AdminGetUserAuthFactors": admin_get_user_auth_factors,
    "SetUserSettings": set_user_settings,
    "AdminSetUserSettings": admin_set_user_settings,
    "AdminDeleteSoftwareToken": admin_delete_software_token,
    "ListUserSessions": list_user_sessions,
    "AdminListUserSessions": admin_list_user_sessions,
    "RevokeUserSession": revoke_user_session,
    "AdminRevokeUserSession": admin_revoke_user_session,
    "AdminListUserAuthEvents": admin_list_user_auth_events,
    "AdminUpdateAuthEventFeedback": admin_update_auth_event_feedback,
    "UpdateAuthEventFeedback": update_auth_event_feedback,
}
#: operation -> "full", or "stored: <why the behaviour cannot be reproduced offline>"
FIDELITY: dict[str, str] = {name: "full" for name in ROUTES}
FIDELITY["AdminListUserAuthEvents"] = (
    "stored: risk scores need Cognito's threat model (events list as NoRisk)"
)
FIDELITY["AdminUpdateAuthEventFeedback"] = "stored: feedback trains Cognito's threat model, not reproduced"
FIDELITY["UpdateAuthEventFeedback"] = "stored: feedback trains Cognito's threat model, not reproduced"
