"""Multi-Region replicas and point-in-time recovery of user pools.

Replicas (CreateUserPoolReplica, ListUserPoolReplicas, UpdateUserPoolReplica, DeleteUserPoolReplica), as
Cognito does them:

* replication needs the Essentials or Plus plan (FeatureUnavailableInTierException on Lite), a pool
  encrypted with a multi-Region customer managed KMS key (a ``mrk-`` key in ``KeyConfiguration``), and at
  most one secondary replica (LimitExceededException), in another Region of the partition; the replica
  shares the pool's id, and its ARN names its own Region;
* the Region a request is signed for says which replica answers (elsewhere the pool does not exist);
  Create and Delete run only in the primary Region (OperationNotEnabledException), List and Update in both;
* a new secondary is ``CREATING``, then ``INACTIVE``; Update turns it ``ACTIVE`` or back; only an
  ``INACTIVE`` one is deleted (``DELETING``, then gone); the primary is listed first, ``PRIMARY``, ``ACTIVE``.

One local endpoint serves every Region: nothing is copied to the replica's Region and a replica keeps no
users or settings of its own (Create and Update are "stored"). :func:`replica_regions` gives ListUserPools
its ``ReplicaRegions``.

Point-in-time recovery (InitiatePointInTimeRecovery, DescribePointInTimeRecovery,
ListPointInTimeRecoveries, StartPointInTimeRecovery, CancelPointInTimeRecovery) is real: the dispatcher
calls :func:`before_operation` before every operation, which, before one that writes user data, keeps a
copy of the pool's users, groups, users' MFA settings and passkeys (``_snapshots``: at most one per
second of pool time, fewer as they age, so a recovery point resolves to the first copy after it), and refuses the write
(OperationNotEnabledException) while a recovery pauses writes. As Cognito does it:

* Initiate needs the Essentials plan (recovery up to 1 day back) or Plus (14 days), held since the
  recovery point; the point is at least 15 minutes past and not before the pool's creation; one active
  recovery per pool, five per account, one completed recovery per pool a day, three previews per pool
  and ten per account a day, ten per pool in 30 days (LimitExceededException); no running import job;
  the primary Region only;
* the preview counts, for Users, Groups, User MFAs and Passkeys, what the recovery creates (deleted since),
  updates (changed since) and deletes (created since); Initiate answers ``PREVIEW_GENERATING`` and the
  preview is ready (``PREVIEW_GENERATED``) right after; neither started nor cancelled within 24 hours, it
  expires (``PREVIEW_EXPIRED``);
* Start (from ``PREVIEW_GENERATED``) answers ``RESTORING`` and restores users (attributes, status, group
  memberships, passwords), groups, MFA settings and passkeys at once (``RESTORE_COMPLETED``); a user who
  changed their password since keeps it (and the status that came with it); users created since are
  deleted; app clients and pool settings are untouched;
* Cancel (before Start only) discards the preview (``PREVIEW_CANCELLED``); List: newest first, no previews.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING, Any

from ... import errors
from .. import _ids
from .. import _snapshots as snapshots
from .._records import Group, User, UserPool
from .._snapshots import NO_SECRETS, SNAPSHOT_INTERVAL, Snapshot, copy_record, secrets_view, take
from .._users import delete_user
from ._base import Context, Route, page
from .webauthn import CREDENTIALS

if TYPE_CHECKING:
    from .._state import PoolState

__all__ = ["ROUTES", "FIDELITY", "SNAPSHOT_INTERVAL", "USER_DATA_WRITES", "before_operation", "note_write"]
__all__ += ["regional_pool", "replica_regions"]

# ===== replicas ===========================================================================================

_REPLICAS = "replicas"  # pool.features key: Region -> _Replica
_REGION = re.compile(r"[a-z]{2,}(-[a-z]+)+-[0-9]+")


@dataclass
class _Replica:
    region: str
    status: str
    tags: dict[str, str] = field(default_factory=dict)


def _replicas(pool: UserPool) -> dict[str, _Replica]:
    return pool.features.setdefault(_REPLICAS, {})  # type: ignore[no-any-return]


def replica_regions(pool: UserPool) -> list[str]:
    """The Regions of a pool's secondary replicas (``ReplicaRegions`` of ListUserPools)."""
    return sorted(pool.features.get(_REPLICAS, {}))


