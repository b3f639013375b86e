"""An aiohttp web backend: sign-in (MFA answered in a second request) and bearer-token checks.

    AIOCOGNITO_USER_POOL_ID=eu-west-1_AbC AIOCOGNITO_CLIENT_ID=... python examples/aiohttp_backend.py

Endpoints (JSON in, JSON out):

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

Logs name outcomes and error codes only: no password, token or session.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from aiohttp import web
from signin_common import ChallengeStore, SavedChallenge, Settings, failure, tokens_body

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

__all__ = ["ChallengeStore", "SavedChallenge", "Settings", "bearer_token", "make_app", "tokens_body"]

logger = logging.getLogger("aiohttp_backend")


# ----- replies ---------------------------------------------------------------------------------------


def _error(status: int, error: str, **extra: Any) -> web.Response:
    return web.json_response({"error": error, **extra}, status=status)


def _failure(exc: CognitoError, what: str) -> web.Response:
    status, body = failure(exc, what)
    return web.json_response(body, status=status)


def _step_reply(app: web.Application, step: Step) -> web.Response:
    """Tokens, or the challenge saved under a new id (the saved form never leaves the server)."""
    if isinstance(step, SignedIn):
        logger.info("sign-in: signed in")
        return web.json_response(tokens_body(step))
    if not isinstance(step, (MfaCodeRequired, NewPasswordRequired)):
        name = getattr(step, "name", type(step).__name__)
        logger.info("sign-in: challenge %s is not supported here", name)
        return _error(501, "unsupported_challenge", challenge=name)
    store = app[CHALLENGES]
    challenge_id = store.put(step.to_dict())
    logger.info("sign-in: challenge %s saved", step.name)
    return web.json_response(
        {"challenge": step.name, "challenge_id": challenge_id, "expires_in": int(store.ttl)}
    )


# ----- the app -----------------------------------------------------------------------------------------

SETTINGS = web.AppKey("settings", Settings)
CHALLENGES = web.AppKey("challenges", ChallengeStore)
COGNITO = web.AppKey("cognito", CognitoClient)
VERIFIER = web.AppKey("verifier", TokenVerifier)


def _session(app: web.Application) -> Session:
    """A sign-in session for one request (cheap: it holds no connection of its own)."""
    settings = app[SETTINGS]
    return app[COGNITO].session(
        user_pool_id=settings.user_pool_id, client_id=settings.client_id, client_secret=settings.client_secret
    )


async def _json_body(request: web.Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    return value if isinstance(value, str) and value else None


async def sign_in(request: web.Request) -> web.Response:
    """``POST /sign-in``: start a sign-in with SRP."""
    body = await _json_body(request) or {}
    username, password = _text(body, "username"), _text(body, "password")
    if username is None or password is None:
        return _error(400, "bad_request", message="username and password are required")
    try:
        step = await _session(request.app).sign_in(username, password)
    except CognitoError as exc:
        return _failure(exc, "sign-in")
    return _step_reply(request.app, step)


async def answer(request: web.Request) -> web.Response:
    """``POST /sign-in/answer``: answer a saved challenge."""
    body = await _json_body(request) or {}
    challenge_id = _text(body, "challenge_id")
    if challenge_id is None:
        return _error(400, "bad_request", message="challenge_id is required")
    store = request.app[CHALLENGES]
    saved = store.take(challenge_id)
    if saved is None:
        return _error(410, "challenge_expired", message="unknown or expired challenge: sign in again")
    try:
        step = await _session(request.app).resume(saved.data)
        if isinstance(step, MfaCodeRequired) and (code := _text(body, "code")):
            following = await step.respond(code)
        elif isinstance(step, NewPasswordRequired) and (new_password := _text(body, "new_password")):
            attributes = body.get("attributes") or {}
            if not isinstance(attributes, dict) or not all(isinstance(v, str) for v in attributes.values()):
                attributes = {}
            following = await step.respond(new_password, attributes)
        else:
            store.give_back(challenge_id, saved)
            wanted = "code" if isinstance(step, MfaCodeRequired) else "new_password"
            return _error(400, "bad_request", message=f"this challenge is answered with {wanted!r}")
    except (ServiceError, ParamValidationError) as exc:  # refused (or incomplete): answer it again
        reply = _failure(exc, "answer")
        if not store.give_back(challenge_id, saved):
            logger.info("answer: no tries left, challenge dropped")
        return reply
    except CognitoError as exc:
        return _failure(exc, "answer")
    return _step_reply(request.app, following)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def me(request: web.Request) -> web.Response:
    """``GET /me``: who the verified access token names."""
    token = bearer_token(request.headers.get("Authorization"))
    if token is None:
        return web.json_response(
            {"error": "missing_token"}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )
    try:
        claims = await request.app[VERIFIER].verify(token, "access")
    except InvalidToken as exc:
        logger.info("token refused: %s", exc.reason)
        return web.json_response(
            {"error": "invalid_token", "reason": exc.reason},
            status=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    except JwksUnavailable:
        logger.warning("the user pool's keys could not be fetched")
        return _error(503, "keys_unavailable")
    return web.json_response({"username": claims.get("username"), "sub": claims.get("sub")})


async def _cognito_context(app: web.Application) -> AsyncIterator[None]:
    """One CognitoClient and one TokenVerifier for the app's lifetime."""
    settings = app[SETTINGS]
    region = settings.region or settings.user_pool_id.split("_", 1)[0]
    async with CognitoClient(region=region, endpoint_url=settings.endpoint_url) as cognito:
        verifier = TokenVerifier(
            settings.user_pool_id,
            client_ids=settings.client_id,
            issuer=settings.issuer,
            jwks_url=settings.jwks_url,
            client=cognito,  # the JWKS is fetched with the client's HTTP session
        )
        app[COGNITO] = cognito
        app[VERIFIER] = verifier
        try:
            yield
        finally:
            await verifier.aclose()


def make_app(settings: Settings) -> web.Application:
    """The aiohttp application for ``settings``."""
    app = web.Application(client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app[CHALLENGES] = ChallengeStore(settings.challenge_ttl)
    app.cleanup_ctx.append(_cognito_context)
    app.router.add_post("/sign-in", sign_in)
    app.router.add_post("/sign-in/answer", answer)
    app.router.add_get("/me", me)
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve the app (settings from the environment)."""
    parser = argparse.ArgumentParser(description="aiocognito aiohttp backend example")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # The access log shows method, path and status only (never the Authorization header).
    web.run_app(make_app(Settings.from_env()), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
