"""Groups and membership. (being written)"""

from __future__ import annotations

from ._base import Route

__all__ = ["ROUTES", "FIDELITY"]

ROUTES: dict[str, Route] = {}
#: operation -> "full", or "stored: <why the behaviour cannot be reproduced offline>"
FIDELITY: dict[str, str] = {}
