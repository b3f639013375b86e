"""The one background thread that does SRP math for every sign-in of the process (see :func:`srp_executor`)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import sys

__all__ = ["srp_executor"]

_SRP_THREAD: concurrent.futures.ThreadPoolExecutor | None = None


def srp_executor() -> concurrent.futures.ThreadPoolExecutor:
    """The one thread that does SRP math for every session of the process, one step at a time.

    An SRP step costs 0.6 ms (A) to 2.3 ms (a signature) of CPU with gmpy2 and a 256-bit exponent, almost
    all of it in ``powmod``, which releases the GIL (``srp._powmod``). Measured with 50 concurrent
    sign-ins on 2 cores (benchmarks/signin.py): computed inline, steps whose answers arrived together ran
    back to back in one loop iteration and stalled the loop for 214 ms; inline but one step per iteration,
    4.9 ms; on this thread, the loop only waits when the OS gives the core to the math, so on Linux the
    thread lowers its own priority (per-thread nice) and the loop's thread wins the core when it wakes.
    Several threads at once stalled longer: each takes the GIL back between its exponentiations.
    """
    global _SRP_THREAD
    if _SRP_THREAD is None:
        _SRP_THREAD = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="aiocognito-srp", initializer=_yield_the_core
        )
    return _SRP_THREAD


def _yield_the_core() -> None:
    """Make the SRP thread the one the OS pauses when the event loop's thread wants its core (Linux only:
    there ``setpriority`` applies to the calling thread alone; elsewhere it would slow the whole process)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10))
