"""``LoginPages`` against a started local pool: sign-in with a password, TOTP, SMS and email codes, the
choice of a factor and a new password, each ending on a callback URL that ``ManagedLogin.finish`` takes;
the page's own refusal as ``LoginPageError``; the pool's session cookie, logout, error pages and 404s;
no secret in a repr or a message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from test_managed_login_pool import query_of, totp_on

from aiocognito.oauth import ManagedLogin
from aiocognito.testing import LocalUserPool, LoginPage, LoginPageError, LoginPages
from aiocognito.testing._login_pages import read_page

DOMAIN = "pages"
CALLBACK = "https://app.example/callback"
SIGNED_OUT = "https://app.example/signed-out"
PASSWORD = "Passw0rd!-pages"


@dataclass
class Setup:
    local: LocalUserPool
    pool_id: str
    login: ManagedLogin

    async def user(self, name: str, *, mfa: dict[str, Any] | None = None, temporary: bool = False) -> str:
        """A user with an email and a phone number; ``mfa``: AdminSetUserMFAPreference settings."""
        attributes = {"email": f"{name}@example.com", "phone_number": "+15555550100"}
        await self.local.create_user(self.pool_id, name, PASSWORD, attributes=attributes, temporary=temporary)
        if mfa:
            await self.local.call("AdminSetUserMFAPreference", UserPoolId=self.pool_id, Username=name, **mfa)
        return name


@pytest.fixture(name="setup")
async def setup_fixture() -> AsyncIterator[Setup]:
    async with LocalUserPool() as local:
        pool_id = await local.create_user_pool(
            "pages", mfa="OPTIONAL", totp=True, sms=True, email_mfa=True, required_attributes=("name",)
        )
        await local.call("CreateUserPoolDomain", UserPoolId=pool_id, Domain=DOMAIN)
        app = await local.create_app_client(
            pool_id,
            "web",
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email"],
            SupportedIdentityProviders=["COGNITO"],
            CallbackURLs=[CALLBACK],
            LogoutURLs=[SIGNED_OUT],
        )
        async with ManagedLogin(
            local.domain_url(DOMAIN), app.client_id, redirect_uri=CALLBACK, scopes=["openid", "email"]
        ) as login:
            yield Setup(local, pool_id, login)


@pytest.fixture(name="pages")
async def pages_fixture() -> AsyncIterator[LoginPages]:
    async with LoginPages(timeout=5) as pages:
        yield pages


async def signs_in(setup: Setup, pages: LoginPages, username: str, **answers: Any) -> str:
    """Sign in ``username`` through the pages and finish the login; returns the callback URL."""
    pending = setup.login.start()
    callback = await pages.sign_in(pending.url, username, PASSWORD, **answers)
    assert callback.startswith(CALLBACK + "?") and pages.left == callback
    assert set(query_of(callback)) == {"code", "state"} and query_of(callback)["state"] == pending.state
    assert (await setup.login.finish(pending, callback)).username == username
    return callback


# ----- the sign-ins -------------------------------------------------------------------------------------------
async def test_a_password_sign_in_returns_the_callback_url(setup: Setup, pages: LoginPages) -> None:
    await signs_in(setup, pages, await setup.user("alice"))
    assert pages.page is not None and {"signInFormUsername", "signInFormPassword"} <= pages.page.ids


async def test_a_totp_code(setup: Setup, pages: LoginPages) -> None:
    await setup.user("tara")
    await totp_on(setup.local, setup.pool_id, "tara", PASSWORD)
    await signs_in(setup, pages, "tara", code=lambda: setup.local.totp_code("tara"))
    assert pages.page is not None and "code" in pages.page.ids
    assert "authenticator app" in pages.page.text


@pytest.mark.parametrize(
    ("factor", "settings", "kind"),
    [("SMS_MFA", "SMSMfaSettings", "SMS"), ("EMAIL_OTP", "EmailMfaSettings", "EMAIL")],
)
async def test_a_code_sent_when_the_page_is_shown(
    setup: Setup, pages: LoginPages, factor: str, settings: str, kind: str
) -> None:
    user = await setup.user("cody", mfa={settings: {"Enabled": True, "PreferredMfa": True}})
    read: list[int] = []

    def code() -> str:
        read.append(len(setup.local.messages(user)))  # the code is in the outbox by the time it is asked for
        return setup.local.last_code(user)

    assert setup.local.messages(user) == []
    await signs_in(setup, pages, user, code=code)
    assert read == [1] and [(m.kind, m.purpose) for m in setup.local.messages(user)] == [(kind, factor)]


async def test_a_choice_of_factor(setup: Setup, pages: LoginPages) -> None:
    both = {"SMSMfaSettings": {"Enabled": True}, "EmailMfaSettings": {"Enabled": True}}
    user = await setup.user("fay", mfa=both)
    with pytest.raises(LoginPageError) as unanswered:  # the pool asks; nothing to choose with
        await pages.sign_in(setup.login.start().url, user, PASSWORD)
    page = unanswered.value.page
    assert page is not None and {"mfa_type_SMS_MFA", "mfa_type_EMAIL_OTP"} <= page.ids
    assert "mfa_type" in page.fields and "nothing to answer" in str(unanswered.value)
    await signs_in(setup, pages, user, mfa_type="EMAIL_OTP", code=lambda: setup.local.last_code(user))
    assert setup.local.messages(user)[-1].kind == "EMAIL"


async def test_a_new_password_and_a_missing_required_attribute(setup: Setup, pages: LoginPages) -> None:
    user = await setup.user("ivan", temporary=True)  # without the pool's required "name"
    with pytest.raises(LoginPageError) as unanswered:
        await pages.sign_in(setup.login.start().url, user, PASSWORD)
    page = unanswered.value.page
    assert page is not None and {"new_password", "confirm_password", "userAttributes.name"} <= page.ids
    await signs_in(setup, pages, user, new_password="New-Passw0rd!", attributes={"name": "Ivan"})
    got = await setup.local.call("AdminGetUser", UserPoolId=setup.pool_id, Username=user)
    assert got["UserStatus"] == "CONFIRMED" and {"Name": "name", "Value": "Ivan"} in got["UserAttributes"]


# ----- refusals and the session ---------------------------------------------------------------------------
async def test_a_wrong_password_raises_the_page_message(setup: Setup, pages: LoginPages) -> None:
    user = await setup.user("wanda")
    typed = "Wrong-Passw0rd!-typed"
    with pytest.raises(LoginPageError) as caught:
        await pages.sign_in(setup.login.start().url, user, typed)
    assert str(caught.value) == "Incorrect username or password."
    page = caught.value.page
    assert page is not None and page.error == str(caught.value) and "signInFormUsername" in page.ids
    for shown in (str(caught.value), repr(caught.value), repr(page), repr(pages)):
        assert typed not in shown
    assert pages.left is None


async def test_the_session_cookie_skips_the_form_until_logout(setup: Setup, pages: LoginPages) -> None:
    user = await setup.user("sam")
    await signs_in(setup, pages, user)
    pending = setup.login.start()
    callback = await pages.sign_in(pending.url, user, "not-the-password")  # no form: never typed
    assert pages.page is None and (await setup.login.finish(pending, callback)).username == user
    assert await pages.open(setup.login.logout_url(logout_uri=SIGNED_OUT)) == SIGNED_OUT
    assert pages.left == SIGNED_OUT and pages.page is None
    with pytest.raises(LoginPageError, match="^Incorrect username or password.$"):  # the form again
        await pages.sign_in(setup.login.start().url, user, "not-the-password")


async def test_error_pages_and_unknown_domains(setup: Setup, pages: LoginPages) -> None:
    elsewhere = setup.login.start().url.replace("app.example", "elsewhere.example")
    page = await pages.open(elsewhere)
    assert isinstance(page, LoginPage) and page is pages.page and pages.left is None
    assert page.status == 400 and page.error == "redirect_mismatch"
    assert page.url.startswith(setup.local.domain_url(DOMAIN) + "/error?") and page.action is None
    assert "An error was encountered with the requested page." in page.text
    with pytest.raises(LoginPageError, match="^redirect_mismatch$"):
        await pages.sign_in(elsewhere, "anyone", PASSWORD)
    with pytest.raises(LoginPageError, match="no form"):
        await pages.submit(username="anyone")
    unknown = await pages.open(setup.local.domain_url("no-such-domain") + "/oauth2/authorize?client_id=x")
    assert isinstance(unknown, LoginPage) and (unknown.status, unknown.error) == (404, "not_found")
    refused = await pages.open(setup.login.start(scopes=["openid", "orders/read"]).url)
    assert isinstance(refused, str) and query_of(refused)["error"] == "invalid_scope"


async def test_no_secret_in_reprs(setup: Setup, pages: LoginPages) -> None:
    user = await setup.user("tom", mfa={"SMSMfaSettings": {"Enabled": True, "PreferredMfa": True}})
    pending = setup.login.start()
    await pages.open(pending.url)
    code_page = await pages.submit(username=user, password=PASSWORD)
    assert isinstance(code_page, LoginPage) and code_page.fields["login_session"]
    shown = [repr(code_page), repr(pages)]
    callback = await pages.submit(code=setup.local.last_code(user))
    assert isinstance(callback, str)
    shown.append(repr(pages))
    secrets = [PASSWORD, pending.state, pending.nonce, code_page.fields["login_session"]]
    secrets += [setup.local.last_code(user), query_of(callback)["code"]]
    for text in shown:
        for secret in secrets:
            assert secret not in text, text
    assert repr(pages) == f"<LoginPages at {CALLBACK!r}>"


# ----- the parts -------------------------------------------------------------------------------------------
def test_read_page_takes_the_first_form_and_the_checked_choice() -> None:
    html = (
        '<html><head><title>T</title></head><body><p id="loginErrorMessage"> Try\n again. </p>'
        '<form action="/a"><input name="x" value="1"><input type="radio" name="r" value="a">'
        '<input type="radio" name="r" value="b" checked><input type="submit"></form>'
        '<form action="/b"><input name="y" value="2"></form></body></html>'
    )
    page = read_page("http://h/p?q=1", 200, html)
    assert (page.action, page.fields, page.error) == ("/a", {"x": "1", "r": "b"}, "Try again.")
    assert page.ids == {"loginErrorMessage"} and page.text == "Try again."


async def test_a_borrowed_session_stays_open(setup: Setup) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with LoginPages(http) as pages:
            assert pages.http is http
            await signs_in(setup, pages, await setup.user("bea"))
        assert not http.closed
        again = setup.login.start()
        assert (await LoginPages(http).open(again.url)).startswith(CALLBACK)  # type: ignore[union-attr]
