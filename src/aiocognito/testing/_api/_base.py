"""What every operation handler gets: the pool's state and services, and the helpers they share.

``Context`` bundles the state (``PoolState``: pools, protocol state, clock, randomness) with the services
handlers call into (lookups, the token issuer). Pagination follows Cognito: an opaque token naming where
the next page starts, a page size bounded by the operation's maximum.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ... import errors

if TYPE_CHECKING:
    from .._codes import CodeService
    from .._issuer import TokenIssuer
    from .._lookups import Lookups
    from .._mfa import MfaService
    from .._state import PoolState

__all__ = ["Context", "Handler", "Route", "page", "require_absent", "now"]

T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    """The pool's state and the services operation handlers use."""

    state: PoolState
    lookups: Lookups
    issuer: TokenIssuer
    mfa: MfaService
    codes: CodeService


#: An operation: (context, request parameters) -> answer body.
Route = Callable[[Context, Mapping[str, Any]], dict[str, Any]]
#: A bound operation, as the pool's dispatcher calls it.
Handler = Callable[[Mapping[str, Any]], dict[str, Any]]


def now(ctx: Context) -> float:
    return ctx.state.now()


def page(
    items: Sequence[T],
    params: Mapping[str, Any],
    *,
    key: Callable[[T], str],
    token: str = "NextToken",
    limit: str = "MaxResults",
    default: int = 60,
) -> tuple[list[T], str | None]:
    """One page of ``items`` (in a stable order) and the token of the next page (None: the last page).

    The token names the key of the last item returned, so items added or removed between calls neither
    repeat nor skip the rest. An unreadable token is InvalidParameterException.
    """
    size = params.get(limit)
    size = default if size is None else int(size)
    after: str | None = None
    given = params.get(token)
    if given is not None:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(str(given).encode() + b"=="))
            after = str(decoded["after"])
        except (ValueError, KeyError, TypeError):
            raise errors.InvalidParameterException(f"Invalid {token}.") from None
    ordered = sorted(items, key=key)
    if after is not None:
        ordered = [item for item in ordered if key(item) > after]
    chunk = ordered[:size] if size > 0 else []
    if len(ordered) > len(chunk) and chunk:
        marker = json.dumps({"after": key(chunk[-1])}).encode()
        return chunk, base64.urlsafe_b64encode(marker).decode().rstrip("=")
    return chunk, None


def require_absent(found: object, code: str, message: str) -> None:
    """Raise ``code`` when ``found`` is not None (a name already taken)."""
    if found is not None:
        raise errors.error_class(code)(message, code=code)
