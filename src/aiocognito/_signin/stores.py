"""Where remembered devices and tokens live.

Two small protocols, :class:`DeviceStore` (one :class:`DeviceRecord` per ``(user_pool_id, username)``)
and :class:`TokenStore` (one JSON-able dict per key the session chooses), with in-memory defaults and
JSON-file implementations. Both kinds of record hold secrets (device passwords, refresh tokens).

Backing them with Redis or a database means writing three coroutines per protocol, for example:

* Redis: ``HSET aiocognito:device:{pool}:{username}`` with :meth:`DeviceRecord.to_dict`, ``HGETALL`` +
  :meth:`DeviceRecord.from_dict`, ``DEL``; tokens as ``SET aiocognito:token:{key} json.dumps(data)``
  (with ``EX`` set to the refresh token's lifetime), ``GET`` + ``json.loads``, ``DEL``.
* SQL: ``devices(user_pool_id, username, device_key, device_group_key, device_password,
  PRIMARY KEY(user_pool_id, username))`` written with an upsert, and ``tokens(key PRIMARY KEY, data JSON)``.

Restrict who can read them (and encrypt at rest where you can): whoever reads a record can sign in as
that device or refresh that session.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import stat
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .._errors import ConfigurationError

__all__ = [
    "DeviceRecord",
    "DeviceStore",
    "TokenStore",
    "MemoryDeviceStore",
    "MemoryTokenStore",
    "FileDeviceStore",
    "FileTokenStore",
]

_FILE_MODE = 0o600
_DIR_MODE = 0o700
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class DeviceRecord:
    """A remembered device: its keys and the random password its SRP verifier was made from."""

    device_key: str
    device_group_key: str
    device_password: str = field(repr=False)

    def to_dict(self) -> dict[str, str]:
        """The record as a JSON-able dict (it contains the device password)."""
        return {
            "device_key": self.device_key,
            "device_group_key": self.device_group_key,
            "device_password": self.device_password,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeviceRecord:
        """Inverse of :meth:`to_dict`.

        Raises:
            ValueError: a field is missing or not a non-empty string (the message names the field only).
        """
        values: dict[str, str] = {}
        for name in ("device_key", "device_group_key", "device_password"):
            value = data.get(name) if isinstance(data, Mapping) else None
            if not isinstance(value, str) or not value:
                raise ValueError(f"device record field {name!r} is missing or not a non-empty string")
            values[name] = value
        return cls(**values)


@runtime_checkable
class DeviceStore(Protocol):
    """Remembered devices, one per ``(user_pool_id, username)``; ``username`` is the real username."""

    async def get(self, user_pool_id: str, username: str) -> DeviceRecord | None:
        """The stored record, or None."""
        ...

    async def put(self, user_pool_id: str, username: str, record: DeviceRecord) -> None:
        """Store ``record``, replacing any earlier one for the same user."""
        ...

    async def delete(self, user_pool_id: str, username: str) -> None:
        """Forget the user's device; no error when there is none."""
        ...


@runtime_checkable
class TokenStore(Protocol):
    """A JSON-able dict per key (the session decides the key and the dict's shape)."""

    async def load(self, key: str) -> dict[str, Any] | None:
        """The stored dict, or None."""
        ...

    async def save(self, key: str, data: dict[str, Any]) -> None:
        """Store ``data`` under ``key``, replacing what was there."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; no error when it is absent."""
        ...


