"""``CognitoClient``: every operation as an async method over one aiohttp session.

One call: check the parameters, encode the JSON body, sign it when the operation is signed (every retry is
re-signed), send, and turn the answer into a boto3-shaped dict or a typed error. Retries follow the rule in
``retry.py``.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import aiohttp

from .._errors import (
    CognitoError,
    ConfigurationError,
    ParamValidationError,
    ResponseParseError,
    ServiceError,
    TransportError,
    redact,
)
from .credentials import CredentialSource, resolve_endpoint, resolve_region
from .error_codes import ERROR_CLASSES
from .model import OperationSpec, PaginatedSpec, check_params, convert_output, encode_body
from .operations import OPERATIONS, OperationsMixin
from .paginate import PageCursor, Paginator
from .retry import RetryPolicy, is_throttle, retry_delay
from .signing import SigV4Signer
from .transport import AiohttpTransport, RawResponse, Timeout, Transport

if TYPE_CHECKING:
    from .._signin.session import Session
    from ..quotas import Pacer

__all__ = ["CognitoClient"]

logger = logging.getLogger("aiocognito")

_CONTENT_TYPE = "application/x-amz-json-1.1"


def endpoint_for(region: str, *, use_fips: bool = False) -> str:
    """Cognito's public endpoint for ``region`` (the China partition uses ``amazonaws.com.cn``)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    service = "cognito-idp-fips" if use_fips else "cognito-idp"
    return f"https://{service}.{region}.{suffix}"


def parse_error(operation: str, raw: RawResponse) -> CognitoError:
    """The typed error for a non-200 answer. Never raises, whatever the body holds."""
    headers = raw.headers
    request_id = headers.get("x-amzn-RequestId")
    body: Any = None
    if raw.body:
        try:
            body = json.loads(raw.body)
        except (ValueError, UnicodeDecodeError):
            body = None
    code = headers.get("x-amzn-ErrorType") or ""
    if not code and isinstance(body, dict):
        code = body.get("__type") or body.get("code") or body.get("Code") or ""
    if not isinstance(code, str):
        code = ""
    code = code.split(":", 1)[0].rsplit("#", 1)[-1].strip()
    if not code:
        excerpt = redact(raw.body.decode("utf-8", "replace"))
        what = "an error answer with no error code" if isinstance(body, dict) else "a non-JSON error answer"
        return ResponseParseError(
            f"Cognito sent {what}", operation=operation, status=raw.status, excerpt=excerpt
        )
    message = ""
    extra: dict[str, Any] = {}
    if isinstance(body, dict):
        message = body.get("message") or body.get("Message") or ""
        extra = {k: v for k, v in body.items() if k not in ("__type", "message", "Message", "code", "Code")}
    if not message:
        message = headers.get("x-amzn-ErrorMessage", "")
    cls = ERROR_CLASSES.get(code, ServiceError)
    return cls(
        str(message), code=code, operation=operation, request_id=request_id, status=raw.status, extra=extra
    )


def parse_success(operation: str, raw: RawResponse, attempts: int, plan: Any) -> dict[str, Any]:
    """The boto3-shaped dict for a 200 answer; ResponseParseError when the body is not a JSON object."""
    if raw.body:
        try:
            body = json.loads(raw.body)
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise ResponseParseError(
                "Cognito sent a success status with a body that is not a JSON object",
                operation=operation,
                status=raw.status,
                excerpt=redact(raw.body.decode("utf-8", "replace")),
            )
        convert_output(body, plan)
    else:
        body = {}
    headers = raw.headers
    body["ResponseMetadata"] = {
        "RequestId": headers.get("x-amzn-RequestId", ""),
        "HTTPStatusCode": raw.status,
        "HTTPHeaders": {k.lower(): v for k, v in headers.items()},
        "RetryAttempts": attempts - 1,
    }
    return body


