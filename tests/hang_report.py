"""What a hung test was waiting for: the stacks of the asyncio tasks, printed before pytest-timeout ends the run.

pytest-timeout (``timeout`` in pyproject.toml, thread method) stops a run whose test exceeds its time and
prints every thread's stack, but a hung asyncio test shows there only as an event loop waiting in
``select()``. This plugin prints, a little before that limit, each running loop's tasks and where each one
waits, so the report of a hang (here or in CI) names the coroutine that never finished.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
from collections.abc import Iterator

import pytest

__all__ = ["dump_asyncio_tasks"]

#: Seconds before pytest-timeout's limit at which the tasks are printed.
_HEAD_START = 20.0


def dump_asyncio_tasks(file: object = None) -> None:
    """Print the tasks of every running event loop with their stacks (for diagnosis; called off the loop)."""
    out = file or sys.stderr
    loops = [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and o.is_running()]
    for loop in loops:
        try:
            tasks = list(asyncio.all_tasks(loop))
        except RuntimeError:  # the set changed under us: one more try
            tasks = list(asyncio.all_tasks(loop))
        print(f"\n===== {len(tasks)} asyncio tasks of {loop!r} =====", file=out)  # type: ignore[call-overload]
        for task in tasks:
            task.print_stack(limit=12, file=out)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _report_hangs(request: pytest.FixtureRequest) -> Iterator[None]:
    marker = request.node.get_closest_marker("timeout")
    limit = float(marker.args[0]) if marker and marker.args else float(request.config.getini("timeout") or 0)
    if limit <= _HEAD_START:
        yield
        return
    timer = threading.Timer(limit - _HEAD_START, dump_asyncio_tasks)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
