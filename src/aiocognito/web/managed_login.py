"""Managed login ("Sign in with Cognito") for a web backend, framework-neutral: the settings, the browser
sessions behind a cookie, and the three steps as plain coroutines that say what to answer.

The journey, and what each step returns (a :class:`Redirect`: where to send the browser, which cookies to
set and which to clear; the adapters turn it into a 302):

* :func:`start` (``GET /login``): a new :class:`~aiocognito.oauth.PendingLogin` (PKCE S256, state, nonce)
  is saved in the backend's challenge store (single use, its TTL) and the browser goes to the user pool
  domain's ``/oauth2/authorize``, carrying the store's id in a short-lived *login cookie* scoped to the
  callback path.
* :func:`finish` (``GET <callback_path>``): the login cookie's pending login is taken (once) and the code
  exchanged and verified (state, code_verifier, the ID token's signature, audience and nonce). The tokens
  stay on the server, in the backend's browser-session :class:`~aiocognito.TokenStore`; the browser gets a
  random *session cookie* (HttpOnly, SameSite=Lax, Secure on https) and goes to ``after_sign_in``. Any
  failure (a refusal on Cognito's pages, a forged or mixed-up state, a stale or reused login cookie,
  tokens that do not verify, Cognito unreachable) goes to ``after_sign_in?error=<code>`` instead, with one
  WARNING log line naming the error's type.
* :func:`sign_out` (``GET /logout``): the session is dropped, its refresh token revoked (a failure is
  logged and swallowed: the user is signed out here either way), and the browser goes through the
  domain's ``/logout`` (which ends Cognito's own sign-in session) to ``after_sign_out``.

Between them, :func:`signed_in` gives a request's :class:`~aiocognito.TokenSet` (refreshed when less than
a minute is left) and :func:`browser_claims` its verified access-token claims; both give None when the
browser is signed out, the session is older than ``session_ttl``, or its refresh token was revoked.

The store's keys are ``browser-session:<sha256 of the cookie>``: what the browser presents is never a key
name (Redis ``KEYS`` shows nothing usable). The default store is a :class:`~aiocognito.MemoryTokenStore`
(one process; entries of abandoned sessions stay until it ends); with several workers give
``browser_sessions=RedisTokenStore(redis, ttl=session_ttl, cipher=...)``. The login cookie's pending
login lives in the challenge store, so its TTL (``challenge_ttl``, 180 s by default, at most 900) is the
time a user has on Cognito's pages. Logs name steps, outcomes and error types; never a cookie, code,
state, verifier or token.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urlencode, urlsplit

from .._errors import CognitoError, ConfigurationError, InvalidToken
from .._signin.stores import TokenStore
from .._tokens.token_set import TokenSet
from .._tokens.verifier import TokenVerifier
from ..oauth._errors import OAuthError, PendingLoginError
from ..oauth._login import ManagedLogin
from ..oauth._pkce import PendingLogin, check_domain_url
from .bearer import CognitoClaims
from .challenges import ChallengeStore

__all__ = [
    "LOGIN_PATH",
    "LOGOUT_PATH",
    "Cookie",
    "ManagedLoginBackend",
    "ManagedLoginSettings",
    "Redirect",
    "browser_claims",
    "browser_claims_and_tokens",
    "finish",
    "session_key",
    "sign_out",
    "signed_in",
    "start",
]

logger = logging.getLogger("aiocognito.web")

#: Where the adapters mount the first and last steps (the callback is ``settings.callback_path``).
LOGIN_PATH, LOGOUT_PATH = "/login", "/logout"
#: Tokens with fewer seconds than this left are refreshed before use.
REFRESH_MARGIN = 60.0
#: The challenge store entry's ``purpose``.
_PURPOSE = "managed-login"
_COOKIE_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")  # RFC 6265's token
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")


def _check_path(value: str, what: str) -> None:
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        raise ConfigurationError(f"{what} must be a path starting with a single '/'")


@dataclass(frozen=True)
class ManagedLoginSettings:
    """Where managed login is and where the browser comes back to.

    Args:
        domain_url: the user pool domain (``https://<prefix>.auth.<region>.amazoncognito.com``, a custom
            domain, or ``LocalUserPool.domain_url(...)``).
        public_url: where browsers reach this app (``https://app.example``; a path if it is mounted below
            one). Cookies are ``Secure`` when it is https.
        callback_path: the app's callback route; :attr:`redirect_uri` (public_url + callback_path) must be
            one of the app client's CallbackURLs, exactly.
        after_sign_in: where the browser lands signed in (or with ``?error=<code>`` after a failure).
        after_sign_out: where it lands after sign-out; :attr:`logout_uri` must be one of the app client's
            sign-out URLs (LogoutURLs).
        scopes: the scopes asked for (``openid`` brings the ID token and its nonce check).
        cookie_name: the session cookie; the login cookie is ``<cookie_name>_login``.
        session_ttl: seconds a browser session lasts at most (the cookie's Max-Age and the server-side
            limit), refreshes included; keep it within the refresh token's validity.
    """

    domain_url: str
    public_url: str
    callback_path: str = "/auth/callback"
    after_sign_in: str = "/"
    after_sign_out: str = "/"
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    cookie_name: str = "aiocognito_session"
    session_ttl: float = 30 * 86400

    def __post_init__(self) -> None:
        object.__setattr__(self, "domain_url", check_domain_url(self.domain_url))
        parts = urlsplit(self.public_url) if isinstance(self.public_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError("public_url must be an http(s) URL")
        if parts.query or parts.fragment:
            raise ConfigurationError("public_url must have no query or fragment")
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        for value, what in (
            (self.callback_path, "callback_path"),
            (self.after_sign_in, "after_sign_in"),
            (self.after_sign_out, "after_sign_out"),
        ):
            _check_path(value, what)
        object.__setattr__(self, "scopes", tuple(self.scopes))
        if not self.scopes or not all(isinstance(s, str) and s and len(s.split()) == 1 for s in self.scopes):
            raise ConfigurationError("scopes must be single non-empty names")
        if not isinstance(self.cookie_name, str) or not _COOKIE_NAME.fullmatch(self.cookie_name):
            raise ConfigurationError("cookie_name must be a cookie token (letters, digits, -_.)")
        if isinstance(self.session_ttl, bool) or not self.session_ttl > 0:
            raise ConfigurationError("session_ttl must be a positive number of seconds")

    @property
    def secure(self) -> bool:
        """Whether cookies carry ``Secure`` (the app is reached over https)."""
        return self.public_url.startswith("https://")

    @property
    def redirect_uri(self) -> str:
        """Where Cognito sends the browser back with the code."""
        return self.public_url + self.callback_path

    @property
    def logout_uri(self) -> str:
        """Where the domain's ``/logout`` sends the browser afterwards."""
        return self.public_url + self.after_sign_out

    @property
    def login_cookie_name(self) -> str:
        return self.cookie_name + "_login"

    @property
    def base_path(self) -> str:
        """The path of ``public_url`` (``""`` at the root): the browser's view of where the app lives."""
        return urlsplit(self.public_url).path.rstrip("/")


