"""A FastAPI web backend: sign-in (MFA answered in a second request) and bearer-token checks.

    pip install fastapi uvicorn
    AIOCOGNITO_USER_POOL_ID=eu-west-1_AbC AIOCOGNITO_CLIENT_ID=... \\
        uvicorn --factory fastapi_backend:app_from_env --app-dir examples

The same API as ``aiohttp_backend.py`` (settings, the challenge store and the error table come from
``signin_common.py``):

``POST /sign-in`` ``{"username", "password"}``
    ``200 {"tokens": {...}}``, or ``200 {"challenge": "SOFTWARE_TOKEN_MFA", "challenge_id": "...",
    "expires_in": 180}`` when Cognito asks for more.
``POST /sign-in/answer`` ``{"challenge_id", "code"}`` (``"new_password"`` and optional ``"attributes"`` for NEW_PASSWORD_REQUIRED)
    tokens, or the next challenge. A wrong code answers ``400 code_mismatch`` and the same
    ``challenge_id`` can be tried again (3 tries); an unknown or expired id answers ``410``.
``GET /me`` with ``Authorization: Bearer <access token>``
    ``{"username", "sub"}`` of the verified token, ``401 {"error": "invalid_token", "reason": ...}``.

The saved challenge (``step.to_dict()``) holds Cognito's Session string, a credential for the few minutes
the challenge lives, so it stays on the server: the browser gets a random id. Here the saved challenges
live in a dict, which only works with one process; use Redis in production (``SET challenge:<id> <json>
EX 180`` to save, ``GETDEL`` to take), so any worker can answer.

Configuration (environment): AIOCOGNITO_USER_POOL_ID, AIOCOGNITO_CLIENT_ID, AIOCOGNITO_CLIENT_SECRET
(if the app client has one), AWS_REGION (default: the pool's), AIOCOGNITO_ENDPOINT_URL (e.g. a local
pool), AIOCOGNITO_ISSUER and AIOCOGNITO_JWKS_URL (token checks against a pool that is not AWS's).
Tests build the app with :func:`make_app` and their own :class:`Settings`.

Errors are ``{"error": ...}`` bodies; a malformed request answers ``400 bad_request`` without echoing
its input (FastAPI's default 422 would send the password back). Logs name outcomes and error codes only.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, SecretStr
from signin_common import ChallengeStore, Settings, failure, tokens_body

from aiocognito import (
    CognitoClient,
    CognitoError,
    InvalidToken,
    JwksUnavailable,
    MfaCodeRequired,
    NewPasswordRequired,
    ParamValidationError,
    ServiceError,
    Session,
    SignedIn,
    Step,
    TokenVerifier,
)

__all__ = ["ApiError", "Backend", "ChallengeStore", "Settings", "app_from_env", "make_app"]

logger = logging.getLogger("fastapi_backend")


# ----- errors ----------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error reply: ``{"error": error, **extra}`` with ``status``."""

    def __init__(
        self, status: int, error: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(error)
        self.status = status
        self.body = {"error": error, **extra}
        self.headers = headers


def _failure(exc: CognitoError, what: str) -> ApiError:
    status, body = failure(exc, what)
    return ApiError(status, **body)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """400 naming the bad fields, without FastAPI's echo of the input (it would hold the password)."""
    assert isinstance(exc, RequestValidationError)
    fields = sorted({".".join(str(p) for p in e.get("loc", ())[1:]) or "body" for e in exc.errors()})
    return JSONResponse({"error": "bad_request", "fields": fields}, status_code=400)


# ----- the backend -----------------------------------------------------------------------------------


class Backend:
    """What the routes share: settings, saved challenges, and (while the app runs) the client and verifier."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.challenges = ChallengeStore(settings.challenge_ttl)
        self._cognito: CognitoClient | None = None
        self._verifier: TokenVerifier | None = None

    async def start(self) -> None:
        """Open one CognitoClient and one TokenVerifier (app startup)."""
        s = self.settings
        region = s.region or s.user_pool_id.split("_", 1)[0]
        self._cognito = CognitoClient(region=region, endpoint_url=s.endpoint_url)
        self._verifier = TokenVerifier(
            s.user_pool_id,
            client_ids=s.client_id,
            issuer=s.issuer,
            jwks_url=s.jwks_url,
            client=self._cognito,  # the JWKS is fetched with the client's HTTP session
        )

    async def close(self) -> None:
        """Close them (app shutdown)."""
        if self._verifier is not None:
            await self._verifier.aclose()
        if self._cognito is not None:
            await self._cognito.close()
        self._cognito = self._verifier = None

    @property
    def verifier(self) -> TokenVerifier:
        if self._verifier is None:
            raise RuntimeError("the app is not started (lifespan)")
        return self._verifier

    def session(self) -> Session:
        """A sign-in session for one request (cheap: it holds no connection of its own)."""
        if self._cognito is None:
            raise RuntimeError("the app is not started (lifespan)")
        s = self.settings
        return self._cognito.session(
            user_pool_id=s.user_pool_id, client_id=s.client_id, client_secret=s.client_secret
        )

    def reply(self, step: Step) -> dict[str, Any]:
        """Tokens, or the challenge saved under a new id (the saved form never leaves the server)."""
        if isinstance(step, SignedIn):
            logger.info("sign-in: signed in")
            return tokens_body(step)
        if not isinstance(step, (MfaCodeRequired, NewPasswordRequired)):
            name = getattr(step, "name", type(step).__name__)
            logger.info("sign-in: challenge %s is not supported here", name)
            raise ApiError(501, "unsupported_challenge", challenge=name)
        challenge_id = self.challenges.put(step.to_dict())
        logger.info("sign-in: challenge %s saved", step.name)
        return {"challenge": step.name, "challenge_id": challenge_id, "expires_in": int(self.challenges.ttl)}


def get_backend(request: Request) -> Backend:
    backend = request.app.state.backend
    assert isinstance(backend, Backend)
    return backend


BackendDep = Annotated[Backend, Depends(get_backend)]
_bearer = HTTPBearer(auto_error=False)


async def verified_claims(
    backend: BackendDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> dict[str, Any]:
    """The claims of the request's verified access token (401 otherwise)."""
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "missing_token", headers={"WWW-Authenticate": "Bearer"})
    try:
        return await backend.verifier.verify(credentials.credentials, "access")
    except InvalidToken as exc:
        logger.info("token refused: %s", exc.reason)
        raise ApiError(
            401,
            "invalid_token",
            reason=exc.reason,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    except JwksUnavailable:
        logger.warning("the user pool's keys could not be fetched")
        raise ApiError(503, "keys_unavailable") from None


# ----- routes ----------------------------------------------------------------------------------------


class SignInRequest(BaseModel):
    username: str = Field(min_length=1, max_length=256)
    password: SecretStr = Field(min_length=1)


class AnswerRequest(BaseModel):
    challenge_id: str = Field(min_length=1, max_length=128)
    code: str | None = Field(default=None, min_length=1, max_length=64)
    new_password: SecretStr | None = None
    #: NEW_PASSWORD_REQUIRED: values for required attributes the user has none of yet.
    attributes: dict[str, str] = Field(default_factory=dict)


router = APIRouter()


@router.post("/sign-in")
async def sign_in(body: SignInRequest, backend: BackendDep) -> dict[str, Any]:
    """Start a sign-in with SRP."""
    try:
        step = await backend.session().sign_in(body.username, body.password.get_secret_value())
    except CognitoError as exc:
        raise _failure(exc, "sign-in") from None
    return backend.reply(step)


@router.post("/sign-in/answer")
async def answer(body: AnswerRequest, backend: BackendDep) -> dict[str, Any]:
    """Answer a saved challenge."""
    store = backend.challenges
    saved = store.take(body.challenge_id)
    if saved is None:
        raise ApiError(410, "challenge_expired", message="unknown or expired challenge: sign in again")
    try:
        step = await backend.session().resume(saved.data)
        if isinstance(step, MfaCodeRequired) and body.code:
            following = await step.respond(body.code)
        elif isinstance(step, NewPasswordRequired) and body.new_password:
            following = await step.respond(body.new_password.get_secret_value(), body.attributes)
        else:
            store.give_back(body.challenge_id, saved)
            wanted = "code" if isinstance(step, MfaCodeRequired) else "new_password"
            raise ApiError(400, "bad_request", message=f"this challenge is answered with {wanted!r}")
    except (ServiceError, ParamValidationError) as exc:  # refused (or incomplete): answer it again
        if not store.give_back(body.challenge_id, saved):
            logger.info("answer: no tries left, challenge dropped")
        raise _failure(exc, "answer") from None
    except CognitoError as exc:
        raise _failure(exc, "answer") from None
    return backend.reply(following)


@router.get("/me")
async def me(claims: Annotated[dict[str, Any], Depends(verified_claims)]) -> dict[str, Any]:
    """Who the verified access token names."""
    return {"username": claims.get("username"), "sub": claims.get("sub")}


def make_app(settings: Settings) -> FastAPI:
    """The FastAPI application for ``settings``."""
    backend = Backend(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await backend.start()
        try:
            yield
        finally:
            await backend.close()

    app = FastAPI(title="aiocognito FastAPI example", lifespan=lifespan)
    app.state.backend = backend
    app.include_router(router)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    return app


def app_from_env() -> FastAPI:
    """``uvicorn --factory``: the app with settings from the environment."""
    return make_app(Settings.from_env())


if __name__ == "__main__":
    import importlib

    uvicorn = importlib.import_module("uvicorn")  # not a dependency of aiocognito: pip install uvicorn
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    uvicorn.run(app_from_env(), host="127.0.0.1", port=8000)
