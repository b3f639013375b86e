"""The OAuth client against the local pool's managed login endpoints, over real HTTP on 127.0.0.1: the
code flow driven like a browser (:class:`~aiocognito.testing.LoginPages`), nonce and audience checks, refresh,
revoke, userInfo, logout, discovery, a Session adopting managed-login tokens, every refusal as its typed
error, and no secret in logs or reprs."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from aiocognito import InvalidToken, TokenSet, TokenVerifier
from aiocognito.oauth import (
    ClientCredentials,
    InvalidBearerToken,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    ManagedLogin,
    PendingLogin,
    UnauthorizedClient,
    UnsupportedGrantType,
    discover,
)
from aiocognito.testing import LocalUserPool, LoginPage, LoginPages

DOMAIN = "myapp"
CALLBACK = "https://app.example/callback"
SIGNED_OUT = "https://app.example/signed-out"
USER, PASSWORD = "alice", "Passw0rd!managed"


# ----- the pool ------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Setup:
    local: LocalUserPool
    pool_id: str
    domain_url: str
    client_id: str
    secret: str
    verifier: TokenVerifier

    def login(self, **options: Any) -> ManagedLogin:
        options.setdefault("client_secret", self.secret)
        options.setdefault("verifier", self.verifier)
        return ManagedLogin(self.domain_url, self.client_id, redirect_uri=CALLBACK, **options)


async def web_client(local: LocalUserPool, pool_id: str, name: str = "web", **extra: Any) -> tuple[str, str]:
    settings: dict[str, Any] = {
        "secret": True,
        "flows": ("ALLOW_REFRESH_TOKEN_AUTH",),
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthScopes": ["openid", "email", "profile"],
        "SupportedIdentityProviders": ["COGNITO"],
        "CallbackURLs": [CALLBACK],
        "LogoutURLs": [SIGNED_OUT],
    }
    settings.update(extra)
    app = await local.create_app_client(pool_id, name, **settings)
    return app.client_id, str(app.client_secret)


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    async with LocalUserPool() as local:
        pool_id = await local.create_user_pool("oauth")
        await local.call("CreateUserPoolDomain", UserPoolId=pool_id, Domain=DOMAIN)
        client_id, secret = await web_client(local, pool_id)
        await local.create_user(pool_id, USER, PASSWORD, attributes={"email": "alice@example.com"})
        async with TokenVerifier(
            pool_id, client_ids=client_id, jwks_url=local.jwks_url(pool_id), issuer=local.issuer(pool_id)
        ) as verifier:
            yield Setup(local, pool_id, local.domain_url(DOMAIN), client_id, secret, verifier)


async def signed_in(s: Setup, login: ManagedLogin, **start: Any) -> tuple[PendingLogin, str]:
    """A sign-in on the pool's form in a fresh browser: the pending login and the callback URL."""
    pending = login.start(**start)
    async with LoginPages() as pages:
        callback = await asyncio.wait_for(pages.sign_in(pending.url, USER, PASSWORD), 10)
        assert pages.page is not None and "signInFormUsername" in pages.page.ids  # the form was filled
        assert callback.startswith(CALLBACK), callback
        return pending, callback


# ----- the code flow ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
async def test_code_flow_refresh_user_info_and_revoke(setup: Setup, auth_method: Any) -> None:
    async with setup.login(auth_method=auth_method) as login:
        pending, callback = await signed_in(setup, login)
        tokens = await asyncio.wait_for(login.finish(pending, callback), 10)
        assert isinstance(tokens, TokenSet) and tokens.username == USER and tokens.refresh_token
        assert tokens.id_claims["nonce"] == pending.nonce and tokens.id_claims["aud"] == setup.client_id
        assert set(tokens.access_claims["scope"].split()) == {"openid", "email", "profile"}

        info = await login.user_info(tokens.access_token)
        assert info["sub"] == tokens.sub and info["email"] == "alice@example.com" and info["username"] == USER

        refreshed = await login.refresh(tokens.refresh_token)
        assert refreshed.refresh_token == tokens.refresh_token  # no rotation: the old one is kept
        assert refreshed.access_token != tokens.access_token and refreshed.username == USER

        await login.revoke(tokens.refresh_token)
        with pytest.raises(InvalidGrant) as caught:
            await login.refresh(tokens.refresh_token)
        assert caught.value.status == 400
        with pytest.raises(InvalidBearerToken):  # revoking the refresh token revokes its access tokens
            await login.user_info(refreshed.access_token)


async def test_a_pending_login_finishes_on_another_worker(setup: Setup) -> None:
    async with setup.login() as first:
        pending, callback = await signed_in(setup, first)
    saved = json.dumps(pending.to_dict())
    async with setup.login() as second:
        tokens = await second.finish(PendingLogin.from_dict(json.loads(saved)), callback)
    assert tokens.username == USER


async def test_nonce_and_audience_are_checked(setup: Setup) -> None:
    async with setup.login() as login:
        pending, callback = await signed_in(setup, login)
        with pytest.raises(InvalidToken) as caught:
            await login.finish(dataclasses.replace(pending, nonce="not-the-nonce-sent"), callback)
        assert caught.value.reason == "nonce"
    # A verifier that accepts both clients still refuses an ID token issued to the other one.
    other_id, other_secret = await web_client(setup.local, setup.pool_id, "other")
    async with TokenVerifier(
        setup.pool_id,
        client_ids=[setup.client_id, other_id],
        jwks_url=setup.local.jwks_url(setup.pool_id),
        issuer=setup.local.issuer(setup.pool_id),
    ) as both:
        other = ManagedLogin(setup.domain_url, other_id, redirect_uri=CALLBACK, client_secret=other_secret)
        async with other, setup.login(verifier=both) as login:
            pending, callback = await signed_in(setup, other)
            tokens = await other.finish(pending, callback)
            assert tokens.id_claims["aud"] == other_id
            with pytest.raises(InvalidToken) as aud:  # finish() would refuse the pending login first
                await login._verify(tokens, nonce=pending.nonce)  # noqa: SLF001
            assert aud.value.reason == "audience"


