"""Copies of a pool's user data kept for point-in-time recovery, bounded in time, memory and count.

Before a write of user data the recovery hook asks :func:`keep` for a copy of the pool's users, groups,
users' MFA settings and passkeys. What keeps that affordable on a pool of any size:

* sharing: a user or group unchanged since the previous copy is the previous copy's record, not a new one,
  so memory grows with what changed, not with the pool times the number of copies;
* spacing: at most one copy per ``SNAPSHOT_INTERVAL`` second of pool time, and never more often than
  ``_COST_FACTOR`` times the wall time the last copy took (a huge pool is copied less often);
* thinning: the oldest copy within retention stays, and a newer one only when it is at least
  ``1/_DENSITY`` of its age newer than the last one kept before it, so the copies of 14 days number in
  the hundreds, not in the millions; a recovery point resolves to the first copy taken after it.

Passkeys live in ``pool.features["webauthn_credentials"]``; the MFA settings beside a user in the protocol
state (TOTP secret, email MFA switches).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._records import Group, User, UserPool
    from ._state import PoolState

__all__ = ["SNAPSHOT_INTERVAL", "NO_SECRETS", "Snapshot", "copy_record", "secrets_view", "take", "keep"]

#: at most one copy of a pool's user data per this many seconds of pool time
SNAPSHOT_INTERVAL = 1.0
#: MFA settings kept beside a user (UserSecrets): TOTP secret, email MFA on, email MFA preferred
NO_SECRETS: tuple[Any, ...] = (None, False, False)
_COST_FACTOR = 20.0
_DENSITY = 8.0
_PASSKEYS = "webauthn_credentials"


@dataclass
class Snapshot:
    """A pool's user data at one moment (records shared with the previous copy where unchanged)."""

    taken_at: float
    users: dict[str, User]  # by sub
    mfa: dict[str, tuple[Any, ...]] = field(repr=False)  # by sub
    groups: dict[str, Group]
    passkeys: dict[str, list[dict[str, Any]]] = field(repr=False)  # by sub, as webauthn keeps them
    cost: float = 0.0  # wall seconds the copy took


def secrets_view(state: PoolState, pool: UserPool, sub: str) -> tuple[Any, ...]:
    kept = state.users.get((pool.id, sub))
    if kept is None:
        return NO_SECRETS
    return (kept.totp_secret, kept.email_mfa_enabled, kept.email_mfa_preferred)


def copy_record(record: Any) -> Any:
    """A copy of a record, its containers and the dicts in its lists (records hold strings, not objects)."""
    twin = copy.copy(record)
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, (dict, set)):
            setattr(twin, f.name, type(value)(value))
        elif isinstance(value, list):
            setattr(twin, f.name, [dict(v) if isinstance(v, dict) else v for v in value])
    return twin


def _same(kept: Any, live: Any) -> bool:
    return all(getattr(kept, f.name) == getattr(live, f.name) for f in fields(live))


def _shared(previous: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, record in live.items():
        kept = previous.get(key)
        out[key] = kept if kept is not None and _same(kept, record) else copy_record(record)
    return out


def take(state: PoolState, pool: UserPool, now: float, previous: Snapshot | None = None) -> Snapshot:
    """A copy of the pool's user data now (sharing ``previous``'s unchanged records)."""
    started = time.perf_counter()
    users = {u.sub: u for u in pool.users.values()}
    snapshot = Snapshot(
        taken_at=now,
        users=_shared(previous.users if previous else {}, users),
        mfa={sub: secrets_view(state, pool, sub) for sub in users},
        groups=_shared(previous.groups if previous else {}, dict(pool.groups)),
        passkeys=copy.deepcopy(dict(pool.features.get(_PASSKEYS) or {})),
    )
    snapshot.cost = time.perf_counter() - started
    return snapshot


def keep(
    state: PoolState, pool: UserPool, snapshots: list[Snapshot], now: float, retention: float, *, force: bool
) -> list[Snapshot]:
    """``snapshots`` (oldest first) with a new copy when one is due, thinned and within ``retention``."""
    last = snapshots[-1] if snapshots else None
    if last is not None and not force:
        if now - last.taken_at < max(SNAPSHOT_INTERVAL, _COST_FACTOR * last.cost):
            return snapshots
    fresh = take(state, pool, now, last)
    kept: list[Snapshot] = []
    for snapshot in snapshots:  # oldest first: the oldest within retention stays
        age = now - snapshot.taken_at
        if age > retention:
            continue
        if not kept or snapshot.taken_at - kept[-1].taken_at >= age / _DENSITY:
            kept.append(snapshot)
    kept.append(fresh)
    return kept
