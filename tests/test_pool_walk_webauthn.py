"""Passkeys over the wire: registration verified with py_webauthn against a software authenticator's
real attestation, listing, deletion and Cognito's refusals."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from walk import Walker, walks

from aiocognito.testing import LocalUserPool
from aiocognito.testing._authenticator import SoftwareAuthenticator, b64url, unb64url

PASSWORD = "Passw0rd!long"
RP_ID = "auth.example.com"
ORIGIN = f"https://{RP_ID}"


async def passkey_pool(
    w: Walker, *, rp_id: str | None = RP_ID, verification: str = "required", first_factor: bool = True
) -> str:
    factors = ["PASSWORD", "WEB_AUTHN"] if first_factor else ["PASSWORD"]
    created = await w.call(
        "CreateUserPool", PoolName="passkeys", Policies={"SignInPolicy": {"AllowedFirstAuthFactors": factors}}
    )
    pool_id = str(created["UserPool"]["Id"])
    config: dict[str, Any] = {"UserVerification": verification}
    if rp_id is not None:
        config["RelyingPartyId"] = rp_id
    await w.call("SetUserPoolMfaConfig", UserPoolId=pool_id, WebAuthnConfiguration=config)
    return pool_id


async def sign_in(w: Walker, local: LocalUserPool, pool_id: str, username: str = "alice") -> tuple[str, str]:
    """A new user signed in through a new app client: (access token, client id)."""
    app = await local.create_app_client(pool_id, f"app-{username}", flows=("ALLOW_USER_PASSWORD_AUTH",))
    if username not in {u["Username"] for u in (await w.call("ListUsers", UserPoolId=pool_id))["Users"]}:
        await local.create_user(pool_id, username, PASSWORD)
    started = await w.call(
        "InitiateAuth",
        AuthFlow="USER_PASSWORD_AUTH",
        ClientId=app.client_id,
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    return str(started["AuthenticationResult"]["AccessToken"]), app.client_id


async def register(w: Walker, token: str, authenticator: SoftwareAuthenticator, origin: str = ORIGIN) -> str:
    options = (await w.call("StartWebAuthnRegistration", AccessToken=token))["CredentialCreationOptions"]
    credential = authenticator.create(options, origin)
    await w.call("CompleteWebAuthnRegistration", AccessToken=token, Credential=credential)
    return str(credential["id"])


@walks(
    "StartWebAuthnRegistration",
    "CompleteWebAuthnRegistration",
    "ListWebAuthnCredentials",
    "DeleteWebAuthnCredential",
)
async def test_passkey_is_registered_listed_and_deleted() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await passkey_pool(w)
        token, _client = await sign_in(w, local, pool_id)
        sub = (await w.call("AdminGetUser", UserPoolId=pool_id, Username="alice"))["UserAttributes"][0][
            "Value"
        ]

        options = (await w.call("StartWebAuthnRegistration", AccessToken=token))["CredentialCreationOptions"]
        assert options["rp"] == {"id": RP_ID, "name": "passkeys"}
        assert options["user"] == {"id": b64url(sub.encode()), "name": "alice", "displayName": "alice"}
        assert len(unb64url(options["challenge"])) == 32 and options["excludeCredentials"] == []
        assert {p["alg"] for p in options["pubKeyCredParams"]} == {-7, -257}
        assert options["authenticatorSelection"]["userVerification"] == "required"
        assert options["authenticatorSelection"]["residentKey"] == "required"

        authenticator = SoftwareAuthenticator()
        credential = authenticator.create(options, ORIGIN)
        assert await w.call("CompleteWebAuthnRegistration", AccessToken=token, Credential=credential) == {}

        listed = (await w.call("ListWebAuthnCredentials", AccessToken=token))["Credentials"]
        assert [c["CredentialId"] for c in listed] == [credential["id"]]
        assert listed[0]["RelyingPartyId"] == RP_ID and listed[0]["AuthenticatorAttachment"] == "platform"
        assert listed[0]["AuthenticatorTransports"] == ["internal"] and listed[0]["FriendlyCredentialName"]
        assert abs(listed[0]["CreatedAt"] - local.now()) < 5

        # the next registration excludes the passkey the user has
        again = (await w.call("StartWebAuthnRegistration", AccessToken=token))["CredentialCreationOptions"]
        assert again["excludeCredentials"] == [
            {"type": "public-key", "id": credential["id"], "transports": ["internal"]}
        ]
        assert again["challenge"] != options["challenge"]
        # the used challenge is gone: presenting the same response again finds none
        await w.refused(
            "WebAuthnChallengeNotFoundException",
            "CompleteWebAuthnRegistration",
            AccessToken=token,
            Credential=credential,
        )
        # one credential id is registered once
        duplicate = authenticator.create(again, ORIGIN, reuse=authenticator.credentials[0])
        await w.refused(
            "InvalidParameterException",
            "CompleteWebAuthnRegistration",
            AccessToken=token,
            Credential=duplicate,
        )

        await w.call("DeleteWebAuthnCredential", AccessToken=token, CredentialId=credential["id"])
        assert (await w.call("ListWebAuthnCredentials", AccessToken=token))["Credentials"] == []
        await w.refused(
            "ResourceNotFoundException",
            "DeleteWebAuthnCredential",
            AccessToken=token,
            CredentialId=credential["id"],
        )

        # another user's passkeys are theirs alone
        bob_token, _ = await sign_in(w, local, pool_id, "bob")
        bob_credential = await register(w, bob_token, SoftwareAuthenticator())
        assert (await w.call("ListWebAuthnCredentials", AccessToken=token))["Credentials"] == []
        await w.refused(
            "ResourceNotFoundException",
            "DeleteWebAuthnCredential",
            AccessToken=token,
            CredentialId=bob_credential,
        )
        w.check_walked(test_passkey_is_registered_listed_and_deleted)


@walks("StartWebAuthnRegistration", "CompleteWebAuthnRegistration")
async def test_registration_refusals() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await passkey_pool(w)
        token, _client = await sign_in(w, local, pool_id)
        authenticator = SoftwareAuthenticator()

        async def refused(code: str, credential: dict[str, Any], access_token: str = token) -> None:
            await w.refused(
                code, "CompleteWebAuthnRegistration", AccessToken=access_token, Credential=credential
            )

        await refused("WebAuthnChallengeNotFoundException", {"id": "x"})  # nothing started
        options = (await w.call("StartWebAuthnRegistration", AccessToken=token))["CredentialCreationOptions"]
        await refused(
            "WebAuthnChallengeNotFoundException",
            authenticator.create(options, ORIGIN, challenge=b64url(b"\x01" * 32)),
        )
        await refused(
            "WebAuthnOriginNotAllowedException", authenticator.create(options, "https://evil.example")
        )
        await refused("WebAuthnOriginNotAllowedException", authenticator.create(options, f"http://{RP_ID}"))
        await refused(
            "WebAuthnOriginNotAllowedException", authenticator.create(options, "https://example.com")
        )
        await refused(
            "WebAuthnRelyingPartyMismatchException",
            authenticator.create(options, ORIGIN, rp_id="example.com"),
        )
        await refused(
            "WebAuthnCredentialNotSupportedException",
            SoftwareAuthenticator(user_verified=False).create(options, ORIGIN),
        )
        await refused("InvalidParameterException", {"id": "not-a-credential"})
        # the access token of another app client, same user
        other_token, _other = await sign_in(w, local, pool_id)
        await refused("WebAuthnClientMismatchException", authenticator.create(options, ORIGIN), other_token)
        # a subdomain of the relying party is an allowed origin
        await w.call(
            "CompleteWebAuthnRegistration",
            AccessToken=token,
            Credential=authenticator.create(options, f"https://app.{RP_ID}:8443"),
        )

        # the challenge expires with the options' timeout
        options = (await w.call("StartWebAuthnRegistration", AccessToken=token))["CredentialCreationOptions"]
        local.advance_clock(options["timeout"] / 1000)
        await refused("WebAuthnChallengeNotFoundException", authenticator.create(options, ORIGIN))
        w.check_walked(test_registration_refusals)


@walks("StartWebAuthnRegistration")
async def test_passkeys_need_the_feature_and_a_relying_party() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        off = await passkey_pool(w, first_factor=False)
        token, _ = await sign_in(w, local, off)
        await w.refused("WebAuthnNotEnabledException", "StartWebAuthnRegistration", AccessToken=token)

        no_rp = await passkey_pool(w, rp_id=None, verification="preferred")
        token, _ = await sign_in(w, local, no_rp)
        await w.refused(
            "WebAuthnConfigurationMissingException", "StartWebAuthnRegistration", AccessToken=token
        )
        # a domain gives the pool a relying party
        await w.call("CreateUserPoolDomain", UserPoolId=no_rp, Domain="passkeys-test")
        options = (await w.call("StartWebAuthnRegistration", AccessToken=token))["CredentialCreationOptions"]
        assert options["rp"]["id"] == "passkeys-test.auth.us-east-1.amazoncognito.com"
        assert options["authenticatorSelection"]["userVerification"] == "preferred"

        # passkeys as MFA are passkeys enabled too
        await w.call(
            "SetUserPoolMfaConfig",
            UserPoolId=off,
            WebAuthnConfiguration={
                "RelyingPartyId": RP_ID,
                "FactorConfiguration": "MULTI_FACTOR_WITH_USER_VERIFICATION",
            },
        )
        token, _ = await sign_in(w, local, off, "bob")
        await w.call("StartWebAuthnRegistration", AccessToken=token)

        await w.refused("NotAuthorizedException", "StartWebAuthnRegistration", AccessToken="not.a.token")
        w.check_walked(test_passkeys_need_the_feature_and_a_relying_party)


@walks("StartWebAuthnRegistration", "CompleteWebAuthnRegistration", "ListWebAuthnCredentials")
async def test_twenty_passkeys_at_most_and_pages() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await passkey_pool(w)
        token, _client = await sign_in(w, local, pool_id)
        authenticator = SoftwareAuthenticator()
        registered = []
        for _ in range(20):
            registered.append(await register(w, token, authenticator))
            local.advance_clock(1)
        await w.refused("LimitExceededException", "StartWebAuthnRegistration", AccessToken=token)

        seen: list[str] = []
        params: dict[str, Any] = {"AccessToken": token, "MaxResults": 7}
        while True:
            answer = await w.call("ListWebAuthnCredentials", **params)
            assert len(answer["Credentials"]) <= 7
            seen += [c["CredentialId"] for c in answer["Credentials"]]
            if "NextToken" not in answer:
                break
            params["NextToken"] = answer["NextToken"]
        assert seen == registered  # in registration order
        assert len((await w.call("ListWebAuthnCredentials", AccessToken=token))["Credentials"]) == 20
        w.check_walked(test_twenty_passkeys_at_most_and_pages)


def test_software_authenticator_signs_assertions_py_webauthn_accepts() -> None:
    """The helper's get() (for passkey sign-in later) makes assertions a relying party verifies."""
    import webauthn

    authenticator = SoftwareAuthenticator()
    challenge = b"c" * 32
    options = {"rp": {"id": RP_ID}, "user": {"id": b64url(b"user-1")}, "challenge": b64url(challenge)}
    registration = webauthn.verify_registration_response(
        credential=authenticator.create(options, ORIGIN),
        expected_challenge=challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        require_user_verification=True,
    )
    for count in (1, 2):
        request = {
            "challenge": b64url(b"g" * 32),
            "rpId": RP_ID,
            "allowCredentials": [{"id": b64url(registration.credential_id)}],
        }
        assertion = authenticator.get(request, ORIGIN)
        assert base64.urlsafe_b64decode(assertion["response"]["userHandle"] + "==") == b"user-1"
        verified = webauthn.verify_authentication_response(
            credential=assertion,
            expected_challenge=b"g" * 32,
            expected_rp_id=RP_ID,
            expected_origin=ORIGIN,
            credential_public_key=registration.credential_public_key,
            credential_current_sign_count=count - 1,
            require_user_verification=True,
        )
        assert verified.new_sign_count == count
    with pytest.raises(LookupError):
        authenticator.get({"challenge": "x", "rpId": "other.example"}, ORIGIN)
