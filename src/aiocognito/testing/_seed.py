"""Seed files: user pools, their domains, resource servers, identity providers, app clients, groups and users
for a :class:`LocalUserPool`, from JSON.

``aiocognito local --seed seed.json`` loads one (:func:`load_seed` checks it all before the server starts)
and creates what it describes (:func:`apply_seed`, through the pool's public operations, so the pool checks
it as Cognito would). Every mistake is a
:class:`SeedError` that names the entry, such as ``seed.json: pools[0].users[1].groups[0]: ...``.

The format, version 1 (keys not listed here are refused, so a typo does not pass unnoticed)::

    {
      "version": 1,                                  required; this aiocognito reads version 1
      "pools": [                                     required; each pool:
        {
          "name": "main",                            required, unique in the file
          "mfa": "OFF",                              OFF (default), OPTIONAL or ON
          "totp": true, "sms": false, "email_mfa": false,   the MFA factors offered (default: TOTP)
          "device_tracking": null,                   null (default), "always" or "opt-in"
          "username_attributes": ["email"],          sign in with these instead of a username, or
          "alias_attributes": ["email"],             as well as the username (not both)
          "required_attributes": ["email"],          standard attributes every user must have
          "password_policy": {                       a key left out keeps Cognito's default shown here
            "minimum_length": 8, "require_uppercase": true, "require_lowercase": true,
            "require_numbers": true, "require_symbols": true, "temporary_password_validity_days": 7
          },
          "domain": "my-prefix",                     a prefix domain (CreateUserPoolDomain): lowercase
                                                     letters, digits and hyphens; default: none
          "resource_servers": [                      CreateResourceServer, before the clients
            {"identifier": "orders",                 required, unique in the pool
             "name": "Orders API",                   required
             "scopes": {"read": "read orders"}}      scope name -> description; a client names this
          ],                                         one "orders/read"
          "identity_providers": [                    CreateIdentityProvider, before the clients
            {"name": "Google",                       required, unique in the pool (a social provider
                                                     is named after its type)
             "type": "Google",                       required: Google, Facebook, LoginWithAmazon,
                                                     SignInWithApple, OIDC or SAML
             "details": {"client_id": "...", "client_secret": "...", "authorize_scopes": "openid email"},
                                                     ProviderDetails, what the type needs
             "attribute_mapping": {"email": "email"}}   pool attribute -> provider attribute
          ],
          "clients": [                               app clients
            {"name": "web",                          required, unique in the pool
             "secret": false,                        generate a client secret (default false)
             "flows": ["USER_SRP_AUTH"],             auth flows allowed, with or without ALLOW_
                                                     (default USER_SRP_AUTH); refresh is always allowed
             "rotation": false,                      refresh-token rotation (default false)
             "grace_seconds": 0,                     rotation's grace period, 0 to 60 (needs rotation)
             "identity_providers": ["COGNITO", "Google"],   SupportedIdentityProviders: COGNITO (the
                                                     pool's own users) or this pool's providers
             "oauth": {                              OAuth 2.0 (AllowedOAuthFlowsUserPoolClient); default off
               "flows": ["code"],                    required: code, implicit or client_credentials
               "scopes": ["openid", "orders/read"],  openid, email, phone, profile,
                                                     aws.cognito.signin.user.admin or "SERVER/SCOPE"
                                                     of this pool's resource_servers
               "callback_urls": ["https://app.example.com/callback"],   needed by code and implicit
               "logout_urls": ["https://app.example.com/"]}}          (http only for localhost)
          ],
          "groups": [{"name": "admins", "description": "...", "precedence": 1}],   name required
          "users": [
            {"username": "alice",                    required, unique in the pool
             "password": "Passw0rd!",                required
             "temporary": false,                     true: FORCE_CHANGE_PASSWORD (the password must be
                                                     changed at first sign-in); default: permanent
             "attributes": {"email": "alice@example.com"},
             "groups": ["admins"]}                   groups of this pool's "groups"
          ]
        }
      ]
    }

A pool's parts are created in this order: the pool, its domain, resource servers, identity providers, app
clients, groups, users. The ids are made when the pool creates things; :meth:`SeedResult.to_json` gives them
back (``aiocognito local --seed-output FILE`` writes it): ``{"version": 1, "endpoint_url", "region", "pools":
{NAME: {"id", "domain", "resource_servers": [IDENTIFIER], "clients": {NAME: {"id", "secret"}}, "groups":
[NAME], "users": {USERNAME: {"username", "status"}}}}}``, where ``domain`` is null without one and a user's
``username`` is the pool's (a generated id when the pool signs in with username_attributes).

Passwords and identity providers' details (which hold their client secrets) are kept out of every repr and
error message. Nothing here imports moto: the pool is passed in.

Why one module over 600 lines: a hundred of them are the format above, and the checks (``parse_seed``) and the
creation (``apply_seed``) follow it key by key, so a key added to the format changes the three side by side.
Reading and checking come first, creating after, each a section of its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import CognitoError, ServiceError

if TYPE_CHECKING:
    from ._pool import LocalUserPool

__all__ = [
    "SEED_VERSION",
    "Seed",
    "SeedClient",
    "SeedError",
    "SeedGroup",
    "SeedIdentityProvider",
    "SeedOAuth",
    "SeedPool",
    "SeedResourceServer",
    "SeedResult",
    "SeedUser",
    "SeededClient",
    "SeededPool",
    "SeededUser",
    "apply_seed",
    "load_seed",
    "parse_seed",
]

#: The version of the seed format this module reads and writes.
SEED_VERSION = 1

_FLOWS = ("USER_SRP_AUTH", "USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "CUSTOM_AUTH", "USER_AUTH")
_REFRESH = "ALLOW_REFRESH_TOKEN_AUTH"
_STANDARD_ATTRIBUTES = (
    "address", "birthdate", "email", "family_name", "gender", "given_name", "locale", "middle_name", "name",
    "nickname", "phone_number", "picture", "preferred_username", "profile", "updated_at", "website", "zoneinfo",
)  # fmt: skip
_OAUTH_FLOWS = ("code", "implicit", "client_credentials")
_STANDARD_SCOPES = ("openid", "email", "phone", "profile", "aws.cognito.signin.user.admin")
_PROVIDER_TYPES = ("Google", "Facebook", "LoginWithAmazon", "SignInWithApple", "OIDC", "SAML")
#: password_policy key -> (Cognito's PasswordPolicy key, default, lowest, highest); bounds only for numbers
_POLICY: dict[str, tuple[str, int | bool, int, int]] = {
    "minimum_length": ("MinimumLength", 8, 6, 99),
    "require_uppercase": ("RequireUppercase", True, 0, 0),
    "require_lowercase": ("RequireLowercase", True, 0, 0),
    "require_numbers": ("RequireNumbers", True, 0, 0),
    "require_symbols": ("RequireSymbols", True, 0, 0),
    "temporary_password_validity_days": ("TemporaryPasswordValidityDays", 7, 0, 365),
}


class SeedError(ValueError):
    """A seed file that cannot be used: ``source``, the ``path`` of the bad entry and the ``problem``."""

    def __init__(self, source: str, path: str, problem: str) -> None:
        self.source, self.path, self.problem = source, path, problem
        super().__init__(f"{source}: {path}: {problem}" if path else f"{source}: {problem}")


# ----- what a seed file describes -------------------------------------------------------------------------
@dataclass(frozen=True)
class SeedOAuth:
    """A client's OAuth 2.0 settings (AllowedOAuthFlows, AllowedOAuthScopes, CallbackURLs, LogoutURLs)."""

    flows: tuple[str, ...]
    scopes: tuple[str, ...] = ()
    callback_urls: tuple[str, ...] = ()
    logout_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeedClient:
    name: str
    secret: bool = False
    flows: tuple[str, ...] = ("ALLOW_USER_SRP_AUTH", _REFRESH)
    rotation: bool = False
    grace_seconds: int = 0
    #: SupportedIdentityProviders (empty: left to the pool)
    identity_providers: tuple[str, ...] = ()
    oauth: SeedOAuth | None = None


