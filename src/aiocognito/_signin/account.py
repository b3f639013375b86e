"""The account flows around sign-in, as methods :class:`~aiocognito.Session` inherits from
:class:`AccountFlows`.

Before sign-in (the app client's public operations): ``sign_up``, ``confirm_sign_up``,
``resend_confirmation_code``, ``forgot_password``, ``confirm_forgot_password``. Each carries a SECRET_HASH
over the username given whenever the session has the app client's secret.

Signed in (each takes the session's fresh access token, refreshing it first when due): ``change_password``,
``update_attributes``, ``request_attribute_code``, ``verify_attribute``, ``set_mfa_preference``,
``enable_totp`` (a :class:`TotpEnrollment` the caller confirms with a code), the passkeys
(``start_passkey_registration``, ``complete_passkey_registration``, ``list_passkeys``, ``delete_passkey``)
and ``delete_account``.

Passkeys: ``start_passkey_registration()`` returns Cognito's CredentialCreationOptions (the JSON form of
PublicKeyCredentialCreationOptions) as a dict; hand it to the authenticator (in a browser:
``PublicKeyCredential.parseCreationOptionsFromJSON(options)`` and ``navigator.credentials.create()``) and
give what it returns (``credential.toJSON()``, a RegistrationResponseJSON, as a dict or a JSON string) to
``complete_passkey_registration``. Signing in with a passkey is ``sign_in(username, flow="USER_AUTH",
preferred_challenge="WEB_AUTHN")``: a :class:`~aiocognito.WebAuthnRequired` step whose ``request_options``
go to ``navigator.credentials.get()`` and whose ``respond(credential)`` takes the AuthenticationResponseJSON.

Choices worth knowing:

* Arguments are checked before anything is sent, also before a due refresh
  (:class:`~aiocognito.ParamValidationError`, naming the argument, never its value).
* Passwords, codes, tokens and the TOTP secret appear in no repr, log line or error message.
* Where a code went comes back as a :class:`CodeDelivery` (Cognito's ``CodeDeliveryDetails``; the
  destination is masked by Cognito). An answer without the members the operation promises is a
  :class:`~aiocognito.ProtocolError`.
* A wrong code (``CodeMismatchException``, ``EnableSoftwareTokenMFAException``) changes nothing here: the
  same call can be made again with another code.

This module does not import ``session``: what it uses of :class:`Session` is declared on
:class:`AccountFlows` for the type checker only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from .._errors import ParamValidationError, ProtocolError, SignInError
from .._wire.error_codes import EnableSoftwareTokenMFAException
from .events import ClientConfig, Request
from .parameters import SECRET_CODE, secret_hash
from .steps import totp_provisioning_uri

if TYPE_CHECKING:
    from .._tokens.token_set import TokenSet

__all__ = ["AccountFlows", "CodeDelivery", "Passkey", "SignUpResult", "TotpEnrollment", "MFA_FACTORS"]

logger = logging.getLogger("aiocognito.session")

#: set_mfa_preference's factor names -> the SetUserMFAPreference member of each.
MFA_FACTORS: Mapping[str, str] = {
    "TOTP": "SoftwareTokenMfaSettings",
    "SMS": "SMSMfaSettings",
    "EMAIL": "EmailMfaSettings",
}


@dataclass(frozen=True)
class CodeDelivery:
    """Where Cognito sent a code: Cognito's ``CodeDeliveryDetails``.

    ``destination`` is masked by Cognito (``a***@e***``, ``+*******1234``); ``medium`` is ``EMAIL`` or
    ``SMS``; ``attribute`` is the attribute the code verifies (``email``, ``phone_number``).
    """

    destination: str | None
    medium: str | None
    attribute: str | None

    @classmethod
    def from_details(cls, details: Any, operation: str) -> CodeDelivery:
        """Read one ``CodeDeliveryDetails``; a non-object or a non-string member is a ProtocolError."""
        if not isinstance(details, Mapping):
            raise ProtocolError(f"{operation} answered a CodeDeliveryDetails that is not an object")
        values = [details.get(key) for key in ("Destination", "DeliveryMedium", "AttributeName")]
        if any(value is not None and not isinstance(value, str) for value in values):
            raise ProtocolError(f"{operation} answered a CodeDeliveryDetails member that is not a string")
        return cls(*(value or None for value in values))


@dataclass(frozen=True)
class SignUpResult:
    """What SignUp answered: whether the user is confirmed already (a pre-sign-up trigger may confirm),
    the new user's ``sub``, and where the confirmation code went (None when none was sent)."""

    user_confirmed: bool
    user_sub: str
    code_delivery: CodeDelivery | None