class ManagedLoginBackend(Protocol):
    """What the steps use of a :class:`~aiocognito.web.backend.CognitoBackend` started with
    ``managed_login=``."""

    @property
    def store(self) -> ChallengeStore: ...

    @property
    def verifier(self) -> TokenVerifier: ...

    @property
    def managed_login(self) -> ManagedLogin: ...

    @property
    def managed_login_settings(self) -> ManagedLoginSettings | None: ...

    @property
    def browser_sessions(self) -> TokenStore: ...


@dataclass(frozen=True)
class Cookie:
    """A cookie to set (or, in :attr:`Redirect.clear_cookies`, to clear: same name, path and flags).
    ``value`` is a credential: hidden from the repr."""

    name: str
    value: str = field(repr=False)
    path: str = "/"
    max_age: int | None = None
    secure: bool = False
    http_only: bool = True
    same_site: Literal["lax", "strict", "none"] = "lax"


@dataclass(frozen=True)
class Redirect:
    """What to answer: a redirect to ``location`` (hidden from the repr: the authorize URL carries the
    state and nonce) that sets ``set_cookies`` and clears ``clear_cookies``."""

    location: str = field(repr=False)
    set_cookies: tuple[Cookie, ...] = ()
    clear_cookies: tuple[Cookie, ...] = ()


def session_key(session_cookie: str) -> str:
    """The browser-session store's key of a session cookie: a hash, so no key name is a credential."""
    return "browser-session:" + hashlib.sha256(session_cookie.encode()).hexdigest()


def _settings(backend: ManagedLoginBackend) -> ManagedLoginSettings:
    settings = backend.managed_login_settings
    if settings is None:
        raise RuntimeError("the backend has no managed login (CognitoBackend(..., managed_login=...))")
    return settings


