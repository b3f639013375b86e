"""Machine-to-machine tokens over the wire: GetClientToken (client credentials) and GetDerivedToken
(RFC 8693 token exchange), their tokens checked with the project's own TokenVerifier."""

from __future__ import annotations

import base64
import json
from typing import Any

from walk import Walker, walks

from aiocognito import TokenVerifier
from aiocognito.testing import LocalUserPool

PASSWORD = "Passw0rd!long"
ADMIN_SCOPE = "aws.cognito.signin.user.admin"


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


async def verified(
    local: LocalUserPool, pool_id: str, client_id: str, token: str, use: str = "access"
) -> Any:
    async with TokenVerifier(
        pool_id, client_ids=client_id, jwks_url=local.jwks_url(pool_id), issuer=local.issuer(pool_id)
    ) as verifier:
        return await verifier.verify(token, "access" if use == "access" else "id")


async def pool_with_orders_api(w: Walker) -> str:
    pool_id = str((await w.call("CreateUserPool", PoolName="m2m"))["UserPool"]["Id"])
    await w.call(
        "CreateResourceServer",
        UserPoolId=pool_id,
        Identifier="orders",
        Name="Orders API",
        Scopes=[
            {"ScopeName": "read", "ScopeDescription": "read orders"},
            {"ScopeName": "write", "ScopeDescription": "write orders"},
        ],
    )
    return pool_id


async def client_token_client(local: LocalUserPool, w: Walker, pool_id: str, name: str) -> tuple[str, str]:
    """An app client set up for GetClientToken: a secret, custom scopes and only ALLOW_CLIENT_TOKEN_AUTH."""
    settings: dict[str, Any] = {
        "UserPoolId": pool_id,
        "ClientName": name,
        "GenerateSecret": True,
        "AllowedOAuthFlows": ["client_credentials"],
        "AllowedOAuthScopes": ["orders/read", "orders/write"],
        "AllowedOAuthFlowsUserPoolClient": True,
    }
    created = await w.call("CreateUserPoolClient", **settings, ExplicitAuthFlows=["ALLOW_CLIENT_TOKEN_AUTH"])
    client = created["UserPoolClient"]
    return str(client["ClientId"]), str(client["ClientSecret"])


async def signed_in(w: Walker, local: LocalUserPool, pool_id: str) -> tuple[str, dict[str, Any]]:
    """A user app client and alice's tokens from it."""
    app = await local.create_app_client(pool_id, "web", flows=("ALLOW_USER_PASSWORD_AUTH",))
    await local.create_user(pool_id, "alice", PASSWORD, attributes={"email": "alice@example.com"})
    started = await w.call(
        "InitiateAuth",
        AuthFlow="USER_PASSWORD_AUTH",
        ClientId=app.client_id,
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )
    return app.client_id, started["AuthenticationResult"]


@walks("GetClientToken")
async def test_client_token_grants_the_clients_custom_scopes() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await pool_with_orders_api(w)
        client_id, secret = await client_token_client(local, w, pool_id, "worker")

        result = (await w.call("GetClientToken", ClientId=client_id, Secret=secret))[
            "ClientAuthenticationResult"
        ]
        assert result["TokenType"] == "Bearer" and result["ExpiresIn"] == 3600
        claims = await verified(local, pool_id, client_id, result["AccessToken"])
        assert claims["sub"] == client_id and claims["client_id"] == client_id
        assert claims["scope"] == "orders/read orders/write" and claims["token_use"] == "access"
        assert "username" not in claims and claims["exp"] - claims["iat"] == 3600

        narrowed = await w.call("GetClientToken", ClientId=client_id, Secret=secret, Scopes=["orders/read"])
        token = narrowed["ClientAuthenticationResult"]["AccessToken"]
        assert (await verified(local, pool_id, client_id, token))["scope"] == "orders/read"
        # a machine's token is no user's: self-service operations refuse it
        await w.refused("NotAuthorizedException", "GetUser", AccessToken=token)

        await w.refused("NotAuthorizedException", "GetClientToken", ClientId=client_id, Secret="x" * 51)
        for scope in ("orders/delete", "openid", "other/read"):
            await w.refused(
                "InvalidParameterException",
                "GetClientToken",
                ClientId=client_id,
                Secret=secret,
                Scopes=[scope],
            )
        await w.refused("ResourceNotFoundException", "GetClientToken", ClientId="a" * 26, Secret=secret)

        # a secret alone is not enough: the client needs ALLOW_CLIENT_TOKEN_AUTH...
        user_app = await local.create_app_client(pool_id, "with-secret", secret=True)
        assert user_app.client_secret is not None
        await w.refused(
            "InvalidParameterException",
            "GetClientToken",
            ClientId=user_app.client_id,
            Secret=user_app.client_secret,
        )
        # ...and the flow needs a secret, and stands alone
        for flows, secret_wanted in (
            (["ALLOW_CLIENT_TOKEN_AUTH"], False),
            (["ALLOW_CLIENT_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"], True),
        ):
            await w.refused(
                "InvalidParameterException",
                "CreateUserPoolClient",
                UserPoolId=pool_id,
                ClientName="public",
                GenerateSecret=secret_wanted,
                ExplicitAuthFlows=flows,
            )

        # a deleted secret stops working, the other one goes on
        second = await w.call("AddUserPoolClientSecret", UserPoolId=pool_id, ClientId=client_id)
        first_id = (await w.call("ListUserPoolClientSecrets", UserPoolId=pool_id, ClientId=client_id))[
            "ClientSecrets"
        ][0]["ClientSecretId"]
        await w.call(
            "DeleteUserPoolClientSecret", UserPoolId=pool_id, ClientId=client_id, ClientSecretId=first_id
        )
        await w.refused("NotAuthorizedException", "GetClientToken", ClientId=client_id, Secret=secret)
        fresh = second["ClientSecretDescriptor"]["ClientSecretValue"]
        await w.call("GetClientToken", ClientId=client_id, Secret=fresh)
        w.check_walked(test_client_token_grants_the_clients_custom_scopes)


