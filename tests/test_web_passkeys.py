"""The passkey routes (``passkeys=True``) through the FastAPI app (httpx's ASGI transport, inside the app's
lifespan) and the aiohttp app, on the local pool: register a passkey made by the software authenticator,
list it, sign in with it (then TOTP when the pool asks for MFA), delete it. The options go to the
"browser" as Cognito sent them and its credential back as it made it (the pool verifies the signature over
the exact client data). Refusals: a tampered, replayed or wrong-origin assertion, a malformed credential, a
registration on another origin, twice, or with nothing waiting, passkeys off in the pool. No token,
challenge id or assertion reaches a log.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from test_web_support import Answer, Call, _answer, bearer, enable_totp_directly, settings_for

from aiocognito.testing import AppClient, LocalUserPool
from aiocognito.testing._authenticator import SoftwareAuthenticator, b64url, unb64url
from aiocognito.web.backend import CognitoBackend

PASSWORD = "Passw0rd!-web-tests"  # test_web_support's password (enable_totp_directly signs in with it)
RP_ID = "localhost"
ORIGIN = "http://localhost:8000"
KINDS = ("fastapi", "aiohttp")


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@asynccontextmanager
async def served(kind: str, backend: CognitoBackend, **options: Any) -> AsyncIterator[Call]:
    """The library's routes with the passkey routes, in either framework; yields ``call``."""
    if kind == "aiohttp":
        from aiohttp import web

        from aiocognito.web.aiohttp import setup

        aio = web.Application()
        setup(aio, backend, passkeys=True, **options)
        async with TestClient(TestServer(aio)) as client:

            async def call(method: str, path: str, **kwargs: Any) -> Answer:
                async with client.request(method, path, **kwargs) as response:
                    return _answer(response.status, await response.text(), response.headers)

            yield call
        return
    import httpx
    from fastapi import FastAPI

    from aiocognito.web.fastapi import cognito_router, install

    app = FastAPI(lifespan=backend.lifespan)
    install(app)
    app.include_router(cognito_router(backend, passkeys=True, **options))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as client:

            async def call(method: str, path: str, **kwargs: Any) -> Answer:
                response = await client.request(method, path, **kwargs)
                return _answer(response.status_code, response.text, response.headers)

            yield call


