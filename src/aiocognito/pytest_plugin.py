"""pytest plugin (entry point ``pytest11: aiocognito``): the ``local_user_pool`` fixture.

The fixture gives each test a started :class:`aiocognito.testing.LocalUserPool` on 127.0.0.1 and drops its
data afterwards. It needs the ``local`` extra (moto) and pytest-asyncio; both are imported only when a test
asks for the fixture, so installing aiocognito never breaks a pytest run that does not use it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .testing import LocalUserPool

__all__ = ["local_user_pool"]

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - pytest-asyncio missing: offer a fixture that explains
    pytest_asyncio = None  # type: ignore[assignment]


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def local_user_pool() -> AsyncIterator[LocalUserPool]:
        """A running local user pool on 127.0.0.1 (a free port); its data is dropped after the test."""
        from .testing import LocalUserPool

        async with LocalUserPool() as pool:
            yield pool

else:

    @pytest.fixture
    def local_user_pool() -> None:
        """Unavailable: the fixture is async and needs pytest-asyncio."""
        pytest.skip("the local_user_pool fixture needs pytest-asyncio (pip install 'aiocognito[test]')")
