"""Passkeys: StartWebAuthnRegistration, CompleteWebAuthnRegistration, ListWebAuthnCredentials and
DeleteWebAuthnCredential.

As Cognito does them, for the signed-in user of an access token (scope ``aws.cognito.signin.user.admin``):

* passkeys must be on for the pool (``WEB_AUTHN`` among the sign-in policy's AllowedFirstAuthFactors, or
  passkeys as an MFA factor), else WebAuthnNotEnabledException; the relying party is the pool's
  WebAuthnConfiguration RelyingPartyId, else its custom domain, else its prefix domain
  (``<prefix>.auth.<region>.amazoncognito.com``), else WebAuthnConfigurationMissingException;
* StartWebAuthnRegistration answers the credential creation options (WebAuthn's
  PublicKeyCredentialCreationOptions in JSON form: rp, user with its sub as a base64url id, a random
  challenge, ES256 and RS256, a timeout, the user's passkeys as excludeCredentials, a discoverable key
  with the pool's UserVerification) and keeps the challenge for the user, for that long, bound to the
  app client of the access token (a newer Start replaces it);
* CompleteWebAuthnRegistration verifies the browser's RegistrationResponseJSON with py_webauthn: the
  challenge must be the user's pending one (WebAuthnChallengeNotFoundException; also when it expired),
  the access token of the same app client (WebAuthnClientMismatchException), the origin
  ``https://<rp id>`` or one of its subdomains (``http://localhost`` for ``localhost``;
  WebAuthnOriginNotAllowedException), the authenticator's rpIdHash that of the relying party
  (WebAuthnRelyingPartyMismatchException), user verification present when required and the attestation
  sound (WebAuthnCredentialNotSupportedException). A credential id already registered is refused, and a
  user holds at most 20 passkeys (LimitExceededException). The passkey is kept in
  ``pool.features["webauthn_credentials"][sub]`` with its public key and signature counter;
* ListWebAuthnCredentials pages them (MaxResults up to 20) in registration order;
  DeleteWebAuthnCredential removes one (ResourceNotFoundException when the user has no such passkey).

Sign-in with a passkey (USER_AUTH's WEB_AUTHN challenge, driven by ``_choice_auth``) uses the helpers at the
end: :func:`sign_in_passkeys` (what the user can sign in with: passkeys of the pool's current relying
party), :func:`request_options` (CREDENTIAL_REQUEST_OPTIONS: a random challenge, the rpId, the user's
passkeys as allowCredentials, the pool's UserVerification, a timeout) and :func:`verify_assertion` (py_webauthn
``verify_authentication_response`` against the stored public key and signature counter, with the
registration's origin rule). RespondToAuthChallenge lists no WebAuthn* errors, so every refused assertion
is a NotAuthorizedException: an unknown or deleted credential, another user's, a challenge other than
the one issued (a replay), an origin outside the relying party, another rpIdHash, a bad signature,
user verification missing where required, a signature counter that did not grow (when the stored one is
above 0). A CREDENTIAL that is not an AuthenticationResponseJSON at all is an InvalidParameterException.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ... import errors
from .._records import User, UserPool
from ._base import Context, Route, page

__all__ = [
    "ROUTES",
    "FIDELITY",
    "CREDENTIALS",
    "relying_party_id",
    "passkey_is_mfa",
    "sign_in_passkeys",
    "request_options",
    "verify_assertion",
]

#: ``pool.features`` key: user sub -> the user's passkeys, each a dict (CredentialId, FriendlyCredentialName,
#: RelyingPartyId, AuthenticatorAttachment, AuthenticatorTransports, CreatedAt, public_key, sign_count)
CREDENTIALS = "webauthn_credentials"
#: ``pool.features`` key: user sub -> the registration waiting for CompleteWebAuthnRegistration
_PENDING = "webauthn_registrations"
_MAX_CREDENTIALS = 20
_TIMEOUT_MS = 180_000
_ADMIN_SCOPE = "aws.cognito.signin.user.admin"
_ES256, _RS256 = -7, -257


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _signed_in(ctx: Context, params: Mapping[str, Any]) -> tuple[UserPool, User, str]:
    """The pool and user of the request's access token, and the token's app client."""
    token = params["AccessToken"]
    record = ctx.issuer.check_access_token(token)
    try:
        payload = str(token).split(".")[1]
        scope = str(
            json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("scope", "")
        )
    except (IndexError, ValueError):
        scope = ""
    if _ADMIN_SCOPE not in scope.split():
        raise errors.NotAuthorizedException("Access Token does not have required scopes")
    pool, user, _key = ctx.lookups.token_user(token)
    if user.status == "RESET_REQUIRED":
        raise errors.PasswordResetRequiredException("Password reset required for the user")
    return pool, user, record.client_id


def _credentials(pool: UserPool, user: User) -> list[dict[str, Any]]:
    store: dict[str, list[dict[str, Any]]] = pool.features.setdefault(CREDENTIALS, {})
    return store.setdefault(user.sub, [])


def _config(pool: UserPool) -> dict[str, Any]:
    return dict(pool.mfa.get("WebAuthnConfiguration") or {})


def _require_enabled(pool: UserPool) -> None:
    policy = (pool.config.get("Policies") or {}).get("SignInPolicy") or {}
    first_factor = "WEB_AUTHN" in (policy.get("AllowedFirstAuthFactors") or [])
    mfa_factor = _config(pool).get("FactorConfiguration") == "MULTI_FACTOR_WITH_USER_VERIFICATION"
    if not (first_factor or mfa_factor):
        raise errors.WebAuthnNotEnabledException("Passkeys are not enabled for this user pool.")


def relying_party_id(pool: UserPool) -> str:
    """The pool's passkey relying party: RelyingPartyId, else its custom domain, else its prefix domain.

    Raises:
        WebAuthnConfigurationMissingException: none of them.
    """
    configured = _config(pool).get("RelyingPartyId")
    if configured:
        return str(configured)
    custom = [d for d, description in pool.domains.items() if description.get("CustomDomainConfig")]
    if custom:
        return custom[0]
    if pool.domains:
        return f"{next(iter(pool.domains))}.auth.{pool.region}.amazoncognito.com"
    raise errors.WebAuthnConfigurationMissingException(
        "The user pool has neither a passkey relying party id nor a domain."
    )


def _origin_allowed(origin: str, rp_id: str) -> bool:
    """WebAuthn's rule: an https origin whose host is the relying party id or a subdomain of it."""
    try:
        parts = urlsplit(origin)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    if host != rp_id and not host.endswith("." + rp_id):
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and host == "localhost")


