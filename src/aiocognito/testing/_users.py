"""Users in a pool: creating one, writing and deleting attributes, deleting one, as Cognito checks them.

Shared by every operation that makes or changes users (AdminCreateUser, SignUp, user import jobs, attribute
updates, NEW_PASSWORD_REQUIRED):

* usernames: in a pool with ``UsernameAttributes`` the name typed is an email or phone number, and the
  username is a new UUID (the sub); otherwise it is the name given, unique in the pool (case-insensitively
  when ``UsernameConfiguration.CaseSensitive`` is false) and never shaped as an email or phone number when
  the pool has ``AliasAttributes`` for them;
* attributes: known to the pool's schema (``custom:`` ones included), within its length bounds, ``sub``
  never written, immutable attributes written only at creation; an email or phone number used as a
  username attribute belongs to one user at a time (``AliasExistsException`` / ``UsernameExistsException``);
* deleting a user revokes their tokens and drops everything the protocol state kept about them;
* a UserMigration trigger (``_triggers``) brings an unknown user in (:func:`migrate_user`): created with
  the attributes it answers, ``finalUserStatus`` CONFIRMED (sign-in only; else RESET_REQUIRED), the
  password typed at sign-in (the policy is not applied, as Cognito does), SMS MFA with ``enableSMSMFA``,
  aliases moved with ``forceAliasCreation``, and a welcome message unless ``messageAction`` is SUPPRESS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import errors
from . import _ids, _triggers
from ._records import User, UserPool

if TYPE_CHECKING:
    from ._issuer import TokenIssuer
    from ._records import Client
    from ._state import PoolState

__all__ = [
    "attribute_map",
    "check_attributes",
    "create_user",
    "write_attributes",
    "delete_user",
    "delete_attributes",
    "forget_user",
    "describe",
    "take_aliases",
    "invitation_targets",
    "migrate_user",
]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_PHONE = re.compile(r"\+[0-9]{4,16}")
_NEVER_WRITTEN = frozenset({"sub", "identities"})


def attribute_map(value: object, member: str = "UserAttributes") -> dict[str, str]:
    """``[{"Name", "Value"}]`` as a dict; InvalidParameterException when malformed."""
    if not isinstance(value, list) or not all(
        isinstance(a, Mapping) and isinstance(a.get("Name"), str) and isinstance(a.get("Value", ""), str)
        for a in value
    ):
        raise errors.InvalidParameterException(f"{member} must be a list of Name/Value pairs")
    return {a["Name"]: a.get("Value", "") for a in value}


def check_attributes(pool: UserPool, values: Mapping[str, str], *, creating: bool) -> None:
    """InvalidParameterException for an attribute the pool does not have, or may not be written so."""
    schema = pool.schema()
    for name, value in values.items():
        if name in ("email_verified", "phone_number_verified"):
            if value.lower() not in ("true", "false"):
                raise errors.InvalidParameterException(f"Invalid value for {name}: must be true or false")
            continue
        spec = schema.get(name)
        if spec is None:
            raise errors.InvalidParameterException(
                f"Attributes did not conform to the schema: {name}: Attribute does not exist in the schema."
            )
        if name in _NEVER_WRITTEN or (not creating and spec.get("Mutable") is False):
            raise errors.InvalidParameterException(f"Cannot modify the non-mutable attribute {name}")
        bounds = spec.get("StringAttributeConstraints") or {}
        if spec.get("AttributeDataType", "String") == "String" and bounds:
            low, high = int(bounds.get("MinLength") or 0), int(bounds.get("MaxLength") or 2048)
            if not low <= len(value) <= high:
                raise errors.InvalidParameterException(
                    f"Attributes did not conform to the schema: {name}: String must be no longer than "
                    f"{high} characters and no shorter than {low} characters"
                )
        if spec.get("AttributeDataType") == "Number" and value:
            try:
                float(value)
            except ValueError:
                raise errors.InvalidParameterException(
                    f"Attributes did not conform to the schema: {name}: Number expected"
                ) from None
        if name == "email" and value and not _EMAIL.fullmatch(value):
            raise errors.InvalidParameterException("Invalid email address format.")
        if name == "phone_number" and value and not _PHONE.fullmatch(value):
            raise errors.InvalidParameterException("Invalid phone number format.")


def _check_unique(pool: UserPool, user: User | None, values: Mapping[str, str]) -> None:
    """An email or phone number that signs a user in belongs to one user only."""
    username_attributes = set(pool.config.get("UsernameAttributes") or [])
    alias_attributes = set(pool.config.get("AliasAttributes") or [])
    for name in ("email", "phone_number", "preferred_username"):
        value = values.get(name)
        if not value or name not in username_attributes | alias_attributes:
            continue
        for other in pool.users.values():
            if other is user or other.attributes.get(name, "").casefold() != value.casefold():
                continue
            if name in username_attributes:
                raise errors.AliasExistsException(f"An account with the given {name} already exists.")
            verified = name == "preferred_username" or other.attributes.get(f"{name}_verified") == "true"
            if verified and values.get(f"{name}_verified") == "true":
                raise errors.AliasExistsException(f"An account with the given {name} already exists.")


def create_user(
    state: PoolState,
    pool: UserPool,
    name: str,
    attributes: Mapping[str, str],
    *,
    status: str,
    password: str | None = None,
    required: bool = True,
) -> User:
    """A new user named ``name`` (its internal username per the pool's settings), added to the pool."""
    values = dict(attributes)
    check_attributes(pool, values, creating=True)
    username_attributes = list(pool.config.get("UsernameAttributes") or [])
    sub = _ids.sub(state.random_bytes)
    if username_attributes:
        kind = "email" if _EMAIL.fullmatch(name) else "phone_number" if _PHONE.fullmatch(name) else None
        if kind is None or kind not in username_attributes:
            wanted = " or ".join("email" if a == "email" else "phone number" for a in username_attributes)
            raise errors.InvalidParameterException(f"Username should be either an {wanted}.")
        if values.get(kind, name) != name:
            raise errors.InvalidParameterException(f"{kind} must be the same as the username")
        values[kind] = name
        username = sub
    else:
        username = name
        aliases = set(pool.config.get("AliasAttributes") or [])
        if ("email" in aliases and _EMAIL.fullmatch(name)) or (
            "phone_number" in aliases and _PHONE.fullmatch(name)
        ):
            raise errors.InvalidParameterException(
                "Username cannot be of email format, since user pool is configured for email alias."
            )
        if _same_name_exists(pool, name):
            raise errors.UsernameExistsException("User account already exists")
    if username_attributes:
        for other in pool.users.values():
            for kind in username_attributes:
                if values.get(kind) and other.attributes.get(kind, "").casefold() == values[kind].casefold():
                    raise errors.UsernameExistsException(f"An account with the given {kind} already exists.")
    else:
        _check_unique(pool, None, values)
    if required:
        missing = [
            n
            for n, spec in pool.schema().items()
            if spec.get("Required") and n not in ("sub",) and not values.get(n)
        ]
        if missing:
            raise errors.InvalidParameterException(
                f"Attributes did not conform to the schema: {missing[0]}: The attribute {missing[0]} is required"
            )
    now = state.now()
    values["sub"] = sub
    user = User(username=username, sub=sub, created=now, modified=now, attributes=values, status=status)
    if password is not None:
        user.set_password(password, now)
    pool.add_user(user)
    return user


def _same_name_exists(pool: UserPool, name: str) -> bool:
    """Whether a user already has ``name`` as username (case-insensitively unless the pool is sensitive)."""
    if name in pool.users:
        return True
    sensitive = bool((pool.config.get("UsernameConfiguration") or {}).get("CaseSensitive", True))
    return not sensitive and any(u.casefold() == name.casefold() for u in pool.users)


def write_attributes(state: PoolState, pool: UserPool, user: User, values: Mapping[str, str]) -> None:
    """Write attribute values to an existing user (checked against the schema and other users)."""
    if not values:
        return
    check_attributes(pool, values, creating=False)
    _check_unique(pool, user, values)
    user.attributes.update(values)
    user.modified = state.now()


def delete_attributes(state: PoolState, pool: UserPool, user: User, names: list[str]) -> None:
    """Remove attributes (never required or non-writable ones), with their ``_verified`` flags."""
    schema = pool.schema()
    for name in names:
        spec = schema.get(name)
        if name in _NEVER_WRITTEN or (spec is not None and spec.get("Mutable") is False):
            raise errors.InvalidParameterException(f"Cannot modify the non-mutable attribute {name}")
        if spec is not None and spec.get("Required"):
            raise errors.InvalidParameterException(f"Cannot delete the required attribute {name}")
    for name in names:
        user.attributes.pop(name, None)
        if name in ("email", "phone_number"):
            user.attributes.pop(f"{name}_verified", None)
    user.modified = state.now()


def forget_user(state: PoolState, issuer: TokenIssuer, pool: UserPool, user: User) -> None:
    """Revoke the user's tokens and drop the protocol state kept about them (codes, devices, secrets)."""
    key = (pool.id, user.sub)
    issuer.sign_out_user(key)
    for feature in (
        "auth_events",
        "webauthn_credentials",
        "webauthn_registrations",
        "import_password_hashes",
    ):
        pool.features.get(feature, {}).pop(user.sub, None)
    state.users.pop(key, None)
    state.pending_attributes.pop(key, None)
    for slot in [slot for slot in state.codes if slot[0] == key]:
        del state.codes[slot]
    for device_key in [k for k, device in state.devices.items() if device.user == key]:
        del state.devices[device_key]


def delete_user(state: PoolState, issuer: TokenIssuer, pool: UserPool, user: User) -> None:
    """The user leaves the pool; tokens revoked, protocol state dropped."""
    forget_user(state, issuer, pool, user)
    pool.remove_user(user)


def describe(user: User) -> dict[str, Any]:
    """``UserType`` (ListUsers, AdminCreateUser) of a user."""
    body: dict[str, Any] = {
        "Username": user.username,
        "Attributes": user.attribute_list(),
        "UserCreateDate": user.created,
        "UserLastModifiedDate": user.modified,
        "Enabled": user.enabled,
        "UserStatus": user.status,
    }
    if user.mfa_options:
        body["MFAOptions"] = [dict(o) for o in user.mfa_options]
    return body


def take_aliases(pool: UserPool, attributes: Mapping[str, str]) -> None:
    """A verified email/phone alias moves to the user being made: its current owner's becomes unverified."""
    for name in ("email", "phone_number"):
        value = attributes.get(name)
        if not value or attributes.get(f"{name}_verified") != "true":
            continue
        for other in pool.users.values():
            if other.attributes.get(name, "").casefold() == value.casefold():
                other.attributes[f"{name}_verified"] = "false"


def invitation_targets(user: User, mediums: list[str]) -> list[tuple[str, str]]:
    """``(medium, destination)`` of an invitation by the requested mediums the user can receive (else the
    other medium, else the username: the outbox keeps it anyway)."""
    attrs = user.attributes
    targets = [("EMAIL", attrs["email"]) for m in mediums if m == "EMAIL" and attrs.get("email")]
    targets += [("SMS", attrs["phone_number"]) for m in mediums if m == "SMS" and attrs.get("phone_number")]
    if not targets:
        fallback = ("EMAIL", attrs.get("email")) if attrs.get("email") else ("SMS", attrs.get("phone_number"))
        targets = [(fallback[0], fallback[1] or user.username)]
    return targets


def migrate_user(
    state: PoolState,
    pool: UserPool,
    client: Client,
    typed_name: str,
    source: str,
    params: Mapping[str, Any] | None = None,
    *,
    password: str | None = None,
) -> User | None:
    """An unknown user brought in by the pool's UserMigration trigger; None when there is none.

    Raises:
        UserNotFoundException: the trigger answered without ``userAttributes`` ("Exception migrating user
            in app client ...") and the client does not hide which users exist (then: None).
    """
    response = _triggers.user_migration(state, pool, typed_name, source, client.id, params, password=password)
    if response is None:
        return None
    given = response.get("userAttributes")
    if not isinstance(given, dict) or not given:
        if client.config.get("PreventUserExistenceErrors") == "ENABLED":
            return None
        raise errors.UserNotFoundException(f"Exception migrating user in app client {client.id}")
    values = {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in given.items()}
    values.pop("sub", None)
    if _triggers.flag(response.get("forceAliasCreation")):
        take_aliases(pool, values)
    signing_in = source == "UserMigration_Authentication"
    status = (
        "CONFIRMED" if signing_in and response.get("finalUserStatus") == "CONFIRMED" else "RESET_REQUIRED"
    )
    sms_mfa = _triggers.flag(response.get("enableSMSMFA"))
    if sms_mfa and not values.get("phone_number"):
        raise errors.InvalidLambdaResponseException("enableSMSMFA needs a phone_number in userAttributes")
    user = create_user(state, pool, typed_name, values, status=status)
    if password is not None:
        user.set_password(password, state.now())
    user.sms_mfa_enabled = sms_mfa
    if response.get("messageAction") != "SUPPRESS":
        mediums = response.get("desiredDeliveryMediums")
        wanted = [str(m) for m in mediums] if isinstance(mediums, list) and mediums else ["SMS"]
        for medium, destination in invitation_targets(user, wanted):
            state.send(medium, destination, pool.id, user.username, "WELCOME", "")
    return user
