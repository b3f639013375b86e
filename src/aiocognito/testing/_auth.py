"""The authentication surface: InitiateAuth and RespondToAuthChallenge (and their Admin forms).

A sign-in is a :class:`~._state.SignIn` carried from challenge to challenge. After the first factor
(password, SRP, custom challenge or one-time code) :meth:`AuthService._advance` decides the next step in
Cognito's order: account state (unconfirmed, reset required), NEW_PASSWORD_REQUIRED, device SRP for a
presented DEVICE_KEY, MFA (unless a remembered device or a passwordless factor made it unnecessary), tokens.

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
* a user with no password in moto is treated like an unknown user: a made-up verifier, then
  "Incorrect username or password." at PASSWORD_VERIFIER (an empty password never passes).

MFA settings and the TOTP operations are in ``_mfa`` (``AuthService.mfa``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from moto.cognitoidp.models import CognitoIdpUserPoolAttribute, UserStatus

from .. import errors
from .._errors import ProtocolError
from .._signin.srp import (
    N,
    compute_verifier,
    expected_signature,
    format_timestamp,
    hex_to_int,
    pool_name_of,
    salt_to_hex,
    server_ephemeral,
)
from . import _rules
from ._devices import DeviceService
from ._issuer import TokenIssuer
from ._mfa import MfaService
from ._rules import INCORRECT, INVALID_SESSION
from ._state import (
    ChallengeState,
    CustomChallenge,
    PoolState,
    SignIn,
    SrpState,
    UserKey,
    fingerprint,
)

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool, CognitoIdpUserPoolClient

__all__ = ["AuthService", "timestamp_ok"]

Response = dict[str, Any]

_PASSWORD_FLOWS = frozenset({"USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"})
_ADMIN_ONLY_FLOWS = frozenset({"ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"})
_REFRESH_FLOWS = frozenset({"REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"})
_CODE_KEYS = {"SMS_MFA": "SMS_MFA_CODE", "EMAIL_OTP": "EMAIL_OTP_CODE", "SMS_OTP": "SMS_OTP_CODE"}
_MAX_CODE_FAILURES = 3
_PRUNE_EVERY = 1000
_RETRYABLE_ANSWER_ERRORS = (
    errors.CodeMismatchException,
    errors.ExpiredCodeException,
    errors.InvalidParameterException,
    errors.InvalidPasswordException,
)
_TIMESTAMP_SKEW = 300.0
_LOCKOUT_AFTER = 5
_LOCKOUT_MAX = 900.0
_TIMESTAMP_RE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"([1-9]|[12][0-9]|3[01]) ([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]) UTC ([0-9]{4})"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_USED_SESSION = "Invalid session for the user, session can only be used once."
_EXPIRED_SESSION = "Invalid session for the user, session is expired."


def timestamp_ok(text: object, now: float, skew: float = _TIMESTAMP_SKEW) -> bool:
    """True when ``text`` is exactly Cognito's TIMESTAMP format (unpadded day, right weekday) near ``now``."""
    if not isinstance(text, str):
        return False
    match = _TIMESTAMP_RE.fullmatch(text)
    if match is None:
        return False
    _, month, day, hour, minute, second, year = match.groups()
    try:
        when = datetime(
            int(year),
            _MONTHS.index(month) + 1,
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone.utc,
        )
    except ValueError:  # Feb 30 and the like
        return False
    if format_timestamp(when) != text:  # the weekday does not match the date
        return False
    return abs(when.timestamp() - now) <= skew


def _same(a: str, b: object) -> bool:
    return isinstance(b, str) and hmac.compare_digest(a.encode(), b.encode())


