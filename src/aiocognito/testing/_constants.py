"""Values shared by the local pool and the demo, in a module that imports nothing (no moto)."""

from __future__ import annotations

__all__ = ["LOCAL_CREDENTIALS", "UPLOAD_PATH"]

#: The dummy AWS credentials clients of a local pool sign with (the pool does not check signatures).
LOCAL_CREDENTIALS = ("LOCALPOOLACCESSKEY", "local-pool-secret-key")

#: Where user import jobs' pre-signed URLs point (``{endpoint_url}{UPLOAD_PATH}/{job id}?...``).
UPLOAD_PATH = "/_uploads"