def _login_cookie(settings: ManagedLoginSettings, value: str, max_age: int | None) -> Cookie:
    path = settings.base_path + settings.callback_path  # sent to the callback only
    return Cookie(settings.login_cookie_name, value, path, max_age, settings.secure)


def _session_cookie(settings: ManagedLoginSettings, value: str, max_age: int | None) -> Cookie:
    return Cookie(settings.cookie_name, value, settings.base_path or "/", max_age, settings.secure)


def _with_error(settings: ManagedLoginSettings, code: str) -> str:
    target = settings.public_url + settings.after_sign_in
    return target + ("&" if "?" in target else "?") + urlencode({"error": code})


async def start(
    backend: ManagedLoginBackend,
    *,
    identity_provider: str | None = None,
    prompt: str | None = None,
    lang: str | None = None,
) -> Redirect:
    """Begin a sign-in: the redirect to the domain's authorize URL, with the login cookie.

    ``identity_provider`` skips the provider choice (``COGNITO``, a social or SAML provider's name);
    ``prompt="login"`` asks for the password even when Cognito remembers the user; ``lang`` picks the
    pages' language.
    """
    settings = _settings(backend)
    pending = backend.managed_login.start(identity_provider=identity_provider, prompt=prompt, lang=lang)
    login_id = await backend.store.save({"purpose": _PURPOSE, "pending": pending.to_dict()})
    logger.info("managed login: sent to sign in")
    return Redirect(pending.url, (_login_cookie(settings, login_id, int(backend.store.ttl)),))


def _error_code(exc: CognitoError) -> str:
    """What ``?error=`` says: Cognito's OAuth error word, or a word of ours (never a message)."""
    if isinstance(exc, OAuthError):
        return exc.error if _ERROR_CODE.fullmatch(exc.error) else "oauth_error"
    if isinstance(exc, PendingLoginError):
        return "login_expired"
    if isinstance(exc, InvalidToken):
        return "invalid_token"
    return "login_failed"  # CodeExchangeUncertain, Cognito unreachable, keys unavailable...


async def finish(
    backend: ManagedLoginBackend,
    callback_url: str,
    login_cookie: str | None,
    *,
    previous_session: str | None = None,
) -> Redirect:
    """Complete a sign-in from the callback: to ``after_sign_in`` with a new session cookie, or to
    ``after_sign_in?error=<code>`` (``login_expired``, ``state_mismatch``, ``access_denied``,
    ``invalid_grant``, ``invalid_token``, ``login_failed``, ...). The login cookie is cleared either way.

    Args:
        callback_url: the URL the browser came back to (only its query is read; the adapters pass
            ``settings.redirect_uri`` with the request's query, whatever host a proxy forwarded).
        login_cookie: the login cookie's value (None when the browser sent none).
        previous_session: the session cookie the browser already had: that session is dropped, so a
            sign-in never continues a session someone else may have planted.
    """
    settings = _settings(backend)
    clear = (_login_cookie(settings, "", 0),)
    saved = await backend.store.take(login_cookie) if login_cookie else None
    if saved is None or saved.data.get("purpose") != _PURPOSE:
        logger.warning("managed login: callback refused: no pending login (stale, reused or foreign)")
        return Redirect(_with_error(settings, "login_expired"), clear_cookies=clear)
    try:
        pending = PendingLogin.from_dict(saved.data["pending"])
        tokens = await backend.managed_login.finish(pending, callback_url)
    except CognitoError as exc:
        logger.warning("managed login: callback refused: %s", type(exc).__name__)
        return Redirect(_with_error(settings, _error_code(exc)), clear_cookies=clear)
    if previous_session:
        await backend.browser_sessions.delete(session_key(previous_session))
    session_cookie = secrets.token_urlsafe(32)
    expires_at = time.time() + settings.session_ttl
    await backend.browser_sessions.save(
        session_key(session_cookie), {"tokens": tokens.to_dict(), "expires_at": expires_at}
    )
    logger.info("managed login: signed in")
    cookie = _session_cookie(settings, session_cookie, int(settings.session_ttl))
    return Redirect(settings.public_url + settings.after_sign_in, (cookie,), clear)


async def _load(backend: ManagedLoginBackend, key: str) -> tuple[TokenSet, float] | None:
    """The session's tokens and expiry, or None (absent, unreadable or past ``session_ttl``: dropped)."""
    data = await backend.browser_sessions.load(key)
    if data is None:
        return None
    try:
        expires_at = float(data["expires_at"])
        tokens = TokenSet.from_dict(data["tokens"], wall_now=time.time(), monotonic_now=time.monotonic())
    except (KeyError, TypeError, ValueError):
        expires_at, tokens = 0.0, None
    if tokens is None or expires_at <= time.time():
        await backend.browser_sessions.delete(key)
        return None
    return tokens, expires_at


