"""The authentication surface: InitiateAuth and RespondToAuthChallenge (and their Admin forms).

:class:`AuthService` checks each call (app client, API, SECRET_HASH, Session) and hands it to the module of
its flow or challenge: ``_password_auth``, ``_srp_auth``, ``_custom_auth``, ``_choice_auth`` (USER_AUTH),
``_refresh_auth``, then ``_challenges`` (NEW_PASSWORD_REQUIRED, MFA) and ``_device_auth``. A sign-in is a
:class:`~._state.SignIn` carried from challenge to challenge. After each factor :meth:`AuthService._advance`
decides the next step in Cognito's order: account state (unconfirmed, reset required),
NEW_PASSWORD_REQUIRED, device SRP for a presented DEVICE_KEY, MFA (unless a remembered device or a
passwordless factor made it unnecessary), tokens.

Strictness, as Cognito:

* every Session is single-use (a new one comes with each challenge), bound to its app client, API
  (admin or not), user and challenge name, and expires after the client's AuthSessionValidity;
  USER_SRP_AUTH's PASSWORD_VERIFIER has no Session: its SECRET_BLOCK is the single-use handle;
* SECRET_HASH is checked on every call of a client with a secret, over that request's USERNAME;
* SRP is real (``B = k*v + g^b``); the signature, the SECRET_BLOCK and the TIMESTAMP (exact format, within
  five minutes of the pool's clock) must all be right, else "Incorrect username or password.";
* a wrong or reused code (CodeMismatchException, ExpiredCodeException) or an invalid answer
  (InvalidParameterException, InvalidPasswordException) leaves the session usable, up to three failures;
  a TOTP code is accepted once (a reused code gives ExpiredCodeException);
* five failed password checks lock the user out (1 s, doubling, at most 15 min): "Password attempts
  exceeded";
* a user with no password is treated like an unknown user: a made-up verifier, then
  "Incorrect username or password." at PASSWORD_VERIFIER (an empty password never passes).

The pool's Lambda triggers (``_triggers``) run where Cognito runs them: UserMigration_Authentication when
USER_PASSWORD_AUTH / ADMIN_USER_PASSWORD_AUTH names an unknown user (not SRP: the trigger needs the
password), PreAuthentication before the first factor, the custom challenge triggers in ``_custom_auth``,
PreTokenGeneration while the tokens are made (``_issuer``) and PostAuthentication after (raising: the
tokens are revoked and the sign-in fails). RespondToAuthChallenge's ClientMetadata reaches them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import errors
from . import _rules, _triggers, _users
from ._auth_events import record_auth_event
from ._auth_types import Answer, Response
from ._challenges import Challenges
from ._choice_auth import ChoiceAuth
from ._custom_auth import CustomAuth, PasswordVerifierStep
from ._device_auth import DeviceAuth
from ._devices import DeviceService
from ._issuer import TokenIssuer
from ._lookups import Lookups
from ._mfa import MfaService
from ._password_auth import PasswordAuth
from ._refresh_auth import RefreshAuth
from ._rules import INCORRECT, INVALID_SESSION
from ._sessions import EXPIRED_SESSION, ChallengeSessions
from ._srp_auth import SrpAuth
from ._srp_server import SrpServer
from ._state import CustomChallenge, PoolState, SignIn

if TYPE_CHECKING:
    from ._records import Client, User, UserPool

__all__ = ["AuthService"]

_PASSWORD_FLOWS = frozenset({"USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"})
_ADMIN_ONLY_FLOWS = frozenset({"ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"})
_REFRESH_FLOWS = frozenset({"REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"})
_RETRYABLE_ANSWER_ERRORS = (
    errors.CodeMismatchException,
    errors.ExpiredCodeException,
    errors.InvalidParameterException,
    errors.InvalidPasswordException,
)


class AuthService:
    """Answers the sign-in operations from the pool's users and the protocol state."""

    def __init__(
        self,
        state: PoolState,
        issuer: TokenIssuer,
        lookups: Lookups,
        sessions: ChallengeSessions,
        devices: DeviceService,
        mfa: MfaService,
        refresh: RefreshAuth,
    ) -> None:
        self.state = state
        self.issuer = issuer
        self.lookups = lookups
        self.sessions = sessions
        self.devices = devices
        self.mfa = mfa
        self.refresh = refresh
        # the flows and challenges; each goes on with self._advance after a factor succeeded
        advance = self._advance
        self.srp_server = SrpServer(state)
        self.password = PasswordAuth(state)
        self.challenges = Challenges(state, lookups, sessions, mfa, advance)
        self.device_auth = DeviceAuth(state, sessions, self.srp_server, devices, advance)
        self.custom = CustomAuth(state, lookups, sessions, advance)
        self.srp = SrpAuth(state, lookups, sessions, self.srp_server, self.password, self.custom, advance)
        self.choice = ChoiceAuth(lookups, sessions, self.password, self.srp, self.challenges, advance)
        self._answers: dict[str, Answer] = {
            "PASSWORD_VERIFIER": self.srp.answer_password_verifier,
            "NEW_PASSWORD_REQUIRED": self.challenges.answer_new_password,
            "SMS_MFA": self.challenges.answer_code,
            "EMAIL_OTP": self.challenges.answer_code,
            "SMS_OTP": self.challenges.answer_code,
            "SOFTWARE_TOKEN_MFA": self.challenges.answer_totp,
            "SELECT_MFA_TYPE": self.challenges.answer_select_mfa,
            "MFA_SETUP": self.challenges.answer_mfa_setup,
            "CUSTOM_CHALLENGE": self.custom.answer_custom,
            "SELECT_CHALLENGE": self.choice.answer_select_challenge,
            "PASSWORD": self.choice.answer_select_challenge,
            "PASSWORD_SRP": self.choice.answer_select_challenge,
            "WEB_AUTHN": self.choice.answer_web_authn,
            "DEVICE_SRP_AUTH": self.device_auth.answer_device_srp,
            "DEVICE_PASSWORD_VERIFIER": self.device_auth.answer_device_verifier,
        }

    def __repr__(self) -> str:
        return f"<AuthService pending={len(self.state.challenges)}>"

    # ===== InitiateAuth ====================================================================================
    def initiate_auth(self, params: Mapping[str, Any], *, admin: bool) -> Response:
        """InitiateAuth / AdminInitiateAuth."""
        with _triggers.auth_request(params, initiate=True):
            return self._initiate_auth(params, admin=admin)

    def _initiate_auth(self, params: Mapping[str, Any], *, admin: bool) -> Response:
        _rules.require(params, *(("UserPoolId",) if admin else ()), "ClientId", "AuthFlow")
        pool, client = self.lookups.client(params["ClientId"], params.get("UserPoolId") if admin else None)
        flow = str(params["AuthFlow"])
        auth: Mapping[str, Any] = params.get("AuthParameters") or {}
        if (flow in _ADMIN_ONLY_FLOWS and not admin) or (flow == "USER_PASSWORD_AUTH" and admin):
            raise errors.InvalidParameterException("Initiate Auth method not supported.")
        _rules.check_flow(client, flow)
        if flow in _REFRESH_FLOWS:
            return self.refresh.initiate(pool, client, auth)
        _rules.require(auth, "USERNAME", where="AuthParameters")
        name = str(auth["USERNAME"])
        _rules.check_secret_hash(client, name, auth.get("SECRET_HASH"))
        device_key = auth.get("DEVICE_KEY") or None
        if flow in _PASSWORD_FLOWS:
            _rules.require(auth, "PASSWORD", where="AuthParameters")
            password = str(auth["PASSWORD"])
            if _rules.resolve_user(pool, name) is None:  # a UserMigration trigger may bring the user in
                source = "UserMigration_Authentication"
                _users.migrate_user(self.state, pool, client, name, source, password=password)
            user = self.lookups.find_user(pool, client, name)
            sign_in = self.password.first_factor(pool, client, user, password, flow, admin)
            sign_in.device_key = device_key
            return self._advance(sign_in)
        if flow == "USER_SRP_AUTH":
            _rules.require(auth, "SRP_A", where="AuthParameters")
            a_hex = self.srp_server.check_srp_a(auth["SRP_A"])
            user = self.lookups.find_user(pool, client, name)
            return self.srp.password_verifier_challenge(
                pool, client, user, name, a_hex, flow, admin, device_key, session=False
            )
        if flow == "CUSTOM_AUTH":
            user = self.lookups.find_user(pool, client, name)
            password_verifier: PasswordVerifierStep | None = None
            if auth.get("CHALLENGE_NAME") == "SRP_A":
                _rules.require(auth, "SRP_A", where="AuthParameters")
                a_hex = self.srp_server.check_srp_a(auth["SRP_A"])

                def password_verifier(sign_in: SignIn, custom: CustomChallenge | None) -> Response:
                    return self.srp.password_verifier_challenge(
                        pool,
                        client,
                        user,
                        name,
                        a_hex,
                        flow,
                        admin,
                        device_key,
                        session=True,
                        sign_in=sign_in,
                        custom=custom,
                    )

            return self.custom.initiate(pool, client, user, name, admin, device_key, password_verifier)
        # USER_AUTH
        return self.choice.initiate(pool, client, name, auth, admin, device_key)

    # ===== RespondToAuthChallenge ==========================================================================
    def respond_to_auth_challenge(self, params: Mapping[str, Any], *, admin: bool) -> Response:
        """RespondToAuthChallenge / AdminRespondToAuthChallenge."""
        with _triggers.auth_request(params, initiate=False):
            return self._respond_to_auth_challenge(params, admin=admin)

    def _respond_to_auth_challenge(self, params: Mapping[str, Any], *, admin: bool) -> Response:
        _rules.require(params, *(("UserPoolId",) if admin else ()), "ClientId", "ChallengeName")
        pool, client = self.lookups.client(params["ClientId"], params.get("UserPoolId") if admin else None)
        name = str(params["ChallengeName"])
        responses: Mapping[str, Any] = params.get("ChallengeResponses") or {}
        _rules.require(responses, "USERNAME", where="ChallengeResponses")
        username = str(responses["USERNAME"])
        _rules.check_secret_hash(client, username, responses.get("SECRET_HASH"))
        answer = self._answers.get(name)
        if answer is None:
            raise errors.InvalidParameterException(
                f"Challenge {name} is not supported by the local user pool"
            )
        session = params.get("Session")
        if name == "PASSWORD_VERIFIER" and not session:
            _rules.require(responses, "PASSWORD_CLAIM_SECRET_BLOCK", where="ChallengeResponses")
            handle = "srp:" + str(responses["PASSWORD_CLAIM_SECRET_BLOCK"])
            challenge = self.state.challenges.pop(handle, None)
            if challenge is None or challenge.has_session:
                raise errors.NotAuthorizedException(INCORRECT)
            if self.state.now() >= challenge.expires_at:
                raise errors.NotAuthorizedException(EXPIRED_SESSION)
        else:
            handle, challenge = self.sessions.take_session(session)
        sign_in = challenge.sign_in
        expected = challenge.challenge
        if expected == "SELECT_CHALLENGE" and name in ("PASSWORD", "PASSWORD_SRP"):
            # the chosen factor named directly, with its inputs
            expected, responses = name, {**responses, "ANSWER": name}
        if sign_in.client_id != client.id or sign_in.admin != admin or name != expected:
            raise errors.NotAuthorizedException(INVALID_SESSION)
        self._check_same_user(pool, sign_in, username)
        try:
            result: Response = answer(handle, challenge, responses)
        except _RETRYABLE_ANSWER_ERRORS:
            # A wrong or reused code, or an invalid answer (missing attribute, weak password): the same
            # Session may be answered again, a few times. A wrong password or signature ends the sign-in.
            if challenge.has_session:
                self.sessions.give_back(handle, challenge)
            raise
        return result

    def _check_same_user(self, pool: UserPool, sign_in: SignIn, username: str) -> None:
        """The answer's USERNAME must name the user the challenge was issued to."""
        if not sign_in.sub:  # simulated unknown user: only its made-up id "matches", and then fails
            if username != sign_in.username:
                raise errors.NotAuthorizedException(INVALID_SESSION)
            return
        user = _rules.resolve_user(pool, username)
        if user is None or user.sub != sign_in.sub:
            raise errors.NotAuthorizedException(INVALID_SESSION)

    # ===== after each step ================================================================================
    def _advance(self, sign_in: SignIn) -> Response:
        """The next challenge of this sign-in, or its tokens."""
        pool, client, user = self.lookups.signed_in_user(sign_in)
        status = _rules.user_status(user)
        if status == "UNCONFIRMED":
            raise errors.UserNotConfirmedException("User is not confirmed.")
        if status == "RESET_REQUIRED":
            raise errors.PasswordResetRequiredException("Password reset required for the user")
        if (
            sign_in.password_verified
            and status == "FORCE_CHANGE_PASSWORD"
            and "new_password" not in sign_in.done
        ):
            return self.challenges.new_password_challenge(sign_in, pool, user)
        if sign_in.device_key and "device" not in sign_in.done:
            self.devices.confirmed(
                sign_in.device_key, (pool.id, user.sub)
            )  # ResourceNotFoundException if unknown
            return self.sessions.issue(sign_in, "DEVICE_SRP_AUTH")
        if "mfa" not in sign_in.done and not sign_in.skip_mfa:
            step = self.challenges.mfa_step(sign_in, pool, user)
            if step is not None:
                return step
        return self._finish(sign_in, pool, client, user)

    def _finish(
        self,
        sign_in: SignIn,
        pool: UserPool,
        client: Client,
        user: User,
    ) -> Response:
        device_key = sign_in.device_key if sign_in.device_authenticated else None
        new_device = None
        if device_key is None and _rules.device_tracking(pool) is not None:
            new_device = self.devices.issue(pool, user)
            device_key = new_device.device_key
        source = "TokenGeneration_Authentication"
        if "new_password" in sign_in.done:
            source = "TokenGeneration_NewPasswordChallenge"
        elif sign_in.device_authenticated:
            source = "TokenGeneration_AuthenticateDevice"
        result, refresh_token = self.issuer.authentication_result(
            pool, client, user, device_key=device_key, source=source
        )
        try:
            _triggers.post_authentication(
                self.state, pool, user, client.id, new_device=new_device is not None
            )
        except errors.ServiceError:
            if refresh_token is not None:  # the sign-in failed: its tokens are never used
                self.issuer.revoke_family(self.state.refresh_tokens[refresh_token].origin_jti)
            raise
        passed = [("Password", "Success")] * sign_in.password_verified + [("Mfa", "Success")] * (
            "mfa" in sign_in.done
        )
        record_auth_event(self.state, pool, user, event_type="SignIn", response="Pass", challenges=passed)
        if new_device is not None:
            result["NewDeviceMetadata"] = {
                "DeviceKey": new_device.device_key,
                "DeviceGroupKey": new_device.group_key,
            }
        return {"ChallengeParameters": {}, "AuthenticationResult": result}