# ----- Start ----------------------------------------------------------------------------------------
def start_web_authn_registration(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user, client_id = _signed_in(ctx, params)
    _require_enabled(pool)
    rp_id = relying_party_id(pool)
    existing = _credentials(pool, user)
    if len(existing) >= _MAX_CREDENTIALS:
        raise errors.LimitExceededException(f"A user can register at most {_MAX_CREDENTIALS} passkeys.")
    verification = str(_config(pool).get("UserVerification") or "preferred")
    challenge = ctx.state.random_bytes(32)
    pending: dict[str, dict[str, Any]] = pool.features.setdefault(_PENDING, {})
    pending[user.sub] = {
        "challenge": challenge,
        "client_id": client_id,
        "rp_id": rp_id,
        "user_verification": verification,
        "expires_at": ctx.state.now() + _TIMEOUT_MS / 1000,
    }
    options = {
        "rp": {"id": rp_id, "name": pool.name},
        "user": {"id": _b64url(user.sub.encode()), "name": user.username, "displayName": user.username},
        "challenge": _b64url(challenge),
        "pubKeyCredParams": [{"type": "public-key", "alg": _ES256}, {"type": "public-key", "alg": _RS256}],
        "timeout": _TIMEOUT_MS,
        "excludeCredentials": [
            {"type": "public-key", "id": c["CredentialId"], "transports": list(c["AuthenticatorTransports"])}
            for c in existing
        ],
        "authenticatorSelection": {
            "requireResidentKey": True,
            "residentKey": "required",
            "userVerification": verification,
        },
    }
    return {"CredentialCreationOptions": options}


# ----- Complete -------------------------------------------------------------------------------------
def _verified(credential: object, pending: Mapping[str, Any]) -> dict[str, Any]:
    """The checked registration: the stored form of the new passkey (CreatedAt left to the caller)."""
    from webauthn import verify_registration_response
    from webauthn.helpers import parse_attestation_object, parse_client_data_json
    from webauthn.helpers import parse_registration_credential_json as parse_credential
    from webauthn.helpers.exceptions import WebAuthnException

    rp_id = str(pending["rp_id"])
    if not isinstance(credential, dict):
        raise errors.InvalidParameterException("Credential must be a RegistrationResponseJSON object.")
    try:
        parsed = parse_credential(credential)
        client_data = parse_client_data_json(parsed.response.client_data_json)
        attestation = parse_attestation_object(parsed.response.attestation_object)
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise errors.InvalidParameterException("Credential is not a valid registration response.") from None
    if client_data.challenge != pending["challenge"]:
        raise errors.WebAuthnChallengeNotFoundException("The challenge of the credential was not found.")
    if not _origin_allowed(client_data.origin, rp_id):
        raise errors.WebAuthnOriginNotAllowedException(
            f"The origin of the credential is not allowed for relying party {rp_id}."
        )
    if attestation.auth_data.rp_id_hash != hashlib.sha256(rp_id.encode()).digest():
        raise errors.WebAuthnRelyingPartyMismatchException(
            f"The credential was made for another relying party than {rp_id}."
        )
    try:
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=pending["challenge"],
            expected_rp_id=rp_id,
            expected_origin=client_data.origin,
            require_user_verification=pending["user_verification"] == "required",
        )
    except WebAuthnException as exc:
        raise errors.WebAuthnCredentialNotSupportedException(
            f"The credential is not supported: {exc}"
        ) from None
    attachment = parsed.authenticator_attachment
    return {
        "CredentialId": _b64url(verified.credential_id),
        "FriendlyCredentialName": "Passkey",
        "RelyingPartyId": rp_id,
        "AuthenticatorAttachment": attachment.value if attachment is not None else None,
        "AuthenticatorTransports": [t.value for t in parsed.response.transports or []],
        "public_key": verified.credential_public_key,
        "sign_count": verified.sign_count,
    }