async def exchanging_client(w: Walker, pool_id: str, flow: str, **extra: Any) -> tuple[str, str]:
    created = (
        await w.call(
            "CreateUserPoolClient",
            UserPoolId=pool_id,
            ClientName="agent",
            GenerateSecret=True,
            ExplicitAuthFlows=[flow],
            **extra,
        )
    )["UserPoolClient"]
    return str(created["ClientId"]), str(created["ClientSecret"])


@walks("GetDerivedToken")
async def test_derived_token_impersonates_the_subject() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await pool_with_orders_api(w)
        web_id, tokens = await signed_in(w, local, pool_id)
        agent, secret = await exchanging_client(
            w, pool_id, "ALLOW_TOKEN_EXCHANGE_IMPERSONATION", AllowedOAuthScopes=[ADMIN_SCOPE, "orders/read"]
        )
        base = {"ClientId": agent, "ClientSecret": secret}
        subject = {"SubjectToken": tokens["AccessToken"], "SubjectTokenType": "ACCESS_TOKEN"}
        user_claims = claims_of(tokens["AccessToken"])

        issued = await w.call("GetDerivedToken", **base, **subject, Audiences=["billing-service"])
        assert issued["IssuedTokenType"] == "ACCESS_TOKEN" and issued["TokenType"] == "Bearer"
        assert issued["Scopes"] == [ADMIN_SCOPE] and issued["ExpiresIn"] == 3600
        claims = await verified(local, pool_id, agent, issued["IssuedToken"])
        assert claims["sub"] == user_claims["sub"] and claims["username"] == "alice"
        assert claims["client_id"] == agent and claims["aud"] == "billing-service" and "act" not in claims
        assert claims["origin_jti"] == user_claims["origin_jti"] and claims["scope"] == ADMIN_SCOPE
        # the issued token is a standard access token of alice's
        assert (await w.call("GetUser", AccessToken=issued["IssuedToken"]))["Username"] == "alice"

        to_orders = await w.call(
            "GetDerivedToken", **base, **subject, Resources=["orders"], Scopes=[ADMIN_SCOPE]
        )
        assert claims_of(to_orders["IssuedToken"])["aud"] == "orders" and to_orders["Scopes"] == [ADMIN_SCOPE]
        # scopes the subject does not hold are not granted
        await w.refused(
            "InvalidParameterException", "GetDerivedToken", **base, **subject, Scopes=["orders/read"]
        )
        await w.refused("ResourceNotFoundException", "GetDerivedToken", **base, **subject, Resources=["nope"])
        await w.refused(
            "InvalidParameterException",
            "GetDerivedToken",
            **base,
            **subject,
            Audiences=["a"],
            Resources=["orders"],
        )

        id_token = await w.call(
            "GetDerivedToken",
            **base,
            SubjectToken=tokens["IdToken"],
            SubjectTokenType="ID_TOKEN",
            RequestedTokenType="ID_TOKEN",
        )
        assert id_token["IssuedTokenType"] == "ID_TOKEN" and "Scopes" not in id_token
        identity = await verified(local, pool_id, agent, id_token["IssuedToken"], use="id")
        assert identity["cognito:username"] == "alice" and identity["email"] == "alice@example.com"

        # the token presented must be what it is said to be, of this pool, from a client that may exchange
        wrong_type = {"SubjectToken": tokens["AccessToken"], "SubjectTokenType": "ID_TOKEN"}
        await w.refused("NotAuthorizedException", "GetDerivedToken", **base, **wrong_type)
        forged = tokens["AccessToken"][:-4] + (
            "AAAA" if not tokens["AccessToken"].endswith("AAAA") else "BBBB"
        )
        await w.refused(
            "NotAuthorizedException",
            "GetDerivedToken",
            **base,
            SubjectToken=forged,
            SubjectTokenType="ACCESS_TOKEN",
        )
        await w.refused(
            "NotAuthorizedException", "GetDerivedToken", ClientId=agent, ClientSecret="x" * 51, **subject
        )
        await w.refused("NotAuthorizedException", "GetDerivedToken", ClientId=agent, **subject)
        await w.refused("InvalidParameterException", "GetDerivedToken", ClientId=web_id, **subject)
        await w.refused(
            "InvalidParameterException",
            "GetDerivedToken",
            **base,
            **subject,
            ActorToken=tokens["AccessToken"],
            ActorTokenType="ACCESS_TOKEN",
        )
        other_pool = await pool_with_orders_api(w)
        elsewhere, elsewhere_secret = await exchanging_client(
            w, other_pool, "ALLOW_TOKEN_EXCHANGE_IMPERSONATION"
        )
        await w.refused(
            "NotAuthorizedException",
            "GetDerivedToken",
            ClientId=elsewhere,
            ClientSecret=elsewhere_secret,
            **subject,
        )
        await w.refused(
            "InvalidParameterException",
            "GetDerivedToken",
            **base,
            SubjectToken=tokens["AccessToken"],
            SubjectTokenType="SAML2",
        )

        # signing out revokes the subject and what was derived from it
        await w.call("GlobalSignOut", AccessToken=tokens["AccessToken"])
        await w.refused("NotAuthorizedException", "GetDerivedToken", **base, **subject)
        await w.refused("NotAuthorizedException", "GetUser", AccessToken=issued["IssuedToken"])
        w.check_walked(test_derived_token_impersonates_the_subject)


