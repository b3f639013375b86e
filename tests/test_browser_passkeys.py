"""Passkeys in a real browser: headless Chromium's WebDriver virtual authenticator (CTAP2, resident keys,
user verification) against the local user pool, whose relying party id is ``localhost``.

* Through the client: a small page of the test's own (aiohttp on 127.0.0.1, opened as
  ``http://localhost:<port>``) registers a passkey with StartWebAuthnRegistration and
  CompleteWebAuthnRegistration; then :meth:`Session.sign_in` with USER_AUTH and WEB_AUTHN hands its request
  options to the browser, whose assertion signs the user in. The browser's own assertion with a changed
  signature, and the same assertion presented again to a new sign-in, are refused.
* Through the FastAPI example's page, served by uvicorn: password sign-in, passkey registration, passkey
  sign-in, deletion, as a user clicks them.
* A page opened as ``http://127.0.0.1:<port>`` is not on the relying party's domain: the browser itself
  refuses to create or use a passkey there, and the page shows the SecurityError.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from browser import Browser, browser_fixture, load_fastapi_example, uvicorn_serving  # noqa: F401

from aiocognito import CognitoClient, SignedIn, WebAuthnRequired
from aiocognito.errors import NotAuthorizedException, ServiceError
from aiocognito.testing import LocalUserPool
from aiocognito.web.backend import CognitoSettings

USER = "pia"
PASSWORD = "Passw0rd!-browser"
RP_ID = "localhost"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

#: In a page on the relying party's origin: navigator.credentials.get() for request options (JSON form),
#: answering the credential's toJSON() (an AuthenticationResponseJSON), or {"error": "<name>: <message>"}.
GET_ASSERTION = """
const done = arguments[arguments.length - 1];
navigator.credentials.get({publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(arguments[0])})
  .then((credential) => done(credential.toJSON()), (err) => done({error: err.name + ": " + err.message}));
"""


def padded(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def passkey_pool(local: LocalUserPool) -> tuple[str, str]:
    """A pool with passkeys as a first factor for relying party ``localhost`` and user verification
    required, an app client for SRP, password and choice-based sign-in, and USER: (pool id, client id)."""
    pool_id = await local.create_user_pool(
        "browser-passkeys", Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}}
    )
    await local.call(
        "SetUserPoolMfaConfig",
        UserPoolId=pool_id,
        WebAuthnConfiguration={"RelyingPartyId": RP_ID, "UserVerification": "required"},
    )
    app = await local.create_app_client(
        pool_id,
        flows=(
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_USER_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ),
    )
    await local.create_user(pool_id, USER, PASSWORD)
    return pool_id, app.client_id


async def stored_passkeys(cognito: CognitoClient, access_token: str) -> list[dict[str, Any]]:
    listed = await cognito.list_web_authn_credentials(AccessToken=access_token)
    return [dict(c) for c in listed["Credentials"]]


# ----- through the client ----------------------------------------------------------------------------
REGISTER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Register a passkey</title></head>
<body>
<button id="register">Register a passkey</button>
<output id="status" data-state=""></output>
<script>
const status = document.getElementById("status");
function show(state, text) { status.textContent = text; status.dataset.state = state; }
document.getElementById("register").addEventListener("click", async () => {
  show("working", "registering...");
  try {
    const started = await fetch("/passkeys/start", {method: "POST"});
    const options = await started.json();
    if (!started.ok) throw new Error(options.error);
    const credential = await navigator.credentials.create(
      {publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options)});
    const completed = await fetch("/passkeys/complete", {
      method: "POST", headers: {"content-type": "application/json"},
      body: JSON.stringify(credential.toJSON())});
    const answer = await completed.json();
    if (!completed.ok) throw new Error(answer.error);
    show("done", "registered " + credential.id);
  } catch (err) {
    show("error", err.name + ": " + err.message);
  }
});
</script>
</body></html>
"""