async def passkey_pool(local: LocalUserPool, *, mfa: str = "OFF", enabled: bool = True) -> AppClient:
    factors = ["PASSWORD", "WEB_AUTHN"] if enabled else ["PASSWORD"]
    pool_id = await local.create_user_pool(
        "passkeys", mfa=mfa, Policies={"SignInPolicy": {"AllowedFirstAuthFactors": factors}}
    )
    if enabled:
        config: dict[str, Any] = {"MfaConfiguration": mfa}
        if mfa != "OFF":
            config["SoftwareTokenMfaConfiguration"] = {"Enabled": True}
        await local.call(
            "SetUserPoolMfaConfig",
            UserPoolId=pool_id,
            WebAuthnConfiguration={"RelyingPartyId": RP_ID, "UserVerification": "required"},
            **config,
        )
    app = await local.create_app_client(
        pool_id, flows=("ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
    )
    for name in ("alice", "mia"):
        await local.create_user(pool_id, name, PASSWORD)
    return app


async def sign_in(call: Call, username: str = "alice") -> str:
    answer = await call("POST", "/sign-in", json={"username": username, "password": PASSWORD})
    assert answer.status == 200, answer.body
    return str(answer.body["tokens"]["access_token"])


async def register(call: Call, token: str, authenticator: SoftwareAuthenticator) -> dict[str, Any]:
    started = await call("POST", "/passkeys/register", headers=bearer(token))
    assert started.status == 200 and started.body.keys() == {"creation_options"}, started.body
    credential = authenticator.create(started.body["creation_options"], ORIGIN)
    done = await call(
        "POST", "/passkeys/register/complete", json={"credential": credential}, headers=bearer(token)
    )
    assert (done.status, done.body) == (200, {"registered": True})
    return credential


async def start(call: Call, username: str = "alice") -> dict[str, Any]:
    started = await call("POST", "/passkeys/sign-in", json={"username": username})
    assert started.status == 200, started.body
    assert started.body.keys() == {"challenge", "challenge_id", "expires_in", "request_options"}
    assert started.body["challenge"] == "WEB_AUTHN"
    return started.body  # type: ignore[no-any-return]


async def answer(call: Call, challenge_id: str, credential: Any) -> Answer:
    return await call(
        "POST", "/passkeys/sign-in/answer", json={"challenge_id": challenge_id, "credential": credential}
    )


async def test_register_list_sign_in_and_delete(
    kind: str, local_user_pool: LocalUserPool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = await passkey_pool(local_user_pool)
    backend = CognitoBackend(settings_for(local_user_pool, app))
    authenticator = SoftwareAuthenticator()
    seen: list[str] = []
    async with served(kind, backend) as call:
        token = await sign_in(call)
        started = await call("POST", "/passkeys/register", headers=bearer(token))
        options = started.body["creation_options"]
        assert options["rp"] == {"id": RP_ID, "name": "passkeys"} and options["user"]["name"] == "alice"
        assert {p["alg"] for p in options["pubKeyCredParams"]} == {-7, -257}
        credential = authenticator.create(options, ORIGIN)
        done = await call(
            "POST", "/passkeys/register/complete", json={"credential": credential}, headers=bearer(token)
        )
        assert (done.status, done.body) == (200, {"registered": True})

        listed = await call("GET", "/passkeys", headers=bearer(token))
        assert listed.status == 200
        (item,) = listed.body["passkeys"]
        assert item["credential_id"] == credential["id"] and item["relying_party_id"] == RP_ID
        assert (item["attachment"], item["transports"]) == ("platform", ["internal"])
        assert item["created_at"].endswith("+00:00")

        body = await start(call)
        request = body["request_options"]
        assert request["rpId"] == RP_ID and request["userVerification"] == "required"
        assert request["allowCredentials"] == [{"id": credential["id"], "type": "public-key"}]
        assert len(unb64url(request["challenge"])) == 32
        signed = await answer(call, body["challenge_id"], authenticator.get(request, ORIGIN))
        assert signed.status == 200, signed.body
        tokens = signed.body["tokens"]
        assert tokens.keys() == {"access_token", "id_token", "refresh_token", "expires_in", "token_type"}
        claims = await backend.verifier.verify(tokens["access_token"], "access")
        assert claims["username"] == "alice"
        seen += [token, tokens["access_token"], tokens["refresh_token"], body["challenge_id"]]

        # the same challenge id again: it was used
        again = await answer(call, body["challenge_id"], authenticator.get(request, ORIGIN))
        assert (again.status, again.body["error"]) == (410, "challenge_expired")

        gone = await call(
            "POST", "/passkeys/delete", json={"credential_id": credential["id"]}, headers=bearer(token)
        )
        assert (gone.status, gone.body) == (200, {"deleted": True})
        missing = await call(
            "POST", "/passkeys/delete", json={"credential_id": credential["id"]}, headers=bearer(token)
        )
        assert (missing.status, missing.body["error"]) == (404, "passkey_not_found")
        assert (await call("GET", "/passkeys", headers=bearer(token))).body == {"passkeys": []}
        none = await call("POST", "/passkeys/sign-in", json={"username": "alice"})
        assert (none.status, none.body["error"]) == (400, "passkey_unavailable")
    for secret in seen:
        assert secret not in caplog.text


async def test_refused_assertions(kind: str, local_user_pool: LocalUserPool) -> None:
    app = await passkey_pool(local_user_pool)
    backend = CognitoBackend(settings_for(local_user_pool, app))
    authenticator = SoftwareAuthenticator()
    async with served(kind, backend) as call:
        await register(call, await sign_in(call), authenticator)

        body = await start(call)
        tampered = authenticator.get(body["request_options"], ORIGIN)
        signature = bytearray(unb64url(tampered["response"]["signature"]))
        signature[-1] ^= 0x01
        tampered["response"]["signature"] = b64url(bytes(signature))
        refused = await answer(call, body["challenge_id"], tampered)
        assert (refused.status, refused.body["error"]) == (401, "not_authorized")
        ended = await answer(call, body["challenge_id"], tampered)  # a refused passkey ends the challenge
        assert (ended.status, ended.body["error"]) == (410, "challenge_expired")

        body = await start(call)
        elsewhere = await answer(
            call, body["challenge_id"], authenticator.get(body["request_options"], "https://evil.example")
        )
        assert (elsewhere.status, elsewhere.body["error"]) == (401, "not_authorized")

        body = await start(call)
        used = authenticator.get(body["request_options"], ORIGIN)
        assert (await answer(call, body["challenge_id"], used)).status == 200
        replayed = await answer(call, (await start(call))["challenge_id"], used)
        assert (replayed.status, replayed.body["error"]) == (401, "not_authorized")

        # not an assertion: 400, and the challenge waits for a right answer
        body = await start(call)
        malformed = await answer(call, body["challenge_id"], {"id": "x"})
        assert (malformed.status, malformed.body["error"]) == (400, "invalid_parameter")
        right = await answer(call, body["challenge_id"], authenticator.get(body["request_options"], ORIGIN))
        assert right.status == 200 and "tokens" in right.body

        # a body the form refuses: the credential as a string, or missing
        body = await start(call)
        for wrong in ({"challenge_id": body["challenge_id"], "credential": "{}"}, {"challenge_id": "x"}):
            bad = await call("POST", "/passkeys/sign-in/answer", json=wrong)
            assert (bad.status, bad.body["fields"]) == (400, ["credential"])


async def test_mfa_after_the_passkey_is_answered_at_sign_in_answer(
    kind: str, local_user_pool: LocalUserPool
) -> None:
    app = await passkey_pool(local_user_pool, mfa="OPTIONAL")
    backend = CognitoBackend(settings_for(local_user_pool, app))
    authenticator = SoftwareAuthenticator()
    async with served(kind, backend) as call:
        await register(call, await sign_in(call, "mia"), authenticator)
        await enable_totp_directly(local_user_pool, app, "mia")  # then TOTP, preferred

        body = await start(call, "mia")
        # the WEB_AUTHN challenge is not answered with a code (and stays answerable)
        wrong_route = await call(
            "POST", "/sign-in/answer", json={"challenge_id": body["challenge_id"], "code": "123456"}
        )
        assert (wrong_route.status, wrong_route.body["error"]) == (400, "bad_request")
        mfa = await answer(call, body["challenge_id"], authenticator.get(body["request_options"], ORIGIN))
        assert mfa.status == 200 and mfa.body["challenge"] == "SOFTWARE_TOKEN_MFA", mfa.body
        # and a code challenge is not answered with a credential
        misplaced = await answer(call, mfa.body["challenge_id"], {"id": "x"})
        assert (misplaced.status, misplaced.body["error"]) == (400, "bad_request")
        signed = await call(
            "POST",
            "/sign-in/answer",
            json={"challenge_id": mfa.body["challenge_id"], "code": local_user_pool.totp_code("mia")},
        )
        assert signed.status == 200 and "tokens" in signed.body


async def test_registration_refusals(kind: str, local_user_pool: LocalUserPool) -> None:
    app = await passkey_pool(local_user_pool)
    backend = CognitoBackend(settings_for(local_user_pool, app))
    authenticator = SoftwareAuthenticator()
    async with served(kind, backend) as call:
        token = await sign_in(call)
        waiting = await call(
            "POST", "/passkeys/register/complete", json={"credential": {"id": "x"}}, headers=bearer(token)
        )
        assert (waiting.status, waiting.body["error"]) == (410, "registration_expired")

        options = (await call("POST", "/passkeys/register", headers=bearer(token))).body["creation_options"]
        on_another_site = authenticator.create(options, "https://evil.example")
        refused = await call(
            "POST", "/passkeys/register/complete", json={"credential": on_another_site}, headers=bearer(token)
        )
        assert (refused.status, refused.body["error"]) == (400, "passkey_rejected")

        first = await register(call, token, authenticator)
        options = (await call("POST", "/passkeys/register", headers=bearer(token))).body["creation_options"]
        assert options["excludeCredentials"][0]["id"] == first["id"]
        held = next(c for c in authenticator.credentials if b64url(c.credential_id) == first["id"])
        twice = authenticator.create(options, ORIGIN, reuse=held)  # the same passkey again
        again = await call(
            "POST", "/passkeys/register/complete", json={"credential": twice}, headers=bearer(token)
        )
        assert (again.status, again.body["error"]) == (400, "passkey_rejected")

        anonymous = await call("POST", "/passkeys/register")
        assert anonymous.status == 401 and anonymous.headers["www-authenticate"] == "Bearer"


async def test_passkeys_off_in_the_pool_and_routes_off_by_default(local_user_pool: LocalUserPool) -> None:
    app = await passkey_pool(local_user_pool, enabled=False)
    backend = CognitoBackend(settings_for(local_user_pool, app))
    async with served("fastapi", backend) as call:
        token = await sign_in(call)
        off = await call("POST", "/passkeys/register", headers=bearer(token))
        assert (off.status, off.body["error"]) == (403, "passkeys_not_enabled")
        none = await call("POST", "/passkeys/sign-in", json={"username": "alice"})
        assert (none.status, none.body["error"]) == (400, "passkey_unavailable")

    from fastapi import FastAPI

    from aiocognito.web.fastapi import cognito_router

    plain, full = FastAPI(), FastAPI()
    plain.include_router(cognito_router(backend))
    full.include_router(cognito_router(backend, passkeys=True))
    assert not any(path.startswith("/passkeys") for path in plain.openapi()["paths"])
    paths = full.openapi()["paths"]
    assert {p for p in paths if p.startswith("/passkeys")} == {
        "/passkeys",
        "/passkeys/delete",
        "/passkeys/register",
        "/passkeys/register/complete",
        "/passkeys/sign-in",
        "/passkeys/sign-in/answer",
    }
    schema = paths["/passkeys/sign-in/answer"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["credential"]["type"] == "object"
    assert paths["/passkeys"]["get"]["security"] == [{"CognitoBearer": []}]
    sign_in_only = FastAPI()
    sign_in_only.include_router(cognito_router(backend, account=False, passkeys=True))
    assert sorted(sign_in_only.openapi()["paths"]) == [
        "/passkeys/sign-in",
        "/passkeys/sign-in/answer",
        "/sign-in",
        "/sign-in/answer",
    ]
