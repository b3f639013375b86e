"""Cognito's variant of SRP-6a: pure math for both ends of the exchange.

Nothing here does I/O, reads the clock or draws randomness on its own: ``now`` and random bytes are
parameters (the defaults are ``secrets.token_bytes``). The client side computes ``SRP_A`` and the
``PASSWORD_CLAIM_SIGNATURE`` for ``PASSWORD_VERIFIER`` and ``DEVICE_PASSWORD_VERIFIER`` and the
``DeviceSecretVerifierConfig`` for ``ConfirmDevice``; the server side (used by the local user pool)
computes the verifier, ``SRP_B`` and the signature it expects. User and device SRP share every formula:
for a device, ``srp_pool_name`` is the DeviceGroupKey, ``srp_user_id`` the DeviceKey and the password
the device password.

Cognito's rules, which differ from RFC 5054 (so a stock SRP library does not fit):

* every integer is hashed as :func:`pad_hex` bytes, the minimal big-endian two's-complement encoding
  (Java's ``BigInteger.toByteArray``), not padded to the width of N;
* ``k = H(pad(N) || pad(g))``, ``u = H(pad(A) || pad(B))``,
  ``x = H(pad(salt) || H(pool_name || user_id || ":" || password))``;
* the key is HKDF-SHA256(ikm=pad(S), salt=pad(u), info="Caldera Derived Key"), 16 bytes, and the
  signature is ``HMAC-SHA256(key, pool_name || user_id || secret_block || timestamp)`` in base64.

Modular exponentiation goes through gmpy2 with ``allow_release_gil`` set for the call, so a caller that
moves a computation to a worker thread (``asyncio.to_thread``) does not hold the event loop's GIL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import gmpy2  # type: ignore[import-untyped]

from .._errors import ProtocolError

__all__ = [
    "N",
    "G",
    "K",
    "INFO_BITS",
    "DEFAULT_EPHEMERAL_BYTES",
    "pad_hex",
    "padded_bytes",
    "hex_to_int",
    "int_to_hex",
    "salt_to_hex",
    "format_timestamp",
    "pool_name_of",
    "Ephemeral",
    "new_ephemeral",
    "ephemeral_from_random",
    "identity_hash",
    "compute_u",
    "compute_x",
    "client_premaster_secret",
    "server_premaster_secret",
    "derive_key",
    "claim_signature",
    "client_session_key",
    "password_signature",
    "DeviceSecret",
    "new_device_secret",
    "compute_verifier",
    "server_ephemeral",
    "expected_signature",
    "parse_device_verifier_config",
]

RandomBytes = Callable[[int], bytes]

#: The 3072-bit MODP prime of RFC 3526 / RFC 5054, the group Cognito uses.
N: int = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
    16,
)
G: int = 2

#: The HKDF ``info`` Cognito uses (followed by the counter byte 0x01).
INFO_BITS: bytes = b"Caldera Derived Key"

# The private exponent: AWS's JavaScript client draws 128 random bytes; RFC 5054 asks for at least 256
# bits. We draw 32 bytes (256 bits) by default. The 3072-bit group gives about 128-bit security, and a
# 256-bit exponent (twice the security level, as NIST SP 800-56A sizes DH private keys) keeps all of it,
# while making A = g^a about 4x and the S exponent (a + u*x) about 2x cheaper than with 1024 bits. The
# server cannot tell the size of ``a`` from A. ``ephemeral_from_random`` accepts any length (the vectors
# give 128 bytes).
DEFAULT_EPHEMERAL_BYTES = 32
_MIN_EPHEMERAL_BYTES = 32
# Size of the server's private b (matches the known-answer vectors' ``b_random_hex``).
_SERVER_EPHEMERAL_BYTES = 32
# Longest hex we accept from the server: N has 768 hex digits; anything far longer is garbage.
_MAX_HEX_CHARS = 4096

_HEX_RE = re.compile(r"-?[0-9a-fA-F]+")
_N_MPZ = gmpy2.mpz(N)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # datetime.weekday(): Monday is 0
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------------------


def padded_bytes(value: int) -> bytes:
    """``value`` as minimal big-endian two's-complement bytes (Java's ``BigInteger.toByteArray``)."""
    magnitude = value if value >= 0 else ~value
    return value.to_bytes(magnitude.bit_length() // 8 + 1, "big", signed=True)


def pad_hex(value: int) -> str:
    """Cognito's ``padHex``: lowercase hex of :func:`padded_bytes` (``0xff`` -> ``00ff``, ``-1`` -> ``ff``)."""
    return padded_bytes(value).hex()


