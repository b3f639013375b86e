"""Scenarios over the wire: user pool domains, managed login branding styles, hosted UI (classic) customization."""

from __future__ import annotations

import base64

from walk import Walker, walks

from aiocognito.testing import LocalUserPool

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32).decode()
CSS = ".label-customizable { font-weight: 400; }\n.submitButton-customizable:hover { color: #fff; }"


async def _pool(w: Walker, name: str = "p", **extra: object) -> str:
    return str((await w.call("CreateUserPool", PoolName=name, **extra))["UserPool"]["Id"])


@walks(
    "CreateUserPoolDomain",
    "DescribeUserPoolDomain",
    "UpdateUserPoolDomain",
    "DeleteUserPoolDomain",
    "DescribeUserPool",
    "DeleteUserPool",
)
async def test_prefix_domain() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await _pool(w)
        other_id = await _pool(w, "other")
        assert await w.call("CreateUserPoolDomain", UserPoolId=pool_id, Domain="my-login") == {
            "ManagedLoginVersion": 1
        }
        described = (await w.call("DescribeUserPoolDomain", Domain="my-login"))["DomainDescription"]
        assert described["UserPoolId"] == pool_id
        assert described["Domain"] == "my-login"
        assert described["Status"] == "ACTIVE"
        assert described["ManagedLoginVersion"] == 1
        assert described["S3Bucket"] == "aws-cognito-prod-iad-assets"
        assert described["CloudFrontDistribution"].endswith(".cloudfront.net")
        assert len(described["AWSAccountId"]) == 12 and described["AWSAccountId"].isdigit()
        assert "CustomDomainConfig" not in described
        pool = (await w.call("DescribeUserPool", UserPoolId=pool_id))["UserPool"]
        assert pool["Domain"] == "my-login"

        taken = await w.refused(
            "InvalidParameterException", "CreateUserPoolDomain", UserPoolId=other_id, Domain="my-login"
        )
        assert taken.message == "Domain already associated with another user pool."
        reserved = await w.refused(
            "InvalidParameterException",
            "CreateUserPoolDomain",
            UserPoolId=other_id,
            Domain="my-cognito-login",
        )
        assert reserved.message == "Domain cannot contain reserved word: cognito"
        await w.refused(
            "InvalidParameterException", "CreateUserPoolDomain", UserPoolId=pool_id, Domain="second-login"
        )
        await w.refused(
            "InvalidParameterException",
            "CreateUserPoolDomain",
            UserPoolId=other_id,
            Domain="v3",
            ManagedLoginVersion=3,
        )
        await w.refused(
            "ResourceNotFoundException", "CreateUserPoolDomain", UserPoolId="us-east-1_missing0", Domain="x1"
        )

        assert await w.call(
            "UpdateUserPoolDomain", UserPoolId=pool_id, Domain="my-login", ManagedLoginVersion=2
        ) == {"ManagedLoginVersion": 2}
        described = (await w.call("DescribeUserPoolDomain", Domain="my-login"))["DomainDescription"]
        assert described["ManagedLoginVersion"] == 2
        await w.refused(  # a prefix domain has no certificate
            "InvalidParameterException",
            "UpdateUserPoolDomain",
            UserPoolId=pool_id,
            Domain="my-login",
            CustomDomainConfig={"CertificateArn": CERTIFICATE},
        )
        await w.refused(
            "InvalidParameterException", "UpdateUserPoolDomain", UserPoolId=other_id, Domain="my-login"
        )

        lite = await _pool(w, "lite", UserPoolTier="LITE")
        await w.refused(
            "FeatureUnavailableInTierException",
            "CreateUserPoolDomain",
            UserPoolId=lite,
            Domain="lite-login",
            ManagedLoginVersion=2,
        )

        deleted = await w.refused("InvalidParameterException", "DeleteUserPool", UserPoolId=pool_id)
        assert "domain" in deleted.message
        await w.refused(
            "InvalidParameterException", "DeleteUserPoolDomain", UserPoolId=other_id, Domain="my-login"
        )
        assert await w.call("DeleteUserPoolDomain", UserPoolId=pool_id, Domain="my-login") == {}
        assert await w.call("DescribeUserPoolDomain", Domain="my-login") == {"DomainDescription": {}}
        await w.refused(
            "InvalidParameterException", "DeleteUserPoolDomain", UserPoolId=pool_id, Domain="my-login"
        )
        # the prefix is free again
        await w.call("CreateUserPoolDomain", UserPoolId=other_id, Domain="my-login")
        assert (await w.call("DescribeUserPoolDomain", Domain="my-login"))["DomainDescription"][
            "UserPoolId"
        ] == other_id
        await w.call("DeleteUserPool", UserPoolId=pool_id)
        w.check_walked(test_prefix_domain)


