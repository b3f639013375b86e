"""``aiocognito local`` (serve a local user pool, optionally seeded) and ``aiocognito demo`` (the sign-in
journey against one).

``local`` checks the seed file before anything starts, starts the pool, creates what the seed describes,
writes the ids (``--seed-output``), then prints a banner: where the pool listens, the region and credentials
to use (any are accepted), the variables that point the CLI and the AWS SDKs at it, and what was seeded (ids,
domains with the URL their managed login is served on, resource servers, identity providers). It serves until
Ctrl-C or SIGTERM, then stops cleanly (exit code 0); its data lives in memory only.

A seeded domain's URL (``LocalUserPool.domain_url``) is what ``https://<domain>`` is on Cognito: give it to
``aiocognito login --domain`` and ``aiocognito token --domain``, or to :mod:`aiocognito.oauth`. The seed
output has it as ``"domain_url"`` beside ``"domain"`` (null without a domain).

``--triggers module:object`` (or ``path/to/file.py:object``; without ``:object`` the module itself) runs
the user's Lambda trigger functions in the pool (see :mod:`aiocognito.testing._triggers`): the object is a
mapping ``{"PreSignUp": fn, ...}`` (or by function ARN) or has those attributes. A module name is imported
with the current directory on ``sys.path``, as ``python -m`` would.

:mod:`aiocognito.testing` (and with it moto) is imported only when one of these commands runs, and only
then is the 'local' extra needed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._wire.credentials import ENDPOINT_VARIABLES
from ._common import EXIT_OK, CliError

if TYPE_CHECKING:
    from ..testing._seed import SeedResult

#: What the banner suggests exporting as credentials: the local pool accepts any (it checks no signature).
BANNER_CREDENTIALS = ("local", "local")


def banner(
    endpoint_url: str,
    region: str,
    seeded: SeedResult | None = None,
    ids_file: str | None = None,
    triggers: tuple[str, list[str]] | None = None,
    domain_url: Callable[[str], str] | None = None,
) -> str:
    """What ``aiocognito local`` prints once the pool is ready (its last line starts with ``Ready``).

    ``triggers``: where the Lambda trigger functions came from, and their names. ``domain_url``: the URL a
    domain's managed login is served on (``LocalUserPool.domain_url``), shown under each seeded domain.
    """
    key, secret = BANNER_CREDENTIALS
    lines = [
        f"aiocognito local user pool listening on {endpoint_url} (Ctrl-C to stop)",
        "",
        f"  endpoint URL  {endpoint_url}",
        f"  region        {region}",
        "  credentials   any: the local pool checks no signature (sign-in and other public calls need none)",
        "",
        "Point the aiocognito CLI (and the AWS CLI and SDKs) at it from a shell:",
        f"  export {ENDPOINT_VARIABLES[0]}={endpoint_url}",
        f"  export AWS_REGION={region}",
        f"  export AWS_ACCESS_KEY_ID={key} AWS_SECRET_ACCESS_KEY={secret}",
        f"or give each command --endpoint-url {endpoint_url} --region {region}.",
        f'From Python: CognitoClient(region="{region}", endpoint_url="{endpoint_url}", '
        f'credentials=("{key}", "{secret}"))',
    ]
    if seeded is not None:
        lines += ["", f"Seeded from {seeded.source}:"]
        for pool in seeded.pools:
            lines.append(f"  pool {pool.name!r}: {pool.user_pool_id}")
            if pool.domain:
                lines.append(f"    domain: {pool.domain}")
                if domain_url is not None:
                    lines.append(f"    managed login: {domain_url(pool.domain)}")
            if pool.resource_servers:
                lines.append(f"    resource servers: {', '.join(pool.resource_servers)}")
            if pool.identity_providers:
                lines.append(f"    identity providers: {', '.join(pool.identity_providers)}")
            for client in pool.clients:
                secret_text = f"secret {client.client_secret}" if client.client_secret else "no secret"
                lines.append(f"    client {client.name!r}: {client.client_id} ({secret_text})")
            if pool.groups:
                lines.append(f"    groups: {', '.join(pool.groups)}")
            for user in pool.users:
                shown = user.name if user.username == user.name else f"{user.name} ({user.username})"
                lines.append(f"    user {shown}: {user.status}")
        if ids_file:
            lines.append(f"  (the ids are in {ids_file})")
    if triggers is not None:
        source, names = triggers
        lines += ["", f"Lambda triggers from {source}: {', '.join(names) or 'none'}"]
    lines += ["", "Ready: the data lives in memory and is gone when the pool stops."]
    return "\n".join(lines)


def seed_output(
    seeded: SeedResult, *, endpoint_url: str, region: str, domain_url: Callable[[str], str]
) -> dict[str, Any]:
    """What ``--seed-output`` writes: :meth:`SeedResult.to_json`, with each pool's ``"domain_url"`` (the
    URL its domain's managed login is served on, null without a domain) right after its ``"domain"``."""
    ids = seeded.to_json(endpoint_url=endpoint_url, region=region)
    for name, pool in ids["pools"].items():
        with_url: dict[str, Any] = {}
        for key, value in pool.items():
            with_url[key] = value
            if key == "domain":
                with_url["domain_url"] = None if value is None else domain_url(value)
        ids["pools"][name] = with_url
    return ids