def hex_to_int(text: str, *, what: str = "value") -> int:
    """Parse a hex integer as the server sends it (``SALT``, ``SRP_B``): optional ``-``, any case.

    Raises:
        ProtocolError: ``text`` is not a hex integer (the message names ``what``, never the value).
    """
    if not isinstance(text, str) or len(text) > _MAX_HEX_CHARS or not _HEX_RE.fullmatch(text):
        raise ProtocolError(f"{what} is not a valid hex integer")
    return int(text, 16)


def int_to_hex(value: int) -> str:
    """Unpadded lowercase hex with a ``-`` for negatives: ``SRP_A``/``SRP_B`` as sent on the wire."""
    return format(value, "x")


def salt_to_hex(salt: bytes) -> str:
    """The ``SALT`` challenge parameter a server sends for stored salt ``salt``.

    The bytes are read as a signed (two's-complement) integer, as Cognito does, so a salt whose first
    bit is set goes out negative (``-16a0...``); the magnitude is written with an even number of digits.
    :func:`hex_to_int` and :func:`pad_hex` on the client give back the same bytes when ``salt`` is minimal.
    """
    value = int.from_bytes(salt, "big", signed=True)
    digits = format(abs(value), "x")
    if len(digits) % 2:
        digits = "0" + digits
    return ("-" if value < 0 else "") + digits


def _b64decode(text: str, what: str) -> bytes:
    if not isinstance(text, str):
        raise ProtocolError(f"{what} is not valid base64")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(f"{what} is not valid base64") from None