@walks("CreateUserPoolDomain", "DescribeUserPoolDomain", "UpdateUserPoolDomain", "DeleteUserPoolDomain")
async def test_custom_domain() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await _pool(w)
        config = {"CertificateArn": CERTIFICATE}
        created = await w.call(
            "CreateUserPoolDomain", UserPoolId=pool_id, Domain="auth.example.com", CustomDomainConfig=config
        )
        assert created["ManagedLoginVersion"] == 1
        assert created["CloudFrontDomain"].endswith(".cloudfront.net")
        described = (await w.call("DescribeUserPoolDomain", Domain="auth.example.com"))["DomainDescription"]
        assert described["CustomDomainConfig"] == config
        assert described["CloudFrontDistribution"] == created["CloudFrontDomain"]
        # a pool has one prefix domain beside its custom domain, not two custom domains
        await w.call("CreateUserPoolDomain", UserPoolId=pool_id, Domain="my-prefix")
        await w.refused(
            "InvalidParameterException",
            "CreateUserPoolDomain",
            UserPoolId=pool_id,
            Domain="login.example.com",
            CustomDomainConfig=config,
        )
        other = await _pool(w, "other")
        await w.refused(
            "InvalidParameterException",
            "CreateUserPoolDomain",
            UserPoolId=other,
            Domain="auth.example.com",
            CustomDomainConfig=config,
        )
        wrong_region = {"CertificateArn": CERTIFICATE.replace("us-east-1", "eu-west-1")}
        await w.refused(
            "InvalidParameterException",
            "CreateUserPoolDomain",
            UserPoolId=other,
            Domain="login.example.com",
            CustomDomainConfig=wrong_region,
        )
        new_certificate = {
            "CertificateArn": CERTIFICATE.replace("0a1b2c3d", "9f8e7d6c"),
            "SecurityPolicy": "TLS_V1_2_2021",
        }
        updated = await w.call(
            "UpdateUserPoolDomain",
            UserPoolId=pool_id,
            Domain="auth.example.com",
            CustomDomainConfig=new_certificate,
        )
        assert updated["CloudFrontDomain"] == created["CloudFrontDomain"]
        described = (await w.call("DescribeUserPoolDomain", Domain="auth.example.com"))["DomainDescription"]
        assert described["CustomDomainConfig"] == new_certificate
        pool = (await w.call("DescribeUserPool", UserPoolId=pool_id))["UserPool"]
        assert (pool["CustomDomain"], pool["Domain"]) == ("auth.example.com", "my-prefix")
        await w.call("DeleteUserPoolDomain", UserPoolId=pool_id, Domain="auth.example.com")
        assert await w.call("DescribeUserPoolDomain", Domain="auth.example.com") == {"DomainDescription": {}}
        w.check_walked(test_custom_domain)


