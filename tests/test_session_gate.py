"""SRP steps of concurrent sign-ins take turns with the rest of the event loop."""

from __future__ import annotations

import asyncio

from aiocognito._session import Session


async def test_no_two_srp_steps_run_without_the_loop_in_between() -> None:
    session = Session(object(), user_pool_id="us-east-1_x", client_id="c")
    order: list[str] = []

    async def ticker() -> None:
        for _ in range(40):
            order.append("tick")
            await asyncio.sleep(0)

    def srp_step(i: int) -> int:
        order.append(f"srp{i}")
        return i

    tick = asyncio.create_task(ticker())
    results = await asyncio.gather(*(session._run(True, srp_step, i) for i in range(8)))
    await tick
    assert results == list(range(8))
    steps = [k for k, item in enumerate(order) if item.startswith("srp")]
    assert len(steps) == 8
    for a, b in zip(steps, steps[1:]):
        assert "tick" in order[a:b], order


async def test_steps_without_srp_run_inline() -> None:
    session = Session(object(), user_pool_id="us-east-1_x", client_id="c")
    assert await session._run(False, lambda: 7) == 7
