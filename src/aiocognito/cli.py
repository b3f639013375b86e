"""The ``aiocognito`` command: sign in, list/export/import/delete users, add users to groups, a local pool.

Every subcommand takes ``--endpoint-url``, ``--region``, ``--profile`` and ``--debug``; the listing
commands take ``--output json|table|csv``. Errors print one line (``aiocognito: error: ...``) and exit
non-zero; ``--debug`` shows the traceback and aiocognito's debug log instead.

Exit codes: 0 done, 1 an error, 2 bad usage, 3 a bulk command finished but some rows failed, 130 interrupted.

Secrets (passwords, MFA codes) are read with ``getpass`` from a terminal, or one line each from standard
input when it is not a terminal (scripts and tests feed the answers that way).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import getpass
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ._errors import CognitoError, ConfigurationError, ServiceError

if TYPE_CHECKING:
    from ._signin.session import Step
    from ._wire.client import CognitoClient
    from .bulk import BulkJob, BulkReport, Outcome

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_ROWS_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class CliError(Exception):
    """A problem to report in one line (bad input, a refused confirmation...)."""


# ----- terminal input -------------------------------------------------------------------------------------
def _read_line(prompt: str, *, secret: bool) -> str:
    """One answer: from the terminal (without echo when ``secret``), else one line of standard input."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt) if secret else input(prompt)
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    sys.stderr.write("\n")  # the answer is not echoed: end the prompt's line
    if not line:
        raise CliError(f"no answer on standard input for {prompt.strip().rstrip(':')!r}")
    return line.rstrip("\r\n")


def _ask(prompt: str) -> str:
    return _read_line(prompt, secret=False)


def _ask_secret(prompt: str) -> str:
    return _read_line(prompt, secret=True)


# ----- output ---------------------------------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot encode {type(value).__name__}")


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, separators=(",", ":"))


def _user_columns(attributes: Sequence[str]) -> list[str]:
    return ["username", "enabled", "status", "created", "modified", *attributes]


def _user_record(user: dict[str, Any], attributes: Sequence[str]) -> list[str]:
    values = {
        a["Name"]: a.get("Value", "") for a in user.get("Attributes") or user.get("UserAttributes") or ()
    }
    created, modified = user.get("UserCreateDate"), user.get("UserLastModifiedDate")
    return [
        str(user.get("Username", "")),
        str(user.get("Enabled", "")).lower(),
        str(user.get("UserStatus", "")),
        created.isoformat() if isinstance(created, datetime) else str(created or ""),
        modified.isoformat() if isinstance(modified, datetime) else str(modified or ""),
        *(str(values.get(name, "")) for name in attributes),
    ]