@dataclass(frozen=True)
class SeedResourceServer:
    identifier: str
    name: str
    #: scope name -> description
    scopes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SeedIdentityProvider:
    name: str
    type: str
    #: ProviderDetails (a social provider's client secret among them: never shown)
    details: Mapping[str, str] = field(default_factory=dict, repr=False)
    attribute_mapping: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SeedGroup:
    name: str
    description: str | None = None
    precedence: int | None = None


@dataclass(frozen=True)
class SeedUser:
    username: str
    password: str = field(repr=False)
    temporary: bool = False
    attributes: Mapping[str, str] = field(default_factory=dict)
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeedPool:
    name: str
    #: keyword arguments of :meth:`LocalUserPool.create_user_pool` (after the name)
    options: Mapping[str, Any] = field(default_factory=dict)
    clients: tuple[SeedClient, ...] = ()
    groups: tuple[SeedGroup, ...] = ()
    users: tuple[SeedUser, ...] = ()
    domain: str | None = None
    resource_servers: tuple[SeedResourceServer, ...] = ()
    identity_providers: tuple[SeedIdentityProvider, ...] = ()


@dataclass(frozen=True)
class Seed:
    source: str
    pools: tuple[SeedPool, ...]
    version: int = SEED_VERSION


# ----- reading and checking -------------------------------------------------------------------------------
def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


