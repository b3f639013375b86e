"""Federated sign-in through the local pool's managed login, with its stand-in identity provider pages.

A Google (social) and a SAML provider of the pool: the authorize request names the provider (or its
identifier, or the user follows the provider's button on the sign-in page), the stand-in page takes the
external user's subject and claims, and the pool makes or updates the federated user as Cognito does
(``google_<sub>``, mapped attributes, ``identities``, the automatic group, PreSignUp_ExternalProvider),
or signs in the native user the identity is linked to. The code goes through
:class:`aiocognito.oauth.ManagedLogin` with the pool's verifier, as a native sign-in's does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import aiocognito
from aiocognito.oauth import InvalidRequest, ManagedLogin
from aiocognito.testing import LocalUserPool, LoginPage, LoginPageError, LoginPages

DOMAIN = "fed-login"
CALLBACK = "http://localhost:8000/callback"
UNAVAILABLE = "Login option is not available. Please try another one"
METADATA = """<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com/saml">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
      Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""
EMAIL_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@dataclass
class Setup:
    local: LocalUserPool
    pool_id: str
    login: ManagedLogin
    verifier: aiocognito.TokenVerifier
    native_only: str
    events: list[dict[str, Any]] = field(default_factory=list)
    refuse: list[str] = field(default_factory=list)


