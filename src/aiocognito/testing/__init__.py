"""A faithful local Cognito user pool for tests and demos: ``LocalUserPool``, fault injection, a pytest plugin.

``LocalUserPool`` serves Cognito's wire protocol on 127.0.0.1 with moto underneath (users, pools, clients)
and a real authentication surface on top: SRP, devices, MFA, tokens signed per pool. See ``_pool``.

The pytest fixture ``local_user_pool`` lives in :mod:`aiocognito.testing.pytest_plugin` (importing this
package does not import pytest).
"""

from __future__ import annotations

from typing import Any

from ._faults import FaultEvent, FaultPlan
from ._pool import AppClient, LocalUserPool, serve
from ._state import CustomChallenge, OutboxMessage

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


def __getattr__(name: str) -> Any:
    if name == "local_user_pool":  # the fixture; imported lazily so that pytest stays optional
        from .pytest_plugin import local_user_pool

        return local_user_pool
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
