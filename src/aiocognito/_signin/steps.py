"""The steps a sign-in returns: :class:`SignedIn`, or a challenge the caller answers with
``await step.respond(...)``, which returns the next step.

A step holds its :class:`~aiocognito._signin.events.PendingChallenge` and the session that sends the
answer; ``step.to_dict()`` saves the challenge (no password) for ``Session.resume`` in another worker.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

import pyotp

from .._errors import (
    SignInError,
)
from .._tokens.token_set import TokenSet
from .events import (
    CODE_CHALLENGES,
    Answer,
    ChallengeChoice,
    CodeAnswer,
    CustomAnswer,
    MfaTypeAnswer,
    NewDevice,
    NewPasswordAnswer,
    PendingChallenge,
    RawAnswer,
    SoftwareTokenAssociated,
    VerifySoftwareToken,
    WebAuthnAnswer,
)
from .parameters import (
    parse_name_list,
    parse_required_attributes,
    parse_user_attributes,
)


class StepDriver(Protocol):
    """What a step needs from its :class:`~aiocognito._signin.session.Session`: send an answer."""

    async def _answer(self, challenge: PendingChallenge, answer: Answer, *, password: str | None) -> Step: ...

    async def _associate(self, challenge: PendingChallenge) -> SoftwareTokenAssociated: ...


__all__ = [
    "Step",
    "SignedIn",
    "ChallengeStep",
    "NewPasswordRequired",
    "MfaCodeRequired",
    "MfaSelectionRequired",
    "TotpSetupRequired",
    "CustomChallenge",
    "ChallengeSelectionRequired",
    "WebAuthnRequired",
    "Challenge",
    "STEP_CLASSES",
]


class _ServerTotp(pyotp.TOTP):
    """pyotp's TOTP without its minimum secret length: the secret is Cognito's choice, not ours (the
    model allows 16 base32 characters, 80 bits, below pyotp's 112-bit floor), we only format it."""

    min_secret_length_bits = 0


def totp_provisioning_uri(secret_code: str, *, issuer: str, name: str) -> str:
    """The ``otpauth://totp/...`` URI authenticator apps read (as a QR code) for Cognito's TOTP secret."""
    return _ServerTotp(secret_code).provisioning_uri(name=name, issuer_name=issuer)


class Step:
    """What ``sign_in()``, ``respond()`` and ``resume()`` return: :class:`SignedIn` or a challenge."""

    __slots__ = ()


class SignedIn(Step):
    """The sign-in is complete. ``new_device`` is set when Cognito started tracking this device
    (confirm it with :meth:`Session.remember_device`)."""

    __slots__ = ("tokens", "new_device")

    def __init__(self, tokens: TokenSet, new_device: NewDevice | None = None) -> None:
        self.tokens = tokens
        self.new_device = new_device

    def __repr__(self) -> str:
        return f"SignedIn(tokens={self.tokens!r}, new_device={self.new_device is not None})"


class ChallengeStep(Step):
    """Base of every challenge the caller answers with ``await step.respond(...)``."""

    __slots__ = ("_session", "_challenge", "_answered")

    def __init__(self, session: StepDriver, challenge: PendingChallenge) -> None:
        self._session = session
        self._challenge = challenge
        self._answered = False

    @property
    def name(self) -> str:
        """Cognito's ChallengeName."""
        return self._challenge.name

    @property
    def parameters(self) -> dict[str, Any]:
        """The ChallengeParameters as Cognito sent them."""
        return dict(self._challenge.parameters)

    @property
    def username(self) -> str:
        """The identifier the sign-in started with."""
        return self._challenge.username

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for :meth:`Session.resume` (no password; the Session string is in it)."""
        return self._challenge.to_dict()

    async def _respond(self, answer: Answer, *, password: str | None = None) -> Step:
        if self._answered:
            raise SignInError(
                "this challenge was already answered: continue with the step respond() returned"
            )
        step = await self._session._answer(self._challenge, answer, password=password)
        self._answered = True
        return step

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, username={self.username!r})"


class NewPasswordRequired(ChallengeStep):
    """NEW_PASSWORD_REQUIRED: the user has a temporary password and must choose a new one."""

    __slots__ = ()

    @property
    def required_attributes(self) -> list[str]:
        """Names of the attributes the pool requires (``requiredAttributes``; ``[]`` when unknown)."""
        return parse_required_attributes(self._challenge.parameters.get("requiredAttributes"))

    @property
    def user_attributes(self) -> dict[str, str]:
        """The user's current attributes (``userAttributes``; ``{}`` when unknown)."""
        return parse_user_attributes(self._challenge.parameters.get("userAttributes"))

    @property
    def missing_attributes(self) -> list[str]:
        """Required attributes without a value: ``respond()`` needs them in ``attributes``."""
        current = self.user_attributes
        return [name for name in self.required_attributes if not current.get(name)]

    async def respond(self, new_password: str, attributes: Mapping[str, str] | None = None) -> Step:
        """Set the new password, plus ``attributes`` (bare names); only these and nothing else are sent.

        Raises:
            ParamValidationError: a required attribute has no value and is not in ``attributes`` (nothing
                was sent).
        """
        return await self._respond(NewPasswordAnswer(new_password, dict(attributes or {})))


class MfaCodeRequired(ChallengeStep):
    """A one-time code: SMS_MFA, SMS_OTP, EMAIL_OTP, EMAIL_MFA or SOFTWARE_TOKEN_MFA."""

    __slots__ = ()

    @property
    def kind(self) -> str:
        """``"SMS"``, ``"EMAIL"`` or ``"TOTP"``."""
        return CODE_CHALLENGES[self.name][1]

    @property
    def destination(self) -> str | None:
        """Where the code went, masked (``+*******1234``); None for TOTP."""
        value = self._challenge.parameters.get("CODE_DELIVERY_DESTINATION")
        return value if isinstance(value, str) else None

    @property
    def delivery_medium(self) -> str | None:
        """``SMS`` or ``EMAIL`` when Cognito says so."""
        value = self._challenge.parameters.get("CODE_DELIVERY_DELIVERY_MEDIUM")
        return value if isinstance(value, str) else None

    async def respond(self, code: str) -> Step:
        """Answer with the code. A wrong code raises ``CodeMismatchException``; this step stays usable."""
        return await self._respond(CodeAnswer(code))


class MfaSelectionRequired(ChallengeStep):
    """SELECT_MFA_TYPE: several factors are enabled and none is preferred."""

    __slots__ = ()

    @property
    def options(self) -> list[str]:
        """The factors to choose from (``MFAS_CAN_CHOOSE``)."""
        return parse_name_list(self._challenge.parameters.get("MFAS_CAN_CHOOSE"))

    async def respond(self, choice: str) -> Step:
        """Choose a factor (one of :attr:`options`); the next step asks for its code."""
        return await self._respond(MfaTypeAnswer(choice))


class TotpSetupRequired(ChallengeStep):
    """MFA_SETUP: the user must set up an authenticator app before signing in.

    ``secret = await step.associate()``, show :meth:`provisioning_uri` as a QR code, then
    ``await step.respond(code)``.
    """

    __slots__ = ("_secret_code",)

    def __init__(self, session: StepDriver, challenge: PendingChallenge) -> None:
        super().__init__(session, challenge)
        self._secret_code: str | None = None

    @property
    def options(self) -> list[str]:
        """The factors the user may set up (``MFAS_CAN_SETUP``)."""
        return parse_name_list(self._challenge.parameters.get("MFAS_CAN_SETUP"))

    @property
    def secret_code(self) -> str | None:
        """The TOTP secret after :meth:`associate` in this process (never saved by ``to_dict()``)."""
        return self._secret_code

    async def associate(self) -> str:
        """Call AssociateSoftwareToken with the challenge Session; return the TOTP secret."""
        if self._answered:
            raise SignInError(
                "this challenge was already answered: continue with the step respond() returned"
            )
        associated = await self._session._associate(self._challenge)
        self._challenge = associated.challenge
        self._secret_code = associated.secret_code
        return associated.secret_code

    def provisioning_uri(self, issuer: str, name: str | None = None) -> str:
        """The ``otpauth://totp/...`` URI for authenticator apps; ``name`` defaults to the username."""
        if self._secret_code is None:
            raise SignInError("no TOTP secret here: call associate() first (in this process)")
        return totp_provisioning_uri(self._secret_code, issuer=issuer, name=name or self.username)

    async def respond(self, code: str, friendly_device_name: str | None = None) -> Step:
        """VerifySoftwareToken with ``code``, then answer MFA_SETUP with the Session it returned."""
        return await self._respond(VerifySoftwareToken(code, friendly_device_name))


class CustomChallenge(ChallengeStep):
    """CUSTOM_CHALLENGE from the pool's Lambda triggers; :attr:`parameters` holds its public values."""

    __slots__ = ()

    async def respond(self, answer: str) -> Step:
        """Send ``answer`` as ANSWER."""
        return await self._respond(CustomAnswer(answer))


class ChallengeSelectionRequired(ChallengeStep):
    """SELECT_CHALLENGE (USER_AUTH): choose how to sign in."""

    __slots__ = ()

    @property
    def available(self) -> list[str]:
        """The choices (``AvailableChallenges``): PASSWORD, PASSWORD_SRP, EMAIL_OTP, SMS_OTP, WEB_AUTHN..."""
        return list(self._challenge.available)

    async def respond(
        self, choice: str, password: str | None = None, *, credential: str | None = None
    ) -> Step:
        """Choose a method. PASSWORD and PASSWORD_SRP take the password (SRP runs inside this call);
        EMAIL_OTP/SMS_OTP take nothing (the code is asked next); WEB_AUTHN may carry ``credential``."""
        return await self._respond(ChallengeChoice(choice, password, credential), password=password)


class WebAuthnRequired(ChallengeStep):
    """WEB_AUTHN: sign the request options with a passkey."""

    __slots__ = ()

    @property
    def request_options(self) -> dict[str, Any]:
        """``CREDENTIAL_REQUEST_OPTIONS`` parsed (PublicKeyCredentialRequestOptions); ``{}`` if unparsable."""
        raw = self._challenge.parameters.get("CREDENTIAL_REQUEST_OPTIONS")
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                return {}
        return dict(raw) if isinstance(raw, Mapping) else {}

    async def respond(self, credential: str | Mapping[str, Any]) -> Step:
        """Send the authenticator's AuthenticationResponseJSON (a JSON string or a dict)."""
        text = credential if isinstance(credential, str) else json.dumps(credential, separators=(",", ":"))
        return await self._respond(WebAuthnAnswer(text))


class Challenge(ChallengeStep):
    """A challenge this version does not know: answer it with raw ChallengeResponses."""

    __slots__ = ()

    async def respond(self, responses: Mapping[str, str]) -> Step:
        """Send ``responses``; USERNAME, SECRET_HASH and DEVICE_KEY are added unless given."""
        return await self._respond(RawAnswer(dict(responses)))


STEP_CLASSES: Mapping[str, type[ChallengeStep]] = {
    **{name: MfaCodeRequired for name in CODE_CHALLENGES},
    "NEW_PASSWORD_REQUIRED": NewPasswordRequired,
    "SELECT_MFA_TYPE": MfaSelectionRequired,
    "MFA_SETUP": TotpSetupRequired,
    "CUSTOM_CHALLENGE": CustomChallenge,
    "SELECT_CHALLENGE": ChallengeSelectionRequired,
    "WEB_AUTHN": WebAuthnRequired,
}
