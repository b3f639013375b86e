"""Password hashes imported with a user import job (PasswordHashingAlgorithm), checked at the first sign-in.

A user imported with a ``password_hash`` has no password of the pool's own yet: their first sign-in with a
password flow (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH) checks the typed password against the hash,
and on success the password becomes the user's (so SRP works from then on) and the hash is dropped. SRP
cannot start from a hash (it needs a verifier made from the password), so an SRP sign-in before that fails
as a wrong password does.

The formats, as the import job accepts them: BCRYPT ``$2b$<cost>$...`` (bcrypt), ARGON2ID
``$argon2id$v=19$m=..,t=..,p=..$salt$hash`` (argon2-cffi), SCRYPT ``<N>$<r>$<p>$<salt hex>$<hash hex>``
and PBKDF2_SHA256 ``$pbkdf2-sha256$<iterations>$<salt>$<hash>`` (the standard library; salt and hash in
base64 with ``.`` for ``+`` and no padding).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._records import User, UserPool

__all__ = ["IMPORTED_HASHES", "imported_hash", "verify", "forget"]

#: pool.features key: sub -> {"algorithm", "hash"}
IMPORTED_HASHES = "import_password_hashes"


def imported_hash(pool: UserPool, user: User) -> dict[str, str] | None:
    """The imported hash still waiting for the user's first sign-in, or None."""
    found: dict[str, str] | None = pool.features.get(IMPORTED_HASHES, {}).get(user.sub)
    return found


def forget(pool: UserPool, user: User) -> None:
    pool.features.get(IMPORTED_HASHES, {}).pop(user.sub, None)


def _ab64(text: str) -> bytes:
    return base64.b64decode(text.replace(".", "+") + "=" * (-len(text) % 4))


def verify(algorithm: str, stored: str, password: str) -> bool:
    """Whether ``password`` matches the imported ``stored`` hash (False for anything malformed)."""
    try:
        if algorithm == "BCRYPT":
            import bcrypt

            return bool(bcrypt.checkpw(password.encode(), stored.encode()))
        if algorithm == "ARGON2ID":
            from argon2 import PasswordHasher
            from argon2.exceptions import Argon2Error

            try:
                return bool(PasswordHasher().verify(stored, password))
            except Argon2Error:
                return False
        if algorithm == "SCRYPT":
            n, r, p, salt, digest = stored.split("$")
            expected = bytes.fromhex(digest)
            got = hashlib.scrypt(
                password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
            )
            return hmac.compare_digest(got, expected)
        if algorithm == "PBKDF2_SHA256":
            _, name, iterations, salt, digest = stored.split("$")
            expected = _ab64(digest)
            got = hashlib.pbkdf2_hmac(
                "sha256", password.encode(), _ab64(salt), int(iterations), len(expected)
            )
            return name == "pbkdf2-sha256" and hmac.compare_digest(got, expected)
    except (ValueError, TypeError):
        return False
    return False