async def test_the_sign_in_session_is_reused_until_logout(setup: Setup) -> None:
    async with setup.login() as login, LoginPages() as pages:
        await login.finish((p := login.start()), await pages.sign_in(p.url, USER, PASSWORD))
        again = login.start()
        landed = await pages.open(again.url)  # signed in: straight back with a code
        assert isinstance(landed, str) and (await login.finish(again, landed)).username == USER
        assert await pages.open(login.logout_url(logout_uri=SIGNED_OUT)) == SIGNED_OUT
        page = await pages.open(login.start().url)
        assert isinstance(page, LoginPage) and "signInFormUsername" in page.ids  # the form again
        # The second form of /logout goes back to the sign-in page.
        page = await pages.open(login.logout_url(redirect_uri=CALLBACK, state="st"))
        assert isinstance(page, LoginPage) and "signInFormUsername" in page.ids


async def test_a_session_adopts_managed_login_tokens_and_refreshes_them(setup: Setup) -> None:
    async with setup.login() as login:
        pending, callback = await signed_in(setup, login)
        tokens = await login.finish(pending, callback)
    async with setup.local.client() as cognito:
        session = cognito.session(
            user_pool_id=setup.pool_id,
            client_id=setup.client_id,
            client_secret=setup.secret,
            refresh_token_rotation=False,  # InitiateAuth REFRESH_TOKEN_AUTH
        )
        await session.use_tokens(tokens)
        before = setup.local.request_count
        refreshed = await session.refresh()
        assert setup.local.request_count == before + 1
        assert (
            refreshed.access_token != tokens.access_token and refreshed.refresh_token == tokens.refresh_token
        )
        assert (await session.access_token()) == refreshed.access_token
        claims = await setup.verifier.verify(refreshed.access_token, "access")
        assert claims["username"] == USER


async def test_discovery_finds_the_domain(setup: Setup) -> None:
    config = await discover(setup.local.issuer(setup.pool_id))
    assert config.issuer == setup.local.issuer(setup.pool_id)
    assert config.token_endpoint == setup.domain_url + "/oauth2/token"
    assert config.domain_url == setup.domain_url
    async with ManagedLogin.from_discovery(
        config, setup.client_id, redirect_uri=CALLBACK, client_secret=setup.secret
    ) as login:
        pending, callback = await signed_in(setup, login)
        assert (await login.finish(pending, callback)).username == USER


# ----- refusals ---------------------------------------------------------------------------------------------


async def test_code_refusals_are_typed(setup: Setup) -> None:
    async with setup.login() as login:
        pending, callback = await signed_in(setup, login)
        with pytest.raises(InvalidGrant):  # wrong verifier; the code is spent by this attempt
            await login.finish(dataclasses.replace(pending, code_verifier="v" * 64), callback)
        pending, callback = await signed_in(setup, login)
        await login.finish(pending, callback)
        with pytest.raises(InvalidGrant):  # reused code
            await login.finish(pending, callback)
        pending, callback = await signed_in(setup, login)
        setup.local.advance_clock(301)  # codes live 5 minutes
        with pytest.raises(InvalidGrant):
            await login.finish(pending, callback)
        pending = login.start(scopes=["openid", "orders/read"])
        async with LoginPages() as pages:
            landed = await pages.open(pending.url)  # the refusal comes back on the callback URL
        assert isinstance(landed, str) and "error=invalid_scope" in landed
        with pytest.raises(InvalidScope) as scope:
            await login.finish(pending, landed)
        assert scope.value.status is None
    async with setup.login(client_secret="wrong" * 10) as wrong:
        pending, callback = await signed_in(setup, wrong)
        with pytest.raises(InvalidClient):
            await wrong.finish(pending, callback)
    async with setup.login() as login:
        with pytest.raises(UnsupportedGrantType):
            await login._http.token({"grant_type": "password"}, repeatable=False)  # noqa: SLF001
        with pytest.raises(InvalidRequest):
            await login._http.token({"grant_type": "authorization_code"}, repeatable=False)  # noqa: SLF001
    async with ClientCredentials(setup.domain_url, setup.client_id, setup.secret) as m2m:
        with pytest.raises(UnauthorizedClient):  # a code client may not use client_credentials
            await m2m.access_token()


async def test_user_info_with_a_bad_token(setup: Setup) -> None:
    async with setup.login() as login:
        with pytest.raises(InvalidBearerToken) as caught:
            await login.user_info("not-a-token")
        assert caught.value.status == 401


async def test_no_secret_in_logs_or_reprs(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with setup.login() as login:
        pending, callback = await signed_in(setup, login)
        tokens = await login.finish(pending, callback)
        await login.refresh(str(tokens.refresh_token))
        await login.user_info(tokens.access_token)
        await login.revoke(str(tokens.refresh_token))
        code = parse_qs(urlsplit(callback).query)["code"][0]
        secrets = [setup.secret, code, pending.code_verifier, pending.state, pending.nonce]
        secrets += [tokens.access_token, tokens.id_token, str(tokens.refresh_token)]
        shown = [repr(login), repr(pending), repr(tokens), str(pending)]
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("aiocognito.oauth")]
    assert any("token:authorization_code" in line and "200" in line for line in logged)
    for text in logged + shown:
        for secret in secrets:
            assert secret not in text
