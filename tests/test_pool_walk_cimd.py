"""The walk over Client ID Metadata Document policies and client metadata URLs, against a real LocalUserPool."""

from __future__ import annotations

import re
from typing import Any

import pytest
from walk import Walker, walks

from aiocognito.testing import LocalUserPool
from aiocognito.testing._api.cimd import receive_client_metadata

MRK = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
PATTERN = "https://*.example.com/clients/*"
URL = "https://agent.example.com/clients/one.json"


def document(url: str = URL, **extra: Any) -> dict[str, Any]:
    return {"client_id": url, "client_name": "agent", "token_endpoint_auth_method": "none", **extra}


async def setup(w: Walker, **pool: Any) -> tuple[str, str]:
    pool_id = (await w.call("CreateUserPool", PoolName="p", **pool))["UserPool"]["Id"]
    client = await w.call("CreateUserPoolClient", UserPoolId=pool_id, ClientName="app")
    return pool_id, client["UserPoolClient"]["ClientId"]


@walks("CreateCIMDPolicy", "DescribeCIMDPolicy", "UpdateCIMDPolicy", "DeleteCIMDPolicy", "ListCIMDPolicies")
async def test_cimd_policies() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id, client_id = await setup(w)
        other_pool, other_client = await setup(w)
        lite_pool, lite_client = await setup(w, UserPoolTier="LITE")
        base = {"UserPoolId": pool_id, "PolicyName": "agents", "URLPatterns": [PATTERN]}

        await w.refused("ResourceNotFoundException", "CreateCIMDPolicy", **base, ClientId=other_client)
        await w.refused(
            "ResourceNotFoundException",
            "CreateCIMDPolicy",
            **{**base, "UserPoolId": "us-east-1_nope"},
            ClientId=client_id,
        )
        await w.refused(
            "FeatureUnavailableInTierException",
            "CreateCIMDPolicy",
            **{**base, "UserPoolId": lite_pool},
            ClientId=lite_client,
        )
        for pattern in ("https://user@example.com/c/*", "https://example.com/a/../b", "https:///clients/x"):
            await w.refused(
                "InvalidParameterException",
                "CreateCIMDPolicy",
                **{**base, "URLPatterns": [pattern]},
                ClientId=client_id,
            )

        created = (await w.call("CreateCIMDPolicy", **base, ClientId=client_id))["CIMDPolicy"]
        policy_id = created["CIMDPolicyId"]
        assert re.fullmatch(r"[a-z0-9]+", policy_id)
        assert created["UserPoolId"] == pool_id and created["ClientId"] == client_id
        assert created["PolicyName"] == "agents" and created["URLPatterns"] == [PATTERN]
        assert created["CacheDuration"] == 86_400
        assert created["CreationDate"] == created["LastModifiedDate"] == pytest.approx(local.now())
        described = await w.call("DescribeCIMDPolicy", UserPoolId=pool_id, CIMDPolicyId=policy_id)
        assert described["CIMDPolicy"] == created
        await w.refused(
            "ResourceNotFoundException", "DescribeCIMDPolicy", UserPoolId=other_pool, CIMDPolicyId=policy_id
        )

        # Update replaces client and patterns, keeps what it is not given
        second = (await w.call("CreateUserPoolClient", UserPoolId=pool_id, ClientName="second"))[
            "UserPoolClient"
        ]
        local.advance_clock(5)
        updated = await w.call(
            "UpdateCIMDPolicy",
            UserPoolId=pool_id,
            CIMDPolicyId=policy_id,
            ClientId=second["ClientId"],
            URLPatterns=["https://tools.example.org/*", PATTERN],
        )
        policy = updated["CIMDPolicy"]
        assert policy["ClientId"] == second["ClientId"] and policy["PolicyName"] == "agents"
        assert policy["CacheDuration"] == 86_400 and len(policy["URLPatterns"]) == 2
        assert policy["LastModifiedDate"] == pytest.approx(created["CreationDate"] + 5, abs=1)
        renamed = await w.call(
            "UpdateCIMDPolicy",
            UserPoolId=pool_id,
            CIMDPolicyId=policy_id,
            ClientId=second["ClientId"],
            URLPatterns=[PATTERN],
            PolicyName="renamed",
            CacheDuration=604_800,
        )
        assert (
            renamed["CIMDPolicy"]["PolicyName"] == "renamed"
            and renamed["CIMDPolicy"]["CacheDuration"] == 604_800
        )
        await w.refused(
            "ResourceNotFoundException",
            "UpdateCIMDPolicy",
            UserPoolId=pool_id,
            CIMDPolicyId=policy_id,
            ClientId="nosuchclient",
            URLPatterns=[PATTERN],
        )

        # once its app client is deleted, the policy no longer names it
        await w.call("DeleteUserPoolClient", UserPoolId=pool_id, ClientId=second["ClientId"])
        described = await w.call("DescribeCIMDPolicy", UserPoolId=pool_id, CIMDPolicyId=policy_id)
        assert "ClientId" not in described["CIMDPolicy"]

        # List: summaries, oldest first, paginated
        more = [
            (await w.call("CreateCIMDPolicy", **{**base, "PolicyName": f"p{i}"}, ClientId=client_id))[
                "CIMDPolicy"
            ]
            for i in range(2)
        ]
        first = await w.call("ListCIMDPolicies", UserPoolId=pool_id, MaxResults=2)
        assert [p["CIMDPolicyId"] for p in first["CIMDPolicies"]] == [policy_id, more[0]["CIMDPolicyId"]]
        assert "URLPatterns" not in first["CIMDPolicies"][0] and "ClientId" not in first["CIMDPolicies"][0]
        assert first["CIMDPolicies"][1]["ClientId"] == client_id
        rest = await w.call("ListCIMDPolicies", UserPoolId=pool_id, NextToken=first["NextToken"])
        assert [p["CIMDPolicyId"] for p in rest["CIMDPolicies"]] == [more[1]["CIMDPolicyId"]]
        assert "NextToken" not in rest
        assert (await w.call("ListCIMDPolicies", UserPoolId=other_pool))["CIMDPolicies"] == []

        await w.call("DeleteCIMDPolicy", UserPoolId=pool_id, CIMDPolicyId=policy_id)
        await w.refused(
            "ResourceNotFoundException", "DescribeCIMDPolicy", UserPoolId=pool_id, CIMDPolicyId=policy_id
        )
        await w.refused(
            "ResourceNotFoundException", "DeleteCIMDPolicy", UserPoolId=pool_id, CIMDPolicyId=policy_id
        )
        listed = await w.call("ListCIMDPolicies", UserPoolId=pool_id)
        assert policy_id not in [p["CIMDPolicyId"] for p in listed["CIMDPolicies"]]
        w.check_walked(test_cimd_policies)


