"""What every command of the ``aiocognito`` CLI shares: exit codes, the one-line error, prompts, JSON output
and the client.

The lowest module of :mod:`aiocognito.cli`: the command modules and the parser import it, it imports none
of them. Nothing here imports the client at module level (the CLI must start fast).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._wire.client import CognitoClient

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_ROWS_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class CliError(Exception):
    """A problem to report in one line (bad input, a refused confirmation...)."""


# ----- terminal input -------------------------------------------------------------------------------------
def read_line(prompt: str, *, secret: bool) -> str:
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


def ask(prompt: str) -> str:
    return read_line(prompt, secret=False)


def ask_secret(prompt: str) -> str:
    return read_line(prompt, secret=True)


# ----- output ---------------------------------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps(value: Any) -> str:
    """Compact JSON; datetimes as ISO 8601, bytes as text."""
    return json.dumps(value, default=_json_default, separators=(",", ":"))


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


def client_for(args: argparse.Namespace, *, quotas: Any = None) -> CognitoClient:
    """The client the connection options (``--endpoint-url``, ``--region``, ``--profile``) ask for."""
    from .._wire.client import CognitoClient

    return CognitoClient(
        region=_region_for(args), endpoint_url=args.endpoint_url, profile=args.profile, quotas=quotas
    )


def bulk_quotas(args: argparse.Namespace, category: str) -> Any:
    """The client's ``quotas`` for a bulk command: ``--rate`` for ``category``, else the published quotas."""
    rate = getattr(args, "rate", None)
    return {category: rate} if rate else True
