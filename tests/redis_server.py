"""A real redis-server for the tests: started on a free port of 127.0.0.1 in a temporary folder.

``scripts/install-test-services`` (part of the README's test command) installs Debian's redis-server when it
is missing. Without it a test that needs Redis is skipped with a hint, and under ``CI=true`` it fails: a
skipped test proves nothing. :class:`RedisServer` can be stopped and started again on the same port (a
test of what happens when Redis goes away).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

__all__ = ["RedisServer", "redis_server", "redis_url"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process (no persistence), stoppable and restartable on its port."""

    def __init__(self, executable: str, folder: Path, *, extra_args: Sequence[str] = ()) -> None:
        self.executable = executable
        self.folder = folder
        #: More options, after the defaults (the last value of an option wins): ``("--appendonly", "yes")``.
        self.extra_args = list(extra_args)
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.executable,
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--dir", str(self.folder),
                "--save", "",
                "--appendonly", "no",
                "--protected-mode", "yes",
                *self.extra_args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop(kill=True)
        self.start()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A running redis-server for the whole test session (flush what you use, or use your own keys)."""
    executable = shutil.which("redis-server")
    if executable is None:
        why = "redis-server is not installed: run scripts/install-test-services (the README's test command does)"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    with tempfile.TemporaryDirectory(prefix="aiocognito-redis-") as folder:
        server = RedisServer(executable, Path(folder))
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of the session's redis-server, flushed before the test."""
    with socket.create_connection(("127.0.0.1", redis_server.port), timeout=2) as sock:
        sock.sendall(b"FLUSHALL\r\n")
        sock.recv(16)
    return redis_server.url
