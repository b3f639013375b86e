"""User import jobs: the CSV header, jobs, their pre-signed upload URL and the import itself. (being written)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ._base import Route

__all__ = ["ROUTES", "FIDELITY", "receive_upload"]

if TYPE_CHECKING:
    from .._state import PoolState


def receive_upload(state: PoolState, job_id: str, query: Mapping[str, str], body: bytes) -> tuple[int, str]:
    """``PUT`` of a job's CSV to its pre-signed URL: (HTTP status, S3-style XML or empty body)."""
    return 404, ""


ROUTES: dict[str, Route] = {}
#: operation -> "full", or "stored: <why the behaviour cannot be reproduced offline>"
FIDELITY: dict[str, str] = {}
