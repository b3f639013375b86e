"""Paginated listings as async iterators.

``PageCursor`` is the pure part: it builds each page's request from the caller's parameters and the last
token, and refuses a token it has seen before. ``Paginator`` is the thin async loop around it that holds one
page in memory at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Generic, TypeVar

from .._errors import PaginationError
from .model import PaginatedSpec

__all__ = ["PageCursor", "Paginator"]

T = TypeVar("T")


class PageCursor:
    """Which request comes next. No I/O."""

    __slots__ = ("spec", "params", "_seen", "_next", "done")

    def __init__(self, spec: PaginatedSpec, params: dict[str, Any]) -> None:
        self.spec = spec
        self.params = dict(params)
        if spec.limit_required and spec.limit_key and self.params.get(spec.limit_key) is None:
            self.params[spec.limit_key] = spec.max_limit
        self._seen: set[str] = set()
        self._next: str | None = None
        self.done = False

    def next_request(self) -> dict[str, Any] | None:
        """The parameters of the next page, or None when the listing is finished."""
        if self.done:
            return None
        if self._next is None:
            return self.params
        return {**self.params, self.spec.input_token: self._next}

    def feed(self, page: dict[str, Any]) -> list[Any]:
        """Take a page; return its items. Raises PaginationError when a token repeats."""
        token = page.get(self.spec.output_token)
        if not token:
            self.done = True
        elif token in self._seen:
            self.done = True
            raise PaginationError(
                f"{self.spec.operation} returned a page token it had already returned; stopping to avoid a loop"
            )
        else:
            self._seen.add(token)
            self._next = token
        items = page.get(self.spec.result_key)
        return items if isinstance(items, list) else []


class Paginator(Generic[T]):
    """``async for item in paginator`` yields items; ``paginator.pages()`` yields raw responses.

    Each iteration starts the listing from the beginning.
    """

    __slots__ = ("_spec", "_params", "_fetch")

    def __init__(
        self,
        spec: PaginatedSpec,
        params: dict[str, Any],
        fetch: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]],
    ) -> None:
        self._spec = spec
        self._params = params
        self._fetch = fetch

    async def pages(self) -> AsyncIterator[dict[str, Any]]:
        cursor = PageCursor(self._spec, self._params)
        while (request := cursor.next_request()) is not None:
            page = await self._fetch(request)
            cursor.feed(page)
            yield page

    async def _items(self) -> AsyncIterator[T]:
        cursor = PageCursor(self._spec, self._params)
        while (request := cursor.next_request()) is not None:
            page = await self._fetch(request)
            items = cursor.feed(page)
            del page
            for item in items:
                yield item

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    def __repr__(self) -> str:
        return f"<Paginator {self._spec.operation}>"
