"""The sign-in behind the managed login pages, on the pool's own machinery.

The pages never check a password or a code themselves. The username and password go through
:class:`~.._password_auth.PasswordAuth` (PreAuthentication trigger, lockout, imported password hashes;
an unknown user through the UserMigration trigger first), and each later page answers a challenge through
:class:`~.._challenges.Challenges` (NEW_PASSWORD_REQUIRED; SMS_MFA, EMAIL_OTP, SOFTWARE_TOKEN_MFA and
SELECT_MFA_TYPE, with codes to the outbox and TOTP codes used once), the same objects the API sign-in
uses. Only the step after each factor is this module's: the API's order (account state,
NEW_PASSWORD_REQUIRED, MFA) without device SRP, and at the end the PostAuthentication trigger instead
of tokens (managed login hands out a code; the token endpoint makes the tokens).

MFA_SETUP (the pool requires MFA, offers TOTP, and the user has no factor it could send a code to) is
answered as Cognito's managed login answers it: the page shows a new authenticator-app secret (made by
the pool's AssociateSoftwareToken with the challenge Session) and its ``otpauth://`` URI, and the code
typed in goes to VerifySoftwareToken and then to the MFA_SETUP answer, so the user is signed in with TOTP
on from then on. A wrong code shows the same page (same secret) again, a few times. A pool that offers
only SMS set-up (the user has no phone number) still refuses: the pages do not ask for a phone number.

A challenge's Session never reaches the browser: it stays in a :class:`PendingLogin`, and the page
carries only the random id of that record. The client's ExplicitAuthFlows do not apply (Cognito's
managed login does not need them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyotp

from ... import errors
from .. import _rules, _triggers, _users
from .._auth_events import record_auth_event
from .._auth_types import Response
from .._challenges import Challenges
from .._lookups import Lookups
from .._mfa import MfaService
from .._password_auth import PasswordAuth
from .._rules import INVALID_SESSION
from .._sessions import ChallengeSessions
from .._state import PoolState, SignIn, UserKey

if TYPE_CHECKING:
    from .._records import Client, UserPool

__all__ = ["PageSignIn", "ChallengeStep", "SignedInUser", "SIGN_IN_FLOW", "CODE_FIELDS"]

#: The flow name the local pool records for a managed-login sign-in.
SIGN_IN_FLOW = "MANAGED_LOGIN"
#: challenge -> the ChallengeResponses key its page's ``code`` input answers
CODE_FIELDS = {
    "SMS_MFA": "SMS_MFA_CODE",
    "EMAIL_OTP": "EMAIL_OTP_CODE",
    "SOFTWARE_TOKEN_MFA": "SOFTWARE_TOKEN_MFA_CODE",
}
_SIGNED_IN = "__managed_login_signed_in__"
_PRUNE_AT = 256
_RETRYABLE = (
    errors.CodeMismatchException,
    errors.ExpiredCodeException,
    errors.InvalidParameterException,
    errors.InvalidPasswordException,
)
_SETUP_RETRYABLE = (
    errors.EnableSoftwareTokenMFAException,
    errors.CodeMismatchException,
    errors.ExpiredCodeException,
    errors.InvalidParameterException,
)


@dataclass
class PendingLogin:
    """A sign-in waiting on a page: the challenge Session (server-side only) and what the page shows."""

    client_id: str
    challenge: str
    parameters: dict[str, str]
    session: str = field(repr=False)
    #: MFA_SETUP only: the new TOTP secret and its ``otpauth://`` URI, shown on the page
    totp: tuple[str, str] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ChallengeStep:
    """The next page: ``challenge`` with its ChallengeParameters, answered with ``login_id``."""

    challenge: str
    parameters: dict[str, str]
    login_id: str = field(repr=False)
    #: MFA_SETUP only: the TOTP secret and its ``otpauth://`` URI
    totp: tuple[str, str] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SignedInUser:
    """The sign-in is complete."""

    user: UserKey
    username: str


Step = ChallengeStep | SignedInUser


class PageSignIn:
    """Runs managed-login sign-ins: the password page, then one challenge page after another."""

    def __init__(
        self, state: PoolState, lookups: Lookups, sessions: ChallengeSessions, mfa: MfaService
    ) -> None:
        self.state = state
        self.lookups = lookups
        self.sessions = sessions
        self.password = PasswordAuth(state)
        self.challenges = Challenges(state, lookups, sessions, mfa, self._advance)
        self._pending: dict[str, PendingLogin] = {}

    def __repr__(self) -> str:
        return f"<PageSignIn pending={len(self._pending)}>"

    # ----- the pages --------------------------------------------------------------------------------------
    def start(self, pool: UserPool, client: Client, username: str, password: str) -> Step:
        """The sign-in page's username and password. Raises the API's errors (their messages are shown)."""
        if not username or not password:
            raise errors.InvalidParameterException("Username and password are required.")
        if _rules.resolve_user(pool, username) is None:  # a UserMigration trigger may bring the user in
            source = "UserMigration_Authentication"
            _users.migrate_user(self.state, pool, client, username, source, password=password)
        user = self.lookups.find_user(pool, client, username)
        sign_in = self.password.first_factor(pool, client, user, password, SIGN_IN_FLOW, False)
        return self._step(self._advance(sign_in))

    def pending(self, login_id: str) -> PendingLogin | None:
        return self._pending.get(login_id)

    def answer(self, login_id: str, client_id: str, form: Mapping[str, str]) -> Step:
        """A challenge page's form. On a wrong code the same page may be answered again (a few times)."""
        pending = self._pending.get(login_id)
        if pending is None or pending.client_id != client_id:
            raise errors.NotAuthorizedException(INVALID_SESSION)
        if pending.challenge == "MFA_SETUP":
            return self._answer_setup(login_id, pending, form.get("code", "").strip())
        # a form that cannot be an answer (passwords that differ) leaves the page as it was
        responses = self._responses(pending.challenge, pending.parameters.get("USERNAME", ""), form)
        del self._pending[login_id]
        handle, challenge = self.sessions.take_session(pending.session)
        if challenge.sign_in.client_id != client_id or challenge.challenge != pending.challenge:
            raise errors.NotAuthorizedException(INVALID_SESSION)
        answers = {
            "NEW_PASSWORD_REQUIRED": self.challenges.answer_new_password,
            "SMS_MFA": self.challenges.answer_code,
            "EMAIL_OTP": self.challenges.answer_code,
            "SOFTWARE_TOKEN_MFA": self.challenges.answer_totp,
            "SELECT_MFA_TYPE": self.challenges.answer_select_mfa,
        }
        try:
            result = answers[pending.challenge](handle, challenge, responses)
        except _RETRYABLE:
            self.sessions.give_back(handle, challenge)
            if handle in self.state.challenges:  # still answerable: the same page again
                self._pending[login_id] = pending
            raise
        return self._step(result)

    def _answer_setup(self, login_id: str, pending: PendingLogin, code: str) -> Step:
        """VerifySoftwareToken with the typed code, then the MFA_SETUP answer with the Session it returned."""
        del self._pending[login_id]
        try:
            verified = self.challenges.mfa.verify_software_token(
                {"Session": pending.session, "UserCode": code}
            )
        except _SETUP_RETRYABLE:
            if pending.session in self.state.challenges:  # given back: the same page (and secret) again
                self._pending[login_id] = pending
            raise
        handle, challenge = self.sessions.take_session(verified["Session"])
        return self._step(self.challenges.answer_mfa_setup(handle, challenge, {}))

    @staticmethod
    def _responses(challenge: str, username: str, form: Mapping[str, str]) -> dict[str, Any]:
        responses: dict[str, Any] = {"USERNAME": username}
        if challenge in CODE_FIELDS:
            responses[CODE_FIELDS[challenge]] = form.get("code", "").strip()
        elif challenge == "SELECT_MFA_TYPE":
            responses["ANSWER"] = form.get("mfa_type", "")
        else:  # NEW_PASSWORD_REQUIRED
            new_password = form.get("new_password", "")
            confirm = form.get("confirm_password")
            if confirm is not None and confirm != new_password:
                raise errors.InvalidParameterException("Passwords do not match.")
            responses["NEW_PASSWORD"] = new_password
            responses.update({k: v for k, v in form.items() if k.startswith("userAttributes.") and v})
        return responses

    # ----- after each factor ------------------------------------------------------------------------------
    def _advance(self, sign_in: SignIn) -> Response:
        """The API's next step (account state, new password, MFA), or the marker of a finished sign-in."""
        pool, _client, user = self.lookups.signed_in_user(sign_in)
        status = _rules.user_status(user)
        if status == "UNCONFIRMED":
            raise errors.UserNotConfirmedException("User is not confirmed.")
        if status == "RESET_REQUIRED":
            raise errors.PasswordResetRequiredException("Password reset required for the user")
        if status == "FORCE_CHANGE_PASSWORD" and "new_password" not in sign_in.done:
            return self.challenges.new_password_challenge(sign_in, pool, user)
        if "mfa" not in sign_in.done:
            step = self.challenges.mfa_step(sign_in, pool, user)
            if step is not None:
                return step
        return {_SIGNED_IN: sign_in}

    def _step(self, response: Response) -> Step:
        sign_in = response.get(_SIGNED_IN)
        if isinstance(sign_in, SignIn):
            return self._finish(sign_in)
        challenge = str(response["ChallengeName"])
        totp: tuple[str, str] | None = None
        if challenge == "MFA_SETUP":
            response, totp = self._associate(response)
        if len(self._pending) >= _PRUNE_AT:  # forget pages whose challenge expired or was used
            live = self.state.challenges
            self._pending = {k: p for k, p in self._pending.items() if p.session in live}
        login_id = self.state.token(32)
        parameters = {str(k): str(v) for k, v in (response.get("ChallengeParameters") or {}).items()}
        self._pending[login_id] = PendingLogin(
            self._client_of(response), challenge, parameters, session=str(response["Session"]), totp=totp
        )
        return ChallengeStep(challenge, parameters, login_id, totp=totp)

    def _associate(self, response: Response) -> tuple[Response, tuple[str, str]]:
        """MFA_SETUP: a new TOTP secret through AssociateSoftwareToken; the challenge with its new Session."""
        parameters = response.get("ChallengeParameters") or {}
        if "SOFTWARE_TOKEN_MFA" not in str(parameters.get("MFAS_CAN_SETUP", "")):
            raise errors.MFAMethodNotFoundException(
                "MFA is required but not set up, and the managed login sets up only an authenticator app."
            )
        found = self.state.challenges.get(str(response["Session"]))
        pool = self.lookups.pool(found.sign_in.user_pool_id) if found is not None else None
        associated = self.challenges.mfa.associate_software_token({"Session": response["Session"]})
        secret = str(associated["SecretCode"])
        label = str(parameters.get("USERNAME", ""))
        uri = pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name=pool.name if pool else None)
        return {**response, "Session": associated["Session"]}, (secret, uri)

    def _client_of(self, response: Response) -> str:
        found = self.state.challenges.get(str(response["Session"]))
        return found.sign_in.client_id if found is not None else ""

    def _finish(self, sign_in: SignIn) -> SignedInUser:
        pool, client, user = self.lookups.signed_in_user(sign_in)
        _triggers.post_authentication(self.state, pool, user, client.id, new_device=False)
        passed = [("Password", "Success")] + [("Mfa", "Success")] * ("mfa" in sign_in.done)
        record_auth_event(self.state, pool, user, event_type="SignIn", response="Pass", challenges=passed)
        return SignedInUser((pool.id, user.sub), user.username)