def _make_pacer(quotas: Pacer | Mapping[str, float] | bool | None) -> Pacer | None:
    if not quotas:
        return None
    from ..quotas import Pacer, QuotaPacer

    if isinstance(quotas, Pacer):  # a QuotaPacer, a RedisQuotaPacer, or any object with the interface
        return quotas
    return QuotaPacer(None if quotas is True else quotas)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class CognitoClient(OperationsMixin):
    """An asyncio client for Amazon Cognito user pools (``cognito-idp``).

    Args:
        region: AWS region; default from AWS_REGION/AWS_DEFAULT_REGION or the shared config. Whatever its
            source, a value that is not shaped like a region name raises ParamValidationError naming it.
        endpoint_url: a custom endpoint (a local pool, moto, a VPC endpoint): an absolute http(s) URL, else
            ParamValidationError. Default: ``$AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER``, then
            ``$AWS_ENDPOINT_URL`` (as boto3; off with ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true``), else the
            region's endpoint. Excludes ``use_fips``.
        use_fips: use the FIPS endpoint ``cognito-idp-fips.{region}.amazonaws.com``.
        credentials: explicit AWS credentials (see ``CredentialSource``); default: the standard chain,
            loaded on the first signed call. Unsigned (public) operations never need them.
        profile: shared-config profile for the region and the credential chain.
        timeout: seconds for a whole request, or a :class:`Timeout` (default: 30 s total, 10 s to connect).
        retries: a :class:`RetryPolicy`, or the maximum number of attempts (1 = no retries); default 4
            attempts with full-jitter backoff (0.5 s base after throttling, 0.1 s otherwise), by the rule
            in ``retry.py``.
        http_session: an aiohttp session to borrow (left open on close); by default the client owns one.
        quotas: pace calls against Cognito's per-category request quotas (see ``aiocognito.quotas``):
            True for the published defaults, or a mapping ``{"UserCreation": 20, ...}`` of overrides, or
            a pacer to share (a ``QuotaPacer``; ``aiocognito.redis.RedisQuotaPacer`` for every process of
            an account). Off (None) by default; bulk operations turn it on for their own calls.
        transport: a custom transport (tests); replaces the aiohttp one.

    Use it as ``async with CognitoClient(...) as cognito:``, or call ``await cognito.close()``.
    """

    def __init__(
        self,
        region: str | None = None,
        *,
        endpoint_url: str | None = None,
        use_fips: bool = False,
        credentials: Any = None,
        profile: str | None = None,
        timeout: float | Timeout | None = None,
        retries: RetryPolicy | int | None = None,
        http_session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        quotas: Pacer | Mapping[str, float] | bool | None = None,
        clock: Callable[[], datetime] = _utcnow,
        random: Callable[[], float] = random.random,
    ) -> None:
        if endpoint_url and use_fips:
            raise ConfigurationError("endpoint_url cannot be combined with use_fips")
        if not use_fips:  # the AWS SDKs' endpoint variables apply too (a local pool, a VPC endpoint)
            endpoint_url = resolve_endpoint(endpoint_url)
        # Checked to have a region's shape (check_region), wherever it came from: it goes into the host name.
        self.region: str = resolve_region(region, profile, endpoint_url)
        self.endpoint_url: str = (endpoint_url or endpoint_for(self.region, use_fips=use_fips)).rstrip("/")
        self._url = self.endpoint_url + "/"
        self._host = self.endpoint_url.split("://", 1)[1].split("/", 1)[0]
        self.retry_policy = RetryPolicy.of(retries)
        if timeout is None:
            timeout = Timeout()
        elif not isinstance(timeout, Timeout):
            timeout = Timeout(total=float(timeout))
        self._transport: Transport = transport or AiohttpTransport(http_session, timeout=timeout)
        # Calls beyond the connection limit queue here, before aiohttp builds its request state and before
        # signing: a pending call costs a few frames (10,000 pending: 33 MiB traced, 93 MiB without).
        limit = getattr(self._transport, "max_connections", 0)
        self._slots = asyncio.Semaphore(limit) if limit else None
        self._credentials = CredentialSource(credentials, profile=profile)
        self._signer = SigV4Signer(self.region)
        self._clock = clock
        self._random = random
        self._closed = False
        self._pacer = _make_pacer(quotas)

    def __repr__(self) -> str:
        return f"<CognitoClient region={self.region!r} endpoint={self.endpoint_url!r}>"

    # ----- lifetime ---------------------------------------------------------------------------------------
    async def __aenter__(self) -> CognitoClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the owned HTTP session (a borrowed one stays open). Safe to call twice."""
        if not self._closed:
            self._closed = True
            await self._transport.aclose()

    def with_options(
        self,
        *,
        retries: RetryPolicy | int | None = None,
        quotas: Pacer | Mapping[str, float] | bool | None = None,
    ) -> CognitoClient:
        """A view of this client with other retry or quota settings.

        The view shares the connection pool, credentials, endpoint and clock; closing it does nothing
        (close the original). ``quotas`` may be a pacer (``QuotaPacer``) to share between views; None
        keeps this client's pacer, False turns pacing off.
        """
        view = copy.copy(self)
        view._closed = True  # the transport belongs to the original
        if retries is not None:
            view.retry_policy = RetryPolicy.of(retries)
        if quotas is not None:
            view._pacer = _make_pacer(quotas)
        return view

    @property
    def http_session(self) -> aiohttp.ClientSession:
        """The aiohttp session this client sends with (for side requests such as the JWKS)."""
        transport = self._transport
        if isinstance(transport, AiohttpTransport):
            return transport.session
        raise ConfigurationError("this client's transport has no aiohttp session")

    # ----- one call -----------------------------------------------------------------------------------------
    async def _invoke(self, spec: OperationSpec, params: dict[str, Any]) -> Any:
        check_params(spec, params)
        try:
            body = encode_body(params, spec.input_plan)
        except (TypeError, ValueError) as exc:
            raise ParamValidationError(spec.name, [str(exc)]) from None
        base_headers = {"Host": self._host, "Content-Type": _CONTENT_TYPE, "X-Amz-Target": spec.target}
        name = spec.name
        attempt = 0
        pacer = self._pacer
        slots = self._slots
        while True:
            attempt += 1
            if pacer is not None:
                await pacer.acquire(name)
            try:
                if slots is None:
                    raw = await self._send(spec, body, base_headers)
                else:
                    async with slots:
                        raw = await self._send(spec, body, base_headers)
                if raw.status == 200:
                    return parse_success(name, raw, attempt, spec.output_plan)
                error: CognitoError = parse_error(name, raw)
            except CognitoError as exc:
                if isinstance(exc, TransportError) and exc.operation is None:
                    exc.operation = name
                error = exc
            if pacer is not None and is_throttle(error):
                pacer.on_throttled(name)
            delay = retry_delay(self.retry_policy, attempt, error, name, self._random)
            if delay is None:
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug("%s failed after %d attempt(s): %s", name, attempt, type(error).__name__)
                raise error
            logger.debug(
                "%s attempt %d failed (%s); retrying in %.3fs", name, attempt, type(error).__name__, delay
            )
            await asyncio.sleep(delay)

    async def _send(self, spec: OperationSpec, body: bytes, base_headers: dict[str, str]) -> RawResponse:
        """One attempt on the wire, signed just before it leaves (a queued call never carries a stale date)."""
        headers = dict(base_headers)
        if spec.signed:
            credentials = await self._credentials.get()
            self._signer.sign(headers, body, credentials, self._clock())
        return await self._transport.send(self._url, headers, body)

    def _paginate(self, spec: PaginatedSpec, params: dict[str, Any]) -> Paginator[Any]:
        op = OPERATIONS[spec.operation]
        first = PageCursor(spec, params).next_request()
        if first is not None:
            check_params(op, first)  # a missing or mistyped parameter fails here, not at the first page

        async def fetch(request: dict[str, Any]) -> dict[str, Any]:
            return await self._invoke(op, request)  # type: ignore[no-any-return]

        return Paginator(spec, params, fetch)

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call an operation by its model name (``"AdminGetUser"``) with boto3's parameters."""
        spec = OPERATIONS.get(operation)
        if spec is None:
            raise ConfigurationError(f"unknown operation {operation!r}")
        return await self._invoke(spec, params)  # type: ignore[no-any-return]

    # ----- sign-in ------------------------------------------------------------------------------------------
    def session(
        self,
        *,
        user_pool_id: str,
        client_id: str,
        client_secret: str | None = None,
        device_store: Any = None,
        token_store: Any = None,
        admin: bool = False,
        **options: Any,
    ) -> Session:
        """A sign-in session for one app client (see ``aiocognito.Session``)."""
        from .._signin.session import Session

        return Session(
            self,
            user_pool_id=user_pool_id,
            client_id=client_id,
            client_secret=client_secret,
            device_store=device_store,
            token_store=token_store,
            admin=admin,
            **options,
        )
