"""User import jobs: GetCSVHeader, CreateUserImportJob, DescribeUserImportJob, ListUserImportJobs,
StartUserImportJob and StopUserImportJob, with the job's pre-signed upload URL and the import itself.

As Cognito does them (developer guide, "Importing users into user pools from a CSV file"):

* GetCSVHeader lists the pool's attributes in schema order (``sub`` left out; standard ones in Cognito's
  order, then custom ones), then ``cognito:mfa_enabled`` and ``cognito:username``.
* CreateUserImportJob makes a job ``import-<10 letters and digits>`` in status ``Created`` with a
  pre-signed URL, valid 15 minutes, where the CSV file is PUT (``curl -T file.csv -H
  "x-amz-server-side-encryption:aws:kms" URL``). Here the URL points at the local pool itself
  (``{endpoint}/_uploads/{job id}?X-Amz-...``) and :func:`receive_upload` answers as S3 would: 200 with an
  empty body; 403 with S3's XML ``SignatureDoesNotMatch`` for a wrong signature or query,
  ``AccessDenied`` "Request has expired" after 15 minutes (the pool's clock), ``AccessDenied`` once the
  job has left ``Created``; 404 ``NoSuchKey`` for an unknown job; 400 ``EntityTooLarge`` above the 100 MB a
  job accepts. The signature is an unguessable token compared in constant time. A second upload before
  the start replaces the first, as a PUT to S3 does.
* A job not started within 24 hours expires (status ``Expired``, "The user import job has expired.",
  its file deleted) and can no longer be started or uploaded to.
* StartUserImportJob starts a ``Created`` job with an uploaded file; otherwise PreconditionNotMetException,
  as it is when the pool has no auto-verified attribute ("the import job will not start"). Its answer shows
  the job ``Pending``, as Cognito's does. **The local pool then imports the whole file at once, inside the
  same operation**: DescribeUserImportJob afterwards shows ``Succeeded`` with ImportedUsers,
  SkippedUsers, FailedUsers, CompletionDate and "Import Job Completed Successfully.", or ``Failed`` with
  "Too many users have failed or been skipped during the import." when no row was imported, or with the
  reason the file could not be read (not UTF-8, a byte order mark, unknown, repeated or missing header
  columns, more than 500,000 users). The uploaded file is deleted once the job ends.
* StopUserImportJob stops a ``Pending`` or ``InProgress`` job (``Stopped``, "The Import Job was stopped by
  the developer."); any other status is PreconditionNotMetException. Since local imports end within
  StartUserImportJob, a running job is never seen over the wire.
* ListUserImportJobs lists jobs newest first, ``MaxResults`` (1-60) at a time, with a PaginationToken.

The file (rules of "Formatting the CSV file"): the first line is the header, columns in any order, every
column of GetCSVHeader present (a job with a PasswordHashingAlgorithm may leave columns out, as the
guide's password-hash example does; it must have ``password_hash``); values unquoted, a comma inside a value
escaped with a backslash, leading and trailing blanks trimmed, empty values not set; at most 16,000
characters a line. Each row creates one user, in status ``RESET_REQUIRED`` (they reset their password with
ForgotPassword / ConfirmForgotPassword, then sign in), or ``CONFIRMED`` when the row carries a
``password_hash`` or the pool offers a passwordless first factor (EMAIL_OTP, SMS_OTP) the row's email or
phone number can use. A row whose user already exists is skipped ("The user already exists."). A row fails
when: ``cognito:username`` is empty or has spaces or tabs; no auto-verified attribute of the pool is
verified ("The User Record does not set any of the auto verified attributes to true."); ``email`` or
``phone_number`` is missing while its ``_verified`` flag is true; a value does not fit the schema (the same
checks as AdminCreateUser, required attributes included); ``birthdate`` is not mm/dd/yyyy;
``cognito:mfa_enabled`` contradicts the pool's MFA setting (``true`` in a pool with MFA off, ``false``
where it is required; blank means what the pool requires); a password hash is malformed for the job's
algorithm or exceeds its bounds (bcrypt cost 12; scrypt N 65536, r 8, p 1; argon2id m 19456, t 2, p 1;
PBKDF2 600,000 iterations).

Cognito writes each skipped or failed line to CloudWatch Logs (``[FAILED] Line Number 5956 - ...``; the
header is line 1). The local pool writes nothing there: it keeps those lines on the job
(``ImportJob.failures``: ``{"line", "status", "reason"}``), where a public helper of the local pool can
show them. Imported password hashes are kept in ``pool.features["import_password_hashes"]`` (by sub) until
the user's first password sign-in checks one (``_password_hashes``).
"""

