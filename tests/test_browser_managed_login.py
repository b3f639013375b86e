"""Managed login in a real browser: headless Chromium signs in through the FastAPI example's "Sign in with
Cognito", on the local pool's own sign-in pages.

The app (uvicorn, ``http://localhost:<port>``, a confidential app client) redirects to the pool's
``/oauth2/authorize``; the browser types the username and password into the pool's page, then the TOTP code
into the next one, and comes back to the app's ``/auth/callback``, which exchanges the code (PKCE, state,
nonce) and keeps the tokens server-side behind a session cookie. ``/account`` then shows who is signed in,
on every visit. Sign-out revokes the refresh token, ends the pool's own session through its ``/logout``,
and comes back signed out: the next sign-in asks for the password again.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest
from browser import Browser, browser_fixture, load_fastapi_example, uvicorn_serving  # noqa: F401
from test_managed_login_pool import totp_on

from aiocognito.errors import ResourceNotFoundException
from aiocognito.testing import LocalUserPool
from aiocognito.web.backend import CognitoSettings

USER = "mia"
PASSWORD = "Passw0rd!-managed"
DOMAIN = "browser-login"


async def web_sessions(local: LocalUserPool, pool_id: str, client_id: str) -> list[dict[str, Any]]:
    """USER's token sessions (one per sign-in not revoked) of the web app client."""
    listed = await local.call("AdminListUserSessions", UserPoolId=pool_id, Username=USER)
    return [s for s in listed["Sessions"] if s["ClientId"] == client_id]


async def test_sign_in_with_cognito_through_the_fastapi_example(
    browser: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    module = load_fastapi_example()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app_url = f"http://localhost:{sock.getsockname()[1]}"
    async with LocalUserPool() as local:
        pool_id = await local.create_user_pool("browser-login", mfa="OPTIONAL", totp=True)
        await local.call("CreateUserPoolDomain", UserPoolId=pool_id, Domain=DOMAIN)
        await local.call(  # ListUserSessions shows the sign-in's refresh token, and its revocation
            "SetUserPoolSessionConfiguration",
            UserPoolId=pool_id,
            UserSessionTracking="ENABLED",
            TokenSession={"MaxPerUser": 10},
        )
        app_client = await local.create_app_client(
            pool_id,
            "web",
            secret=True,
            flows=("ALLOW_REFRESH_TOKEN_AUTH",),
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email", "profile"],
            SupportedIdentityProviders=["COGNITO"],
            CallbackURLs=[f"{app_url}/auth/callback"],
            LogoutURLs=[f"{app_url}/account"],
        )
        await local.create_user(pool_id, USER, PASSWORD, attributes={"email": "mia@example.com"})
        await totp_on(local, pool_id, USER, PASSWORD)
        settings = CognitoSettings(
            pool_id,
            app_client.client_id,
            client_secret=app_client.client_secret,
            endpoint_url=local.endpoint_url,
        )
        app = module.make_app(settings, domain_url=local.domain_url(DOMAIN), public_url=app_url)

        async with uvicorn_serving(app, sock):
            await browser.open(f"{app_url}/account")
            assert await browser.text_of("#who") == "Not signed in"
            await browser.click("#login")

            # the pool's sign-in page, then its TOTP page
            await browser.text_of("#signInFormUsername")
            assert (await browser.url()).startswith(local.domain_url(DOMAIN) + "/")
            await browser.fill("#signInFormUsername", USER)
            await browser.fill("#signInFormPassword", "not the password")
            await browser.click("#signInSubmitButton")
            assert "Incorrect username or password." in await browser.text_of("#loginErrorMessage")
            await browser.fill("#signInFormUsername", USER)
            await browser.fill("#signInFormPassword", PASSWORD)
            await browser.click("#signInSubmitButton")
            await browser.text_of("#code")
            code = local.totp_code(USER, user_pool_id=pool_id)
            await browser.fill("#code", code)
            await browser.click("#codeSubmitButton")

            # back on the app, signed in; the session lives on across visits
            assert await browser.text_of("#who") == f"Signed in as {USER}"
            assert await browser.url() == f"{app_url}/account"
            await browser.open(f"{app_url}/account")
            assert await browser.text_of("#who") == f"Signed in as {USER}"
            cookies = {c["name"]: c for c in await browser.cookies()}
            assert cookies["aiocognito_session"]["httpOnly"] is True
            [session] = await web_sessions(local, pool_id, app_client.client_id)

            # sign out: the app revokes the refresh token and sends the browser through the pool's /logout
            await browser.click("#logout")
            assert await browser.text_of("#who") == "Not signed in"
            assert await browser.url() == f"{app_url}/account"
            assert await web_sessions(local, pool_id, app_client.client_id) == []
            with pytest.raises(ResourceNotFoundException):  # revoked already
                await local.call(
                    "AdminRevokeUserSession",
                    UserPoolId=pool_id,
                    Username=USER,
                    SessionId=session["SessionId"],
                )

            # the pool's own session ended too: signing in again asks for the password
            await browser.click("#login")
            await browser.text_of("#signInFormUsername")

    logs = "\n".join(
        f"{r.name} {r.getMessage()}" for r in caplog.records if not r.name.startswith(("selenium", "urllib3"))
    )
    for secret in (PASSWORD, code, app_client.client_secret):
        assert secret not in logs
