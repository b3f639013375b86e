"""Bulk jobs across processes, the data layout both sides share: the keys of a job, the encoding of its rows
and outcomes, its hash (:class:`JobMeta`), the Lua scripts that record outcomes, and the bounded wait for
Redis (:class:`RedisGuard`).

:mod:`._jobs` (the submitting side, ``wait_for_job``) and :mod:`._job_worker` (``run_worker``) both build on
it; :mod:`._jobs` documents a job's life, its keys and scripts, and why they are so. The codecs are pure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from redis import exceptions as redis_errors

from .. import bulk
from .._bulk_engine import Kind, Outcome
from .._errors import (
    BulkJobAborted,
    CognitoError,
    ConfigurationError,
    ConnectionFailedError,
    CredentialsError,
    ParamValidationError,
    RequestTimeoutError,
    ResponseParseError,
    ServiceError,
    TransportError,
    redact,
)
from ..errors import error_class
from ._stores import RedisUnavailable, StoredValueError, _origin

if TYPE_CHECKING:
    from redis.asyncio import Redis


__all__ = [
    "DEFAULT_PREFIX",
    "GROUP",
    "KINDS",
    "STATES",
    "FINISH_SCRIPT",
    "JobKeys",
    "JobLost",
    "JobMeta",
    "RedisGuard",
    "decode_row",
    "encode_outcome",
    "encode_row",
    "error_from",
    "parse_meta",
    "reconnect_delay",
    "row_entry_id",
    "text_of",
    "error_code_and_message",
    "RECORD_SCRIPT",
    "ABORT_SCRIPT",
    "TOUCH_SCRIPT",
]

logger = logging.getLogger("aiocognito.redis.jobs")

DEFAULT_PREFIX = "aiocognito:"
#: The consumer group of every job's stream.
GROUP = "workers"
#: The bulk operations a job can run, by the name of their :mod:`aiocognito.bulk` function.
KINDS: dict[str, Kind] = {
    "create_users": bulk._CREATE,
    "delete_users": bulk._DELETE,
    "add_users_to_group": bulk._ADD_TO_GROUP,
    "remove_users_from_group": bulk._REMOVE_FROM_GROUP,
    "update_user_attributes": bulk._UPDATE_ATTRIBUTES,
    "disable_users": bulk._DISABLE,
    "enable_users": bulk._ENABLE,
    "set_passwords": bulk._SET_PASSWORD,
}
STATES = ("submitting", "open", "done", "aborted")
_T = TypeVar("_T")


class JobLost(CognitoError):
    """A job's data is not in Redis: a wrong id, or its keys are gone (Redis restarted without persistence,
    keys evicted or deleted). Rows settled before are in the user pool; submit the rows again as a new job
    (users that exist count as "already")."""

    def __init__(self, job_id: str, what: str) -> None:
        self.job_id = job_id
        super().__init__(f"bulk job {job_id}: {what}")


# ----- keys and the pure encodings ------------------------------------------------------------------------
@dataclass(frozen=True)
class JobKeys:
    """The key names of one job (no secret in them: a prefix, the job id and a suffix)."""

    meta: str
    rows: str
    outcomes: str
    failures: str
    index: str

    @classmethod
    def of(cls, prefix: str, job_id: str) -> JobKeys:
        base = f"{prefix}job:{{{job_id}}}"
        return cls(base, base + ":rows", base + ":outcomes", base + ":failures", prefix + "jobs")

    @property
    def job(self) -> list[str]:
        """The keys the scripts touch (one hash slot)."""
        return [self.meta, self.rows, self.outcomes, self.failures]


def row_entry_id(index: int) -> str:
    """The stream ID of row ``index`` (0-based): fixed, so that a row cannot be added twice."""
    return f"0-{index + 1}"


def text_of(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, (bytes, bytearray)) else str(value)


def encode_row(index: int, row: Mapping[str, Any] | str) -> dict[str, str]:
    """The stream entry of one row. Raises TypeError/ValueError for a row that is not JSON-able."""
    if isinstance(row, str):
        row = {"Username": row}
    if not isinstance(row, Mapping):
        raise TypeError(f"row {index}: a row must be a mapping or a str, not {type(row).__name__}")
    return {"i": str(index), "r": json.dumps(dict(row), separators=(",", ":"))}


def decode_row(fields: Mapping[Any, Any]) -> tuple[int, dict[str, Any]]:
    """(row number, row) from a stream entry's fields. Raises ValueError when they are not a row."""
    values = {text_of(k): text_of(v) for k, v in fields.items()}
    try:
        index = int(values["i"])
        row = json.loads(values["r"])
    except (KeyError, ValueError) as exc:
        raise ValueError("not a row entry") from exc
    if not isinstance(row, dict) or index < 0:
        raise ValueError("not a row entry")
    return index, row


def error_code_and_message(error: CognitoError) -> tuple[str, str]:
    if isinstance(error, ServiceError) and error.code:
        return error.code, redact(str(error.message or ""), 500)
    return type(error).__name__, redact(str(error), 500)


