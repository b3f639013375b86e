"""Scenarios over the wire: identity providers, resource servers, linked provider identities, the signing certificate."""

from __future__ import annotations

import base64
import datetime
import json

from cryptography import x509
from walk import Walker, walks

from aiocognito.testing import LocalUserPool

GOOGLE = {
    "client_id": "1example.apps.googleusercontent.com",
    "client_secret": "idp-secret",
    "authorize_scopes": "email openid",
}
OIDC = {
    "client_id": "oidc-client",
    "client_secret": "oidc-secret",
    "attributes_request_method": "GET",
    "oidc_issuer": "https://idp.example.com",
    "authorize_scopes": "openid email",
    "authorize_url": "https://idp.example.com/authorize",
    "token_url": "https://idp.example.com/token",
    "attributes_url": "https://idp.example.com/userinfo",
    "jwks_uri": "https://idp.example.com/jwks.json",
}
METADATA = """<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://saml.example.com/entity">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://saml.example.com/slo"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
        Location="https://saml.example.com/sso-post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://saml.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


async def _pool(w: Walker, name: str = "p") -> str:
    return str((await w.call("CreateUserPool", PoolName=name))["UserPool"]["Id"])


@walks(
    "CreateIdentityProvider",
    "DescribeIdentityProvider",
    "UpdateIdentityProvider",
    "ListIdentityProviders",
    "GetIdentityProviderByIdentifier",
    "DeleteIdentityProvider",
)
async def test_identity_providers() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await _pool(w)
        created = await w.call(
            "CreateIdentityProvider",
            UserPoolId=pool_id,
            ProviderName="Google",
            ProviderType="Google",
            ProviderDetails=GOOGLE,
            AttributeMapping={"email": "email"},
        )
        google = created["IdentityProvider"]
        details = google["ProviderDetails"]
        assert details["authorize_url"] == "https://accounts.google.com/o/oauth2/v2/auth"
        assert details["oidc_issuer"] == "https://accounts.google.com"
        assert details["client_secret"] == "idp-secret"
        assert google["AttributeMapping"] == {"email": "email", "username": "sub"}
        assert google["IdpIdentifiers"] == []
        described = await w.call("DescribeIdentityProvider", UserPoolId=pool_id, ProviderName="Google")
        assert described["IdentityProvider"] == google

        await w.refused(
            "DuplicateProviderException",
            "CreateIdentityProvider",
            UserPoolId=pool_id,
            ProviderName="Google",
            ProviderType="Google",
            ProviderDetails=GOOGLE,
        )
        wrong = await w.refused(
            "InvalidParameterException",
            "CreateIdentityProvider",
            UserPoolId=pool_id,
            ProviderName="MyGoogle",
            ProviderType="Google",
            ProviderDetails=GOOGLE,
        )
        assert wrong.message == "Provider MyGoogle cannot be of type Google."
        await w.refused(  # a social provider's details are checked
            "InvalidParameterException",
            "CreateIdentityProvider",
            UserPoolId=pool_id,
            ProviderName="Facebook",
            ProviderType="Facebook",
            ProviderDetails={"client_id": "x", "authorize_scopes": "email"},
        )
        await w.refused(  # only OIDC takes AcrMapping
            "InvalidParameterException",
            "CreateIdentityProvider",
            UserPoolId=pool_id,
            ProviderName="Facebook",
            ProviderType="Facebook",
            ProviderDetails={**GOOGLE, "api_version": "v17.0"},
            AcrMapping={"Level1": "basic"},
        )
        await w.refused(  # mapped attributes must exist in the pool
            "InvalidParameterException",
            "CreateIdentityProvider",
            UserPoolId=pool_id,
            ProviderName="Corp",
            ProviderType="OIDC",
            ProviderDetails=OIDC,
            AttributeMapping={"custom:nope": "x"},
        )

        oidc = await w.call(
            "CreateIdentityProvider",
            UserPoolId=pool_id,
            ProviderName="Corp",
            ProviderType="OIDC",
            ProviderDetails=OIDC,
            IdpIdentifiers=["corp", "example.com"],
            AcrMapping={"Level1": "basic"},
        )
        assert oidc["IdentityProvider"]["ProviderDetails"]["attributes_url_add_attributes"] == "false"
        assert oidc["IdentityProvider"]["AcrMapping"] == {"Level1": "basic"}
        by_identifier = await w.call(
            "GetIdentityProviderByIdentifier", UserPoolId=pool_id, IdpIdentifier="example.com"
        )
        assert by_identifier["IdentityProvider"]["ProviderName"] == "Corp"
        await w.refused(
            "ResourceNotFoundException",
            "GetIdentityProviderByIdentifier",
            UserPoolId=pool_id,
            IdpIdentifier="other",
        )

        saml_details = {"MetadataFile": METADATA, "IDPSignout": "true", "EncryptedResponses": "true"}
        await w.refused(  # identifiers are unique in the pool
            "DuplicateProviderException",
            "CreateIdentityProvider",
            UserPoolId=pool_id,
            ProviderName="Saml",
            ProviderType="SAML",
            ProviderDetails=saml_details,
            IdpIdentifiers=["corp"],
        )
        await w.refused(
            "InvalidParameterException",
            "CreateIdentityProvider",
            UserPoolId=pool_id,
            ProviderName="Saml",
            ProviderType="SAML",
            ProviderDetails={"MetadataFile": "<not-metadata/>"},
        )
        saml = (
            await w.call(
                "CreateIdentityProvider",
                UserPoolId=pool_id,
                ProviderName="Saml",
                ProviderType="SAML",
                ProviderDetails=saml_details,
            )
        )["IdentityProvider"]["ProviderDetails"]
        assert saml["SSORedirectBindingURI"] == "https://saml.example.com/sso"
        assert saml["SLORedirectBindingURI"] == "https://saml.example.com/slo"
        assert x509.load_der_x509_certificate(base64.b64decode(saml["ActiveEncryptionCertificate"]))
        by_url = await w.call(
            "CreateIdentityProvider",
            UserPoolId=pool_id,
            ProviderName="SamlUrl",
            ProviderType="SAML",
            ProviderDetails={"MetadataURL": "https://saml.example.com/metadata"},
        )
        assert by_url["IdentityProvider"]["ProviderDetails"] == {
            "MetadataURL": "https://saml.example.com/metadata"
        }

        updated = await w.call(
            "UpdateIdentityProvider",
            UserPoolId=pool_id,
            ProviderName="Corp",
            AttributeMapping={"email": "mail"},
            IdpIdentifiers=["corp2"],
        )
        provider = updated["IdentityProvider"]
        assert provider["AttributeMapping"] == {"email": "mail", "username": "sub"}
        assert provider["IdpIdentifiers"] == ["corp2"]
        assert provider["ProviderDetails"]["client_id"] == "oidc-client"
        described = await w.call("DescribeIdentityProvider", UserPoolId=pool_id, ProviderName="Corp")
        assert described["IdentityProvider"] == provider
        await w.refused(
            "ResourceNotFoundException",
            "GetIdentityProviderByIdentifier",
            UserPoolId=pool_id,
            IdpIdentifier="corp",
        )

        first = await w.call("ListIdentityProviders", UserPoolId=pool_id, MaxResults=2)
        assert [p["ProviderName"] for p in first["Providers"]] == ["Google", "Corp"]
        rest = await w.call(
            "ListIdentityProviders", UserPoolId=pool_id, MaxResults=2, NextToken=first["NextToken"]
        )
        assert [p["ProviderName"] for p in rest["Providers"]] == ["Saml", "SamlUrl"]
        assert "NextToken" not in rest

        # deleting a provider takes it out of the app clients that name it
        client = await w.call(
            "CreateUserPoolClient",
            UserPoolId=pool_id,
            ClientName="web",
            SupportedIdentityProviders=["COGNITO", "Google"],
        )
        client_id = client["UserPoolClient"]["ClientId"]
        await w.call("DeleteIdentityProvider", UserPoolId=pool_id, ProviderName="Google")
        await w.refused(
            "ResourceNotFoundException", "DescribeIdentityProvider", UserPoolId=pool_id, ProviderName="Google"
        )
        after = await w.call("DescribeUserPoolClient", UserPoolId=pool_id, ClientId=client_id)
        assert after["UserPoolClient"]["SupportedIdentityProviders"] == ["COGNITO"]
        listed = await w.call("ListIdentityProviders", UserPoolId=pool_id)
        assert [p["ProviderName"] for p in listed["Providers"]] == ["Corp", "Saml", "SamlUrl"]
        w.check_walked(test_identity_providers)


@walks(
    "CreateResourceServer",
    "DescribeResourceServer",
    "UpdateResourceServer",
    "ListResourceServers",
    "DeleteResourceServer",
)
async def test_resource_servers() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await _pool(w)
        scopes = [
            {"ScopeName": "read", "ScopeDescription": "Read"},
            {"ScopeName": "write", "ScopeDescription": "Write"},
        ]
        created = await w.call(
            "CreateResourceServer",
            UserPoolId=pool_id,
            Identifier="https://api.example.com",
            Name="api",
            Scopes=scopes,
        )
        assert created["ResourceServer"] == {
            "UserPoolId": pool_id,
            "Identifier": "https://api.example.com",
            "Name": "api",
            "Scopes": scopes,
        }
        described = await w.call(
            "DescribeResourceServer", UserPoolId=pool_id, Identifier="https://api.example.com"
        )
        assert described == created
        await w.refused(
            "InvalidParameterException",
            "CreateResourceServer",
            UserPoolId=pool_id,
            Identifier="https://api.example.com",
            Name="again",
        )
        await w.refused(
            "InvalidParameterException",
            "CreateResourceServer",
            UserPoolId=pool_id,
            Identifier="dup",
            Name="dup",
            Scopes=[scopes[0], scopes[0]],
        )
        # an app client may use the custom scopes
        await w.call(
            "CreateUserPoolClient",
            UserPoolId=pool_id,
            ClientName="m2m",
            GenerateSecret=True,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthScopes=["https://api.example.com/read"],
        )

        updated = await w.call(
            "UpdateResourceServer",
            UserPoolId=pool_id,
            Identifier="https://api.example.com",
            Name="api2",
            Scopes=[{"ScopeName": "admin", "ScopeDescription": "Admin"}],
        )
        assert updated["ResourceServer"]["Name"] == "api2"
        assert updated["ResourceServer"]["Scopes"] == [{"ScopeName": "admin", "ScopeDescription": "Admin"}]
        described = await w.call(
            "DescribeResourceServer", UserPoolId=pool_id, Identifier="https://api.example.com"
        )
        assert described == updated
        emptied = await w.call(
            "UpdateResourceServer", UserPoolId=pool_id, Identifier="https://api.example.com", Name="api3"
        )
        assert emptied["ResourceServer"]["Scopes"] == []

        for index in range(24):
            await w.call(
                "CreateResourceServer", UserPoolId=pool_id, Identifier=f"server-{index:02d}", Name="s"
            )
        await w.refused(
            "LimitExceededException",
            "CreateResourceServer",
            UserPoolId=pool_id,
            Identifier="one-more",
            Name="s",
        )
        first = await w.call("ListResourceServers", UserPoolId=pool_id, MaxResults=20)
        rest = await w.call(
            "ListResourceServers", UserPoolId=pool_id, MaxResults=20, NextToken=first["NextToken"]
        )
        identifiers = [s["Identifier"] for s in first["ResourceServers"] + rest["ResourceServers"]]
        assert len(identifiers) == 25 and "https://api.example.com" in identifiers

        await w.call("DeleteResourceServer", UserPoolId=pool_id, Identifier="https://api.example.com")
        await w.refused(
            "ResourceNotFoundException",
            "DescribeResourceServer",
            UserPoolId=pool_id,
            Identifier="https://api.example.com",
        )
        await w.refused(
            "ResourceNotFoundException",
            "DeleteResourceServer",
            UserPoolId=pool_id,
            Identifier="https://api.example.com",
        )
        listed = await w.call("ListResourceServers", UserPoolId=pool_id, MaxResults=50)
        assert len(listed["ResourceServers"]) == 24
        w.check_walked(test_resource_servers)


def _identities(answer: dict[str, object]) -> list[dict[str, object]]:
    attributes = {a["Name"]: a["Value"] for a in answer["UserAttributes"]}  # type: ignore[attr-defined]
    return list(json.loads(attributes["identities"])) if "identities" in attributes else []


@walks("AdminLinkProviderForUser", "AdminDisableProviderForUser", "AdminGetUser")
async def test_linked_identities() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await _pool(w)
        await w.call(
            "CreateIdentityProvider",
            UserPoolId=pool_id,
            ProviderName="Google",
            ProviderType="Google",
            ProviderDetails=GOOGLE,
        )
        await w.call(
            "CreateIdentityProvider",
            UserPoolId=pool_id,
            ProviderName="Corp",
            ProviderType="OIDC",
            ProviderDetails=OIDC,
            AttributeMapping={"email": "email"},
        )
        await w.call("AdminCreateUser", UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS")
        await w.call("AdminCreateUser", UserPoolId=pool_id, Username="bob", MessageAction="SUPPRESS")
        alice = {"ProviderName": "Cognito", "ProviderAttributeValue": "alice"}

        await w.call(
            "AdminLinkProviderForUser",
            UserPoolId=pool_id,
            DestinationUser=alice,
            SourceUser={
                "ProviderName": "Google",
                "ProviderAttributeName": "Cognito_Subject",
                "ProviderAttributeValue": "g-1",
            },
        )
        await w.call(
            "AdminLinkProviderForUser",
            UserPoolId=pool_id,
            DestinationUser=alice,
            SourceUser={
                "ProviderName": "Corp",
                "ProviderAttributeName": "email",
                "ProviderAttributeValue": "a@example.com",
            },
        )
        identities = _identities(await w.call("AdminGetUser", UserPoolId=pool_id, Username="alice"))
        assert [(i["providerName"], i["userId"], i["issuer"]) for i in identities] == [
            ("Google", "g-1", None),
            ("Corp", "a@example.com", "https://idp.example.com"),
        ]
        assert all(i["primary"] is False and isinstance(i["dateCreated"], int) for i in identities)
        assert identities[0]["providerType"] == "Google"

        google_source = {
            "ProviderName": "Google",
            "ProviderAttributeName": "Cognito_Subject",
            "ProviderAttributeValue": "g-1",
        }
        bob = {"ProviderName": "Cognito", "ProviderAttributeValue": "bob"}
        await w.refused(  # an identity links to one user only
            "InvalidParameterException",
            "AdminLinkProviderForUser",
            UserPoolId=pool_id,
            DestinationUser=bob,
            SourceUser=google_source,
        )
        native = await w.refused(
            "InvalidParameterException",
            "AdminLinkProviderForUser",
            UserPoolId=pool_id,
            DestinationUser=bob,
            SourceUser={
                "ProviderName": "Cognito",
                "ProviderAttributeName": "Cognito_Subject",
                "ProviderAttributeValue": "alice",
            },
        )
        assert native.message.startswith("Invalid SourceUser: Cognito users")
        await w.refused(  # social providers link by Cognito_Subject
            "InvalidParameterException",
            "AdminLinkProviderForUser",
            UserPoolId=pool_id,
            DestinationUser=bob,
            SourceUser={
                "ProviderName": "Google",
                "ProviderAttributeName": "email",
                "ProviderAttributeValue": "x",
            },
        )
        await w.refused(
            "InvalidParameterException",
            "AdminLinkProviderForUser",
            UserPoolId=pool_id,
            DestinationUser=bob,
            SourceUser={
                "ProviderName": "Nope",
                "ProviderAttributeName": "Cognito_Subject",
                "ProviderAttributeValue": "x",
            },
        )
        await w.refused(
            "UserNotFoundException",
            "AdminLinkProviderForUser",
            UserPoolId=pool_id,
            DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "nobody"},
            SourceUser={**google_source, "ProviderAttributeValue": "g-9"},
        )
        for index in range(2, 5):
            await w.call(
                "AdminLinkProviderForUser",
                UserPoolId=pool_id,
                DestinationUser=alice,
                SourceUser={**google_source, "ProviderAttributeValue": f"g-{index}"},
            )
        await w.refused(  # five linked identities at most
            "LimitExceededException",
            "AdminLinkProviderForUser",
            UserPoolId=pool_id,
            DestinationUser=alice,
            SourceUser={**google_source, "ProviderAttributeValue": "g-5"},
        )

        await w.call("AdminDisableProviderForUser", UserPoolId=pool_id, User=google_source)
        identities = _identities(await w.call("AdminGetUser", UserPoolId=pool_id, Username="alice"))
        assert [i["userId"] for i in identities] == ["a@example.com", "g-2", "g-3", "g-4"]
        await w.refused(
            "UserNotFoundException", "AdminDisableProviderForUser", UserPoolId=pool_id, User=google_source
        )
        # the unlinked identity can be linked again, to another user
        await w.call(
            "AdminLinkProviderForUser", UserPoolId=pool_id, DestinationUser=bob, SourceUser=google_source
        )
        assert [
            i["userId"] for i in _identities(await w.call("AdminGetUser", UserPoolId=pool_id, Username="bob"))
        ] == ["g-1"]
        w.check_walked(test_linked_identities)


@walks("AdminDisableProviderForUser", "AdminInitiateAuth", "AdminSetUserPassword")
async def test_disable_native_password_sign_in() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await _pool(w)
        client = await w.call(
            "CreateUserPoolClient",
            UserPoolId=pool_id,
            ClientName="app",
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"],
        )
        client_id = client["UserPoolClient"]["ClientId"]
        await w.call("AdminCreateUser", UserPoolId=pool_id, Username="carol", MessageAction="SUPPRESS")
        await w.call(
            "AdminSetUserPassword", UserPoolId=pool_id, Username="carol", Password="Passw0rd!", Permanent=True
        )
        auth = {"USERNAME": "carol", "PASSWORD": "Passw0rd!"}
        signed_in = await w.call(
            "AdminInitiateAuth",
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters=auth,
        )
        assert "AuthenticationResult" in signed_in
        await w.refused(
            "InvalidParameterException",
            "AdminDisableProviderForUser",
            UserPoolId=pool_id,
            User={
                "ProviderName": "Cognito",
                "ProviderAttributeName": "email",
                "ProviderAttributeValue": "carol",
            },
        )
        await w.call(
            "AdminDisableProviderForUser",
            UserPoolId=pool_id,
            User={
                "ProviderName": "Cognito",
                "ProviderAttributeName": "Cognito_Subject",
                "ProviderAttributeValue": "carol",
            },
        )
        await w.refused(
            "NotAuthorizedException",
            "AdminInitiateAuth",
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters=auth,
        )
        w.check_walked(test_disable_native_password_sign_in)


@walks("GetSigningCertificate")
async def test_signing_certificate() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await _pool(w)
        first = (await w.call("GetSigningCertificate", UserPoolId=pool_id))["Certificate"]
        assert (await w.call("GetSigningCertificate", UserPoolId=pool_id))["Certificate"] == first
        certificate = x509.load_der_x509_certificate(base64.b64decode(first))
        lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
        assert lifetime == datetime.timedelta(days=3650)
        assert pool_id in certificate.subject.rfc4514_string()
        other = await _pool(w, "other")
        assert (await w.call("GetSigningCertificate", UserPoolId=other))["Certificate"] != first
        await w.refused("ResourceNotFoundException", "GetSigningCertificate", UserPoolId="us-east-1_missing0")
        w.check_walked(test_signing_certificate)
