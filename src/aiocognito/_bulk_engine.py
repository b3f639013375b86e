"""The machinery behind :mod:`aiocognito.bulk`: the worker pool that settles rows, and what it reports.

:mod:`aiocognito.bulk` is the public face (the job functions, the table saying how each operation settles
a row, the CSV reader) and documents the rules this module follows; it re-exports :class:`Outcome`,
:class:`BulkReport`, :class:`BulkJob`, ``Status`` and ``CREATED_SKEW`` from here. What lives here:

* ``Status``, :class:`Outcome` and :class:`BulkReport`: one row's result and the counts of a run.
* :class:`Kind`: which admin operation a job calls and which error codes settle a row.
* ``_scrub``: keeps row secrets (passwords) out of kept errors.
* ``_bulk_view`` and ``_BULK_PACERS``: the client the bulk layer sends with (one attempt per call, paced).
* :class:`BulkJob`: the worker pool (``_drive``) and the settling of one row with its retries (``_settle``).
"""

from __future__ import annotations

import asyncio
import inspect
import random
import time
import weakref
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Mapping,
)
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from ._errors import CognitoError, ParamValidationError, ServiceError
from ._wire.retry import RetryPolicy, backoff, failure_kind, is_throttle
from .quotas import QuotaPacer

if TYPE_CHECKING:
    from ._wire.client import CognitoClient

__all__ = [
    "BulkJob",
    "BulkReport",
    "Outcome",
    "Status",
    "Kind",
    "CREATED_SKEW",
    "Row",
    "Rows",
    "ResultCallback",
    "ProgressCallback",
]

Status = Literal["succeeded", "already", "failed"]
Row: TypeAlias = "Mapping[str, Any] | str"
Rows: TypeAlias = "Iterable[Row] | AsyncIterable[Row]"
ResultCallback: TypeAlias = "Callable[[Outcome], Awaitable[object] | object]"
ProgressCallback: TypeAlias = "Callable[[BulkReport], Awaitable[object] | object]"

#: How much earlier than our first ambiguous attempt a user's UserCreateDate may be and still count as
#: created by that attempt (clock difference between this machine and Cognito).
CREATED_SKEW = timedelta(seconds=10)

_PROGRESS_INTERVAL = 0.1
_MAX_THROTTLES = 50
# Waits between a row's attempts: short, since the pacer already keeps the rate under the quota.
_ROW_BACKOFF = RetryPolicy(base_delay=0.05, throttle_base_delay=0.05, max_delay=2.0)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# ----- results --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """What happened to one row: ``index`` is its 0-based position in the input; ``attempts`` counts the
    calls made for it, not counting calls refused for rate."""

    index: int
    username: str | None
    status: Status
    error: CognitoError | None = None
    attempts: int = 1

    @property
    def code(self) -> str | None:
        """The service error code, or the error's class name for client-side errors; None on success."""
        error = self.error
        if error is None:
            return None
        if isinstance(error, ServiceError) and error.code:
            return error.code
        return type(error).__name__

    def __repr__(self) -> str:
        tail = f" {self.code}" if self.error is not None else ""
        return f"<Outcome #{self.index} {self.username!r} {self.status}{tail} attempts={self.attempts}>"