def encode_outcome(index: int, outcome: Outcome) -> str:
    """The outcomes-hash value of a settled row: ``s``, ``a``, or the failure as JSON (its error's code and
    message, already scrubbed of the row's secrets by the bulk engine)."""
    if outcome.status == "succeeded":
        return "s"
    if outcome.status == "already":
        return "a"
    record: dict[str, Any] = {"i": index, "u": outcome.username, "n": outcome.attempts}
    if outcome.error is not None:
        record["c"], record["m"] = error_code_and_message(outcome.error)
    return json.dumps(record, separators=(",", ":"))


_PLAIN_ERRORS: dict[str, type[CognitoError]] = {
    "CognitoError": CognitoError,
    "CredentialsError": CredentialsError,
    "ConfigurationError": ConfigurationError,
    "TransportError": TransportError,
    "ConnectionFailedError": ConnectionFailedError,
    "RequestTimeoutError": RequestTimeoutError,
    "RedisUnavailable": RedisUnavailable,
    "StoredValueError": StoredValueError,
}


def error_from(code: str, message: str) -> CognitoError:
    """A typed error again from a stored code and message: the service's class for a service code (``code``
    and ``message`` as the service gave them), the client-side class of that name (its text the stored
    one), else a :class:`CognitoError`."""
    plain = _PLAIN_ERRORS.get(code)
    if plain is not None:
        return plain(message)
    if code == "ParamValidationError":
        error: CognitoError = ParamValidationError("", [])
    elif code == "ResponseParseError":
        error = ResponseParseError("", operation=None, status=0, excerpt="")
    elif code and code[0].isupper() and code.isalnum() and not code.endswith("Error"):
        return error_class(code)(message, code=code)
    else:
        error = CognitoError()
    error.args = (
        message if code in ("ParamValidationError", "ResponseParseError") else f"{code}: {message}",
    )
    return error


@dataclass(frozen=True)
class JobMeta:
    """A job's hash, parsed (see :func:`parse_meta`)."""

    kind: str
    user_pool_id: str
    defaults: dict[str, Any]
    max_attempts: int
    max_failures: int
    state: str
    created: float
    submitted: int = 0
    total: int | None = None
    succeeded: int = 0
    already: int = 0
    failed: int = 0
    last: float | None = None
    abort: dict[str, str] = field(default_factory=dict)

    @property
    def settled(self) -> int:
        return self.succeeded + self.already + self.failed

    def aborted_error(self, report: Any = None) -> BulkJobAborted:
        """The :class:`BulkJobAborted` of an aborted job, rebuilt from what the stopping worker stored."""
        a = self.abort
        cause = error_from(a.get("code", "CognitoError"), a.get("message", ""))
        operation = a.get("operation") or KINDS[self.kind].operation
        return BulkJobAborted(operation, a.get("reason", "configuration"), cause, report)


def parse_meta(job_id: str, fields: Mapping[Any, Any]) -> JobMeta:
    """A job's hash as :class:`JobMeta`. Raises :class:`JobLost` when it is empty (the job is not there) and
    :class:`StoredValueError` when it is not a job's hash."""
    values = {text_of(k): text_of(v) for k, v in fields.items()}
    if not values:
        raise JobLost(job_id, "no such job in Redis (a wrong id, or its keys are gone: was Redis restarted "
                      "without persistence?)")  # fmt: skip
    try:
        kind, state = values["kind"], values["state"]
        if kind not in KINDS or state not in STATES:
            raise ValueError(kind)
        defaults = json.loads(values.get("defaults") or "{}")
        if not isinstance(defaults, dict):
            raise ValueError("defaults")
        total = values.get("total")
        last = values.get("last")
        return JobMeta(
            kind=kind,
            user_pool_id=values["pool"],
            defaults=defaults,
            max_attempts=int(values.get("max_attempts", "10")),
            max_failures=int(values.get("max_failures", "1000")),
            state=state,
            created=float(values["created"]),
            submitted=int(values.get("submitted", "0")),
            total=int(total) if total else None,
            succeeded=int(values.get("succeeded", "0")),
            already=int(values.get("already", "0")),
            failed=int(values.get("failed", "0")),
            last=float(last) if last else None,
            abort={k[6:]: v for k, v in values.items() if k.startswith("abort_")},
        )
    except (KeyError, ValueError) as exc:
        raise StoredValueError(f"bulk job {job_id}: its hash is not a job's ({type(exc).__name__})") from None


# ----- waiting for Redis ------------------------------------------------------------------------------------
def reconnect_delay(
    attempt: int,
    *,
    now: float,
    deadline: float,
    random: Callable[[], float] = random.random,
    base: float = 0.1,
    cap: float = 2.0,
) -> float | None:
    """How long to wait before Redis call attempt ``attempt + 1`` (1-based ``attempt`` failed), or None when
    ``deadline`` has passed. Pure: half fixed, half jitter, doubling from ``base`` up to ``cap``, and never
    past the deadline (the last try happens at the deadline)."""
    if now >= deadline:
        return None
    step = min(cap, base * 2.0 ** (attempt - 1))
    return min(deadline - now, step / 2 + random() * step / 2)


