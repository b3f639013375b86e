"""Reading pool and app-client settings, and the checks Cognito applies on every auth call.

Pure functions over the pool's records: which flows a client allows, SECRET_HASH, session and token
lifetimes, how a typed name finds a user (username, alias, case), MFA settings, the password policy, and
the constant-time comparison every secret a sign-in presents goes through.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import errors

if TYPE_CHECKING:
    from ._records import Client, User, UserPool

__all__ = [
    "require",
    "secret_hash",
    "secret_equals",
    "check_secret_hash",
    "check_flow",
    "session_seconds",
    "token_lifetimes",
    "rotation",
    "prevents_user_existence_errors",
    "resolve_user",
    "attributes",
    "group_names",
    "user_status",
    "device_tracking",
    "check_password_policy",
    "check_password_history",
    "mask_destination",
    "code_delivery",
    "INCORRECT",
    "INVALID_SESSION",
]

#: Cognito's answer to every wrong credential in a sign-in (password, SRP signature, TIMESTAMP...).
INCORRECT = "Incorrect username or password."
#: A Session that is unknown, or answered by another user, client, API or challenge.
INVALID_SESSION = "Invalid session for the user."

_DEFAULT_FLOWS = frozenset({"ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"})
_LEGACY_FLOWS = frozenset({"ADMIN_NO_SRP_AUTH", "CUSTOM_AUTH_FLOW_ONLY", "USER_PASSWORD_AUTH"})

# AuthFlow -> (the ALLOW_* value, the legacy value that also allows it; None: legacy always allows it)
_FLOW_SWITCH: dict[str, tuple[str, str | None]] = {
    "USER_SRP_AUTH": ("ALLOW_USER_SRP_AUTH", None),
    "USER_PASSWORD_AUTH": ("ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH"),
    "ADMIN_USER_PASSWORD_AUTH": ("ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"),
    "ADMIN_NO_SRP_AUTH": ("ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"),
    "REFRESH_TOKEN_AUTH": ("ALLOW_REFRESH_TOKEN_AUTH", None),
    "REFRESH_TOKEN": ("ALLOW_REFRESH_TOKEN_AUTH", None),
    "CUSTOM_AUTH": ("ALLOW_CUSTOM_AUTH", "CUSTOM_AUTH_FLOW_ONLY"),
    "USER_AUTH": ("ALLOW_USER_AUTH", "__never__"),
}

_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
_SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")


def require(params: Mapping[str, Any], *names: str, where: str = "") -> None:
    """InvalidParameterException when a required member is missing or empty."""
    missing = [n for n in names if params.get(n) in (None, "")]
    if missing:
        prefix = f"{where}." if where else ""
        raise errors.InvalidParameterException(f"Missing required parameter {prefix}{missing[0]}")


def secret_hash(client_secret: str, username: str, client_id: str) -> str:
    """``Base64(HMAC_SHA256(client_secret, username + client_id))``."""
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def secret_equals(expected: str, given: object) -> bool:
    """Whether ``given`` is the string ``expected``, compared in constant time (passwords, codes, answers)."""
    return isinstance(given, str) and hmac.compare_digest(expected.encode(), given.encode())


def check_secret_hash(client: Client, username: str | None, given: str | None) -> None:
    """For a client with secrets: ``given`` must be the SECRET_HASH over exactly ``username``, with any one."""
    values = client.secret_values()
    if not values:
        return
    if not given:
        raise errors.NotAuthorizedException(
            f"Client {client.id} is configured for secret but secret was not received"
        )
    hashes = [secret_hash(value, username or "", client.id) for value in values]
    if not any(hmac.compare_digest(h.encode(), str(given).encode()) for h in hashes):
        raise errors.NotAuthorizedException(f"Unable to verify secret hash for client {client.id}")


def check_client_secret(client: Client, given: str | None) -> None:
    """For GetTokensFromRefreshToken and RevokeToken: the raw ClientSecret (any current one)."""
    values = client.secret_values()
    if not values:
        return
    if not given or not any(hmac.compare_digest(v.encode(), str(given).encode()) for v in values):
        raise errors.NotAuthorizedException(f"Unable to verify secret hash for client {client.id}")


def allowed_flows(client: Client) -> frozenset[str]:
    flows = client.config.get("ExplicitAuthFlows") or []
    return frozenset(flows) if flows else _DEFAULT_FLOWS


def check_flow(client: Client, flow: str) -> None:
    """InvalidParameterException "<FLOW> flow not enabled for this client" unless the client allows it."""
    switch = _FLOW_SWITCH.get(flow)
    if switch is None:
        raise errors.InvalidParameterException(
            f"1 validation error detected: Value '{flow}' at 'authFlow' failed to satisfy constraint: "
            "Member must satisfy enum value set"
        )
    flows = allowed_flows(client)
    allow, legacy = switch
    if flows & _LEGACY_FLOWS and not any(f.startswith("ALLOW_") for f in flows):
        ok = legacy is None or legacy in flows
    else:
        ok = allow in flows
    if not ok:
        raise errors.InvalidParameterException(f"{flow} flow not enabled for this client")


def session_seconds(client: Client) -> float:
    """AuthSessionValidity (minutes, 3-15, default 3) in seconds."""
    minutes = int(client.config.get("AuthSessionValidity") or 3)
    return 60.0 * min(15, max(3, minutes))


def token_lifetimes(client: Client) -> tuple[int, int, int]:
    """(access, id, refresh) token lifetimes in seconds, from the client's validity settings."""
    config = client.config
    units = config.get("TokenValidityUnits") or {}

    def seconds(key: str, unit_key: str, default_value: int, default_unit: str) -> int:
        value = config.get(key) or default_value
        unit = units.get(unit_key) or default_unit
        return int(value) * _UNIT_SECONDS.get(str(unit), _UNIT_SECONDS[default_unit])

    return (
        seconds("AccessTokenValidity", "AccessToken", 1, "hours"),
        seconds("IdTokenValidity", "IdToken", 1, "hours"),
        seconds("RefreshTokenValidity", "RefreshToken", 30, "days"),
    )