@walks(
    "CreateManagedLoginBranding",
    "DescribeManagedLoginBranding",
    "DescribeManagedLoginBrandingByClient",
    "UpdateManagedLoginBranding",
    "DeleteManagedLoginBranding",
)
async def test_managed_login_branding() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await _pool(w)
        client_id = (await w.call("CreateUserPoolClient", UserPoolId=pool_id, ClientName="web"))[
            "UserPoolClient"
        ]["ClientId"]
        other_id = (await w.call("CreateUserPoolClient", UserPoolId=pool_id, ClientName="app"))[
            "UserPoolClient"
        ]["ClientId"]
        logo = {"Category": "FORM_LOGO", "ColorMode": "LIGHT", "Extension": "PNG", "Bytes": PNG}
        created = (
            await w.call(
                "CreateManagedLoginBranding",
                UserPoolId=pool_id,
                ClientId=client_id,
                Settings={},
                Assets=[logo],
            )
        )["ManagedLoginBranding"]
        style_id = created["ManagedLoginBrandingId"]
        assert created["UserPoolId"] == pool_id
        assert created["UseCognitoProvidedValues"] is False
        assert created["Settings"] == {}
        assert created["Assets"] == [logo]
        described = await w.call(
            "DescribeManagedLoginBranding", UserPoolId=pool_id, ManagedLoginBrandingId=style_id
        )
        assert described["ManagedLoginBranding"] == created
        by_client = await w.call(
            "DescribeManagedLoginBrandingByClient",
            UserPoolId=pool_id,
            ClientId=client_id,
            ReturnMergedResources=True,
        )
        assert by_client["ManagedLoginBranding"] == created

        await w.refused(
            "ManagedLoginBrandingExistsException",
            "CreateManagedLoginBranding",
            UserPoolId=pool_id,
            ClientId=client_id,
            UseCognitoProvidedValues=True,
        )
        await w.refused(
            "InvalidParameterException",
            "CreateManagedLoginBranding",
            UserPoolId=pool_id,
            ClientId=other_id,
            UseCognitoProvidedValues=True,
            Assets=[logo],
        )
        await w.refused(  # a favicon is what its category says
            "InvalidParameterException",
            "CreateManagedLoginBranding",
            UserPoolId=pool_id,
            ClientId=other_id,
            Assets=[{"Category": "FAVICON_ICO", "ColorMode": "LIGHT", "Extension": "PNG", "Bytes": PNG}],
        )
        await w.refused(
            "ResourceNotFoundException",
            "DescribeManagedLoginBrandingByClient",
            UserPoolId=pool_id,
            ClientId=other_id,
        )
        defaults = await w.call(
            "CreateManagedLoginBranding", UserPoolId=pool_id, ClientId=other_id, UseCognitoProvidedValues=True
        )
        assert defaults["ManagedLoginBranding"]["UseCognitoProvidedValues"] is True
        assert defaults["ManagedLoginBranding"]["Assets"] == []

        dark = {"Category": "FORM_LOGO", "ColorMode": "DARK", "Extension": "PNG", "Bytes": PNG}
        light = {
            **logo,
            "Extension": "JPEG",
            "Bytes": base64.b64encode(b"\xff\xd8\xff" + b"\x00" * 8).decode(),
        }
        updated = (
            await w.call(
                "UpdateManagedLoginBranding",
                UserPoolId=pool_id,
                ManagedLoginBrandingId=style_id,
                Assets=[dark, light],
            )
        )["ManagedLoginBranding"]
        assert updated["Assets"] == [light, dark]  # replaced by category and colour mode
        assert updated["Settings"] == {}
        assert updated["CreationDate"] == created["CreationDate"]
        described = await w.call(
            "DescribeManagedLoginBranding", UserPoolId=pool_id, ManagedLoginBrandingId=style_id
        )
        assert described["ManagedLoginBranding"] == updated
        reset = await w.call(
            "UpdateManagedLoginBranding",
            UserPoolId=pool_id,
            ManagedLoginBrandingId=style_id,
            UseCognitoProvidedValues=True,
        )
        assert "Settings" not in reset["ManagedLoginBranding"]
        assert reset["ManagedLoginBranding"]["UseCognitoProvidedValues"] is True
        assert reset["ManagedLoginBranding"]["Assets"] == []

        await w.call("DeleteManagedLoginBranding", UserPoolId=pool_id, ManagedLoginBrandingId=style_id)
        await w.refused(
            "ResourceNotFoundException",
            "DescribeManagedLoginBranding",
            UserPoolId=pool_id,
            ManagedLoginBrandingId=style_id,
        )
        await w.refused(
            "ResourceNotFoundException",
            "DescribeManagedLoginBrandingByClient",
            UserPoolId=pool_id,
            ClientId=client_id,
        )
        # the client may have a style again
        await w.call(
            "CreateManagedLoginBranding",
            UserPoolId=pool_id,
            ClientId=client_id,
            UseCognitoProvidedValues=True,
        )
        w.check_walked(test_managed_login_branding)