@dataclass
class BulkReport:
    """Counts for a bulk run, and the first ``max_failures`` failures with their typed errors."""

    operation: str
    succeeded: int = 0
    already: int = 0
    failed: int = 0
    failures: list[Outcome] = field(default_factory=list)
    #: Failures counted but not kept (beyond ``max_failures``).
    failures_dropped: int = 0
    max_failures: int = 1000
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def processed(self) -> int:
        """Rows settled so far."""
        return self.succeeded + self.already + self.failed

    @property
    def elapsed(self) -> float:
        """Seconds since the run started (until it finished)."""
        return (self.finished if self.finished is not None else time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        """Rows settled per second."""
        elapsed = self.elapsed
        return self.processed / elapsed if elapsed > 0 else 0.0

    @property
    def ok(self) -> bool:
        """True when no row failed."""
        return self.failed == 0

    def record(self, outcome: Outcome) -> None:
        """Count one outcome (keeping it when it is a failure and there is room)."""
        if outcome.status == "succeeded":
            self.succeeded += 1
        elif outcome.status == "already":
            self.already += 1
        else:
            self.failed += 1
            if len(self.failures) < self.max_failures:
                self.failures.append(outcome)
            else:
                self.failures_dropped += 1

    def summary(self) -> str:
        """One line: counts, time and rate."""
        return (
            f"{self.operation}: {self.succeeded} succeeded, {self.already} already, {self.failed} failed "
            f"in {self.elapsed:.1f}s ({self.rate:.0f}/s)"
        )

    def __repr__(self) -> str:
        return f"<BulkReport {self.summary()}; {len(self.failures)} failures kept, {self.failures_dropped} dropped>"


# ----- how an operation settles a row (the table of operations is in aiocognito.bulk) ---------------------
@dataclass(frozen=True)
class Kind:
    """One admin operation: which error codes mean the row is ``already`` done, which mean it is done when
    an earlier attempt was ambiguous, and whether an ambiguous create is checked with AdminGetUser."""

    operation: str
    already: frozenset[str] = frozenset()
    done_if_ambiguous: frozenset[str] = frozenset()
    verify_create: bool = False


def _is_secret_key(name: str) -> bool:
    return any(word in name for word in ("Password", "Secret", "Token", "Session"))


def _scrub(error: CognitoError, secrets: list[str]) -> CognitoError:
    """Drop the traceback (it holds the row) and mask any secret value that leaked into the error's text."""
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None:
            break
        seen.__traceback__ = None
        seen = seen.__cause__ or seen.__context__
    if not secrets:
        return error

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            for secret in secrets:
                if secret and secret in value:
                    value = value.replace(secret, "<redacted>")
        return value

    error.args = tuple(clean(a) for a in error.args)
    if isinstance(error, ServiceError):
        error.message = clean(error.message)
        error.response["Error"] = {k: clean(v) for k, v in error.response["Error"].items()}
        error.extra = {k: clean(v) for k, v in error.extra.items()}
    for name, value in list(vars(error).items()):
        if isinstance(value, str):
            setattr(error, name, clean(value))
    return error


# ----- the client the bulk layer sends with ---------------------------------------------------------------
_BULK_PACERS: weakref.WeakKeyDictionary[Any, QuotaPacer] = weakref.WeakKeyDictionary()


def _bulk_view(client: CognitoClient) -> CognitoClient:
    """The same client (transport, credentials, endpoint) with a pacer and one attempt per call.

    The view shares everything with ``client`` and is never closed itself.
    """
    pacer = getattr(client, "_pacer", None)
    if pacer is None:
        pacer = _BULK_PACERS.get(client)
        if pacer is None:
            pacer = _BULK_PACERS[client] = QuotaPacer()
    return client.with_options(retries=1, quotas=pacer)


async def _call_back(callback: Callable[[Any], Any] | None, value: Any) -> None:
    if callback is not None:
        result = callback(value)
        if inspect.isawaitable(result):
            await result


async def _aiter_rows(rows: Rows) -> AsyncIterator[Row]:
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row


_DONE = object()


class BulkJob:
    """One bulk run. ``await job`` runs it and returns the :class:`BulkReport`; ``job.results()`` runs it
    and yields each :class:`Outcome` as it is settled (``job.report`` holds the counts). A job runs once.
    """

    def __init__(
        self,
        client: CognitoClient,
        user_pool_id: str,
        rows: Rows,
        kind: Kind,
        *,
        concurrency: int = 16,
        on_progress: ProgressCallback | None = None,
        on_result: ResultCallback | None = None,
        defaults: Mapping[str, Any] | None = None,
        max_failures: int = 1000,
        max_attempts: int = 10,
        random: Callable[[], float] = random.random,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._client = client
        self._pool = user_pool_id
        self._rows = rows
        self._kind = kind
        self.concurrency = concurrency
        self._on_progress = on_progress
        self._on_result = on_result
        self._defaults = dict(defaults or {})
        self._max_attempts = max_attempts
        self._random = random
        self._clock = clock
        self._started = False
        self.report = BulkReport(kind.operation, max_failures=max_failures)

    def __repr__(self) -> str:
        return f"<BulkJob {self._kind.operation} concurrency={self.concurrency} {self.report.summary()}>"

    def __await__(self) -> Generator[Any, None, BulkReport]:
        return self.run().__await__()

    async def run(self) -> BulkReport:
        """Run to the end and return the report."""
        await self._drive(None)
        return self.report

    async def results(self) -> AsyncGenerator[Outcome, None]:
        """Run, yielding each outcome as it is settled; at most ``concurrency`` wait for the consumer."""
        queue: asyncio.Queue[object] = asyncio.Queue(maxsize=self.concurrency)
        failure: list[BaseException] = []

        async def runner() -> None:
            try:
                await self._drive(queue.put)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # handed to the consumer below
                failure.append(exc)
            await queue.put(_DONE)

        task = asyncio.ensure_future(runner())
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                assert isinstance(item, Outcome)
                yield item
            if failure:
                raise failure[0]
        finally:
            if not task.done():
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass

    # ----- the worker pool -----
    async def _drive(self, emit: Callable[[Outcome], Awaitable[None]] | None) -> None:
        if self._started:
            raise RuntimeError("a BulkJob runs once")
        self._started = True
        view = _bulk_view(self._client)
        report = self.report
        report.started = time.monotonic()
        rows = _aiter_rows(self._rows)
        pull = asyncio.Lock()
        counter = 0
        last_progress = 0.0

        async def worker() -> None:
            nonlocal counter, last_progress
            while True:
                async with pull:
                    try:
                        row = await rows.__anext__()
                    except StopAsyncIteration:
                        return
                    index = counter
                    counter += 1
                outcome = await self._settle(view, index, row)
                del row
                report.record(outcome)
                await _call_back(self._on_result, outcome)
                if emit is not None:
                    await emit(outcome)
                if self._on_progress is not None:
                    now = time.monotonic()
                    if now - last_progress >= _PROGRESS_INTERVAL:
                        last_progress = now
                        await _call_back(self._on_progress, report)

        tasks = [asyncio.ensure_future(worker()) for _ in range(self.concurrency)]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            report.finished = time.monotonic()
            aclose = getattr(rows, "aclose", None)
            if aclose is not None:
                await aclose()
        await _call_back(self._on_progress, report)

    # ----- one row -----
    def _params(self, row: Row) -> dict[str, Any]:
        if isinstance(row, str):
            row = {"Username": row}
        if not isinstance(row, Mapping):
            raise ParamValidationError(
                self._kind.operation, [f"a row must be a mapping or a str, not {type(row).__name__}"]
            )
        params = {**self._defaults, **row}
        given_pool = params.pop("UserPoolId", None)
        if given_pool is not None and given_pool != self._pool:
            raise ParamValidationError(self._kind.operation, ["the row names a different UserPoolId"])
        params["UserPoolId"] = self._pool
        return params

    def _backoff(self, attempt: int) -> float:
        return backoff(_ROW_BACKOFF, attempt, throttled=False, random=self._random)

    async def _settle(self, view: CognitoClient, index: int, row: Row) -> Outcome:
        kind = self._kind
        username = row if isinstance(row, str) else row.get("Username") if isinstance(row, Mapping) else None
        if not isinstance(username, str):
            username = None
        try:
            params = self._params(row)
        except ParamValidationError as error:
            return Outcome(index, username, "failed", _scrub(error, []), 0)
        secrets = [str(v) for k, v in params.items() if _is_secret_key(k) and v]
        ambiguous_since: datetime | None = None
        attempt = throttles = 0
        while True:
            attempt += 1
            sent_at = self._clock()
            try:
                await view.call(kind.operation, **params)
                return Outcome(index, username, "succeeded", None, attempt)
            except CognitoError as error:
                code = getattr(error, "code", None)
                if code in kind.already or code in kind.done_if_ambiguous:
                    status: Status | None
                    if ambiguous_since is None:
                        status = "already" if code in kind.already else "failed"
                    elif kind.verify_create:
                        try:
                            status = await self._created_by_us(view, params, ambiguous_since)
                        except CognitoError as lookup_error:
                            return Outcome(index, username, "failed", _scrub(lookup_error, secrets), attempt)
                    else:
                        status = "succeeded"
                    if status == "failed":
                        return Outcome(index, username, "failed", _scrub(error, secrets), attempt)
                    if status is not None:
                        return Outcome(index, username, status, None, attempt)
                    # The user vanished between the two calls: create it again, within the row's budget.
                    if attempt >= self._max_attempts:
                        return Outcome(index, username, "failed", _scrub(error, secrets), attempt)
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                kind_of_failure = failure_kind(error)
                if is_throttle(error):
                    # Refused for rate, no effect; the pacer has slowed down. Throttles get their own,
                    # larger budget so that a burst of them does not use up the row's attempts.
                    throttles += 1
                    if throttles > _MAX_THROTTLES:
                        return Outcome(index, username, "failed", _scrub(error, secrets), attempt)
                    attempt -= 1
                    await asyncio.sleep(self._backoff(min(throttles, 4)))
                    continue
                if kind_of_failure is None or attempt >= self._max_attempts:
                    return Outcome(index, username, "failed", _scrub(error, secrets), attempt)
                if kind_of_failure == "ambiguous" and ambiguous_since is None:
                    ambiguous_since = sent_at
                await asyncio.sleep(self._backoff(attempt))

    async def _created_by_us(
        self, view: CognitoClient, params: dict[str, Any], since: datetime
    ) -> Status | None:
        """After an ambiguous create and then UsernameExists: "succeeded" when the existing user is ours,
        "already" when it is not, None when it does not exist (any more). Raises the lookup's error when
        it keeps failing."""
        attempt = 0
        while True:
            attempt += 1
            try:
                user = await view.call(
                    "AdminGetUser", UserPoolId=params["UserPoolId"], Username=params["Username"]
                )
                break
            except CognitoError as error:
                if getattr(error, "code", None) == "UserNotFoundException":
                    return None
                if failure_kind(error) is None or attempt >= self._max_attempts:
                    raise
                await asyncio.sleep(self._backoff(attempt))
        created = user.get("UserCreateDate")
        if not isinstance(created, datetime) or created < since - CREATED_SKEW:
            return "already"
        have = {a.get("Name"): a.get("Value") for a in user.get("UserAttributes") or ()}
        for attribute in params.get("UserAttributes") or ():
            if have.get(attribute.get("Name")) != attribute.get("Value"):
                return "already"
        return "succeeded"