def regional_pool(ctx: Context, user_pool_id: object, *, primary_only: bool = False) -> UserPool:
    """The pool as the request's Region sees it (none where it has no replica; some operations: primary only)."""
    pool = ctx.lookups.pool(user_pool_id)
    region = ctx.state.region_of_request
    if region == pool.region:
        return pool
    if region not in pool.features.get(_REPLICAS, {}):
        raise errors.ResourceNotFoundException(f"User pool {pool.id} does not exist.")
    if primary_only:
        raise errors.OperationNotEnabledException(
            "This operation is not available in a secondary replica Region of the user pool."
        )
    return pool


def _tier(pool: UserPool) -> str:
    return str(pool.config.get("UserPoolTier") or "ESSENTIALS")


def _replica_type(pool: UserPool, region: str, status: str, role: str) -> dict[str, Any]:
    arn = _ids.user_pool_arn(region, pool.account_id, pool.id)
    return {"RegionName": region, "Status": status, "Role": role, "UserPoolArn": arn}


def _secondary(pool: UserPool, region: str, action: str) -> _Replica:
    if region == pool.region:
        raise errors.InvalidParameterException(f"The primary replica of a user pool can't be {action}.")
    replica = _replicas(pool).get(region)
    if replica is None:
        raise errors.ResourceNotFoundException(f"User pool {pool.id} has no replica in {region}.")
    return replica