class _Entry:
    """One JSON object of the file and where it is; its getters raise SeedError naming the key."""

    def __init__(self, source: str, path: str, value: object, keys: Sequence[str]) -> None:
        self.source, self.path = source, path
        if not isinstance(value, dict):
            raise SeedError(source, path or "(top level)", f"must be an object, not {_kind(value)}")
        unknown = sorted(set(value) - set(keys))
        if unknown:
            raise SeedError(
                source, self.at(unknown[0]), f"unknown key (known here: {', '.join(sorted(keys))})"
            )
        self.value: dict[str, Any] = value

    def at(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str | int, problem: str) -> SeedError:
        return SeedError(self.source, self.at(key), problem)

    def has(self, key: str) -> bool:
        return key in self.value and self.value[key] is not None

    def name(self, key: str, *, spaces: bool, longest: int = 128) -> str:
        """A required name: 1 to ``longest`` characters (no white space unless ``spaces``)."""
        if key not in self.value:
            raise self.error(key, "required")
        value = self.value[key]
        if not isinstance(value, str) or not value.strip():
            shown = "an empty string" if isinstance(value, str) else _kind(value)
            raise self.error(key, f"must be a non-empty string, not {shown}")
        if len(value) > longest:
            raise self.error(key, f"must be at most {longest} characters")
        if not spaces and any(c.isspace() for c in value):
            raise self.error(key, f"{value!r} must not contain white space")
        return value

    def text(self, key: str) -> str | None:
        value = self.value.get(key)
        if value is not None and not isinstance(value, str):
            raise self.error(key, f"must be a string, not {_kind(value)}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.value.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {_kind(value)}")
        return value

    def integer(self, key: str, low: int, high: int) -> int | None:
        value = self.value.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, not {_kind(value)}")
        if not low <= value <= high:
            raise self.error(key, f"must be from {low} to {high}, not {value}")
        return value

    def choice(self, key: str, options: Sequence[str | None], default: str | None) -> str | None:
        value = self.value.get(key, default)
        if value not in options:
            shown = ", ".join("null" if o is None else json.dumps(o) for o in options)
            raise self.error(key, f"must be one of {shown}, not {json.dumps(value)}")
        return value

    def item(self, key: str, index: int, problem: str) -> SeedError:
        return SeedError(self.source, f"{self.at(key)}[{index}]", problem)

    def strings(self, key: str, options: Sequence[str] | None = None) -> tuple[str, ...]:
        value = self.value.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.error(key, f"must be a list, not {_kind(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.item(key, i, f"must be a string, not {_kind(item)}")
            if options is not None and item not in options:
                raise self.item(key, i, f"{item!r} is not one of {', '.join(options)}")
            if item in value[:i]:
                raise self.item(key, i, f"{item!r} is listed twice")
        return tuple(value)

    def entries(self, key: str, keys: Sequence[str]) -> list[_Entry]:
        value = self.value.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(key, f"must be a list, not {_kind(value)}")
        return [_Entry(self.source, f"{self.at(key)}[{i}]", item, keys) for i, item in enumerate(value)]

    def entry(self, key: str, keys: Sequence[str]) -> _Entry | None:
        """The object at ``key`` (None when it is left out or null)."""
        if not self.has(key):
            return None
        return _Entry(self.source, self.at(key), self.value[key], keys)

    def mapping(self, key: str) -> dict[str, str]:
        value = self.value.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(key, f"must be an object, not {_kind(value)}")
        for name, item in value.items():
            if not name or not isinstance(item, str):
                raise self.error(key, f"{name!r} must have a string value, not {_kind(item)}")
        return dict(value)


def _unique(entries: Sequence[tuple[_Entry, str]], key: str, what: str) -> None:
    seen: set[str] = set()
    for entry, name in entries:
        if name in seen:
            raise entry.error(key, f"two {what} are named {name!r}")
        seen.add(name)


def _policy(pool: _Entry) -> dict[str, Any] | None:
    if not pool.has("password_policy"):
        return None
    entry = _Entry(pool.source, pool.at("password_policy"), pool.value["password_policy"], list(_POLICY))
    policy: dict[str, Any] = {}
    for key, (cognito_key, default, low, high) in _POLICY.items():
        if isinstance(default, bool):
            policy[cognito_key] = entry.boolean(key, default)
        else:
            number = entry.integer(key, low, high)
            policy[cognito_key] = default if number is None else number
    return {"PasswordPolicy": policy}


def _pool_options(pool: _Entry) -> dict[str, Any]:
    mfa = pool.choice("mfa", ("OFF", "OPTIONAL", "ON"), "OFF")
    factors = {k: pool.boolean(k, d) for k, d in (("totp", True), ("sms", False), ("email_mfa", False))}
    if mfa != "OFF" and not any(factors.values()):
        raise pool.error("mfa", f"{mfa} needs a factor: totp, sms or email_mfa")
    username = pool.strings("username_attributes", ("email", "phone_number"))
    alias = pool.strings("alias_attributes", ("email", "phone_number", "preferred_username"))
    if username and alias:
        raise pool.error("alias_attributes", "cannot be combined with username_attributes")
    options: dict[str, Any] = {
        "mfa": mfa,
        **factors,
        "device_tracking": pool.choice("device_tracking", (None, "always", "opt-in"), None),
        "username_attributes": list(username) or None,
        "alias_attributes": list(alias) or None,
        "required_attributes": pool.strings("required_attributes", _STANDARD_ATTRIBUTES),
    }
    policies = _policy(pool)
    if policies is not None:
        options["Policies"] = policies
    return options


def _oauth(client: _Entry, scopes: Sequence[str]) -> SeedOAuth | None:
    entry = client.entry("oauth", _OAUTH_KEYS)
    if entry is None:
        return None
    flows = entry.strings("flows", _OAUTH_FLOWS)
    if not flows:
        raise entry.error("flows", f"required (one or more of {', '.join(_OAUTH_FLOWS)})")
    allowed = entry.strings("scopes")
    for i, scope in enumerate(allowed):
        if scope not in scopes:
            raise entry.item(
                "scopes", i, f"{scope!r} is not a scope of this pool (its scopes: {', '.join(scopes)})"
            )
    return SeedOAuth(flows, allowed, entry.strings("callback_urls"), entry.strings("logout_urls"))


def _client(
    entry: _Entry, scopes: Sequence[str] = _STANDARD_SCOPES, providers: Sequence[str] = ()
) -> SeedClient:
    supported = entry.strings("identity_providers")
    for i, provider in enumerate(supported):
        if provider != "COGNITO" and provider not in providers:
            declared = ", ".join(repr(p) for p in ("COGNITO", *providers))
            raise entry.item(
                "identity_providers",
                i,
                f"{provider!r} is not an identity provider of this pool (its providers: {declared})",
            )
    flows = []
    for i, flow in enumerate(entry.strings("flows") or ("USER_SRP_AUTH",)):
        bare = flow.removeprefix("ALLOW_")
        if bare == "REFRESH_TOKEN_AUTH":
            continue  # always allowed
        if bare not in _FLOWS:
            raise entry.item("flows", i, f"{flow!r} is not one of {', '.join(_FLOWS)}")
        flows.append(f"ALLOW_{bare}")
    rotation = entry.boolean("rotation", False)
    grace = entry.integer("grace_seconds", 0, 60)
    if grace and not rotation:
        raise entry.error("grace_seconds", 'needs "rotation": true')
    return SeedClient(
        entry.name("name", spaces=True),
        entry.boolean("secret", False),
        (*flows, _REFRESH),
        rotation,
        grace or 0,
        supported,
        _oauth(entry, scopes),
    )


def _resource_server(entry: _Entry) -> SeedResourceServer:
    return SeedResourceServer(
        entry.name("identifier", spaces=False, longest=256),
        entry.name("name", spaces=True, longest=256),
        entry.mapping("scopes"),
    )


def _identity_provider(entry: _Entry) -> SeedIdentityProvider:
    name = entry.name("name", spaces=False, longest=32)
    if "type" not in entry.value:
        raise entry.error("type", f"required: {', '.join(_PROVIDER_TYPES)}")
    kind = str(entry.choice("type", _PROVIDER_TYPES, None))
    return SeedIdentityProvider(name, kind, entry.mapping("details"), entry.mapping("attribute_mapping"))


def _group(entry: _Entry) -> SeedGroup:
    return SeedGroup(
        entry.name("name", spaces=False), entry.text("description"), entry.integer("precedence", 0, 2**31 - 1)
    )


def _user(entry: _Entry, groups: Sequence[str]) -> SeedUser:
    username = entry.name("username", spaces=False)
    if "password" not in entry.value:
        raise entry.error("password", "required (a user without one could not sign in)")
    password = entry.value["password"]
    if not isinstance(password, str) or not password:
        raise entry.error("password", f"must be a non-empty string, not {_kind(password)}")
    member_of = entry.strings("groups")
    for i, group in enumerate(member_of):
        if group not in groups:
            declared = ", ".join(repr(g) for g in groups) or "none"
            raise entry.item("groups", i, f"{group!r} is not a group of this pool (its groups: {declared})")
    return SeedUser(
        username, password, entry.boolean("temporary", False), entry.mapping("attributes"), member_of
    )


_POOL_KEYS = (
    "name", "mfa", "totp", "sms", "email_mfa", "device_tracking", "username_attributes", "alias_attributes",
    "required_attributes", "password_policy", "domain", "resource_servers", "identity_providers", "clients",
    "groups", "users",
)  # fmt: skip
_CLIENT_KEYS = ("name", "secret", "flows", "rotation", "grace_seconds", "identity_providers", "oauth")
_OAUTH_KEYS = ("flows", "scopes", "callback_urls", "logout_urls")
_RESOURCE_SERVER_KEYS = ("identifier", "name", "scopes")
_IDENTITY_PROVIDER_KEYS = ("name", "type", "details", "attribute_mapping")
_USER_KEYS = ("username", "password", "temporary", "attributes", "groups")


def _pool(pool: _Entry) -> SeedPool:
    name = pool.name("name", spaces=True)
    options = _pool_options(pool)
    domain = pool.text("domain")
    if domain is not None and not domain:
        raise pool.error("domain", "must be a non-empty string (a domain prefix), or left out")
    servers = [(e, _resource_server(e)) for e in pool.entries("resource_servers", _RESOURCE_SERVER_KEYS)]
    _unique([(e, s.identifier) for e, s in servers], "identifier", "resource servers")
    scopes = [*_STANDARD_SCOPES, *(f"{s.identifier}/{scope}" for _, s in servers for scope in s.scopes)]
    providers = [
        (e, _identity_provider(e)) for e in pool.entries("identity_providers", _IDENTITY_PROVIDER_KEYS)
    ]
    _unique([(e, p.name) for e, p in providers], "name", "identity providers")
    provider_names = [p.name for _, p in providers]
    clients = [(e, _client(e, scopes, provider_names)) for e in pool.entries("clients", _CLIENT_KEYS)]
    _unique([(e, c.name) for e, c in clients], "name", "clients")
    groups = [(e, _group(e)) for e in pool.entries("groups", ("name", "description", "precedence"))]
    _unique([(e, g.name) for e, g in groups], "name", "groups")
    group_names = [g.name for _, g in groups]
    users = [(e, _user(e, group_names)) for e in pool.entries("users", _USER_KEYS)]
    _unique([(e, u.username) for e, u in users], "username", "users")
    return SeedPool(
        name,
        options,
        tuple(c for _, c in clients),
        tuple(g for _, g in groups),
        tuple(u for _, u in users),
        domain,
        tuple(s for _, s in servers),
        tuple(p for _, p in providers),
    )


def parse_seed(data: object, source: str = "seed") -> Seed:
    """Check a decoded seed file (``json.load``'s result); ``source`` names it in errors."""
    top = _Entry(source, "", data, ("version", "pools"))
    if "version" not in top.value:
        raise top.error("version", f"required (this aiocognito reads version {SEED_VERSION})")
    version = top.value["version"]
    if version != SEED_VERSION or isinstance(version, bool):
        raise top.error(
            "version", f"{json.dumps(version)} is not supported (this aiocognito reads {SEED_VERSION})"
        )
    if "pools" not in top.value:
        raise top.error("pools", "required (a list of user pools)")
    pools = [(entry, _pool(entry)) for entry in top.entries("pools", _POOL_KEYS)]
    _unique([(e, p.name) for e, p in pools], "name", "pools")
    return Seed(source, tuple(p for _, p in pools))


def load_seed(path: str | Path) -> Seed:
    """Read and check a seed file; :class:`SeedError` (naming the entry) when it cannot be used."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(source, "", f"cannot read it: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SeedError(source, "", f"not JSON: {exc}") from None
    return parse_seed(data, source)


# ----- creating it ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeededClient:
    name: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SeededUser:
    name: str  #: as the seed file says
    username: str  #: the pool's username (a generated id when the pool signs in with username_attributes)
    status: str


@dataclass(frozen=True)
class SeededPool:
    name: str
    user_pool_id: str
    clients: tuple[SeededClient, ...]
    groups: tuple[str, ...]
    users: tuple[SeededUser, ...]
    domain: str | None = None
    resource_servers: tuple[str, ...] = ()  #: their identifiers
    identity_providers: tuple[str, ...] = ()  #: their names


@dataclass(frozen=True)
class SeedResult:
    """What :func:`apply_seed` created, with the ids the pool gave it."""

    source: str
    pools: tuple[SeededPool, ...]

    def to_json(self, *, endpoint_url: str, region: str) -> dict[str, Any]:
        """The ids as ``aiocognito local --seed-output`` writes them (see the module's docstring)."""
        return {
            "version": SEED_VERSION,
            "endpoint_url": endpoint_url,
            "region": region,
            "pools": {
                pool.name: {
                    "id": pool.user_pool_id,
                    "domain": pool.domain,
                    "resource_servers": list(pool.resource_servers),
                    "clients": {c.name: {"id": c.client_id, "secret": c.client_secret} for c in pool.clients},
                    "groups": list(pool.groups),
                    "users": {u.name: {"username": u.username, "status": u.status} for u in pool.users},
                }
                for pool in self.pools
            },
        }


def _failed(seed: Seed, path: str, doing: str, exc: CognitoError) -> SeedError:
    reason = f"{exc.code}: {exc.message}" if isinstance(exc, ServiceError) else str(exc)
    return SeedError(seed.source, path, f"{doing}: {reason}")


async def apply_seed(local: LocalUserPool, seed: Seed) -> SeedResult:
    """Create the seed's pools and, for each, its domain, resource servers, identity providers, app clients,
    groups and users in ``local`` (a started pool), in that order.

    A refusal by the pool (a password its policy rejects, a username that is not an email where
    username_attributes asks for one, a domain prefix already taken, an identity provider without the details
    its type needs, ...) is a :class:`SeedError` naming the entry; what was created before it stays.
    """
    done = []
    for p, pool in enumerate(seed.pools):
        where = f"pools[{p}]"
        try:
            pool_id = await local.create_user_pool(pool.name, **pool.options)
        except CognitoError as exc:
            raise _failed(seed, where, f"creating pool {pool.name!r}", exc) from None
        if pool.domain is not None:
            try:
                await local.call("CreateUserPoolDomain", UserPoolId=pool_id, Domain=pool.domain)
            except CognitoError as exc:
                raise _failed(seed, f"{where}.domain", f"creating domain {pool.domain!r}", exc) from None
        for s, server in enumerate(pool.resource_servers):
            try:
                await local.call(
                    "CreateResourceServer", UserPoolId=pool_id, Identifier=server.identifier,
                    Name=server.name,
                    Scopes=[{"ScopeName": n, "ScopeDescription": d} for n, d in server.scopes.items()],
                )  # fmt: skip
            except CognitoError as exc:
                raise _failed(
                    seed,
                    f"{where}.resource_servers[{s}]",
                    f"creating resource server {server.identifier!r}",
                    exc,
                ) from None
        for i, provider in enumerate(pool.identity_providers):
            try:
                await local.call(
                    "CreateIdentityProvider", UserPoolId=pool_id, ProviderName=provider.name,
                    ProviderType=provider.type, ProviderDetails=dict(provider.details),
                    AttributeMapping=dict(provider.attribute_mapping),
                )  # fmt: skip
            except CognitoError as exc:
                raise _failed(
                    seed,
                    f"{where}.identity_providers[{i}]",
                    f"creating identity provider {provider.name!r}",
                    exc,
                ) from None
        clients = []
        for c, client in enumerate(pool.clients):
            extra: dict[str, Any] = {}
            if client.identity_providers:
                extra["SupportedIdentityProviders"] = list(client.identity_providers)
            if client.oauth is not None:
                extra["AllowedOAuthFlowsUserPoolClient"] = True
                extra["AllowedOAuthFlows"] = list(client.oauth.flows)
                for key, value in (
                    ("AllowedOAuthScopes", client.oauth.scopes),
                    ("CallbackURLs", client.oauth.callback_urls),
                    ("LogoutURLs", client.oauth.logout_urls),
                ):
                    if value:
                        extra[key] = list(value)
            try:
                app = await local.create_app_client(
                    pool_id, client.name, secret=client.secret, flows=client.flows, rotation=client.rotation,
                    grace_seconds=client.grace_seconds, **extra,
                )  # fmt: skip
            except CognitoError as exc:
                raise _failed(
                    seed, f"{where}.clients[{c}]", f"creating client {client.name!r}", exc
                ) from None
            clients.append(SeededClient(client.name, app.client_id, app.client_secret))
        for g, group in enumerate(pool.groups):
            params: dict[str, Any] = {"UserPoolId": pool_id, "GroupName": group.name}
            if group.description is not None:
                params["Description"] = group.description
            if group.precedence is not None:
                params["Precedence"] = group.precedence
            try:
                await local.call("CreateGroup", **params)
            except CognitoError as exc:
                raise _failed(seed, f"{where}.groups[{g}]", f"creating group {group.name!r}", exc) from None
        users = []
        for u, user in enumerate(pool.users):
            try:
                username = await local.create_user(
                    pool_id,
                    user.username,
                    user.password,
                    attributes=user.attributes,
                    temporary=user.temporary,
                )
                for group_name in user.groups:
                    await local.call(
                        "AdminAddUserToGroup", UserPoolId=pool_id, Username=username, GroupName=group_name
                    )
            except CognitoError as exc:
                raise _failed(seed, f"{where}.users[{u}]", f"creating user {user.username!r}", exc) from None
            status = "FORCE_CHANGE_PASSWORD" if user.temporary else "CONFIRMED"
            users.append(SeededUser(user.username, username, status))
        done.append(
            SeededPool(
                pool.name,
                pool_id,
                tuple(clients),
                tuple(g.name for g in pool.groups),
                tuple(users),
                pool.domain,
                tuple(s.identifier for s in pool.resource_servers),
                tuple(p.name for p in pool.identity_providers),
            )
        )
    return SeedResult(seed.source, tuple(done))
