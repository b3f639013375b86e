"""``LoginPages``: the local pool's managed login pages driven as a browser would, for tests without one.

A test of an app's "Sign in with Cognito" needs what a browser does between the app's redirect and its
callback: open the authorize URL, type the username and password into the sign-in page, the code into the
MFA page (or a new password), and come back with ``?code=...&state=...``. :class:`LoginPages` does that with
aiohttp (a cookie jar, so the pool's sign-in session carries over as in a browser) and the standard
library's HTML parser; it follows redirects within the pool's domain and stops at the first one that leaves
it (the app's callback, a logout URI), which it returns without requesting it.

A page that is not what the next step needs (a refusal shown on the page, an error page) raises
:class:`LoginPageError` with the page's own message, never with what was typed. Nothing here shows a
query string, a form value or a cookie in a repr or a message: the callback URL carries the code and
the state, the challenge pages the ``login_session`` id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import aiohttp

__all__ = ["LoginPage", "LoginPageError", "LoginPages"]

_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 10


def _where(url: str) -> str:
    """``url`` without its query and fragment (what a repr or a message may show)."""
    return url.split("#", 1)[0].split("?", 1)[0]


@dataclass
class LoginPage:
    """A page of the pool's: its address, its first form (``action`` and the fields' current values), the ids
    of its elements, the error message it shows (``loginErrorMessage``, or ``errorCode`` on the error
    page; the ``error`` of a JSON answer such as an unknown domain's 404), its visible text, the text of
    the MFA set-up page's ``totpSecret`` and ``totpUri`` elements (``shown``) and the ``href`` of each
    link with an id (``links``: the identity provider buttons)."""

    url: str
    status: int
    action: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)
    error: str = ""
    text: str = ""
    shown: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        # the query is the authorize request (state, nonce); the fields hold login_session
        return (
            f"LoginPage(url={_where(self.url)!r}, status={self.status}, fields={sorted(self.fields)}, "
            f"error={self.error!r})"
        )


class LoginPageError(AssertionError):
    """The pages did not go where a sign-in goes: the message is the page's own error message, or says
    what was found instead; :attr:`page` is that page (None when there was none)."""

    def __init__(self, message: str, page: LoginPage | None = None) -> None:
        super().__init__(message)
        self.page = page


_SHOWN = ("totpSecret", "totpUri")


class _Reader(HTMLParser):
    def __init__(self, page: LoginPage) -> None:
        super().__init__()
        self.page = page
        self._forms = 0
        self._in_error = False
        self._shown: str | None = None
        self._in_body = False
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.page.ids.add(a["id"])
            if tag == "a" and a.get("href"):
                self.page.links[a["id"]] = a["href"]
        self._shown = a.get("id") if a.get("id") in _SHOWN else None
        if tag == "body":
            self._in_body = True
        elif tag == "form":
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
        if self._shown:
            self.page.shown[self._shown] = self.page.shown.get(self._shown, "") + data
        if self._in_body:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_error = False
        self._shown = None

    def close(self) -> None:
        super().close()
        self.page.error = " ".join(self.page.error.split())
        self.page.text = " ".join(" ".join(self._text).split())


def read_page(url: str, status: int, html: str) -> LoginPage:
    """The form, ids, error message and text of a page (pure)."""
    page = LoginPage(url, status)
    reader = _Reader(page)
    reader.feed(html)
    reader.close()
    return page


def read_json_answer(url: str, status: int, body: str) -> LoginPage:
    """A JSON answer where a page was expected (an unknown domain's 404): its ``error`` as the page's."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    return LoginPage(url, status, error=error if isinstance(error, str) else "")


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

    After each step, :attr:`page` is the last page shown since the last :meth:`open` (None when that went
    straight out of the domain, e.g. a signed-in browser sent back to the app) and :attr:`left` the URL
    that took the browser out of the domain (None while it is on it).
    """

    def __init__(self, http: aiohttp.ClientSession | None = None, *, timeout: float = 10.0) -> None:
        self._own = http is None
        self._http = http
        self.timeout = timeout
        self.page: LoginPage | None = None
        self.left: str | None = None
        self._base = ""

    def __repr__(self) -> str:
        where = self.left or (self.page.url if self.page else None)
        return f"<LoginPages at {_where(where) if where else None!r}>"

    @property
    def http(self) -> aiohttp.ClientSession:
        """The session the pages are requested with (its cookie jar is the browser's)."""
        if self._http is None:
            self._http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        return self._http

    async def aclose(self) -> None:
        """Close the session if it is this object's own (idempotent)."""
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
        self.page = None
        return await self._follow("GET", url, None)

    async def submit(self, **values: str) -> LoginPage | str:
        """Post the page's form with ``values`` over its own fields: the next page, or the URL that leaves
        the domain (the app's callback)."""
        page = self.page
        if page is None or page.action is None:
            raise LoginPageError(f"no form to submit on {_where(page.url) if page else 'no page'}", page)
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
        totp_setup: Callable[[str], str] | None = None,
    ) -> str:
        """Sign in from ``authorize_url`` to the app's callback; returns the callback URL with its ``code``
        and ``state`` (or the ``error`` the authorize endpoint sent back). A browser already signed in
        (the pool's session cookie) goes straight back, without the form.

        Args:
            code: the MFA code (SMS, email or TOTP), or a function called when the code page is shown
                (``lambda: local.last_code("alice")``: the code is sent only then).
            mfa_type: the factor to choose when the pool asks (``SOFTWARE_TOKEN_MFA``, ``SMS_MFA``, ...).
            new_password, attributes: the answers to NEW_PASSWORD_REQUIRED (attributes by name, without
                ``userAttributes.``).
            totp_setup: when the pool makes the user set up an authenticator app (MFA_SETUP): given the
                secret the page shows, returns a code (``lambda secret: pyotp.TOTP(secret).now()``).

        Raises:
            LoginPageError: a page the answers do not get past (a wrong password: the page's message).
        """
        step = await self.open(authorize_url)
        if isinstance(step, LoginPage) and "signInFormUsername" in step.ids:
            step = await self.submit(username=username, password=password)
        for _ in range(5):  # at most: a new password, a factor, a code, then the callback
            if isinstance(step, str):
                return step
            if step.error:
                raise LoginPageError(step.error, step)
            if "totpSecret" in step.ids and totp_setup is not None:
                step = await self.submit(code=totp_setup(step.shown.get("totpSecret", "").strip()))
            elif "mfa_type" in step.fields and mfa_type is not None:
                step = await self.submit(mfa_type=mfa_type)
            elif "code" in step.ids and code is not None:
                step = await self.submit(code=code() if callable(code) else code)
            elif "new_password" in step.ids and new_password is not None:
                answers = {f"userAttributes.{k}": v for k, v in (attributes or {}).items()}
                step = await self.submit(new_password=new_password, confirm_password=new_password, **answers)
            else:
                raise LoginPageError(f"nothing to answer the page {_where(step.url)} with", step)
        raise LoginPageError("the sign-in did not end", self.page)

    async def federated_sign_in(
        self,
        authorize_url: str,
        subject: str,
        attributes: Mapping[str, str] | None = None,
        *,
        provider: str | None = None,
    ) -> str:
        """Sign in through an identity provider's stand-in page; returns the callback URL (with ``code`` and
        ``state``, or the ``error`` the pool sent back).

        ``authorize_url`` names the provider (``identity_provider`` or ``idp_identifier``), or ``provider``
        is the button to follow on the sign-in page. ``subject`` is what the provider identifies the user
        by (an OIDC or social ``sub``, a SAML NameID) and ``attributes`` its claims, by the provider's names.

        Raises:
            LoginPageError: a page refused (its message), or no stand-in page was reached.
        """
        step = await self.open(authorize_url)
        if provider is not None and isinstance(step, LoginPage):
            link = step.links.get(f"idpButton_{provider}")
            if link is None:
                raise LoginPageError(f"no button for {provider} on {_where(step.url)}", step)
            step = await self._follow("GET", urljoin(step.url, link), None)
        if isinstance(step, LoginPage) and "idpSubject" in step.ids and not step.error:
            step = await self.submit(subject=subject, attributes=json.dumps(dict(attributes or {})))
        if isinstance(step, LoginPage) and "samlResponseForm" in step.ids and not step.error:
            step = await self.submit()  # the SAML response, posted as a browser's script would
        if isinstance(step, str):
            return step
        raise LoginPageError(step.error or f"not a provider's page: {_where(step.url)}", step)

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
                body = await response.text()
                read = read_json_answer if response.content_type == "application/json" else read_page
                self.page = read(str(response.url), response.status, body)
            return self.page
        raise LoginPageError(f"more than {_MAX_REDIRECTS} redirects from {_where(url)}", self.page)
