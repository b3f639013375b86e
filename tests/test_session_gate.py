"""Session driving details with scripted clients: SRP steps run off the event loop; refresh blips."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time

import pytest

from aiocognito import errors
from aiocognito._signin.session import Session


async def test_srp_steps_run_one_at_a_time_off_the_event_loop() -> None:
    session = Session(object(), user_pool_id="us-east-1_x", client_id="c")
    loop_thread = threading.get_ident()
    active = most_active = 0
    threads: set[int] = set()

    def srp_step(i: int) -> int:
        nonlocal active, most_active
        active += 1
        most_active = max(most_active, active)
        threads.add(threading.get_ident())
        time.sleep(0.005)  # stands for a powmod, which releases the GIL
        active -= 1
        return i

    ticks = 0
    done = False

    async def ticker() -> None:
        nonlocal ticks
        while not done:
            ticks += 1
            await asyncio.sleep(0.001)

    tick = asyncio.create_task(ticker())
    results = await asyncio.gather(*(session._run(True, srp_step, i) for i in range(6)))
    done = True
    await tick
    assert results == list(range(6))
    assert most_active == 1  # one at a time
    assert loop_thread not in threads  # never on the loop's thread
    assert ticks >= 10  # the loop kept running through 30 ms of SRP work


async def test_steps_without_srp_run_inline() -> None:
    session = Session(object(), user_pool_id="us-east-1_x", client_id="c")
    assert await session._run(False, lambda: 7) == 7


class _BlippingClient:
    """Signs in with USER_PASSWORD_AUTH; every refresh fails with a 500."""

    refreshes = 0

    async def call(self, operation: str, **params: object) -> dict[str, object]:
        auth = params.get("AuthParameters")
        if operation == "GetTokensFromRefreshToken" or (isinstance(auth, dict) and "REFRESH_TOKEN" in auth):
            self.refreshes += 1
            raise errors.InternalErrorException("boom", operation=operation, status=500)

        def segment(claims: dict[str, str]) -> str:
            return base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

        access = f"h.{segment({'username': 'u', 'token_use': 'access'})}.s"
        result = {
            "AccessToken": access,
            "IdToken": f"h.{segment({})}.s",
            "RefreshToken": "r",
            "ExpiresIn": 3600,
        }
        return {"AuthenticationResult": result}


async def test_access_token_rides_out_a_passing_refresh_failure() -> None:
    clock = [0.0]
    client = _BlippingClient()
    session = Session(client, user_pool_id="us-east-1_x", client_id="c", monotonic=lambda: clock[0])
    await session.sign_in("u", "pw", flow="USER_PASSWORD_AUTH")
    token = await session.access_token()
    clock[0] = 3600 - 240  # inside the refresh margin, 4 minutes of validity left
    assert await session.access_token() == token
    assert client.refreshes == 1
    clock[0] = 3600 - 5  # about to expire: the failure reaches the caller
    with pytest.raises(errors.InternalErrorException):
        await session.access_token()
