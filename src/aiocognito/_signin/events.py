"""What goes into and comes out of the sign-in flow: frozen values, in the spirit of h11's events.

The app client (:class:`ClientConfig`), a request to send (:class:`Request`), what a server answer turns
into (:class:`Authenticated`, :class:`PendingChallenge`, :class:`SoftwareTokenAssociated`), and the caller's
answers to challenges (:data:`Answer`). Secrets (passwords, codes, Sessions, tokens) are hidden from every
repr. A :class:`PendingChallenge` is the serializable snapshot a challenge is resumed from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .._errors import (
    ParamValidationError,
)
from .srp import (
    DEFAULT_EPHEMERAL_BYTES,
)

__all__ = [
    "AUTH_FLOWS",
    "CODE_CHALLENGES",
    "Answer",
    "AssociateSoftwareToken",
    "Authenticated",
    "ChallengeChoice",
    "ClientConfig",
    "CodeAnswer",
    "CustomAnswer",
    "DeviceCredentials",
    "Event",
    "MfaTypeAnswer",
    "NewDevice",
    "NewPasswordAnswer",
    "PendingChallenge",
    "RandomBytes",
    "RawAnswer",
    "Request",
    "SoftwareTokenAssociated",
    "VerifySoftwareToken",
    "WebAuthnAnswer",
]

RandomBytes = Callable[[int], bytes]

#: The AuthFlow values sign_in() accepts (REFRESH_TOKEN_AUTH goes through :func:`refresh_request`).
AUTH_FLOWS = frozenset(
    {
        "USER_SRP_AUTH",
        "USER_PASSWORD_AUTH",
        "ADMIN_USER_PASSWORD_AUTH",
        "ADMIN_NO_SRP_AUTH",
        "CUSTOM_AUTH",
        "USER_AUTH",
    }
)

#: Code challenges: challenge name -> (ChallengeResponses key, kind shown to the caller).
CODE_CHALLENGES: Mapping[str, tuple[str, str]] = {
    "SMS_MFA": ("SMS_MFA_CODE", "SMS"),
    "SMS_OTP": ("SMS_OTP_CODE", "SMS"),
    "EMAIL_OTP": ("EMAIL_OTP_CODE", "EMAIL"),
    "EMAIL_MFA": ("EMAIL_MFA_CODE", "EMAIL"),
    "SOFTWARE_TOKEN_MFA": ("SOFTWARE_TOKEN_MFA_CODE", "TOTP"),
}

_SERIAL_VERSION = 1


# ----------------------------------------------------------------------------------------------------
# Inputs and outputs
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientConfig:
    """The app client a flow signs in to. ``admin`` selects AdminInitiateAuth/AdminRespondToAuthChallenge.

    ``srp_ephemeral_bytes`` is the size of the random SRP exponent (see ``_srp``; AWS's JS client uses 128).
    """

    user_pool_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    admin: bool = False
    srp_ephemeral_bytes: int = DEFAULT_EPHEMERAL_BYTES


class DeviceCredentials(Protocol):
    """A remembered device, as the flow needs it (``stores.DeviceRecord`` fits)."""

    @property
    def device_key(self) -> str: ...
    @property
    def device_group_key(self) -> str: ...
    @property
    def device_password(self) -> str: ...


@dataclass(frozen=True)
class Request:
    """One call for the driver to make: the operation's model name and boto3-style keyword parameters.

    ``params`` may hold a password, a Session or an SRP claim, so the repr shows only the operation.
    """

    operation: str
    params: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class NewDevice:
    """``NewDeviceMetadata`` of a sign-in: a device Cognito started tracking, to confirm with ConfirmDevice."""

    device_key: str
    device_group_key: str


@dataclass(frozen=True)
class Authenticated:
    """The sign-in succeeded. ``result`` is Cognito's ``AuthenticationResult`` (tokens: hidden from repr)."""

    result: Mapping[str, Any] = field(repr=False)
    username: str
    device_key: str | None

    @property
    def new_device(self) -> NewDevice | None:
        """The ``NewDeviceMetadata`` Cognito sent, if any."""
        meta = self.result.get("NewDeviceMetadata")
        if isinstance(meta, Mapping):
            key, group = meta.get("DeviceKey"), meta.get("DeviceGroupKey")
            if isinstance(key, str) and key and isinstance(group, str) and group:
                return NewDevice(key, group)
        return None


@dataclass(frozen=True)
class PendingChallenge:
    """A challenge waiting for the caller's answer: an immutable, serializable snapshot of the flow.

    ``username`` is the identifier the user typed; ``challenge_username`` is the ``USERNAME`` every answer
    sends (the latest ``ChallengeParameters.USERNAME``). ``session`` is Cognito's Session string (hidden from
    the repr; itself a credential for a few minutes). ``available`` is the top-level ``AvailableChallenges``.
    """

    name: str
    parameters: Mapping[str, Any]
    available: tuple[str, ...]
    flow: str
    username: str
    challenge_username: str
    session: str | None = field(repr=False)
    user_pool_id: str
    client_id: str
    admin: bool = False
    device_key: str | None = None
    client_metadata: Mapping[str, str] | None = None
    #: MFA_SETUP only: AssociateSoftwareToken was done and ``session`` is the one it returned.
    totp_associated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for :meth:`from_dict` in another worker. No password, no client secret.

        It holds the Session string: a credential until the challenge session expires (3-15 minutes).
        """
        return {
            "version": _SERIAL_VERSION,
            "challenge": self.name,
            "parameters": dict(self.parameters),
            "available": list(self.available),
            "flow": self.flow,
            "username": self.username,
            "challenge_username": self.challenge_username,
            "session": self.session,
            "user_pool_id": self.user_pool_id,
            "client_id": self.client_id,
            "admin": self.admin,
            "device_key": self.device_key,
            "client_metadata": dict(self.client_metadata) if self.client_metadata is not None else None,
            "totp_associated": self.totp_associated,
        }

    def check_client(self, config: ClientConfig) -> None:
        """Raise ParamValidationError unless this challenge came from ``config``'s pool, client and API."""
        if (self.user_pool_id, self.client_id) != (config.user_pool_id, config.client_id):
            raise ParamValidationError("resume", ["the challenge belongs to another user pool or app client"])
        if self.admin != config.admin:
            raise ParamValidationError("resume", [f"the challenge was started with admin={self.admin}"])

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingChallenge:
        """Rebuild a challenge saved with :meth:`to_dict`.

        Raises:
            ParamValidationError: ``data`` is not a saved challenge of this version.
        """
        problems: list[str] = []
        if not isinstance(data, Mapping):
            raise ParamValidationError("resume", ["expected the dict returned by to_dict()"])
        if data.get("version") != _SERIAL_VERSION:
            problems.append(f"unsupported version {data.get('version')!r} (expected {_SERIAL_VERSION})")

        def text(key: str, *, optional: bool = False) -> Any:
            value = data.get(key)
            if value is None and optional:
                return None
            if not isinstance(value, str) or not value:
                problems.append(f"{key} must be a non-empty string")
            return value

        name, flow, username = text("challenge"), text("flow"), text("username")
        challenge_username = text("challenge_username")
        session, device_key = text("session", optional=True), text("device_key", optional=True)
        pool, client = text("user_pool_id"), text("client_id")
        parameters = data.get("parameters") or {}
        available = data.get("available") or []
        metadata = data.get("client_metadata")
        if not isinstance(parameters, Mapping):
            problems.append("parameters must be a dict")
        if not isinstance(available, list) or not all(isinstance(a, str) for a in available):
            problems.append("available must be a list of strings")
        if metadata is not None and not isinstance(metadata, Mapping):
            problems.append("client_metadata must be a dict")
        if problems:
            raise ParamValidationError("resume", problems)
        return cls(
            name=name,
            parameters=dict(parameters),
            available=tuple(available),
            flow=flow,
            username=username,
            challenge_username=challenge_username,
            session=session,
            user_pool_id=pool,
            client_id=client,
            admin=bool(data.get("admin", False)),
            device_key=device_key,
            client_metadata=dict(metadata) if metadata is not None else None,
            totp_associated=bool(data.get("totp_associated", False)),
        )


@dataclass(frozen=True)
class SoftwareTokenAssociated:
    """AssociateSoftwareToken succeeded: the TOTP secret and the MFA_SETUP challenge with its new Session."""

    secret_code: str = field(repr=False)
    challenge: PendingChallenge


Event = Request | Authenticated | PendingChallenge | SoftwareTokenAssociated


# Answers the caller gives to a challenge (frozen events; secrets hidden from repr).


@dataclass(frozen=True)
class CodeAnswer:
    """A one-time code for SMS_MFA, EMAIL_OTP, EMAIL_MFA, SMS_OTP or SOFTWARE_TOKEN_MFA."""

    code: str = field(repr=False)


@dataclass(frozen=True)
class NewPasswordAnswer:
    """NEW_PASSWORD_REQUIRED: the new password and attributes (bare names or ``userAttributes.<name>``)."""

    new_password: str = field(repr=False)
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MfaTypeAnswer:
    """SELECT_MFA_TYPE: the chosen factor (``SOFTWARE_TOKEN_MFA``, ``SMS_MFA``, ``EMAIL_OTP``...)."""

    choice: str


@dataclass(frozen=True)
class ChallengeChoice:
    """SELECT_CHALLENGE: the chosen method, with the password (PASSWORD, PASSWORD_SRP) or a WebAuthn
    credential (WEB_AUTHN) when the method completes in the same call."""

    choice: str
    password: str | None = field(default=None, repr=False)
    credential: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class CustomAnswer:
    """CUSTOM_CHALLENGE: the answer for the VerifyAuthChallengeResponse trigger."""

    answer: str = field(repr=False)


@dataclass(frozen=True)
class WebAuthnAnswer:
    """WEB_AUTHN: the AuthenticationResponseJSON of the authenticator, as a JSON string."""

    credential: str = field(repr=False)


@dataclass(frozen=True)
class RawAnswer:
    """Any challenge: ChallengeResponses as given (USERNAME, SECRET_HASH and DEVICE_KEY are added)."""

    responses: Mapping[str, str] = field(repr=False)


@dataclass(frozen=True)
class AssociateSoftwareToken:
    """MFA_SETUP step 1: AssociateSoftwareToken with the challenge Session."""


@dataclass(frozen=True)
class VerifySoftwareToken:
    """MFA_SETUP step 2: VerifySoftwareToken with a code from the authenticator app."""

    code: str = field(repr=False)
    friendly_device_name: str | None = None


Answer = (
    CodeAnswer
    | NewPasswordAnswer
    | MfaTypeAnswer
    | ChallengeChoice
    | CustomAnswer
    | WebAuthnAnswer
    | RawAnswer
    | AssociateSoftwareToken
    | VerifySoftwareToken
)
