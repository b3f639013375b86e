"""Token signing for the local pool: two RSA keys per user pool, a JWKS, and RS256 JWTs.

Like Cognito, each pool signs ID tokens and access tokens with different keys, both published in the
pool's JWKS. Keys are made on first use (about 50 ms each), so a pool that never issues a token costs
nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = ["PoolKeys", "KeyRing", "b64url"]

TokenUse = Literal["id", "access"]


def b64url(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


@dataclass(frozen=True)
class _SigningKey:
    kid: str
    private: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> _SigningKey:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        n = private.public_key().public_numbers().n
        kid = base64.b64encode(hashlib.sha256(_int_bytes(n)).digest()[:24]).decode("ascii")
        return cls(kid=kid, private=private)

    def jwk(self) -> dict[str, str]:
        numbers = self.private.public_key().public_numbers()
        return {
            "alg": "RS256",
            "e": b64url(_int_bytes(numbers.e)),
            "kid": self.kid,
            "kty": "RSA",
            "n": b64url(_int_bytes(numbers.n)),
            "use": "sig",
        }


@dataclass(frozen=True)
class PoolKeys:
    """The ID-token key and the access-token key of one user pool."""

    id_key: _SigningKey
    access_key: _SigningKey

    @classmethod
    def generate(cls) -> PoolKeys:
        return cls(id_key=_SigningKey.generate(), access_key=_SigningKey.generate())

    def jwks(self) -> dict[str, Any]:
        """The pool's JWKS document."""
        return {"keys": [self.id_key.jwk(), self.access_key.jwk()]}

    def sign(self, claims: Mapping[str, Any], token_use: TokenUse) -> str:
        """An RS256 JWT over ``claims`` with the key for ``token_use``."""
        key = self.id_key if token_use == "id" else self.access_key
        header = {"kid": key.kid, "alg": "RS256"}
        signing_input = (
            b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + b64url(json.dumps(dict(claims), separators=(",", ":")).encode())
        )
        signature = key.private.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(signature)


class KeyRing:
    """Keys per user pool id, made on first use."""

    def __init__(self) -> None:
        self._keys: dict[str, PoolKeys] = {}

    def __repr__(self) -> str:
        return f"<KeyRing pools={len(self._keys)}>"

    def for_pool(self, user_pool_id: str) -> PoolKeys:
        keys = self._keys.get(user_pool_id)
        if keys is None:
            keys = self._keys[user_pool_id] = PoolKeys.generate()
        return keys