def _write_json(path: str, value: object) -> None:
    """Write ``value`` whole or not at all (a script waiting for the file never reads half of it)."""
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, target)


def load_triggers(spec: str) -> Any:
    """The object ``--triggers`` names: ``module:object``, ``path/to/file.py:object``, or a whole module.

    Raises:
        CliError: the module or file cannot be imported, or has no such object (one line, naming it).
    """
    target, found, attribute = spec.rpartition(":")
    if not found or not attribute or "/" in attribute or "\\" in attribute:
        target, attribute = spec, ""  # no ":object" (a Windows drive letter is not one either)
    try:
        if target.endswith(".py") or "/" in target or os.sep in target:
            path = Path(target)
            if not path.is_file():
                raise CliError(f"--triggers {spec}: there is no file {target}")
            name = f"aiocognito_triggers_{path.stem}"
            module_spec = importlib.util.spec_from_file_location(name, path)
            if module_spec is None or module_spec.loader is None:
                raise CliError(f"--triggers {spec}: {target} is not a Python file")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
        else:
            if os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(target)
        found_object: Any = module
        for part in filter(None, attribute.split(".")):
            found_object = getattr(found_object, part)
    except CliError:
        raise
    except AttributeError:
        raise CliError(f"--triggers {spec}: {target} has no {attribute}") from None
    except Exception as exc:  # the user's module failed to import: say so in one line
        raise CliError(f"--triggers {spec}: cannot import {target}: {type(exc).__name__}: {exc}") from None
    return found_object


async def _until_stopped() -> None:
    """Wait for Ctrl-C (SIGINT) or SIGTERM."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed = []
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(number, stop.set)
            installed.append(number)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # no signal handlers here (Windows): Ctrl-C still ends the command
    try:
        await stop.wait()
    finally:
        for number in installed:
            loop.remove_signal_handler(number)


async def cmd_local(args: argparse.Namespace) -> int:
    from ..testing._seed import SeedError, apply_seed, load_seed

    try:
        seed = load_seed(args.seed) if args.seed else None  # checked before the pool starts
    except SeedError as exc:
        raise CliError(str(exc)) from None
    if args.seed_output and seed is None:
        raise CliError("--seed-output needs --seed")
    try:
        from ..testing import LocalUserPool
    except ImportError as exc:
        raise CliError(
            f"the local pool needs the 'local' extra (pip install 'aiocognito[local]'): {exc}"
        ) from None
    spec = getattr(args, "triggers", None)
    triggers = load_triggers(spec) if spec else None
    try:
        local = LocalUserPool(args.host, args.port, triggers=triggers)
    except (TypeError, ValueError) as exc:  # not a trigger mapping or object
        raise CliError(f"--triggers {spec}: {exc}") from None
    shown = (spec, sorted(local.triggers.names())) if spec else None
    try:
        try:
            await local.start()
        except OSError as exc:
            raise CliError(
                f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc} (--port picks another port)"
            ) from None
        seeded = None
        if seed is not None:
            try:
                seeded = await apply_seed(local, seed)
            except SeedError as exc:
                raise CliError(str(exc)) from None
            if args.seed_output:
                ids = seed_output(
                    seeded, endpoint_url=local.endpoint_url, region=local.region, domain_url=local.domain_url
                )
                _write_json(args.seed_output, ids)
        text = banner(local.endpoint_url, local.region, seeded, args.seed_output, shown, local.domain_url)
        print(text, flush=True)
        await _until_stopped()
    finally:
        await local.close()
    sys.stderr.write("aiocognito local: stopped\n")
    return EXIT_OK


async def cmd_demo(args: argparse.Namespace) -> int:
    from ..testing.demo import run_demo, uses_local_pool

    if uses_local_pool(args.endpoint_url, args.user_pool_id):  # only the in-process pool needs moto
        try:
            from ..testing import LocalUserPool  # noqa: F401 - imported to check the extra is installed
        except ImportError as exc:
            raise CliError(
                "the demo's local pool needs the 'local' extra (pip install 'aiocognito[local]'), or run it "
                f"against a pool with --endpoint-url/--user-pool-id/--client-id: {exc}"
            ) from None
    return await run_demo(
        endpoint_url=args.endpoint_url, user_pool_id=args.user_pool_id, client_id=args.client_id
    )