@dataclass(frozen=True)
class Passkey:
    """One of the user's passkeys, as ListWebAuthnCredentials describes it (no key material).

    ``credential_id`` is the base64url credential id (what :meth:`AccountFlows.delete_passkey` takes);
    ``attachment`` is ``platform`` or ``cross-platform`` when known; ``transports`` as the authenticator
    reported them (``internal``, ``usb``, ``hybrid``...).
    """

    credential_id: str
    friendly_name: str | None
    relying_party_id: str | None
    attachment: str | None
    transports: tuple[str, ...]
    created_at: datetime | None

    @classmethod
    def from_description(cls, item: Any) -> Passkey:
        """Read one ``WebAuthnCredentialDescription``; a malformed one is a ProtocolError."""
        operation = "ListWebAuthnCredentials"
        if not isinstance(item, Mapping) or not isinstance(item.get("CredentialId"), str):
            raise ProtocolError(f"{operation} answered a credential without a CredentialId")
        texts = [item.get(k) for k in ("FriendlyCredentialName", "RelyingPartyId", "AuthenticatorAttachment")]
        transports = item.get("AuthenticatorTransports") or []
        created = item.get("CreatedAt")
        if (
            any(v is not None and not isinstance(v, str) for v in texts)
            or not isinstance(transports, list)
            or not all(isinstance(t, str) for t in transports)
            or (created is not None and not isinstance(created, datetime))
        ):
            raise ProtocolError(f"{operation} answered a credential description of the wrong shape")
        name, rp_id, attachment = texts
        return cls(item["CredentialId"], name, rp_id, attachment, tuple(transports), created)


class _Sender(Protocol):
    """What a :class:`TotpEnrollment` needs from its session."""

    async def _fresh_tokens(self) -> TokenSet: ...

    async def _call(self, request: Request) -> dict[str, Any]: ...

    async def set_mfa_preference(
        self,
        *,
        totp: bool | None = None,
        sms: bool | None = None,
        email: bool | None = None,
        preferred: str | None = None,
    ) -> None: ...


class TotpEnrollment:
    """An authenticator app being set up for the signed-in user (from :meth:`AccountFlows.enable_totp`).

    Show :meth:`provisioning_uri` as a QR code (or :attr:`secret_code` for typing in), then
    ``await enrollment.confirm(code)`` with a code from the app. A wrong code raises and leaves the
    enrollment answerable with another code.
    """

    __slots__ = ("_session", "_secret_code", "username", "_verified", "_confirmed")

    def __init__(self, session: _Sender, secret_code: str, username: str) -> None:
        self._session = session
        self._secret_code = secret_code
        #: The user the secret belongs to (the default account name of :meth:`provisioning_uri`).
        self.username = username
        self._verified = False  # VerifySoftwareToken accepted a code
        self._confirmed = False  # ... and SetUserMFAPreference turned TOTP on

    def __repr__(self) -> str:
        return f"TotpEnrollment(username={self.username!r}, confirmed={self._confirmed})"

    @property
    def secret_code(self) -> str:
        """The TOTP secret (base32), for apps where the user types it in. Treat it as a password."""
        return self._secret_code

    @property
    def confirmed(self) -> bool:
        """Whether :meth:`confirm` finished: TOTP is verified and enabled for the user."""
        return self._confirmed

    def provisioning_uri(self, issuer: str, name: str | None = None) -> str:
        """The ``otpauth://totp/...`` URI for authenticator apps; ``name`` defaults to the username."""
        if not isinstance(issuer, str) or not issuer:
            raise ParamValidationError("provisioning_uri", ["issuer must be a non-empty string"])
        return totp_provisioning_uri(self._secret_code, issuer=issuer, name=name or self.username)

    async def confirm(
        self, code: str, friendly_device_name: str | None = None, preferred: bool = True
    ) -> None:
        """VerifySoftwareToken with ``code``, then SetUserMFAPreference enabling TOTP (and preferring it
        unless ``preferred=False``).

        Raises:
            ParamValidationError: a bad argument (nothing was sent).
            EnableSoftwareTokenMFAException: the code was not accepted (also when VerifySoftwareToken
                answers ``Status: ERROR``); confirm again with another code. Cognito may answer
                ``CodeMismatchException`` instead.
            SignInError: this enrollment was already confirmed.
        """
        operation = "VerifySoftwareToken"
        problems = []
        if not isinstance(code, str) or not code:
            problems.append("code must be a non-empty string")
        if friendly_device_name is not None and (
            not isinstance(friendly_device_name, str) or not friendly_device_name
        ):
            problems.append("friendly_device_name must be a non-empty string or None")
        if not isinstance(preferred, bool):
            problems.append("preferred must be True or False")
        if problems:
            raise ParamValidationError(operation, problems)
        if self._confirmed:
            raise SignInError("this TOTP enrollment is already confirmed")
        if not self._verified:
            tokens = await self._session._fresh_tokens()
            params: dict[str, Any] = {"AccessToken": tokens.access_token, "UserCode": code}
            if friendly_device_name is not None:
                params["FriendlyDeviceName"] = friendly_device_name
            logger.debug("account: %s", operation)
            response = await self._session._call(Request(operation, params))
            if response.get("Status") != "SUCCESS":
                raise EnableSoftwareTokenMFAException(
                    "VerifySoftwareToken did not accept the code (Status ERROR): try another code",
                    operation=operation,
                )
            self._verified = True
        # Once verified, a failed preference call is retried by calling confirm() again (the code is unused).
        await self._session.set_mfa_preference(totp=True, preferred="TOTP" if preferred else None)
        self._confirmed = True


