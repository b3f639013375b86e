"""The managed login pages: plain HTML forms with stable ids and names (no script needed).

Every page posts back to the same ``/login`` URL (its query string is the authorize request, so the
request is checked again on each post). Field names, for tests and browsers:

========================  =====================================================================
sign-in page              ``username`` (id ``signInFormUsername``), ``password``
                          (id ``signInFormPassword``), submit ``signInSubmitButton``
code page (SMS, email,    ``code`` (id ``code``), submit ``codeSubmitButton``
TOTP)
choose a factor           radio ``mfa_type`` (ids ``mfa_type_<FACTOR>``), submit ``mfaTypeSubmitButton``
new password              ``new_password``, ``confirm_password``, ``userAttributes.<name>`` for each
                          required attribute the user lacks, submit ``newPasswordSubmitButton``
set up an authenticator   the secret in the element with id ``totpSecret``, its ``otpauth://`` URI in
app (MFA_SETUP)           ``totpUri`` (also the link's ``href``); input ``code`` with id ``totpCode``
                          (not ``code``: a code page's answer never lands here by mistake), submit
                          ``totpSetupSubmitButton``
providers on the sign-in  one link per identity provider of the app client, id ``idpButton_<name>``,
page                      to ``/oauth2/authorize`` with ``identity_provider=<name>``
identity provider         the local pool's stand-in for the provider (see ``_federation``): ``subject``
stand-in page             (id ``idpSubject``), ``attributes`` (id ``idpAttributes``, a JSON object),
                          submit ``idpSubmitButton``; for SAML the answer is a form (id
                          ``samlResponseForm``) posting ``SAMLResponse`` and ``RelayState``
========================  =====================================================================

The challenge pages carry ``login_session`` (hidden): the random id of the server-side record, never a
Cognito Session, password or code. A refusal is shown in the element with id ``loginErrorMessage``.
Everything shown is HTML-escaped.
"""

from __future__ import annotations

import json
from html import escape

__all__ = ["sign_in_page", "challenge_page", "error_page", "provider_page", "saml_post_page", "ERROR_TEXT"]

#: What Cognito's own error page says, whatever the error.
ERROR_TEXT = "An error was encountered with the requested page."

_TITLES = {
    "SMS_MFA": "We have delivered the authentication code by SMS to {dest}. Please enter the code to complete authentication.",
    "EMAIL_OTP": "We have sent a code by email to {dest}. Enter the code to complete authentication.",
    "SOFTWARE_TOKEN_MFA": "Enter the code from your authenticator app.",
}
_FACTOR_NAMES = {"SMS_MFA": "SMS", "EMAIL_OTP": "Email", "SOFTWARE_TOKEN_MFA": "Authenticator app"}


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<title>{escape(title)}</title></head>\n<body class="background-customizable">\n{body}\n</body></html>\n'
    )


def _error(message: str | None) -> str:
    if not message:
        return ""
    return f'<p id="loginErrorMessage" class="errorMessage-customizable" role="alert">{escape(message)}</p>\n'


def _form(action: str, inner: str, login_id: str | None = None) -> str:
    hidden = f'<input type="hidden" name="login_session" value="{escape(login_id)}">\n' if login_id else ""
    return f'<form method="post" action="{escape(action)}">\n{hidden}{inner}</form>'


def _provider_links(providers: list[tuple[str, str]]) -> str:
    if not providers:
        return ""
    links = "".join(
        f'<a id="idpButton_{escape(name)}" class="idpButton-customizable" href="{escape(url)}">'
        f"Continue with {escape(name)}</a>\n"
        for name, url in providers
    )
    return f'<div class="idp-buttons">\n{links}</div>\n'


def sign_in_page(
    action: str,
    *,
    error: str | None = None,
    username: str = "",
    providers: list[tuple[str, str]] | None = None,
    with_password: bool = True,
) -> str:
    """The username and password form, after a button per identity provider (``(name, authorize URL)``);
    without the form when the app client does not offer the user pool's own sign-in."""
    buttons = _provider_links(providers or [])
    if not with_password:
        return _document("Signin", f"<h1>Sign in with your corporate ID</h1>\n{_error(error)}{buttons}")
    inner = (
        '<label for="signInFormUsername" class="label-customizable">Username</label>\n'
        '<input id="signInFormUsername" name="username" type="text" class="inputField-customizable" '
        f'autocomplete="username" value="{escape(username)}" required>\n'
        '<label for="signInFormPassword" class="label-customizable">Password</label>\n'
        '<input id="signInFormPassword" name="password" type="password" class="inputField-customizable" '
        'autocomplete="current-password" required>\n'
        '<button id="signInSubmitButton" name="signInSubmitButton" type="submit" '
        'class="submitButton-customizable">Sign in</button>\n'
    )
    return _document(
        "Signin",
        f"<h1>Sign in with your username and password</h1>\n{_error(error)}{buttons}{_form(action, inner)}",
    )


def _code_inner(challenge: str, parameters: dict[str, str]) -> str:
    title = _TITLES[challenge].format(dest=escape(parameters.get("CODE_DELIVERY_DESTINATION", "")))
    return (
        f'<p class="textDescription-customizable">{title}</p>\n'
        '<label for="code" class="label-customizable">Code</label>\n'
        '<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" '
        'class="inputField-customizable" required>\n'
        '<button id="codeSubmitButton" name="codeSubmitButton" type="submit" '
        'class="submitButton-customizable">Sign in</button>\n'
    )


