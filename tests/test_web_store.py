"""The challenge store: single use under concurrency, TTL expiry on an injected clock, the attempt limit,
the settings' bounds, and values that are copies (as a shared store would give back)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from aiocognito import ConfigurationError
from aiocognito.web.backend import CognitoSettings
from aiocognito.web.challenges import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TTL,
    MAX_TTL,
    ChallengeStore,
    MemoryChallengeStore,
    SavedChallenge,
)

SESSION = "AYABeC0nG-N1t0-Session-string-that-is-a-credential"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_defaults_and_protocol() -> None:
    store = MemoryChallengeStore()
    assert (store.ttl, store.max_attempts) == (DEFAULT_TTL, DEFAULT_MAX_ATTEMPTS) == (180.0, 3)
    assert isinstance(store, ChallengeStore)
    assert MAX_TTL == 900.0


@pytest.mark.parametrize("ttl", [0, -1, 900.5, 3600])
def test_ttl_is_bounded_by_auth_session_validity(ttl: float) -> None:
    with pytest.raises(ConfigurationError):
        MemoryChallengeStore(ttl)
    with pytest.raises(ConfigurationError):
        CognitoSettings("us-east-1_AbC", "c" * 26, challenge_ttl=ttl)


@pytest.mark.parametrize("attempts", [0, -2, True, 1.5])
def test_attempts_must_be_a_positive_int(attempts: object) -> None:
    with pytest.raises(ConfigurationError):
        MemoryChallengeStore(max_attempts=attempts)  # type: ignore[arg-type]


def test_900_seconds_is_allowed() -> None:
    assert MemoryChallengeStore(900).ttl == 900.0


async def test_ids_are_unguessable_and_never_reused() -> None:
    store = MemoryChallengeStore()
    ids = {await store.save({"n": i}) for i in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 43 and i.isascii() for i in ids)  # secrets.token_urlsafe(32): 256 bits


async def test_two_concurrent_takes_exactly_one_wins() -> None:
    store = MemoryChallengeStore()
    challenge_id = await store.save({"session": SESSION})
    results = await asyncio.gather(store.take(challenge_id), store.take(challenge_id))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1 and winners[0].data == {"session": SESSION}
    # many at once, many ids: each id is taken once
    ids = [await store.save({"n": n}) for n in range(20)]
    taken = await asyncio.gather(*(store.take(i) for i in ids for _ in range(5)))
    assert sorted(t.data["n"] for t in taken if t is not None) == list(range(20))
    assert len(store) == 0


async def test_ttl_expiry_with_an_injected_clock() -> None:
    clock = Clock()
    store = MemoryChallengeStore(60, clock=clock)
    first = await store.save({"a": 1})
    clock.now += 59.9
    saved = await store.take(first)
    assert saved is not None and saved.expires_at == 1060.0
    second = await store.save({"b": 2})  # expires at 1119.9
    clock.now = 1119.9
    assert await store.take(second) is None  # expired exactly at its deadline
    # an expired entry cannot be put back, and a put-back entry keeps its first deadline
    third = await store.save({"c": 3})
    taken = await store.take(third)
    assert taken is not None
    clock.now += 30
    assert await store.put_back(third, taken)
    again = await store.take(third)
    assert again is not None and again.expires_at == taken.expires_at == 1179.9
    clock.now = 1179.9
    assert not await store.put_back(third, again)
    assert await store.take(third) is None


async def test_expired_entries_are_dropped_on_save_and_the_oldest_beyond_the_limit() -> None:
    clock = Clock()
    store = MemoryChallengeStore(10, clock=clock, max_entries=3)
    for n in range(3):
        await store.save({"n": n})
    clock.now += 10
    keep = await store.save({"n": "new"})
    assert len(store) == 1
    others = [await store.save({"n": n}) for n in range(3)]
    assert len(store) == 3
    assert await store.take(keep) is None  # the oldest went to make room
    assert all([await store.take(i) for i in others])


async def test_the_attempt_limit() -> None:
    store = MemoryChallengeStore(max_attempts=3)
    challenge_id = await store.save({"session": SESSION})
    saved = await store.take(challenge_id)
    assert saved is not None and saved.attempts == 0
    for expected in (1, 2):  # two refused answers: put back each time
        assert await store.put_back(challenge_id, saved)
        saved = await store.take(challenge_id)
        assert saved is not None and saved.attempts == expected
    assert not await store.put_back(challenge_id, saved)  # the third refusal ends it
    assert await store.take(challenge_id) is None
    one = MemoryChallengeStore(max_attempts=1)
    only = await one.save({})
    taken = await one.take(only)
    assert taken is not None and not await one.put_back(only, taken)


async def test_put_back_never_overwrites_and_unknown_ids_are_none() -> None:
    store = MemoryChallengeStore()
    challenge_id = await store.save({"x": 1})
    saved = await store.take(challenge_id)
    assert saved is not None
    assert await store.put_back(challenge_id, saved)
    assert not await store.put_back(challenge_id, saved)  # already there: a second put-back is refused
    assert await store.take("no-such-id") is None
    assert await store.take(123) is None  # type: ignore[arg-type]


async def test_values_are_json_copies() -> None:
    store = MemoryChallengeStore()
    data = {"nested": {"list": [1, 2]}, "session": SESSION}
    challenge_id = await store.save(data)
    data["nested"]["list"].append(3)  # the caller's dict changes after the save
    saved = await store.take(challenge_id)
    assert saved is not None and saved.data == {"nested": {"list": [1, 2]}, "session": SESSION}
    with pytest.raises(TypeError):
        await store.save({"not json": object()})
    with pytest.raises(ValueError):
        await store.save({"nan": float("nan")})


async def test_nothing_secret_in_reprs_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = MemoryChallengeStore()
    challenge_id = await store.save({"session": SESSION})
    saved = await store.take(challenge_id)
    assert saved is not None
    await store.put_back(challenge_id, saved)
    for text in (repr(store), repr(saved), str(saved), caplog.text):
        assert SESSION not in text and challenge_id not in text
    assert repr(SavedChallenge({"session": SESSION}, 1.0)) == "SavedChallenge(expires_at=1.0, attempts=0)"
