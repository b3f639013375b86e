"""Who a call is about: the pool and app client of an id; the user of an admin call, access token or sign-in.

Every service of the local pool looks its pool, client and user up here, with Cognito's errors for what is
unknown (ResourceNotFoundException, UserNotFoundException) or disabled (NotAuthorizedException).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import errors
from . import _rules
from ._issuer import TokenIssuer
from ._rules import INCORRECT
from ._state import PoolState, SignIn, UserKey

if TYPE_CHECKING:
    from ._records import Client, User, UserPool

__all__ = ["Lookups"]


class Lookups:
    """Pools, app clients and users, as the operations name them."""

    def __init__(self, state: PoolState, issuer: TokenIssuer) -> None:
        self.state = state
        self.issuer = issuer  # access tokens

    def __repr__(self) -> str:
        return "<Lookups>"

    def client(self, client_id: object, user_pool_id: object = None) -> tuple[UserPool, Client]:
        """The pool and app client; ResourceNotFoundException when unknown (or in another pool)."""
        if user_pool_id is not None and self.state.user_pool(user_pool_id) is None:
            raise errors.ResourceNotFoundException(f"User pool {user_pool_id} does not exist.")
        found = self.state.app_client(client_id)
        if found is None or (user_pool_id is not None and found[0].id != user_pool_id):
            raise errors.ResourceNotFoundException(f"User pool client {client_id} does not exist.")
        return found

    def pool(self, user_pool_id: object) -> UserPool:
        pool = self.state.user_pool(user_pool_id)
        if pool is None:
            raise errors.ResourceNotFoundException(f"User pool {user_pool_id} does not exist.")
        return pool

    def admin_user(self, params: Mapping[str, Any]) -> tuple[UserPool, User]:
        """UserPoolId + Username of an admin call; UserNotFoundException when there is no such user."""
        _rules.require(params, "UserPoolId", "Username")
        pool = self.pool(params["UserPoolId"])
        user = _rules.resolve_user(pool, str(params["Username"]))
        if user is None:
            raise errors.UserNotFoundException("User does not exist.")
        return pool, user

    def user_by_key(self, key: UserKey) -> tuple[UserPool, User] | None:
        pool = self.state.user_pool(key[0])
        user = pool.by_sub.get(key[1]) if pool is not None else None
        return (pool, user) if pool is not None and user is not None else None

    def token_user(self, access_token: object) -> tuple[UserPool, User, UserKey]:
        """The user behind a valid access token (NotAuthorizedException otherwise)."""
        record = self.issuer.check_access_token(access_token)
        found = self.user_by_key(record.user)
        if found is None:
            raise errors.UserNotFoundException("User does not exist.")
        if not found[1].enabled:
            raise errors.NotAuthorizedException("User is disabled.")
        return found[0], found[1], record.user

    def find_user(self, pool: UserPool, client: Client, name: str) -> User | None:
        """The user a sign-in names; None when unknown and the client prevents user existence errors.

        A user whose password an administrator reset (or who was imported) must reset it first: Cognito
        says so before looking at any password, unless the client hides which users exist.
        """
        user = _rules.resolve_user(pool, name)
        hides = _rules.prevents_user_existence_errors(client)
        if user is None and not hides:
            raise errors.UserNotFoundException("User does not exist.")
        if user is not None and user.status == "RESET_REQUIRED" and user.enabled and not hides:
            raise errors.PasswordResetRequiredException("Password reset required for the user")
        return user

    def signed_in_user(self, sign_in: SignIn) -> tuple[UserPool, Client, User]:
        """The pool, client and (still enabled) user of a sign-in in progress."""
        pool, client = self.client(sign_in.client_id)
        found = self.user_by_key((sign_in.user_pool_id, sign_in.sub)) if sign_in.sub else None
        if found is None:
            raise errors.NotAuthorizedException(INCORRECT)
        if not found[1].enabled:
            raise errors.NotAuthorizedException("User is disabled.")
        return pool, client, found[1]