def _select_inner(parameters: dict[str, str]) -> str:
    try:
        options = [str(o) for o in json.loads(parameters.get("MFAS_CAN_CHOOSE", "[]"))]
    except ValueError:
        options = []
    radios = "".join(
        f'<input type="radio" id="mfa_type_{escape(o)}" name="mfa_type" value="{escape(o)}"{" checked" if i == 0 else ""}>'
        f'<label for="mfa_type_{escape(o)}">{escape(_FACTOR_NAMES.get(o, o))}</label>\n'
        for i, o in enumerate(options)
    )
    return (
        '<p class="textDescription-customizable">Choose how to receive your sign-in code.</p>\n'
        f"{radios}"
        '<button id="mfaTypeSubmitButton" name="mfaTypeSubmitButton" type="submit" '
        'class="submitButton-customizable">Continue</button>\n'
    )


def _new_password_inner(parameters: dict[str, str]) -> str:
    try:
        required = [str(n) for n in json.loads(parameters.get("requiredAttributes", "[]"))]
    except ValueError:
        required = []
    fields = "".join(
        f'<label for="{escape(n)}" class="label-customizable">{escape(n.removeprefix("userAttributes."))}</label>\n'
        f'<input id="{escape(n)}" name="{escape(n)}" type="text" class="inputField-customizable" required>\n'
        for n in required
    )
    return (
        '<p class="textDescription-customizable">Please enter a new password.</p>\n'
        '<label for="new_password" class="label-customizable">New Password</label>\n'
        '<input id="new_password" name="new_password" type="password" autocomplete="new-password" '
        'class="inputField-customizable" required>\n'
        '<label for="confirm_password" class="label-customizable">Enter New Password Again</label>\n'
        '<input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" '
        'class="inputField-customizable" required>\n'
        f"{fields}"
        '<button id="newPasswordSubmitButton" name="newPasswordSubmitButton" type="submit" '
        'class="submitButton-customizable">Send</button>\n'
    )


def _setup_inner(totp: tuple[str, str]) -> str:
    secret, uri = totp
    return (
        '<p class="textDescription-customizable">Scan the QR code or enter the key into your authenticator '
        "app, then enter the code it shows.</p>\n"
        f'<p>Key: <code id="totpSecret">{escape(secret)}</code></p>\n'
        f'<p><a id="totpUri" href="{escape(uri)}">{escape(uri)}</a></p>\n'
        '<label for="totpCode" class="label-customizable">Code from the app</label>\n'
        '<input id="totpCode" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" '
        'class="inputField-customizable" required>\n'
        '<button id="totpSetupSubmitButton" name="totpSetupSubmitButton" type="submit" '
        'class="submitButton-customizable">Sign in</button>\n'
    )


def challenge_page(
    action: str,
    challenge: str,
    parameters: dict[str, str],
    login_id: str,
    *,
    error: str | None = None,
    totp: tuple[str, str] | None = None,
) -> str:
    """The page of one challenge (a code, the choice of a factor, a new password, or MFA set-up with
    ``totp``: the secret and its URI)."""
    if challenge == "MFA_SETUP" and totp is not None:
        title, inner = "Set up an authenticator app", _setup_inner(totp)
    elif challenge in _TITLES:
        title, inner = "Multi-factor authentication", _code_inner(challenge, parameters)
    elif challenge == "SELECT_MFA_TYPE":
        title, inner = "Multi-factor authentication", _select_inner(parameters)
    else:
        title, inner = "Change Password", _new_password_inner(parameters)
    body = f"<h1>{escape(title)}</h1>\n{_error(error)}{_form(action, inner, login_id)}"
    return _document(title, body)


def provider_page(
    action: str, provider: str, kind: str, state: str, *, error: str | None = None, subject: str = ""
) -> str:
    """The local pool's stand-in for an identity provider's sign-in (no real provider is asked)."""
    what = "NameID" if kind == "SAML" else "subject (sub)"
    inner = (
        f'<input type="hidden" name="state" value="{escape(state)}">\n'
        f'<label for="idpSubject" class="label-customizable">The user\'s {escape(what)}</label>\n'
        f'<input id="idpSubject" name="subject" type="text" value="{escape(subject)}" required>\n'
        '<label for="idpAttributes" class="label-customizable">The provider\'s attributes (a JSON object, '
        "by the provider's claim names)</label>\n"
        '<input id="idpAttributes" name="attributes" type="text" value="{}">\n'
        '<button id="idpSubmitButton" name="idpSubmitButton" type="submit" '
        'class="submitButton-customizable">Sign in</button>\n'
    )
    title = f"Stand-in for the identity provider {provider} ({kind})"
    note = (
        '<p class="textDescription-customizable">The local user pool has no connection to this provider: '
        "this page answers for it.</p>\n"
    )
    return _document(title, f"<h1>{escape(title)}</h1>\n{note}{_error(error)}{_form(action, inner)}")


def saml_post_page(action: str, response: str, relay_state: str) -> str:
    """The provider's SAML answer, posted to the domain's ``/saml2/idpresponse`` (HTTP-POST binding)."""
    form = (
        f'<form id="samlResponseForm" method="post" action="{escape(action)}">\n'
        f'<input type="hidden" name="SAMLResponse" value="{escape(response)}">\n'
        f'<input type="hidden" name="RelayState" value="{escape(relay_state)}">\n'
        '<button id="samlContinueButton" type="submit">Continue</button>\n</form>\n'
        "<script>document.getElementById('samlResponseForm').submit()</script>"
    )
    return _document("Signing in", form)


def error_page(error: str) -> str:
    """The domain's ``/error`` page."""
    body = f'<h1>{escape(ERROR_TEXT)}</h1>\n<p id="errorCode" class="errorMessage-customizable">{escape(error)}</p>'
    return _document("Error", body)