class AuthService:
    """Answers the sign-in operations from moto's users and the pool's own protocol state."""

    def __init__(self, state: PoolState, issuer: TokenIssuer, devices: DeviceService) -> None:
        self.state = state
        self.issuer = issuer
        self.devices = devices
        self.mfa = MfaService(state, self)
        self._used_sessions: dict[str, float] = {}  # used Session -> when it would have expired
        self._fake_salt = state.random_bytes(32)
        self._stored = 0

    def __repr__(self) -> str:
        return f"<AuthService pending={len(self.state.challenges)}>"

    # ===== lookups ========================================================================================
    def client(
        self, client_id: object, user_pool_id: object = None
    ) -> tuple[CognitoIdpUserPool, CognitoIdpUserPoolClient]:
        """The pool and app client; ResourceNotFoundException when unknown (or in another pool)."""
        if user_pool_id is not None and self.state.moto.user_pool(str(user_pool_id)) is None:
            raise errors.ResourceNotFoundException(f"User pool {user_pool_id} does not exist.")
        found = self.state.moto.app_client(str(client_id)) if isinstance(client_id, str) else None
        if found is None or (user_pool_id is not None and found[0].id != user_pool_id):
            raise errors.ResourceNotFoundException(f"User pool client {client_id} does not exist.")
        return found

    def pool(self, user_pool_id: object) -> CognitoIdpUserPool:
        pool = self.state.moto.user_pool(str(user_pool_id)) if isinstance(user_pool_id, str) else None
        if pool is None:
            raise errors.ResourceNotFoundException(f"User pool {user_pool_id} does not exist.")
        return pool

    def admin_user(self, params: Mapping[str, Any]) -> tuple[CognitoIdpUserPool, CognitoIdpUser]:
        """UserPoolId + Username of an admin call; UserNotFoundException when there is no such user."""
        _rules.require(params, "UserPoolId", "Username")
        pool = self.pool(params["UserPoolId"])
        user = _rules.resolve_user(pool, str(params["Username"]))
        if user is None:
            raise errors.UserNotFoundException("User does not exist.")
        return pool, user

    def user_by_key(self, key: UserKey) -> tuple[CognitoIdpUserPool, CognitoIdpUser] | None:
        pool = self.state.moto.user_pool(key[0])
        if pool is None:
            return None
        for user in pool.users.values():
            if user.id == key[1]:
                return pool, user
        return None

    def refreshed_result(self, pool: Any, client: Any, record: Any, *, with_refresh: bool) -> dict[str, Any]:
        """New tokens for a refresh-token record (the user must still exist and be enabled)."""
        found = self.user_by_key(record.user)
        if found is None:
            raise errors.NotAuthorizedException("Invalid Refresh Token")
        if not found[1].enabled:
            raise errors.NotAuthorizedException("User is disabled.")
        result, _ = self.issuer.authentication_result(
            pool,
            client,
            found[1],
            device_key=record.device_key,
            auth_time=record.auth_time,
            origin_jti=record.origin_jti,
            with_refresh=with_refresh,
        )
        return result

    def token_user(self, access_token: object) -> tuple[CognitoIdpUserPool, CognitoIdpUser, UserKey]:
        """The user behind a valid access token (NotAuthorizedException otherwise)."""
        record = self.issuer.check_access_token(access_token)
        found = self.user_by_key(record.user)
        if found is None:
            raise errors.UserNotFoundException("User does not exist.")
        if not found[1].enabled:
            raise errors.NotAuthorizedException("User is disabled.")
        return found[0], found[1], record.user

    def _find_user(
        self, pool: CognitoIdpUserPool, client: CognitoIdpUserPoolClient, name: str
    ) -> CognitoIdpUser | None:
        user = _rules.resolve_user(pool, name)
        if user is None and not _rules.prevents_user_existence_errors(client):
            raise errors.UserNotFoundException("User does not exist.")
        return user

    def signed_in_user(
        self, sign_in: SignIn
    ) -> tuple[CognitoIdpUserPool, CognitoIdpUserPoolClient, CognitoIdpUser]:
        pool, client = self.client(sign_in.client_id)
        found = self.user_by_key((sign_in.user_pool_id, sign_in.sub)) if sign_in.sub else None
        if found is None:
            raise errors.NotAuthorizedException(INCORRECT)
        if not found[1].enabled:
            raise errors.NotAuthorizedException("User is disabled.")
        return pool, client, found[1]

    # ===== the SRP verifier, derived from moto's password ================================================
    def user_verifier(self, pool: CognitoIdpUserPool, user: CognitoIdpUser) -> tuple[bytes, int]:
        """(salt, verifier) for the user's current password in moto, recomputed when it changed.

        A user without a password gets a made-up verifier, as an unknown user does: no password matches it.
        """
        password = user.password
        if not password:
            return self._made_up_verifier(pool, user.username, f"no-password/{user.id}")
        secrets_ = self.state.secrets_for((pool.id, user.id))
        if not secrets_.salt or secrets_.password_fingerprint != fingerprint(password, secrets_.salt):
            salt = self.state.random_bytes(16)
            secrets_.salt = salt
            secrets_.verifier = compute_verifier(
                srp_pool_name=pool_name_of(pool.id), srp_user_id=user.username, password=password, salt=salt
            )
            secrets_.password_fingerprint = fingerprint(password, salt)
        return secrets_.salt, secrets_.verifier

    def _made_up_verifier(self, pool: CognitoIdpUserPool, srp_user_id: str, seed: str) -> tuple[bytes, int]:
        """A stable (salt, verifier) for ``seed`` whose password nobody knows (it derives from a secret)."""
        digest = hmac.new(self._fake_salt, f"{pool.id}/{seed}".encode(), hashlib.sha256).digest()
        salt = digest[16:32]
        verifier = compute_verifier(
            srp_pool_name=pool_name_of(pool.id), srp_user_id=srp_user_id, password=digest.hex(), salt=salt
        )
        return salt, verifier

    def _srp_state(
        self, srp_pool_name: str, srp_user_id: str, salt: bytes, verifier: int, a_hex: str
    ) -> SrpState:
        b, big_b = server_ephemeral(verifier, self.state.random_bytes)
        return SrpState(
            srp_pool_name=srp_pool_name,
            srp_user_id=srp_user_id,
            verifier=verifier,
            b=b,
            B=big_b,
            salt_hex=salt_to_hex(salt),
            secret_block=self.state.random_bytes(96),
            A_hex=a_hex,
        )

    def _srp_ok(self, srp: SrpState, responses: Mapping[str, Any]) -> bool:
        block = responses.get("PASSWORD_CLAIM_SECRET_BLOCK")
        if not _same(base64.b64encode(srp.secret_block).decode("ascii"), block):
            return False
        if not timestamp_ok(responses.get("TIMESTAMP"), self.state.now()):
            return False
        try:
            expected = expected_signature(
                srp_pool_name=srp.srp_pool_name,
                srp_user_id=srp.srp_user_id,
                verifier=srp.verifier,
                b=srp.b,
                B=srp.B,
                A_hex=srp.A_hex,
                salt_hex=srp.salt_hex,
                secret_block=srp.secret_block,
                timestamp=str(responses["TIMESTAMP"]),
            )
        except ProtocolError:
            return False
        return _same(expected, responses.get("PASSWORD_CLAIM_SIGNATURE"))

    @staticmethod
    def _check_srp_a(a_hex: object) -> str:
        try:
            value = hex_to_int(a_hex if isinstance(a_hex, str) else "", what="SRP_A")
        except ProtocolError:
            raise errors.InvalidParameterException("SRP_A is not a valid hex integer") from None
        if value % N == 0:
            raise errors.InvalidParameterException("SRP_A is not valid")
        return str(a_hex)

    # ===== lockout =========================================================================================
    def _check_lockout(self, key: UserKey) -> None:
        secrets_ = self.state.secrets_for(key)
        now = self.state.now()
        if secrets_.failed_attempts and now - secrets_.last_failure_at > _LOCKOUT_MAX:
            secrets_.failed_attempts = 0
        if secrets_.failed_attempts >= _LOCKOUT_AFTER:
            wait = min(_LOCKOUT_MAX, 2.0 ** (secrets_.failed_attempts - _LOCKOUT_AFTER))
            if now < secrets_.last_failure_at + wait:
                raise errors.NotAuthorizedException("Password attempts exceeded")

    def _fail_password(self, key: UserKey) -> errors.NotAuthorizedException:
        secrets_ = self.state.secrets_for(key)
        secrets_.failed_attempts += 1
        secrets_.last_failure_at = self.state.now()
        return errors.NotAuthorizedException(INCORRECT)

    # ===== sessions ========================================================================================
    def _prune(self) -> None:
        """Forget expired challenges and used sessions (a long-running pool would otherwise grow)."""
        now = self.state.now()
        for key in [k for k, c in self.state.challenges.items() if c.expires_at <= now]:
            del self.state.challenges[key]
        for key in [k for k, expires in self._used_sessions.items() if expires <= now]:
            del self._used_sessions[key]

    def _store(self, key: str, challenge: ChallengeState) -> None:
        self._stored += 1
        if self._stored % _PRUNE_EVERY == 0:
            self._prune()
        self.state.challenges[key] = challenge

    def issue(
        self,
        sign_in: SignIn,
        challenge: str,
        parameters: Mapping[str, str] | None = None,
        **fields: Any,
    ) -> Response:
        """Store a challenge under a fresh Session and return the response carrying it."""
        _, client = self.client(sign_in.client_id)
        session = self.state.token(96)
        self._store(
            session,
            ChallengeState(
                sign_in=sign_in,
                challenge=challenge,
                expires_at=self.state.now() + _rules.session_seconds(client),
                **fields,
            ),
        )
        response: Response = {
            "ChallengeName": challenge,
            "Session": session,
            "ChallengeParameters": {"USERNAME": sign_in.username, **(parameters or {})},
        }
        return response

    def take_session(self, session: object) -> tuple[str, ChallengeState]:
        """Remove and return the challenge a Session points to (single use)."""
        if not isinstance(session, str) or not session:
            raise errors.InvalidParameterException("Missing required parameter Session")
        found = self.state.challenges.pop(session, None)
        if found is None:
            raise errors.NotAuthorizedException(
                _USED_SESSION if session in self._used_sessions else INVALID_SESSION
            )
        self._used_sessions[session] = found.expires_at
        if self.state.now() >= found.expires_at:
            raise errors.NotAuthorizedException(_EXPIRED_SESSION)
        return session, found

    def give_back(self, session: str, challenge: ChallengeState) -> None:
        """After a wrong code: the same Session may be answered again, a few times."""
        challenge.failures += 1
        if challenge.failures < _MAX_CODE_FAILURES:
            self.state.challenges[session] = challenge
            self._used_sessions.pop(session, None)

    # ===== InitiateAuth ====================================================================================
    def initiate_auth(self, params: Mapping[str, Any], *, admin: bool) -> Response:
        """InitiateAuth / AdminInitiateAuth."""
        _rules.require(params, *(("UserPoolId",) if admin else ()), "ClientId", "AuthFlow")
        pool, client = self.client(params["ClientId"], params.get("UserPoolId") if admin else None)
        flow = str(params["AuthFlow"])
        auth: Mapping[str, Any] = params.get("AuthParameters") or {}
        if (flow in _ADMIN_ONLY_FLOWS and not admin) or (flow == "USER_PASSWORD_AUTH" and admin):
            raise errors.InvalidParameterException("Initiate Auth method not supported.")
        _rules.check_flow(client, flow)
        if flow in _REFRESH_FLOWS:
            return self._refresh(pool, client, auth)
        _rules.require(auth, "USERNAME", where="AuthParameters")
        name = str(auth["USERNAME"])
        _rules.check_secret_hash(client, name, auth.get("SECRET_HASH"))
        device_key = auth.get("DEVICE_KEY") or None
        if flow in _PASSWORD_FLOWS:
            _rules.require(auth, "PASSWORD", where="AuthParameters")
            user = self._find_user(pool, client, name)
            sign_in = self._password_first_factor(pool, client, user, str(auth["PASSWORD"]), flow, admin)
            sign_in.device_key = device_key
            return self._advance(sign_in)
        if flow == "USER_SRP_AUTH":
            _rules.require(auth, "SRP_A", where="AuthParameters")
            a_hex = self._check_srp_a(auth["SRP_A"])
            user = self._find_user(pool, client, name)
            return self._password_verifier_challenge(
                pool, client, user, name, a_hex, flow, admin, device_key, session=False
            )
        if flow == "CUSTOM_AUTH":
            user = self._find_user(pool, client, name)
            if user is None:
                raise errors.NotAuthorizedException(INCORRECT)
            if not user.enabled:
                raise errors.NotAuthorizedException("User is disabled.")
            if auth.get("CHALLENGE_NAME") == "SRP_A":
                _rules.require(auth, "SRP_A", where="AuthParameters")
                a_hex = self._check_srp_a(auth["SRP_A"])
                return self._password_verifier_challenge(
                    pool, client, user, name, a_hex, flow, admin, device_key, session=True
                )
            sign_in = SignIn(pool.id, client.id, user.id, user.username, admin, flow, device_key=device_key)
            return self._custom_challenge(sign_in)
        # USER_AUTH
        return self._user_auth(pool, client, name, auth, admin, device_key)

    def _password_first_factor(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser | None,
        password: str,
        flow: str,
        admin: bool,
    ) -> SignIn:
        if user is None:
            raise errors.NotAuthorizedException(INCORRECT)
        if not user.enabled:
            raise errors.NotAuthorizedException("User is disabled.")
        key = (pool.id, user.id)
        self._check_lockout(key)
        if not user.password or not _same(user.password, password):
            raise self._fail_password(key)
        self.state.secrets_for(key).failed_attempts = 0
        return SignIn(pool.id, client.id, user.id, user.username, admin, flow, password_verified=True)

    def _password_verifier_challenge(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser | None,
        typed_name: str,
        a_hex: str,
        flow: str,
        admin: bool,
        device_key: str | None,
        *,
        session: bool,
        sign_in: SignIn | None = None,
    ) -> Response:
        if user is not None:
            if not user.enabled:
                raise errors.NotAuthorizedException("User is disabled.")
            salt, verifier = self.user_verifier(pool, user)
            user_id, sub = user.username, user.id
        else:
            # PreventUserExistenceErrors: a stable made-up identity, and a verifier nobody can match.
            digest = hmac.new(self._fake_salt, f"{pool.id}/{typed_name}".encode(), hashlib.sha256).digest()
            user_id, sub = str(uuid.UUID(bytes=digest[:16], version=4)), ""
            salt, verifier = self._made_up_verifier(pool, user_id, f"unknown/{typed_name}")
        if sign_in is None:
            sign_in = SignIn(pool.id, client.id, sub, user_id, admin, flow, device_key=device_key)
        srp = self._srp_state(pool_name_of(pool.id), user_id, salt, verifier, a_hex)
        parameters = {**srp.challenge_parameters(), "USER_ID_FOR_SRP": user_id}
        if session:
            return self.issue(sign_in, "PASSWORD_VERIFIER", parameters, srp=srp)
        # USER_SRP_AUTH: no Session; the SECRET_BLOCK is the handle (measured on a real pool).
        handle = "srp:" + parameters["SECRET_BLOCK"]
        self._store(
            handle,
            ChallengeState(
                sign_in=sign_in,
                challenge="PASSWORD_VERIFIER",
                expires_at=self.state.now() + _rules.session_seconds(client),
                srp=srp,
                has_session=False,
            ),
        )
        return {
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeParameters": {**parameters, "USERNAME": user_id},
        }

    # ----- USER_AUTH ------------------------------------------------------------------------------------
    def _first_factors(self, pool: CognitoIdpUserPool, user: CognitoIdpUser) -> list[str]:
        policy = (pool.extended_config.get("Policies") or {}).get("SignInPolicy") or {}
        allowed = policy.get("AllowedFirstAuthFactors") or ["PASSWORD"]
        attrs = _rules.attributes(user)
        factors: list[str] = []
        if "PASSWORD" in allowed and user.password:
            factors += ["PASSWORD", "PASSWORD_SRP"]
        if "EMAIL_OTP" in allowed and attrs.get("email"):
            factors.append("EMAIL_OTP")
        if "SMS_OTP" in allowed and attrs.get("phone_number"):
            factors.append("SMS_OTP")
        return factors

    def _user_auth(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        name: str,
        auth: Mapping[str, Any],
        admin: bool,
        device_key: str | None,
    ) -> Response:
        if str(pool.extended_config.get("UserPoolTier", "ESSENTIALS")).upper() == "LITE":
            raise errors.FeatureUnavailableInTierException("USER_AUTH requires the Essentials tier or higher")
        user = self._find_user(pool, client, name)
        if user is None:
            raise errors.NotAuthorizedException(INCORRECT)
        if not user.enabled:
            raise errors.NotAuthorizedException("User is disabled.")
        sign_in = SignIn(
            pool.id, client.id, user.id, user.username, admin, "USER_AUTH", device_key=device_key
        )
        available = self._first_factors(pool, user)
        preferred = auth.get("PREFERRED_CHALLENGE")
        if preferred in available:
            return self._start_factor(sign_in, pool, client, user, str(preferred), auth)
        response = self.issue(sign_in, "SELECT_CHALLENGE")
        response["AvailableChallenges"] = available
        return response

    def _start_factor(
        self,
        sign_in: SignIn,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        factor: str,
        inputs: Mapping[str, Any],
    ) -> Response:
        if factor == "PASSWORD":
            _rules.require(inputs, "PASSWORD")
            first = self._password_first_factor(
                pool, client, user, str(inputs["PASSWORD"]), "USER_AUTH", sign_in.admin
            )
            sign_in.password_verified = first.password_verified
            return self._advance(sign_in)
        if factor == "PASSWORD_SRP":
            _rules.require(inputs, "SRP_A")
            a_hex = self._check_srp_a(inputs["SRP_A"])
            return self._password_verifier_challenge(
                pool, client, user, user.username, a_hex, "USER_AUTH", sign_in.admin, sign_in.device_key,
                session=True, sign_in=sign_in,
            )  # fmt: skip
        # EMAIL_OTP / SMS_OTP: passwordless; the code replaces MFA.
        sign_in.skip_mfa = True
        return self._code_challenge(sign_in, user, factor)

    # ----- refresh --------------------------------------------------------------------------------------
    def _refresh(
        self, pool: CognitoIdpUserPool, client: CognitoIdpUserPoolClient, auth: Mapping[str, Any]
    ) -> Response:
        _rules.require(auth, "REFRESH_TOKEN", where="AuthParameters")
        if _rules.rotation(client)[0]:
            raise errors.InvalidParameterException(
                "Refresh token rotation is enabled for this app client: use GetTokensFromRefreshToken"
            )
        record = self.issuer.refresh_record(
            auth["REFRESH_TOKEN"], client.id, device_key=auth.get("DEVICE_KEY") or None
        )
        # SECRET_HASH over the user's real username (cognito:username), not an alias.
        _rules.check_secret_hash(client, record.username, auth.get("SECRET_HASH"))
        result = self.refreshed_result(pool, client, record, with_refresh=False)
        return {"ChallengeParameters": {}, "AuthenticationResult": result}

    # ===== RespondToAuthChallenge ==========================================================================
    def respond_to_auth_challenge(self, params: Mapping[str, Any], *, admin: bool) -> Response:
        """RespondToAuthChallenge / AdminRespondToAuthChallenge."""
        _rules.require(params, *(("UserPoolId",) if admin else ()), "ClientId", "ChallengeName")
        pool, client = self.client(params["ClientId"], params.get("UserPoolId") if admin else None)
        name = str(params["ChallengeName"])
        responses: Mapping[str, Any] = params.get("ChallengeResponses") or {}
        _rules.require(responses, "USERNAME", where="ChallengeResponses")
        username = str(responses["USERNAME"])
        _rules.check_secret_hash(client, username, responses.get("SECRET_HASH"))
        handler = self._handlers.get(name)
        if handler is None:
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
                raise errors.NotAuthorizedException(_EXPIRED_SESSION)
        else:
            handle, challenge = self.take_session(session)
        sign_in = challenge.sign_in
        expected = challenge.challenge
        if expected == "SELECT_CHALLENGE" and name in ("PASSWORD", "PASSWORD_SRP"):
            # the chosen factor named directly, with its inputs
            expected, responses = name, {**responses, "ANSWER": name}
        if sign_in.client_id != client.id or sign_in.admin != admin or name != expected:
            raise errors.NotAuthorizedException(INVALID_SESSION)
        self._check_same_user(pool, sign_in, username)
        try:
            result: Response = handler(self, handle, challenge, responses)
        except _RETRYABLE_ANSWER_ERRORS:
            # A wrong or reused code, or an invalid answer (missing attribute, weak password): the same
            # Session may be answered again, a few times. A wrong password or signature ends the sign-in.
            if challenge.has_session:
                self.give_back(handle, challenge)
            raise
        return result

    def _check_same_user(self, pool: CognitoIdpUserPool, sign_in: SignIn, username: str) -> None:
        """The answer's USERNAME must name the user the challenge was issued to."""
        if not sign_in.sub:  # simulated unknown user: only its made-up id "matches", and then fails
            if username != sign_in.username:
                raise errors.NotAuthorizedException(INVALID_SESSION)
            return
        user = _rules.resolve_user(pool, username)
        if user is None or user.id != sign_in.sub:
            raise errors.NotAuthorizedException(INVALID_SESSION)

    # ----- PASSWORD_VERIFIER ----------------------------------------------------------------------------
    def _answer_password_verifier(
        self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]
    ) -> Response:
        _rules.require(
            responses,
            "PASSWORD_CLAIM_SIGNATURE",
            "PASSWORD_CLAIM_SECRET_BLOCK",
            "TIMESTAMP",
            where="ChallengeResponses",
        )
        sign_in = challenge.sign_in
        assert challenge.srp is not None
        if not sign_in.sub:
            raise errors.NotAuthorizedException(INCORRECT)
        pool, client, user = self.signed_in_user(sign_in)
        key = (pool.id, user.id)
        self._check_lockout(key)
        if not self._srp_ok(challenge.srp, responses):
            raise self._fail_password(key)
        self.state.secrets_for(key).failed_attempts = 0
        sign_in.password_verified = True
        if responses.get("DEVICE_KEY"):
            sign_in.device_key = str(responses["DEVICE_KEY"])
        if sign_in.flow == "CUSTOM_AUTH":
            return self._custom_challenge(sign_in)
        return self._advance(sign_in)

    # ----- NEW_PASSWORD_REQUIRED ------------------------------------------------------------------------
    def _required_attributes(self, pool: CognitoIdpUserPool) -> list[str]:
        return [name for name, attr in pool.schema_attributes.items() if attr.required and name != "sub"]

    def _new_password_challenge(
        self, sign_in: SignIn, pool: CognitoIdpUserPool, user: CognitoIdpUser
    ) -> Response:
        attrs = _rules.attributes(user)
        missing = [n for n in self._required_attributes(pool) if not attrs.get(n)]
        shown = {k: v for k, v in attrs.items() if k != "sub"}
        return self.issue(
            sign_in,
            "NEW_PASSWORD_REQUIRED",
            {
                "USER_ID_FOR_SRP": sign_in.username,
                "requiredAttributes": json.dumps([f"userAttributes.{n}" for n in missing]),
                "userAttributes": json.dumps(shown),
            },
        )

    def _answer_new_password(
        self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]
    ) -> Response:
        _rules.require(responses, "NEW_PASSWORD", where="ChallengeResponses")
        sign_in = challenge.sign_in
        pool, client, user = self.signed_in_user(sign_in)
        attrs = _rules.attributes(user)
        given = {
            k[len("userAttributes.") :]: str(v)
            for k, v in responses.items()
            if k.startswith("userAttributes.")
        }
        writable = client.extended_config.get("WriteAttributes")
        known = set(pool.schema_attributes) | set(CognitoIdpUserPoolAttribute.STANDARD_SCHEMA)
        required = self._required_attributes(pool)
        for name in given:
            if name not in known or name in ("sub", "email_verified", "phone_number_verified"):
                raise errors.InvalidParameterException(f"Cannot modify the non-mutable attribute {name}")
            if writable and name not in writable:
                raise errors.NotAuthorizedException(
                    f"A client attempted to write unauthorized attribute {name}"
                )
            if name in required and attrs.get(name) and given[name] != attrs[name]:
                raise errors.InvalidParameterException(
                    f"Cannot modify an already provided required attribute {name}"
                )
        for name in required:
            if not attrs.get(name) and not given.get(name):
                raise errors.InvalidParameterException(f"Invalid attributes given, {name} is missing")
        password = str(responses["NEW_PASSWORD"])
        _rules.check_password_policy(pool, password)
        if given:
            user.update_attributes([{"Name": k, "Value": v} for k, v in given.items()])
        user.password = password
        user.status = UserStatus.CONFIRMED
        sign_in.done.add("new_password")
        return self._advance(sign_in)

    # ----- MFA ------------------------------------------------------------------------------------------
    def _mfa_step(self, sign_in: SignIn, pool: CognitoIdpUserPool, user: CognitoIdpUser) -> Response | None:
        mode = str(pool.mfa_config or "OFF")
        if mode == "OFF":
            return None
        enabled = self.mfa.enabled_factors(pool, user)
        if enabled:
            preferred = self.mfa.preferred_factor(pool, user)
            if preferred in enabled:
                return self._mfa_challenge(sign_in, user, preferred)
            if len(enabled) == 1:
                return self._mfa_challenge(sign_in, user, enabled[0])
            return self.issue(sign_in, "SELECT_MFA_TYPE", {"MFAS_CAN_CHOOSE": json.dumps(enabled)})
        if mode != "ON":
            return None
        attrs = _rules.attributes(user)
        if self.mfa.pool_allows(pool, "SMS_MFA") and attrs.get("phone_number"):
            return self._mfa_challenge(sign_in, user, "SMS_MFA")
        if self.mfa.pool_allows(pool, "EMAIL_OTP") and attrs.get("email"):
            return self._mfa_challenge(sign_in, user, "EMAIL_OTP")
        can_setup = [f for f in ("SMS_MFA", "SOFTWARE_TOKEN_MFA") if self.mfa.pool_allows(pool, f)]
        if not can_setup:
            raise errors.MFAMethodNotFoundException("No MFA mechanism registered in the account.")
        return self.issue(sign_in, "MFA_SETUP", {"MFAS_CAN_SETUP": json.dumps(can_setup)})

    def _mfa_challenge(self, sign_in: SignIn, user: CognitoIdpUser, factor: str) -> Response:
        if factor == "SOFTWARE_TOKEN_MFA":
            return self.issue(sign_in, "SOFTWARE_TOKEN_MFA", {"FRIENDLY_DEVICE_NAME": "TOTP device"})
        return self._code_challenge(sign_in, user, factor)

    def _code_challenge(self, sign_in: SignIn, user: CognitoIdpUser, challenge: str) -> Response:
        """SMS_MFA, EMAIL_OTP or SMS_OTP: a fresh code, delivered to the outbox."""
        medium = "EMAIL" if challenge == "EMAIL_OTP" else "SMS"
        destination = _rules.attributes(user).get("email" if medium == "EMAIL" else "phone_number", "")
        code = self.state.code()
        self.state.send(medium, destination, sign_in.user_pool_id, user.username, challenge, code)
        return self.issue(
            sign_in,
            challenge,
            {
                "CODE_DELIVERY_DELIVERY_MEDIUM": medium,
                "CODE_DELIVERY_DESTINATION": _rules.mask_destination(medium, destination),
            },
            code=code,
        )

    def _answer_code(self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]) -> Response:
        key = _CODE_KEYS[challenge.challenge]
        _rules.require(responses, key, where="ChallengeResponses")
        if challenge.code is None or not _same(challenge.code, str(responses[key])):
            raise errors.CodeMismatchException("Invalid code received for user")
        sign_in = challenge.sign_in
        sign_in.done.add("mfa")
        return self._advance(sign_in)

    def _answer_totp(self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]) -> Response:
        _rules.require(responses, "SOFTWARE_TOKEN_MFA_CODE", where="ChallengeResponses")
        sign_in = challenge.sign_in
        key = (sign_in.user_pool_id, sign_in.sub)
        secret = self.state.secrets_for(key).totp_secret
        if secret is None:
            raise errors.SoftwareTokenMFANotFoundException("Software Token MFA does not exist for the user.")
        if not self.mfa.totp_ok(key, secret, responses["SOFTWARE_TOKEN_MFA_CODE"]):
            raise errors.CodeMismatchException("Invalid code received for user")
        sign_in.done.add("mfa")
        return self._advance(sign_in)

    def _answer_select_mfa(
        self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]
    ) -> Response:
        _rules.require(responses, "ANSWER", where="ChallengeResponses")
        answer = str(responses["ANSWER"])
        if answer == "EMAIL_MFA":
            answer = "EMAIL_OTP"
        pool, _client, user = self.signed_in_user(challenge.sign_in)
        if answer not in self.mfa.enabled_factors(pool, user):
            raise errors.InvalidParameterException(f"{answer} is not one of MFAS_CAN_CHOOSE")
        return self._mfa_challenge(challenge.sign_in, user, answer)

    def _answer_mfa_setup(
        self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]
    ) -> Response:
        if not challenge.totp_verified:
            # Answered before AssociateSoftwareToken + VerifySoftwareToken: nothing was set up.
            raise errors.NotAuthorizedException(INVALID_SESSION)
        sign_in = challenge.sign_in
        sign_in.done.add("mfa")
        return self._advance(sign_in)

    # ----- CUSTOM_AUTH ----------------------------------------------------------------------------------
    def _custom_challenge(self, sign_in: SignIn) -> Response:
        sign_in.custom_round += 1
        pool, _client, user = self.signed_in_user(sign_in)
        factory = self.state.custom_challenge
        if factory is None:
            custom = CustomChallenge({"CHALLENGE_TYPE": "EMAIL_CODE"}, self.state.code(), send_to_outbox=True)
        else:
            custom = factory(user.username, sign_in.custom_round)
        if custom.send_to_outbox:
            destination = _rules.attributes(user).get("email", user.username)
            self.state.send("EMAIL", destination, pool.id, user.username, "CUSTOM_CHALLENGE", custom.answer)
        return self.issue(sign_in, "CUSTOM_CHALLENGE", custom.parameters, custom=custom)

    def _answer_custom(
        self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]
    ) -> Response:
        _rules.require(responses, "ANSWER", where="ChallengeResponses")
        assert challenge.custom is not None
        if not _same(challenge.custom.answer, str(responses["ANSWER"])):
            raise errors.NotAuthorizedException(INCORRECT)
        sign_in = challenge.sign_in
        sign_in.skip_mfa = True  # the custom challenge decides; there is no DefineAuthChallenge here
        return self._advance(sign_in)

    # ----- SELECT_CHALLENGE (USER_AUTH) -----------------------------------------------------------------
    def _answer_select_challenge(
        self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]
    ) -> Response:
        sign_in = challenge.sign_in
        pool, client, user = self.signed_in_user(sign_in)
        _rules.require(responses, "ANSWER", where="ChallengeResponses")
        answer = str(responses["ANSWER"])
        available = self._first_factors(pool, user)
        if answer not in available:
            raise errors.InvalidParameterException(f"{answer} is not one of AvailableChallenges")
        return self._start_factor(sign_in, pool, client, user, answer, responses)

    # ----- devices --------------------------------------------------------------------------------------
    def _answer_device_srp(
        self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]
    ) -> Response:
        _rules.require(responses, "DEVICE_KEY", "SRP_A", where="ChallengeResponses")
        sign_in = challenge.sign_in
        device_key = str(responses["DEVICE_KEY"])
        if device_key != sign_in.device_key:
            raise errors.NotAuthorizedException(INVALID_SESSION)
        device = self.devices.confirmed(device_key, (sign_in.user_pool_id, sign_in.sub))
        a_hex = self._check_srp_a(responses["SRP_A"])
        srp = self._srp_state(device.group_key, device.device_key, device.salt, device.verifier, a_hex)
        parameters = {**srp.challenge_parameters(), "DEVICE_KEY": device_key}
        return self.issue(sign_in, "DEVICE_PASSWORD_VERIFIER", parameters, srp=srp)

    def _answer_device_verifier(
        self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]
    ) -> Response:
        _rules.require(
            responses,
            "DEVICE_KEY",
            "PASSWORD_CLAIM_SIGNATURE",
            "PASSWORD_CLAIM_SECRET_BLOCK",
            "TIMESTAMP",
            where="ChallengeResponses",
        )
        sign_in = challenge.sign_in
        assert challenge.srp is not None
        if str(responses["DEVICE_KEY"]) != challenge.srp.srp_user_id:
            raise errors.NotAuthorizedException(INVALID_SESSION)
        device = self.devices.confirmed(challenge.srp.srp_user_id, (sign_in.user_pool_id, sign_in.sub))
        if not self._srp_ok(challenge.srp, responses):
            raise errors.NotAuthorizedException(INCORRECT)
        device.last_authenticated_at = self.state.now()
        sign_in.device_authenticated = True
        sign_in.done.add("device")
        if device.remembered:
            sign_in.skip_mfa = True
        return self._advance(sign_in)

    # ===== after each step ================================================================================
    def _advance(self, sign_in: SignIn) -> Response:
        """The next challenge of this sign-in, or its tokens."""
        pool, client, user = self.signed_in_user(sign_in)
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
            return self._new_password_challenge(sign_in, pool, user)
        if sign_in.device_key and "device" not in sign_in.done:
            self.devices.confirmed(
                sign_in.device_key, (pool.id, user.id)
            )  # ResourceNotFoundException if unknown
            return self.issue(sign_in, "DEVICE_SRP_AUTH")
        if "mfa" not in sign_in.done and not sign_in.skip_mfa:
            step = self._mfa_step(sign_in, pool, user)
            if step is not None:
                return step
        return self._finish(sign_in, pool, client, user)

    def _finish(
        self,
        sign_in: SignIn,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
    ) -> Response:
        device_key = sign_in.device_key if sign_in.device_authenticated else None
        new_device = None
        if device_key is None and _rules.device_tracking(pool) is not None:
            new_device = self.devices.issue(pool, user)
            device_key = new_device.device_key
        result, _ = self.issuer.authentication_result(pool, client, user, device_key=device_key)
        if new_device is not None:
            result["NewDeviceMetadata"] = {
                "DeviceKey": new_device.device_key,
                "DeviceGroupKey": new_device.group_key,
            }
        return {"ChallengeParameters": {}, "AuthenticationResult": result}

    _handlers: dict[str, Any] = {
        "PASSWORD_VERIFIER": _answer_password_verifier,
        "NEW_PASSWORD_REQUIRED": _answer_new_password,
        "SMS_MFA": _answer_code,
        "EMAIL_OTP": _answer_code,
        "SMS_OTP": _answer_code,
        "SOFTWARE_TOKEN_MFA": _answer_totp,
        "SELECT_MFA_TYPE": _answer_select_mfa,
        "MFA_SETUP": _answer_mfa_setup,
        "CUSTOM_CHALLENGE": _answer_custom,
        "SELECT_CHALLENGE": _answer_select_challenge,
        "PASSWORD": _answer_select_challenge,
        "PASSWORD_SRP": _answer_select_challenge,
        "DEVICE_SRP_AUTH": _answer_device_srp,
        "DEVICE_PASSWORD_VERIFIER": _answer_device_verifier,
    }
