"""Passkeys end to end without a browser: a Session registers a passkey made by the software authenticator,
signs in with it (USER_AUTH with PREFERRED_CHALLENGE=WEB_AUTHN, and through SELECT_CHALLENGE), resumes the
WEB_AUTHN step in another Session, lists and deletes passkeys; the local pool verifies every assertion with
py_webauthn and refuses a tampered one, a wrong origin, a replay, a cloned authenticator's counter, a
missing user verification and a deleted passkey. MFA after a passkey follows the pool's
FactorConfiguration.

The relying party is ``localhost`` and the "browser" is on ``http://localhost:8000``, as a real browser
test can be.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from aiocognito import RetryPolicy, SessionExpiredError, errors
from aiocognito._signin.account import Passkey
from aiocognito._signin.session import Session
from aiocognito._signin.steps import (
    ChallengeSelectionRequired,
    MfaCodeRequired,
    SignedIn,
    Step,
    WebAuthnRequired,
)
from aiocognito._tokens.verifier import TokenVerifier
from aiocognito.testing import AppClient, LocalUserPool
from aiocognito.testing._authenticator import SoftwareAuthenticator, b64url, unb64url

PASSWORD = "Passw0rd!-passkeys"
RP_ID = "localhost"
ORIGIN = "http://localhost:8000"
FLOWS = ("ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")


@pytest.fixture
async def cognito(local_user_pool: LocalUserPool) -> AsyncIterator[Any]:
    async with local_user_pool.client(retries=RetryPolicy(max_attempts=1)) as client:
        yield client


@dataclass
class Setup:
    local: LocalUserPool
    cognito: Any
    app: AppClient

    def session(self) -> Session:
        return self.cognito.session(  # type: ignore[no-any-return]
            user_pool_id=self.app.user_pool_id,
            client_id=self.app.client_id,
            client_secret=self.app.client_secret,
        )

    async def signed_in(self, username: str) -> Session:
        session = self.session()
        assert isinstance(await session.sign_in(username, PASSWORD), SignedIn)
        return session

    async def web_authn_config(self, **config: Any) -> None:
        await self.local.call(
            "SetUserPoolMfaConfig",
            UserPoolId=self.app.user_pool_id,
            MfaConfiguration=(
                await self.local.call("GetUserPoolMfaConfig", UserPoolId=self.app.user_pool_id)
            )["MfaConfiguration"],
            **({"SoftwareTokenMfaConfiguration": {"Enabled": True}} if config.pop("totp", False) else {}),
            WebAuthnConfiguration={"RelyingPartyId": RP_ID, "UserVerification": "required", **config},
        )


async def make_setup(
    local: LocalUserPool, cognito: Any, *, mfa: str = "OFF", secret: bool = False, **config: Any
) -> Setup:
    pool_id = await local.create_user_pool(
        "passkeys",
        mfa=mfa,
        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}},
    )
    setup = Setup(local, cognito, await local.create_app_client(pool_id, secret=secret, flows=FLOWS))
    await setup.web_authn_config(totp=mfa != "OFF", **config)
    for name in ("alice", "bruno"):
        await local.create_user(pool_id, name, PASSWORD)
    return setup


async def register(session: Session, authenticator: SoftwareAuthenticator, origin: str = ORIGIN) -> str:
    options = await session.start_passkey_registration()
    credential = authenticator.create(options, origin)
    await session.complete_passkey_registration(credential)
    return str(credential["id"])


def signed_in(step: Step) -> SignedIn:
    assert isinstance(step, SignedIn), step
    return step


async def passkey_step(setup: Setup, username: str = "alice") -> WebAuthnRequired:
    step = await setup.session().sign_in(username, flow="USER_AUTH", preferred_challenge="WEB_AUTHN")
    assert isinstance(step, WebAuthnRequired), step
    return step


async def test_register_then_sign_in_with_the_passkey(local_user_pool: LocalUserPool, cognito: Any) -> None:
    setup = await make_setup(local_user_pool, cognito, secret=True)
    alice = await setup.signed_in("alice")
    authenticator = SoftwareAuthenticator()
    options = await alice.start_passkey_registration()
    sub = next(
        a["Value"]
        for a in (
            await setup.local.call("AdminGetUser", UserPoolId=setup.app.user_pool_id, Username="alice")
        )["UserAttributes"]
        if a["Name"] == "sub"
    )
    assert options["rp"] == {"id": RP_ID, "name": "passkeys"}
    assert options["user"]["id"] == b64url(sub.encode())
    assert options["authenticatorSelection"]["userVerification"] == "required"
    credential = authenticator.create(options, ORIGIN)
    await alice.complete_passkey_registration(json.dumps(credential))  # the browser's JSON text, as it is

    listed = await alice.list_passkeys()
    assert len(listed) == 1 and isinstance(listed[0], Passkey)
    assert (listed[0].credential_id, listed[0].relying_party_id) == (credential["id"], RP_ID)
    assert (listed[0].attachment, listed[0].transports) == ("platform", ("internal",))
    assert listed[0].created_at is not None and listed[0].created_at.tzinfo is not None

    step = await passkey_step(setup)
    request = step.request_options
    assert request["rpId"] == RP_ID and request["userVerification"] == "required"
    assert request["allowCredentials"] == [{"id": credential["id"], "type": "public-key"}]
    assert len(unb64url(request["challenge"])) == 32 and request["timeout"] > 0
    done = signed_in(await step.respond(authenticator.get(request, ORIGIN)))

    async with TokenVerifier(
        setup.app.user_pool_id,
        client_ids=setup.app.client_id,
        jwks_url=setup.local.jwks_url(setup.app.user_pool_id),
        issuer=setup.local.issuer(setup.app.user_pool_id),
    ) as verifier:
        claims = await verifier.verify(done.tokens.access_token, "access")
    assert claims["username"] == "alice" and claims["sub"] == sub

    # a second sign-in: the counter grew (1 -> 2), and the pool kept the first one
    step = await passkey_step(setup)
    signed_in(await step.respond(authenticator.get(step.request_options, ORIGIN)))
    assert authenticator.credentials[0].sign_count == 2


async def test_sign_in_through_select_challenge(local_user_pool: LocalUserPool, cognito: Any) -> None:
    setup = await make_setup(local_user_pool, cognito)
    authenticator = SoftwareAuthenticator()
    await register(await setup.signed_in("alice"), authenticator)

    step = await setup.session().sign_in("alice", flow="USER_AUTH")
    assert isinstance(step, ChallengeSelectionRequired)
    assert step.available == ["PASSWORD", "PASSWORD_SRP", "WEB_AUTHN"]
    chosen = await step.respond("WEB_AUTHN")
    assert isinstance(chosen, WebAuthnRequired)
    signed_in(await chosen.respond(authenticator.get(chosen.request_options, ORIGIN)))

    # bruno has no passkey: WEB_AUTHN is not offered, and preferring it lands on SELECT_CHALLENGE
    step = await setup.session().sign_in("bruno", flow="USER_AUTH", preferred_challenge="WEB_AUTHN")
    assert isinstance(step, ChallengeSelectionRequired) and "WEB_AUTHN" not in step.available

    # a CREDENTIAL sent along with SELECT_CHALLENGE signs nothing the pool issued
    step = await setup.session().sign_in("alice", flow="USER_AUTH")
    assert isinstance(step, ChallengeSelectionRequired)
    stale = authenticator.get({"rpId": RP_ID, "challenge": b64url(b"\0" * 32)}, ORIGIN)
    with pytest.raises(errors.NotAuthorizedException):
        await step.respond("WEB_AUTHN", credential=json.dumps(stale))


async def test_the_step_resumes_in_another_session(local_user_pool: LocalUserPool, cognito: Any) -> None:
    setup = await make_setup(local_user_pool, cognito)
    authenticator = SoftwareAuthenticator()
    await register(await setup.signed_in("alice"), authenticator)

    saved = json.loads(json.dumps((await passkey_step(setup)).to_dict()))  # through a store, as JSON
    assert PASSWORD not in json.dumps(saved)
    async with setup.local.client(retries=RetryPolicy(max_attempts=1)) as elsewhere:
        session = elsewhere.session(user_pool_id=setup.app.user_pool_id, client_id=setup.app.client_id)
        resumed = await session.resume(saved)
        assert isinstance(resumed, WebAuthnRequired) and resumed.username == "alice"
        answer = json.dumps(authenticator.get(resumed.request_options, ORIGIN))  # JSON text, untouched
        signed_in(await resumed.respond(answer))
        assert session.username == "alice" and (await session.access_token())


async def test_refused_assertions(local_user_pool: LocalUserPool, cognito: Any) -> None:
    setup = await make_setup(local_user_pool, cognito)
    authenticator = SoftwareAuthenticator()
    await register(await setup.signed_in("alice"), authenticator)

    # a signature byte flipped
    step = await passkey_step(setup)
    tampered = authenticator.get(step.request_options, ORIGIN)
    signature = bytearray(unb64url(tampered["response"]["signature"]))
    signature[-1] ^= 0x01
    tampered["response"]["signature"] = b64url(bytes(signature))
    with pytest.raises(errors.NotAuthorizedException):
        await step.respond(tampered)

    # signed on another origin (and on a look-alike host)
    for origin in ("http://evil.example:8000", "https://localhost.evil.example"):
        step = await passkey_step(setup)
        with pytest.raises(errors.NotAuthorizedException):
            await step.respond(authenticator.get(step.request_options, origin))

    # signed for another relying party
    step = await passkey_step(setup)
    other_rp = authenticator.get({**step.request_options}, ORIGIN)
    other_rp["response"]["authenticatorData"] = b64url(
        b"\x11" * 32 + unb64url(other_rp["response"]["authenticatorData"])[32:]
    )
    with pytest.raises(errors.NotAuthorizedException):
        await step.respond(other_rp)

    # replayed: the same answer twice to its challenge (the Session is single use), then to a new challenge
    step = await passkey_step(setup)
    saved = step.to_dict()
    answer = json.dumps(authenticator.get(step.request_options, ORIGIN))
    signed_in(await step.respond(answer))
    with pytest.raises(SessionExpiredError):
        await (await setup.session().resume(saved)).respond(answer)  # type: ignore[attr-defined]
    with pytest.raises(errors.NotAuthorizedException):
        await (await passkey_step(setup)).respond(answer)

    # a cloned authenticator: a valid signature over a counter that did not grow
    authenticator.credentials[0].sign_count = 0
    step = await passkey_step(setup)
    with pytest.raises(errors.NotAuthorizedException):
        await step.respond(authenticator.get(step.request_options, ORIGIN))

    # user verification is required by the pool and the authenticator skipped it
    authenticator.credentials[0].sign_count = 100
    authenticator.user_verified = False
    step = await passkey_step(setup)
    with pytest.raises(errors.NotAuthorizedException):
        await step.respond(authenticator.get(step.request_options, ORIGIN))

    # not an AuthenticationResponseJSON at all: the answer may be sent again
    authenticator.user_verified = True
    step = await passkey_step(setup)
    with pytest.raises(errors.InvalidParameterException):
        await step.respond({"id": "x"})
    again = await setup.session().resume(step.to_dict())
    assert isinstance(again, WebAuthnRequired)
    signed_in(await again.respond(authenticator.get(again.request_options, ORIGIN)))


async def test_another_users_passkey_and_a_deleted_one(local_user_pool: LocalUserPool, cognito: Any) -> None:
    setup = await make_setup(local_user_pool, cognito)
    alice_key, bruno_key = SoftwareAuthenticator(), SoftwareAuthenticator()
    alice = await setup.signed_in("alice")
    credential_id = await register(alice, alice_key)
    await register(await setup.signed_in("bruno"), bruno_key)

    # bruno's passkey answering alice's challenge
    step = await passkey_step(setup, "alice")
    with pytest.raises(errors.NotAuthorizedException):
        await step.respond(bruno_key.get({**step.request_options, "allowCredentials": []}, ORIGIN))

    # deleted while a sign-in waits for it, then no longer offered
    waiting = await passkey_step(setup, "alice")
    await alice.delete_passkey(credential_id)
    assert await alice.list_passkeys() == []
    with pytest.raises(errors.NotAuthorizedException):
        await waiting.respond(alice_key.get(waiting.request_options, ORIGIN))
    step = await setup.session().sign_in("alice", flow="USER_AUTH", preferred_challenge="WEB_AUTHN")
    assert isinstance(step, ChallengeSelectionRequired) and step.available == ["PASSWORD", "PASSWORD_SRP"]
    with pytest.raises(errors.ResourceNotFoundException):
        await alice.delete_passkey(credential_id)


async def test_registration_refusals_reach_the_caller(local_user_pool: LocalUserPool, cognito: Any) -> None:
    setup = await make_setup(local_user_pool, cognito)
    alice = await setup.signed_in("alice")
    authenticator = SoftwareAuthenticator()
    options = await alice.start_passkey_registration()
    with pytest.raises(errors.WebAuthnOriginNotAllowedException):
        await alice.complete_passkey_registration(authenticator.create(options, "http://evil.example"))
    with pytest.raises(errors.ParamValidationError) as caught:
        await alice.complete_passkey_registration("[not an object")
    assert "not an object" not in str(caught.value)
    with pytest.raises(errors.WebAuthnChallengeNotFoundException):  # signed over another challenge
        await alice.complete_passkey_registration(
            authenticator.create(options, ORIGIN, challenge=b64url(b"\1" * 32))
        )
    await alice.complete_passkey_registration(authenticator.create(options, ORIGIN))  # still waiting for it
    assert len(await alice.list_passkeys()) == 1


async def test_mfa_after_a_passkey_follows_the_factor_configuration(
    local_user_pool: LocalUserPool, cognito: Any
) -> None:
    setup = await make_setup(local_user_pool, cognito, mfa="OPTIONAL", UserVerification="preferred")
    alice = await setup.signed_in("alice")
    enrollment = await alice.enable_totp()
    await enrollment.confirm(setup.local.totp_code("alice", secret=enrollment.secret_code))
    authenticator = SoftwareAuthenticator()
    await register(alice, authenticator)

    # SINGLE_FACTOR (the default): the passkey is the first factor, TOTP follows
    step = await passkey_step(setup)
    mfa = await step.respond(authenticator.get(step.request_options, ORIGIN))
    assert isinstance(mfa, MfaCodeRequired) and mfa.kind == "TOTP"
    signed_in(await mfa.respond(setup.local.totp_code("alice")))

    # MULTI_FACTOR_WITH_USER_VERIFICATION: a user-verified passkey satisfies MFA ...
    await setup.web_authn_config(
        totp=True, UserVerification="preferred", FactorConfiguration="MULTI_FACTOR_WITH_USER_VERIFICATION"
    )
    step = await passkey_step(setup)
    signed_in(await step.respond(authenticator.get(step.request_options, ORIGIN)))

    # ... one without user verification does not
    authenticator.user_verified = False
    setup.local.advance_clock(30)  # the next TOTP step (each code is accepted once)
    step = await passkey_step(setup)
    mfa = await step.respond(authenticator.get(step.request_options, ORIGIN))
    assert isinstance(mfa, MfaCodeRequired) and mfa.kind == "TOTP"
    signed_in(await mfa.respond(setup.local.totp_code("alice")))
