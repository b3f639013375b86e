"""``LoginPages``: the local pool's managed login pages driven as a browser would, for tests without one.

A test of an app's "Sign in with Cognito" needs what a browser does between the app's redirect and its
callback: open the authorize URL, type the username and password into the sign-in page, the code into the
MFA page (or a new password), and come back with ``?code=...&state=...``. :class:`LoginPages` does that with
aiohttp (a cookie jar, so the pool's sign-in session carries over as in a browser) and the standard
library's HTML parser; it follows redirects within the pool's domain and stops at the first one that leaves
it (the app's callback, a logout URI), which it returns without requesting it.

A page that is not what the next step needs (a refusal shown on the page, an error page) raises
:class:`LoginPageError` with the page's own message, never with what was typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import aiohttp

__all__ = ["LoginPage", "LoginPageError", "LoginPages"]

_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 10


class LoginPageError(AssertionError):
    """The pages did not go where a sign-in goes (the message is the page's, or says what was found)."""


@dataclass
class LoginPage:
    """A page of the pool's: its address, its first form (``action`` and the fields' current values), the ids
    of its elements and the error message it shows (``loginErrorMessage`` or ``errorCode``), if any."""

    url: str
    status: int
    action: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)
    error: str = ""


class _Reader(HTMLParser):
    def __init__(self, page: LoginPage) -> None:
        super().__init__()
        self.page = page
        self._forms = 0
        self._in_error = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.page.ids.add(a["id"])
        if tag == "form":
            self._forms += 1
            if self._forms == 1:
                self.page.action = a.get("action", "")
        elif tag == "input" and self._forms == 1 and a.get("name"):
            if a.get("type") not in ("radio", "checkbox") or "checked" in a:
                self.page.fields[a["name"]] = a.get("value", "")
        self._in_error = a.get("id") in ("loginErrorMessage", "errorCode")

    def handle_data(self, data: str) -> None:
        if self._in_error:
            self.page.error += data

    def handle_endtag(self, tag: str) -> None:
        self._in_error = False


def read_page(url: str, status: int, html: str) -> LoginPage:
    """The form, ids and error message of a page (pure)."""
    page = LoginPage(url, status)
    _Reader(page).feed(html)
    page.error = " ".join(page.error.split())
    return page


def _domain_base(url: str) -> str:
    """The part of an address that every page of its domain shares: ``scheme://host/managed-login/<domain>``
    on a local pool, ``scheme://host`` on Cognito's own domains."""
    parts = urlsplit(url)
    path = parts.path.split("/")
    prefix = "/".join(path[:3]) if len(path) > 3 and path[1] == "managed-login" else ""
    return f"{parts.scheme}://{parts.netloc}{prefix}"


class LoginPages:
    """A browser for the local pool's managed login, for tests (see the module docstring).

    Args:
        http: a session to use (kept open); default: one of its own with a cookie jar that accepts the
            cookies of an IP address (``http://127.0.0.1``), closed by :meth:`aclose`.
        timeout: seconds for each request.

    After each step, :attr:`page` is the page shown and :attr:`left` the URL that took the browser out of
    the domain (None while it is on it).
    """

    def __init__(self, http: aiohttp.ClientSession | None = None, *, timeout: float = 10.0) -> None:
        self._own = http is None
        self._http = http
        self.timeout = timeout
        self.page: LoginPage | None = None
        self.left: str | None = None
        self._base = ""

    def __repr__(self) -> str:
        where = self.left or (self.page.url.split("?", 1)[0] if self.page else None)
        return f"<LoginPages at {where!r}>"

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        return self._http

    async def aclose(self) -> None:
        if self._own and self._http is not None:
            await self._http.close()
        self._http = None

    async def __aenter__(self) -> LoginPages:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # ----- steps ------------------------------------------------------------------------------------------
    async def open(self, url: str) -> LoginPage | str:
        """GET ``url`` (an authorize or logout URL of the domain) and follow the domain's redirects: the page
        shown, or the URL that leaves the domain."""
        self._base = _domain_base(url)
        return await self._follow("GET", url, None)

    async def submit(self, **values: str) -> LoginPage | str:
        """Post the page's form with ``values`` over its own fields: the next page, or the URL that leaves
        the domain (the app's callback)."""
        page = self.page
        if page is None or page.action is None:
            raise LoginPageError(f"no form to submit on {page.url if page else 'no page'}")
        return await self._follow("POST", urljoin(page.url, page.action), {**page.fields, **values})

    async def sign_in(
        self,
        authorize_url: str,
        username: str,
        password: str,
        *,
        code: str | Callable[[], str] | None = None,
        mfa_type: str | None = None,
        new_password: str | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> str:
        """Sign in from ``authorize_url`` to the app's callback; returns the callback URL with its ``code``
        and ``state``.

        Args:
            code: the MFA code (SMS, email or TOTP), or a function called when the code page is shown
                (``lambda: local.last_code("alice")``: the code is sent only then).
            mfa_type: the factor to choose when the pool asks (``SOFTWARE_TOKEN_MFA``, ``SMS_MFA``, ...).
            new_password, attributes: the answers to NEW_PASSWORD_REQUIRED (attributes by name, without
                ``userAttributes.``).

        Raises:
            LoginPageError: a page the answers do not get past (a wrong password: the page's message).
        """
        step = await self.open(authorize_url)
        if isinstance(step, LoginPage) and "signInFormUsername" in step.ids:
            step = await self.submit(username=username, password=password)
        for _ in range(5):  # at most: choose a factor, a code, a new password, then the callback
            if isinstance(step, str):
                return step
            if step.error:
                raise LoginPageError(f"the page says: {step.error}")
            if "mfa_type" in step.fields and mfa_type is not None:
                step = await self.submit(mfa_type=mfa_type)
            elif "code" in step.ids and code is not None:
                step = await self.submit(code=code() if callable(code) else code)
            elif "new_password" in step.ids and new_password is not None:
                answers = {f"userAttributes.{k}": v for k, v in (attributes or {}).items()}
                step = await self.submit(new_password=new_password, confirm_password=new_password, **answers)
            else:
                raise LoginPageError(f"nothing to answer the page {step.url.split('?', 1)[0]} with")
        raise LoginPageError("the sign-in did not end")

    # ----- transport --------------------------------------------------------------------------------------
    async def _follow(self, method: str, url: str, data: dict[str, str] | None) -> LoginPage | str:
        self.left = None
        limit = aiohttp.ClientTimeout(total=self.timeout)
        for _ in range(_MAX_REDIRECTS):
            async with self.http.request(
                method, url, data=data, allow_redirects=False, timeout=limit
            ) as response:
                if response.status in _REDIRECTS:
                    target = urljoin(url, response.headers.get("Location", ""))
                    if not target.startswith(self._base + "/"):
                        self.left = target
                        return target
                    method, url, data = "GET", target, None
                    continue
                html = await response.text()
            self.page = read_page(str(response.url), response.status, html)
            return self.page
        raise LoginPageError(f"more than {_MAX_REDIRECTS} redirects from {url.split('?', 1)[0]}")
