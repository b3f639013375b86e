"""Many workers, one user pool: what several processes share through a real Redis (``aiocognito[redis]``).

* ``_stores``: :class:`RedisTokenStore`, :class:`RedisDeviceStore` (the ``Session`` store protocols) and
  :class:`RedisChallengeStore` (the web backends' saved sign-in steps: single use, TTL-bound), with a
  swappable serializer and optional encryption at rest (:class:`AesGcmCipher`);
* ``_refresh_lock``: :class:`RedisRefreshLock`, so that one refresh call serves every process of a session
  (a lease with a fencing token);
* ``_pacer``: :class:`RedisQuotaPacer`, Cognito's quotas paced across every process of an account and
  Region (one atomic round trip per call);
* ``_jobs`` (with ``_job_layout`` and ``_job_worker``): bulk jobs whose rows go through a Redis Stream to any
  number of workers (``aiocognito worker``).

Everything takes a ``redis.asyncio.Redis`` the caller makes (``Redis.from_url(...)``) and owns.
Importing this package needs the ``redis`` extra only when a name is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from ._jobs import JobLost, JobReport, WorkerStats, job_report, run_worker, submit_job, wait_for_job
    from ._pacer import QuotaUnavailable, RedisQuotaPacer
    from ._refresh_lock import RedisRefreshLock, RefreshLockError
    from ._stores import (
        AesGcmCipher,
        Cipher,
        JsonSerializer,
        RedisChallengeStore,
        RedisDeviceStore,
        RedisTokenStore,
        RedisUnavailable,
        Serializer,
        StoredValueError,
    )

__all__ = [
    "AesGcmCipher",
    "Cipher",
    "JobLost",
    "JobReport",
    "JsonSerializer",
    "QuotaUnavailable",
    "RedisChallengeStore",
    "RedisDeviceStore",
    "RedisQuotaPacer",
    "RedisRefreshLock",
    "RefreshLockError",
    "RedisTokenStore",
    "RedisUnavailable",
    "Serializer",
    "StoredValueError",
    "WorkerStats",
    "job_report",
    "run_worker",
    "submit_job",
    "wait_for_job",
]

_LAZY = {
    "AesGcmCipher": "._stores",
    "Cipher": "._stores",
    "RedisUnavailable": "._stores",
    "Serializer": "._stores",
    "StoredValueError": "._stores",
    "JsonSerializer": "._stores",
    "RedisChallengeStore": "._stores",
    "RedisDeviceStore": "._stores",
    "RedisTokenStore": "._stores",
    "RedisRefreshLock": "._refresh_lock",
    "RefreshLockError": "._refresh_lock",
    "QuotaUnavailable": "._pacer",
    "RedisQuotaPacer": "._pacer",
    "JobLost": "._jobs",
    "JobReport": "._jobs",
    "WorkerStats": "._jobs",
    "job_report": "._jobs",
    "run_worker": "._jobs",
    "submit_job": "._jobs",
    "wait_for_job": "._jobs",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