from __future__ import annotations

import base64
import csv
import hmac
import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from ... import errors
from .. import _ids, _users
from .._constants import UPLOAD_PATH
from .._password_hashes import IMPORTED_HASHES
from .._records import ImportJob, UserPool
from ._base import Context, Route, page

__all__ = [
    "ROUTES",
    "FIDELITY",
    "receive_upload",
    "csv_header",
    "MAX_CSV_BYTES",
    "URL_LIFETIME",
    "JOB_LIFETIME",
]

if TYPE_CHECKING:
    from .._state import PoolState

#: How long a pre-signed upload URL works (15 minutes), and a job waits to be started (24 hours).
URL_LIFETIME = 900
JOB_LIFETIME = 24 * 3600
#: The largest CSV file a job takes (100 MB), its most users, its longest line.
MAX_CSV_BYTES = 100 * 1024 * 1024
MAX_ROWS = 500_000
MAX_LINE_CHARS = 16_000

_USERNAME = "cognito:username"
_MFA = "cognito:mfa_enabled"
_HASH = "password_hash"
_ALGORITHMS = "import_password_algorithms"  # pool.features: job id -> PasswordHashingAlgorithm
_SIGNED_HEADERS = "host;x-amz-server-side-encryption"
_SUCCEEDED = "Import Job Completed Successfully."
_TOO_MANY = "Too many users have failed or been skipped during the import."
_STOPPED = "The Import Job was stopped by the developer."
_EXPIRED = "The user import job has expired."
_EXISTS = "The user already exists."
_NO_AUTO_VERIFIED = (
    "The User Record does not set any of the auto verified attributes to true. "
    "(Example: email_verified to true)."
)
_DIALECT: dict[str, Any] = {"delimiter": ",", "quoting": csv.QUOTE_NONE, "escapechar": "\\", "strict": True}
_BIRTHDATE = re.compile(r"[0-9]{2}/[0-9]{2}/[0-9]{4}")
_B64 = r"[A-Za-z0-9+/.]+"
#: algorithm -> (hash format, {parameter: the largest value Cognito accepts})
_HASH_FORMATS: dict[str, tuple[re.Pattern[str], dict[str, int]]] = {
    "BCRYPT": (re.compile(r"\$2[abxy]\$(?P<cost>[0-9]{2})\$[./A-Za-z0-9]{53}"), {"cost": 12}),
    "SCRYPT": (
        re.compile(r"(?P<n>[0-9]+)\$(?P<r>[0-9]+)\$(?P<p>[0-9]+)\$[0-9a-fA-F]+\$[0-9a-fA-F]+"),
        {"n": 65536, "r": 8, "p": 1},
    ),
    "ARGON2ID": (
        re.compile(rf"\$argon2id\$v=[0-9]+\$m=(?P<m>[0-9]+),t=(?P<t>[0-9]+),p=(?P<p>[0-9]+)\${_B64}\${_B64}"),
        {"m": 19456, "t": 2, "p": 1},
    ),
    "PBKDF2_SHA256": (re.compile(rf"\$pbkdf2-sha256\$(?P<i>[0-9]+)\${_B64}\${_B64}"), {"i": 600_000}),
}
_NEWEST_FIRST = 10**15


class _RowFailed(Exception):
    """One row cannot be imported (the reason is what the job's log keeps)."""


class _FileUnreadable(Exception):
    """The whole file cannot be read: the job fails."""


# ===== the job record on the wire =========================================================================
def _algorithm(pool: UserPool, job: ImportJob) -> str | None:
    found = pool.features.get(_ALGORITHMS, {}).get(job.job_id)
    return str(found) if found else None


def _amz_date(when: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when))


