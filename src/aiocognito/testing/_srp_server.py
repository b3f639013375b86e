"""The server side of SRP: verifiers from users' passwords (or made up), server ephemerals, proof checks.

SRP is real (``B = k*v + g^b``). A proof passes only when the signature, the SECRET_BLOCK and the TIMESTAMP
(exact format, within five minutes of the pool's clock) are all right. A user without a password, or an
unknown user behind PreventUserExistenceErrors, gets a stable made-up verifier that no password matches.
Used for users' passwords (``_srp_auth``) and for devices (``_device_auth``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

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
from ._rules import secret_equals
from ._state import PoolState, SrpState, fingerprint

if TYPE_CHECKING:
    from ._records import User, UserPool

__all__ = ["SrpServer", "timestamp_ok"]

_TIMESTAMP_SKEW = 300.0
_TIMESTAMP_RE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"([1-9]|[12][0-9]|3[01]) ([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]) UTC ([0-9]{4})"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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


class SrpServer:
    """SRP verifiers, challenges and proof checks, with the pool's clock and randomness."""

    def __init__(self, state: PoolState) -> None:
        self.state = state
        self._fake_salt = state.random_bytes(32)

    def __repr__(self) -> str:
        return "<SrpServer>"

    # ----- verifiers --------------------------------------------------------------------------------------
    def user_verifier(self, pool: UserPool, user: User) -> tuple[bytes, int]:
        """(salt, verifier) for the user's current password, recomputed when it changed.

        A user without a password gets a made-up verifier, as an unknown user does: no password matches it.
        """
        password = user.password
        if not password:
            return self.made_up_verifier(pool, user.username, f"no-password/{user.sub}")
        secrets_ = self.state.secrets_for((pool.id, user.sub))
        if not secrets_.salt or secrets_.password_fingerprint != fingerprint(password, secrets_.salt):
            salt = self.state.random_bytes(16)
            secrets_.salt = salt
            secrets_.verifier = compute_verifier(
                srp_pool_name=pool_name_of(pool.id), srp_user_id=user.username, password=password, salt=salt
            )
            secrets_.password_fingerprint = fingerprint(password, salt)
        return secrets_.salt, secrets_.verifier

    def made_up_verifier(self, pool: UserPool, srp_user_id: str, seed: str) -> tuple[bytes, int]:
        """A stable (salt, verifier) for ``seed`` whose password nobody knows (it derives from a secret)."""
        digest = hmac.new(self._fake_salt, f"{pool.id}/{seed}".encode(), hashlib.sha256).digest()
        salt = digest[16:32]
        verifier = compute_verifier(
            srp_pool_name=pool_name_of(pool.id), srp_user_id=srp_user_id, password=digest.hex(), salt=salt
        )
        return salt, verifier

    def made_up_user_id(self, pool: UserPool, typed_name: str) -> str:
        """PreventUserExistenceErrors: a stable made-up USER_ID_FOR_SRP for a name no user has."""
        digest = hmac.new(self._fake_salt, f"{pool.id}/{typed_name}".encode(), hashlib.sha256).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    # ----- one exchange -----------------------------------------------------------------------------------
    def srp_state(
        self, srp_pool_name: str, srp_user_id: str, salt: bytes, verifier: int, a_hex: str
    ) -> SrpState:
        """A fresh server ephemeral and SECRET_BLOCK for the client's ``SRP_A``."""
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

    def srp_ok(self, srp: SrpState, responses: Mapping[str, Any]) -> bool:
        """Whether the answer's SECRET_BLOCK, TIMESTAMP and signature are all right."""
        block = responses.get("PASSWORD_CLAIM_SECRET_BLOCK")
        if not secret_equals(base64.b64encode(srp.secret_block).decode("ascii"), block):
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
        return secret_equals(expected, responses.get("PASSWORD_CLAIM_SIGNATURE"))

    @staticmethod
    def check_srp_a(a_hex: object) -> str:
        """The client's ``SRP_A``, checked (a hex integer, not a multiple of N)."""
        try:
            value = hex_to_int(a_hex if isinstance(a_hex, str) else "", what="SRP_A")
        except ProtocolError:
            raise errors.InvalidParameterException("SRP_A is not a valid hex integer") from None
        if value % N == 0:
            raise errors.InvalidParameterException("SRP_A is not valid")
        return str(a_hex)