def format_timestamp(now: datetime) -> str:
    """The ``TIMESTAMP`` for a claim: ``"Tue Nov 3 05:07:09 UTC 2026"``.

    UTC, English names whatever the locale, day of month not padded, seconds truncated.

    Raises:
        ValueError: ``now`` is naive (its time zone is unknown).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("format_timestamp needs an aware datetime, e.g. datetime.now(timezone.utc)")
    t = now.astimezone(timezone.utc)
    return (
        f"{_WEEKDAYS[t.weekday()]} {_MONTHS[t.month - 1]} {t.day} "
        f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} UTC {t.year}"
    )


def pool_name_of(user_pool_id: str) -> str:
    """The SRP pool name: the part of the pool id after ``_`` (``us-east-1_AbC`` -> ``AbC``)."""
    region, sep, name = user_pool_id.partition("_")
    if not sep or not region or not name:
        raise ValueError(f"not a user pool id: {user_pool_id!r}")
    return name


# --------------------------------------------------------------------------------------------------
# Primitives
# --------------------------------------------------------------------------------------------------


def _powmod(base: int, exponent: int) -> int:
    """``base ** exponent mod N`` with gmpy2, releasing the GIL while GMP works."""
    with gmpy2.context(allow_release_gil=True):
        return int(gmpy2.powmod(base % N, exponent, _N_MPZ))


def _hash_int(*values: int) -> int:
    """SHA-256 over the :func:`padded_bytes` of ``values``, as a non-negative integer."""
    digest = hashlib.sha256(b"".join(padded_bytes(v) for v in values)).digest()
    return int.from_bytes(digest, "big")


#: The SRP multiplier ``k = H(pad(N) || pad(g))``.
K: int = _hash_int(N, G)


def identity_hash(srp_pool_name: str, srp_user_id: str, password: str) -> bytes:
    """``H(pool_name || user_id || ":" || password)`` (UTF-8), the inner hash of ``x``."""
    return hashlib.sha256(f"{srp_pool_name}{srp_user_id}:{password}".encode()).digest()


def compute_x(*, salt: int, srp_pool_name: str, srp_user_id: str, password: str) -> int:
    """``x = H(pad(salt) || identity_hash)``; ``salt`` is the integer parsed from ``SALT``."""
    inner = identity_hash(srp_pool_name, srp_user_id, password)
    return int.from_bytes(hashlib.sha256(padded_bytes(salt) + inner).digest(), "big")


def compute_u(A: int, B: int) -> int:  # noqa: N803 - the protocol's names
    """``u = H(pad(A) || pad(B))``."""
    return _hash_int(A, B)


def client_premaster_secret(*, a: int, B: int, u: int, x: int) -> int:  # noqa: N803
    """``S = (B - k * g^x) ^ (a + u*x) mod N`` (the client's side)."""
    return _powmod(B - K * _powmod(G, x), a + u * x)


def server_premaster_secret(*, A: int, verifier: int, u: int, b: int) -> int:  # noqa: N803
    """``S = (A * v^u) ^ b mod N`` (the server's side)."""
    return _powmod(A * _powmod(verifier, u), b)


def derive_key(S: int, u: int) -> bytes:  # noqa: N803
    """HKDF-SHA256 with ikm ``pad(S)``, salt ``pad(u)``, info ``"Caldera Derived Key"``: 16 bytes."""
    prk = hmac.new(padded_bytes(u), padded_bytes(S), hashlib.sha256).digest()
    return hmac.new(prk, INFO_BITS + b"\x01", hashlib.sha256).digest()[:16]


def claim_signature(
    *, key: bytes, srp_pool_name: str, srp_user_id: str, secret_block: bytes, timestamp: str
) -> str:
    """``base64(HMAC-SHA256(key, pool_name || user_id || secret_block || timestamp))``."""
    message = srp_pool_name.encode() + srp_user_id.encode() + secret_block + timestamp.encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode("ascii")


# --------------------------------------------------------------------------------------------------
# Client side
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ephemeral:
    """The client's private ``a`` and public ``A = g^a mod N`` for one SRP exchange."""

    a: int = field(repr=False)
    A: int

    @property
    def srp_a(self) -> str:
        """``SRP_A`` as sent: unpadded lowercase hex of ``A`` (may have an odd length)."""
        return int_to_hex(self.A)

    def __repr__(self) -> str:
        return f"Ephemeral(A={self.srp_a[:16]}...)"


def ephemeral_from_random(random: bytes) -> Ephemeral:
    """Build an ephemeral from given random bytes: ``a = int(random) mod N`` (as AWS's client does).

    Raises:
        ValueError: the bytes give ``a == 0``.
    """
    a = int.from_bytes(random, "big") % N
    if a == 0:
        raise ValueError("the random bytes give a == 0")
    return Ephemeral(a=a, A=_powmod(G, a))


def new_ephemeral(
    random_bytes: RandomBytes = secrets.token_bytes, nbytes: int = DEFAULT_EPHEMERAL_BYTES
) -> Ephemeral:
    """A fresh ephemeral from ``nbytes`` random bytes (32 by default, see the module's note on size)."""
    if nbytes < _MIN_EPHEMERAL_BYTES:
        raise ValueError(f"nbytes must be at least {_MIN_EPHEMERAL_BYTES} (RFC 5054: >= 256 bits)")
    while True:
        random = random_bytes(nbytes)
        if len(random) != nbytes:
            raise ValueError("random_bytes returned the wrong number of bytes")
        if int.from_bytes(random, "big") % N:
            return ephemeral_from_random(random)


def client_session_key(
    *,
    srp_pool_name: str,
    srp_user_id: str,
    password: str,
    ephemeral: Ephemeral,
    salt: int,
    B: int,  # noqa: N803
) -> bytes:
    """The 16-byte HKDF key the client derives from the server's ``SALT`` and ``SRP_B``.

    Raises:
        ProtocolError: ``B % N == 0`` or ``u == 0``.
    """
    if B % N == 0:
        raise ProtocolError("SRP_B is 0 modulo N")
    u = compute_u(ephemeral.A, B)
    if u == 0:
        raise ProtocolError("SRP u is 0")
    x = compute_x(salt=salt, srp_pool_name=srp_pool_name, srp_user_id=srp_user_id, password=password)
    return derive_key(client_premaster_secret(a=ephemeral.a, B=B, u=u, x=x), u)


def password_signature(
    *,
    srp_pool_name: str,
    srp_user_id: str,
    password: str,
    ephemeral: Ephemeral,
    salt_hex: str,
    srp_b_hex: str,
    secret_block_b64: str,
    timestamp: str,
) -> str:
    """``PASSWORD_CLAIM_SIGNATURE`` for ``PASSWORD_VERIFIER`` or ``DEVICE_PASSWORD_VERIFIER``.

    For a user: ``srp_pool_name = pool_name_of(pool_id)``, ``srp_user_id = USER_ID_FOR_SRP``. For a
    device: ``srp_pool_name = DeviceGroupKey``, ``srp_user_id = DeviceKey``, ``password`` = device password.

    Raises:
        ProtocolError: unparsable ``SALT``/``SRP_B``/``SECRET_BLOCK``, ``B % N == 0`` or ``u == 0``.
    """
    B = hex_to_int(srp_b_hex, what="SRP_B")  # noqa: N806
    salt = hex_to_int(salt_hex, what="SALT")
    secret_block = _b64decode(secret_block_b64, "SECRET_BLOCK")
    key = client_session_key(
        srp_pool_name=srp_pool_name,
        srp_user_id=srp_user_id,
        password=password,
        ephemeral=ephemeral,
        salt=salt,
        B=B,
    )
    return claim_signature(
        key=key,
        srp_pool_name=srp_pool_name,
        srp_user_id=srp_user_id,
        secret_block=secret_block,
        timestamp=timestamp,
    )


@dataclass(frozen=True)
class DeviceSecret:
    """What ``ConfirmDevice`` needs, and the device password to store for later device SRP."""

    device_password: str = field(repr=False)  # base64 of 40 random bytes
    salt_b64: str
    verifier_b64: str

    def verifier_config(self) -> dict[str, str]:
        """``DeviceSecretVerifierConfig`` for ``ConfirmDevice``."""
        return {"PasswordVerifier": self.verifier_b64, "Salt": self.salt_b64}

    def __repr__(self) -> str:
        return f"DeviceSecret(device_password=<hidden>, salt_b64={self.salt_b64!r})"


def new_device_secret(
    device_group_key: str, device_key: str, random_bytes: RandomBytes = secrets.token_bytes
) -> DeviceSecret:
    """Draw a device password (40 bytes) and salt (16 bytes), in that order, and compute the verifier."""
    raw_password = random_bytes(40)
    raw_salt = random_bytes(16)
    if len(raw_password) != 40 or len(raw_salt) != 16:
        raise ValueError("random_bytes returned the wrong number of bytes")
    password = base64.b64encode(raw_password).decode("ascii")
    salt = padded_bytes(int.from_bytes(raw_salt, "big"))  # padHex of the unsigned value: 15-17 bytes
    verifier = compute_verifier(
        srp_pool_name=device_group_key, srp_user_id=device_key, password=password, salt=salt
    )
    return DeviceSecret(
        device_password=password,
        salt_b64=base64.b64encode(salt).decode("ascii"),
        verifier_b64=base64.b64encode(padded_bytes(verifier)).decode("ascii"),
    )


# --------------------------------------------------------------------------------------------------
# Server side (the local user pool)
# --------------------------------------------------------------------------------------------------


def compute_verifier(*, srp_pool_name: str, srp_user_id: str, password: str, salt: bytes) -> int:
    """``v = g^x mod N``, with ``x`` over the salt bytes read as a signed integer (see :func:`salt_to_hex`)."""
    x = compute_x(
        salt=int.from_bytes(salt, "big", signed=True),
        srp_pool_name=srp_pool_name,
        srp_user_id=srp_user_id,
        password=password,
    )
    return _powmod(G, x)


def server_ephemeral(verifier: int, random_bytes: RandomBytes = secrets.token_bytes) -> tuple[int, int]:
    """A fresh ``(b, B)`` with ``B = (k*v + g^b) mod N`` and ``B % N != 0``; ``b`` comes from 32 bytes."""
    while True:
        b = int.from_bytes(random_bytes(_SERVER_EPHEMERAL_BYTES), "big") % N
        if b == 0:
            continue
        B = (K * verifier + _powmod(G, b)) % N  # noqa: N806
        if B != 0:
            return b, B


def expected_signature(
    *,
    srp_pool_name: str,
    srp_user_id: str,
    verifier: int,
    b: int,
    B: int,  # noqa: N803
    A_hex: str,  # noqa: N803
    salt_hex: str,
    secret_block: bytes,
    timestamp: str,
) -> str:
    """The ``PASSWORD_CLAIM_SIGNATURE`` the server expects from a client that knows the password.

    ``salt_hex`` is the ``SALT`` the server sent; it is unused by the math on this side but checked so
    that a caller cannot pair a verifier with a salt string the client could not parse.

    Raises:
        ProtocolError: ``SRP_A`` is not hex, ``A % N == 0`` or ``u == 0``.
    """
    hex_to_int(salt_hex, what="SALT")
    A = hex_to_int(A_hex, what="SRP_A")  # noqa: N806
    if A % N == 0:
        raise ProtocolError("SRP_A is 0 modulo N")
    u = compute_u(A, B)
    if u == 0:
        raise ProtocolError("SRP u is 0")
    key = derive_key(server_premaster_secret(A=A, verifier=verifier, u=u, b=b), u)
    return claim_signature(
        key=key,
        srp_pool_name=srp_pool_name,
        srp_user_id=srp_user_id,
        secret_block=secret_block,
        timestamp=timestamp,
    )


def parse_device_verifier_config(config: dict[str, str]) -> tuple[bytes, int]:
    """``DeviceSecretVerifierConfig`` -> ``(salt bytes, verifier)``.

    Raises:
        ProtocolError: a key is missing, not base64, or the verifier is not in ``1..N-1``.
    """
    try:
        salt_b64 = config["Salt"]
        verifier_b64 = config["PasswordVerifier"]
    except (KeyError, TypeError):
        raise ProtocolError("DeviceSecretVerifierConfig needs Salt and PasswordVerifier") from None
    salt = _b64decode(salt_b64, "Salt")
    verifier = int.from_bytes(_b64decode(verifier_b64, "PasswordVerifier"), "big")
    if not salt:
        raise ProtocolError("DeviceSecretVerifierConfig has an empty Salt")
    if not 0 < verifier < N:
        raise ProtocolError("DeviceSecretVerifierConfig has a PasswordVerifier outside 1..N-1")
    return salt, verifier
