"""The ``local_user_pool`` fixture, re-exported from :mod:`aiocognito.pytest_plugin` (the registered plugin)."""

from __future__ import annotations

from ..pytest_plugin import local_user_pool

__all__ = ["local_user_pool"]
