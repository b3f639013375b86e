"""A faithful local Cognito user pool for tests and demos: ``LocalUserPool``, fault injection, a pytest plugin.

``LocalUserPool`` serves Cognito's wire protocol on 127.0.0.1 with moto underneath (users, pools, clients)
and a real authentication surface on top: SRP, devices, MFA, tokens signed per pool. See ``_pool``.

Importing this package needs neither moto nor pytest: ``LocalUserPool``, ``AppClient`` and ``serve`` (which
need the ``local`` extra) are imported when first used, and so is the pytest fixture ``local_user_pool``
(from :mod:`aiocognito.testing.pytest_plugin`). ``aiocognito demo`` against a real pool relies on this.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._faults import FaultEvent, FaultPlan
from ._state import CustomChallenge, OutboxMessage

if TYPE_CHECKING:
    from ._pool import AppClient, LocalUserPool, serve
    from .pytest_plugin import local_user_pool

__all__ = [
    "AppClient",
    "CustomChallenge",
    "FaultEvent",
    "FaultPlan",
    "LocalUserPool",
    "OutboxMessage",
    "local_user_pool",
    "serve",
]

# name -> the submodule that defines it, imported on first use (moto, pytest)
_LAZY = {
    "AppClient": "._pool",
    "LocalUserPool": "._pool",
    "serve": "._pool",
    "local_user_pool": ".pytest_plugin",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
