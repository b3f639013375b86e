"""Managed login of the local pool: its refusals, as Cognito gives them, and the browser session.

Every refusal with Cognito's error code and status: the authorize endpoint's (Cognito's error page for an
unknown client or an unregistered callback URL; a redirect with ``error`` and ``state`` for the rest), the
logout endpoint's, and the token endpoint's for codes and client credentials. The fixtures are
``test_managed_login_pool``'s; the browser is :class:`~aiocognito.testing.LoginPages`.
"""

from __future__ import annotations

import httpx
from test_managed_login_pool import (  # noqa: F401  (fixtures)
    CALLBACK,
    SIGNED_OUT,
    Setup,
    authorize_url,
    pages_fixture,
    query_of,
    setup_fixture,
    sign_in_code,
    token_post,
)

from aiocognito.testing import LoginPage, LoginPages


async def test_signed_in_browser_skips_the_form_until_logout(setup: Setup, pages: LoginPages) -> None:
    await sign_in_code(setup, pages, setup.public)
    location, _ = await sign_in_code(setup, pages, setup.public)  # the cookie: no form this time
    assert "code" in query_of(location) and pages.page is None
    page = await pages.open(
        authorize_url(
            setup,
            response_type="code",
            client_id=setup.public.client_id,
            redirect_uri=CALLBACK,
            prompt="login",
        )
    )
    assert isinstance(page, LoginPage) and "signInFormPassword" in page.ids
    logout = str(
        httpx.URL(
            setup.base + "/logout", params={"client_id": setup.public.client_id, "logout_uri": SIGNED_OUT}
        )
    )
    assert await pages.open(logout) == SIGNED_OUT
    none = {
        "response_type": "code",
        "client_id": setup.public.client_id,
        "redirect_uri": CALLBACK,
        "prompt": "none",
        "state": "s",
    }
    refused = await pages.open(authorize_url(setup, **none))
    assert isinstance(refused, str) and query_of(refused) == {"error": "login_required", "state": "s"}


async def test_client_credentials_refusals(setup: Setup) -> None:
    machine = (setup.machine.client_id, setup.machine.client_secret or "")
    cases = [
        ({"grant_type": "client_credentials", "scope": "openid"}, machine, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "reports/delete"}, machine, "invalid_scope"),
        ({"grant_type": "client_credentials"}, (setup.machine.client_id, "wrong-secret"), "invalid_client"),
        ({"grant_type": "client_credentials"}, ("nosuchclient", "x"), "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": setup.machine.client_id}, None, "invalid_client"),
        (
            {"grant_type": "client_credentials"},
            (setup.confidential.client_id, setup.confidential.client_secret or ""),
            "unauthorized_client",
        ),
        ({"grant_type": "password"}, machine, "unsupported_grant_type"),
        ({}, machine, "invalid_request"),
    ]
    for data, auth, error in cases:
        response = await token_post(setup, data, auth)
        assert (response.status_code, response.json()["error"]) == (400, error), (data, auth)


# ----- the authorize endpoint's refusals -------------------------------------------------------------------
async def test_authorize_refusals(setup: Setup, pages: LoginPages) -> None:
    ok = {
        "response_type": "code",
        "client_id": setup.public.client_id,
        "redirect_uri": CALLBACK,
        "state": "xyz",
    }
    # not sent back to the app: Cognito's error page
    for params, error in (
        ({**ok, "redirect_uri": "http://localhost:8000/elsewhere"}, "redirect_mismatch"),
        ({**ok, "redirect_uri": CALLBACK + "/"}, "redirect_mismatch"),
        ({key: value for key, value in ok.items() if key != "redirect_uri"}, "redirect_mismatch"),
        ({**ok, "client_id": "nosuchclient"}, "invalid_request"),
    ):
        page = await pages.open(authorize_url(setup, **params))
        assert isinstance(page, LoginPage) and page.url.startswith(setup.base + "/error?"), params
        assert query_of(page.url)["error"] == error and page.error == error
        assert page.status == 400 and "An error was encountered with the requested page." in page.text
    # sent back to the callback URL with the error and the state
    for params, error in (
        ({**ok, "response_type": "token"}, "unauthorized_client"),
        ({**ok, "response_type": "id_token"}, "unsupported_response_type"),
        ({**ok, "response_type": ""}, "invalid_request"),
        ({**ok, "scope": "openid reports/read"}, "invalid_scope"),
        ({**ok, "code_challenge": "abc", "code_challenge_method": "plain"}, "invalid_request"),
        ({**ok, "code_challenge": "abc"}, "invalid_request"),
        ({**ok, "identity_provider": "Google"}, "invalid_request"),
    ):
        location = await pages.open(authorize_url(setup, **params))
        assert isinstance(location, str) and location.startswith(CALLBACK + "?"), params
        answer = query_of(location)
        assert (answer["error"], answer["state"]) == (error, "xyz"), params
    unknown = await pages.open(
        str(httpx.URL(setup.local.domain_url("no-such-domain") + "/oauth2/authorize", params=ok))
    )
    assert isinstance(unknown, LoginPage) and unknown.status == 404


