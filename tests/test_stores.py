"""Tests for aiocognito._signin.stores: memory and JSON-file device/token stores."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aiocognito._errors import ConfigurationError
from aiocognito._signin.stores import (
    DeviceRecord,
    DeviceStore,
    FileDeviceStore,
    FileTokenStore,
    MemoryDeviceStore,
    MemoryTokenStore,
    TokenStore,
)

POOL = "us-east-1_AbCdEf"
PASSWORD = "68UlaiwhzwGuE69l6Pg1Mgt5TB6TYoPtGPgbnxP64tSvv0oc5miNLg=="
RECORD = DeviceRecord(
    device_key="us-east-1_aa18aff0-2b28-4889-9cae-bfb5a0bb0961",
    device_group_key="-MQ1T5tR2",
    device_password=PASSWORD,
)
TOKENS: dict[str, Any] = {
    "refresh_token": "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIn0.secret-refresh",
    "expires_at": 1793682429.5,
    "scopes": ["openid", "email"],
    "device": None,
}


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask() -> Iterator[None]:
    """Restore the process umask after a test that changes it."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def device_stores(tmp_path: Path) -> list[DeviceStore]:
    return [MemoryDeviceStore(), FileDeviceStore(tmp_path / "devices.json")]


def token_stores(tmp_path: Path) -> list[TokenStore]:
    return [MemoryTokenStore(), FileTokenStore(tmp_path / "tokens.json")]


# --------------------------------------------------------------------------------------------------
# DeviceRecord
# --------------------------------------------------------------------------------------------------


def test_device_record_round_trip() -> None:
    data = RECORD.to_dict()
    assert data == {
        "device_key": RECORD.device_key,
        "device_group_key": RECORD.device_group_key,
        "device_password": PASSWORD,
    }
    assert DeviceRecord.from_dict(json.loads(json.dumps(data))) == RECORD


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"device_key": "k", "device_group_key": "g"},
        {"device_key": "k", "device_group_key": "g", "device_password": 5},
        {"device_key": "", "device_group_key": "g", "device_password": "p"},
        ["device_key"],
    ],
)
def test_device_record_from_dict_rejects(data: Any) -> None:
    with pytest.raises(ValueError) as caught:
        DeviceRecord.from_dict(data)
    assert "device record field" in str(caught.value)


def test_record_repr_hides_the_password() -> None:
    text = repr(RECORD) + str(RECORD)
    assert PASSWORD not in text
    assert RECORD.device_key in text


async def test_store_reprs_do_not_show_content(tmp_path: Path) -> None:
    memory_devices, memory_tokens = MemoryDeviceStore(), MemoryTokenStore()
    file_devices, file_tokens = FileDeviceStore(tmp_path / "d.json"), FileTokenStore(tmp_path / "t.json")
    for devices in (memory_devices, file_devices):
        await devices.put(POOL, "alice", RECORD)
    for tokens in (memory_tokens, file_tokens):
        await tokens.save("alice", TOKENS)
    for store in (memory_devices, memory_tokens, file_devices, file_tokens):
        assert PASSWORD not in repr(store) and TOKENS["refresh_token"] not in repr(store)


def test_protocols_are_satisfied(tmp_path: Path) -> None:
    for device_store in device_stores(tmp_path):
        assert isinstance(device_store, DeviceStore)
    for token_store in token_stores(tmp_path):
        assert isinstance(token_store, TokenStore)
    assert not isinstance(MemoryTokenStore(), DeviceStore)


# --------------------------------------------------------------------------------------------------
# Round trips (memory and file)
# --------------------------------------------------------------------------------------------------


