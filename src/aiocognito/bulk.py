"""Bulk user operations: many rows, a bounded worker pool, quota pacing, and a report in constant memory.

Each function takes the rows of one admin operation and returns a :class:`BulkJob`::

    report = await bulk.create_users(cognito, pool_id, rows, concurrency=16)
    print(report.succeeded, report.already, report.failed)

    job = bulk.delete_users(cognito, pool_id, usernames)
    async for outcome in job.results():      # each row's outcome as it happens
        ...
    print(job.report)

A row is the operation's own parameters without ``UserPoolId``, with boto3's names (``{"Username": ...,
"UserAttributes": [...], "MessageAction": "SUPPRESS"}``); a plain string is taken as ``{"Username": s}``.
Rows come from any iterable or async iterable and are pulled one at a time by ``concurrency`` workers, so a
10-million-row run holds only the rows in flight. Outcomes arrive in completion order.

How each row is settled:

* The call goes out through the client's pacer (or, when the client has none, one default
  :class:`~aiocognito.quotas.QuotaPacer` shared by every bulk job on that client). The bulk layer does the
  retrying itself (the client is used with one attempt per call), so it knows when an earlier attempt of
  the same row may have taken effect.
* 5xx answers, dropped connections and timeouts are retried with backoff, up to ``max_attempts``
  attempts per row; throttled calls (refused, no effect, and the pacer slows down) are retried besides,
  up to 50 times per row. Any other error fails the row.
* ``create_users``: ``UsernameExistsException`` on a clean first attempt counts as ``already``. After an
  ambiguous attempt (no answer, or a 5xx: the user may have been created), it is checked with
  ``AdminGetUser``: a user created no earlier than that attempt (allowing ``CREATED_SKEW`` of clock
  difference) whose attributes equal the row's is the one this run created, and counts as ``succeeded``
  once; any other existing user counts as ``already``. Cognito refuses a second user with the same name,
  so no row is ever created twice.
* ``delete_users``: ``UserNotFoundException`` is ``already``, or ``succeeded`` after an ambiguous attempt.
  ``remove_users_from_group``: ``UserNotFoundException`` is ``already``. ``set_passwords``:
  ``PasswordHistoryPolicyViolationException`` after an ambiguous attempt is ``succeeded`` (the first
  attempt set that very password). The other operations are idempotent in Cognito and never report
  ``already``.

Errors that concern the whole job stop it, within seconds, instead of failing every row:

* no AWS credentials, or credentials the service refuses (``CredentialsError``,
  ``UnrecognizedClientException``, ``InvalidSignatureException``, ``ExpiredTokenException``, ...), and
  ``AccessDeniedException``;
* an unknown or malformed user pool (``ResourceNotFoundException`` about the user pool, not a user; a
  ``user_pool_id`` that is not shaped like one is refused before anything is sent);
* a group that every row names (``group_name=``) and that does not exist;
* an unreachable endpoint: a row whose retries all ended without an answer (refused connections, DNS
  failures, timeouts), or 3 attempts in a row over 3 seconds with no answer from the endpoint at all;
* a configuration error (``ConfigurationError``, such as a closed client).

The job then starts no new row; calls in flight get a second to finish (and are counted), then are
cancelled; and ``await job`` (or ``job.results()``, after the outcomes settled so far) raises
:class:`BulkJobAborted` with ``.cause`` (the typed error), ``.reason`` (``"credentials"``,
``"permissions"``, ``"user pool"``, ``"group"``, ``"endpoint"`` or ``"configuration"``) and ``.report``.
Rows that were not settled have no outcome: they are not counted as failed, and running the job again over
the same rows settles them (a create that took effect just before the stop then counts as ``already``).
:func:`classify` is the rule (pure: an error, and the parameters all rows share, give ``"row"`` or
``"job"``); :func:`job_cause` gives the reason. Every other error stays with its row.

Failures are kept in the report up to ``max_failures`` (the rest are only counted). Secrets in rows
(passwords) never appear in a report, an outcome or a kept error: an error whose text contains one is
rewritten with ``<redacted>`` in its place.

Where things live: this module holds the job functions, the table of how each operation settles a row
(``_CREATE``, ``_DELETE``, ...) and the CSV reader (:func:`rows_from_csv`). The worker pool, the settling
of one row with its retries, the rule that stops a job, the secret scrubbing and the result types
(:class:`Outcome`, :class:`BulkReport`, :class:`BulkJob`) are in the private module
``aiocognito._bulk_engine`` and are re-exported here: import them from ``aiocognito.bulk``.
:class:`BulkJobAborted` is also ``aiocognito.errors.BulkJobAborted``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from typing_extensions import TypedDict, Unpack

from ._bulk_engine import CREATED_SKEW, BulkJob, BulkReport, Kind, Outcome, Status, classify, job_cause

# The types of rows and callbacks, re-exported so that ``aiocognito.bulk.Rows`` & co. keep working.
from ._bulk_engine import ProgressCallback as ProgressCallback
from ._bulk_engine import ResultCallback as ResultCallback
from ._bulk_engine import Row as Row
from ._bulk_engine import Rows as Rows
from ._errors import BulkJobAborted

if TYPE_CHECKING:
    from ._wire.client import CognitoClient

__all__ = [
    "BulkJob",
    "BulkJobAborted",
    "BulkReport",
    "Outcome",
    "Status",
    "CREATED_SKEW",
    "create_users",
    "delete_users",
    "add_users_to_group",
    "remove_users_from_group",
    "update_user_attributes",
    "disable_users",
    "enable_users",
    "set_passwords",
    "rows_from_csv",
    "classify",
    "job_cause",
]


# ----- how each operation settles a row (see the module docstring) ----------------------------------------
_CREATE = Kind("AdminCreateUser", already=frozenset({"UsernameExistsException"}), verify_create=True)
_DELETE = Kind(
    "AdminDeleteUser",
    already=frozenset({"UserNotFoundException"}),
    done_if_ambiguous=frozenset({"UserNotFoundException"}),
)
_ADD_TO_GROUP = Kind("AdminAddUserToGroup")
_REMOVE_FROM_GROUP = Kind("AdminRemoveUserFromGroup", already=frozenset({"UserNotFoundException"}))
_UPDATE_ATTRIBUTES = Kind("AdminUpdateUserAttributes")
_DISABLE = Kind("AdminDisableUser")
_ENABLE = Kind("AdminEnableUser")
_SET_PASSWORD = Kind(
    "AdminSetUserPassword", done_if_ambiguous=frozenset({"PasswordHistoryPolicyViolationException"})
)


# ----- the public functions -------------------------------------------------------------------------------
class BulkOptions(TypedDict, total=False):
    """The options every bulk function takes; see :func:`create_users` for what each does."""

    concurrency: int
    on_progress: ProgressCallback | None
    on_result: ResultCallback | None
    defaults: Mapping[str, Any] | None
    max_failures: int
    max_attempts: int


def create_users(
    cognito: CognitoClient, user_pool_id: str, rows: Rows, **options: Unpack[BulkOptions]
) -> BulkJob:
    """AdminCreateUser for each row (``Username``, ``UserAttributes``, ``MessageAction``, ...).

    Args:
        cognito: the client (its pacer is used when it has one).
        user_pool_id: the pool; rows must not name another.
        rows: mappings of AdminCreateUser parameters (or usernames), from an iterable or async iterable.
        concurrency: the most calls in flight (default 16).
        on_progress: called with the live :class:`BulkReport` at most every 0.1 s, and at the end.
        on_result: called with each :class:`Outcome` (may be a coroutine function).
        defaults: parameters for every row (a row's own values win), e.g. ``{"MessageAction": "SUPPRESS"}``.
        max_failures: failures kept in the report (default 1000); later ones are only counted.
        max_attempts: attempts per row for retryable failures (default 10: 5xx, lost connections, timeouts);
            throttled calls are retried besides (up to 50 per row).

    Returns:
        A :class:`BulkJob`: ``await`` it for the :class:`BulkReport`, or iterate ``job.results()``.
    """
    return BulkJob(cognito, user_pool_id, rows, _CREATE, **options)


def delete_users(
    cognito: CognitoClient, user_pool_id: str, rows: Rows, **options: Unpack[BulkOptions]
) -> BulkJob:
    """AdminDeleteUser for each row (``{"Username": ...}`` or a username). See :func:`create_users`."""
    return BulkJob(cognito, user_pool_id, rows, _DELETE, **options)


def add_users_to_group(
    cognito: CognitoClient,
    user_pool_id: str,
    rows: Rows,
    *,
    group_name: str | None = None,
    **options: Unpack[BulkOptions],
) -> BulkJob:
    """AdminAddUserToGroup for each row (``Username``, ``GroupName``); ``group_name`` fills in the group."""
    if group_name is not None:
        options["defaults"] = {**(options.get("defaults") or {}), "GroupName": group_name}
    return BulkJob(cognito, user_pool_id, rows, _ADD_TO_GROUP, **options)


def remove_users_from_group(
    cognito: CognitoClient,
    user_pool_id: str,
    rows: Rows,
    *,
    group_name: str | None = None,
    **options: Unpack[BulkOptions],
) -> BulkJob:
    """AdminRemoveUserFromGroup for each row (``Username``, ``GroupName``); ``group_name`` fills in the group."""
    if group_name is not None:
        options["defaults"] = {**(options.get("defaults") or {}), "GroupName": group_name}
    return BulkJob(cognito, user_pool_id, rows, _REMOVE_FROM_GROUP, **options)


def update_user_attributes(
    cognito: CognitoClient, user_pool_id: str, rows: Rows, **options: Unpack[BulkOptions]
) -> BulkJob:
    """AdminUpdateUserAttributes for each row (``Username``, ``UserAttributes``). See :func:`create_users`."""
    return BulkJob(cognito, user_pool_id, rows, _UPDATE_ATTRIBUTES, **options)


def disable_users(
    cognito: CognitoClient, user_pool_id: str, rows: Rows, **options: Unpack[BulkOptions]
) -> BulkJob:
    """AdminDisableUser for each row (``{"Username": ...}`` or a username). See :func:`create_users`."""
    return BulkJob(cognito, user_pool_id, rows, _DISABLE, **options)


def enable_users(
    cognito: CognitoClient, user_pool_id: str, rows: Rows, **options: Unpack[BulkOptions]
) -> BulkJob:
    """AdminEnableUser for each row (``{"Username": ...}`` or a username). See :func:`create_users`."""
    return BulkJob(cognito, user_pool_id, rows, _ENABLE, **options)


def set_passwords(
    cognito: CognitoClient, user_pool_id: str, rows: Rows, **options: Unpack[BulkOptions]
) -> BulkJob:
    """AdminSetUserPassword for each row (``Username``, ``Password``, ``Permanent``). Passwords never
    appear in the report. See :func:`create_users`."""
    return BulkJob(cognito, user_pool_id, rows, _SET_PASSWORD, **options)


# ----- CSV input ------------------------------------------------------------------------------------------
#: Columns of an import CSV that are not user attributes (an export writes them; an import skips them).
RESERVED_COLUMNS = frozenset(
    {"username", "temporary_password", "status", "enabled", "created", "modified", "sub"}
)


def rows_from_csv(
    lines: Iterable[str], *, message_action: str | None = "SUPPRESS"
) -> Iterator[dict[str, Any]]:
    """AdminCreateUser rows from CSV text, one row at a time.

    The header names the columns: ``username`` (or ``cognito:username``) is the username,
    ``temporary_password`` the temporary password, every other column a user attribute (``email``,
    ``custom:team``, ...). Empty cells are left out. ``status``, ``enabled``, ``created``, ``modified``,
    ``sub`` and other ``cognito:`` columns (as written by an export) are ignored. ``message_action`` is
    set on every row (``"SUPPRESS"`` by default: no invitation messages; None: Cognito's default).

    Raises:
        ValueError: the header has no username column (raised by this call, before any row is read).
    """
    reader = csv.DictReader(lines)
    fields = reader.fieldnames or []
    username_column = next((f for f in fields if f.strip().lower() in ("username", "cognito:username")), None)
    if username_column is None:
        raise ValueError("the CSV header has no username column")
    attribute_columns = [
        f
        for f in fields
        if f != username_column and f.strip().lower() not in RESERVED_COLUMNS and not f.startswith("cognito:")
    ]
    password_column = next((f for f in fields if f.strip().lower() == "temporary_password"), None)
    return _csv_rows(reader, username_column, attribute_columns, password_column, message_action)


def _csv_rows(
    reader: csv.DictReader[str],
    username_column: str,
    attribute_columns: list[str],
    password_column: str | None,
    message_action: str | None,
) -> Iterator[dict[str, Any]]:
    for record in reader:
        row: dict[str, Any] = {"Username": (record.get(username_column) or "").strip()}
        attributes = [
            {"Name": name.strip(), "Value": record[name]} for name in attribute_columns if record.get(name)
        ]
        if attributes:
            row["UserAttributes"] = attributes
        if password_column and record.get(password_column):
            row["TemporaryPassword"] = record[password_column]
        if message_action is not None:
            row["MessageAction"] = message_action
        yield row