def _text(operation: str, what: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ParamValidationError(operation, [f"{what} must be a non-empty string"])
    return value


def _string_map(operation: str, what: str, value: object, *, empty: bool = True) -> dict[str, str]:
    """A mapping of non-empty string names to string values (values never appear in the message)."""
    if not isinstance(value, Mapping) or (not empty and not value):
        need = "a mapping of names to strings" + ("" if empty else ", not empty")
        raise ParamValidationError(operation, [f"{what} must be {need}"])
    bad = [k for k, v in value.items() if not (isinstance(k, str) and k and isinstance(v, str))]
    if bad:
        names = ", ".join(repr(k) if isinstance(k, str) else "a non-string name" for k in bad)
        raise ParamValidationError(
            operation, [f"{what}: {names} must be a non-empty name with a string value"]
        )
    return dict(value)


def _metadata(operation: str, value: object) -> dict[str, str] | None:
    return None if value is None else _string_map(operation, "client_metadata", value)


def _attribute_list(attributes: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in attributes.items()]


class AccountFlows:
    """Sign-up, confirmation, password recovery and the signed-in account operations of a Session."""

    if TYPE_CHECKING:  # provided by Session
        config: ClientConfig

        @property
        def username(self) -> str | None: ...

        async def _call(self, request: Request) -> dict[str, Any]: ...

        async def _fresh_tokens(self) -> TokenSet: ...

        async def _clear_tokens(self) -> None: ...

        def _device_store_names(self) -> list[str]: ...

        async def _forget_device_locally(
            self, names: list[str], *, device_key: str | None = None
        ) -> None: ...

    # -- sending ---------------------------------------------------------------------------------------

    async def _public_call(
        self, operation: str, username: str, params: dict[str, Any], client_metadata: dict[str, str] | None
    ) -> dict[str, Any]:
        """An unauthenticated call of the app client: ClientId, Username, SECRET_HASH (when the session
        has the client secret) over ``username``, and ClientMetadata."""
        config = self.config
        sent: dict[str, Any] = {"ClientId": config.client_id, "Username": username, **params}
        if config.client_secret is not None:
            sent["SecretHash"] = secret_hash(config.client_secret, username, config.client_id)
        if client_metadata is not None:
            sent["ClientMetadata"] = client_metadata
        logger.debug("account: %s", operation)
        return await self._call(Request(operation, sent))

    async def _token_call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """A call with the session's fresh access token (SignInRequired when signed out)."""
        tokens = await self._fresh_tokens()
        logger.debug("account: %s", operation)
        return await self._call(Request(operation, {"AccessToken": tokens.access_token, **params}))

    @staticmethod
    def _delivery(response: Mapping[str, Any], operation: str) -> CodeDelivery:
        details = response.get("CodeDeliveryDetails")
        if details is None:
            raise ProtocolError(f"{operation} answered without CodeDeliveryDetails")
        return CodeDelivery.from_details(details, operation)

    # -- before sign-in --------------------------------------------------------------------------------

    async def sign_up(
        self,
        username: str,
        password: str,
        *,
        attributes: Mapping[str, str] | None = None,
        client_metadata: Mapping[str, str] | None = None,
    ) -> SignUpResult:
        """SignUp: a new, unconfirmed user (confirm with :meth:`confirm_sign_up` and the code sent).

        Args:
            username: the new username (or the email/phone number in a pool that signs in with those).
            password: the password (checked against the pool's policy by Cognito).
            attributes: user attributes by name (``{"email": "a@example.com"}``).
            client_metadata: passed to the pool's Lambda triggers.

        Raises:
            ParamValidationError: a bad argument (nothing was sent).
            ServiceError: Cognito refused (``UsernameExistsException``, ``InvalidPasswordException``...).
        """
        operation = "SignUp"
        _text(operation, "username", username)
        params: dict[str, Any] = {"Password": _text(operation, "password", password)}
        if attributes is not None:
            params["UserAttributes"] = _attribute_list(_string_map(operation, "attributes", attributes))
        response = await self._public_call(operation, username, params, _metadata(operation, client_metadata))
        confirmed, sub = response.get("UserConfirmed"), response.get("UserSub")
        if not isinstance(confirmed, bool) or not isinstance(sub, str) or not sub:
            raise ProtocolError("SignUp answered without UserConfirmed and UserSub")
        details = response.get("CodeDeliveryDetails")
        delivery = None if details is None else CodeDelivery.from_details(details, operation)
        return SignUpResult(user_confirmed=confirmed, user_sub=sub, code_delivery=delivery)

    async def confirm_sign_up(
        self, username: str, code: str, *, client_metadata: Mapping[str, str] | None = None
    ) -> None:
        """ConfirmSignUp with the code sent at sign-up (a wrong one: ``CodeMismatchException``; an old one:
        ``ExpiredCodeException``)."""
        operation = "ConfirmSignUp"
        _text(operation, "username", username)
        params = {"ConfirmationCode": _text(operation, "code", code)}
        await self._public_call(operation, username, params, _metadata(operation, client_metadata))

    async def resend_confirmation_code(
        self, username: str, *, client_metadata: Mapping[str, str] | None = None
    ) -> CodeDelivery:
        """ResendConfirmationCode: a new sign-up code (the previous one stops working)."""
        operation = "ResendConfirmationCode"
        _text(operation, "username", username)
        response = await self._public_call(operation, username, {}, _metadata(operation, client_metadata))
        return self._delivery(response, operation)

    async def forgot_password(
        self, username: str, *, client_metadata: Mapping[str, str] | None = None
    ) -> CodeDelivery:
        """ForgotPassword: a recovery code to the user's verified email or phone number.

        With PreventUserExistenceErrors, Cognito answers an unknown user with a made-up delivery.
        """
        operation = "ForgotPassword"
        _text(operation, "username", username)
        response = await self._public_call(operation, username, {}, _metadata(operation, client_metadata))
        return self._delivery(response, operation)

    async def confirm_forgot_password(
        self, username: str, code: str, new_password: str, *, client_metadata: Mapping[str, str] | None = None
    ) -> None:
        """ConfirmForgotPassword: set ``new_password`` with the recovery code."""
        operation = "ConfirmForgotPassword"
        _text(operation, "username", username)
        params = {
            "ConfirmationCode": _text(operation, "code", code),
            "Password": _text(operation, "new_password", new_password),
        }
        await self._public_call(operation, username, params, _metadata(operation, client_metadata))

    # -- signed in -------------------------------------------------------------------------------------

    async def change_password(self, old_password: str, new_password: str) -> None:
        """ChangePassword for the signed-in user (the session's tokens stay valid).

        Raises:
            SignInRequired: not signed in.
            ServiceError: ``NotAuthorizedException`` for a wrong ``old_password``,
                ``InvalidPasswordException`` for a new one the policy refuses...
        """
        operation = "ChangePassword"
        params = {
            "PreviousPassword": _text(operation, "old_password", old_password),
            "ProposedPassword": _text(operation, "new_password", new_password),
        }
        await self._token_call(operation, params)

    async def update_attributes(
        self, attributes: Mapping[str, str], *, client_metadata: Mapping[str, str] | None = None
    ) -> list[CodeDelivery]:
        """UpdateUserAttributes; returns where codes went for attributes that need verification.

        A changed email or phone number becomes unverified; in a pool that verifies it, a code goes to the
        new value (answer it with :meth:`verify_attribute`). Where the pool keeps the old value until the
        new one is verified (``AttributesRequireVerificationBeforeUpdate``), it stays until then. The ID
        token shows the new values after the next refresh.
        """
        operation = "UpdateUserAttributes"
        params: dict[str, Any] = {
            "UserAttributes": _attribute_list(_string_map(operation, "attributes", attributes, empty=False))
        }
        metadata = _metadata(operation, client_metadata)
        if metadata is not None:
            params["ClientMetadata"] = metadata
        response = await self._token_call(operation, params)
        details = response.get("CodeDeliveryDetailsList") or []
        if not isinstance(details, list):
            raise ProtocolError("UpdateUserAttributes answered a CodeDeliveryDetailsList that is not a list")
        return [CodeDelivery.from_details(item, operation) for item in details]

    async def request_attribute_code(
        self, name: str, *, client_metadata: Mapping[str, str] | None = None
    ) -> CodeDelivery:
        """GetUserAttributeVerificationCode: a (new) code to verify ``name`` (``email``, ``phone_number``)."""
        operation = "GetUserAttributeVerificationCode"
        params: dict[str, Any] = {"AttributeName": _text(operation, "name", name)}
        metadata = _metadata(operation, client_metadata)
        if metadata is not None:
            params["ClientMetadata"] = metadata
        return self._delivery(await self._token_call(operation, params), operation)

    async def verify_attribute(self, name: str, code: str) -> None:
        """VerifyUserAttribute: ``name`` becomes verified (a wrong code raises ``CodeMismatchException``
        and the code stays usable; an old one ``ExpiredCodeException``)."""
        operation = "VerifyUserAttribute"
        params = {"AttributeName": _text(operation, "name", name), "Code": _text(operation, "code", code)}
        await self._token_call(operation, params)

    async def set_mfa_preference(
        self,
        *,
        totp: bool | None = None,
        sms: bool | None = None,
        email: bool | None = None,
        preferred: str | None = None,
    ) -> None:
        """SetUserMFAPreference: turn factors on (True) or off (False); None leaves one as it is.

        ``preferred`` (``"TOTP"``, ``"SMS"`` or ``"EMAIL"``) enables that factor and makes it the one
        sign-in asks for; the other factors named here are then not preferred. With several factors on and
        none preferred, sign-in asks the user to choose (:class:`~aiocognito.MfaSelectionRequired`).
        """
        operation = "SetUserMFAPreference"
        given = {"TOTP": totp, "SMS": sms, "EMAIL": email}
        problems = [
            f"{factor.lower()} must be True, False or None"
            for factor, value in given.items()
            if value is not None and not isinstance(value, bool)
        ]
        if preferred is not None and preferred not in MFA_FACTORS:
            problems.append(f"preferred must be one of {sorted(MFA_FACTORS)} or None")
        elif preferred is not None and given[preferred] is False:
            problems.append(
                f"preferred={preferred!r} turns on the factor that {preferred.lower()}=False turns off"
            )
        if preferred is None and all(value is None for value in given.values()):
            problems.append("nothing to set: pass totp, sms, email or preferred")
        if problems:
            raise ParamValidationError(operation, problems)
        params: dict[str, Any] = {}
        for factor, enabled in given.items():
            if factor == preferred:
                params[MFA_FACTORS[factor]] = {"Enabled": True, "PreferredMfa": True}
            elif enabled is not None:
                setting: dict[str, bool] = {"Enabled": enabled}
                if preferred is not None:
                    setting["PreferredMfa"] = False
                params[MFA_FACTORS[factor]] = setting
        await self._token_call(operation, params)

    async def enable_totp(self) -> TotpEnrollment:
        """AssociateSoftwareToken for the signed-in user: a :class:`TotpEnrollment` to confirm with a code.

        Raises:
            SignInRequired: not signed in.
            ServiceError: ``SoftwareTokenMFANotFoundException`` when the pool does not offer TOTP.
        """
        operation = "AssociateSoftwareToken"
        response = await self._token_call(operation, {})
        secret = response.get("SecretCode")
        if not isinstance(secret, str) or SECRET_CODE.fullmatch(secret) is None:
            raise ProtocolError("AssociateSoftwareToken answered without a valid SecretCode")
        return TotpEnrollment(self, secret, self.username or "")

    async def start_passkey_registration(self) -> dict[str, Any]:
        """StartWebAuthnRegistration: the CredentialCreationOptions (a dict in WebAuthn's JSON form) for the
        signed-in user's authenticator; finish with :meth:`complete_passkey_registration`.

        Raises:
            SignInRequired: not signed in.
            ServiceError: ``WebAuthnNotEnabledException`` (passkeys are off in the pool),
                ``WebAuthnConfigurationMissingException`` (no relying party id nor domain),
                ``LimitExceededException`` (the user has the most passkeys allowed)...
        """
        operation = "StartWebAuthnRegistration"
        options = (await self._token_call(operation, {})).get("CredentialCreationOptions")
        if not isinstance(options, Mapping):
            raise ProtocolError(f"{operation} answered without CredentialCreationOptions")
        return dict(options)

    async def complete_passkey_registration(self, credential: str | Mapping[str, Any]) -> None:
        """CompleteWebAuthnRegistration with the authenticator's RegistrationResponseJSON (a dict, or its JSON
        text as the browser's ``JSON.stringify(credential)`` gives it), passed on unchanged.

        Raises:
            ParamValidationError: ``credential`` is not a JSON object (nothing was sent).
            ServiceError: ``WebAuthnChallengeNotFoundException`` (no registration started, or it expired),
                ``WebAuthnOriginNotAllowedException``, ``WebAuthnRelyingPartyMismatchException``,
                ``WebAuthnClientMismatchException``, ``WebAuthnCredentialNotSupportedException``...
        """
        operation = "CompleteWebAuthnRegistration"
        value: Any = credential
        if isinstance(credential, str):
            try:
                value = json.loads(credential)
            except ValueError:
                value = None
        if not isinstance(value, Mapping):
            raise ParamValidationError(
                operation, ["credential must be a JSON object (RegistrationResponseJSON)"]
            )
        await self._token_call(operation, {"Credential": dict(value)})

    async def list_passkeys(self) -> list[Passkey]:
        """ListWebAuthnCredentials, every page: the signed-in user's passkeys, oldest first."""
        operation = "ListWebAuthnCredentials"
        found: list[Passkey] = []
        params: dict[str, Any] = {}
        while True:
            response = await self._token_call(operation, params)
            items = response.get("Credentials")
            if not isinstance(items, list):
                raise ProtocolError(f"{operation} answered without a Credentials list")
            found.extend(Passkey.from_description(item) for item in items)
            token = response.get("NextToken")
            if not token:
                return found
            if not isinstance(token, str) or token == params.get("NextToken"):
                raise ProtocolError(f"{operation} answered the same or a malformed NextToken")
            params = {"NextToken": token}

    async def delete_passkey(self, credential_id: str) -> None:
        """DeleteWebAuthnCredential: the passkey stops signing in (``ResourceNotFoundException`` when the
        user has no passkey with this id). The authenticator keeps its key; tell the user to remove it."""
        operation = "DeleteWebAuthnCredential"
        await self._token_call(operation, {"CredentialId": _text(operation, "credential_id", credential_id)})

    async def delete_account(self) -> None:
        """DeleteUser: the signed-in user is deleted. Then the tokens are cleared (here and in the token
        store) and the user's remembered device is forgotten locally (Cognito deleted it with the user)."""
        await self._token_call("DeleteUser", {})
        names = self._device_store_names()
        await self._clear_tokens()
        await self._forget_device_locally(names)
