"""The framework-neutral backend: :class:`CognitoSettings` and :class:`CognitoBackend`, which answers the
HTTP API of :mod:`aiocognito.web.routes` (:data:`~aiocognito.web.routes.ROUTES`). The adapters
(``aiocognito.web.fastapi``, ``aiocognito.web.aiohttp``) only move bytes and headers in and out of
:meth:`CognitoBackend.handle`.

Saved challenges and enrollments live in a :class:`~aiocognito.web.challenges.ChallengeStore`: their values
hold Cognito's Session or the TOTP secret, so they never leave the server; the browser gets the id.
Logs name routes, outcomes and error codes only: no password, code, token, Session or id.

The signed-in routes act with the request's access token: the session they use is rebuilt from it (no
refresh token; it is not refreshed, and an expired one answers 401).

With ``managed_login=ManagedLoginSettings(...)`` the backend also opens a
:class:`~aiocognito.oauth.ManagedLogin` for its lifetime and keeps browser sessions for
:mod:`aiocognito.web.managed_login` ("Sign in with Cognito": ``/login``, the callback, ``/logout``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._errors import CognitoError, ConfigurationError, ParamValidationError, ServiceError, TransportError
from .._signin.account import CodeDelivery, TotpEnrollment
from .._signin.steps import (
    MfaCodeRequired,
    MfaSelectionRequired,
    NewPasswordRequired,
    SignedIn,
    Step,
    TotpSetupRequired,
    WebAuthnRequired,
)
from .._signin.stores import MemoryTokenStore, TokenStore
from .._tokens.token_set import TokenSet
from .._tokens.verifier import TokenVerifier
from .._wire.client import CognitoClient
from .bearer import CognitoClaims, Requirement, authenticate
from .challenges import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TTL,
    ChallengeStore,
    MemoryChallengeStore,
    SavedChallenge,
    check_store_settings,
)
from .http_errors import HttpError, bad_request, http_error
from .managed_login import ManagedLoginSettings
from .passkeys import SIGN_IN_PURPOSE, PasskeyRoutes
from .routes import Reply, Route

if TYPE_CHECKING:
    from .._signin.session import Session
    from ..oauth._login import ManagedLogin

__all__ = ["CognitoBackend", "CognitoSettings", "VerifierFactory"]

logger = logging.getLogger("aiocognito.web")

#: Builds the verifier when the backend starts, from its client (e.g. ``TokenVerifier.multi(..., client=c)``).
VerifierFactory = Callable[[CognitoClient], TokenVerifier]

_SIGN_IN = SIGN_IN_PURPOSE
_TOTP = "totp"


@dataclass(frozen=True)
class CognitoSettings:
    """Where the user pool is, and how the routes behave.

    Args:
        user_pool_id, client_id: the pool and the app client the routes sign in with (and whose access
            tokens the default verifier accepts).
        client_secret: the app client's secret, if it has one.
        region: default: the pool id's prefix.
        endpoint_url: a custom Cognito endpoint (a local pool, a VPC endpoint); default:
            ``$AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`` or ``$AWS_ENDPOINT_URL`` when set, as AWS's SDKs.
        issuer, jwks_url: override the issuer(s) and JWKS URL the default verifier accepts (not needed
            for AWS, nor for a local pool or moto reached through ``endpoint_url``).
        challenge_ttl: seconds a saved challenge lives: at most the app client's AuthSessionValidity
            (180 s by default; 900 s at most).
        max_attempts: answers allowed per saved challenge.
        totp_issuer: the issuer name authenticator apps show for TOTP secrets.
    """

    user_pool_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    region: str | None = None
    endpoint_url: str | None = None
    issuer: str | None = None
    jwks_url: str | None = None
    challenge_ttl: float = DEFAULT_TTL
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    totp_issuer: str = "Cognito"

    def __post_init__(self) -> None:
        check_store_settings(self.challenge_ttl, self.max_attempts)
        if not self.user_pool_id or not self.client_id:
            raise ConfigurationError("user_pool_id and client_id are required")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> CognitoSettings:
        """Read ``AIOCOGNITO_USER_POOL_ID``, ``AIOCOGNITO_CLIENT_ID`` (both required),
        ``AIOCOGNITO_CLIENT_SECRET``, ``AWS_REGION``, ``AIOCOGNITO_ENDPOINT_URL``, ``AIOCOGNITO_ISSUER``,
        ``AIOCOGNITO_JWKS_URL``, ``AIOCOGNITO_CHALLENGE_TTL`` and ``AIOCOGNITO_TOTP_ISSUER``."""

        def get(name: str) -> str | None:
            return environ.get(name) or None

        pool_id, client_id = get("AIOCOGNITO_USER_POOL_ID"), get("AIOCOGNITO_CLIENT_ID")
        if pool_id is None or client_id is None:
            raise ConfigurationError("set AIOCOGNITO_USER_POOL_ID and AIOCOGNITO_CLIENT_ID")
        ttl = get("AIOCOGNITO_CHALLENGE_TTL")
        try:
            challenge_ttl = float(ttl) if ttl is not None else DEFAULT_TTL
        except ValueError:
            raise ConfigurationError("AIOCOGNITO_CHALLENGE_TTL must be a number of seconds") from None
        return cls(
            user_pool_id=pool_id,
            client_id=client_id,
            client_secret=get("AIOCOGNITO_CLIENT_SECRET"),
            region=get("AWS_REGION"),
            endpoint_url=get("AIOCOGNITO_ENDPOINT_URL"),
            issuer=get("AIOCOGNITO_ISSUER"),
            jwks_url=get("AIOCOGNITO_JWKS_URL"),
            challenge_ttl=challenge_ttl,
            totp_issuer=get("AIOCOGNITO_TOTP_ISSUER") or "Cognito",
        )


def _delivery(delivery: CodeDelivery | None) -> dict[str, Any] | None:
    if delivery is None:
        return None
    return {"destination": delivery.destination, "medium": delivery.medium, "attribute": delivery.attribute}


def _tokens_body(step: SignedIn) -> dict[str, Any]:
    tokens = step.tokens
    return {
        "tokens": {
            "access_token": tokens.access_token,
            "id_token": tokens.id_token,
            "refresh_token": tokens.refresh_token,
            "expires_in": tokens.expires_in,
            "token_type": tokens.token_type,
        }
    }


class CognitoBackend(PasskeyRoutes):
    """One CognitoClient, one TokenVerifier and a challenge store for an app's lifetime, and the answers
    to :data:`~aiocognito.web.routes.ROUTES`.

    ``start()``/``close()`` (or ``async with``, or ``lifespan``) open and close the client and verifier.

    Args:
        settings: the pool and app client.
        store: where challenges wait between requests (default: a :class:`MemoryChallengeStore` with the
            settings' TTL and attempts; one process only).
        client: a CognitoClient to borrow (not closed here); default: one made from the settings.
        verifier: a TokenVerifier to borrow (not closed here), or a factory called with the client at
            start (its verifier is closed here), e.g. ``lambda c: TokenVerifier.multi([...], client=c)``
            for several pools or app clients. Default: the settings' pool and app client.
        managed_login: "Sign in with Cognito" through the user pool domain (see
            :mod:`aiocognito.web.managed_login`); the app client needs the ``code`` OAuth flow.
        browser_sessions: where managed-login sessions keep their tokens (default: a
            :class:`~aiocognito.MemoryTokenStore`, one process; with several workers a
            :class:`~aiocognito.redis.RedisTokenStore` with ``ttl`` and a ``cipher``).
    """

    def __init__(
        self,
        settings: CognitoSettings,
        *,
        store: ChallengeStore | None = None,
        client: CognitoClient | None = None,
        verifier: TokenVerifier | VerifierFactory | None = None,
        managed_login: ManagedLoginSettings | None = None,
        browser_sessions: TokenStore | None = None,
    ) -> None:
        self.settings = settings
        self.managed_login_settings = managed_login
        self.browser_sessions: TokenStore = browser_sessions or MemoryTokenStore()
        self._managed_login: ManagedLogin | None = None
        self.store: ChallengeStore = store or MemoryChallengeStore(
            settings.challenge_ttl, max_attempts=settings.max_attempts
        )
        self._given_client = client
        self._given_verifier = verifier
        self._client: CognitoClient | None = None
        self._verifier: TokenVerifier | None = None
        self._owned = contextlib.AsyncExitStack()
        handlers: dict[str, Callable[[dict[str, Any], CognitoClaims | None], Awaitable[dict[str, Any]]]]
        handlers = {
            "sign_in": self._sign_in,
            "answer": self._answer,
            "sign_up": self._sign_up,
            "confirm_sign_up": self._confirm_sign_up,
            "resend_code": self._resend_code,
            "forgot_password": self._forgot_password,
            "reset_password": self._reset_password,
            "change_password": self._change_password,
            "start_totp": self._start_totp,
            "confirm_totp": self._confirm_totp,
            **self._passkey_handlers(),
        }
        self._handlers = handlers

    def __repr__(self) -> str:
        state = "started" if self._client is not None else "stopped"
        return f"<CognitoBackend pool={self.settings.user_pool_id!r} {state}>"

    # -- lifetime --------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the client, the verifier and the managed login if configured (idempotent)."""
        if self._client is not None:
            return
        s = self.settings
        async with contextlib.AsyncExitStack() as stack:
            client = self._given_client
            if client is None:
                region = s.region or s.user_pool_id.partition("_")[0]
                client = CognitoClient(region=region, endpoint_url=s.endpoint_url)  # or the SDKs' variables
                stack.push_async_callback(client.close)
            given = self._given_verifier
            if isinstance(given, TokenVerifier):
                verifier = given
            else:
                if given is not None:
                    verifier = given(client)
                else:
                    verifier = TokenVerifier(
                        s.user_pool_id,
                        client_ids=s.client_id,
                        issuer=s.issuer,
                        jwks_url=s.jwks_url,
                        client=client,
                    )
                stack.push_async_callback(verifier.aclose)
            login = self._open_managed_login(verifier)
            if login is not None:
                stack.push_async_callback(login.aclose)
            self._owned = stack.pop_all()  # closed in close(): in reverse order, the client last
        self._client, self._verifier, self._managed_login = client, verifier, login

    def _open_managed_login(self, verifier: TokenVerifier) -> ManagedLogin | None:
        """The managed login of the settings (its own HTTP session), verifying with ``verifier``."""
        ml = self.managed_login_settings
        if ml is None:
            return None
        from ..oauth._login import ManagedLogin  # imports Authlib: only for apps that use it

        return ManagedLogin(
            ml.domain_url,
            self.settings.client_id,
            client_secret=self.settings.client_secret,
            redirect_uri=ml.redirect_uri,
            scopes=ml.scopes,
            verifier=verifier,
        )

    async def close(self) -> None:
        """Close what :meth:`start` opened (idempotent); borrowed objects stay open."""
        owned, self._owned = self._owned, contextlib.AsyncExitStack()
        self._client = self._verifier = None
        self._managed_login = None
        await owned.aclose()

    async def __aenter__(self) -> CognitoBackend:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: object = None) -> AsyncIterator[None]:
        """An ASGI lifespan (``FastAPI(lifespan=backend.lifespan)``): started inside, closed after."""
        await self.start()
        try:
            yield
        finally:
            await self.close()

    @property
    def client(self) -> CognitoClient:
        """The client (RuntimeError before :meth:`start`)."""
        if self._client is None:
            raise RuntimeError("the Cognito backend is not started (see its lifespan)")
        return self._client

    @property
    def verifier(self) -> TokenVerifier:
        """The verifier (RuntimeError before :meth:`start`)."""
        if self._verifier is None:
            raise RuntimeError("the Cognito backend is not started (see its lifespan)")
        return self._verifier

    @property
    def managed_login(self) -> ManagedLogin:
        """The managed login (RuntimeError when not configured, or before :meth:`start`)."""
        if self._managed_login is None:
            if self.managed_login_settings is None:
                raise RuntimeError("no managed login configured (CognitoBackend(..., managed_login=...))")
            raise RuntimeError("the Cognito backend is not started (see its lifespan)")
        return self._managed_login

    def session(self) -> Session:
        """A sign-in session for one request (cheap: it holds no connection of its own)."""
        s = self.settings
        return self.client.session(
            user_pool_id=s.user_pool_id, client_id=s.client_id, client_secret=s.client_secret
        )

    async def signed_in_session(self, user: CognitoClaims) -> Session:
        """A session holding the request's verified access token (no refresh token, never refreshed)."""
        if user.token_use != "access":
            raise HttpError(401, "invalid_token", reason="token_use")
        try:
            tokens = TokenSet.from_access_token(
                user.token, wall_now=time.time(), monotonic_now=time.monotonic()
            )
        except ValueError:
            raise HttpError(401, "invalid_token", reason="malformed") from None
        s = self.settings
        same_client = (user.user_pool_id, user.client_id) == (s.user_pool_id, s.client_id)
        session = self.client.session(
            user_pool_id=user.user_pool_id,  # the token's own pool and app client (several with multi)
            client_id=user.client_id,
            client_secret=s.client_secret if same_client else None,
            refresh_margin=0.0,  # no refresh token: the access token is used until it expires
        )
        await session.use_tokens(tokens, username=user.username)
        return session

    async def authenticate(
        self, authorization: str | None, requirement: Requirement | None = None
    ) -> CognitoClaims:
        """Check an ``Authorization`` header (see :func:`aiocognito.web.bearer.authenticate`)."""
        return await authenticate(self.verifier, authorization, requirement)

    # -- routes ----------------------------------------------------------------------------------------

    async def handle(self, route: Route, body: bytes, authorization: str | None = None) -> Reply:
        """Answer ``route`` for a request body and ``Authorization`` header; never raises for a refused
        request (HttpError and Cognito's errors become their :class:`Reply`)."""
        values: dict[str, Any] = {}
        try:
            user = await self.authenticate(authorization) if route.bearer else None
            values = route.form.parse(body)
            return Reply(200, await self._handlers[route.name](values, user))
        except HttpError as exc:
            return Reply(exc.status, exc.body, exc.headers)
        except CognitoError as exc:
            what = exc.code if isinstance(exc, ServiceError) else type(exc).__name__
            error = http_error(exc, secrets=route.form.secret_values(values))
            log = logger.warning if error.status >= 500 else logger.info
            log("%s failed: %s", route.path.strip("/"), what)
            return Reply(error.status, error.body, error.headers)

    async def _step_reply(self, step: Step) -> dict[str, Any]:
        """Tokens, or the challenge saved under a new id (the saved form never leaves the server)."""
        if isinstance(step, SignedIn):
            logger.info("sign-in: signed in")
            return _tokens_body(step)
        extra: dict[str, Any] = {}
        if isinstance(step, MfaCodeRequired):
            if step.destination:
                extra = {"destination": step.destination, "delivery_medium": step.delivery_medium}
        elif isinstance(step, NewPasswordRequired):
            if step.missing_attributes:
                extra = {"missing_attributes": step.missing_attributes}
        elif isinstance(step, MfaSelectionRequired):
            extra = {"options": step.options}
        elif isinstance(step, WebAuthnRequired):  # answered at /passkeys/sign-in/answer
            extra = {"request_options": step.request_options}
        elif isinstance(step, TotpSetupRequired) and "SOFTWARE_TOKEN_MFA" in (
            step.options or ["SOFTWARE_TOKEN_MFA"]
        ):
            secret = await step.associate()
            extra = {"secret_code": secret, "otpauth_uri": step.provisioning_uri(self.settings.totp_issuer)}
        else:
            name = getattr(step, "name", type(step).__name__)
            logger.info("sign-in: challenge %s is not supported here", name)
            raise HttpError(501, "unsupported_challenge", challenge=name)
        challenge_id = await self.store.save({"purpose": _SIGN_IN, "step": step.to_dict()})
        logger.info("sign-in: challenge %s saved", step.name)
        return {
            "challenge": step.name,
            "challenge_id": challenge_id,
            "expires_in": int(self.store.ttl),
            **extra,
        }

    async def _retry_later(self, challenge_id: str, saved: SavedChallenge, exc: CognitoError) -> None:
        """Put a challenge back after a refused answer, unless the refusal ended it."""
        ended = isinstance(exc, ServiceError) and exc.code == "NotAuthorizedException"
        if ended or not isinstance(exc, (ServiceError, ParamValidationError, TransportError)):
            return
        if not await self.store.put_back(challenge_id, saved):
            logger.info("answer: no tries left, challenge dropped")

    async def _sign_in(self, values: dict[str, Any], user: CognitoClaims | None) -> dict[str, Any]:
        return await self._step_reply(await self.session().sign_in(values["username"], values["password"]))

    async def _answer(self, values: dict[str, Any], user: CognitoClaims | None) -> dict[str, Any]:
        challenge_id = values["challenge_id"]
        saved = await self.store.take(challenge_id)
        if saved is None or saved.data.get("purpose") != _SIGN_IN:
            raise HttpError(410, "challenge_expired", message="unknown or expired challenge: sign in again")
        try:
            step = await self.session().resume(saved.data["step"])
            code, new_password, choice = values.get("code"), values.get("new_password"), values.get("choice")
            if isinstance(step, (MfaCodeRequired, TotpSetupRequired)) and code:
                if isinstance(step, TotpSetupRequired):
                    following = await step.respond(code, values.get("device_name"))
                else:
                    following = await step.respond(code)
            elif isinstance(step, NewPasswordRequired) and new_password:
                following = await step.respond(new_password, values.get("attributes"))
            elif isinstance(step, MfaSelectionRequired) and choice:
                following = await step.respond(choice)
            else:
                wanted = "code"
                if isinstance(step, (NewPasswordRequired, MfaSelectionRequired)):
                    wanted = "new_password" if isinstance(step, NewPasswordRequired) else "choice"
                await self.store.put_back(challenge_id, saved)
                if isinstance(step, WebAuthnRequired):
                    raise bad_request("this challenge is answered at /passkeys/sign-in/answer")
                raise bad_request(f"this challenge is answered with {wanted!r}", fields=[wanted])
        except CognitoError as exc:
            await self._retry_later(challenge_id, saved, exc)
            raise
        return await self._step_reply(following)

    async def _sign_up(self, values: dict[str, Any], user: CognitoClaims | None) -> dict[str, Any]:
        result = await self.session().sign_up(
            values["username"], values["password"], attributes=values.get("attributes")
        )
        logger.info("sign-up: done (confirmed: %s)", result.user_confirmed)
        return {
            "user_confirmed": result.user_confirmed,
            "user_sub": result.user_sub,
            "code_delivery": _delivery(result.code_delivery),
        }

    async def _confirm_sign_up(self, values: dict[str, Any], user: CognitoClaims | None) -> dict[str, Any]:
        await self.session().confirm_sign_up(values["username"], values["code"])
        return {"confirmed": True}

    async def _resend_code(self, values: dict[str, Any], user: CognitoClaims | None) -> dict[str, Any]:
        return {"code_delivery": _delivery(await self.session().resend_confirmation_code(values["username"]))}

    async def _forgot_password(self, values: dict[str, Any], user: CognitoClaims | None) -> dict[str, Any]:
        return {"code_delivery": _delivery(await self.session().forgot_password(values["username"]))}

    async def _reset_password(self, values: dict[str, Any], user: CognitoClaims | None) -> dict[str, Any]:
        await self.session().confirm_forgot_password(
            values["username"], values["code"], values["new_password"]
        )
        return {"password_reset": True}

    async def _change_password(self, values: dict[str, Any], user: CognitoClaims | None) -> dict[str, Any]:
        assert user is not None
        session = await self.signed_in_session(user)
        await session.change_password(values["old_password"], values["new_password"])
        logger.info("password: changed")
        return {"password_changed": True}

    async def _start_totp(self, values: dict[str, Any], user: CognitoClaims | None) -> dict[str, Any]:
        assert user is not None
        enrollment = await (await self.signed_in_session(user)).enable_totp()
        enrollment_id = await self.store.save(
            {
                "purpose": _TOTP,
                "sub": user.sub,
                "user_pool_id": user.user_pool_id,
                "client_id": user.client_id,
                "username": enrollment.username,
                "secret_code": enrollment.secret_code,
            }
        )
        logger.info("totp: enrollment saved")
        return {
            "enrollment_id": enrollment_id,
            "secret_code": enrollment.secret_code,
            "otpauth_uri": enrollment.provisioning_uri(self.settings.totp_issuer),
            "expires_in": int(self.store.ttl),
        }

    async def _confirm_totp(self, values: dict[str, Any], user: CognitoClaims | None) -> dict[str, Any]:
        assert user is not None
        enrollment_id = values["enrollment_id"]
        saved = await self.store.take(enrollment_id)
        data = saved.data if saved is not None else {}
        mine = (data.get("sub"), data.get("user_pool_id"), data.get("client_id"))
        if (
            saved is None
            or data.get("purpose") != _TOTP
            or mine != (user.sub, user.user_pool_id, user.client_id)
        ):
            raise HttpError(410, "enrollment_expired", message="unknown or expired enrollment: start again")
        session = await self.signed_in_session(user)
        enrollment = TotpEnrollment(session, data["secret_code"], data["username"])
        try:
            await enrollment.confirm(values["code"], values.get("device_name"))
        except CognitoError as exc:
            await self._retry_later(enrollment_id, saved, exc)
            raise
        logger.info("totp: enabled")
        return {"totp_enabled": True}


def verifier_of(source: TokenVerifier | CognitoBackend) -> TokenVerifier:
    """The verifier a bearer check uses: ``source`` itself, or a started backend's."""
    return source.verifier if isinstance(source, CognitoBackend) else source
