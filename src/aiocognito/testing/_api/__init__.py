"""The local pool's operations besides sign-in: pools, app clients, users, groups, federation, domains and the rest.

One module per area; each exports ``ROUTES``, ``{operation name: handler}``, where a handler takes the
:class:`~._base.Context` and the request's parameters (already checked against the model's input shape)
and returns the answer's body, and ``FIDELITY``, ``{operation name: "full" or "stored: <why>"}`` (the
fidelity table, docs/local-pool-fidelity.md, is made from these by ``_fidelity``). ``routes()`` merges
them for the pool's dispatcher.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._base import Context, Handler, Route

__all__ = ["Context", "Handler", "Route", "routes", "fidelity"]

_AREAS = (
    "pools",
    "clients",
    "users",
    "groups",
    "federation",
    "resource_servers",
    "domains",
    "import_jobs",
    "settings",
    "recovery",
    "cimd",
    "account",
    "tokens",
    "webauthn",
)


def _modules() -> list[Any]:
    return [importlib.import_module(f".{area}", __name__) for area in _AREAS]


def fidelity() -> dict[str, str]:
    """operation -> "full" or "stored: <why>", for the operations of this package."""
    merged: dict[str, str] = {}
    for module in _modules():
        merged.update(module.FIDELITY)
    return merged


def routes() -> dict[str, Route]:
    """Every operation of this package and its handler."""
    merged: dict[str, Route] = {}
    for module in _modules():
        for name, route in module.ROUTES.items():
            if name in merged:
                raise RuntimeError(f"{name} is routed twice")
            merged[name] = route
    return merged
