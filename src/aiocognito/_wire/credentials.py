"""Where signed calls get their AWS credentials and the client its region.

Explicit credentials are used as given. Otherwise aiobotocore's standard provider chain (environment, shared
credentials and config files, profiles, SSO, container and instance metadata) is built on the first signed
call, never at import or client construction, and asked for frozen credentials on every signed call so that
refreshable credentials are renewed before they expire.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

from .._errors import ConfigurationError, CredentialsError
from .signing import Credentials

__all__ = ["CredentialSource", "resolve_region"]


def _coerce(value: Any) -> Credentials | None:
    if isinstance(value, Credentials):
        return value
    if (
        isinstance(value, tuple)
        and len(value) in (2, 3)
        and all(isinstance(v, (str, type(None))) for v in value)
    ):
        return Credentials(*value)
    if isinstance(value, Mapping):
        ak = value.get("aws_access_key_id") or value.get("AccessKeyId") or value.get("access_key")
        sk = value.get("aws_secret_access_key") or value.get("SecretAccessKey") or value.get("secret_key")
        tok = value.get("aws_session_token") or value.get("SessionToken") or value.get("token")
        if ak and sk:
            return Credentials(ak, sk, tok)
        raise ConfigurationError("credentials mapping needs an access key id and a secret access key")
    return None


class CredentialSource:
    """Frozen credentials for each signed call.

    ``credentials`` may be a :class:`Credentials`, a tuple ``(access_key, secret_key[, token])``, a mapping
    with boto3's key names, or any object with botocore's ``get_frozen_credentials()`` (sync or async).
    """

    __slots__ = ("_static", "_provider", "_profile", "_lock")

    def __init__(self, credentials: Any = None, *, profile: str | None = None) -> None:
        self._static = _coerce(credentials)
        self._provider: Any = credentials if self._static is None else None
        self._profile = profile
        self._lock: asyncio.Lock | None = None

    async def get(self) -> Credentials:
        static = self._static
        if static is not None:
            return static
        provider = self._provider
        if provider is None:
            provider = await self._load_chain()
        frozen = provider.get_frozen_credentials()
        if asyncio.iscoroutine(frozen):
            frozen = await frozen
        return Credentials(frozen.access_key, frozen.secret_key, frozen.token)

    async def _load_chain(self) -> Any:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._provider is None:
                from aiobotocore.session import AioSession

                session = AioSession(profile=self._profile)
                creds = await session.get_credentials()
                if creds is None:
                    raise CredentialsError(
                        "no AWS credentials found (environment, shared files, profile, SSO, container or "
                        "instance metadata); signed (admin) operations need them, unsigned ones do not"
                    )
                self._provider = creds
        return self._provider


def resolve_region(region: str | None, profile: str | None, endpoint_url: str | None) -> str:
    """Explicit region, else AWS_REGION / AWS_DEFAULT_REGION, else the shared config (profile aware).

    With a custom ``endpoint_url`` and no region anywhere, ``us-east-1`` is used for signing.
    """
    if region:
        return region
    env = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if env:
        return env
    from botocore.exceptions import BotoCoreError
    from botocore.session import Session

    try:
        configured = Session(profile=profile).get_config_variable("region")
    except BotoCoreError as exc:
        raise ConfigurationError(f"cannot read the region from the AWS config: {exc}") from None
    if configured:
        return str(configured)
    if endpoint_url:
        return "us-east-1"
    raise ConfigurationError(
        "no region: pass region=, set AWS_REGION or AWS_DEFAULT_REGION, or set one in the shared AWS config"
    )
