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
========================  =====================================================================

The challenge pages carry ``login_session`` (hidden): the random id of the server-side record, never a
Cognito Session, password or code. A refusal is shown in the element with id ``loginErrorMessage``.
Everything shown is HTML-escaped.
"""

from __future__ import annotations

import json
from html import escape

__all__ = ["sign_in_page", "challenge_page", "error_page", "ERROR_TEXT"]

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


def sign_in_page(action: str, *, error: str | None = None, username: str = "") -> str:
    """The username and password form."""
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
        "Signin", f"<h1>Sign in with your username and password</h1>\n{_error(error)}{_form(action, inner)}"
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


def challenge_page(
    action: str, challenge: str, parameters: dict[str, str], login_id: str, *, error: str | None = None
) -> str:
    """The page of one challenge (a code, the choice of a factor, or a new password)."""
    if challenge in _TITLES:
        title, inner = "Multi-factor authentication", _code_inner(challenge, parameters)
    elif challenge == "SELECT_MFA_TYPE":
        title, inner = "Multi-factor authentication", _select_inner(parameters)
    else:
        title, inner = "Change Password", _new_password_inner(parameters)
    body = f"<h1>{escape(title)}</h1>\n{_error(error)}{_form(action, inner, login_id)}"
    return _document(title, body)


def error_page(error: str) -> str:
    """The domain's ``/error`` page."""
    body = f'<h1>{escape(ERROR_TEXT)}</h1>\n<p id="errorCode" class="errorMessage-customizable">{escape(error)}</p>'
    return _document("Error", body)
