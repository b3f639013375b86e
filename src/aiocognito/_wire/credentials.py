"""Where signed calls get their AWS credentials and the client its region.

Explicit credentials are used as given. Otherwise aiobotocore's standard provider chain (environment, shared
credentials and config files, profiles, SSO, container and instance metadata) is built on the first signed
call, never at import or client construction.

Credentials are resolved once per client, not per call: the frozen credentials are kept and asked for again
only when the provider says they are about to expire (botocore's ``refresh_needed()``; credentials that
cannot expire are kept for the client's life). One resolution runs at a time; concurrent calls wait for it.
A failed resolution is remembered for :data:`FAILURE_TTL` seconds: every call waiting on it, and every call
in that time, gets a :class:`~aiocognito.CredentialsError` with the same message at once, so a burst of 2,000
calls with no credentials makes one attempt at the chain (instance metadata included), not 2,000. Whatever
goes wrong in the chain (a missing profile, an SSO token to renew, a metadata service that does not
answer) becomes that ``CredentialsError``.

The region is checked to have the shape of a region name wherever it comes from (``region=``,
``AWS_REGION``, ``AWS_DEFAULT_REGION``, the shared config), since it becomes part of the endpoint's host name.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from .._errors import ConfigurationError, CredentialsError, redact
from .signing import Credentials
from .validate import check_endpoint_url, check_region

__all__ = ["CredentialSource", "FAILURE_TTL", "resolve_region"]

#: Seconds a failed credential resolution is remembered before the chain is tried again.
FAILURE_TTL = 30.0


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
    """Frozen credentials for each signed call, resolved once and renewed only when they are about to expire.

    ``credentials`` may be a :class:`Credentials`, a tuple ``(access_key, secret_key[, token])``, a mapping
    with boto3's key names, or any object with botocore's ``get_frozen_credentials()`` (sync or async). Such
    an object is asked again on every call unless it has botocore's ``refresh_needed()``, which then decides.
    """

    __slots__ = (
        "_static",
        "_provider",
        "_from_chain",
        "_profile",
        "_lock",
        "_frozen",
        "_failure",
        "_failed_at",
        "_clock",
    )

    def __init__(
        self,
        credentials: Any = None,
        *,
        profile: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._static = _coerce(credentials)
        self._provider: Any = credentials if self._static is None else None
        self._from_chain = False
        self._profile = profile
        self._lock: asyncio.Lock | None = None
        self._frozen: Credentials | None = None
        self._failure: str | None = None
        self._failed_at = 0.0
        self._clock = clock

    async def get(self) -> Credentials:
        static = self._static
        if static is not None:
            return static
        frozen = self._kept()
        if frozen is not None:
            return frozen
        self._raise_remembered()
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            # Whoever held the lock before may have resolved them, or failed: no second attempt then.
            frozen = self._kept()
            if frozen is not None:
                return frozen
            self._raise_remembered()
            try:
                frozen = await self._resolve()
            except CredentialsError as exc:
                self._failure, self._failed_at = str(exc), self._clock()
                raise
            self._failure = None
            self._frozen = frozen
            return frozen

    def _kept(self) -> Credentials | None:
        """The kept credentials while they are good (no refresh due), else None."""
        frozen = self._frozen
        if frozen is None:
            return None
        refresh_needed = getattr(self._provider, "refresh_needed", None)
        if refresh_needed is not None:
            due = refresh_needed()
            if inspect.iscoroutine(due):  # not botocore's (sync) method: ask the provider every time
                due.close()
                return None
            return None if due else frozen
        return frozen if self._from_chain else None

    def _raise_remembered(self) -> None:
        failure = self._failure
        if failure is not None and self._clock() - self._failed_at < FAILURE_TTL:
            raise CredentialsError(failure)  # a fresh instance: concurrent raisers share no traceback

    async def _resolve(self) -> Credentials:
        try:
            provider = self._provider
            if provider is None:
                provider = await self._load_chain()
            frozen = provider.get_frozen_credentials()
            if inspect.isawaitable(frozen):
                frozen = await frozen
        except CredentialsError:
            raise
        except Exception as exc:  # botocore's and the providers' own errors: one typed error for callers
            raise CredentialsError(
                f"cannot get AWS credentials: {type(exc).__name__}: {redact(str(exc))}"
            ) from exc
        access_key = getattr(frozen, "access_key", None)
        secret_key = getattr(frozen, "secret_key", None)
        if not access_key or not secret_key:
            raise CredentialsError("the AWS credentials found lack an access key id or a secret access key")
        return Credentials(access_key, secret_key, getattr(frozen, "token", None))

    async def _load_chain(self) -> Any:
        from aiobotocore.session import AioSession

        session = AioSession(profile=self._profile)
        creds = await session.get_credentials()
        if creds is None:
            raise CredentialsError(
                "no AWS credentials found (environment, shared files, profile, SSO, container or "
                "instance metadata); signed (admin) operations need them, unsigned ones do not"
            )
        self._provider = creds
        self._from_chain = True
        return creds


def resolve_region(region: str | None, profile: str | None, endpoint_url: str | None) -> str:
    """Explicit region, else AWS_REGION / AWS_DEFAULT_REGION, else the shared config (profile aware).

    With a custom ``endpoint_url`` and no region anywhere, ``us-east-1`` is used for signing. A region that is
    not shaped like one raises ParamValidationError naming where it came from.
    """
    if region:
        return check_region(region, where="region")
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        env = os.environ.get(variable)
        if env:
            return check_region(env, where=variable)
    from botocore.exceptions import BotoCoreError
    from botocore.session import Session

    try:
        configured = Session(profile=profile).get_config_variable("region")
    except BotoCoreError as exc:
        raise ConfigurationError(f"cannot read the region from the AWS config: {exc}") from None
    if configured:
        where = "region (AWS config" + (f", profile {profile})" if profile else ")")
        return check_region(str(configured), where=where)
    if endpoint_url:
        return "us-east-1"
    raise ConfigurationError(
        "no region: pass region=, set AWS_REGION or AWS_DEFAULT_REGION, or set one in the shared AWS config"
    )


#: The AWS SDKs' variables for a custom endpoint, the service's own first (boto3 and the AWS CLI read them).
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "AWS_ENDPOINT_URL")


def resolve_endpoint(endpoint_url: str | None) -> str | None:
    """Explicit ``endpoint_url``, else ``AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER``, else ``AWS_ENDPOINT_URL``
    (both ignored with ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true``), else None: the region's Cognito endpoint.
    A value that is not an absolute http(s) URL raises ParamValidationError naming where it came from."""
    if endpoint_url:
        return check_endpoint_url(endpoint_url, where="endpoint_url")
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return None
    for variable in ENDPOINT_VARIABLES:
        value = os.environ.get(variable)
        if value:
            return check_endpoint_url(value, where=variable)
    return None
