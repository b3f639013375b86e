"""``aiocognito local`` (serve a local user pool) and ``aiocognito demo`` (the sign-in journey against one).

:mod:`aiocognito.testing` (and with it moto) is imported only when one of these commands runs, and only
then is the 'local' extra needed.
"""

from __future__ import annotations

import argparse

from ._common import EXIT_OK, CliError


async def cmd_local(args: argparse.Namespace) -> int:
    try:
        from ..testing import serve
    except ImportError as exc:
        raise CliError(
            f"the local pool needs the 'local' extra (pip install 'aiocognito[local]'): {exc}"
        ) from None
    await serve(args.host, args.port)
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
