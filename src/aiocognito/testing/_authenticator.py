"""A software passkey authenticator for tests: what a browser and a platform authenticator hand back.

:meth:`SoftwareAuthenticator.create` answers ``navigator.credentials.create()`` for a set of credential
creation options (JSON form, as StartWebAuthnRegistration returns them) with a RegistrationResponseJSON:
a fresh ES256 key, attestation format ``none``, authenticator data with the rpIdHash, flags UP|UV|AT, a
signature counter and the attested credential data (AAGUID zero, the credential id, the COSE key).
:meth:`SoftwareAuthenticator.get` answers ``navigator.credentials.get()`` for request options with an
AuthenticationResponseJSON signed by the matching credential. Both take the origin the "browser" is on,
so tests can present a wrong one; ``rp_id`` overrides the relying party the authenticator hashes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["SoftwareAuthenticator", "StoredCredential", "cbor", "b64url", "unb64url"]

_UP, _UV, _AT = 0x01, 0x04, 0x40
_AAGUID = bytes(16)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    for info, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if length < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | info]) + struct.pack(fmt, length)
    raise ValueError("too long for CBOR")


def cbor(value: object) -> bytes:
    """CBOR (RFC 8949) of ints, bytes, text and maps of them: just what attestation objects need."""
    if isinstance(value, bool) or value is None:
        raise TypeError("not needed here")
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        data = value.encode()
        return _head(3, len(data)) + data
    if isinstance(value, Mapping):
        return _head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())
    raise TypeError(f"cannot encode {type(value).__name__}")


@dataclass
class StoredCredential:
    """A credential the authenticator holds."""

    credential_id: bytes
    rp_id: str
    user_handle: str  # base64url, as the creation options' user.id
    key: ec.EllipticCurvePrivateKey = field(repr=False)
    sign_count: int = 0


@dataclass
class SoftwareAuthenticator:
    """Makes and uses ES256 passkeys; ``user_verified=False`` leaves the UV flag out."""

    user_verified: bool = True
    attachment: str = "platform"
    transports: tuple[str, ...] = ("internal",)
    credentials: list[StoredCredential] = field(default_factory=list)

    def _flags(self, *extra: int) -> int:
        flags = _UP | (_UV if self.user_verified else 0)
        for bit in extra:
            flags |= bit
        return flags

    def create(
        self,
        options: Mapping[str, Any],
        origin: str,
        *,
        rp_id: str | None = None,
        challenge: str | None = None,
        reuse: StoredCredential | None = None,
    ) -> dict[str, Any]:
        """A RegistrationResponseJSON for ``options`` (``challenge``/``rp_id`` override the options')."""
        rp = rp_id or str(options["rp"]["id"])
        if reuse is not None:
            stored = reuse
        else:
            stored = StoredCredential(
                credential_id=secrets.token_bytes(16),
                rp_id=rp,
                user_handle=str(options["user"]["id"]),
                key=ec.generate_private_key(ec.SECP256R1()),
            )
            self.credentials.append(stored)
        numbers = stored.key.public_key().public_numbers()
        cose_key = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        attested = (
            _AAGUID + struct.pack(">H", len(stored.credential_id)) + stored.credential_id + cbor(cose_key)
        )
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + bytes([self._flags(_AT)])
            + struct.pack(">I", stored.sign_count)
            + attested
        )
        client_data = {
            "type": "webauthn.create",
            "challenge": challenge or str(options["challenge"]),
            "origin": origin,
            "crossOrigin": False,
        }
        attestation = cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(stored.credential_id),
            "rawId": b64url(stored.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(json.dumps(client_data).encode()),
                "attestationObject": b64url(attestation),
                "transports": list(self.transports),
            },
            "authenticatorAttachment": self.attachment,
            "clientExtensionResults": {},
        }

    def get(self, options: Mapping[str, Any], origin: str) -> dict[str, Any]:
        """An AuthenticationResponseJSON for request options (``challenge``, ``rpId``, ``allowCredentials``)."""
        rp = str(options["rpId"])
        allowed = {str(c["id"]) for c in options.get("allowCredentials") or []}
        usable = [
            c
            for c in self.credentials
            if c.rp_id == rp and (not allowed or b64url(c.credential_id) in allowed)
        ]
        if not usable:
            raise LookupError(f"no credential for {rp}")
        stored = usable[-1]
        stored.sign_count += 1
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + bytes([self._flags()])
            + struct.pack(">I", stored.sign_count)
        )
        client_data = json.dumps(
            {
                "type": "webauthn.get",
                "challenge": str(options["challenge"]),
                "origin": origin,
                "crossOrigin": False,
            }
        ).encode()
        signature = stored.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(stored.credential_id),
            "rawId": b64url(stored.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": stored.user_handle,
            },
            "authenticatorAttachment": self.attachment,
            "clientExtensionResults": {},
        }