async def _write_users(
    users: AsyncIterator[dict[str, Any]], output: str, attributes: Sequence[str], out: IO[str]
) -> int:
    """Stream users to ``out`` as JSON lines, CSV or a fixed-width table; returns how many."""
    count = 0
    if output == "csv":
        writer = csv.writer(out)
        writer.writerow(_user_columns(attributes))
    elif output == "table":
        widths = [28, 7, 22, 25, *(max(len(a), 24) for a in attributes)]
        header = ["USERNAME", "ENABLED", "STATUS", "CREATED", *(a.upper() for a in attributes)]
        out.write("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip() + "\n")
    async for user in users:
        count += 1
        if output == "json":
            out.write(_dumps(user) + "\n")
        elif output == "csv":
            writer.writerow(_user_record(user, attributes))
        else:
            record = _user_record(user, attributes)
            cells = [record[0], record[1], record[2], record[3][:19], *record[5:]]
            out.write("  ".join(_fit(c, w) for c, w in zip(cells, widths, strict=True)).rstrip() + "\n")
    out.flush()
    return count


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


class ProgressBar:
    """``[#####-----] 1234/2000  62%  410/s  ETA 0:02`` on one terminal line, redrawn at most 10 times a second."""

    def __init__(self, total: int | None, out: IO[str]) -> None:
        self.total = total
        self.out = out
        self._drawn = 0.0

    def update(self, report: BulkReport, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._drawn < 0.1:
            return
        self._drawn = now
        done = report.processed
        rate = report.rate
        if self.total:
            fraction = min(1.0, done / self.total)
            filled = int(fraction * 24)
            eta = (self.total - done) / rate if rate > 0 else 0.0
            line = (
                f"[{'#' * filled}{'-' * (24 - filled)}] {done}/{self.total} {fraction:4.0%} "
                f"{rate:6.0f}/s  ETA {int(eta // 60)}:{int(eta % 60):02d}"
            )
        else:
            line = f"{done} rows {rate:6.0f}/s"
        if report.failed:
            line += f"  failed {report.failed}"
        self.out.write("\r" + line)
        if final:
            self.out.write("\n")
        self.out.flush()


# ----- the client -----------------------------------------------------------------------------------------
def _region_for(args: argparse.Namespace) -> str | None:
    if args.region:
        return str(args.region)
    pool = getattr(args, "user_pool_id", None)
    if (
        pool
        and "_" in pool
        and not os.environ.get("AWS_REGION")
        and not os.environ.get("AWS_DEFAULT_REGION")
        and not args.profile
    ):
        return str(pool.split("_", 1)[0])  # a pool id starts with its region
    return None


def _client(args: argparse.Namespace, *, quotas: Any = None) -> CognitoClient:
    from ._wire.client import CognitoClient

    return CognitoClient(
        region=_region_for(args), endpoint_url=args.endpoint_url, profile=args.profile, quotas=quotas
    )


def _bulk_quotas(args: argparse.Namespace, category: str) -> Any:
    rate = getattr(args, "rate", None)
    return {category: rate} if rate else True


def _attribute_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [a.strip() for a in text.split(",") if a.strip()]


# ----- sign-in --------------------------------------------------------------------------------------------
def _default_device_store() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "aiocognito" / "devices.json"


async def _answer(step: Step, args: argparse.Namespace) -> Step:
    """Ask the user for what ``step`` needs and answer it; returns the next step."""
    from ._signin.session import (
        ChallengeSelectionRequired,
        CustomChallenge,
        MfaCodeRequired,
        MfaSelectionRequired,
        NewPasswordRequired,
        TotpSetupRequired,
    )

    if isinstance(step, MfaCodeRequired):
        where = f" sent to {step.destination}" if step.destination else ""
        label = "authenticator app code" if step.kind == "TOTP" else f"{step.kind} code{where}"
        return await _with_retries(lambda: step.respond(_ask_secret(f"MFA {label}: ")))
    if isinstance(step, NewPasswordRequired):
        new_password = _ask_secret("New password: ")
        if sys.stdin.isatty() and _ask_secret("Repeat the new password: ") != new_password:
            raise CliError("the two new passwords differ")
        attributes = {name: _ask(f"{name}: ") for name in step.missing_attributes}
        return await step.respond(new_password, attributes)
    if isinstance(step, MfaSelectionRequired):
        choice = _ask(f"MFA method ({', '.join(step.options)}): ").strip()
        return await step.respond(choice)
    if isinstance(step, TotpSetupRequired):
        secret = await step.associate()
        sys.stderr.write(
            "Set up an authenticator app with this key:\n"
            f"  secret: {secret}\n  uri:    {step.provisioning_uri('aiocognito')}\n"
        )
        return await _with_retries(lambda: step.respond(_ask_secret("Authenticator app code: ")))
    if isinstance(step, CustomChallenge):
        shown = {k: v for k, v in step.parameters.items() if k != "USERNAME"}
        if shown:
            sys.stderr.write(f"Challenge: {_dumps(shown)}\n")
        return await step.respond(_ask_secret("Answer: "))
    if isinstance(step, ChallengeSelectionRequired):
        choice = _ask(f"Sign in with ({', '.join(step.available)}): ").strip().upper()
        password = _ask_secret("Password: ") if choice in ("PASSWORD", "PASSWORD_SRP") else None
        return await step.respond(choice, password)
    name = getattr(step, "name", type(step).__name__)
    raise CliError(f"the {name} challenge cannot be answered from the command line")


async def _with_retries(respond: Any, attempts: int = 3) -> Step:
    """Re-ask a code after CodeMismatchException (the challenge stays usable)."""
    for attempt in range(1, attempts + 1):
        try:
            step: Step = await respond()
            return step
        except ServiceError as exc:
            if exc.code != "CodeMismatchException" or attempt == attempts:
                raise
            sys.stderr.write("Wrong code, try again.\n")
    raise AssertionError("unreachable")


async def cmd_sign_in(args: argparse.Namespace) -> int:
    from ._signin.session import SignedIn
    from ._signin.stores import FileDeviceStore

    username = args.username or _ask("Username: ").strip()
    client_secret = args.client_secret or os.environ.get("AIOCOGNITO_CLIENT_SECRET") or None
    store = FileDeviceStore(args.device_store or _default_device_store())
    async with _client(args) as cognito:
        session = cognito.session(
            user_pool_id=args.user_pool_id,
            client_id=args.client_id,
            client_secret=client_secret,
            device_store=store,
            admin=args.admin,
        )
        needs_password = args.flow not in ("CUSTOM_AUTH", "USER_AUTH")
        password = _ask_secret("Password: ") if needs_password else None
        step = await session.sign_in(username, password, flow=args.flow)
        del password
        for _ in range(10):
            if isinstance(step, SignedIn):
                break
            step = await _answer(step, args)
        else:
            raise CliError("too many challenges")
        assert isinstance(step, SignedIn)
        tokens = step.tokens
        result: dict[str, Any] = {
            "IdToken": tokens.id_token,
            "AccessToken": tokens.access_token,
            "RefreshToken": tokens.refresh_token,
            "ExpiresIn": tokens.expires_in,
            "TokenType": tokens.token_type,
        }
        if args.remember_device:
            if step.new_device is not None:
                result["DeviceKey"] = await session.remember_device(args.device_name)
                sys.stderr.write(f"Device remembered in {store.path}\n")
            elif session.device_key:
                result["DeviceKey"] = session.device_key
            else:
                sys.stderr.write("The pool did not offer to remember this device (device tracking off?).\n")
        elif session.device_key:
            result["DeviceKey"] = session.device_key
    print(json.dumps(result, indent=2))
    return EXIT_OK


# ----- users ----------------------------------------------------------------------------------------------
async def _users(cognito: CognitoClient, args: argparse.Namespace) -> AsyncIterator[dict[str, Any]]:
    seen = 0
    async for user in cognito.list_all_users(UserPoolId=args.user_pool_id, Filter=args.filter):
        yield dict(user)
        seen += 1
        if args.max_items is not None and seen >= args.max_items:
            return


async def cmd_users_list(args: argparse.Namespace) -> int:
    attributes = _attribute_list(args.attributes) or ["email"]
    async with _client(args) as cognito:
        await _write_users(_users(cognito, args), args.output or "table", attributes, sys.stdout)
    return EXIT_OK


async def cmd_users_export(args: argparse.Namespace) -> int:
    async with _client(args) as cognito:
        attributes = _attribute_list(args.attributes)
        if attributes is None:
            pool = await cognito.describe_user_pool(UserPoolId=args.user_pool_id)
            attributes = [a["Name"] for a in pool["UserPool"].get("SchemaAttributes", []) if a.get("Name")]
        output = args.output or "csv"
        if args.file and args.file != "-":
            with open(args.file, "w", newline="", encoding="utf-8") as out:
                count = await _write_users(_users(cognito, args), output, attributes, out)
            sys.stderr.write(f"exported {count} users to {args.file}\n")
        else:
            await _write_users(_users(cognito, args), output, attributes, sys.stdout)
    return EXIT_OK


def _count_csv_rows(path: str) -> int | None:
    if path == "-":
        return None
    with open(path, newline="", encoding="utf-8") as f:
        return max(0, sum(1 for _ in csv.reader(f)) - 1)


def _load_done(result_file: Path) -> set[str]:
    """Usernames a previous run settled (succeeded or already); failed rows are tried again.

    They are held in memory while the rerun skips them (about 100 bytes each: 1 GB for 10 million done
    rows); the rows still to import are streamed as usual.
    """
    done: set[str] = set()
    if not result_file.exists():
        return done
    with result_file.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                if number == 1:
                    raise CliError(f"{result_file} is not an aiocognito result file") from None
                continue  # a line cut short when the last run was killed
            if record.get("status") in ("succeeded", "already") and isinstance(record.get("username"), str):
                done.add(record["username"])
    return done


def _outcome_record(outcome: Outcome) -> dict[str, Any]:
    record: dict[str, Any] = {"row": outcome.index, "username": outcome.username, "status": outcome.status}
    if outcome.error is not None:
        record["error"] = outcome.code
        record["message"] = str(getattr(outcome.error, "message", "") or outcome.error)
    return record


async def _run_bulk(
    job: BulkJob, *, total: int | None, result_out: IO[str] | None, progress: bool
) -> BulkReport:
    bar = ProgressBar(total, sys.stderr) if progress else None
    async for outcome in job.results():
        if result_out is not None:
            result_out.write(_dumps(_outcome_record(outcome)) + "\n")
        if bar is not None:
            bar.update(job.report)
    if bar is not None:
        bar.update(job.report, final=True)
    return job.report


def _finish(report: BulkReport, *, skipped: int = 0, result_file: Path | None = None) -> int:
    extra = f", {skipped} skipped (done in an earlier run)" if skipped else ""
    sys.stderr.write(report.summary() + extra + "\n")
    for failure in report.failures[:10]:
        message = str(getattr(failure.error, "message", "") or failure.error).replace("\n", " ")
        sys.stderr.write(f"  row {failure.index} {failure.username}: {failure.code}: {message}\n")
    if report.failed > 10:
        where = f" (all in {result_file})" if result_file else ""
        sys.stderr.write(f"  ... and {report.failed - 10} more failures{where}\n")
    return EXIT_ROWS_FAILED if report.failed else EXIT_OK


async def cmd_users_import(args: argparse.Namespace) -> int:
    from . import bulk

    source = args.file
    result_file = (
        Path(args.result_file)
        if args.result_file
        else (None if source == "-" else Path(source + ".results.jsonl"))
    )
    if args.restart and result_file is not None and result_file.exists():
        result_file.unlink()
    done = _load_done(result_file) if result_file is not None else set()
    total = _count_csv_rows(source)
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    skipped = 0

    def rows(parsed: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        nonlocal skipped
        for row in parsed:
            if row["Username"] in done:
                skipped += 1
                continue
            yield row

    if done:
        sys.stderr.write(f"resuming: {len(done)} users were done by an earlier run ({result_file})\n")
    with (
        open(source, newline="", encoding="utf-8")
        if source != "-"
        else contextlib.nullcontext(sys.stdin) as lines
    ):
        try:
            parsed = bulk.rows_from_csv(lines, message_action=None if args.send_invitations else "SUPPRESS")
        except ValueError as exc:
            raise CliError(f"{source}: {exc}") from None
        csv_rows = rows(parsed)
        result_out = result_file.open("a", encoding="utf-8", buffering=1) if result_file is not None else None
        try:
            async with _client(args, quotas=_bulk_quotas(args, "UserCreation")) as cognito:
                job = bulk.create_users(cognito, args.user_pool_id, csv_rows, concurrency=args.concurrency)
                report = await _run_bulk(
                    job,
                    total=None if total is None else max(0, total - len(done)),
                    result_out=result_out,
                    progress=progress,
                )
        finally:
            if result_out is not None:
                result_out.close()
    return _finish(report, skipped=skipped, result_file=result_file)


def _usernames(args: argparse.Namespace) -> Iterator[str]:
    """Usernames from ``--username`` and from FILE (one per line, or a CSV with a username column)."""
    yield from args.username or ()
    if not args.file:
        return
    with (
        open(args.file, newline="", encoding="utf-8")
        if args.file != "-"
        else contextlib.nullcontext(sys.stdin) as f
    ):
        first = f.readline()
        header = [c.strip().lower() for c in next(csv.reader([first]), [])]
        if "username" in header or "cognito:username" in header:
            column = header.index("username") if "username" in header else header.index("cognito:username")
            for record in csv.reader(f):
                if len(record) > column and record[column].strip():
                    yield record[column].strip()
        else:
            for line in (first, *f):
                if line.strip():
                    yield line.strip()


def _confirm(question: str, args: argparse.Namespace) -> None:
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise CliError("refusing to go on without --yes (standard input is not a terminal)")
    if _ask(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        raise CliError("cancelled")


async def cmd_users_delete(args: argparse.Namespace) -> int:
    from . import bulk

    if not args.username and not args.file:
        raise CliError("name the users: --username NAME (repeatable) or a FILE of usernames")
    _confirm(f"Delete these users from {args.user_pool_id}?", args)
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    async with _client(args, quotas=_bulk_quotas(args, "UserUpdate")) as cognito:
        job = bulk.delete_users(cognito, args.user_pool_id, _usernames(args), concurrency=args.concurrency)
        report = await _run_bulk(job, total=None, result_out=None, progress=progress)
    return _finish(report)


async def cmd_groups_add_users(args: argparse.Namespace) -> int:
    from . import bulk

    if not args.username and not args.file:
        raise CliError("name the users: --username NAME (repeatable) or a FILE of usernames")
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    async with _client(args, quotas=_bulk_quotas(args, "UserUpdate")) as cognito:
        job = bulk.add_users_to_group(
            cognito, args.user_pool_id, _usernames(args), group_name=args.group, concurrency=args.concurrency
        )
        report = await _run_bulk(job, total=None, result_out=None, progress=progress)
    return _finish(report)


# ----- local pool and demo --------------------------------------------------------------------------------
async def cmd_local(args: argparse.Namespace) -> int:
    try:
        from .testing import serve
    except ImportError as exc:
        raise CliError(
            f"the local pool needs the 'local' extra (pip install 'aiocognito[local]'): {exc}"
        ) from None
    await serve(args.host, args.port)
    return EXIT_OK


async def cmd_demo(args: argparse.Namespace) -> int:
    from .testing.demo import run_demo, uses_local_pool

    if uses_local_pool(args.endpoint_url, args.user_pool_id):  # only the in-process pool needs moto
        try:
            from .testing import LocalUserPool  # noqa: F401 - imported to check the extra is installed
        except ImportError as exc:
            raise CliError(
                "the demo's local pool needs the 'local' extra (pip install 'aiocognito[local]'), or run it "
                f"against a pool with --endpoint-url/--user-pool-id/--client-id: {exc}"
            ) from None
    return await run_demo(
        endpoint_url=args.endpoint_url, user_pool_id=args.user_pool_id, client_id=args.client_id
    )


# ----- the parser -----------------------------------------------------------------------------------------
def _common(*, output: bool) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection")
    group.add_argument("--endpoint-url", help="a custom endpoint (a local pool, moto, a VPC endpoint)")
    group.add_argument(
        "--region", help="AWS region (default: from the environment, the profile or the pool id)"
    )
    group.add_argument("--profile", help="shared-config profile for credentials and region")
    group.add_argument("--debug", action="store_true", help="show tracebacks and the debug log")
    if output:
        group.add_argument("--output", choices=("json", "table", "csv"), help="output format")
    return common


def _bulk_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight (default 16)")
    parser.add_argument(
        "--rate", type=float, help="requests per second for the category (default: the quota)"
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: on a terminal)",
    )


def _user_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", nargs="?", metavar="FILE", help="usernames, one per line, or a CSV with a username column"
    )
    parser.add_argument("--username", action="append", metavar="NAME", help="a username (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``aiocognito`` command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="aiocognito",
        description="Amazon Cognito user pools from the command line.",
        epilog="Exit codes: 0 done, 1 error, 2 usage, 3 some rows failed, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"aiocognito {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    plain, listing = _common(output=False), _common(output=True)

    p = commands.add_parser("sign-in", parents=[plain], help="sign in and print the tokens as JSON")
    p.add_argument("--user-pool-id", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret", help="the app client's secret (or AIOCOGNITO_CLIENT_SECRET)")
    p.add_argument("--username", help="default: asked")
    p.add_argument(
        "--flow",
        default="USER_SRP_AUTH",
        choices=(
            "USER_SRP_AUTH",
            "USER_PASSWORD_AUTH",
            "ADMIN_USER_PASSWORD_AUTH",
            "CUSTOM_AUTH",
            "USER_AUTH",
        ),
    )
    p.add_argument("--admin", action="store_true", help="use the admin (IAM-signed) sign-in operations")
    p.add_argument(
        "--remember-device", action="store_true", help="remember this device (skips MFA next time)"
    )
    p.add_argument("--device-name", help="the name of the remembered device")
    p.add_argument("--device-store", help=f"remembered devices file (default {_default_device_store()})")
    p.set_defaults(handler=cmd_sign_in)

    users = commands.add_parser("users", help="list, export, import and delete users").add_subparsers(
        dest="users_command", metavar="ACTION", required=True
    )
    for name, handler, help_text in (
        ("list", cmd_users_list, "stream the users (JSON lines, a table or CSV)"),
        ("export", cmd_users_export, "write every user as CSV (the format `users import` reads)"),
    ):
        p = users.add_parser(name, parents=[listing], help=help_text)
        p.add_argument("--user-pool-id", required=True)
        p.add_argument("--filter", help="a ListUsers filter, e.g. 'email ^= \"ann\"'")
        p.add_argument("--attributes", help="comma-separated attribute columns")
        p.add_argument("--max-items", type=int, help="stop after this many users")
        if name == "export":
            p.add_argument("--file", help="write here instead of standard output")
        p.set_defaults(handler=handler)

    p = users.add_parser("import", parents=[plain], help="create users from a CSV file (resumable)")
    p.add_argument(
        "file", metavar="FILE.csv", help="username column, attribute columns, optional temporary_password"
    )
    p.add_argument("--user-pool-id", required=True)
    p.add_argument(
        "--result-file",
        help="outcome per row, JSON lines (default FILE.csv.results.jsonl); a rerun skips what it lists as done",
    )
    p.add_argument("--restart", action="store_true", help="ignore an existing result file")
    p.add_argument(
        "--send-invitations", action="store_true", help="let Cognito send invitations (default: suppressed)"
    )
    _bulk_options(p)
    p.set_defaults(handler=cmd_users_import)

    p = users.add_parser("delete", parents=[plain], help="delete users")
    p.add_argument("--user-pool-id", required=True)
    _user_source(p)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _bulk_options(p)
    p.set_defaults(handler=cmd_users_delete)

    groups = commands.add_parser("groups", help="group membership").add_subparsers(
        dest="groups_command", metavar="ACTION", required=True
    )
    p = groups.add_parser("add-users", parents=[plain], help="add users to a group")
    p.add_argument("--user-pool-id", required=True)
    p.add_argument("--group", required=True)
    _user_source(p)
    _bulk_options(p)
    p.set_defaults(handler=cmd_groups_add_users)

    p = commands.add_parser(
        "local", parents=[plain], help="serve a local user pool (needs the 'local' extra)"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9229)
    p.set_defaults(handler=cmd_local)

    p = commands.add_parser("demo", parents=[plain], help="run the sign-in journey against a local pool")
    p.add_argument("--user-pool-id")
    p.add_argument("--client-id")
    p.set_defaults(handler=cmd_demo)
    return parser


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(asyncio.run(args.handler(args)))
    except KeyboardInterrupt:
        sys.stderr.write("\naiocognito: interrupted\n")
        return EXIT_INTERRUPTED
    except (CognitoError, CliError, OSError, ValueError, csv.Error) as exc:
        if args.debug:
            raise
        prefix = "" if isinstance(exc, (CliError, ConfigurationError)) else f"{type(exc).__name__}: "
        if isinstance(exc, ServiceError):
            prefix = ""
        sys.stderr.write(f"aiocognito: error: {prefix}{_one_line(exc)}\n")
        return EXIT_ERROR
    except Exception as exc:  # a bug of ours: still one line, the traceback only with --debug
        if args.debug:
            raise
        sys.stderr.write(
            f"aiocognito: unexpected error: {type(exc).__name__}: {_one_line(exc)} (--debug shows where)\n"
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