async def test_device_round_trip(tmp_path: Path) -> None:
    for store in device_stores(tmp_path):
        assert await store.get(POOL, "alice") is None
        await store.put(POOL, "alice", RECORD)
        assert await store.get(POOL, "alice") == RECORD
        assert await store.get(POOL, "bob") is None
        assert await store.get("eu-west-1_Other", "alice") is None
        newer = DeviceRecord(device_key="us-east-1_new", device_group_key="grp", device_password="pw2")
        await store.put(POOL, "alice", newer)
        await store.put(POOL, "bob", RECORD)
        assert await store.get(POOL, "alice") == newer
        assert await store.get(POOL, "bob") == RECORD
        await store.delete(POOL, "alice")
        await store.delete(POOL, "alice")  # deleting twice is fine
        await store.delete("eu-west-1_Other", "nobody")
        assert await store.get(POOL, "alice") is None
        assert await store.get(POOL, "bob") == RECORD


async def test_token_round_trip(tmp_path: Path) -> None:
    for store in token_stores(tmp_path):
        assert await store.load("k") is None
        await store.save("k", TOKENS)
        loaded = await store.load("k")
        assert loaded == TOKENS
        assert loaded is not TOKENS
        await store.save("other", {"n": 1})
        await store.save("k", {"replaced": True})
        assert await store.load("k") == {"replaced": True}
        await store.delete("k")
        await store.delete("k")
        assert await store.load("k") is None
        assert await store.load("other") == {"n": 1}


async def test_token_stores_copy_in_and_out(tmp_path: Path) -> None:
    for store in token_stores(tmp_path):
        data: dict[str, Any] = {"nested": {"list": [1, 2]}}
        await store.save("k", data)
        data["nested"]["list"].append(3)
        loaded = await store.load("k")
        assert loaded == {"nested": {"list": [1, 2]}}
        assert loaded is not None
        loaded["nested"]["list"].clear()
        assert await store.load("k") == {"nested": {"list": [1, 2]}}


@pytest.mark.parametrize("bad", [{"when": object()}, {"x": float("nan")}, {1: {2}}])
async def test_token_stores_reject_non_json(tmp_path: Path, bad: dict[str, Any]) -> None:
    for store in token_stores(tmp_path):
        with pytest.raises(TypeError):
            await store.save("k", bad)
        assert await store.load("k") is None


async def test_file_stores_persist_across_instances(tmp_path: Path) -> None:
    await FileDeviceStore(tmp_path / "d.json").put(POOL, "alice", RECORD)
    await FileTokenStore(tmp_path / "t.json").save("alice", TOKENS)
    assert await FileDeviceStore(str(tmp_path / "d.json")).get(POOL, "alice") == RECORD
    assert await FileTokenStore(str(tmp_path / "t.json")).load("alice") == TOKENS
    on_disk = json.loads((tmp_path / "d.json").read_text())
    assert on_disk == {"version": 1, "devices": {POOL: {"alice": RECORD.to_dict()}}}


async def test_file_store_creates_missing_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "tokens.json"
    store = FileTokenStore(path)
    assert await store.load("k") is None
    assert not path.exists()  # reading does not create anything
    await store.save("k", TOKENS)
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) & 0o077 == 0


# --------------------------------------------------------------------------------------------------
# Permissions
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o277])
async def test_new_files_are_0600_whatever_the_umask(tmp_path: Path, umask: None, mask: int) -> None:
    os.umask(mask)
    devices, tokens = FileDeviceStore(tmp_path / "d.json"), FileTokenStore(tmp_path / "t.json")
    await devices.put(POOL, "alice", RECORD)
    await tokens.save("k", TOKENS)
    os.umask(0o022)
    assert mode_of(devices.path) == 0o600
    assert mode_of(tokens.path) == 0o600
    assert await devices.get(POOL, "alice") == RECORD


async def test_existing_file_mode_is_fixed_on_read_and_write(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"version": 1, "devices": {POOL: {"alice": RECORD.to_dict()}}}))
    path.chmod(0o644)
    store = FileDeviceStore(path)
    assert await store.get(POOL, "alice") == RECORD
    assert mode_of(path) == 0o600
    path.chmod(0o666)
    await store.put(POOL, "bob", RECORD)
    assert mode_of(path) == 0o600


