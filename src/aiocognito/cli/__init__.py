"""The ``aiocognito`` command: sign in (with the API, or through managed login in the browser); get a
machine-to-machine token; create pools, app clients, groups and users; list, export, import and delete users;
add users to groups; serve a local user pool (seeded from a JSON file) and run the demo.

The commands that call Cognito take ``--endpoint-url`` (default: the AWS SDKs' variables
``AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`` / ``AWS_ENDPOINT_URL``), ``--region``, ``--profile`` and
``--debug``; ``local`` and ``demo`` take only what applies to them, and ``login`` and ``token`` (which talk
to the user pool domain, not the API) its ``--domain``. The listing commands take ``--output
json|table|csv``, the create commands ``--output text|json`` (text: the new ids on one line). Errors print
one line (``aiocognito: error: ...``) and exit non-zero; ``--debug`` shows the traceback and aiocognito's
debug log instead.

Exit codes: 0 done, 1 an error, 2 bad usage, 3 a bulk command finished but some rows failed, 130 interrupted.

Secrets (passwords, MFA codes) are read with ``getpass`` from a terminal, or one line each from standard
input when it is not a terminal (scripts and tests feed the answers that way).

Where things live (each module imports only the ones listed after it; none imports this package):

* ``_main``: the argument parser (every subcommand's options), :func:`main`, errors to one line and exit codes.
* ``signin``: ``sign-in [USERNAME]`` and answering its challenges from the terminal.
* ``oauth``: ``login`` (managed login over a loopback redirect) and ``token`` (client_credentials); it
  declares its own options.
* ``pools``: ``pools create|list``, ``clients create|list`` and ``users create`` (make things, print ids).
* ``users``: ``users list``, ``export``, ``import`` (resumable) and ``delete``.
* ``groups``: ``groups create`` and ``groups add-users``.
* ``worker``: ``worker --redis URL``: settle the rows of bulk jobs in Redis (:mod:`aiocognito.redis`).
* ``local``: ``local`` (with ``--seed``, through :mod:`aiocognito.testing._seed`) and ``demo``: the only
  commands that import :mod:`aiocognito.testing` and moto.
* ``_bulk_run``: running a bulk job: usernames from ``--username``/FILE, progress bar, result lines, summary;
  the Redis client of ``--redis`` and the wait for a Redis job's workers.
* ``_common``: exit codes, :class:`CliError`, prompts, JSON output, the endpoint, building the client.

The CLI must start fast: the client, the sign-in machinery, :mod:`aiocognito.bulk`, :mod:`aiocognito.redis`,
:mod:`aiocognito.oauth` and :mod:`aiocognito.testing` are imported inside the handlers that use them, never at module level.
"""

from __future__ import annotations

from ._main import build_parser, main

__all__ = ["main", "build_parser"]