@walks("ListClientMetadataURLs", "UpdateClientMetadataURLState", "CreateCIMDPolicy", "UpdateCIMDPolicy")
async def test_client_metadata_urls() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id, client_id = await setup(w)
        state = local._state
        policy = await w.call(
            "CreateCIMDPolicy",
            UserPoolId=pool_id,
            ClientId=client_id,
            PolicyName="agents",
            URLPatterns=[PATTERN],
        )
        policy_id = policy["CIMDPolicy"]["CIMDPolicyId"]
        listed = await w.call("ListClientMetadataURLs", UserPoolId=pool_id, CIMDPolicyId=policy_id)
        assert listed["ClientMetadataURLs"] == []

        # what the pool accepts from a CIMD client
        with pytest.raises(LookupError):
            receive_client_metadata(
                state,
                pool_id,
                "https://evil.example.net/clients/x",
                document("https://evil.example.net/clients/x"),
            )
        with pytest.raises(ValueError):
            receive_client_metadata(state, pool_id, URL, document("https://agent.example.com/other"))
        with pytest.raises(ValueError):
            receive_client_metadata(
                state, pool_id, URL, document(token_endpoint_auth_method="private_key_jwt")
            )
        assert receive_client_metadata(state, pool_id, URL, document()) == policy_id
        received_at = local.now()
        other = "https://other.example.com/clients/two.json"
        receive_client_metadata(state, pool_id, other, document(other), max_age=2 * 86_400)

        listed = await w.call(
            "ListClientMetadataURLs", UserPoolId=pool_id, CIMDPolicyId=policy_id, MaxResults=1
        )
        assert [u["URL"] for u in listed["ClientMetadataURLs"]] == [URL]
        entry = listed["ClientMetadataURLs"][0]
        assert entry["CachedDate"] == pytest.approx(received_at, abs=1)
        assert entry["ExpirationDate"] - entry["CachedDate"] == pytest.approx(86_400)
        rest = await w.call(
            "ListClientMetadataURLs",
            UserPoolId=pool_id,
            CIMDPolicyId=policy_id,
            NextToken=listed["NextToken"],
        )
        (second,) = rest["ClientMetadataURLs"]
        assert second["URL"] == other and second["ExpirationDate"] - second["CachedDate"] == pytest.approx(
            2 * 86_400
        )

        # REFRESH caches it again for the cache duration; INVALIDATE drops the cached document
        local.advance_clock(100)
        await w.call(
            "UpdateClientMetadataURLState",
            UserPoolId=pool_id,
            CIMDPolicyId=policy_id,
            URL=URL,
            Action="REFRESH",
        )
        entries = (await w.call("ListClientMetadataURLs", UserPoolId=pool_id, CIMDPolicyId=policy_id))[
            "ClientMetadataURLs"
        ]
        assert entries[0]["CachedDate"] == pytest.approx(entry["CachedDate"] + 100, abs=1)
        assert entries[0]["ExpirationDate"] == pytest.approx(entry["ExpirationDate"] + 100, abs=1)
        await w.call(
            "UpdateClientMetadataURLState",
            UserPoolId=pool_id,
            CIMDPolicyId=policy_id,
            URL=URL,
            Action="INVALIDATE",
        )
        entries = (await w.call("ListClientMetadataURLs", UserPoolId=pool_id, CIMDPolicyId=policy_id))[
            "ClientMetadataURLs"
        ]
        assert entries[0] == {"URL": URL}
        for action in ("REFRESH", "INVALIDATE"):
            await w.refused(
                "CachedCIMDURLDoesNotExistException",
                "UpdateClientMetadataURLState",
                UserPoolId=pool_id,
                CIMDPolicyId=policy_id,
                URL=URL,
                Action=action,
            )
        await w.refused(
            "CachedCIMDURLDoesNotExistException",
            "UpdateClientMetadataURLState",
            UserPoolId=pool_id,
            CIMDPolicyId=policy_id,
            URL="https://never.example.com/clients/x",
            Action="REFRESH",
        )
        # an expired document is no longer cached
        local.advance_clock(3 * 86_400)
        await w.refused(
            "CachedCIMDURLDoesNotExistException",
            "UpdateClientMetadataURLState",
            UserPoolId=pool_id,
            CIMDPolicyId=policy_id,
            URL=other,
            Action="REFRESH",
        )
        await w.refused(
            "ResourceNotFoundException",
            "ListClientMetadataURLs",
            UserPoolId=pool_id,
            CIMDPolicyId="nosuchpolicy",
        )

        # URLs that the new patterns no longer accept leave the policy
        await w.call(
            "UpdateCIMDPolicy",
            UserPoolId=pool_id,
            CIMDPolicyId=policy_id,
            ClientId=client_id,
            URLPatterns=["https://agent.example.com/*"],
        )
        entries = (await w.call("ListClientMetadataURLs", UserPoolId=pool_id, CIMDPolicyId=policy_id))[
            "ClientMetadataURLs"
        ]
        assert [e["URL"] for e in entries] == [URL]
        w.check_walked(test_client_metadata_urls)