def complete_web_authn_registration(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user, client_id = _signed_in(ctx, params)
    _require_enabled(pool)
    waiting: dict[str, dict[str, Any]] = pool.features.setdefault(_PENDING, {})
    pending = waiting.get(user.sub)
    if pending is None or ctx.state.now() >= pending["expires_at"]:
        waiting.pop(user.sub, None)
        raise errors.WebAuthnChallengeNotFoundException("No passkey registration is waiting for this user.")
    if pending["client_id"] != client_id:
        raise errors.WebAuthnClientMismatchException(
            "The registration was started with an access token of another app client."
        )
    stored = _verified(params["Credential"], pending)
    existing = _credentials(pool, user)
    registered = {c["CredentialId"] for creds in pool.features[CREDENTIALS].values() for c in creds}
    if stored["CredentialId"] in registered:
        raise errors.InvalidParameterException("This passkey is already registered.")
    if len(existing) >= _MAX_CREDENTIALS:
        raise errors.LimitExceededException(f"A user can register at most {_MAX_CREDENTIALS} passkeys.")
    stored["CreatedAt"] = ctx.state.now()
    existing.append(stored)
    del waiting[user.sub]
    return {}


# ----- List / Delete --------------------------------------------------------------------------------
def _description(credential: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "CredentialId": credential["CredentialId"],
        "FriendlyCredentialName": credential["FriendlyCredentialName"],
        "RelyingPartyId": credential["RelyingPartyId"],
    }
    if credential.get("AuthenticatorAttachment"):
        body["AuthenticatorAttachment"] = credential["AuthenticatorAttachment"]
    body["AuthenticatorTransports"] = list(credential["AuthenticatorTransports"])
    body["CreatedAt"] = credential["CreatedAt"]
    return body


def list_web_authn_credentials(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user, _client_id = _signed_in(ctx, params)
    chunk, next_token = page(
        _credentials(pool, user),
        params,
        key=lambda c: f"{c['CreatedAt']:020.6f}|{c['CredentialId']}",
        default=_MAX_CREDENTIALS,
    )
    answer: dict[str, Any] = {"Credentials": [_description(c) for c in chunk]}
    if next_token:
        answer["NextToken"] = next_token
    return answer


def delete_web_authn_credential(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, user, _client_id = _signed_in(ctx, params)
    existing = _credentials(pool, user)
    for index, credential in enumerate(existing):
        if credential["CredentialId"] == params["CredentialId"]:
            del existing[index]
            return {}
    raise errors.ResourceNotFoundException("Credential not found.")


# ----- Sign-in: USER_AUTH's WEB_AUTHN challenge -----------------------------------------------------
_REFUSED = "The passkey credential was not accepted."


def passkey_is_mfa(pool: UserPool) -> bool:
    """Whether a passkey with user verification satisfies MFA (FactorConfiguration
    ``MULTI_FACTOR_WITH_USER_VERIFICATION``); otherwise a passkey is one factor, like a password."""
    return _config(pool).get("FactorConfiguration") == "MULTI_FACTOR_WITH_USER_VERIFICATION"


def sign_in_passkeys(pool: UserPool, user: User) -> list[dict[str, Any]]:
    """The user's passkeys that can sign in now: those of the pool's current relying party."""
    stored = (pool.features.get(CREDENTIALS) or {}).get(user.sub) or []
    if not stored:
        return []
    try:
        rp_id = relying_party_id(pool)
    except errors.WebAuthnConfigurationMissingException:
        return []
    return [c for c in stored if c["RelyingPartyId"] == rp_id]


def request_options(pool: UserPool, user: User, challenge: bytes) -> dict[str, Any]:
    """CREDENTIAL_REQUEST_OPTIONS (PublicKeyCredentialRequestOptions in JSON form) for ``challenge``."""
    return {
        "challenge": _b64url(challenge),
        "timeout": _TIMEOUT_MS,
        "rpId": relying_party_id(pool),
        "allowCredentials": [
            {"id": c["CredentialId"], "type": "public-key"} for c in sign_in_passkeys(pool, user)
        ],
        "userVerification": str(_config(pool).get("UserVerification") or "preferred"),
    }


def verify_assertion(pool: UserPool, user: User, credential: object, challenge: bytes) -> bool:
    """Check the CREDENTIAL answering ``challenge`` (an AuthenticationResponseJSON, as a JSON string);
    on success store the new signature counter and return whether the user was verified (UV).

    Raises:
        InvalidParameterException: not an AuthenticationResponseJSON.
        NotAuthorizedException: the assertion is refused (see the module docstring).
    """
    from webauthn import verify_authentication_response
    from webauthn.helpers import parse_authentication_credential_json, parse_client_data_json
    from webauthn.helpers.exceptions import WebAuthnException

    invalid = errors.InvalidParameterException("CREDENTIAL is not a valid AuthenticationResponseJSON.")
    if not isinstance(credential, str):  # ChallengeResponses values are strings
        raise invalid
    try:
        parsed = parse_authentication_credential_json(credential)
        client_data = parse_client_data_json(parsed.response.client_data_json)
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise invalid from None
    rp_id = relying_party_id(pool)
    credential_id = _b64url(parsed.raw_id)
    stored = next((c for c in sign_in_passkeys(pool, user) if c["CredentialId"] == credential_id), None)
    if stored is None:
        raise errors.NotAuthorizedException(_REFUSED)
    handle = parsed.response.user_handle
    if handle and handle != user.sub.encode():  # a discoverable passkey names its user (the sub)
        raise errors.NotAuthorizedException(_REFUSED)
    if client_data.challenge != challenge or not _origin_allowed(client_data.origin, rp_id):
        raise errors.NotAuthorizedException(_REFUSED)
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=client_data.origin,
            credential_public_key=stored["public_key"],
            credential_current_sign_count=int(stored["sign_count"]),
            require_user_verification=_config(pool).get("UserVerification") == "required",
        )
    except WebAuthnException:
        raise errors.NotAuthorizedException(_REFUSED) from None
    stored["sign_count"] = verified.new_sign_count
    return bool(verified.user_verified)


ROUTES: dict[str, Route] = {
    "StartWebAuthnRegistration": start_web_authn_registration,
    "CompleteWebAuthnRegistration": complete_web_authn_registration,
    "ListWebAuthnCredentials": list_web_authn_credentials,
    "DeleteWebAuthnCredential": delete_web_authn_credential,
}
#: operation -> "full", or "stored: <why the behaviour cannot be reproduced offline>"
FIDELITY: dict[str, str] = {name: "full" for name in ROUTES}
