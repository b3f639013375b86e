"""The machinery behind :mod:`aiocognito.bulk`: the worker pool that settles rows, and what it reports.

:mod:`aiocognito.bulk` is the public face (the job functions, the table saying how each operation settles
a row, the CSV reader) and documents the rules this module follows; it re-exports :class:`Outcome`,
:class:`BulkReport`, :class:`BulkJob`, ``Status`` and ``CREATED_SKEW`` from here. What lives here:

* ``Status``, :class:`Outcome` and :class:`BulkReport`: one row's result and the counts of a run.
* :class:`Kind`: which admin operation a job calls and which error codes settle a row.
* ``_scrub``: keeps row secrets (passwords) out of kept errors.
* ``_bulk_view`` and ``_BULK_PACERS``: the client the bulk layer sends with (one attempt per call, paced).
* :func:`job_cause` and :func:`classify`: whether an error concerns its row or the whole job (pure).
* :class:`BulkJob`: the worker pool (``_drive``), the settling of one row with its retries (``_settle``),
  and stopping the job (``_trip``) on an error that concerns the whole job.

Why one module over 600 lines: the worker pool, the settling of a row and the rule that stops a job share
one job's state (the stop flag, the endpoint watch, the report), and the pure classification of errors
(row or job) reads best next to the code that acts on it. Each part is a section of its own.
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
    Collection,
    Generator,
    Iterable,
    Mapping,
)
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from ._errors import (
    BulkJobAborted,
    CognitoError,
    ConfigurationError,
    CredentialsError,
    ParamValidationError,
    ResponseParseError,
    ServiceError,
    TransportError,
)
from ._tasks import stop_task
from ._wire.retry import RetryPolicy, backoff, failure_kind, is_throttle
from ._wire.validate import check_user_pool_id
from .quotas import QuotaPacer

if TYPE_CHECKING:
    from ._wire.client import CognitoClient

__all__ = [
    "BulkJob",
    "BulkReport",
    "ErrorScope",
    "classify",
    "job_cause",
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
#: The endpoint is unreachable when this many attempts in a row, over at least this many seconds, got no
#: HTTP answer at all (refused, DNS, timeouts): the job stops then rather than after every row's retries.
_UNREACHABLE_FAILURES = 3
_UNREACHABLE_AFTER = 3.0
#: Once a job stops, calls already in flight get this long to finish (and be counted) before they are cancelled.
_ABORT_GRACE = 1.0


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


# ----- errors that concern the whole job -----------------------------------------------------------------
ErrorScope: TypeAlias = Literal["row", "job"]

# The request's signature or credentials were refused: no row can succeed with them.
_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "IncompleteSignature",
        "MissingAuthenticationTokenException",
        "ExpiredTokenException",
        "ExpiredToken",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "RequestExpired",
    }
)
_PERMISSION_CODES = frozenset({"AccessDeniedException", "AccessDenied"})
_ENDPOINT_CODES = frozenset({"UnknownOperationException"})  # the endpoint does not offer the operation


def job_cause(error: BaseException, *, shared: Collection[str] = ()) -> str | None:
    """What about the whole job ``error`` shows to be wrong, or None when it concerns its row only. Pure.

    ``error`` is the one a row ends with (after the row's retries); ``shared`` names the parameters every
    row of the job shares (the job's ``defaults``, such as ``GroupName``). The answer is the
    :class:`~aiocognito.BulkJobAborted` reason:

    * ``"credentials"``: no credentials (:class:`CredentialsError`), or the service refused them
      (``UnrecognizedClientException``, ``InvalidSignatureException``, ``ExpiredTokenException``, ...);
    * ``"permissions"``: ``AccessDeniedException`` (IAM does not allow the operation);
    * ``"user pool"``: ``ResourceNotFoundException`` about the user pool (not a user), or a user pool id
      the service finds malformed;
    * ``"group"``: ``ResourceNotFoundException`` when every row names the same group (``shared``);
    * ``"endpoint"``: no usable answer (connection refused, DNS, timeouts, an answer that is not Cognito's
      protocol) or an operation the endpoint does not offer;
    * ``"configuration"``: a :class:`ConfigurationError` (a closed client, ...).

    Everything else (``UsernameExistsException``, ``InvalidParameterException`` about a row's values, a
    missing user, ...) concerns the row.
    """
    if isinstance(error, CredentialsError):
        return "credentials"
    if isinstance(error, ConfigurationError):
        return "configuration"
    if isinstance(error, (TransportError, ResponseParseError)):
        return "endpoint"
    if not isinstance(error, ServiceError):
        return None
    code = error.code
    if code in _CREDENTIAL_CODES:
        return "credentials"
    if code in _PERMISSION_CODES:
        return "permissions"
    if code in _ENDPOINT_CODES:
        return "endpoint"
    text = " ".join(str(error.message).lower().split())
    if code == "ResourceNotFoundException":
        if "user pool" in text and "user pool client" not in text:
            return "user pool"
        if "GroupName" in shared:
            return "group"
    if code in ("InvalidParameterException", "ValidationException") and "userpoolid" in text:
        return "user pool"
    return None


def classify(error: BaseException, *, shared: Collection[str] = ()) -> ErrorScope:
    """``"job"`` when ``error`` concerns the whole job (see :func:`job_cause`), else ``"row"``. Pure."""
    return "row" if job_cause(error, shared=shared) is None else "job"


class _Abandoned(Exception):
    """Raised inside a row's settling when the job has stopped: the row is left for a rerun."""


class _EndpointWatch:
    """Tells when the endpoint stopped answering: at least ``_UNREACHABLE_FAILURES`` attempts in a row with
    no HTTP answer, spanning ``_UNREACHABLE_AFTER`` seconds since the first of them (or the last answer)."""

    __slots__ = ("_since", "_failures", "_last_answer")

    def __init__(self) -> None:
        self._since: float | None = None
        self._failures = 0
        self._last_answer = float("-inf")

    def answered(self) -> None:
        self._since, self._failures, self._last_answer = None, 0, time.monotonic()

    def failed(self, started: float) -> bool:
        """Count an attempt started at ``started`` (monotonic) that got no answer; True: unreachable."""
        if self._since is None:
            self._since = max(started, self._last_answer)
        self._failures += 1
        return (
            self._failures >= _UNREACHABLE_FAILURES and time.monotonic() - self._since >= _UNREACHABLE_AFTER
        )


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

    An error that concerns the whole job (:func:`job_cause`) stops it: no new row is started, calls in
    flight get ``_ABORT_GRACE`` seconds, and ``await job`` (or ``results()``, after the outcomes settled so
    far) raises :class:`~aiocognito.BulkJobAborted`. Rows not settled get no outcome.

    ``unclear_since(index)`` (optional) gives, for a row an earlier run may already have done (a row taken
    over from a worker that died: ``aiocognito.redis``), the time that run may have sent it: the row is then
    settled as after an ambiguous attempt made then (an existing user is checked with AdminGetUser).
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
        unclear_since: Callable[[int], datetime | None] | None = None,
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
        self._unclear_since = unclear_since
        self._started = False
        self.report = BulkReport(kind.operation, max_failures=max_failures)
        self._abort: BulkJobAborted | None = None
        self._stop: asyncio.Event | None = None
        self._watch = _EndpointWatch()

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
                await stop_task(task)

    # ----- the worker pool -----
    async def _drive(self, emit: Callable[[Outcome], Awaitable[None]] | None) -> None:
        if self._started:
            raise RuntimeError("a BulkJob runs once")
        self._started = True
        report = self.report
        report.started = time.monotonic()
        try:
            check_user_pool_id(self._pool)
        except ParamValidationError as error:
            report.finished = time.monotonic()
            raise BulkJobAborted(self._kind.operation, "user pool", error, report) from None
        view = _bulk_view(self._client)
        self._stop = asyncio.Event()
        defaults = frozenset(self._defaults)
        rows = _aiter_rows(self._rows)
        pull = asyncio.Lock()
        counter = 0
        last_progress = 0.0

        async def worker() -> None:
            nonlocal counter, last_progress
            while self._abort is None:
                async with pull:
                    if self._abort is not None:
                        return
                    try:
                        row = await rows.__anext__()
                    except StopAsyncIteration:
                        return
                    index = counter
                    counter += 1
                try:
                    outcome = await self._settle(view, index, row)
                except _Abandoned:
                    return
                if outcome.status == "failed" and outcome.error is not None:
                    # the parameters this row takes from the job's defaults are the ones all rows share
                    shared = defaults - row.keys() if isinstance(row, Mapping) else defaults
                    cause = job_cause(outcome.error, shared=shared)
                    if cause is not None:
                        self._trip(cause, outcome.error)
                        return
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
            await self._join(tasks, self._stop)
        finally:
            report.finished = time.monotonic()
            aclose = getattr(rows, "aclose", None)
            if aclose is not None:
                await aclose()
        await _call_back(self._on_progress, report)
        if self._abort is not None:
            raise self._abort from self._abort.cause

    @staticmethod
    async def _join(tasks: Iterable[asyncio.Future[None]], stop: asyncio.Event) -> None:
        """Wait for the workers; raise the first worker's exception. Once the job stops, the workers still
        busy get ``_ABORT_GRACE`` seconds, then are cancelled."""
        pending: set[asyncio.Future[Any]] = set(tasks)
        stopped = asyncio.ensure_future(stop.wait())
        deadline: float | None = None
        try:
            while pending:
                if deadline is None and stopped.done():
                    deadline = time.monotonic() + _ABORT_GRACE
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                waiting = pending if stopped.done() else pending | {stopped}
                done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    break  # the grace is over
                for task in done - {stopped}:
                    pending.discard(task)
                    failure = None if task.cancelled() else task.exception()
                    if failure is not None:
                        raise failure
        finally:
            stopped.cancel()
            for task in pending:
                task.cancel()
            await asyncio.gather(stopped, *pending, return_exceptions=True)

    def _trip(self, reason: str, error: CognitoError) -> None:
        """Stop the job on ``error``, which concerns all of it (the first such error wins)."""
        if self._abort is None:
            self._abort = BulkJobAborted(self._kind.operation, reason, error, self.report)
            if self._stop is not None:
                self._stop.set()

    async def _pause(self, seconds: float) -> None:
        """Wait before a row's next attempt; raise _Abandoned when the job stops (before or during the wait)."""
        stop = self._stop
        if stop is None:
            await asyncio.sleep(seconds)
        elif not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), seconds)
            except asyncio.TimeoutError:
                pass
        if self._abort is not None:
            raise _Abandoned

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
        ambiguous_since = None if self._unclear_since is None else self._unclear_since(index)
        attempt = throttles = 0
        watch = self._watch
        while True:
            attempt += 1
            sent_at = self._clock()
            started = time.monotonic()
            try:
                await view.call(kind.operation, **params)
                watch.answered()
                return Outcome(index, username, "succeeded", None, attempt)
            except CognitoError as error:
                if not isinstance(error, TransportError):
                    watch.answered()
                elif watch.failed(started):
                    self._trip("endpoint", _scrub(error, secrets))
                    raise _Abandoned from None
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
                    await self._pause(self._backoff(attempt))
                    continue
                kind_of_failure = failure_kind(error)
                if is_throttle(error):
                    # Refused for rate, no effect; the pacer has slowed down. Throttles get their own,
                    # larger budget so that a burst of them does not use up the row's attempts.
                    throttles += 1
                    if throttles > _MAX_THROTTLES:
                        return Outcome(index, username, "failed", _scrub(error, secrets), attempt)
                    attempt -= 1
                    await self._pause(self._backoff(min(throttles, 4)))
                    continue
                if kind_of_failure is None or attempt >= self._max_attempts:
                    return Outcome(index, username, "failed", _scrub(error, secrets), attempt)
                if kind_of_failure == "ambiguous" and ambiguous_since is None:
                    ambiguous_since = sent_at
                await self._pause(self._backoff(attempt))

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
                await self._pause(self._backoff(attempt))
        created = user.get("UserCreateDate")
        if not isinstance(created, datetime) or created < since - CREATED_SKEW:
            return "already"
        have = {a.get("Name"): a.get("Value") for a in user.get("UserAttributes") or ()}
        for attribute in params.get("UserAttributes") or ():
            if have.get(attribute.get("Name")) != attribute.get("Value"):
                return "already"
        return "succeeded"