def create_user_pool_replica(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = regional_pool(ctx, params["UserPoolId"], primary_only=True)
    region = str(params["RegionName"])
    if _tier(pool) == "LITE":
        raise errors.FeatureUnavailableInTierException("Multi-Region replication needs Essentials or Plus.")
    if not _REGION.fullmatch(region):
        raise errors.InvalidParameterException(f"{region} is not a valid Region.")
    if region == pool.region:
        raise errors.InvalidParameterException("The replica Region must differ from the user pool's Region.")
    if _ids.partition(region) != _ids.partition(pool.region):
        raise errors.InvalidParameterException("The replica Region must be in the user pool's partition.")
    key = pool.config.get("KeyConfiguration") or {}
    if key.get("KeyType") != "CUSTOMER_MANAGED_KEY" or "/mrk-" not in str(key.get("KmsKeyArn") or ""):
        raise errors.InvalidParameterException("Replication needs a multi-Region customer managed KMS key.")
    replicas = _replicas(pool)
    if region in replicas:
        raise errors.InvalidParameterException(f"User pool {pool.id} already has a replica in {region}.")
    if replicas:
        raise errors.LimitExceededException("A user pool can have at most one secondary replica.")
    tags = {str(k): str(v) for k, v in (params.get("UserPoolTags") or {}).items()}
    replicas[region] = _Replica(region, "INACTIVE", tags)
    return {"UserPoolReplica": _replica_type(pool, region, "CREATING", "SECONDARY")}


def list_user_pool_replicas(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = regional_pool(ctx, params["UserPoolId"])
    entries = [(pool.region, "ACTIVE", "PRIMARY")]
    entries += [(r.region, r.status, "SECONDARY") for r in _replicas(pool).values()]
    chunk, token = page(entries, params, key=lambda e: f"{e[2] != 'PRIMARY':d}{e[0]}")
    listed = [_replica_type(pool, *entry) for entry in chunk]
    return {"UserPoolReplicas": listed, **({"NextToken": token} if token else {})}


def update_user_pool_replica(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = regional_pool(ctx, params["UserPoolId"])
    replica = _secondary(pool, str(params["RegionName"]), "changed")
    replica.status = str(params["Status"])
    return {"UserPoolReplica": _replica_type(pool, replica.region, replica.status, "SECONDARY")}


def delete_user_pool_replica(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = regional_pool(ctx, params["UserPoolId"], primary_only=True)
    replica = _secondary(pool, str(params["RegionName"]), "deleted")
    if replica.status != "INACTIVE":
        raise errors.InvalidParameterException(
            f"Only an INACTIVE replica can be deleted; the replica in {replica.region} is {replica.status}."
        )
    del _replicas(pool)[replica.region]
    return {"UserPoolReplica": _replica_type(pool, replica.region, "DELETING", "SECONDARY")}


# ===== point-in-time recovery: history ====================================================================

_PITR = "point_in_time_recovery"  # pool.features key: _History
_DAY = 86_400.0
_RETENTION = 15 * _DAY  # the longest recovery period (Plus: 14 days), and a margin
_MIN_AGE = 15 * 60.0
_ACTIVE = frozenset(
    "PREVIEW_GENERATING PREVIEW_GENERATED RESTORING TEMPORARY_INTERNAL_ERROR_SEE_SUPPORT_CASE AWS_ABORTED".split()
)
_IMPORTING = frozenset({"Pending", "InProgress", "Stopping"})


@dataclass
class _Restoration:
    restore_id: str
    restore_to: float
    triggered: float
    status: str
    preview: list[dict[str, Any]] | None = None
    snapshot: Snapshot | None = field(default=None, repr=False)
    ended: float | None = None


@dataclass
class _History:
    snapshots: list[Snapshot] = field(default_factory=list)  # oldest first
    tiers: list[tuple[float, str]] = field(default_factory=list)  # (changed at, plan before the change)
    restorations: dict[str, _Restoration] = field(default_factory=dict)


def _history(pool: UserPool) -> _History:
    return pool.features.setdefault(_PITR, _History())  # type: ignore[no-any-return]


def note_write(state: PoolState, pool: UserPool, *, force: bool = False) -> None:
    """Keep a copy of the pool's user data before a write (see ``_snapshots`` for how often and how long)."""
    history, now = _history(pool), state.now()
    history.tiers = [t for t in history.tiers if t[0] >= now - _RETENTION]
    history.snapshots = snapshots.keep(state, pool, history.snapshots, now, _RETENTION, force=force)


#: operations that write user data: paused during a recovery, and preceded by a copy for later ones
USER_DATA_WRITES = frozenset(
    """
    AdminAddUserToGroup AdminConfirmSignUp AdminCreateUser AdminDeleteSoftwareToken AdminDeleteUser
    AdminDeleteUserAttributes AdminDisableProviderForUser AdminDisableUser AdminEnableUser
    AdminLinkProviderForUser AdminRemoveUserFromGroup AdminResetUserPassword AdminSetUserMFAPreference
    AdminSetUserPassword AdminSetUserSettings AdminUpdateUserAttributes AssociateSoftwareToken
    ChangePassword CompleteWebAuthnRegistration ConfirmForgotPassword ConfirmSignUp CreateGroup
    CreateUserImportJob DeleteGroup DeleteUser DeleteUserAttributes DeleteWebAuthnCredential
    SetUserMFAPreference SetUserSettings SignUp StartUserImportJob StartWebAuthnRegistration UpdateGroup
    UpdateUserAttributes VerifySoftwareToken VerifyUserAttribute
    """.split()
)
_CHALLENGE_ANSWERS = frozenset({"RespondToAuthChallenge", "AdminRespondToAuthChallenge"})
#: sign-in steps that fail while writes are paused
_PAUSED_CHALLENGES = frozenset({"NEW_PASSWORD_REQUIRED", "MFA_SETUP", "SOFTWARE_TOKEN_MFA"})


def _pool_of(state: PoolState, params: Mapping[str, Any]) -> UserPool | None:
    """The pool an operation is about: its UserPoolId, ClientId, or the issuer of its AccessToken."""
    pool = state.user_pool(params.get("UserPoolId"))
    if pool is None and params.get("ClientId") is not None:
        found = state.app_client(params.get("ClientId"))
        pool = found[0] if found is not None else None
    token = params.get("AccessToken")
    if pool is None and isinstance(token, str) and token.count(".") == 2:
        try:
            claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
            pool = state.user_pool(str(claims.get("iss", "")).rsplit("/", 1)[-1])
        except (ValueError, AttributeError):
            return None
    return pool


def before_operation(state: PoolState, operation: str, params: Mapping[str, Any]) -> None:
    """The dispatcher's hook, called before every operation once its input is checked.

    Before a write of user data: OperationNotEnabledException while a recovery pauses writes (and for the
    NEW_PASSWORD_REQUIRED, MFA_SETUP and SOFTWARE_TOKEN_MFA sign-in steps), else a copy of the user data
    for point-in-time recovery. Before UpdateUserPool: the feature plan in effect until then.
    """
    if operation == "UpdateUserPool":
        pool = state.user_pool(params.get("UserPoolId"))
        if pool is not None:
            _history(pool).tiers.append((state.now(), _tier(pool)))
        return
    if operation not in USER_DATA_WRITES and operation not in _CHALLENGE_ANSWERS:
        return
    pool = _pool_of(state, params)
    if pool is None:
        return
    if _active(pool, state.now()) is not None:
        if operation in USER_DATA_WRITES or params.get("ChallengeName") in _PAUSED_CHALLENGES:
            raise errors.OperationNotEnabledException(
                "Write operations are paused while a point-in-time recovery of the user pool is in progress."
            )
        return
    note_write(state, pool)


# ===== point-in-time recovery: preview and restore ========================================================


def _plain(value: Any) -> Any:
    """A comparable form of a record (dataclasses by their fields)."""
    if is_dataclass(value) and not isinstance(value, type):
        return tuple((f.name, _plain(getattr(value, f.name))) for f in fields(value))
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _plain(v)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(value, key=repr))
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    return value


def _profile(user: User) -> Any:
    """What "Users" compares: attributes, status, enabled, memberships and password."""
    return _plain(
        (user.attributes, user.status, user.enabled, user.groups, user.password, user.password_history)
    )


def _mfa(user: User, secrets: tuple[Any, ...]) -> Any | None:
    """What "User MFAs" compares; None when the user has no MFA setting."""
    own: tuple[Any, ...] = (user.sms_mfa_enabled, user.software_token_mfa_enabled, user.preferred_mfa_setting)
    own += (user.mfa_options,)
    if not any(own) and not any(secrets):
        return None
    return _plain((own, secrets))


def _restored(current: User | None, past: User, restore_to: float) -> User:
    """The user as the recovery leaves it: as at the recovery point, but a newer password is kept."""
    user: User = copy_record(past)
    if current is not None and current.password_changed_at > restore_to:
        user.password, user.password_history = current.password, list(current.password_history)
        user.password_changed_at = current.password_changed_at
        if past.status in ("FORCE_CHANGE_PASSWORD", "RESET_REQUIRED"):
            user.status = current.status
    return user


def _targets(pool: UserPool, snap: Snapshot, restore_to: float) -> dict[str, User]:
    return {sub: _restored(pool.by_sub.get(sub), past, restore_to) for sub, past in snap.users.items()}


def _passkeys(store: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """What "Passkeys" compares, by credential id (signature counters aside: sign-ins are not writes)."""
    return {
        c["CredentialId"]: _plain((sub, {k: v for k, v in c.items() if k != "sign_count"}))
        for sub, credentials in store.items()
        for c in credentials
    }


def _count(entity: str, now: Mapping[str, Any], then: Mapping[str, Any]) -> dict[str, Any]:
    updated = sum(1 for key in then.keys() & now.keys() if then[key] != now[key])
    created, deleted = len(then.keys() - now.keys()), len(now.keys() - then.keys())
    return {"Entity": entity, "CreateCount": created, "UpdateCount": updated, "DeleteCount": deleted}


def _preview(state: PoolState, pool: UserPool, snap: Snapshot, restore_to: float) -> list[dict[str, Any]]:
    targets = _targets(pool, snap, restore_to)

    def groups(found: Mapping[str, Group]) -> dict[str, Any]:
        return {n: _plain((g.description, g.role_arn, g.precedence)) for n, g in found.items()}

    def mfas(users: Mapping[str, User], secrets: Any) -> dict[str, Any]:
        views = {sub: _mfa(user, secrets(sub)) for sub, user in users.items()}
        return {sub: view for sub, view in views.items() if view is not None}

    rows = [
        (
            "Users",
            {s: _profile(u) for s, u in pool.by_sub.items()},
            {s: _profile(u) for s, u in targets.items()},
        ),
        ("Groups", groups(pool.groups), groups(snap.groups)),
        (
            "User MFAs",
            mfas(pool.by_sub, lambda sub: secrets_view(state, pool, sub)),
            mfas(targets, lambda sub: snap.mfa.get(sub, NO_SECRETS)),
        ),
        ("Passkeys", _passkeys(pool.features.get(CREDENTIALS) or {}), _passkeys(snap.passkeys)),
    ]
    return [_count(*row) for row in rows]


def _restore(ctx: Context, pool: UserPool, snap: Snapshot, restore_to: float) -> None:
    state = ctx.state
    targets = _targets(pool, snap, restore_to)
    for user in [u for u in pool.users.values() if u.sub not in targets]:
        delete_user(state, ctx.issuer, pool, user)
    for sub, target in targets.items():
        current = pool.by_sub.get(sub)
        if current is None:
            pool.add_user(target)
        else:
            for f in fields(User):
                setattr(current, f.name, getattr(target, f.name))
        past_secrets = snap.mfa.get(sub, NO_SECRETS)
        if past_secrets != secrets_view(state, pool, sub):
            kept = state.secrets_for((pool.id, sub))
            kept.totp_secret, kept.email_mfa_enabled, kept.email_mfa_preferred = past_secrets
    for name in [n for n in pool.groups if n not in snap.groups]:
        del pool.groups[name]
    for name, past in snap.groups.items():
        current_group = pool.groups.get(name)
        if current_group is None:
            pool.groups[name] = copy_record(past)
        else:
            for f in fields(Group):
                setattr(current_group, f.name, getattr(past, f.name))
    counters = {
        c["CredentialId"]: c.get("sign_count")
        for cs in pool.features.get(CREDENTIALS, {}).values()
        for c in cs
    }
    restored = copy.deepcopy(snap.passkeys)
    for credential in (c for cs in restored.values() for c in cs if c["CredentialId"] in counters):
        credential["sign_count"] = counters[credential["CredentialId"]]  # sign-ins are not reverted
    pool.features[CREDENTIALS] = restored


# ===== point-in-time recovery: operations =================================================================


def _refresh(history: _History, now: float) -> None:
    """A preview neither started nor cancelled within 24 hours expires."""
    for r in history.restorations.values():
        if r.status == "PREVIEW_GENERATED" and now >= r.triggered + _DAY:
            r.status, r.preview, r.snapshot, r.ended = "PREVIEW_EXPIRED", None, None, r.triggered + _DAY


def _active(pool: UserPool, now: float) -> _Restoration | None:
    if _PITR not in pool.features:
        return None
    history = _history(pool)
    _refresh(history, now)
    return next((r for r in history.restorations.values() if r.status in _ACTIVE), None)


def _recovering_pool(ctx: Context, params: Mapping[str, Any]) -> UserPool:
    pool = regional_pool(ctx, params["UserPoolId"], primary_only=True)
    if _tier(pool) == "LITE":
        raise errors.FeatureUnavailableInTierException("Point-in-time recovery needs Essentials or Plus.")
    _refresh(_history(pool), ctx.state.now())
    return pool


def _restoration(pool: UserPool, restore_id: object) -> _Restoration:
    found = _history(pool).restorations.get(str(restore_id))
    if found is None:
        raise errors.ResourceNotFoundException(f"Recovery {restore_id} does not exist in {pool.id}.")
    return found


def _restoration_type(r: _Restoration, status: str | None = None, *, preview: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"RestoreId": r.restore_id, "RestoreStatus": status or r.status}
    body.update(RestoreTimestamp=r.restore_to, TriggerTimestamp=r.triggered)
    if preview and r.preview is not None:
        body["RestorePreview"] = copy.deepcopy(r.preview)
    return body


def _check_recovery_point(pool: UserPool, history: _History, restore_to: float, now: float) -> None:
    if restore_to > now - _MIN_AGE:
        raise errors.InvalidParameterException("The recovery point must be at least 15 minutes in the past.")
    if restore_to < pool.created:
        raise errors.InvalidParameterException("The recovery point can't precede the user pool's creation.")
    plans = {plan for changed, plan in history.tiers if changed > restore_to} | {_tier(pool)}
    if "LITE" in plans:
        raise errors.InvalidParameterException("The pool was on the Lite plan after the recovery point.")
    days = 14 if plans == {"PLUS"} else 1
    if restore_to < now - days * _DAY:
        raise errors.InvalidParameterException(
            f"With its feature plan, the pool recovers {days} day(s) back."
        )


def _check_limits(state: PoolState, pool: UserPool, history: _History, now: float) -> None:
    mine, day, month = list(history.restorations.values()), now - _DAY, now - 30 * _DAY
    every = [
        r for p in state.pools.values() if _PITR in p.features for r in _history(p).restorations.values()
    ]
    limits = (
        (any(r.status in _ACTIVE for r in mine), "A user pool can have only one active recovery at a time."),
        (sum(r.status in _ACTIVE for r in every) >= 5, "An account can have up to five active recoveries."),
        (
            any(r.status == "RESTORE_COMPLETED" and (r.ended or 0.0) > day for r in mine),
            "You can complete one recovery of a user pool in a 24-hour period.",
        ),
        (sum(r.triggered > day for r in mine) >= 3, "A user pool can have up to three previews in 24 hours."),
        (sum(r.triggered > month for r in mine) >= 10, "A user pool can have up to ten previews in 30 days."),
        (sum(r.triggered > day for r in every) >= 10, "An account can have up to ten previews in 24 hours."),
    )
    for exceeded, message in limits:
        if exceeded:
            raise errors.LimitExceededException(message)


def initiate_point_in_time_recovery(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    state = ctx.state
    pool = _recovering_pool(ctx, params)
    history, now, restore_to = _history(pool), state.now(), float(params["RestoreTimestamp"])
    _check_recovery_point(pool, history, restore_to, now)
    _check_limits(state, pool, history, now)
    if any(job.status in _IMPORTING for job in pool.import_jobs.values()):
        raise errors.InvalidParameterException(
            "You can't initiate a recovery while a user import job is in progress in the user pool."
        )
    # the state at the recovery point: the first copy taken after it (none: nothing was written since)
    snap = next((s for s in history.snapshots if s.taken_at > restore_to), None) or take(state, pool, now)
    restore_id = str(uuid.UUID(bytes=state.random_bytes(16), version=4))
    restoration = _Restoration(
        restore_id, restore_to, now, "PREVIEW_GENERATED", _preview(state, pool, snap, restore_to), snap
    )
    history.restorations[restore_id] = restoration
    return {"Restoration": _restoration_type(restoration, "PREVIEW_GENERATING", preview=False)}


def describe_point_in_time_recovery(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = _recovering_pool(ctx, params)
    return {"Restoration": _restoration_type(_restoration(pool, params["RestoreId"]))}


def list_point_in_time_recoveries(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = _recovering_pool(ctx, params)
    items = list(_history(pool).restorations.values())
    chunk, token = page(items, params, key=lambda r: f"{1e11 - r.triggered:020.6f}{r.restore_id}")
    listed = [
        {"RestoreId": r.restore_id, "RestoreStatus": r.status, "RestoreTimestamp": r.restore_to}
        for r in chunk
    ]
    return {"Restorations": listed, **({"NextToken": token} if token else {})}


def start_point_in_time_recovery(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = _recovering_pool(ctx, params)
    r = _restoration(pool, params["RestoreId"])
    if r.status != "PREVIEW_GENERATED" or r.snapshot is None:
        raise errors.InvalidParameterException(
            f"A recovery can be started only when its status is PREVIEW_GENERATED; it is {r.status}."
        )
    note_write(ctx.state, pool, force=True)  # the state before the recovery, for a later one
    _restore(ctx, pool, r.snapshot, r.restore_to)
    r.status, r.snapshot, r.ended = "RESTORE_COMPLETED", None, ctx.state.now()
    return {"Restoration": _restoration_type(r, "RESTORING")}


def cancel_point_in_time_recovery(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = _recovering_pool(ctx, params)
    r = _restoration(pool, params["RestoreId"])
    if r.status not in ("PREVIEW_GENERATING", "PREVIEW_GENERATED"):
        raise errors.InvalidParameterException(
            f"Only a recovery not yet started can be canceled: {r.status}."
        )
    r.status, r.preview, r.snapshot, r.ended = "PREVIEW_CANCELLED", None, None, ctx.state.now()
    return {"Restoration": _restoration_type(r)}


ROUTES: dict[str, Route] = {
    "CreateUserPoolReplica": create_user_pool_replica,
    "ListUserPoolReplicas": list_user_pool_replicas,
    "UpdateUserPoolReplica": update_user_pool_replica,
    "DeleteUserPoolReplica": delete_user_pool_replica,
    "InitiatePointInTimeRecovery": initiate_point_in_time_recovery,
    "DescribePointInTimeRecovery": describe_point_in_time_recovery,
    "ListPointInTimeRecoveries": list_point_in_time_recoveries,
    "StartPointInTimeRecovery": start_point_in_time_recovery,
    "CancelPointInTimeRecovery": cancel_point_in_time_recovery,
}
#: operation -> "full", or "stored: <why the behaviour cannot be reproduced offline>"
FIDELITY: dict[str, str] = {
    **{name: "full" for name in ROUTES},
    "CreateUserPoolReplica": "stored: one local endpoint serves every Region, so no copy of the pool's "
    "users and settings is made in the replica's Region",
    "UpdateUserPoolReplica": "stored: activating a replica routes no traffic to another Region offline",
}
