"""Headless Chromium for the passkey tests, driven through chromedriver with a WebDriver virtual
authenticator (CTAP2, internal transport, resident keys, user verification).

``scripts/install-test-services`` (part of the README's test command) installs Debian's ``chromium`` and
``chromium-driver``. Without them (or without ``selenium``, in the test extra) a test that needs the browser
is skipped with a hint, and under ``CI=true`` it fails: a skipped test proves nothing.

Each test gets a fresh browser (a new profile in a temporary folder) started with the flags below: no
sandbox (the tests may run as root), no GPU, and none of Chromium's background traffic to Google (the
network of a test machine may be closed). Pages are reached on ``localhost`` or ``127.0.0.1`` only.

Selenium's calls block, so :class:`Browser`'s methods run them in a worker thread: the test's event loop
stays free to serve the pages and the local user pool the browser talks to.

The pages share one small contract with :meth:`Browser.outcome`: an element ``id="status"`` whose
``data-state`` turns ``done`` or ``error`` when an action ends, its text saying what happened.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver
    from selenium.webdriver.common.virtual_authenticator import Credential

__all__ = ["Browser", "browser_fixture", "start_browser", "FLAGS", "load_fastapi_example", "uvicorn_serving"]

#: Chromium's command line besides the profile folder.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
_FINAL_STATES = ("done", "error")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _missing(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)


class Browser:
    """One headless Chromium (``driver``: Selenium's WebDriver) with async helpers for a test."""

    def __init__(self, driver: WebDriver) -> None:
        self.driver = driver

    async def open(self, url: str) -> None:
        """Load ``url`` and wait for it."""
        await asyncio.to_thread(self.driver.get, url)

    async def fill(self, selector: str, text: str) -> None:
        """Type ``text`` into the input of a CSS ``selector`` (what was there is cleared)."""
        from selenium.webdriver.common.by import By

        def fill() -> None:
            element = self.driver.find_element(By.CSS_SELECTOR, selector)
            element.clear()
            element.send_keys(text)

        await asyncio.to_thread(fill)

    async def click(self, selector: str) -> None:
        """Click the element of a CSS ``selector`` (a real click: a user gesture), after clearing the
        page's status."""
        from selenium.webdriver.common.by import By

        def click() -> None:
            self.driver.execute_script(
                "const s = document.getElementById('status'); if (s) { s.dataset.state = ''; s.textContent = ''; }"
            )
            self.driver.find_element(By.CSS_SELECTOR, selector).click()

        await asyncio.to_thread(click)

    async def outcome(self, timeout: float = 10) -> tuple[str, str]:
        """Wait until the page's status is ``done`` or ``error``: (state, text)."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        def wait() -> tuple[str, str]:
            def ended(driver: Any) -> tuple[str, str] | None:
                status = driver.find_element(By.ID, "status")
                state = status.get_attribute("data-state")
                return (state, status.text) if state in _FINAL_STATES else None

            waiting = WebDriverWait(self.driver, timeout, poll_frequency=0.05)
            result = waiting.until(ended)
            assert result is not None  # until() returns only a true value
            return result

        return await asyncio.to_thread(wait)

    async def text_of(self, selector: str, timeout: float = 10) -> str:
        """Wait until the element of a CSS ``selector`` is on the page (after a navigation, say): its text."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        def wait() -> str:
            found = WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(
                expected_conditions.presence_of_element_located((By.CSS_SELECTOR, selector))
            )
            return str(found.text)

        return await asyncio.to_thread(wait)

    async def cookies(self) -> list[dict[str, Any]]:
        """The cookies of the page's site, as WebDriver reports them (name, value, httpOnly, ...)."""
        return await asyncio.to_thread(lambda: list(self.driver.get_cookies()))

    async def url(self) -> str:
        """The address of the page the browser shows."""
        return await asyncio.to_thread(lambda: str(self.driver.current_url))

    async def script(self, source: str, *args: Any) -> Any:
        """Run ``source`` (a function body; ``arguments`` holds ``args``) in the page; its return value."""
        return await asyncio.to_thread(self.driver.execute_script, source, *args)

    async def async_script(self, source: str, *args: Any) -> Any:
        """Run ``source`` in the page and wait for it to call its last argument (``arguments[arguments
        .length - 1]``) with the result (at most the script timeout, 10 s)."""
        return await asyncio.to_thread(self.driver.execute_async_script, source, *args)

    def add_passkey_authenticator(self, *, user_verified: bool = True) -> str:
        """Attach a virtual platform authenticator (CTAP2, internal, resident keys, user verification);
        returns its id."""
        from selenium.webdriver.common.virtual_authenticator import VirtualAuthenticatorOptions

        options = VirtualAuthenticatorOptions(
            protocol=VirtualAuthenticatorOptions.Protocol.CTAP2,
            transport=VirtualAuthenticatorOptions.Transport.INTERNAL,
            has_resident_key=True,
            has_user_verification=True,
            is_user_verified=user_verified,
        )
        self.driver.add_virtual_authenticator(options)
        authenticator_id = self.driver.virtual_authenticator_id
        assert authenticator_id is not None
        return authenticator_id

    def passkeys(self) -> list[Credential]:
        """The credentials the virtual authenticator holds."""
        return list(self.driver.get_credentials())


def start_browser(profile: str) -> Browser:
    """Start Chromium and chromedriver with a profile folder; skip (fail under CI=true) when missing."""
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        _missing(
            "chromium or chromedriver is not installed: run scripts/install-test-services"
            " (the README's test command does)"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed (pip install -e '.[test]')")
    assert chromium is not None and chromedriver is not None
    options = webdriver.ChromeOptions()
    options.binary_location = chromium  # with the driver's path below, Selenium Manager downloads nothing
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    service = Service(chromedriver, log_output=subprocess.DEVNULL)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(10)
    driver.set_script_timeout(10)
    return Browser(driver)


@pytest.fixture(name="browser")
def browser_fixture() -> Iterator[Browser]:
    """A fresh headless Chromium for one test, quit after it."""
    with tempfile.TemporaryDirectory(prefix="aiocognito-chromium-", ignore_cleanup_errors=True) as profile:
        started = start_browser(profile)
        try:
            yield started
        finally:
            started.driver.quit()


def load_fastapi_example() -> ModuleType:
    """Import ``examples/fastapi_backend.py`` (not a package) under a private module name."""
    name = "_aiocognito_example_fastapi_backend"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / "fastapi_backend.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@asynccontextmanager
async def uvicorn_serving(
    app: Any, sock: socket.socket | None = None, *, access_log: bool = False
) -> AsyncIterator[int]:
    """Serve an ASGI app with uvicorn (its lifespan included) in a thread of its own on 127.0.0.1 (on
    ``sock``, bound already when the app must know its own URL); yields the port. The test's event loop
    stays free for the local pool the app calls."""
    if importlib.util.find_spec("uvicorn") is None:
        _missing("uvicorn is not installed: pip install -e '.[test]'")
    import uvicorn

    if sock is None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_level="info" if access_log else "warning",
        access_log=access_log,
        log_config=None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started or not thread.is_alive():
                break
            await asyncio.sleep(0.025)
        assert server.started, "uvicorn did not start"
        yield int(sock.getsockname()[1])
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)
        sock.close()