async def test_logout_refusals(setup: Setup, pages: LoginPages) -> None:
    for params, error in (
        (
            {"client_id": setup.public.client_id, "logout_uri": "http://localhost:8000/not-registered"},
            "redirect_mismatch",
        ),
        ({"client_id": "nosuchclient", "logout_uri": SIGNED_OUT}, "invalid_request"),
        ({"client_id": setup.public.client_id}, "invalid_request"),
    ):
        page = await pages.open(str(httpx.URL(setup.base + "/logout", params=params)))
        assert isinstance(page, LoginPage) and page.url.startswith(setup.base + "/error?"), params
        assert query_of(page.url)["error"] == error and (page.status, page.error) == (400, error), params
    to_login = {"client_id": setup.public.client_id, "redirect_uri": CALLBACK, "response_type": "code"}
    page = await pages.open(str(httpx.URL(setup.base + "/logout", params=to_login)))
    assert isinstance(page, LoginPage) and "signInFormUsername" in page.ids


# ----- the token endpoint's refusals for codes -------------------------------------------------------------
async def test_code_refusals(setup: Setup, pages: LoginPages) -> None:
    public = setup.public.client_id

    def exchange(location: str, verifier: str, **extra: str) -> dict[str, str]:
        code = query_of(location)["code"]
        return {
            "grant_type": "authorization_code",
            "client_id": public,
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
            **extra,
        }

    async def refused(data: dict[str, str], error: str, auth: tuple[str, str] | None = None) -> None:
        response = await token_post(setup, data, auth)
        assert (response.status_code, response.json()["error"]) == (400, error), data

    location, verifier = await sign_in_code(setup, pages, setup.public)
    assert (await token_post(setup, exchange(location, verifier))).status_code == 200
    await refused(exchange(location, verifier), "invalid_grant")  # used already
    location, _ = await sign_in_code(setup, pages, setup.public)
    await refused(exchange(location, "not-the-verifier-" * 3), "invalid_grant")
    await refused(exchange(location, verifier), "invalid_grant")  # a failed exchange used the code up too
    location, verifier = await sign_in_code(setup, pages, setup.public)
    setup.local.advance_clock(301)  # codes live five minutes
    await refused(exchange(location, verifier), "invalid_grant")
    location, verifier = await sign_in_code(setup, pages, setup.public)
    response = await token_post(
        setup, exchange(location, verifier, redirect_uri="http://localhost:8000/other")
    )
    assert (response.status_code, response.json()) == (
        400,
        {"error": "unauthorized_client", "error_description": "invalid_redirect"},
    )
    location, verifier = await sign_in_code(setup, pages, setup.public)  # another client's code
    data = exchange(location, verifier)
    del data["client_id"]
    await refused(
        data, "invalid_grant", (setup.confidential.client_id, setup.confidential.client_secret or "")
    )
    location, verifier = await sign_in_code(setup, pages, setup.confidential)  # wrong secret
    data = exchange(location, verifier)
    del data["client_id"]
    await refused(data, "invalid_client", (setup.confidential.client_id, "wrong-secret"))
    await refused({**data, "client_id": setup.confidential.client_id}, "invalid_client")  # no secret at all
    await refused(
        {"grant_type": "authorization_code", "client_id": public, "redirect_uri": CALLBACK}, "invalid_request"
    )