def rotation(client: Client) -> tuple[bool, int]:
    """(refresh-token rotation on?, RetryGracePeriodSeconds)."""
    config = client.config.get("RefreshTokenRotation") or {}
    return config.get("Feature") == "ENABLED", int(config.get("RetryGracePeriodSeconds") or 0)


def revocation_enabled(client: Client) -> bool:
    return bool(client.config.get("EnableTokenRevocation", True))


def prevents_user_existence_errors(client: Client) -> bool:
    return client.config.get("PreventUserExistenceErrors") == "ENABLED"


def attributes(user: User) -> dict[str, str]:
    """The user's attributes as a dict (a copy)."""
    return dict(user.attributes)


def group_names(pool: UserPool, user: User) -> list[str]:
    """The user's groups as ``cognito:groups`` lists them: by precedence (lowest first), then by name."""
    groups = [pool.groups[name] for name in user.groups if name in pool.groups]
    big = 1 << 31
    groups.sort(key=lambda g: (g.precedence if g.precedence is not None else big, g.name))
    return [g.name for g in groups]


def user_status(user: User) -> str:
    """The user's status as Cognito names it (``CONFIRMED``, ``UNCONFIRMED``, ...)."""
    return user.status


def _case_sensitive(pool: UserPool) -> bool:
    config = pool.config.get("UsernameConfiguration") or {}
    return bool(config.get("CaseSensitive", True))


def resolve_user(pool: UserPool, name: str) -> User | None:
    """The user a typed name means: the username, a username attribute (email/phone) or a verified alias."""
    if not name:
        return None
    sensitive = _case_sensitive(pool)

    def same(a: str | None, b: str) -> bool:
        return a is not None and (a == b if sensitive else a.casefold() == b.casefold())

    user = pool.users.get(name)
    if user is not None:
        return user
    users = list(pool.users.values())
    if not sensitive:
        for candidate in users:
            if same(candidate.username, name):
                return candidate
    username_attributes = pool.config.get("UsernameAttributes") or []
    alias_attributes = pool.config.get("AliasAttributes") or []
    for candidate in users:
        attrs = attributes(candidate)
        for attr in username_attributes:
            if same(attrs.get(attr), name):
                return candidate
        for attr in alias_attributes:
            if not same(attrs.get(attr), name):
                continue
            if attr in ("email", "phone_number") and attrs.get(f"{attr}_verified", "false").lower() != "true":
                continue
            return candidate
    return None


def device_tracking(pool: UserPool) -> dict[str, Any] | None:
    """The pool's DeviceConfiguration, or None when devices are not tracked."""
    config = pool.config.get("DeviceConfiguration")
    return dict(config) if isinstance(config, dict) else None


def check_password_policy(pool: UserPool, password: str) -> None:
    """InvalidPasswordException when ``password`` breaks the pool's policy (Cognito's defaults apply)."""
    policy = (pool.config.get("Policies") or {}).get("PasswordPolicy") or {}
    minimum = int(policy.get("MinimumLength", 8))
    problems = []
    if len(password) < minimum:
        problems.append("Password not long enough")
    if len(password) > 256:
        problems.append("Password is too long")
    if policy.get("RequireUppercase", True) and not re.search(r"[A-Z]", password):
        problems.append("Password must have uppercase characters")
    if policy.get("RequireLowercase", True) and not re.search(r"[a-z]", password):
        problems.append("Password must have lowercase characters")
    if policy.get("RequireNumbers", True) and not re.search(r"[0-9]", password):
        problems.append("Password must have numeric characters")
    if policy.get("RequireSymbols", True) and not any(c in _SYMBOLS for c in password):
        problems.append("Password must have symbol characters")
    if problems:
        raise errors.InvalidPasswordException("Password does not conform to policy: " + problems[0])


def check_password_history(pool: UserPool, user: User, password: str) -> None:
    """InvalidPasswordException when ``password`` is among the last PasswordHistorySize passwords."""
    policy = (pool.config.get("Policies") or {}).get("PasswordPolicy") or {}
    size = int(policy.get("PasswordHistorySize") or 0)
    if size <= 0:
        return
    recent = [*user.password_history, *([user.password_fingerprint(user.password)] if user.password else [])]
    if user.password_fingerprint(password) in recent[-size:]:
        raise errors.InvalidPasswordException("The password has previously been used.")


def mask_destination(medium: str, value: str) -> str:
    """How Cognito shows a destination: ``+*******1234``, ``a***@e***``."""
    if medium == "SMS":
        return "+" + "*" * max(0, len(value) - 5) + value[-4:]
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain[:1]}***"


def code_delivery(medium: str, destination: str) -> dict[str, str]:
    """A ``CodeDeliveryDetails`` member: where a code went, masked."""
    return {
        "Destination": mask_destination(medium, destination),
        "DeliveryMedium": medium,
        "AttributeName": "email" if medium == "EMAIL" else "phone_number",
    }
