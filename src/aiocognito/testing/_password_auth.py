"""The password as first factor (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH's PASSWORD); lockout.

Five failed password checks lock the user out (1 s, doubling, at most 15 min): "Password attempts
exceeded". SRP's PASSWORD_VERIFIER (``_srp_auth``) counts its failures here too. A PreAuthentication
trigger (``_triggers``) runs before the password is checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import errors
from . import _password_hashes, _rules, _triggers
from ._auth_events import record_auth_event
from ._rules import INCORRECT, secret_equals
from ._state import PoolState, SignIn, UserKey

if TYPE_CHECKING:
    from ._records import Client, User, UserPool

__all__ = ["PasswordAuth"]

_LOCKOUT_AFTER = 5
_LOCKOUT_MAX = 900.0


class PasswordAuth:
    """Checks a password against the user's, counting failures per user."""

    def __init__(self, state: PoolState) -> None:
        self.state = state

    def __repr__(self) -> str:
        return "<PasswordAuth>"

    # ----- lockout ----------------------------------------------------------------------------------------
    def check_lockout(self, key: UserKey) -> None:
        """NotAuthorizedException "Password attempts exceeded" while the user is locked out."""
        secrets_ = self.state.secrets_for(key)
        now = self.state.now()
        if secrets_.failed_attempts and now - secrets_.last_failure_at > _LOCKOUT_MAX:
            secrets_.failed_attempts = 0
        if secrets_.failed_attempts >= _LOCKOUT_AFTER:
            wait = min(_LOCKOUT_MAX, 2.0 ** (secrets_.failed_attempts - _LOCKOUT_AFTER))
            if now < secrets_.last_failure_at + wait:
                raise errors.NotAuthorizedException("Password attempts exceeded")

    def fail_password(self, key: UserKey) -> errors.NotAuthorizedException:
        """Count a failed password check; returns the error to raise."""
        secrets_ = self.state.secrets_for(key)
        secrets_.failed_attempts += 1
        secrets_.last_failure_at = self.state.now()
        pool = self.state.user_pool(key[0])
        user = pool.by_sub.get(key[1]) if pool is not None else None
        if pool is not None and user is not None:
            failed = [("Password", "Failure")]
            record_auth_event(self.state, pool, user, event_type="SignIn", response="Fail", challenges=failed)
        return errors.NotAuthorizedException(INCORRECT)

    # ----- the first factor -------------------------------------------------------------------------------
    def first_factor(
        self,
        pool: UserPool,
        client: Client,
        user: User | None,
        password: str,
        flow: str,
        admin: bool,
    ) -> SignIn:
        """A sign-in whose password is verified; "Incorrect username or password." otherwise."""
        if user is None:
            raise errors.NotAuthorizedException(INCORRECT)
        if not user.enabled:
            raise errors.NotAuthorizedException("User is disabled.")
        hides = _rules.prevents_user_existence_errors(client)
        _triggers.pre_authentication(self.state, pool, user, client.id, hides_users=hides)
        key = (pool.id, user.sub)
        self.check_lockout(key)
        imported = None if user.password else _password_hashes.imported_hash(pool, user)
        if imported is not None and _password_hashes.verify(
            imported["algorithm"], imported["hash"], password
        ):
            user.set_password(password, self.state.now())  # the first sign-in after an import with hashes
            _password_hashes.forget(pool, user)
        if not user.password or not secret_equals(user.password, password):
            raise self.fail_password(key)
        self.state.secrets_for(key).failed_attempts = 0
        return SignIn(pool.id, client.id, user.sub, user.username, admin, flow, password_verified=True)