@asynccontextmanager
async def register_page(cognito: CognitoClient, access_token: str) -> AsyncIterator[int]:
    """Serve REGISTER_PAGE and its two handlers on 127.0.0.1 (the credential is passed on untouched);
    yields the port."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=REGISTER_PAGE, content_type="text/html")

    async def start(request: web.Request) -> web.Response:
        try:
            answer = await cognito.start_web_authn_registration(AccessToken=access_token)
        except ServiceError as exc:
            return web.json_response({"error": exc.code}, status=400)
        return web.json_response(answer["CredentialCreationOptions"])

    async def complete(request: web.Request) -> web.Response:
        try:
            await cognito.complete_web_authn_registration(
                AccessToken=access_token, Credential=await request.json()
            )
        except ServiceError as exc:
            return web.json_response({"error": exc.code}, status=400)
        return web.json_response({"registered": True})

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_post("/passkeys/start", start)
    app.router.add_post("/passkeys/complete", complete)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()


async def test_a_browser_passkey_registers_and_signs_in_through_the_client(browser: Browser) -> None:
    async with LocalUserPool() as local, local.client() as cognito:
        pool_id, client_id = await passkey_pool(local)
        session = cognito.session(user_pool_id=pool_id, client_id=client_id)
        signed_in = await session.sign_in(USER, PASSWORD)
        assert isinstance(signed_in, SignedIn)
        token = signed_in.tokens.access_token
        user = await cognito.admin_get_user(UserPoolId=pool_id, Username=USER)
        sub = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")
        browser.add_passkey_authenticator()

        async with register_page(cognito, token) as port:
            # 127.0.0.1 is not the relying party's domain: the browser refuses before any authenticator
            await browser.open(f"http://127.0.0.1:{port}/")
            await browser.click("#register")
            state, text = await browser.outcome()
            assert state == "error" and text.startswith("SecurityError"), text
            assert browser.passkeys() == [] and await stored_passkeys(cognito, token) == []

            await browser.open(f"http://localhost:{port}/")
            await browser.click("#register")
            state, text = await browser.outcome()
            assert state == "done", text
            [passkey] = browser.passkeys()
            assert passkey.rp_id == RP_ID and passkey.is_resident_credential
            assert passkey.user_handle is not None and padded(passkey.user_handle) == sub.encode()
            credential_id = passkey.id.rstrip("=")  # Selenium pads its base64url
            assert text == f"registered {credential_id}"
            [listed] = await stored_passkeys(cognito, token)
            assert listed["CredentialId"] == credential_id and listed["RelyingPartyId"] == RP_ID
            assert listed["AuthenticatorAttachment"] == "platform"
            assert listed["AuthenticatorTransports"] == ["internal"]
            count = passkey.sign_count  # the authenticator's counter, counted at registration too

            async def passkey_step() -> WebAuthnRequired:
                step = await cognito.session(user_pool_id=pool_id, client_id=client_id).sign_in(
                    USER, flow="USER_AUTH", preferred_challenge="WEB_AUTHN"
                )
                assert isinstance(step, WebAuthnRequired)
                assert step.request_options["rpId"] == RP_ID
                assert step.request_options["allowCredentials"][0]["id"] == credential_id
                return step

            async def assertion(step: WebAuthnRequired) -> dict[str, Any]:
                signed: dict[str, Any] = await browser.async_script(GET_ASSERTION, step.request_options)
                assert "error" not in signed, signed
                return signed

            # the browser's assertion signs the user in
            step = await passkey_step()
            good = await assertion(step)
            assert good["id"] == credential_id and padded(good["response"]["userHandle"]) == sub.encode()
            done = await step.respond(good)
            assert isinstance(done, SignedIn) and done.tokens.access_token
            claims = await cognito.get_user(AccessToken=done.tokens.access_token)
            assert claims["Username"] == USER
            assert browser.passkeys()[0].sign_count == count + 1

            # the same assertion again, for a new sign-in (another challenge): refused
            with pytest.raises(NotAuthorizedException):
                await (await passkey_step()).respond(good)

            # a fresh assertion whose signature was changed: refused
            step = await passkey_step()
            tampered = await assertion(step)
            signature = bytearray(padded(tampered["response"]["signature"]))
            signature[-1] ^= 0x01
            tampered["response"]["signature"] = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
            with pytest.raises(NotAuthorizedException):
                await step.respond(tampered)

            # a fresh, untouched one still signs in (the counter grew past the refused ones)
            step = await passkey_step()
            assert isinstance(await step.respond(await assertion(step)), SignedIn)
            [passkey] = browser.passkeys()
            assert passkey.sign_count == count + 3 and passkey.user_handle is not None

            # the same key put back into the authenticator signs in with its counter where it was, but a copy
            # whose counter is behind (a cloned authenticator) is refused
            from selenium.webdriver.common.virtual_authenticator import Credential

            for counter, accepted in ((passkey.sign_count, True), (0, False)):
                browser.driver.remove_all_credentials()
                browser.driver.add_credential(
                    Credential.create_resident_credential(
                        padded(passkey.id),
                        RP_ID,
                        padded(passkey.user_handle),
                        padded(passkey.private_key),
                        counter,
                    )
                )
                step = await passkey_step()
                signed = await assertion(step)
                if accepted:
                    assert isinstance(await step.respond(signed), SignedIn)
                else:
                    with pytest.raises(NotAuthorizedException):
                        await step.respond(signed)


# ----- through the FastAPI example's page --------------------------------------------------------------
async def test_the_fastapi_example_page_registers_and_signs_in_with_a_passkey(
    browser: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    module = load_fastapi_example()
    async with LocalUserPool() as local, local.client() as cognito:
        pool_id, client_id = await passkey_pool(local)
        app = module.make_app(CognitoSettings(pool_id, client_id, endpoint_url=local.endpoint_url))
        browser.add_passkey_authenticator()

        async with uvicorn_serving(app) as port:
            page = f"http://localhost:{port}/"

            async def act(button: str) -> str:
                await browser.click(button)
                state, text = await browser.outcome()
                assert state == "done", text
                return text

            # sign in with the password, register a passkey
            await browser.open(page)
            await browser.fill("#username", USER)
            await browser.fill("#password", PASSWORD)
            assert await act("#sign-in") == f"signed in as {USER}"
            assert browser.passkeys() == []
            text = await act("#register")
            [passkey] = browser.passkeys()
            credential_id = passkey.id.rstrip("=")
            assert text == f"registered {credential_id}" and passkey.rp_id == RP_ID
            token = await browser.script("return accessToken")
            [stored] = await stored_passkeys(cognito, token)
            assert stored["CredentialId"] == credential_id
            listed = await browser.script(
                "return [...document.querySelectorAll('#passkeys button.delete')]"
                ".map((b) => b.dataset.credentialId)"
            )
            assert listed == [credential_id]

            # a new visit (no token in the page): sign in with the passkey alone
            await browser.open(page)
            assert await browser.script("return accessToken") is None
            await browser.fill("#username", USER)
            assert await act("#passkey-sign-in") == f"signed in with a passkey as {USER}"
            count = browser.passkeys()[0].sign_count
            token = await browser.script("return accessToken")
            assert (await cognito.get_user(AccessToken=token))["Username"] == USER

            # the same page on 127.0.0.1: signed in with the password, but no passkey made or used there
            await browser.open(f"http://127.0.0.1:{port}/")
            await browser.fill("#username", USER)
            await browser.fill("#password", PASSWORD)
            assert await act("#sign-in") == f"signed in as {USER}"
            for button in ("#register", "#passkey-sign-in"):
                await browser.click(button)
                state, text = await browser.outcome()
                assert state == "error" and text.startswith("SecurityError"), text
            assert len(browser.passkeys()) == 1 and browser.passkeys()[0].sign_count == count
            assert len(await stored_passkeys(cognito, token)) == 1

            # back on localhost: delete the passkey; a passkey sign-in then finds none to use
            await browser.open(page)
            await browser.fill("#username", USER)
            assert await act("#passkey-sign-in") == f"signed in with a passkey as {USER}"
            await browser.click(f'#passkeys button[data-credential-id="{credential_id}"]')
            state, text = await browser.outcome()
            assert state == "done" and text == f"deleted {credential_id}", text
            assert await stored_passkeys(cognito, token) == []
            await browser.click("#passkey-sign-in")
            state, text = await browser.outcome()
            assert state == "error" and text.startswith("ApiError: passkey_unavailable"), text
            tokens = [token, await browser.script("return accessToken")]

    # the backend's logs (from uvicorn's thread too) name outcomes, never the password or a token;
    # Selenium's and urllib3's own records (the typed password is in them) are the test's, not the app's
    logs = "\n".join(
        f"{r.name} {r.getMessage()}" for r in caplog.records if not r.name.startswith(("selenium", "urllib3"))
    )
    assert "passkeys: registered" in logs and "sign-in: challenge WEB_AUTHN saved" in logs
    for secret in (PASSWORD, *tokens):
        assert secret not in logs