def _json_copy(data: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``data`` through JSON, so every store accepts exactly the same values."""
    if not isinstance(data, dict):
        raise TypeError("token data must be a dict")
    try:
        copied = json.loads(json.dumps(data, allow_nan=False))
    except (TypeError, ValueError):
        raise TypeError("token data is not JSON-serializable") from None
    assert isinstance(copied, dict)
    return copied


class MemoryDeviceStore:
    """Devices in a dict: the default, lost when the process ends."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], DeviceRecord] = {}

    async def get(self, user_pool_id: str, username: str) -> DeviceRecord | None:
        return self._records.get((user_pool_id, username))

    async def put(self, user_pool_id: str, username: str, record: DeviceRecord) -> None:
        if not isinstance(record, DeviceRecord):
            raise TypeError("record must be a DeviceRecord")
        self._records[(user_pool_id, username)] = record

    async def delete(self, user_pool_id: str, username: str) -> None:
        self._records.pop((user_pool_id, username), None)

    def __repr__(self) -> str:
        return f"MemoryDeviceStore(<{len(self._records)} devices>)"


class MemoryTokenStore:
    """Token dicts in memory (copies in and out, so callers cannot change what is stored)."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, Any]] = {}

    async def load(self, key: str) -> dict[str, Any] | None:
        data = self._data.get(key)
        return None if data is None else _json_copy(data)

    async def save(self, key: str, data: dict[str, Any]) -> None:
        self._data[key] = _json_copy(data)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def __repr__(self) -> str:
        return f"MemoryTokenStore(<{len(self._data)} keys>)"


# --------------------------------------------------------------------------------------------------
# JSON files
# --------------------------------------------------------------------------------------------------

# One threading lock per file path for the whole process: two store objects (or two event loops) on the
# same file then still run their read-modify-write cycles one after the other.
_PATH_LOCKS: dict[str, threading.Lock] = {}
_PATH_LOCKS_GUARD = threading.Lock()


def _path_lock(path: Path) -> threading.Lock:
    key = os.path.realpath(path)
    with _PATH_LOCKS_GUARD:
        return _PATH_LOCKS.setdefault(key, threading.Lock())


def _restrict_mode(fd: int, path: Path) -> None:
    """Make the file at ``fd`` mode 0600, whatever the umask or its earlier mode."""
    if stat.S_IMODE(os.fstat(fd).st_mode) == _FILE_MODE:
        return
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _FILE_MODE)
        else:  # pragma: no cover - Windows before Python 3.13
            os.chmod(path, _FILE_MODE)
    except OSError as exc:
        raise ConfigurationError(f"cannot set mode 0600 on {path}: {exc.strerror}") from None


class _JsonFile:
    """One JSON document ``{"version": 1, section: {...}}`` on disk.

    Mode 0600, replaced atomically (temp file in the same directory, fsync, ``os.replace``); file work runs
    in a worker thread so an fsync never stalls the event loop. Writers in one process are serialized (an
    asyncio lock per store, a thread lock per path); separate processes writing one file may lose updates.
    """

    def __init__(self, path: str | os.PathLike[str], section: str) -> None:
        self.path = Path(path).expanduser()
        self._section = section
        self._lock = asyncio.Lock()
        self._thread_lock = _path_lock(self.path)

    def corrupt_error(self, what: str) -> ConfigurationError:
        return ConfigurationError(
            f"{self.path} is not a valid aiocognito {self._section} file ({what}); fix or remove it"
        )

    def _read_sync(self) -> dict[str, Any]:
        """The section dict (empty when the file does not exist)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigurationError(f"cannot open {self.path}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as file:
            _restrict_mode(file.fileno(), self.path)
            raw = file.read()
        try:
            document = json.loads(raw)
        except ValueError as exc:  # also UnicodeDecodeError
            where = (
                f"line {exc.lineno} column {exc.colno}"
                if isinstance(exc, json.JSONDecodeError)
                else "bad UTF-8"
            )
            raise self.corrupt_error(f"not JSON: {where}") from None
        if not isinstance(document, dict) or document.get("version") != _FORMAT_VERSION:
            raise self.corrupt_error(f"expected an object with version {_FORMAT_VERSION}")
        content = document.get(self._section, {})
        if not isinstance(content, dict):
            raise self.corrupt_error(f"{self._section!r} is not an object")
        return content

    def _write_sync(self, content: dict[str, Any]) -> None:
        """Replace the file with ``content``; on any failure the old file stays as it was."""
        data = json.dumps({"version": _FORMAT_VERSION, self._section: content}, indent=1, sort_keys=True)
        directory = self.path.parent
        directory.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        temp = directory / f".{self.path.name}.{secrets.token_hex(6)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(temp, flags, _FILE_MODE)
        try:
            try:
                _restrict_mode(fd, temp)  # the umask may have removed bits we need
                view = memoryview(data.encode("utf-8"))
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, self.path)
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise
        if os.name == "posix":  # make the rename itself durable
            try:
                dir_fd = os.open(directory, os.O_RDONLY)
            except OSError:
                return
            try:
                os.fsync(dir_fd)
            except OSError:
                pass
            finally:
                os.close(dir_fd)

    def _update_sync(self, change: Callable[[dict[str, Any]], bool]) -> None:
        with self._thread_lock:
            content = self._read_sync()
            if change(content):
                self._write_sync(content)

    async def read(self) -> dict[str, Any]:
        """The section as stored now."""
        async with self._lock:
            return await asyncio.to_thread(self._locked_read)

    def _locked_read(self) -> dict[str, Any]:
        with self._thread_lock:
            return self._read_sync()

    async def update(self, change: Callable[[dict[str, Any]], bool]) -> None:
        """Read, apply ``change`` (which returns whether it changed anything) and write, atomically."""
        async with self._lock:
            await asyncio.to_thread(self._update_sync, change)


class FileDeviceStore:
    """Remembered devices in one JSON file (mode 0600, atomic replacement).

    Raises (from every method):
        ConfigurationError: the file is corrupt or unreadable, or its mode cannot be set to 0600.
        OSError: a write failed (the previous file is left intact).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._file = _JsonFile(path, "devices")

    @property
    def path(self) -> Path:
        return self._file.path

    def _record(self, content: dict[str, Any], user_pool_id: str, username: str) -> DeviceRecord | None:
        pool = content.get(user_pool_id)
        if pool is None:
            return None
        if not isinstance(pool, dict):
            raise self._file.corrupt_error("a pool entry is not an object")
        data = pool.get(username)
        if data is None:
            return None
        try:
            return DeviceRecord.from_dict(data)
        except ValueError:
            raise self._file.corrupt_error("a device record is malformed") from None

    async def get(self, user_pool_id: str, username: str) -> DeviceRecord | None:
        return self._record(await self._file.read(), user_pool_id, username)

    async def put(self, user_pool_id: str, username: str, record: DeviceRecord) -> None:
        if not isinstance(record, DeviceRecord):
            raise TypeError("record must be a DeviceRecord")

        def change(content: dict[str, Any]) -> bool:
            pool = content.setdefault(user_pool_id, {})
            if not isinstance(pool, dict):
                raise self._file.corrupt_error("a pool entry is not an object")
            pool[username] = record.to_dict()
            return True

        await self._file.update(change)

    async def delete(self, user_pool_id: str, username: str) -> None:
        def change(content: dict[str, Any]) -> bool:
            pool = content.get(user_pool_id)
            if not isinstance(pool, dict) or username not in pool:
                return False
            del pool[username]
            if not pool:
                del content[user_pool_id]
            return True

        await self._file.update(change)

    def __repr__(self) -> str:
        return f"FileDeviceStore({str(self.path)!r})"


class FileTokenStore:
    """Token dicts in one JSON file (mode 0600, atomic replacement).

    Raises (from every method):
        ConfigurationError: the file is corrupt or unreadable, or its mode cannot be set to 0600.
        TypeError: ``save`` got data that is not JSON-serializable (nothing is written).
        OSError: a write failed (the previous file is left intact).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._file = _JsonFile(path, "tokens")

    @property
    def path(self) -> Path:
        return self._file.path

    async def load(self, key: str) -> dict[str, Any] | None:
        data = (await self._file.read()).get(key)
        if data is None:
            return None
        if not isinstance(data, dict):
            raise self._file.corrupt_error("a token entry is not an object")
        return data

    async def save(self, key: str, data: dict[str, Any]) -> None:
        copied = _json_copy(data)

        def change(content: dict[str, Any]) -> bool:
            content[key] = copied
            return True

        await self._file.update(change)

    async def delete(self, key: str) -> None:
        def change(content: dict[str, Any]) -> bool:
            return content.pop(key, None) is not None

        await self._file.update(change)

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"
