"""pytest plugin: the ``local_user_pool`` fixture (a started :class:`LocalUserPool`, closed afterwards).

Registered as the ``aiocognito`` pytest11 entry point; without it, import the fixture into a test module:
``from aiocognito.testing.pytest_plugin import local_user_pool``.

The fixture is function-scoped and async (pytest-asyncio), so each test gets an empty pool of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from ._pool import LocalUserPool

__all__ = ["local_user_pool"]


@pytest_asyncio.fixture
async def local_user_pool() -> AsyncIterator[LocalUserPool]:
    """A running local user pool on 127.0.0.1 (a free port); its data is dropped after the test."""
    async with LocalUserPool() as pool:
        yield pool
