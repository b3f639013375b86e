"""AWS Signature Version 4 for JSON ``POST /`` requests. Pure: the caller passes the time.

Only what Cognito's JSON protocol needs: an empty query string, path ``/``, and the headers the client
sends (all of them are signed). The derived signing key is cached per (secret, date, region, service), so
a call costs one HMAC for the key check, one SHA-256 of the body, one of the canonical request and one HMAC
for the signature.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from typing import NamedTuple

__all__ = ["Credentials", "SigV4Signer"]

_ALGORITHM = "AWS4-HMAC-SHA256"


class Credentials(NamedTuple):
    """Frozen AWS credentials. The repr hides the secret key and the session token."""

    access_key: str
    secret_key: str
    token: str | None = None

    def __repr__(self) -> str:
        return f"Credentials(access_key={self.access_key!r}, secret_key=<hidden>, token={'<hidden>' if self.token else None})"


def _trim(value: str) -> str:
    """SigV4's header value form: trimmed, inner runs of spaces folded to one."""
    value = value.strip()
    return " ".join(value.split()) if "  " in value or "\t" in value or "\n" in value else value


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


class SigV4Signer:
    """Signs requests for one service and region."""

    __slots__ = ("region", "service", "_key_cache")

    def __init__(self, region: str, service: str = "cognito-idp") -> None:
        self.region = region
        self.service = service
        self._key_cache: tuple[str, str, bytes] | None = None  # (secret, datestamp, key)

    def _signing_key(self, secret: str, datestamp: str) -> bytes:
        cached = self._key_cache
        if cached is not None and cached[0] == secret and cached[1] == datestamp:
            return cached[2]
        k_date = _hmac(("AWS4" + secret).encode("utf-8"), datestamp)
        k_region = _hmac(k_date, self.region)
        k_service = _hmac(k_region, self.service)
        key = _hmac(k_service, "aws4_request")
        self._key_cache = (secret, datestamp, key)
        return key

    def sign(self, headers: dict[str, str], body: bytes, credentials: Credentials, now: datetime) -> None:
        """Add ``X-Amz-Date``, ``X-Amz-Security-Token`` (if any) and ``Authorization`` to ``headers``.

        ``headers`` must already hold ``Host`` and every other header that will be sent.
        """
        if now.tzinfo is not None:
            now = now.astimezone(timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        datestamp = amz_date[:8]
        headers["X-Amz-Date"] = amz_date
        if credentials.token:
            headers["X-Amz-Security-Token"] = credentials.token
        canon = sorted([(k.lower(), v) for k, v in headers.items()])
        signed_headers = ";".join([k for k, _ in canon if k != "authorization"])
        canonical_headers = "".join([f"{k}:{_trim(v)}\n" for k, v in canon if k != "authorization"])
        canonical_request = (
            f"POST\n/\n\n{canonical_headers}\n{signed_headers}\n{hashlib.sha256(body).hexdigest()}"
        )
        scope = f"{datestamp}/{self.region}/{self.service}/aws4_request"
        string_to_sign = "\n".join(
            (_ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest())
        )
        signature = hmac.new(
            self._signing_key(credentials.secret_key, datestamp),
            string_to_sign.encode("utf-8"),
            hashlib.sha256,
        ).hexdigest()
        headers["Authorization"] = (
            f"{_ALGORITHM} Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={signed_headers}, Signature={signature}"
        )
