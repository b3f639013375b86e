"""Managed login of the local pool over real HTTP: Authlib's own OAuth 2.0 client against its endpoints.

The browser is :class:`~aiocognito.testing.LoginPages` (it keeps the domain's cookie, fills each page's
form and stops at the redirect to the app's callback, which is never served); the callback URL goes to
Authlib's ``fetch_token``. Tokens are checked against the pool's JWKS with PyJWT.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client

import aiocognito
from aiocognito.testing import AppClient, LocalUserPool, LoginPage, LoginPages

USER, PASSWORD = "nora", "Passw0rd!-nora"
DOMAIN = "nora-login"
CALLBACK = "http://localhost:8000/callback"
SIGNED_OUT = "http://localhost:8000/signed-out"
SCOPES = ["openid", "email", "profile", "aws.cognito.signin.user.admin"]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# ----- fixtures -------------------------------------------------------------------------------------------
@dataclass
class Setup:
    local: LocalUserPool
    pool_id: str
    public: AppClient
    confidential: AppClient
    machine: AppClient
    base: str
    events: list[dict[str, Any]]

    @property
    def token_url(self) -> str:
        return self.base + "/oauth2/token"


def oauth_client_settings(callback: str = CALLBACK) -> dict[str, Any]:
    return {
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthScopes": SCOPES,
        "SupportedIdentityProviders": ["COGNITO"],
        "CallbackURLs": [callback],
        "LogoutURLs": [SIGNED_OUT],
    }


@pytest.fixture(name="setup")
async def setup_fixture() -> AsyncIterator[Setup]:
    events: list[dict[str, Any]] = []

    def pre_token(event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        return event

    async with LocalUserPool(triggers={"PreTokenGeneration": pre_token}) as local:
        pool_id = await local.create_user_pool("managed", mfa="OPTIONAL", totp=True)
        await local.call("CreateUserPoolDomain", UserPoolId=pool_id, Domain=DOMAIN)
        await local.call(
            "CreateResourceServer",
            UserPoolId=pool_id,
            Identifier="reports",
            Name="Reports API",
            Scopes=[
                {"ScopeName": "read", "ScopeDescription": "read"},
                {"ScopeName": "write", "ScopeDescription": "w"},
            ],
        )
        public = await local.create_app_client(pool_id, "spa", **oauth_client_settings())
        confidential = await local.create_app_client(pool_id, "web", secret=True, **oauth_client_settings())
        machine = await local.create_app_client(
            pool_id,
            "worker",
            secret=True,
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthScopes=["reports/read", "reports/write"],
        )
        await local.create_user(
            pool_id, USER, PASSWORD, attributes={"email": "nora@example.com", "email_verified": "true"}
        )
        yield Setup(local, pool_id, public, confidential, machine, local.domain_url(DOMAIN), events)


@pytest.fixture(name="pages")
async def pages_fixture() -> AsyncIterator[LoginPages]:
    async with LoginPages(timeout=10) as pages:
        yield pages


async def jwks_of(setup: Setup) -> jwt.PyJWKSet:
    async with httpx.AsyncClient(timeout=10) as http:
        return jwt.PyJWKSet.from_dict((await http.get(setup.local.jwks_url(setup.pool_id))).json())


async def verify(setup: Setup, token: str, audience: str | None = None) -> dict[str, Any]:
    keys = await jwks_of(setup)
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    options = {"verify_aud": audience is not None}
    claims: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=audience,
        issuer=setup.local.issuer(setup.pool_id),
        options=options,
        leeway=600,  # the pool's clock may have been moved forward
    )
    return claims


def authlib_client(setup: Setup, app: AppClient, **options: Any) -> AsyncOAuth2Client:
    method = "client_secret_basic" if app.client_secret else "none"
    return AsyncOAuth2Client(
        client_id=app.client_id,
        client_secret=app.client_secret,
        scope=" ".join(SCOPES),
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
        token_endpoint_auth_method=method,
        timeout=10,
        **options,
    )


async def sign_in_code(setup: Setup, pages: LoginPages, app: AppClient, **extra: str) -> tuple[str, str]:
    """(the callback Location, the PKCE verifier) of a plain username + password sign-in."""
    verifier = generate_token(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": CALLBACK,
        "state": "st-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    location = await pages.sign_in(authorize_url(setup, **params), USER, PASSWORD)
    assert location.startswith(CALLBACK), location
    return location, verifier


async def token_post(
    setup: Setup, data: dict[str, str], auth: tuple[str, str] | None = None
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await asyncio.wait_for(http.post(setup.token_url, data=data, auth=auth), 10)


# ----- authorization code + PKCE with Authlib --------------------------------------------------------------
async def test_authlib_code_flow_with_pkce_and_nonce(
    setup: Setup, pages: LoginPages, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = authlib_client(setup, setup.public)
    verifier, nonce = generate_token(48), generate_token(20)
    async with client:
        uri, state = client.create_authorization_url(
            setup.base + "/oauth2/authorize", code_verifier=verifier, nonce=nonce
        )
        page = await pages.open(uri)
        assert isinstance(page, LoginPage) and page.url.startswith(setup.base + "/login?")
        assert {"signInFormUsername", "signInFormPassword", "signInSubmitButton"} <= page.ids
        page = await pages.submit(username=USER, password="wrong-password")
        assert isinstance(page, LoginPage) and page.error == "Incorrect username or password."
        location = await pages.submit(username=USER, password=PASSWORD)
        assert isinstance(location, str) and query_of(location)["state"] == state
        token = await client.fetch_token(
            setup.token_url, authorization_response=location, code_verifier=verifier, state=state
        )
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600 and token["refresh_token"]
    id_claims = await verify(setup, token["id_token"], audience=setup.public.client_id)
    assert (
        id_claims["nonce"] == nonce
        and id_claims["token_use"] == "id"
        and id_claims["email"] == "nora@example.com"
    )
    assert id_claims["cognito:username"] == USER and "at_hash" in id_claims and "auth_time" in id_claims
    access = await verify(setup, token["access_token"])
    assert access["scope"].split() == SCOPES and access["client_id"] == setup.public.client_id
    assert access["username"] == USER and access["token_use"] == "access"
    assert setup.events[-1]["triggerSource"] == "TokenGeneration_HostedAuth"
    # the project's own verifier accepts them as well, nonce and all
    async with aiocognito.TokenVerifier(
        setup.pool_id, client_ids=[setup.public.client_id], issuer=setup.local.issuer(setup.pool_id)
    ) as token_verifier:
        assert (await token_verifier.verify(token["id_token"], "id"))["nonce"] == nonce
        assert (await token_verifier.verify(token["access_token"], "access"))["username"] == USER
    # the API takes the access token
    user = await setup.local.call("GetUser", AccessToken=token["access_token"])
    assert user["Username"] == USER
    # nothing secret in the pool's log lines
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("aiocognito"))
    for secret in (
        PASSWORD,
        verifier,
        token["access_token"],
        token["refresh_token"],
        query_of(location)["code"],
    ):
        assert secret not in text
    assert "managed login" in text


async def totp_on(local: LocalUserPool, pool_id: str, username: str = USER, password: str = PASSWORD) -> None:
    """TOTP MFA set up (and preferred) for ``username`` through the API, with a setup client of its own."""
    setup_client = await local.create_app_client(pool_id, "setup", flows=("ALLOW_USER_PASSWORD_AUTH",))
    signed_in = await local.call(
        "InitiateAuth",
        ClientId=setup_client.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    access = signed_in["AuthenticationResult"]["AccessToken"]
    secret = (await local.call("AssociateSoftwareToken", AccessToken=access))["SecretCode"]
    code = local.totp_code(username, user_pool_id=pool_id, secret=secret)
    await local.call("VerifySoftwareToken", AccessToken=access, UserCode=code)
    await local.call(
        "SetUserMFAPreference",
        AccessToken=access,
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )


async def test_authlib_code_flow_with_totp_and_a_client_secret(setup: Setup, pages: LoginPages) -> None:
    await totp_on(setup.local, setup.pool_id)
    client = authlib_client(setup, setup.confidential)
    verifier, nonce = generate_token(48), generate_token(20)
    async with client:
        uri, state = client.create_authorization_url(
            setup.base + "/oauth2/authorize", code_verifier=verifier, nonce=nonce
        )
        await pages.open(uri)
        page = await pages.submit(username=USER, password=PASSWORD)
        assert isinstance(page, LoginPage) and "code" in page.ids and "login_session" in page.fields
        good = setup.local.totp_code(USER)
        page = await pages.submit(code="000000" if good != "000000" else "111111")
        assert isinstance(page, LoginPage) and page.error == "Invalid code received for user"
        location = await pages.submit(code=good)
        assert isinstance(location, str)
        token = await client.fetch_token(
            setup.token_url, authorization_response=location, code_verifier=verifier, state=state
        )
    assert (await verify(setup, token["id_token"], audience=setup.confidential.client_id))["nonce"] == nonce


async def test_authlib_code_flow_with_new_password_required(setup: Setup, pages: LoginPages) -> None:
    await setup.local.create_user(
        setup.pool_id, "ivan", "Temp-Passw0rd!", temporary=True, attributes={"email": "i@example.com"}
    )
    client = authlib_client(setup, setup.public)
    verifier = generate_token(48)
    async with client:
        uri, state = client.create_authorization_url(setup.base + "/oauth2/authorize", code_verifier=verifier)
        await pages.open(uri)
        page = await pages.submit(username="ivan", password="Temp-Passw0rd!")
        assert isinstance(page, LoginPage) and {"new_password", "confirm_password"} <= page.ids
        page = await pages.submit(new_password="New-Passw0rd!", confirm_password="Other-Passw0rd!")
        assert isinstance(page, LoginPage) and page.error == "Passwords do not match."
        location = await pages.submit(new_password="New-Passw0rd!", confirm_password="New-Passw0rd!")
        assert isinstance(location, str)
        token = await client.fetch_token(
            setup.token_url, authorization_response=location, code_verifier=verifier, state=state
        )
    assert (await verify(setup, token["access_token"]))["username"] == "ivan"
    user = await setup.local.call("AdminGetUser", UserPoolId=setup.pool_id, Username="ivan")
    assert user["UserStatus"] == "CONFIRMED"


# ----- client credentials ----------------------------------------------------------------------------------
async def test_authlib_client_credentials_with_a_custom_scope(setup: Setup) -> None:
    async with AsyncOAuth2Client(
        client_id=setup.machine.client_id,
        client_secret=setup.machine.client_secret,
        scope="reports/read",
        timeout=10,
    ) as client:
        token = await client.fetch_token(setup.token_url, grant_type="client_credentials")
    assert set(token) == {"access_token", "expires_in", "token_type", "expires_at"}
    claims = await verify(setup, token["access_token"])
    assert claims["sub"] == claims["client_id"] == setup.machine.client_id
    assert claims["scope"] == "reports/read" and claims["token_use"] == "access" and "username" not in claims
    everything = await token_post(
        setup,
        {"grant_type": "client_credentials"},
        auth=(setup.machine.client_id, setup.machine.client_secret or ""),
    )
    assert (await verify(setup, everything.json()["access_token"]))["scope"] == "reports/read reports/write"
    post = await token_post(
        setup,
        {
            "grant_type": "client_credentials",
            "client_id": setup.machine.client_id,
            "client_secret": setup.machine.client_secret or "",
            "scope": "reports/write",
        },
    )
    assert post.status_code == 200  # client_secret_post


def authorize_url(setup: Setup, **params: str) -> str:
    return str(httpx.URL(setup.base + "/oauth2/authorize", params=params))


# ----- refresh, revoke, userInfo ---------------------------------------------------------------------------
async def test_refresh_and_revoke_through_the_endpoints_and_the_api(setup: Setup, pages: LoginPages) -> None:
    app = setup.confidential
    auth = (app.client_id, app.client_secret or "")
    location, verifier = await sign_in_code(setup, pages, app)
    code = query_of(location)["code"]
    tokens = (
        await token_post(
            setup,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": verifier,
            },
            auth,
        )
    ).json()
    refresh = tokens["refresh_token"]
    refreshed = await token_post(setup, {"grant_type": "refresh_token", "refresh_token": refresh}, auth)
    body = refreshed.json()
    assert refreshed.status_code == 200 and set(body) == {
        "id_token",
        "access_token",
        "expires_in",
        "token_type",
    }
    assert (await verify(setup, body["access_token"]))["scope"].split() == SCOPES  # the sign-in's scopes kept
    hashed = aiocognito.secret_hash(app.client_secret or "", USER, app.client_id)
    api = await setup.local.call(
        "InitiateAuth",
        ClientId=app.client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh, "SECRET_HASH": hashed},
    )
    assert (await verify(setup, api["AuthenticationResult"]["AccessToken"]))["scope"].split() == SCOPES
    async with httpx.AsyncClient(timeout=10) as http:
        revoke = setup.base + "/oauth2/revoke"
        wrong = await http.post(revoke, data={"token": refresh}, auth=(app.client_id, "wrong-secret"))
        assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
        access = await http.post(revoke, data={"token": tokens["access_token"]}, auth=auth)
        assert (access.status_code, access.json()["error"]) == (400, "unsupported_token_type")
        missing = await http.post(revoke, data={}, auth=auth)
        assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
        assert (await http.post(revoke, data={"token": refresh}, auth=auth)).status_code == 200
        assert (await http.post(revoke, data={"token": refresh}, auth=auth)).status_code == 200  # again: fine
    after = await token_post(setup, {"grant_type": "refresh_token", "refresh_token": refresh}, auth)
    assert (after.status_code, after.json()["error"]) == (400, "invalid_grant")
    with pytest.raises(aiocognito.errors.NotAuthorizedException):
        await setup.local.call(
            "InitiateAuth",
            ClientId=app.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh, "SECRET_HASH": hashed},
        )
    with pytest.raises(aiocognito.errors.NotAuthorizedException):  # the sign-in's access token went too
        await setup.local.call("GetUser", AccessToken=tokens["access_token"])


async def test_user_info(setup: Setup, pages: LoginPages) -> None:
    location, verifier = await sign_in_code(setup, pages, setup.public)
    data = {
        "grant_type": "authorization_code",
        "client_id": setup.public.client_id,
        "code": query_of(location)["code"],
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    tokens = (await token_post(setup, data)).json()
    url = setup.base + "/oauth2/userInfo"
    async with httpx.AsyncClient(timeout=10) as http:
        info = await http.get(url, headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert info.status_code == 200
        body = info.json()
        assert (
            body["email"] == "nora@example.com"
            and body["email_verified"] == "true"
            and body["username"] == USER
        )
        assert body["sub"] == (await verify(setup, tokens["access_token"]))["sub"]
        for bad in ("not-a-token", tokens["id_token"]):
            refused = await http.get(url, headers={"Authorization": f"Bearer {bad}"})
            assert (
                refused.status_code == 401 and 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
            )
        none = await http.get(url)
        assert none.status_code == 400 and 'error="invalid_request"' in none.headers["WWW-Authenticate"]
        await setup.local.call("GlobalSignOut", AccessToken=tokens["access_token"])
        signed_out = await http.post(url, headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert signed_out.status_code == 401


async def test_discovery_lists_the_domain_endpoints(setup: Setup) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        document = (
            await http.get(setup.local.issuer(setup.pool_id) + "/.well-known/openid-configuration")
        ).json()
    assert document["issuer"] == setup.local.issuer(setup.pool_id)
    assert document["authorization_endpoint"] == setup.base + "/oauth2/authorize"
    assert document["token_endpoint"] == setup.token_url
    assert document["userinfo_endpoint"] == setup.base + "/oauth2/userInfo"
    assert document["revocation_endpoint"] == setup.base + "/oauth2/revoke"
    assert document["end_session_endpoint"] == setup.base + "/logout"
    assert document["response_types_supported"] == ["code", "token"]
    assert document["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert "code_challenge_methods_supported" not in document


async def test_implicit_grant_puts_the_tokens_in_the_fragment(setup: Setup, pages: LoginPages) -> None:
    await setup.local.call(
        "UpdateUserPoolClient",
        UserPoolId=setup.pool_id,
        ClientId=setup.public.client_id,
        **{**oauth_client_settings(), "AllowedOAuthFlows": ["code", "implicit"]},
    )
    location = await pages.sign_in(
        authorize_url(
            setup,
            response_type="token",
            client_id=setup.public.client_id,
            redirect_uri=CALLBACK,
            state="i",
            scope="openid email",
            nonce="n-1",
        ),
        USER,
        PASSWORD,
    )
    fragment = {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}
    assert set(fragment) == {"id_token", "access_token", "token_type", "expires_in", "state"}
    assert (await verify(setup, fragment["id_token"], audience=setup.public.client_id))["nonce"] == "n-1"
