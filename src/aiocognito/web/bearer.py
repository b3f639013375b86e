"""``Authorization: Bearer`` checks on a :class:`~aiocognito.TokenVerifier`, framework-neutral.

:func:`authenticate` reads the header, verifies the token and checks the route's :class:`Requirement`; it
returns a :class:`CognitoClaims` or raises :class:`~aiocognito.web.http_errors.HttpError`:

* 401 ``missing_token`` with ``WWW-Authenticate: Bearer`` when the request carries no bearer token (no
  header, or another scheme): RFC 6750 section 3.1 gives no error code then;
* 401 ``invalid_request`` with ``Bearer error="invalid_request"`` for a malformed ``Bearer`` header;
* 401 ``invalid_token`` with ``Bearer error="invalid_token"`` and the verifier's ``reason`` (``expired``,
  ``signature``, ``client_id``, ...) for a token the verifier refuses;
* 403 ``insufficient_scope`` with ``Bearer error="insufficient_scope"`` and ``reason`` ``groups`` or
  ``scope`` when the token is good but lacks the group or scope (the route's or the verifier's own);
* 503 ``keys_unavailable`` when the pool's JWKS cannot be fetched and none is cached.

Several pools or app clients: give a verifier made with :meth:`TokenVerifier.multi
<aiocognito.TokenVerifier.multi>`; :attr:`CognitoClaims.user_pool_id` and :attr:`CognitoClaims.client_id`
tell which one a request came from. Logs name the refusal reason, never the token.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .._errors import ConfigurationError, InvalidToken, JwksUnavailable
from .http_errors import HttpError, bearer_challenge, http_error

if TYPE_CHECKING:
    from .._tokens.verifier import TokenVerifier

__all__ = ["CognitoClaims", "Requirement", "authenticate", "bearer_token"]

logger = logging.getLogger("aiocognito.web")

# RFC 6750's b64token.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


@dataclass(frozen=True)
class CognitoClaims:
    """The verified claims of a request's token, as a route receives them.

    ``username`` is the real (internal) username, ``client_id`` the app client (an ID token's ``aud``),
    ``groups`` the ``cognito:groups``, ``scopes`` the access token's ``scope`` (empty for ID tokens),
    ``user_pool_id`` the last part of ``issuer``. ``claims`` is the whole verified payload and ``token``
    the token as sent: a credential (hidden from the repr; do not log it).
    """

    username: str
    sub: str
    groups: tuple[str, ...]
    scopes: frozenset[str]
    client_id: str
    token_use: Literal["access", "id"]
    issuer: str
    user_pool_id: str
    expires_at: int
    claims: Mapping[str, Any] = field(repr=False, compare=False)
    token: str = field(repr=False, compare=False)

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], token: str) -> CognitoClaims:
        """Build from verified claims (``verifier.verify(token, ...)``'s result) and the token."""

        def text(name: str) -> str:
            value = claims.get(name)
            return value if isinstance(value, str) else ""

        access = claims.get("token_use") != "id"
        groups = claims.get("cognito:groups")
        issuer = text("iss")
        return cls(
            username=text("username") if access else text("cognito:username"),
            sub=text("sub"),
            groups=tuple(g for g in groups if isinstance(g, str)) if isinstance(groups, list) else (),
            scopes=frozenset(text("scope").split()) if access else frozenset(),
            client_id=text("client_id") if access else text("aud"),
            token_use="access" if access else "id",
            issuer=issuer,
            user_pool_id=issuer.rstrip("/").rpartition("/")[2],
            expires_at=int(claims.get("exp") or 0),
            claims=dict(claims),
            token=token,
        )

    def in_group(self, *names: str) -> bool:
        """True when the user is in at least one of ``names``."""
        return any(name in self.groups for name in names)


def _names(value: str | Iterable[str] | None, what: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    names = frozenset([value] if isinstance(value, str) else value)
    if not all(isinstance(n, str) and n and len(n.split()) == 1 for n in names):
        raise ConfigurationError(f"{what} are single non-empty names")
    return names


@dataclass(frozen=True)
class Requirement:
    """What a route asks of a token: its use, and (any one of) the groups and the scopes.

    Build it with :meth:`of`; a single str counts as one name. These apply on top of the verifier's own.
    """

    token_use: Literal["access", "id"] = "access"
    groups: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        token_use: Literal["access", "id"] = "access",
        *,
        groups: str | Iterable[str] | None = None,
        scopes: str | Iterable[str] | None = None,
    ) -> Requirement:
        if token_use not in ("access", "id"):
            raise ConfigurationError(f"token_use must be 'access' or 'id', not {token_use!r}")
        return cls(token_use, _names(groups, "groups"), _names(scopes, "scopes"))


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization`` header value.

    Raises:
        HttpError: 401 ``missing_token`` (no bearer credentials), 401 ``invalid_request`` (malformed).
    """
    scheme, _, rest = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        raise HttpError(
            401, "missing_token", headers=bearer_challenge(), message="send Authorization: Bearer <token>"
        )
    token = rest.strip()
    if not _B64TOKEN.fullmatch(token):
        raise HttpError(
            401,
            "invalid_request",
            headers=bearer_challenge("invalid_request"),
            message="malformed Authorization header",
        )
    return token


def _insufficient(reason: str, scopes: Iterable[str] = ()) -> HttpError:
    return HttpError(
        403,
        "insufficient_scope",
        headers=bearer_challenge("insufficient_scope", scope=sorted(scopes)),
        reason=reason,
    )


async def authenticate(
    verifier: TokenVerifier, authorization: str | None, requirement: Requirement | None = None
) -> CognitoClaims:
    """Verify the request's bearer token against ``requirement`` (default: an access token; see the
    module docstring).

    Raises:
        HttpError: 401, 403 or 503 as the module docstring says.
    """
    requirement = requirement or Requirement()
    token = bearer_token(authorization)
    try:
        claims = await verifier.verify(token, requirement.token_use)
    except InvalidToken as exc:
        logger.info("token refused: %s", exc.reason)
        if exc.reason in ("groups", "scope"):  # the verifier's own requirement
            raise _insufficient(exc.reason) from None
        raise http_error(exc) from None
    except JwksUnavailable as exc:
        logger.warning("the user pool's keys could not be fetched")
        raise http_error(exc) from None
    found = CognitoClaims.from_claims(claims, token)
    if requirement.groups and not requirement.groups & set(found.groups):
        logger.info("token refused: groups")
        raise _insufficient("groups")
    if requirement.scopes and not requirement.scopes & found.scopes:
        logger.info("token refused: scope")
        raise _insufficient("scope", requirement.scopes)
    return found
