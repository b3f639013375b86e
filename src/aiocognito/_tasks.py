"""Ending background tasks without swallowing the caller's own cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["stop_task"]


async def stop_task(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` and wait until it has ended.

    ``task.cancel(); with suppress(CancelledError): await task`` hides a cancellation of the *caller* that
    arrives during the wait: the caller then runs on as if nothing happened, and whoever cancelled it (a
    timeout, a shutdown that cancels every task) waits for it forever. ``asyncio.wait`` never raises the
    task's outcome, so only the caller's own cancellation comes out of here. An exception the task ended
    with (other than its cancellation) is raised, as ``await task`` would.
    """
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled():
        error = task.exception()
        if error is not None:
            raise error
