"""What a local user pool is made of: pools, app clients, users and groups, and the rest of a pool's settings.

Plain records, no I/O. Settings Cognito returns as given are kept in the wire's own shape (``config``
dicts holding the members of ``UserPoolType`` or ``UserPoolClientType``), so what an operation sets is
exactly what Describe returns; identity, dates and relations are typed fields. The operations that fill
them live in ``_api`` (pools, clients, users, groups, federation, domains, import jobs, ...) and in the
authentication services beside this module.

Dates are Unix seconds (floats), as the wire sends them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

__all__ = ["User", "Group", "ClientSecret", "Client", "UserPool", "ImportJob"]


@dataclass(eq=False)
class User:
    """A user: its username (internal, unique in the pool), sub, attributes and status."""

    username: str
    sub: str
    created: float
    modified: float
    attributes: dict[str, str] = field(default_factory=dict, repr=False)
    status: str = "CONFIRMED"
    enabled: bool = True
    password: str | None = field(default=None, repr=False)
    password_changed_at: float = 0.0
    #: fingerprints of earlier passwords (PasswordHistorySize), newest last
    password_history: list[bytes] = field(default_factory=list, repr=False)
    sms_mfa_enabled: bool = False
    software_token_mfa_enabled: bool = False
    preferred_mfa_setting: str = ""
    #: legacy MFAOptions (Set/AdminSetUserSettings)
    mfa_options: list[dict[str, str]] = field(default_factory=list)
    groups: set[str] = field(default_factory=set)

    def password_fingerprint(self, password: str) -> bytes:
        return hashlib.sha256(f"{self.sub}:{password}".encode()).digest()

    def set_password(self, password: str, now: float, *, status: str | None = None) -> None:
        """A new password (the old one goes into the history); ``status`` too when given."""
        if self.password:
            self.password_history = [*self.password_history[-23:], self.password_fingerprint(self.password)]
        self.password = password
        self.password_changed_at = self.modified = now
        if status is not None:
            self.status = status

    def attribute_list(self) -> list[dict[str, str]]:
        """``[{"Name": ..., "Value": ...}]`` with ``sub`` first, as Cognito lists them."""
        names = ["sub", *sorted(n for n in self.attributes if n != "sub")]
        return [{"Name": n, "Value": self.attributes[n]} for n in names if n in self.attributes]


@dataclass(eq=False)
class Group:
    """A group (its members are the users whose ``groups`` name it)."""

    name: str
    created: float
    modified: float
    description: str | None = None
    role_arn: str | None = None
    precedence: int | None = None


@dataclass(eq=False)
class ClientSecret:
    """One of an app client's secrets (a client has up to two at a time)."""

    secret_id: str
    value: str = field(repr=False)
    created: float = 0.0


@dataclass(eq=False)
class Client:
    """An app client: its id, secrets and settings (``config``: UserPoolClientType members as set)."""

    client_id: str
    name: str
    created: float
    modified: float
    config: dict[str, Any] = field(default_factory=dict)
    secrets: list[ClientSecret] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.client_id

    def secret_values(self) -> list[str]:
        return [s.value for s in self.secrets]


@dataclass(eq=False)
class ImportJob:
    """A user import job and the CSV uploaded to its pre-signed URL."""

    job_id: str
    name: str
    created: float
    role_arn: str
    status: str = "Created"
    upload_token: str = field(default="", repr=False)
    csv: bytes | None = field(default=None, repr=False)
    started: float | None = None
    completed: float | None = None
    imported: int = 0
    skipped: int = 0
    failed: int = 0
    message: str = ""
    failures: list[dict[str, Any]] = field(default_factory=list)


@dataclass(eq=False)
class UserPool:
    """A user pool, everything in it, and its settings.

    ``config`` holds the UserPoolType members that CreateUserPool/UpdateUserPool set (Policies, Schema as
    SchemaAttributes, LambdaConfig, ...); ``mfa`` holds SetUserPoolMfaConfig's members besides
    MfaConfiguration (which lives in ``config``). The other dicts are per-feature settings, keyed as
    their operations name them.
    """

    id: str
    name: str
    region: str
    account_id: str
    arn: str
    created: float
    modified: float
    config: dict[str, Any] = field(default_factory=dict)
    mfa: dict[str, Any] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict, repr=False)
    by_sub: dict[str, User] = field(default_factory=dict, repr=False)
    clients: dict[str, Client] = field(default_factory=dict, repr=False)
    groups: dict[str, Group] = field(default_factory=dict, repr=False)
    #: identifier -> ResourceServerType
    resource_servers: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    #: provider name -> IdentityProviderType members (dates as floats)
    identity_providers: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    #: domain -> DomainDescriptionType members
    domains: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    import_jobs: dict[str, ImportJob] = field(default_factory=dict, repr=False)
    #: any other per-feature settings (risk configuration, UI customization, terms, branding, ...)
    features: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def mfa_configuration(self) -> str:
        return str(self.config.get("MfaConfiguration") or "OFF")

    def schema(self) -> dict[str, dict[str, Any]]:
        """The pool's attributes by name (``custom:`` names included)."""
        return {a["Name"]: a for a in self.config.get("SchemaAttributes", [])}

    def add_user(self, user: User) -> None:
        self.users[user.username] = user
        self.by_sub[user.sub] = user

    def remove_user(self, user: User) -> None:
        self.users.pop(user.username, None)
        self.by_sub.pop(user.sub, None)