# --------------------------------------------------------------------------------------------------
# Atomicity and concurrency
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["replace", "fsync", "write"])
async def test_failed_write_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    store = FileDeviceStore(tmp_path / "d.json")
    await store.put(POOL, "alice", RECORD)
    before = store.path.read_bytes()

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, boom)
    with pytest.raises(OSError):
        await store.put(POOL, "bob", RECORD)
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.json"]  # no temp file left behind
    assert await store.get(POOL, "bob") is None
    assert await store.get(POOL, "alice") == RECORD


async def test_unserializable_save_leaves_the_old_file(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "t.json")
    await store.save("k", TOKENS)
    before = store.path.read_bytes()
    with pytest.raises(TypeError):
        await store.save("k", {"bad": object()})
    assert store.path.read_bytes() == before


async def test_concurrent_puts_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    first, second = FileDeviceStore(path), FileDeviceStore(path)  # two objects on one file
    users = [f"user-{i}" for i in range(40)]
    await asyncio.gather(
        *(
            (first if i % 2 else second).put(POOL, user, DeviceRecord(f"k-{user}", "grp", f"pw-{user}"))
            for i, user in enumerate(users)
        )
    )
    for user in users:
        assert await first.get(POOL, user) == DeviceRecord(f"k-{user}", "grp", f"pw-{user}")
    await asyncio.gather(*(second.delete(POOL, user) for user in users[::2]))
    content = json.loads(path.read_text())["devices"][POOL]
    assert sorted(content) == sorted(users[1::2])


async def test_concurrent_token_saves_lose_nothing(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "t.json")
    await asyncio.gather(*(store.save(f"key-{i}", {"i": i}) for i in range(40)))
    for i in range(40):
        assert await store.load(f"key-{i}") == {"i": i}


# --------------------------------------------------------------------------------------------------
# Corrupt files
# --------------------------------------------------------------------------------------------------

SECRET_CONTENT = "refresh-SECRET-0123456789"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        f'{{"version": 1, "tokens": {{"k": "{SECRET_CONTENT}"'.encode(),
        b"\xff\xfe" + SECRET_CONTENT.encode(),
        json.dumps([SECRET_CONTENT]).encode(),
        json.dumps({"version": 2, "tokens": {}, "x": SECRET_CONTENT}).encode(),
        json.dumps({"version": 1, "tokens": [SECRET_CONTENT]}).encode(),
        json.dumps({"version": 1, "tokens": {"k": SECRET_CONTENT}}).encode(),
    ],
)
async def test_corrupt_token_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(content)
    store = FileTokenStore(path)
    with pytest.raises(ConfigurationError) as caught:
        await store.load("k")
    message = str(caught.value)
    assert str(path) in message
    assert SECRET_CONTENT not in message
    # No chained exception (a JSON or Unicode error) that a traceback would print with the content.
    error = caught.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    assert path.read_bytes() == content  # never overwritten


@pytest.mark.parametrize(
    "devices",
    [
        {POOL: [SECRET_CONTENT]},
        {POOL: {"alice": {"device_key": "k", "device_group_key": "g"}}},
        {POOL: {"alice": SECRET_CONTENT}},
    ],
)
async def test_corrupt_device_file(tmp_path: Path, devices: dict[str, Any]) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"version": 1, "devices": devices}))
    store = FileDeviceStore(path)
    with pytest.raises(ConfigurationError) as caught:
        await store.get(POOL, "alice")
    assert str(path) in str(caught.value)
    assert SECRET_CONTENT not in str(caught.value)
    if isinstance(devices[POOL], list):
        with pytest.raises(ConfigurationError):
            await store.put(POOL, "alice", RECORD)
        assert json.loads(path.read_text()) == {"version": 1, "devices": devices}
