"""The browser half of the authorization code flow with PKCE, with no I/O: the authorize URL, the pending
login that remembers what was sent, reading the callback URL, and the logout URL.

Randomness is a parameter (``token_factory(length) -> str``), so a known-answer test needs no patching.
The default is Authlib's ``generate_token`` (``random.SystemRandom`` over ``[A-Za-z0-9]``): 64 characters
for the ``code_verifier`` (RFC 7636 asks for 43-128 of the unreserved characters; 64 of 62 symbols carry
~381 bits) and 32 for ``state`` and ``nonce`` (~190 bits). The S256 challenge is Authlib's
``create_s256_code_challenge`` and the URL is built by Authlib's ``prepare_grant_uri``, which keeps any
query the endpoint URL already has.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]

from .._errors import ConfigurationError, ParamValidationError
from ._errors import InvalidRequest, PendingLoginError, StateMismatch, oauth_error

__all__ = [
    "PENDING_LOGIN_VERSION",
    "PendingLogin",
    "TokenFactory",
    "authorize_url",
    "check_domain_url",
    "code_from_callback",
    "logout_url",
    "new_pending_login",
    "s256_challenge",
]

#: ``token_factory(length)`` returns that many random URL-safe characters.
TokenFactory = Callable[[int], str]

VERIFIER_LENGTH = 64
STATE_LENGTH = 32
NONCE_LENGTH = 32
#: The version written by :meth:`PendingLogin.to_dict`; other versions are refused.
PENDING_LOGIN_VERSION = 1

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def s256_challenge(code_verifier: str) -> str:
    """``BASE64URL(SHA256(code_verifier))`` without padding (RFC 7636 section 4.2)."""
    return str(create_s256_code_challenge(code_verifier))


def _scope_list(scopes: Sequence[str], what: str = "scopes") -> list[str]:
    if isinstance(scopes, str):
        raise ParamValidationError(what, ["scopes are a list of names, not one str"])
    names = list(dict.fromkeys(scopes))
    if not all(isinstance(s, str) and s and len(s.split()) == 1 for s in names):
        raise ParamValidationError(what, ["each scope is one non-empty name without spaces"])
    return names


def authorize_url(
    domain_url: str,
    client_id: str,
    *,
    redirect_uri: str,
    scopes: Sequence[str],
    state: str,
    nonce: str | None,
    code_challenge: str,
    identity_provider: str | None = None,
    idp_identifier: str | None = None,
    prompt: str | None = None,
    lang: str | None = None,
) -> str:
    """The ``/oauth2/authorize`` URL with the parameters Cognito reads (``response_type=code``, S256)."""
    extra: dict[str, Any] = {
        "nonce": nonce,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
        "identity_provider": identity_provider,
        "idp_identifier": idp_identifier,
        "prompt": prompt,
        "lang": lang,
    }
    return str(
        prepare_grant_uri(
            f"{domain_url}/oauth2/authorize",
            client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=_scope_list(scopes, "start") or None,
            state=state,
            **extra,
        )
    )


@dataclass(frozen=True)
class PendingLogin:
    """A started managed login: where to send the browser (``url``), and what :meth:`ManagedLogin.finish`
    needs to check and complete the callback.

    It holds the ``code_verifier``: keep it server-side (a session store, Redis), never in a cookie the
    browser can read. ``to_dict()``/``from_dict()`` carry it to another worker as JSON. The repr shows only
    the redirect URI and the creation time.
    """

    url: str = field(repr=False)
    state: str = field(repr=False)
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)
    redirect_uri: str
    created_at: float

    @property
    def client_id(self) -> str | None:
        """The app client id the authorize URL names."""
        values = parse_qs(urlsplit(self.url).query).get("client_id")
        return values[0] if values else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready, versioned form; it holds the verifier, so store it as you would a session."""
        return {
            "version": PENDING_LOGIN_VERSION,
            "url": self.url,
            "state": self.state,
            "nonce": self.nonce,
            "code_verifier": self.code_verifier,
            "redirect_uri": self.redirect_uri,
            "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingLogin:
        """Rebuild a pending login saved with :meth:`to_dict`.

        Raises:
            PendingLoginError: not a mapping, another version, or a field missing or of the wrong type
                (the message names the field, never its value).
        """
        if not isinstance(data, Mapping):
            raise PendingLoginError("a saved pending login is a mapping")
        if data.get("version") != PENDING_LOGIN_VERSION:
            raise PendingLoginError(f"not a version {PENDING_LOGIN_VERSION} pending login")
        values: dict[str, Any] = {}
        for name in ("url", "state", "nonce", "code_verifier", "redirect_uri"):
            value = data.get(name)
            if not isinstance(value, str) or (name != "nonce" and not value):
                raise PendingLoginError(f"a saved pending login needs {name} as a non-empty str")
            values[name] = value
        verifier = values["code_verifier"]
        if not 43 <= len(verifier) <= 128 or not set(verifier) <= _UNRESERVED:
            raise PendingLoginError("code_verifier is not an RFC 7636 verifier")
        created = data.get("created_at")
        if isinstance(created, bool) or not isinstance(created, int | float) or not math.isfinite(created):
            raise PendingLoginError("a saved pending login needs created_at as a number")
        return cls(created_at=float(created), **values)


def new_pending_login(
    domain_url: str,
    client_id: str,
    *,
    redirect_uri: str,
    scopes: Sequence[str],
    now: float,
    token_factory: TokenFactory = generate_token,
    state: str | None = None,
    nonce: str | None = None,
    identity_provider: str | None = None,
    idp_identifier: str | None = None,
    prompt: str | None = None,
    lang: str | None = None,
) -> PendingLogin:
    """A new pending login: a fresh verifier (and state and nonce unless given) and its authorize URL.

    ``nonce`` is sent only when ``openid`` is among the scopes (it goes into the ID token, which only
    ``openid`` brings).
    """
    if not redirect_uri:
        raise ParamValidationError("start", ["redirect_uri is required"])
    verifier = token_factory(VERIFIER_LENGTH)
    if not 43 <= len(verifier) <= 128 or not set(verifier) <= _UNRESERVED:
        raise ParamValidationError("start", ["token_factory made a verifier RFC 7636 does not allow"])
    state = state if state is not None else token_factory(STATE_LENGTH)
    if not state:
        raise ParamValidationError("start", ["state must not be empty"])
    openid = "openid" in scopes
    nonce = (nonce if nonce is not None else token_factory(NONCE_LENGTH)) if openid else ""
    url = authorize_url(
        domain_url,
        client_id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        nonce=nonce or None,
        code_challenge=s256_challenge(verifier),
        identity_provider=identity_provider,
        idp_identifier=idp_identifier,
        prompt=prompt,
        lang=lang,
    )
    return PendingLogin(
        url=url, state=state, nonce=nonce, code_verifier=verifier, redirect_uri=redirect_uri, created_at=now
    )


def _single(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidRequest(None, f"the callback repeats {name}")
    return values[0]


def code_from_callback(pending: PendingLogin, callback_url: str) -> str:
    """The authorization code from the URL the browser came back to, after checking its ``state``.

    Raises:
        StateMismatch: no ``state``, or not the pending login's (checked first: a forged callback's
            ``error`` is not believed either).
        OAuthError: the callback carries ``error`` (``AccessDenied``, ``InvalidScope``, ... by its code).
        InvalidRequest: neither ``code`` nor ``error``, or a parameter repeated.
    """
    query = parse_qs(urlsplit(callback_url).query, keep_blank_values=True)
    state = _single(query, "state")
    if state is None or not hmac.compare_digest(state.encode(), pending.state.encode()):
        raise StateMismatch(None, "the callback's state is not the one this login sent")
    error = _single(query, "error")
    if error is not None:
        raise oauth_error(error or "invalid_request", _single(query, "error_description") or "")
    code = _single(query, "code")
    if not code:
        raise InvalidRequest(None, "the callback has neither a code nor an error")
    return code


def logout_url(
    domain_url: str,
    client_id: str,
    *,
    logout_uri: str | None = None,
    redirect_uri: str | None = None,
    state: str | None = None,
    scopes: Sequence[str] = (),
) -> str:
    """Cognito's ``/logout`` URL in one of its two forms.

    With ``logout_uri`` (one of the app client's sign-out URLs): signed out, then sent there. With
    ``redirect_uri`` (one of its callback URLs): signed out, then shown the sign-in page again
    (``response_type=code``, with ``state`` and ``scope`` if given). Exactly one of them.
    """
    if (logout_uri is None) == (redirect_uri is None):
        raise ParamValidationError("logout_url", ["give exactly one of logout_uri and redirect_uri"])
    params: list[tuple[str, str]] = [("client_id", client_id)]
    if logout_uri is not None:
        params.append(("logout_uri", logout_uri))
    else:
        assert redirect_uri is not None
        params += [("redirect_uri", redirect_uri), ("response_type", "code")]
        if state is not None:
            params.append(("state", state))
        names = _scope_list(scopes, "logout_url")
        if names:
            params.append(("scope", " ".join(names)))
    return f"{domain_url}/logout?{urlencode(params)}"


def check_domain_url(domain_url: str) -> str:
    """``domain_url`` without a trailing slash, after checking it is an https URL with no query, or http
    on a loopback host (a local pool): the client secret and tokens must not cross a network in clear.

    Raises:
        ConfigurationError: anything else.
    """
    parts = urlsplit(domain_url) if isinstance(domain_url, str) else None
    loopback = parts is not None and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if (
        parts is None
        or not parts.hostname
        or parts.query
        or parts.fragment
        or not (parts.scheme == "https" or (parts.scheme == "http" and loopback))
    ):
        raise ConfigurationError(
            "domain_url must be https://<domain> (http only on a loopback host), with no query"
        )
    return domain_url.rstrip("/")
