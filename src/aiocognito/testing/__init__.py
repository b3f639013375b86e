"""A faithful local Cognito user pool for tests and demos: ``LocalUserPool``, fault injection, a pytest plugin.

``LocalUserPool`` serves Cognito's wire protocol on 127.0.0.1: every operation of the model, on the pool's
own state, with a real authentication surface: SRP, devices, MFA, tokens signed per pool. See ``_pool``.

Importing this package needs neither the ``local`` extra nor pytest: ``LocalUserPool``, ``AppClient`` and ``serve`` (which
need the ``local`` extra) are imported when first used, and so is the pytest fixture ``local_user_pool``
(defined in :mod:`aiocognito.pytest_plugin`, the registered plugin). ``aiocognito demo`` against a real
pool relies on this.

The modules, from the server down:

* ``_pool``: ``LocalUserPool``, the HTTP server and the routing of operations; ``_shapes``: the service
  model, which checks every request; ``_faults``: fault injection; ``demo``: the demo journey.
* ``_auth``: InitiateAuth and RespondToAuthChallenge, checked and dispatched by flow and challenge, and the
  order of the steps after each factor. The flows: ``_password_auth`` (and the lockout), ``_srp_auth``
  (PASSWORD_VERIFIER), ``_custom_auth`` (CUSTOM_AUTH), ``_choice_auth`` (USER_AUTH), ``_refresh_auth``
  (REFRESH_TOKEN_AUTH). The later challenges: ``_challenges`` (NEW_PASSWORD_REQUIRED, MFA) and
  ``_device_auth`` (device SRP). ``_auth_types``: the types they share.
* The other operations: ``_mfa`` (MFA settings, TOTP), ``_devices``, ``_token_ops`` (refresh, revoke,
  sign-out, GetUser), ``_codes`` (sign-up and recovery codes), ``_user_ops`` (attribute updates and
  their verification codes, DeleteUserAttributes, DeleteUser).
* ``_api``: every other operation, one module per area (pools, clients, users, groups, federation,
  domains, import jobs, settings, recovery, CIMD, account, tokens, WebAuthn).
* ``_authenticator``: ``SoftwareAuthenticator``, a passkey for tests (what a browser and its authenticator
  hand back for WebAuthn's create and get).
* ``_managed_login``: the user pool domain's pages and OAuth 2.0 endpoints (``LocalUserPool.domain_url``);
  ``_login_pages``: ``LoginPages``, those pages driven as a browser would, for tests without one.
* ``_triggers``: the user's Lambda triggers as Python callables (the registry, Cognito's events, the
  5-second limit); ``_snapshots``: copies of user data for point-in-time recovery.
* Underneath: ``_records`` (pools, clients, users, groups), ``_state`` (the records and the protocol
  state), ``_users`` (creating and changing users), ``_ids`` (Cognito-shaped ids), ``_sessions``
  (challenge Sessions), ``_lookups`` (pools, clients, users), ``_srp_server`` (server-side SRP),
  ``_issuer`` and ``_jwt`` (tokens and keys), ``_rules`` (settings and checks), ``_constants``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes
from ._faults import FaultEvent, FaultPlan
from ._state import CustomChallenge, OutboxMessage

if TYPE_CHECKING:
    from ..pytest_plugin import local_user_pool
    from ._authenticator import SoftwareAuthenticator
    from ._login_pages import LoginPage, LoginPageError, LoginPages
    from ._pool import AppClient, LocalUserPool, serve
    from ._seed import SeedError, apply_seed, load_seed, parse_seed

__all__ = [
    "AppClient",
    "CustomChallenge",
    "FaultEvent",
    "FaultPlan",
    "LocalUserPool",
    "LoginPage",
    "LoginPageError",
    "LoginPages",
    "OutboxMessage",
    "SeedError",
    "SoftwareAuthenticator",
    "apply_seed",
    "load_seed",
    "local_user_pool",
    "parse_seed",
    "serve",
]

# name -> the module that defines it (relative to this package), imported on first use (the local extra, pytest)
_LAZY = {
    "AppClient": "._pool",
    "LocalUserPool": "._pool",
    "serve": "._pool",
    "SeedError": "._seed",
    "SoftwareAuthenticator": "._authenticator",
    "LoginPage": "._login_pages",
    "LoginPageError": "._login_pages",
    "LoginPages": "._login_pages",
    "apply_seed": "._seed",
    "load_seed": "._seed",
    "parse_seed": "._seed",
    "local_user_pool": "..pytest_plugin",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
