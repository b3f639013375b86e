"""The sign-in state machine: Cognito's challenge/response protocol with no I/O.

A :class:`SignInFlow` turns server answers into the next request, a challenge for the caller, or tokens;
the caller (``session.Session``) does all sending. Time (``now``) and randomness (``random_bytes``) are
parameters, so every step can be replayed against known-answer vectors.

::

    flow = SignInFlow(config, device=record)
    request = flow.initiate("alice", flow="USER_SRP_AUTH", random_bytes=os.urandom)
    while True:
        try:
            answer = await send(request)                      # the caller's I/O
        except ServiceError as exc:
            action = flow.receive_error(exc.code, exc.message)  # RAISE / SESSION_EXPIRED / ...
            ...
        event = flow.receive(answer, password=password, now=now(), random_bytes=os.urandom)
        if isinstance(event, Request): request = event; continue
        break                              # event is Authenticated, PendingChallenge or ...Associated

States (``Phase``) and the legal moves, in the spirit of h11's table::

    IDLE ──initiate──▶ SENT ──receive: tokens──────────────▶ DONE
                        │ ▲ ──receive: SRP/device challenge─▶ SENT (answered automatically)
                        │ └──────────answer──────────┐
                        └─receive: other challenge─▶ CHALLENGED
    SENT ──receive_error──▶ CHALLENGED (a challenge answer failed: the challenge stays answerable)
                          ▶ ERROR ──restart_without_device (once, unknown device)──▶ SENT

Username rules (protocol doc §2): InitiateAuth sends the identifier the user typed; the
PASSWORD_VERIFIER answer sends ``USER_ID_FOR_SRP``; every later answer sends the latest
``ChallengeParameters.USERNAME``; ``SECRET_HASH`` is always computed over the ``USERNAME`` of the same
request. The password is never stored here: the caller passes it to each call that needs it.

A :class:`PendingChallenge` is an immutable snapshot of everything needed to answer a challenge later
(:meth:`PendingChallenge.to_dict`). It holds the Cognito ``Session`` string, which is itself a
short-lived credential (3-15 minutes): keep the saved form as private as a password reset link.

Why one 650-line module: :class:`SignInFlow` is one state machine, and its moves (every request it builds
from a server answer or a caller's answer) stay together beside the one transition table, as in h11. The
values it exchanges live in ``events.py``, parameter reading and answer checks in ``parameters.py``, and
refresh requests in ``refresh.py``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from .._errors import (
    ParamValidationError,
    ProtocolError,
    SignInError,
)
from .._tokens.token_set import check_authentication_result
from .events import (
    AUTH_FLOWS,
    CODE_CHALLENGES,
    Answer,
    AssociateSoftwareToken,
    Authenticated,
    ChallengeChoice,
    ClientConfig,
    CodeAnswer,
    CustomAnswer,
    DeviceCredentials,
    Event,
    MfaTypeAnswer,
    NewPasswordAnswer,
    PendingChallenge,
    RandomBytes,
    RawAnswer,
    Request,
    SoftwareTokenAssociated,
    VerifySoftwareToken,
    WebAuthnAnswer,
)
from .parameters import (
    SECRET_CODE,
    challenge_parameters,
    check_offered,
    new_password_responses,
    optional_text,
    parse_name_list,
    required_text,
    secret_hash,
)
from .srp import (
    Ephemeral,
    format_timestamp,
    new_ephemeral,
    password_signature,
    pool_name_of,
)

__all__ = ["ErrorAction", "Phase", "SignInFlow"]

_ADMIN_ONLY_FLOWS = frozenset({"ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"})
_PASSWORD_FLOWS = frozenset({"USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"})

#: Which answers fit which challenge (RawAnswer fits every challenge; unknown ones take only RawAnswer).
_ANSWERS_FOR: Mapping[str, tuple[type, ...]] = {
    **{name: (CodeAnswer,) for name in CODE_CHALLENGES},
    "NEW_PASSWORD_REQUIRED": (NewPasswordAnswer,),
    "SELECT_MFA_TYPE": (MfaTypeAnswer,),
    "SELECT_CHALLENGE": (ChallengeChoice,),
    "CUSTOM_CHALLENGE": (CustomAnswer,),
    "WEB_AUTHN": (WebAuthnAnswer,),
    "MFA_SETUP": (AssociateSoftwareToken, VerifySoftwareToken),
}


class ErrorAction(enum.Enum):
    """What the driver does with a service error (see :meth:`SignInFlow.receive_error`)."""

    RAISE = "raise"  #: re-raise the service error unchanged
    SESSION_EXPIRED = "session_expired"  #: raise SessionExpiredError from it: sign in again
    RETRY_WITHOUT_DEVICE = "retry_without_device"  #: forget the device, then restart_without_device()
    DEVICE_GONE = "device_gone"  #: forget the device, then SessionExpiredError (no password to restart)


class Phase(enum.Enum):
    """The flow's state."""

    IDLE = "idle"
    SENT = "sent"
    CHALLENGED = "challenged"
    DONE = "done"
    ERROR = "error"


