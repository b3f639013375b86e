"""Session settings (SetUserPoolSessionConfiguration and its client form), as sign-in and the operations read them.

Kept in ``pool.features["sessions"]``: ``{"pool": {UserSessionTracking, TokenSession} | None, "clients":
{client id: {SSOSession}}}``; what was never set reads as Cognito's defaults (tracking off, 20 token
sessions per user, SSO sessions of 60 minutes).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._records import UserPool

__all__ = ["session_configuration", "sessions_store", "max_token_sessions"]

_POOL_SESSIONS: dict[str, Any] = {"UserSessionTracking": "DISABLED", "TokenSession": {"MaxPerUser": 20}}
_CLIENT_SESSIONS: dict[str, Any] = {"SSOSession": {"MaxValidityMinutes": 60}}


def sessions_store(pool: UserPool) -> dict[str, Any]:
    """The pool's stored session settings (created empty on first use)."""
    store: dict[str, Any] = pool.features.setdefault("sessions", {"pool": None, "clients": {}})
    return store


def session_configuration(pool: UserPool, client_id: str | None = None) -> dict[str, Any]:
    """The session settings in force: the pool's, and the client's SSO session when ``client_id`` is given
    (Cognito's defaults where nothing was set)."""
    store = sessions_store(pool)
    settings = copy.deepcopy(store["pool"] or _POOL_SESSIONS)
    if client_id is not None:
        settings.update(copy.deepcopy(store["clients"].get(client_id) or _CLIENT_SESSIONS))
    return settings


def max_token_sessions(pool: UserPool) -> int | None:
    """How many token sessions a user may have at once (None: tracking is off, no limit)."""
    settings = session_configuration(pool)
    if settings["UserSessionTracking"] != "ENABLED":
        return None
    return int(settings["TokenSession"]["MaxPerUser"])