@walks("GetDerivedToken", "GetClientToken")
async def test_derived_token_delegation_names_the_actor() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await pool_with_orders_api(w)
        _web, tokens = await signed_in(w, local, pool_id)
        service, service_secret = await client_token_client(local, w, pool_id, "mcp-server")
        actor = (await w.call("GetClientToken", ClientId=service, Secret=service_secret))[
            "ClientAuthenticationResult"
        ]["AccessToken"]
        agent, secret = await exchanging_client(w, pool_id, "ALLOW_TOKEN_EXCHANGE_DELEGATION")
        delegation = {
            "ClientId": agent,
            "ClientSecret": secret,
            "ActorToken": actor,
            "ActorTokenType": "ACCESS_TOKEN",
        }

        first = await w.call(
            "GetDerivedToken",
            **delegation,
            SubjectToken=tokens["AccessToken"],
            SubjectTokenType="ACCESS_TOKEN",
        )
        claims = await verified(local, pool_id, agent, first["IssuedToken"])
        assert claims["username"] == "alice" and claims["act"] == {"sub": service, "client_id": service}
        # a second hop nests the first actor inside the new one (RFC 8693 section 4.1)
        second = await w.call(
            "GetDerivedToken",
            **delegation,
            SubjectToken=first["IssuedToken"],
            SubjectTokenType="ACCESS_TOKEN",
        )
        assert claims_of(second["IssuedToken"])["act"] == {
            "sub": service,
            "client_id": service,
            "act": claims["act"],
        }

        subject = {"SubjectToken": tokens["AccessToken"], "SubjectTokenType": "ACCESS_TOKEN"}
        # delegation needs its own flow, and an ActorTokenType
        await w.refused(
            "InvalidParameterException", "GetDerivedToken", ClientId=agent, ClientSecret=secret, **subject
        )
        await w.refused(
            "InvalidParameterException",
            "GetDerivedToken",
            ClientId=agent,
            ClientSecret=secret,
            ActorToken=actor,
            **subject,
        )
        await w.refused(
            "ResourceNotFoundException",
            "GetDerivedToken",
            **delegation,
            SubjectToken=tokens["AccessToken"],
            SubjectTokenType="SAML2",
            SubjectTokenProviderName="Corporate",
        )
        # expired tokens are refused
        local.advance_clock(3600)
        await w.refused("NotAuthorizedException", "GetDerivedToken", **delegation, **subject)

        # token exchange is an Essentials and Plus feature
        await w.call("UpdateUserPool", UserPoolId=pool_id, UserPoolTier="LITE")
        fresh = (await w.call("GetClientToken", ClientId=service, Secret=service_secret))[
            "ClientAuthenticationResult"
        ]
        await w.refused(
            "OperationNotEnabledException",
            "GetDerivedToken",
            ClientId=agent,
            ClientSecret=secret,
            ActorToken=fresh["AccessToken"],
            ActorTokenType="ACCESS_TOKEN",
            SubjectToken=fresh["AccessToken"],
            SubjectTokenType="ACCESS_TOKEN",
        )
        w.check_walked(test_derived_token_delegation_names_the_actor)