class RedisGuard:
    """Runs Redis calls, waiting out an unreachable Redis for up to ``retry_for`` seconds per call.

    Connection errors and timeouts (Redis down, restarting, loading its data) are retried; other error
    replies are not (``NOGROUP`` means the job's stream is gone: :class:`JobLost`). Past the time:
    :class:`RedisUnavailable`, naming Redis's host and port, never the URL (it may hold a password).
    """

    def __init__(
        self,
        redis: Redis,
        retry_for: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        random: Callable[[], float] = random.random,
    ) -> None:
        self.redis = redis
        self.retry_for = retry_for
        self._clock, self._sleep, self._random = clock, sleep, random
        #: How many times a call waited for Redis to come back.
        self.waits = 0

    async def __call__(self, call: Callable[[], Awaitable[_T]], *, job_id: str = "") -> _T:
        deadline: float | None = None
        attempt = 0
        while True:
            try:
                result = await call()
            except redis_errors.AuthenticationError:
                raise RedisUnavailable(f"Redis at {_origin(self.redis)} refused the credentials") from None
            except (redis_errors.ConnectionError, redis_errors.TimeoutError) as exc:
                now = self._clock()
                deadline = now + self.retry_for if deadline is None else deadline
                attempt += 1
                delay = reconnect_delay(attempt, now=now, deadline=deadline, random=self._random)
                if delay is None:
                    raise RedisUnavailable(
                        f"Redis at {_origin(self.redis)} did not answer for {self.retry_for:g}s "
                        f"({type(exc).__name__}); the job's rows stay in Redis for a later worker"
                    ) from None
                if attempt == 1:
                    logger.warning(
                        "Redis at %s is unreachable (%s): retrying", _origin(self.redis), type(exc).__name__
                    )
                self.waits += 1
                await self._sleep(delay)
                continue
            except redis_errors.ResponseError as exc:
                text = str(exc)
                if text.startswith("NOGROUP") or "no such key" in text.lower():
                    raise JobLost(
                        job_id, "its rows stream is gone from Redis (restarted without persistence?)"
                    ) from None
                raise RedisUnavailable(
                    f"Redis at {_origin(self.redis)} refused a command: {redact(text.split(chr(10))[0], 120)}"
                ) from None
            if attempt:
                logger.warning("Redis at %s answers again", _origin(self.redis))
            return result


# ----- the scripts ------------------------------------------------------------------------------------------
# KEYS: meta, rows, outcomes, failures. Ends the job once every row has an outcome and the submission is sealed.
FINISH_SCRIPT = """
local function finish_if_complete()
  local m = redis.call('HMGET', KEYS[1], 'state', 'total', 'succeeded', 'already', 'failed', 'keep')
  if m[1] ~= 'open' or not m[2] then return end
  if (tonumber(m[3]) or 0) + (tonumber(m[4]) or 0) + (tonumber(m[5]) or 0) < tonumber(m[2]) then return end
  local t = redis.call('TIME')
  local now = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
  redis.call('HSET', KEYS[1], 'state', 'done', 'finished', now)
  local keep = tonumber(m[6]) or 0
  if keep > 0 then
    for i = 1, 4 do redis.call('EXPIRE', KEYS[i], keep) end
  end
end
"""

# ARGV: group, entry id, row number, status, value. Returns 1 (recorded), 0 (had an outcome), -1 (no job).
RECORD_SCRIPT = (
    FINISH_SCRIPT
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local added = redis.call('HSETNX', KEYS[3], ARGV[3], ARGV[5])
if added == 1 then
  redis.call('HINCRBY', KEYS[1], ARGV[4], 1)
  if ARGV[4] == 'failed' then
    local cap = tonumber(redis.call('HGET', KEYS[1], 'max_failures')) or 1000
    if redis.call('LLEN', KEYS[4]) < cap then redis.call('RPUSH', KEYS[4], ARGV[5]) end
  end
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'last', t[1] .. '.' .. string.format('%06d', tonumber(t[2])))
end
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
finish_if_complete()
return added
"""
)

# ARGV: reason, operation, code, message. Returns 1 when this call stopped the job.
ABORT_SCRIPT = """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'open' and state ~= 'submitting' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'aborted', 'abort_reason', ARGV[1], 'abort_operation', ARGV[2],
           'abort_code', ARGV[3], 'abort_message', ARGV[4])
return 1
"""

# KEYS: rows. ARGV: group, consumer, entry ids. Re-claims (idle 0, not a delivery) the ids still in this
# consumer's PEL, so that a live worker's rows are not taken over; returns how many.
TOUCH_SCRIPT = """
local claim = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then claim[#claim + 1] = ARGV[i] end
end
if #claim == 5 then return 0 end
claim[#claim + 1] = 'JUSTID'
return #redis.call(unpack(claim))
"""