def _signed_query(pool: UserPool, job: ImportJob) -> dict[str, str]:
    """The query of the job's pre-signed URL, its signature last."""
    stamp = _amz_date(job.created)
    return {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Date": stamp,
        "X-Amz-SignedHeaders": _SIGNED_HEADERS,
        "X-Amz-Expires": str(URL_LIFETIME),
        "X-Amz-Credential": f"LOCALUPLOAD/{stamp[:8]}/{pool.region}/s3/aws4_request",
        "X-Amz-Signature": job.upload_token,
    }


def _presigned_url(state: PoolState, pool: UserPool, job: ImportJob) -> str:
    return f"{state.endpoint_url}{UPLOAD_PATH}/{job.job_id}?{urlencode(_signed_query(pool, job))}"


def _describe(state: PoolState, pool: UserPool, job: ImportJob) -> dict[str, Any]:
    """``UserImportJobType`` of a job."""
    body: dict[str, Any] = {
        "JobName": job.name,
        "JobId": job.job_id,
        "UserPoolId": pool.id,
        "PreSignedUrl": _presigned_url(state, pool, job),
        "CreationDate": job.created,
        "Status": job.status,
        "CloudWatchLogsRoleArn": job.role_arn,
        "ImportedUsers": job.imported,
        "SkippedUsers": job.skipped,
        "FailedUsers": job.failed,
    }
    if job.started is not None:
        body["StartDate"] = job.started
    if job.completed is not None:
        body["CompletionDate"] = job.completed
    if job.message:
        body["CompletionMessage"] = job.message
    algorithm = _algorithm(pool, job)
    if algorithm:
        body["PasswordHashingAlgorithm"] = algorithm
    return body


def _expire(state: PoolState, job: ImportJob) -> None:
    """A job still ``Created`` 24 hours after its creation has expired, and its file is gone."""
    if job.status == "Created" and state.now() >= job.created + JOB_LIFETIME:
        job.status = "Expired"
        job.completed = job.created + JOB_LIFETIME
        job.message = _EXPIRED
        job.csv = None


def _finish(state: PoolState, job: ImportJob, status: str, message: str) -> None:
    job.status = status
    job.message = message
    job.completed = state.now()
    job.csv = None  # Cognito deletes the uploaded file once the job has ended


# ===== the upload =========================================================================================
def _s3_error(state: PoolState, status: int, code: str, message: str, **extra: str) -> tuple[int, str]:
    """An S3-style XML error document."""
    details = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in extra.items())
    request_id = state.random_bytes(8).hex().upper()
    host_id = base64.b64encode(state.random_bytes(48)).decode("ascii")
    return status, (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{details}"
        f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
    )