async def _refreshed(
    backend: ManagedLoginBackend, key: str, tokens: TokenSet, expires_at: float
) -> TokenSet | None:
    """``tokens`` refreshed and saved; None when the refresh token no longer works (session dropped).

    Two requests (or workers) may refresh one session at once; with refresh-token rotation the slower
    one's old token is refused, so a refusal first looks whether another request saved newer tokens.
    """
    assert tokens.refresh_token is not None
    try:
        fresh = await backend.managed_login.refresh(tokens.refresh_token)
    except OAuthError as exc:
        again = await _load(backend, key)
        if again is not None and again[0].refresh_token != tokens.refresh_token:
            return again[0]  # another request refreshed it first
        logger.info("managed login: session ended (%s on refresh)", type(exc).__name__)
        await backend.browser_sessions.delete(key)
        return None
    await backend.browser_sessions.save(key, {"tokens": fresh.to_dict(), "expires_at": expires_at})
    logger.info("managed login: tokens refreshed")
    return fresh


async def _session(backend: ManagedLoginBackend, session_cookie: str | None) -> TokenSet | None:
    if not session_cookie:
        return None
    key = session_key(session_cookie)
    found = await _load(backend, key)
    if found is None:
        return None
    tokens, expires_at = found
    if tokens.needs_refresh(time.monotonic(), REFRESH_MARGIN) and tokens.refresh_token:
        try:
            return await _refreshed(backend, key, tokens, expires_at)
        except CognitoError as exc:  # Cognito unreachable, tokens that do not verify: try next time
            logger.warning("managed login: refresh failed: %s", type(exc).__name__)
            if tokens.seconds_left(time.monotonic()) <= 0:
                return None
    return tokens


async def signed_in(backend: ManagedLoginBackend, session_cookie: str | None) -> TokenSet | None:
    """The tokens of the browser's session (refreshed when less than a minute is left, and verified), or
    None when it is signed out, its session is over or its refresh token was revoked.

    Raises:
        JwksUnavailable: the pool's keys cannot be fetched (nothing is decided).
    """
    found = await browser_claims_and_tokens(backend, session_cookie)
    return None if found is None else found[1]


async def browser_claims(backend: ManagedLoginBackend, session_cookie: str | None) -> CognitoClaims | None:
    """The verified access-token claims of the browser's session (see :func:`signed_in`), or None."""
    found = await browser_claims_and_tokens(backend, session_cookie)
    return None if found is None else found[0]


async def browser_claims_and_tokens(
    backend: ManagedLoginBackend, session_cookie: str | None
) -> tuple[CognitoClaims, TokenSet] | None:
    """Both of :func:`browser_claims` and :func:`signed_in`, from one look-up."""
    tokens = await _session(backend, session_cookie)
    if tokens is None:
        return None
    try:
        claims = await backend.verifier.verify(tokens.access_token, "access")
    except InvalidToken as exc:
        logger.info("managed login: session token refused: %s", exc.reason)
        return None
    return CognitoClaims.from_claims(claims, tokens.access_token), tokens


async def sign_out(backend: ManagedLoginBackend, session_cookie: str | None) -> Redirect:
    """End the browser's session: drop it, revoke its refresh token, and go through the domain's
    ``/logout`` to ``after_sign_out``; the session cookie is cleared. Signed out already: the same."""
    settings = _settings(backend)
    login = backend.managed_login
    data: dict[str, Any] | None = None
    if session_cookie:
        key = session_key(session_cookie)
        data = await backend.browser_sessions.load(key)
        await backend.browser_sessions.delete(key)
    tokens = data.get("tokens") if isinstance(data, dict) else None
    refresh_token = tokens.get("refresh_token") if isinstance(tokens, dict) else None
    if isinstance(refresh_token, str) and refresh_token:
        try:
            await login.revoke(refresh_token)
        except CognitoError as exc:  # signed out here either way; the token expires on its own
            logger.warning("managed login: revoking the refresh token failed: %s", type(exc).__name__)
    logger.info("managed login: signed out")
    location = login.logout_url(logout_uri=settings.logout_uri)
    return Redirect(location, clear_cookies=(_session_cookie(settings, "", 0),))