@walks("CreateManagedLoginBranding", "UpdateManagedLoginBranding", "DescribeManagedLoginBranding")
async def test_managed_login_branding_settings() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await _pool(w)
        client_id = (await w.call("CreateUserPoolClient", UserPoolId=pool_id, ClientName="web"))[
            "UserPoolClient"
        ]["ClientId"]
        settings = {
            "components": {"form": {"borderRadius": 8}},
            "categories": {"global": {"colorSchemeMode": "LIGHT"}},
        }
        created = await w.call(
            "CreateManagedLoginBranding", UserPoolId=pool_id, ClientId=client_id, Settings=settings
        )
        style_id = created["ManagedLoginBranding"]["ManagedLoginBrandingId"]
        assert created["ManagedLoginBranding"]["Settings"] == settings
        await w.call(
            "UpdateManagedLoginBranding",
            UserPoolId=pool_id,
            ManagedLoginBrandingId=style_id,
            Settings={"components": {"form": {"logo": {"enabled": True}}}},
        )
        described = await w.call(
            "DescribeManagedLoginBranding", UserPoolId=pool_id, ManagedLoginBrandingId=style_id
        )
        assert described["ManagedLoginBranding"]["Settings"] == {  # what an update leaves out is kept
            "components": {"form": {"borderRadius": 8, "logo": {"enabled": True}}},
            "categories": {"global": {"colorSchemeMode": "LIGHT"}},
        }
        w.check_walked(test_managed_login_branding_settings)


@walks("SetUICustomization", "GetUICustomization")
async def test_ui_customization() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await _pool(w)
        client_id = (await w.call("CreateUserPoolClient", UserPoolId=pool_id, ClientName="web"))[
            "UserPoolClient"
        ]["ClientId"]
        other_id = (await w.call("CreateUserPoolClient", UserPoolId=pool_id, ClientName="app"))[
            "UserPoolClient"
        ]["ClientId"]
        no_domain = await w.refused(
            "InvalidParameterException", "SetUICustomization", UserPoolId=pool_id, CSS=CSS
        )
        assert "domain" in no_domain.message
        await w.call("CreateUserPoolDomain", UserPoolId=pool_id, Domain="ui-login")
        assert await w.call("GetUICustomization", UserPoolId=pool_id) == {"UICustomization": {}}

        pool_wide = (
            await w.call("SetUICustomization", UserPoolId=pool_id, ClientId="ALL", CSS=CSS, ImageFile=PNG)
        )["UICustomization"]
        assert pool_wide["UserPoolId"] == pool_id and "ClientId" not in pool_wide
        assert pool_wide["CSS"] == CSS and pool_wide["CSSVersion"]
        assert (await w.call("GetUICustomization", UserPoolId=pool_id))["UICustomization"] == pool_wide
        # a client without its own customization gets the pool's
        assert (await w.call("GetUICustomization", UserPoolId=pool_id, ClientId=other_id))[
            "UICustomization"
        ] == pool_wide

        own_css = ".banner-customizable { background-color: #000; }"
        own = (await w.call("SetUICustomization", UserPoolId=pool_id, ClientId=client_id, CSS=own_css))[
            "UICustomization"
        ]
        assert own["ClientId"] == client_id and own["CSS"] == own_css
        assert (await w.call("GetUICustomization", UserPoolId=pool_id, ClientId=client_id))[
            "UICustomization"
        ] == own

        await w.refused(
            "InvalidParameterException",
            "SetUICustomization",
            UserPoolId=pool_id,
            CSS=".not-a-class { color: red; }",
        )
        await w.refused(
            "InvalidParameterException",
            "SetUICustomization",
            UserPoolId=pool_id,
            CSS="@import url(x.css); .label-customizable { color: red; }",
        )
        await w.refused(
            "InvalidParameterException",
            "SetUICustomization",
            UserPoolId=pool_id,
            ImageFile=base64.b64encode(b"GIF89a").decode(),
        )
        await w.refused(
            "ResourceNotFoundException",
            "SetUICustomization",
            UserPoolId=pool_id,
            ClientId="unknown0client",
            CSS=CSS,
        )
        await w.refused(
            "ResourceNotFoundException", "GetUICustomization", UserPoolId=pool_id, ClientId="unknown0client"
        )

        # a call without CSS or logo removes the client's customization: the pool's applies again
        await w.call("SetUICustomization", UserPoolId=pool_id, ClientId=client_id)
        assert (await w.call("GetUICustomization", UserPoolId=pool_id, ClientId=client_id))[
            "UICustomization"
        ] == pool_wide
        w.check_walked(test_ui_customization)