def receive_upload(
    state: PoolState,
    job_id: str,
    query: Mapping[str, str],
    body: bytes,
    *,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    """``PUT`` of a job's CSV to its pre-signed URL: (HTTP status, S3-style XML or empty body).

    ``headers`` (when the server passes them) must carry the signed ``x-amz-server-side-encryption:
    aws:kms``, as Cognito's URL requires.
    """
    found = [(p, p.import_jobs[job_id]) for p in state.pools.values() if job_id in p.import_jobs]
    if not found:
        return _s3_error(state, 404, "NoSuchKey", "The specified key does not exist.", Key=job_id)
    pool, job = found[0]
    _expire(state, job)
    issued = _signed_query(pool, job)
    if any(not query.get(name) for name in issued):
        return _s3_error(
            state,
            403,
            "AccessDenied",
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
            "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
        )
    same = hmac.compare_digest(query["X-Amz-Signature"].encode(), job.upload_token.encode())
    encryption = (
        None
        if headers is None
        else {k.lower(): v for k, v in headers.items()}.get("x-amz-server-side-encryption")
    )
    if (
        not same
        or any(query[name] != value for name, value in issued.items())
        or (headers is not None and encryption != "aws:kms")
    ):
        return _s3_error(
            state,
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )
    now = state.now()
    if now > job.created + URL_LIFETIME:
        return _s3_error(
            state,
            403,
            "AccessDenied",
            "Request has expired",
            **{
                "X-Amz-Expires": str(URL_LIFETIME),
                "Expires": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(job.created + URL_LIFETIME)),
                "ServerTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            },
        )
    if job.status != "Created":
        return _s3_error(state, 403, "AccessDenied", "Access Denied")
    if len(body) > MAX_CSV_BYTES:
        return _s3_error(
            state,
            400,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
            ProposedSize=str(len(body)),
            MaxSizeAllowed=str(MAX_CSV_BYTES),
        )
    job.csv = bytes(body)
    return 200, ""


# ===== the file ===========================================================================================
def csv_header(pool: UserPool) -> list[str]:
    """GetCSVHeader's columns for a pool."""
    return [name for name in pool.schema() if name != "sub"] + [_MFA, _USERNAME]


def _split(line: str) -> list[str]:
    """One line's values (backslash-escaped commas; no quoting), trimmed."""
    try:
        return [value.strip() for value in next(csv.reader((line,), **_DIALECT), [])]
    except csv.Error as exc:
        raise _RowFailed(f"The line cannot be read as CSV: {exc}.") from None


def _read(pool: UserPool, algorithm: str | None, data: bytes) -> tuple[list[str], list[tuple[int, str]]]:
    """The header and the (line number, line) of each user; _FileUnreadable when the job must fail."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _FileUnreadable("The CSV file is not UTF-8 text.") from None
    if text.startswith("\ufeff"):
        raise _FileUnreadable("The CSV file must be UTF-8 without a byte order mark.")
    lines = [(number, line.rstrip("\r")) for number, line in enumerate(text.split("\n"), 1)]
    if not lines or not lines[0][1].strip():
        raise _FileUnreadable("The CSV file has no header line.")
    try:
        header = _split(lines[0][1])
    except _RowFailed as exc:
        raise _FileUnreadable(str(exc)) from None
    known = csv_header(pool)
    unknown = [name for name in header if name not in known and name != _HASH]
    repeated = sorted({name for name in header if header.count(name) > 1})
    missing = [name for name in known if name not in header]
    if unknown or repeated:
        raise _FileUnreadable(
            f"The CSV header has unknown or repeated columns: {', '.join(unknown + repeated)}."
        )
    if _USERNAME not in header:
        raise _FileUnreadable(f"The CSV header has no {_USERNAME} column.")
    if algorithm and _HASH not in header:
        raise _FileUnreadable(
            f"The job has a PasswordHashingAlgorithm but the CSV file has no {_HASH} column."
        )
    if missing and not algorithm:
        raise _FileUnreadable(f"The CSV header is missing columns: {', '.join(missing)}.")
    rows = [(number, line) for number, line in lines[1:] if line.strip()]
    if len(rows) > MAX_ROWS:
        raise _FileUnreadable(f"The CSV file has more than {MAX_ROWS:,} users.")
    return header, rows


def _mfa_enabled(pool: UserPool, value: str) -> bool:
    """``cognito:mfa_enabled``: it must agree with the pool's MFA setting; blank means what the pool requires."""
    required = pool.mfa_configuration
    if not value:
        return required == "ON"
    flag = value.lower()
    if flag not in ("true", "false"):
        raise _RowFailed(f"{_MFA} must be true or false.")
    if required == "ON" and flag == "false":
        raise _RowFailed(f"{_MFA} must be true or blank: the user pool requires MFA.")
    if required == "OFF" and flag == "true":
        raise _RowFailed(f"{_MFA} must be false or blank: MFA is off in the user pool.")
    return flag == "true"


def _check_hash(algorithm: str | None, value: str) -> None:
    if not algorithm:
        raise _RowFailed(f"A {_HASH} value needs the job's PasswordHashingAlgorithm.")
    pattern, bounds = _HASH_FORMATS[algorithm]
    match = pattern.fullmatch(value)
    if match is None:
        raise _RowFailed(f"The password hash is malformed for {algorithm}.")
    if any(int(match.group(name)) > limit for name, limit in bounds.items()):
        raise _RowFailed(f"The password hash has parameters beyond the bounds {algorithm} allows.")


def _passwordless(pool: UserPool, attributes: Mapping[str, str]) -> bool:
    """Whether the pool offers a passwordless first factor this user's attributes can use."""
    factors = ((pool.config.get("Policies") or {}).get("SignInPolicy") or {}).get("AllowedFirstAuthFactors")
    factors = factors or ()
    return ("EMAIL_OTP" in factors and bool(attributes.get("email"))) or (
        "SMS_OTP" in factors and bool(attributes.get("phone_number"))
    )


def _row_user(
    pool: UserPool, algorithm: str | None, values: Mapping[str, str]
) -> tuple[str, dict[str, str], str, bool, str]:
    """(name, attributes, status, MFA enabled, password hash) of one row; _RowFailed when it cannot be."""
    name = values.get(_USERNAME, "")
    if not name:
        raise _RowFailed(f"The {_USERNAME} value is required.")
    if " " in name or "\t" in name:
        raise _RowFailed(f"The {_USERNAME} value cannot contain spaces or tabs.")
    attributes = {k: v for k, v in values.items() if v and k not in (_USERNAME, _MFA, _HASH)}
    for flag in ("email_verified", "phone_number_verified"):
        if flag in attributes:
            attributes[flag] = attributes[flag].lower()
            if attributes[flag] not in ("true", "false"):
                raise _RowFailed(f"The {flag} value must be true or false.")
    auto = [a for a in pool.config.get("AutoVerifiedAttributes") or () if a in ("email", "phone_number")]
    if not any(attributes.get(f"{a}_verified") == "true" for a in auto):
        raise _RowFailed(_NO_AUTO_VERIFIED)
    for attribute in ("email", "phone_number"):
        if attributes.get(f"{attribute}_verified") == "true" and not attributes.get(attribute):
            raise _RowFailed(f"The {attribute} value is required when {attribute}_verified is true.")
    birthdate = attributes.get("birthdate")
    if birthdate is not None:
        try:
            if not _BIRTHDATE.fullmatch(birthdate):
                raise ValueError(birthdate)
            datetime.strptime(birthdate, "%m/%d/%Y")
        except ValueError:
            raise _RowFailed("The birthdate value must be a date in the format mm/dd/yyyy.") from None
    mfa = _mfa_enabled(pool, values.get(_MFA, ""))
    password_hash = values.get(_HASH, "")
    if password_hash:
        _check_hash(algorithm, password_hash)
    confirmed = bool(password_hash) or _passwordless(pool, attributes)
    return name, attributes, "CONFIRMED" if confirmed else "RESET_REQUIRED", mfa, password_hash


def _import_line(
    state: PoolState, pool: UserPool, algorithm: str | None, header: list[str], line: str
) -> str:
    """Import one line: "SUCCEEDED", or _RowFailed / UsernameExistsException."""
    if len(line) > MAX_LINE_CHARS:
        raise _RowFailed(f"The line is longer than {MAX_LINE_CHARS:,} characters.")
    fields = _split(line)
    if len(fields) != len(header):
        raise _RowFailed(f"The line has {len(fields)} values for {len(header)} columns.")
    name, attributes, status, mfa, password_hash = _row_user(
        pool, algorithm, dict(zip(header, fields, strict=True))
    )
    try:
        user = _users.create_user(state, pool, name, attributes, status=status)
    except errors.UsernameExistsException:
        raise
    except errors.ServiceError as exc:
        raise _RowFailed(exc.message) from None
    if mfa:
        user.sms_mfa_enabled = True
        if user.attributes.get("phone_number"):
            user.mfa_options = [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
    if password_hash and algorithm:
        pool.features.setdefault(IMPORTED_HASHES, {})[user.sub] = {
            "algorithm": algorithm,
            "hash": password_hash,
        }
    return "SUCCEEDED"


def _run(state: PoolState, pool: UserPool, job: ImportJob) -> None:
    """Import the job's file, all of it, now."""
    job.status = "InProgress"
    algorithm = _algorithm(pool, job)
    try:
        header, rows = _read(pool, algorithm, job.csv or b"")
    except _FileUnreadable as exc:
        _finish(state, job, "Failed", str(exc))
        return
    for number, line in rows:
        try:
            _import_line(state, pool, algorithm, header, line)
        except errors.UsernameExistsException:
            job.skipped += 1
            job.failures.append({"line": number, "status": "SKIPPED", "reason": _EXISTS})
        except _RowFailed as exc:
            job.failed += 1
            job.failures.append({"line": number, "status": "FAILED", "reason": str(exc)})
        else:
            job.imported += 1
    if rows and not job.imported:
        _finish(state, job, "Failed", _TOO_MANY)
    else:
        _finish(state, job, "Succeeded", _SUCCEEDED)


# ===== the operations =====================================================================================
def _job(ctx: Context, params: Mapping[str, Any]) -> tuple[UserPool, ImportJob]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    job = pool.import_jobs.get(str(params["JobId"]))
    if job is None:
        raise errors.ResourceNotFoundException(f"Import job {params['JobId']} does not exist.")
    _expire(ctx.state, job)
    return pool, job


def get_csv_header(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    return {"UserPoolId": pool.id, "CSVHeader": csv_header(pool)}


def create_user_import_job(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    state = ctx.state
    pool = ctx.lookups.pool(params["UserPoolId"])
    job_id = _ids.import_job_id(state.random_bytes)
    while job_id in pool.import_jobs:
        job_id = _ids.import_job_id(state.random_bytes)
    job = ImportJob(
        job_id=job_id,
        name=str(params["JobName"]),
        created=state.now(),
        role_arn=str(params["CloudWatchLogsRoleArn"]),
        upload_token=state.random_bytes(32).hex(),
    )
    pool.import_jobs[job_id] = job
    if params.get("PasswordHashingAlgorithm"):
        pool.features.setdefault(_ALGORITHMS, {})[job_id] = str(params["PasswordHashingAlgorithm"])
    return {"UserImportJob": _describe(state, pool, job)}


def describe_user_import_job(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, job = _job(ctx, params)
    return {"UserImportJob": _describe(ctx.state, pool, job)}


def list_user_import_jobs(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    for job in pool.import_jobs.values():
        _expire(ctx.state, job)
    chunk, token = page(
        list(pool.import_jobs.values()),
        params,
        key=lambda j: f"{_NEWEST_FIRST - int(j.created * 1000):016d}#{j.job_id}",
        token="PaginationToken",
        limit="MaxResults",
    )
    body: dict[str, Any] = {"UserImportJobs": [_describe(ctx.state, pool, job) for job in chunk]}
    if token:
        body["PaginationToken"] = token
    return body


def start_user_import_job(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, job = _job(ctx, params)
    if job.status != "Created":
        raise errors.PreconditionNotMetException(
            f"Import job {job.job_id} cannot be started: its status is {job.status}."
        )
    if job.csv is None:
        raise errors.PreconditionNotMetException(
            f"No CSV file has been uploaded for import job {job.job_id}."
        )
    auto = [a for a in pool.config.get("AutoVerifiedAttributes") or () if a in ("email", "phone_number")]
    if not auto:
        raise errors.PreconditionNotMetException(
            "The user pool has no auto-verified attributes (email or phone_number): users cannot be imported."
        )
    job.started = ctx.state.now()
    job.status = "Pending"
    answer = {"UserImportJob": _describe(ctx.state, pool, job)}
    _run(ctx.state, pool, job)
    return answer


def stop_user_import_job(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, job = _job(ctx, params)
    if job.status not in ("Pending", "InProgress"):
        raise errors.PreconditionNotMetException(
            f"Import job {job.job_id} cannot be stopped: its status is {job.status}."
        )
    _finish(ctx.state, job, "Stopped", _STOPPED)
    return {"UserImportJob": _describe(ctx.state, pool, job)}


ROUTES: dict[str, Route] = {
    "GetCSVHeader": get_csv_header,
    "CreateUserImportJob": create_user_import_job,
    "DescribeUserImportJob": describe_user_import_job,
    "ListUserImportJobs": list_user_import_jobs,
    "StartUserImportJob": start_user_import_job,
    "StopUserImportJob": stop_user_import_job,
}
#: operation -> "full", or "stored: <why the behaviour cannot be reproduced offline>"
FIDELITY: dict[str, str] = {name: "full" for name in ROUTES}