@pytest.fixture(name="setup")
async def setup_fixture() -> AsyncIterator[Setup]:
    events: list[dict[str, Any]] = []
    refuse: list[str] = []

    def pre_sign_up(event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        if refuse:
            raise ValueError(refuse[0])
        return event

    def post_confirmation(event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        return event

    triggers = {"PreSignUp": pre_sign_up, "PostConfirmation": post_confirmation}
    async with LocalUserPool(triggers=triggers) as local:
        pool_id = await local.create_user_pool("federated")
        await local.call("CreateUserPoolDomain", UserPoolId=pool_id, Domain=DOMAIN)
        await local.call(
            "CreateIdentityProvider",
            UserPoolId=pool_id,
            ProviderName="Google",
            ProviderType="Google",
            ProviderDetails={
                "client_id": "g-id",
                "client_secret": "g-secret",
                "authorize_scopes": "openid email",
            },
            AttributeMapping={"email": "email", "name": "name"},
        )
        await local.call(
            "CreateIdentityProvider",
            UserPoolId=pool_id,
            ProviderName="CorpSAML",
            ProviderType="SAML",
            ProviderDetails={"MetadataFile": METADATA},
            AttributeMapping={"email": EMAIL_CLAIM},
            IdpIdentifiers=["corp.example.com"],
        )
        oauth: dict[str, Any] = {
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email", "profile"],
            "CallbackURLs": [CALLBACK],
        }
        app = await local.create_app_client(
            pool_id, "web", SupportedIdentityProviders=["COGNITO", "Google", "CorpSAML"], **oauth
        )
        native_only = await local.create_app_client(
            pool_id, "native", SupportedIdentityProviders=["COGNITO"], **oauth
        )
        verifier = aiocognito.TokenVerifier(
            pool_id, client_ids=app.client_id, issuer=local.issuer(pool_id), jwks_url=local.jwks_url(pool_id)
        )
        async with (
            verifier,
            ManagedLogin(
                local.domain_url(DOMAIN),
                app.client_id,
                redirect_uri=CALLBACK,
                scopes=["openid", "email", "profile"],
                verifier=verifier,
            ) as login,
        ):
            yield Setup(local, pool_id, login, verifier, native_only.client_id, events, refuse)


@pytest.fixture(name="pages")
async def pages_fixture() -> AsyncIterator[LoginPages]:
    async with LoginPages(timeout=5) as pages:
        yield pages


async def federated(
    setup: Setup, pages: LoginPages, subject: str, claims: dict[str, str], **start: str
) -> aiocognito.TokenSet:
    pending = setup.login.start(**start)
    callback = await pages.federated_sign_in(pending.url, subject, claims)
    assert set(query_of(callback)) == {"code", "state"}, callback
    return await setup.login.finish(pending, callback)


async def id_claims(setup: Setup, tokens: aiocognito.TokenSet) -> dict[str, Any]:
    return dict(await setup.verifier.verify(tokens.id_token, "id"))


async def test_google_first_sign_in_makes_the_federated_user(setup: Setup, pages: LoginPages) -> None:
    tokens = await federated(
        setup, pages, "117300206", {"email": "gina@example.com", "name": "Gina"}, identity_provider="Google"
    )
    # the stand-in page was the provider's: under the domain, titled for Google
    assert pages.page is not None and pages.page.url.startswith(setup.login.domain_url + "/_idp/Google?")
    assert "Stand-in for the identity provider Google" in pages.page.text
    claims = await id_claims(setup, tokens)
    assert claims["cognito:username"] == "google_117300206" and tokens.username == "google_117300206"
    assert (claims["email"], claims["name"]) == ("gina@example.com", "Gina")
    assert claims["cognito:groups"] == [f"{setup.pool_id}_Google"]
    [identity] = claims["identities"]
    assert identity["userId"] == "117300206" and identity["providerName"] == "Google"
    assert (identity["providerType"], identity["issuer"], identity["primary"]) == ("Google", None, "true")
    assert identity["dateCreated"].isdigit()
    access = await setup.verifier.verify(tokens.access_token)
    assert access["username"] == "google_117300206"
    user = await setup.local.call("AdminGetUser", UserPoolId=setup.pool_id, Username="google_117300206")
    assert user["UserStatus"] == "EXTERNAL_PROVIDER"
    groups = await setup.local.call("ListGroups", UserPoolId=setup.pool_id)
    assert [g["GroupName"] for g in groups["Groups"]] == [f"{setup.pool_id}_Google"]
    # the triggers of a new federated user, in Cognito's order
    assert [(e["triggerSource"], e["userName"]) for e in setup.events] == [
        ("PreSignUp_ExternalProvider", "google_117300206"),
        ("PostConfirmation_ConfirmSignUp", "google_117300206"),
    ]
    assert setup.events[0]["request"]["userAttributes"]["email"] == "gina@example.com"


async def test_a_later_sign_in_updates_the_mapped_attributes(setup: Setup, pages: LoginPages) -> None:
    await federated(
        setup, pages, "42", {"email": "old@example.com", "name": "Old"}, identity_provider="Google"
    )
    async with LoginPages(timeout=5) as other:
        tokens = await federated(
            setup, other, "42", {"email": "new@example.com", "name": "New"}, identity_provider="Google"
        )
    claims = await id_claims(setup, tokens)
    assert (claims["email"], claims["name"], claims["cognito:username"]) == (
        "new@example.com",
        "New",
        "google_42",
    )
    assert [e["triggerSource"] for e in setup.events].count("PreSignUp_ExternalProvider") == 1
    listed = await setup.local.call("ListUsers", UserPoolId=setup.pool_id)
    assert [u["Username"] for u in listed["Users"]] == ["google_42"]


async def test_pre_sign_up_can_refuse_the_federated_user(setup: Setup, pages: LoginPages) -> None:
    setup.refuse.append("Not from this provider")
    pending = setup.login.start(identity_provider="Google")
    callback = await pages.federated_sign_in(pending.url, "99", {"email": "x@example.com"})
    answer = query_of(callback)
    assert answer["error"] == "invalid_request" and answer["state"] == pending.state
    assert answer["error_description"] == "PreSignUp failed with error Not from this provider."
    assert [e["triggerSource"] for e in setup.events] == ["PreSignUp_ExternalProvider"]
    listed = await setup.local.call("ListUsers", UserPoolId=setup.pool_id)
    assert listed["Users"] == []
    with pytest.raises(InvalidRequest):
        await setup.login.finish(pending, callback)


async def test_saml_sign_in_by_identifier(setup: Setup, pages: LoginPages) -> None:
    tokens = await federated(
        setup,
        pages,
        "sam@corp.example.com",
        {EMAIL_CLAIM: "sam@corp.example.com"},
        idp_identifier="corp.example.com",
    )
    claims = await id_claims(setup, tokens)
    assert claims["cognito:username"] == "CorpSAML_sam@corp.example.com"  # a SAML name keeps its case
    assert claims["email"] == "sam@corp.example.com"
    assert claims["cognito:groups"] == [f"{setup.pool_id}_CorpSAML"]
    [identity] = claims["identities"]
    assert (identity["providerType"], identity["issuer"]) == ("SAML", "https://idp.example.com/saml")


async def test_the_sign_in_page_has_a_button_per_provider(setup: Setup, pages: LoginPages) -> None:
    page = await pages.open(setup.login.start().url)
    assert (
        isinstance(page, LoginPage)
        and {"idpButton_Google", "idpButton_CorpSAML", "signInFormUsername"} <= page.ids
    )
    pending = setup.login.start()
    callback = await pages.federated_sign_in(pending.url, "7", {"email": "b@example.com"}, provider="Google")
    assert (await setup.login.finish(pending, callback)).username == "google_7"


async def test_a_linked_identity_signs_in_as_the_native_user(setup: Setup, pages: LoginPages) -> None:
    await setup.local.create_user(
        setup.pool_id, "nina", "Passw0rd!-nina", attributes={"email": "nina@example.com"}
    )
    await setup.local.call(
        "AdminLinkProviderForUser",
        UserPoolId=setup.pool_id,
        DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "nina"},
        SourceUser={
            "ProviderName": "Google",
            "ProviderAttributeName": "Cognito_Subject",
            "ProviderAttributeValue": "555",
        },
    )
    setup.events.clear()  # AdminCreateUser's PreSignUp
    tokens = await federated(setup, pages, "555", {"email": "other@example.com"}, identity_provider="Google")
    claims = await id_claims(setup, tokens)
    assert claims["cognito:username"] == "nina" and claims["email"] == "nina@example.com"
    assert [(i["providerName"], i["userId"]) for i in claims["identities"]] == [("Google", "555")]
    assert setup.events == []  # no new user, no sign-up triggers
    listed = await setup.local.call("ListUsers", UserPoolId=setup.pool_id)
    assert [u["Username"] for u in listed["Users"]] == ["nina"]


async def test_providers_the_client_cannot_use_are_refused(setup: Setup, pages: LoginPages) -> None:
    for start in ({"identity_provider": "Facebook"}, {"idp_identifier": "nobody.example.com"}):
        pending = setup.login.start(**start)
        callback = await pages.open(pending.url)
        assert isinstance(callback, str) and callback.startswith(CALLBACK + "?"), start
        answer = query_of(callback)
        assert (answer["error"], answer["error_description"], answer["state"]) == (
            "invalid_request",
            UNAVAILABLE,
            pending.state,
        )
    native = ManagedLogin(setup.login.domain_url, setup.native_only, redirect_uri=CALLBACK)
    async with native:
        pending = native.start(identity_provider="Google")
        callback = await pages.open(pending.url)
        assert isinstance(callback, str) and query_of(callback)["error_description"] == UNAVAILABLE
        page = await pages.open(native.start().url)  # its sign-in page has no provider button
        assert isinstance(page, LoginPage) and not any(i.startswith("idpButton_") for i in page.ids)


async def test_the_stand_in_page_checks_its_form_and_state(setup: Setup, pages: LoginPages) -> None:
    pending = setup.login.start(identity_provider="Google")
    page = await pages.open(pending.url)
    assert isinstance(page, LoginPage) and {"idpSubject", "idpAttributes", "idpSubmitButton"} <= page.ids
    bad = await pages.submit(subject="1", attributes="[1, 2]")
    assert isinstance(bad, LoginPage) and bad.error == "the attributes must be a JSON object"
    bad = await pages.submit(subject="", attributes="{}")
    assert isinstance(bad, LoginPage) and bad.error == "The subject is required."
    callback = await pages.submit(subject="1", attributes='{"email": "one@example.com"}')
    assert isinstance(callback, str) and "code" in query_of(callback)
    # the provider's answer and the waiting login are single use
    stale = await pages.open(setup.login.domain_url + "/_idp/Google?state=unknown")
    assert isinstance(stale, LoginPage) and stale.error == "invalid_request"
    with pytest.raises(LoginPageError):
        await pages.federated_sign_in(setup.login.domain_url + "/oauth2/idpresponse?code=x&state=y", "1")
