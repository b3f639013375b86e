"""pytest plugin (entry point ``pytest11: aiocognito``): the ``local_user_pool`` fixture.

The fixture gives each test a started :class:`aiocognito.testing.LocalUserPool` on 127.0.0.1 and drops its
data afterwards. It needs the ``local`` extra and pytest-asyncio (with ``pytest_asyncio.fixture``).
Loading the plugin needs neither: without the extra a test asking for the fixture is skipped with a hint, and
without a usable pytest-asyncio the fixture is a plain one that skips, so installing aiocognito never
breaks a pytest run. Under ``CI=true`` a missing part fails the test instead: a skipped test proves nothing. This is the fixture's only definition; ``aiocognito.testing`` re-exports it lazily.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .testing._pool import LocalUserPool

__all__ = ["local_user_pool"]

_NEEDS_LOCAL = "the local_user_pool fixture needs aiocognito[local] (pip install 'aiocognito[local]')"
_NEEDS_ASYNCIO = "the local_user_pool fixture needs pytest-asyncio >= 0.17 (pip install 'aiocognito[test]')"


def _async_fixture_decorator() -> Callable[..., Any] | None:
    """``pytest_asyncio.fixture``, or None when pytest-asyncio is missing or too old to have it."""
    try:
        import pytest_asyncio
    except ImportError:
        return None
    return getattr(pytest_asyncio, "fixture", None)


def _missing(why: str) -> None:
    """Skip the test, or fail it under ``CI=true``."""
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)


_async_fixture = _async_fixture_decorator()

if _async_fixture is not None:

    @_async_fixture
    async def local_user_pool() -> AsyncIterator[LocalUserPool]:
        """A running local user pool on 127.0.0.1 (a free port); its data is dropped after the test."""
        try:
            from .testing._pool import LocalUserPool  # the 'local' extra: only when a test asks
        except ImportError as exc:
            _missing(f"{_NEEDS_LOCAL}: {exc}")
        async with LocalUserPool() as pool:
            yield pool

else:

    @pytest.fixture
    def local_user_pool() -> None:
        """Unavailable: the fixture is async and needs pytest-asyncio's ``fixture`` decorator."""
        _missing(_NEEDS_ASYNCIO)
