"""MFA set-up in the local pool's managed login: a pool that requires MFA with TOTP, a user with no factor.

The pages show a new authenticator-app secret (``totpSecret``, ``totpUri``) made by the pool's own
AssociateSoftwareToken, take a code through VerifySoftwareToken and sign the user in with TOTP on; a wrong
code shows the same page again. The browser is :class:`~aiocognito.testing.LoginPages`; the code is
exchanged by :class:`aiocognito.oauth.ManagedLogin`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from aiocognito.oauth import ManagedLogin
from aiocognito.testing import LocalUserPool, LoginPage, LoginPageError, LoginPages

DOMAIN = "setup-login"
CALLBACK = "http://localhost:8000/callback"
PASSWORD = "Passw0rd!-setup"


@dataclass
class Setup:
    local: LocalUserPool
    pool_id: str
    login: ManagedLogin


@pytest.fixture(name="setup")
async def setup_fixture() -> AsyncIterator[Setup]:
    async with LocalUserPool() as local:
        pool_id = await local.create_user_pool("mfa-on", mfa="ON", totp=True)
        await local.call("CreateUserPoolDomain", UserPoolId=pool_id, Domain=DOMAIN)
        app = await local.create_app_client(
            pool_id,
            "web",
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email"],
            SupportedIdentityProviders=["COGNITO"],
            CallbackURLs=[CALLBACK],
        )
        await local.create_user(pool_id, "tess", PASSWORD, attributes={"email": "tess@example.com"})
        async with ManagedLogin(
            local.domain_url(DOMAIN), app.client_id, redirect_uri=CALLBACK, scopes=["openid", "email"]
        ) as login:
            yield Setup(local, pool_id, login)


@pytest.fixture(name="pages")
async def pages_fixture() -> AsyncIterator[LoginPages]:
    async with LoginPages(timeout=5) as pages:
        yield pages


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_a_new_user_sets_up_totp_then_is_asked_for_it(setup: Setup, pages: LoginPages) -> None:
    shown: list[str] = []

    def first_code(secret: str) -> str:
        shown.append(secret)
        return pyotp.TOTP(secret).at(setup.local.now())

    pending = setup.login.start()
    callback = await pages.sign_in(pending.url, "tess", PASSWORD, totp_setup=first_code)
    assert query_of(callback)["state"] == pending.state
    tokens = await setup.login.finish(pending, callback)
    assert tokens.username == "tess"
    # the page showed the secret and its otpauth URI; the pool now has that secret for the user
    page = pages.page
    assert page is not None and {"totpSecret", "totpUri", "totpCode"} <= page.ids
    assert shown == [setup.local.totp_secret("tess")]
    uri = page.shown["totpUri"]
    assert uri.startswith("otpauth://totp/") and query_of(uri)["secret"] == shown[0]
    assert query_of(uri)["issuer"] == "mfa-on" and page.links["totpUri"] == uri
    user = await setup.local.call("AdminGetUser", UserPoolId=setup.pool_id, Username="tess")
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    assert user["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"

    # the next sign-in (a new browser: no managed login session) asks for the TOTP code
    setup.local.advance_clock(30)
    async with LoginPages(timeout=5) as other:
        again = setup.login.start()
        with pytest.raises(LoginPageError):  # a TOTP page, not a set-up page: totp_setup does not answer
            await other.sign_in(again.url, "tess", PASSWORD, totp_setup=first_code)
        assert other.page is not None and "code" in other.page.ids and "totpSecret" not in other.page.ids
        answered = await other.submit(code=setup.local.totp_code("tess"))
        assert isinstance(answered, str)
        assert (await setup.login.finish(again, answered)).username == "tess"
    assert len(shown) == 1


async def test_a_wrong_set_up_code_is_shown_and_can_be_retried(setup: Setup, pages: LoginPages) -> None:
    pending = setup.login.start()
    with pytest.raises(LoginPageError) as refused:
        await pages.sign_in(pending.url, "tess", PASSWORD, totp_setup=lambda secret: "000000")
    page = refused.value.page
    assert isinstance(page, LoginPage) and page.error == "Code mismatch and fail enable Software Token MFA"
    secret = page.shown["totpSecret"]  # the same secret, on the same page
    assert {"totpSecret", "totpCode"} <= page.ids and "000000" not in repr(page)
    callback = await pages.submit(code=pyotp.TOTP(secret).at(setup.local.now()))
    assert isinstance(callback, str) and callback.startswith(CALLBACK + "?")
    assert (await setup.login.finish(pending, callback)).username == "tess"
    assert setup.local.totp_secret("tess") == secret


async def test_set_up_gives_up_after_three_wrong_codes(setup: Setup, pages: LoginPages) -> None:
    pending = setup.login.start()
    with pytest.raises(LoginPageError):
        await pages.sign_in(pending.url, "tess", PASSWORD, totp_setup=lambda secret: "000000")
    for _ in range(2):
        page = await pages.submit(code="111111")
        assert isinstance(page, LoginPage) and page.error
    assert isinstance(page, LoginPage) and "signInFormUsername" in page.ids  # back to the password
    with pytest.raises(LookupError):
        setup.local.totp_secret("tess")