#: The legal moves: (phase, action) -> phases the action may lead to. Anything else is a caller bug.
_TRANSITIONS: Mapping[tuple[Phase, str], frozenset[Phase]] = {
    (Phase.IDLE, "initiate"): frozenset({Phase.SENT}),
    (Phase.SENT, "receive"): frozenset({Phase.SENT, Phase.CHALLENGED, Phase.DONE, Phase.ERROR}),
    (Phase.SENT, "receive_error"): frozenset({Phase.CHALLENGED, Phase.ERROR}),
    (Phase.ERROR, "restart"): frozenset({Phase.SENT}),
    (Phase.CHALLENGED, "answer"): frozenset({Phase.SENT}),
}

# The challenges the flow answers itself, with the password or the remembered device.
_AUTOMATIC = frozenset({"PASSWORD_VERIFIER", "DEVICE_SRP_AUTH", "DEVICE_PASSWORD_VERIFIER"})
_SESSION_MESSAGE = re.compile(r"session", re.IGNORECASE)
_DEVICE_MESSAGE = re.compile(r"device", re.IGNORECASE)


# ----------------------------------------------------------------------------------------------------
# The machine
# ----------------------------------------------------------------------------------------------------


class SignInFlow:
    """One sign-in attempt (or one answer to a saved challenge), as a state machine with no I/O.

    Args:
        config: the app client.
        device: the remembered device to use (its key goes out as DEVICE_KEY), or None.
    """

    def __init__(self, config: ClientConfig, *, device: DeviceCredentials | None = None) -> None:
        self.config = config
        self.phase = Phase.IDLE
        self._device = device
        self._device_key: str | None = device.device_key if device is not None else None
        self._device_retried = False
        self._restartable = True
        self._flow = ""
        self._username = ""
        self._challenge_username = ""
        self._session: str | None = None
        self._metadata: Mapping[str, str] | None = None
        self._preferred: str | None = None
        self._custom_srp = False
        self._ephemeral: Ephemeral | None = None
        self._device_ephemeral: Ephemeral | None = None
        self._in_flight = ""  # operation of the request out
        self._in_flight_session = False  # whether that request carried a Session
        self._pending: PendingChallenge | None = None

    def __repr__(self) -> str:
        return f"<SignInFlow {self._flow or '-'} {self.phase.value} username={self._username!r}>"

    @property
    def username(self) -> str:
        """The identifier the sign-in started with (InitiateAuth USERNAME)."""
        return self._username

    @property
    def challenge_username(self) -> str:
        """The USERNAME the next challenge answer sends (the latest one Cognito named)."""
        return self._challenge_username

    @property
    def device_key(self) -> str | None:
        """The DEVICE_KEY this sign-in sends, if any."""
        return self._device_key

    @classmethod
    def resume(
        cls, config: ClientConfig, challenge: PendingChallenge, *, device: DeviceCredentials | None = None
    ) -> SignInFlow:
        """A flow waiting for the answer to ``challenge`` (saved earlier, maybe by another process).

        ``device`` must be the device whose key the challenge was started with (or None).

        Raises:
            ParamValidationError: the challenge belongs to another pool or app client.
        """
        challenge.check_client(config)
        same_device = device is not None and device.device_key == challenge.device_key
        flow = cls(config, device=device if same_device else None)
        flow._device_key = challenge.device_key  # DEVICE_KEY goes out as it did before the challenge
        flow._restartable = False
        flow._flow = challenge.flow
        flow._username = challenge.username
        flow._challenge_username = challenge.challenge_username
        flow._session = challenge.session
        flow._metadata = challenge.client_metadata
        flow._pending = challenge
        flow.phase = Phase.CHALLENGED
        return flow

    # -- state bookkeeping ---------------------------------------------------------------------------------

    def _move(self, action: str, to: Phase) -> None:
        allowed = _TRANSITIONS.get((self.phase, action))
        if allowed is None or to not in allowed:
            raise SignInError(f"cannot {action} while the sign-in is {self.phase.value}")
        self.phase = to

    def _check(self, action: str) -> None:
        if (self.phase, action) not in _TRANSITIONS:
            raise SignInError(f"cannot {action} while the sign-in is {self.phase.value}")

    # -- requests ------------------------------------------------------------------------------------------

    def _with_secret_hash(self, params: dict[str, str]) -> dict[str, str]:
        """Add SECRET_HASH over this very request's USERNAME (when the client has a secret)."""
        if self.config.client_secret is not None:
            params["SECRET_HASH"] = secret_hash(
                self.config.client_secret, params["USERNAME"], self.config.client_id
            )
        return params

    def _initiate_request(self, auth_parameters: dict[str, str]) -> Request:
        params: dict[str, Any] = {
            "ClientId": self.config.client_id,
            "AuthFlow": self._flow,
            "AuthParameters": auth_parameters,
        }
        if self._metadata:
            params["ClientMetadata"] = dict(self._metadata)
        operation = "InitiateAuth"
        if self.config.admin:
            operation = "AdminInitiateAuth"
            params["UserPoolId"] = self.config.user_pool_id
        self._in_flight, self._in_flight_session = operation, False
        return Request(operation, params)

    def _respond_request(self, challenge_name: str, responses: dict[str, str]) -> Request:
        """RespondToAuthChallenge with USERNAME (the latest), DEVICE_KEY and SECRET_HASH filled in."""
        responses.setdefault("USERNAME", self._challenge_username)
        if self._device_key:
            responses.setdefault("DEVICE_KEY", self._device_key)
        if "SECRET_HASH" not in responses:
            self._with_secret_hash(responses)
        params: dict[str, Any] = {
            "ClientId": self.config.client_id,
            "ChallengeName": challenge_name,
            "ChallengeResponses": responses,
        }
        if self._session:
            params["Session"] = self._session
        if self._metadata:
            params["ClientMetadata"] = dict(self._metadata)
        operation = "RespondToAuthChallenge"
        if self.config.admin:
            operation = "AdminRespondToAuthChallenge"
            params["UserPoolId"] = self.config.user_pool_id
        self._in_flight, self._in_flight_session = operation, bool(self._session)
        return Request(operation, params)

    def _new_ephemeral(self, random_bytes: RandomBytes) -> Ephemeral:
        return new_ephemeral(random_bytes, self.config.srp_ephemeral_bytes)

    # -- start ---------------------------------------------------------------------------------------------

    def initiate(
        self,
        username: str,
        *,
        flow: str = "USER_SRP_AUTH",
        password: str | None = None,
        preferred_challenge: str | None = None,
        custom_srp: bool = False,
        client_metadata: Mapping[str, str] | None = None,
        random_bytes: RandomBytes,
    ) -> Request:
        """The InitiateAuth (or AdminInitiateAuth) request that starts the sign-in.

        ``password`` is read here only for the password flows (it goes in AuthParameters); SRP flows need
        it later, in :meth:`receive`. Nothing keeps it.

        Raises:
            ParamValidationError: unknown flow, a missing password, an admin flow on a non-admin client...
        """
        self._check("initiate")
        problems: list[str] = []
        if not isinstance(username, str) or not username:
            problems.append("username must be a non-empty string")
        if flow not in AUTH_FLOWS:
            problems.append(f"flow must be one of {sorted(AUTH_FLOWS)}, not {flow!r}")
        if flow in _ADMIN_ONLY_FLOWS and not self.config.admin:
            problems.append(f"{flow} needs an admin session (admin=True: AdminInitiateAuth)")
        if custom_srp and flow != "CUSTOM_AUTH":
            problems.append("custom_srp applies only to flow='CUSTOM_AUTH'")
        if preferred_challenge is not None and flow != "USER_AUTH":
            problems.append("preferred_challenge applies only to flow='USER_AUTH'")
        needs_password = (
            flow in _PASSWORD_FLOWS
            or flow == "USER_SRP_AUTH"
            or (flow == "CUSTOM_AUTH" and custom_srp)
            or (flow == "USER_AUTH" and preferred_challenge in ("PASSWORD", "PASSWORD_SRP"))
        )
        if needs_password and not password:
            problems.append(f"{flow} needs a password")
        if problems:
            raise ParamValidationError("sign_in", problems)
        self._flow, self._username, self._challenge_username = flow, username, username
        self._preferred, self._custom_srp = preferred_challenge, custom_srp
        self._metadata = dict(client_metadata) if client_metadata else None
        request = self._first_request(password, random_bytes)
        self._move("initiate", Phase.SENT)
        return request

    def _first_request(self, password: str | None, random_bytes: RandomBytes) -> Request:
        auth: dict[str, str] = {"USERNAME": self._username}
        flow = self._flow
        if flow == "USER_SRP_AUTH" or (flow == "CUSTOM_AUTH" and self._custom_srp):
            self._ephemeral = self._new_ephemeral(random_bytes)
            if flow == "CUSTOM_AUTH":
                auth["CHALLENGE_NAME"] = "SRP_A"
            auth["SRP_A"] = self._ephemeral.srp_a
        elif flow in _PASSWORD_FLOWS:
            auth["PASSWORD"] = password or ""
        elif flow == "USER_AUTH" and self._preferred:
            auth["PREFERRED_CHALLENGE"] = self._preferred
            if self._preferred == "PASSWORD":
                auth["PASSWORD"] = password or ""
            elif self._preferred == "PASSWORD_SRP":
                self._ephemeral = self._new_ephemeral(random_bytes)
                auth["SRP_A"] = self._ephemeral.srp_a
        if self._device_key:
            auth["DEVICE_KEY"] = self._device_key
        return self._initiate_request(self._with_secret_hash(auth))

    def restart_without_device(self, *, password: str | None, random_bytes: RandomBytes) -> Request:
        """After :attr:`ErrorAction.RETRY_WITHOUT_DEVICE`: the same InitiateAuth, without DEVICE_KEY."""
        if not self._restartable or self._device_retried:
            raise SignInError("this sign-in cannot be restarted")
        self._check("restart")
        self._device, self._device_key, self._device_retried = None, None, True
        self._session, self._challenge_username = None, self._username
        self._ephemeral = self._device_ephemeral = None
        request = self._first_request(password, random_bytes)
        self._move("restart", Phase.SENT)
        return request

    # -- answers from the server ---------------------------------------------------------------------------

    def receive(
        self,
        response: Mapping[str, Any],
        *,
        password: str | None = None,
        now: datetime,
        random_bytes: RandomBytes,
    ) -> Event:
        """Feed the answer to the last request; get the next request, a challenge, or the tokens.

        ``password`` is needed only when the answer is PASSWORD_VERIFIER; ``now`` (aware) sets TIMESTAMP.

        Raises:
            ProtocolError: the answer breaks the protocol (no tokens and no challenge, bad SRP values...).
            SignInError: the server asks for something this flow cannot give (a device it does not have...).
        """
        self._check("receive")
        try:
            event = self._receive(response, password, now, random_bytes)
        except Exception:
            self._move(
                "receive", Phase.CHALLENGED if not self._restartable and self._pending else Phase.ERROR
            )
            raise
        if isinstance(event, Request):
            self._move("receive", Phase.SENT)
        elif isinstance(event, Authenticated):
            self._move("receive", Phase.DONE)
        else:
            self._move("receive", Phase.CHALLENGED)
        return event

    def _receive(
        self, response: Mapping[str, Any], password: str | None, now: datetime, random_bytes: RandomBytes
    ) -> Event:
        if self._in_flight == "AssociateSoftwareToken":
            return self._on_associated(response)
        if self._in_flight == "VerifySoftwareToken":
            return self._on_verified(response)
        result = response.get("AuthenticationResult")
        if result is not None and result != {}:
            check_authentication_result(result)  # a malformed result is a ProtocolError, never a sign-in
            self._session = None
            return Authenticated(
                result=result, username=self._challenge_username, device_key=self._device_key
            )
        name = response.get("ChallengeName")
        if not isinstance(name, str) or not name:
            raise ProtocolError(f"{self._in_flight} answered with neither tokens nor a challenge")
        params = challenge_parameters(response.get("ChallengeParameters"))
        self._session = optional_text(response, "Session")
        latest = params.get("USERNAME")
        if isinstance(latest, str) and latest:
            self._challenge_username = latest
        if name == "PASSWORD_VERIFIER":
            return self._password_verifier(params, password, now)
        if name == "DEVICE_SRP_AUTH":
            return self._device_srp_auth(random_bytes)
        if name == "DEVICE_PASSWORD_VERIFIER":
            return self._device_password_verifier(params, now)
        available = response.get("AvailableChallenges")
        if available is not None and not (
            isinstance(available, list) and all(isinstance(a, str) for a in available)
        ):
            raise ProtocolError("AvailableChallenges is not a list of names")
        self._pending = PendingChallenge(
            name=name,
            parameters=params,
            available=tuple(available or ()),
            flow=self._flow,
            username=self._username,
            challenge_username=self._challenge_username,
            session=self._session,
            user_pool_id=self.config.user_pool_id,
            client_id=self.config.client_id,
            admin=self.config.admin,
            device_key=self._device_key,
            client_metadata=self._metadata,
        )
        return self._pending

    @staticmethod
    def _srp_inputs(name: str, params: Mapping[str, Any]) -> tuple[str, str, str]:
        values = [params.get(key) for key in ("SALT", "SRP_B", "SECRET_BLOCK")]
        if not all(isinstance(v, str) and v for v in values):
            raise ProtocolError(f"{name} without SALT, SRP_B and SECRET_BLOCK")
        return values[0], values[1], values[2]  # type: ignore[return-value]

    def _password_verifier(self, params: Mapping[str, Any], password: str | None, now: datetime) -> Request:
        if self._ephemeral is None:
            raise ProtocolError("PASSWORD_VERIFIER arrived, but this sign-in sent no SRP_A")
        if not password:
            raise SignInError("PASSWORD_VERIFIER needs the password, which is only used within the call")
        salt, srp_b, secret_block = self._srp_inputs("PASSWORD_VERIFIER", params)
        user_id = params.get("USER_ID_FOR_SRP")
        if not user_id:  # Cognito always names the real username here (also when an alias was typed)
            raise ProtocolError("PASSWORD_VERIFIER without USER_ID_FOR_SRP")
        timestamp = format_timestamp(now)
        signature = password_signature(
            srp_pool_name=pool_name_of(self.config.user_pool_id),
            srp_user_id=user_id,
            password=password,
            ephemeral=self._ephemeral,
            salt_hex=salt,
            srp_b_hex=srp_b,
            secret_block_b64=secret_block,
            timestamp=timestamp,
        )
        self._ephemeral = None
        self._challenge_username = user_id  # the real username from here on (not the typed alias)
        responses = {
            "USERNAME": user_id,
            "PASSWORD_CLAIM_SECRET_BLOCK": secret_block,
            "TIMESTAMP": timestamp,
            "PASSWORD_CLAIM_SIGNATURE": signature,
        }
        return self._respond_request("PASSWORD_VERIFIER", responses)

    def _device_srp_auth(self, random_bytes: RandomBytes) -> Request:
        if self._device is None or not self._device_key:
            raise SignInError("Cognito asked for DEVICE_SRP_AUTH, but no remembered device is available")
        self._device_ephemeral = self._new_ephemeral(random_bytes)
        return self._respond_request(
            "DEVICE_SRP_AUTH", {"DEVICE_KEY": self._device_key, "SRP_A": self._device_ephemeral.srp_a}
        )

    def _device_password_verifier(self, params: Mapping[str, Any], now: datetime) -> Request:
        if self._device is None or self._device_ephemeral is None:
            raise ProtocolError("DEVICE_PASSWORD_VERIFIER arrived before DEVICE_SRP_AUTH")
        salt, srp_b, secret_block = self._srp_inputs("DEVICE_PASSWORD_VERIFIER", params)
        timestamp = format_timestamp(now)
        signature = password_signature(
            srp_pool_name=self._device.device_group_key,
            srp_user_id=self._device.device_key,
            password=self._device.device_password,
            ephemeral=self._device_ephemeral,
            salt_hex=salt,
            srp_b_hex=srp_b,
            secret_block_b64=secret_block,
            timestamp=timestamp,
        )
        self._device_ephemeral = None
        responses = {
            "PASSWORD_CLAIM_SECRET_BLOCK": secret_block,
            "TIMESTAMP": timestamp,
            "PASSWORD_CLAIM_SIGNATURE": signature,
        }
        return self._respond_request("DEVICE_PASSWORD_VERIFIER", responses)

    def _on_associated(self, response: Mapping[str, Any]) -> SoftwareTokenAssociated:
        secret, session = response.get("SecretCode"), optional_text(response, "Session")
        if not isinstance(secret, str) or SECRET_CODE.fullmatch(secret) is None:
            raise ProtocolError("AssociateSoftwareToken answered without a valid SecretCode")
        assert self._pending is not None
        if session:
            self._session = session
        self._pending = replace(self._pending, session=self._session, totp_associated=True)
        return SoftwareTokenAssociated(secret_code=secret, challenge=self._pending)

    def _on_verified(self, response: Mapping[str, Any]) -> Request:
        status, session = response.get("Status"), optional_text(response, "Session")
        if status != "SUCCESS":
            raise SignInError("VerifySoftwareToken did not accept the code (status ERROR): try another code")
        if not session:
            raise ProtocolError("VerifySoftwareToken answered without a Session")
        self._session = session
        return self._respond_request("MFA_SETUP", {})

    def receive_error(self, code: str, message: str) -> ErrorAction:
        """Decide what a service error on the last request means for the sign-in.

        * ``ResourceNotFoundException`` about a device, when DEVICE_KEY went out: the device is gone.
          Retry once without it when this flow started the sign-in (the caller still has the password),
          otherwise :attr:`ErrorAction.DEVICE_GONE`.
        * ``NotAuthorizedException`` about the session on a request that carried one:
          :attr:`ErrorAction.SESSION_EXPIRED`.
        * Anything else: :attr:`ErrorAction.RAISE`. When the failed request answered a challenge, that
          challenge stays answerable: after ``CodeMismatchException`` (a wrong code) and after
          ``ExpiredCodeException``, which Cognito also sends for a TOTP code used once already, while the
          session lives on (a fresh code then works; when the session itself is gone, the next answer
          gets the session error).
        """
        self._check("receive_error")
        self._ephemeral = self._device_ephemeral = None
        action = ErrorAction.RAISE
        if code == "ResourceNotFoundException" and self._device_key and _DEVICE_MESSAGE.search(message or ""):
            if self._restartable and not self._device_retried:
                self._move("receive_error", Phase.ERROR)
                return ErrorAction.RETRY_WITHOUT_DEVICE
            action = ErrorAction.DEVICE_GONE
        elif (
            code == "NotAuthorizedException"
            and self._in_flight_session
            and _SESSION_MESSAGE.search(message or "")
        ):
            action = ErrorAction.SESSION_EXPIRED
        if action is ErrorAction.RAISE and self._pending is not None and not self._restartable:
            self._session = self._pending.session  # the challenge as it was: answer it again
            self._move("receive_error", Phase.CHALLENGED)
        else:
            self._move("receive_error", Phase.ERROR)
        return action

    # -- answers from the caller ---------------------------------------------------------------------------

    def answer(self, answer: Answer, *, random_bytes: RandomBytes) -> Request:
        """The request that answers the pending challenge.

        Raises:
            ParamValidationError: the answer does not fit the challenge (wrong type, a missing required
                attribute, a choice that was not offered, a missing password...); nothing was sent.
        """
        self._check("answer")
        pending = self._pending
        assert pending is not None
        allowed = _ANSWERS_FOR.get(pending.name, ())
        if not isinstance(answer, RawAnswer) and not isinstance(answer, allowed):
            raise ParamValidationError(
                "RespondToAuthChallenge", [f"{type(answer).__name__} does not answer {pending.name}"]
            )
        self._session = pending.session
        self._challenge_username = pending.challenge_username
        request = self._answer_request(pending, answer, random_bytes)
        self._move("answer", Phase.SENT)
        return request

    def _answer_request(
        self, pending: PendingChallenge, answer: Answer, random_bytes: RandomBytes
    ) -> Request:
        name = pending.name
        if isinstance(answer, RawAnswer):
            return self._respond_request(name, {str(k): str(v) for k, v in answer.responses.items()})
        if isinstance(answer, CodeAnswer):
            return self._respond_request(name, {CODE_CHALLENGES[name][0]: required_text(answer.code, "code")})
        if isinstance(answer, NewPasswordAnswer):
            return self._respond_request(name, new_password_responses(pending, answer))
        if isinstance(answer, MfaTypeAnswer):
            offered = parse_name_list(pending.parameters.get("MFAS_CAN_CHOOSE"))
            check_offered(answer.choice, offered)
            return self._respond_request(name, {"ANSWER": answer.choice})
        if isinstance(answer, ChallengeChoice):
            return self._respond_request(name, self._choice_responses(pending, answer, random_bytes))
        if isinstance(answer, CustomAnswer):
            return self._respond_request(name, {"ANSWER": answer.answer})
        if isinstance(answer, WebAuthnAnswer):
            return self._respond_request(name, {"CREDENTIAL": required_text(answer.credential, "credential")})
        if isinstance(answer, AssociateSoftwareToken):
            return self._software_token_request("AssociateSoftwareToken", {})
        # VerifySoftwareToken
        params: dict[str, Any] = {"UserCode": required_text(answer.code, "code")}
        if answer.friendly_device_name:
            params["FriendlyDeviceName"] = answer.friendly_device_name
        if not pending.totp_associated:
            raise ParamValidationError("VerifySoftwareToken", ["call associate() before respond(code)"])
        return self._software_token_request("VerifySoftwareToken", params)

    def _software_token_request(self, operation: str, params: dict[str, Any]) -> Request:
        if not self._session:
            raise ProtocolError(f"MFA_SETUP came without a Session, so {operation} cannot be called")
        params["Session"] = self._session
        self._in_flight, self._in_flight_session = operation, True
        return Request(operation, params)

    def _choice_responses(
        self, pending: PendingChallenge, answer: ChallengeChoice, random_bytes: RandomBytes
    ) -> dict[str, str]:
        choice = answer.choice
        check_offered(choice, list(pending.available))
        responses = {"ANSWER": choice}
        if choice in ("PASSWORD", "PASSWORD_SRP") and not answer.password:
            raise ParamValidationError("RespondToAuthChallenge", [f"{choice} needs the password"])
        if choice == "PASSWORD":
            responses["PASSWORD"] = answer.password or ""
        elif choice == "PASSWORD_SRP":
            self._ephemeral = self._new_ephemeral(random_bytes)
            responses["SRP_A"] = self._ephemeral.srp_a
        elif choice == "WEB_AUTHN" and answer.credential:
            responses["CREDENTIAL"] = answer.credential
        return responses
