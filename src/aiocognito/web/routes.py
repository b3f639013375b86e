"""The HTTP API of the sign-in and account routes: :data:`ROUTES`, each a :class:`Route` with its body
(:class:`~aiocognito.web.forms.Form`), answered by :meth:`aiocognito.web.backend.CognitoBackend.handle`.

The API (JSON in, JSON out; errors as in :mod:`aiocognito.web.http_errors`):

``POST /sign-in`` ``{"username", "password"}``
    ``{"tokens": {"access_token", "id_token", "refresh_token", "expires_in", "token_type"}}``, or a
    challenge: ``{"challenge": "SOFTWARE_TOKEN_MFA", "challenge_id", "expires_in"}`` (SMS and email codes
    add ``destination``; NEW_PASSWORD_REQUIRED adds ``missing_attributes``; SELECT_MFA_TYPE ``options``;
    MFA_SETUP ``secret_code`` and ``otpauth_uri``). Other challenges answer 501 ``unsupported_challenge``.
``POST /sign-in/answer`` ``{"challenge_id", "code"}``, ``{"challenge_id", "new_password", "attributes"?}``
    or ``{"challenge_id", "choice"}`` (MFA_SETUP: ``code`` and ``device_name``?)
    Tokens, or the next challenge. A refused answer (a wrong code: 400 ``code_mismatch``) keeps the
    challenge for another try, ``max_attempts`` answers in all; an unknown, used or expired id answers
    410 ``challenge_expired``.
``POST /sign-up`` ``{"username", "password", "attributes"?}``
    ``{"user_confirmed", "user_sub", "code_delivery"}``, ``code_delivery`` being
    ``{"destination", "medium", "attribute"}`` or null.
``POST /sign-up/confirm`` ``{"username", "code"}`` -> ``{"confirmed": true}``
``POST /sign-up/resend`` ``{"username"}`` -> ``{"code_delivery"}``
``POST /password/forgot`` ``{"username"}`` -> ``{"code_delivery"}``
``POST /password/reset`` ``{"username", "code", "new_password"}`` -> ``{"password_reset": true}``
``POST /password/change`` (bearer) ``{"old_password", "new_password"}`` -> ``{"password_changed": true}``
``POST /mfa/totp`` (bearer) -> ``{"enrollment_id", "secret_code", "otpauth_uri", "expires_in"}``
``POST /mfa/totp/confirm`` (bearer) ``{"enrollment_id", "code", "device_name"?}`` -> ``{"totp_enabled": true}``
    (TOTP on and preferred). A wrong code keeps the enrollment for another try.

Passkeys (mounted with ``passkeys=True``; the pool needs ``WEB_AUTHN`` among its AllowedFirstAuthFactors, a
WebAuthnConfiguration relying party id, and ``ALLOW_USER_AUTH`` on the app client). WebAuthn's JSON goes
through untouched both ways: the options are what Cognito sent, for
``PublicKeyCredential.parseCreationOptionsFromJSON`` / ``parseRequestOptionsFromJSON``; the credential is
the browser's ``credential.toJSON()`` (an object in the body, not a string), passed to Cognito as it came.

``POST /passkeys/sign-in`` ``{"username"}``
    ``{"challenge": "WEB_AUTHN", "challenge_id", "expires_in", "request_options": {...}}``; 400
    ``passkey_unavailable`` when the user has no passkey the pool can use.
``POST /passkeys/sign-in/answer`` ``{"challenge_id", "credential": {AuthenticationResponseJSON}}``
    Tokens, or the next challenge as ``/sign-in`` answers it (an MFA code then goes to ``/sign-in/answer``).
    A refused passkey answers 401 ``not_authorized`` and ends the challenge (sign in again); a credential
    that is not an AuthenticationResponseJSON answers 400 ``invalid_parameter`` and keeps it.
``POST /passkeys/register`` (bearer) -> ``{"creation_options": {...}}`` (a new one replaces the last)
``POST /passkeys/register/complete`` (bearer) ``{"credential": {RegistrationResponseJSON}}`` ->
    ``{"registered": true}``; a refused credential: 400 ``passkey_rejected``; no registration waiting
    (none started, or it expired): 410 ``registration_expired``.
``GET /passkeys`` (bearer) -> ``{"passkeys": [{"credential_id", "name", "relying_party_id", "attachment",
    "transports", "created_at"}]}`` (``created_at`` in ISO 8601)
``POST /passkeys/delete`` (bearer) ``{"credential_id"}`` -> ``{"deleted": true}``; 404 ``passkey_not_found``.

The signed-in passkey routes answer 403 ``passkeys_not_enabled`` when the pool has passkeys off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .forms import Field, Form

__all__ = ["ROUTES", "Reply", "Route", "selected"]


@dataclass(frozen=True)
class Route:
    """One route of the API: ``name`` is the backend's handler, ``bearer`` whether it needs an access
    token, ``account`` whether it is an account flow (left out with ``account=False``), ``passkey`` whether
    it is a passkey route (mounted only with ``passkeys=True``)."""

    method: str
    path: str
    name: str
    form: Form
    summary: str
    bearer: bool = False
    account: bool = False
    passkey: bool = False


def _text(name: str, max_length: int = 256, *, required: bool = True, secret: bool = False) -> Field:
    return Field(name, "secret" if secret else "text", required=required, max_length=max_length)


_USERNAME = _text("username")
_CODE = _text("code", 64, secret=True)
_CREDENTIAL = Field("credential", "json", description="the authenticator's credential, as toJSON() gives it")

#: The HTTP API (see the module docstring), in the order it is mounted.
ROUTES: tuple[Route, ...] = (
    Route(
        "POST", "/sign-in", "sign_in", Form((_USERNAME, _text("password", secret=True))), "Start a sign-in"
    ),
    Route(
        "POST",
        "/sign-in/answer",
        "answer",
        Form(
            (
                _text("challenge_id", 128),
                _text("code", 64, required=False, secret=True),
                _text("new_password", required=False, secret=True),
                Field("attributes", "attributes", required=False),
                _text("choice", 64, required=False),
                _text("device_name", 128, required=False),
            )
        ),
        "Answer a saved challenge",
    ),
    Route(
        "POST",
        "/sign-up",
        "sign_up",
        Form((_USERNAME, _text("password", secret=True), Field("attributes", "attributes", required=False))),
        "Sign up",
        account=True,
    ),
    Route(
        "POST",
        "/sign-up/confirm",
        "confirm_sign_up",
        Form((_USERNAME, _CODE)),
        "Confirm a sign-up",
        account=True,
    ),
    Route(
        "POST", "/sign-up/resend", "resend_code", Form((_USERNAME,)), "Send a new sign-up code", account=True
    ),
    Route(
        "POST",
        "/password/forgot",
        "forgot_password",
        Form((_USERNAME,)),
        "Send a recovery code",
        account=True,
    ),
    Route(
        "POST",
        "/password/reset",
        "reset_password",
        Form((_USERNAME, _CODE, _text("new_password", secret=True))),
        "Set a new password with a recovery code",
        account=True,
    ),
    Route(
        "POST",
        "/password/change",
        "change_password",
        Form((_text("old_password", secret=True), _text("new_password", secret=True))),
        "Change the password (signed in)",
        bearer=True,
        account=True,
    ),
    Route(
        "POST",
        "/mfa/totp",
        "start_totp",
        Form(),
        "Start an authenticator app set-up",
        bearer=True,
        account=True,
    ),
    Route(
        "POST",
        "/mfa/totp/confirm",
        "confirm_totp",
        Form((_text("enrollment_id", 128), _CODE, _text("device_name", 128, required=False))),
        "Confirm the authenticator app with a code",
        bearer=True,
        account=True,
    ),
    Route(
        "POST",
        "/passkeys/sign-in",
        "passkey_sign_in",
        Form((_USERNAME,)),
        "Start a sign-in with a passkey",
        passkey=True,
    ),
    Route(
        "POST",
        "/passkeys/sign-in/answer",
        "passkey_answer",
        Form((_text("challenge_id", 128), _CREDENTIAL)),
        "Answer a passkey challenge with the authenticator's assertion",
        passkey=True,
    ),
    Route(
        "POST",
        "/passkeys/register",
        "passkey_register",
        Form(),
        "Start a passkey registration (signed in)",
        bearer=True,
        account=True,
        passkey=True,
    ),
    Route(
        "POST",
        "/passkeys/register/complete",
        "passkey_register_complete",
        Form((_CREDENTIAL,)),
        "Register the authenticator's new passkey",
        bearer=True,
        account=True,
        passkey=True,
    ),
    Route(
        "GET",
        "/passkeys",
        "passkey_list",
        Form(),
        "List the passkeys",
        bearer=True,
        account=True,
        passkey=True,
    ),
    Route(
        "POST",
        "/passkeys/delete",
        "passkey_delete",
        Form((_text("credential_id", 1024),)),
        "Delete a passkey",
        bearer=True,
        account=True,
        passkey=True,
    ),
)


def selected(*, account: bool, passkeys: bool) -> list[Route]:
    """The routes an adapter mounts: the account flows with ``account``, the passkey routes with ``passkeys``."""
    return [r for r in ROUTES if (account or not r.account) and (passkeys or not r.passkey)]


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, JSON body, extra headers."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)
