"""The local pool's state: its user pools (``_records``), and the authentication protocol's state beside them.

Pools, app clients, users and groups are records in :attr:`PoolState.pools`. Beside them: SRP verifiers
derived from a user's password, challenge sessions, devices, TOTP secrets, sign-up, recovery and attribute
codes, attribute values waiting for verification, issued tokens and the outbox. Everything about a user is
keyed by ``(user_pool_id, sub)``, so a user deleted and created again under the same name starts clean.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._signin.srp import int_to_hex
from . import _ids
from ._jwt import KeyRing

if TYPE_CHECKING:
    from ._records import Client, UserPool

__all__ = [
    "UserKey",
    "SignIn",
    "SrpState",
    "ChallengeState",
    "Device",
    "UserSecrets",
    "RefreshRecord",
    "AccessRecord",
    "PendingCode",
    "OutboxMessage",
    "CustomChallenge",
    "CustomChallengeFactory",
    "PoolState",
]

#: ``(user_pool_id, sub)``: how the protocol state refers to a user.
UserKey = tuple[str, str]


@dataclass(frozen=True)
class CustomChallenge:
    """One CUSTOM_CHALLENGE: the public ChallengeParameters and the expected ANSWER.

    ``send_to_outbox`` delivers the answer as an EMAIL message (a magic-code style challenge).
    """

    parameters: dict[str, str]
    answer: str = field(repr=False)
    send_to_outbox: bool = False


#: Makes the challenge for ``(username, round)``; round starts at 1.
CustomChallengeFactory = Callable[[str, int], CustomChallenge]


@dataclass
class SignIn:
    """One sign-in in progress: who, through which client and flow, and which steps are done."""

    user_pool_id: str
    client_id: str
    sub: str  # "" for a simulated unknown user (PreventUserExistenceErrors)
    username: str  # the internal username (USER_ID_FOR_SRP)
    admin: bool
    flow: str
    device_key: str | None = None
    password_verified: bool = False
    done: set[str] = field(default_factory=set)  # "new_password", "device", "mfa"
    skip_mfa: bool = False
    custom_round: int = 0
    device_authenticated: bool = False


@dataclass
class SrpState:
    """The server half of one SRP exchange (user or device)."""

    srp_pool_name: str
    srp_user_id: str
    verifier: int = field(repr=False)
    b: int = field(repr=False)
    B: int = field(repr=False)  # noqa: N815 - the protocol's name
    salt_hex: str
    secret_block: bytes = field(repr=False)
    A_hex: str = field(repr=False)  # noqa: N815

    def challenge_parameters(self) -> dict[str, str]:
        """SALT, SRP_B and SECRET_BLOCK, as PASSWORD_VERIFIER and DEVICE_PASSWORD_VERIFIER carry them."""
        return {
            "SALT": self.salt_hex,
            "SRP_B": int_to_hex(self.B),
            "SECRET_BLOCK": base64.b64encode(self.secret_block).decode("ascii"),
        }


@dataclass
class ChallengeState:
    """A challenge waiting for its answer; a Session (or, for USER_SRP_AUTH, the SECRET_BLOCK) points here."""

    sign_in: SignIn
    challenge: str
    expires_at: float
    srp: SrpState | None = None
    code: str | None = field(default=None, repr=False)
    custom: CustomChallenge | None = None
    totp_secret: str | None = field(default=None, repr=False)
    totp_verified: bool = False
    failures: int = 0
    has_session: bool = True


@dataclass
class Device:
    """A device issued at sign-in (NewDeviceMetadata) and, once confirmed, its SRP verifier."""

    device_key: str
    group_key: str
    user: UserKey
    created_at: float
    confirmed: bool = False
    remembered: bool = False
    name: str | None = None
    salt: bytes = field(default=b"", repr=False)
    verifier: int = field(default=0, repr=False)
    modified_at: float = 0.0
    last_authenticated_at: float | None = None
    seq: int = 0  # issue order (device listings are paginated by it)


@dataclass
class UserSecrets:
    """Per-user protocol state: SRP salt and verifier, TOTP secrets, failed sign-ins, email MFA."""

    salt: bytes = field(default=b"", repr=False)
    verifier: int = field(default=0, repr=False)
    password_fingerprint: bytes = field(default=b"", repr=False)
    totp_secret: str | None = field(default=None, repr=False)
    pending_totp_secret: str | None = field(default=None, repr=False)
    last_totp_step: int = -1
    failed_attempts: int = 0
    last_failure_at: float = 0.0
    email_mfa_enabled: bool = False
    email_mfa_preferred: bool = False


@dataclass
class RefreshRecord:
    """An issued refresh token."""

    user: UserKey
    username: str
    client_id: str
    origin_jti: str
    auth_time: int
    expires_at: float
    device_key: str | None
    revoked: bool = False
    rotated_at: float | None = None  # set when a rotation replaced it
    last_used_at: float = 0.0  # issued or last refreshed with (the least recently used session goes first)


@dataclass
class AccessRecord:
    """An issued access token."""

    user: UserKey
    username: str
    client_id: str
    origin_jti: str
    expires_at: float
    revoked: bool = False


@dataclass
class PendingCode:
    """A sign-up, recovery or attribute code sent to a user: only the latest one counts, and only once."""

    code: str = field(repr=False)
    expires_at: float
    attribute: str  # the attribute the code went to ("email" / "phone_number"): confirming verifies it
    used: bool = False


@dataclass(frozen=True)
class OutboxMessage:
    """A message the pool "sent": an SMS or email carrying a code (``message``: its text, when a CustomMessage
    trigger wrote it; the code and username already in place)."""

    kind: str  # "SMS" | "EMAIL"
    destination: str
    user_pool_id: str
    username: str
    #: "SMS_MFA", "EMAIL_OTP", "SMS_OTP", "CUSTOM_CHALLENGE", "TEMPORARY_PASSWORD", "SIGN_UP",
    #: "FORGOT_PASSWORD", "VERIFY_ATTRIBUTE", "WELCOME" (a user migrated in, no code)
    purpose: str
    code: str = field(repr=False)
    sent_at: float = 0.0
    message: str | None = field(default=None, repr=False)


def fingerprint(password: str, salt: bytes) -> bytes:
    """A salted hash of a password (for SRP verifier caching and the password history)."""
    return hashlib.sha256(salt + password.encode()).digest()


class PoolState:
    """Everything the local pool keeps, plus the clock and randomness it uses."""

    def __init__(
        self,
        *,
        account_id: str | None = None,
        clock: Callable[[], float] = time.time,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
        custom_challenge: CustomChallengeFactory | None = None,
    ) -> None:
        self.account_id = account_id or _ids.account_id(random_bytes)
        self.pools: dict[str, UserPool] = {}
        #: the region of the request being answered (its SigV4 credential scope; else the pool's default)
        self.region_of_request = "us-east-1"
        self.client_pools: dict[str, str] = {}  # client id -> user pool id
        self.keys = KeyRing()
        self.clock = clock
        self.clock_offset = 0.0
        self.random_bytes = random_bytes
        self.custom_challenge = custom_challenge
        self.endpoint_url = "http://127.0.0.1"
        self.challenges: dict[str, ChallengeState] = {}
        self.devices: dict[str, Device] = {}
        self.users: dict[UserKey, UserSecrets] = {}
        self.refresh_tokens: dict[str, RefreshRecord] = {}
        self.access_tokens: dict[str, AccessRecord] = {}
        self.outbox: list[OutboxMessage] = []
        # (user, "SIGN_UP" | "FORGOT_PASSWORD" | "VERIFY_ATTRIBUTE:<name>")
        self.codes: dict[tuple[UserKey, str], PendingCode] = {}
        # user -> {attribute: new value} kept until verified (AttributesRequireVerificationBeforeUpdate)
        self.pending_attributes: dict[UserKey, dict[str, str]] = {}
        #: account-level settings beside the pools ("provisioned_limits": {category: requests per second})
        self.account_settings: dict[str, Any] = {}

    def __repr__(self) -> str:
        return (
            f"<PoolState challenges={len(self.challenges)} devices={len(self.devices)} "
            f"refresh_tokens={len(self.refresh_tokens)} outbox={len(self.outbox)}>"
        )

    def now(self) -> float:
        """The pool's time (the clock plus any offset a test added)."""
        return self.clock() + self.clock_offset

    def issuer(self, user_pool_id: str) -> str:
        """The ``iss`` of this pool's tokens: ``{endpoint_url}/{user_pool_id}``."""
        return f"{self.endpoint_url}/{user_pool_id}"

    def user_pool(self, user_pool_id: object) -> UserPool | None:
        return self.pools.get(user_pool_id) if isinstance(user_pool_id, str) else None

    def app_client(self, client_id: object) -> tuple[UserPool, Client] | None:
        """The pool and app client with this client id, or None."""
        pool = self.pools.get(self.client_pools.get(client_id, "")) if isinstance(client_id, str) else None
        client = pool.clients.get(client_id) if pool is not None and isinstance(client_id, str) else None
        return (pool, client) if pool is not None and client is not None else None

    def secrets_for(self, user: UserKey) -> UserSecrets:
        found = self.users.get(user)
        if found is None:
            found = self.users[user] = UserSecrets()
        return found

    def token(self, nbytes: int = 48) -> str:
        """An opaque random string (sessions, refresh tokens)."""
        return base64.urlsafe_b64encode(self.random_bytes(nbytes)).rstrip(b"=").decode("ascii")

    def code(self, digits: int = 6) -> str:
        """A random numeric code."""
        value = int.from_bytes(self.random_bytes(8), "big") % (10**digits)
        return f"{value:0{digits}d}"

    def temporary_password(self) -> str:
        """A random password that meets Cognito's default policy (for invitations)."""
        alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        return "Aa1!" + "".join(alphabet[b % len(alphabet)] for b in self.random_bytes(12))

    def send(
        self,
        medium: str,
        destination: str,
        user_pool_id: str,
        username: str,
        purpose: str,
        code: str,
        message: str | None = None,
    ) -> None:
        """Put a message into the outbox."""
        self.outbox.append(
            OutboxMessage(
                medium,
                destination,
                user_pool_id,
                username,
                purpose,
                code,
                sent_at=self.now(),
                message=message,
            )
        )