async def test_cimd_policies_in_a_replica_region() -> None:
    async with (
        LocalUserPool() as local,
        Walker(local.endpoint_url) as w,
        Walker(local.endpoint_url, region="eu-west-1") as europe,
    ):
        key = {"KeyType": "CUSTOMER_MANAGED_KEY", "KmsKeyArn": MRK}
        pool_id, client_id = await setup(w, KeyConfiguration=key)
        await w.call("CreateUserPoolReplica", UserPoolId=pool_id, RegionName="eu-west-1")
        created = await w.call(
            "CreateCIMDPolicy",
            UserPoolId=pool_id,
            ClientId=client_id,
            PolicyName="agents",
            URLPatterns=[PATTERN],
        )
        policy_id = created["CIMDPolicy"]["CIMDPolicyId"]
        # read in the secondary Region, changed only in the primary one
        assert (await europe.call("DescribeCIMDPolicy", UserPoolId=pool_id, CIMDPolicyId=policy_id))[
            "CIMDPolicy"
        ]
        assert (await europe.call("ListCIMDPolicies", UserPoolId=pool_id))["CIMDPolicies"]
        await europe.refused(
            "OperationNotEnabledException",
            "CreateCIMDPolicy",
            UserPoolId=pool_id,
            ClientId=client_id,
            PolicyName="x",
            URLPatterns=[PATTERN],
        )
        await europe.refused(
            "OperationNotEnabledException", "DeleteCIMDPolicy", UserPoolId=pool_id, CIMDPolicyId=policy_id
        )
