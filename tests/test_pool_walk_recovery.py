"""The walk over replicas and point-in-time recovery, against a real LocalUserPool."""

from __future__ import annotations

from typing import Any

import pytest
from walk import Walker, walks

from aiocognito import errors
from aiocognito.testing import LocalUserPool
from aiocognito.testing._api import recovery
from aiocognito.testing._api.recovery import before_operation, replica_regions

MRK = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
CMK = {"KeyType": "CUSTOMER_MANAGED_KEY", "KmsKeyArn": MRK}
PASSWORD = "Passw0rd!"
DAY = 86_400.0


async def write(local: LocalUserPool, w: Walker, operation: str, **params: Any) -> dict[str, Any]:
    """A write as the pool's dispatcher runs it: the recovery hook first, then the operation."""
    before_operation(local._state, operation, params)
    return await w.call(operation, **params)


async def new_user(local: LocalUserPool, w: Walker, pool_id: str, name: str, **attributes: str) -> str:
    given = [{"Name": k, "Value": v} for k, v in attributes.items()]
    created = await write(
        local,
        w,
        "AdminCreateUser",
        UserPoolId=pool_id,
        Username=name,
        UserAttributes=given,
        MessageAction="SUPPRESS",
    )
    await write(
        local, w, "AdminSetUserPassword", UserPoolId=pool_id, Username=name, Password=PASSWORD, Permanent=True
    )
    return str(next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub"))


def preview(restoration: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    return {
        row["Entity"]: (row["CreateCount"], row["UpdateCount"], row["DeleteCount"])
        for row in restoration["RestorePreview"]
    }


@walks("CreateUserPoolReplica", "ListUserPoolReplicas", "UpdateUserPoolReplica", "DeleteUserPoolReplica")
async def test_replicas() -> None:
    async with (
        LocalUserPool() as local,
        Walker(local.endpoint_url) as w,
        Walker(local.endpoint_url, region="eu-west-1") as europe,
        Walker(local.endpoint_url, region="ap-south-1") as asia,
    ):
        pool_id = (await w.call("CreateUserPool", PoolName="p", KeyConfiguration=CMK))["UserPool"]["Id"]
        plain = (await w.call("CreateUserPool", PoolName="plain"))["UserPool"]["Id"]
        lite = await w.call("CreateUserPool", PoolName="lite", UserPoolTier="LITE", KeyConfiguration=CMK)
        await w.refused(
            "InvalidParameterException", "CreateUserPoolReplica", UserPoolId=plain, RegionName="eu-west-1"
        )
        await w.refused(
            "FeatureUnavailableInTierException",
            "CreateUserPoolReplica",
            UserPoolId=lite["UserPool"]["Id"],
            RegionName="eu-west-1",
        )
        for region in ("us-east-1", "cn-north-1", "nowhere"):
            await w.refused(
                "InvalidParameterException", "CreateUserPoolReplica", UserPoolId=pool_id, RegionName=region
            )
        await w.refused(
            "ResourceNotFoundException",
            "CreateUserPoolReplica",
            UserPoolId="us-east-1_nope",
            RegionName="eu-west-1",
        )
        # the pool is unknown in a Region where it has no replica
        await asia.refused("ResourceNotFoundException", "ListUserPoolReplicas", UserPoolId=pool_id)

        created = await w.call(
            "CreateUserPoolReplica", UserPoolId=pool_id, RegionName="eu-west-1", UserPoolTags={"a": "b"}
        )
        account = local._state.account_id
        assert created["UserPoolReplica"] == {
            "RegionName": "eu-west-1",
            "Status": "CREATING",
            "Role": "SECONDARY",
            "UserPoolArn": f"arn:aws:cognito-idp:eu-west-1:{account}:userpool/{pool_id}",
        }
        await w.refused(
            "InvalidParameterException", "CreateUserPoolReplica", UserPoolId=pool_id, RegionName="eu-west-1"
        )
        await w.refused(
            "LimitExceededException", "CreateUserPoolReplica", UserPoolId=pool_id, RegionName="ap-south-1"
        )
        listed = (await w.call("ListUserPoolReplicas", UserPoolId=pool_id))["UserPoolReplicas"]
        assert [(r["RegionName"], r["Status"], r["Role"]) for r in listed] == [
            ("us-east-1", "ACTIVE", "PRIMARY"),
            ("eu-west-1", "INACTIVE", "SECONDARY"),
        ]
        assert listed[0]["UserPoolArn"] == f"arn:aws:cognito-idp:us-east-1:{account}:userpool/{pool_id}"
        assert replica_regions(local._state.pools[pool_id]) == ["eu-west-1"]

        # in the secondary Region: reads and Update work, Create, Delete and recoveries do not
        assert len((await europe.call("ListUserPoolReplicas", UserPoolId=pool_id))["UserPoolReplicas"]) == 2
        await europe.refused(
            "OperationNotEnabledException",
            "CreateUserPoolReplica",
            UserPoolId=pool_id,
            RegionName="ap-south-1",
        )
        await europe.refused(
            "OperationNotEnabledException",
            "DeleteUserPoolReplica",
            UserPoolId=pool_id,
            RegionName="eu-west-1",
        )
        await europe.refused(
            "OperationNotEnabledException",
            "InitiatePointInTimeRecovery",
            UserPoolId=pool_id,
            RestoreTimestamp=local.now() - 3600,
        )
        updated = await europe.call(
            "UpdateUserPoolReplica", UserPoolId=pool_id, RegionName="eu-west-1", Status="ACTIVE"
        )
        assert updated["UserPoolReplica"]["Status"] == "ACTIVE"
        listed = (await w.call("ListUserPoolReplicas", UserPoolId=pool_id))["UserPoolReplicas"]
        assert listed[1]["Status"] == "ACTIVE"
        await w.refused(
            "InvalidParameterException",
            "UpdateUserPoolReplica",
            UserPoolId=pool_id,
            RegionName="us-east-1",
            Status="INACTIVE",
        )
        await w.refused(
            "ResourceNotFoundException",
            "UpdateUserPoolReplica",
            UserPoolId=pool_id,
            RegionName="ap-south-1",
            Status="ACTIVE",
        )

        # only an INACTIVE replica is deleted
        await w.refused(
            "InvalidParameterException", "DeleteUserPoolReplica", UserPoolId=pool_id, RegionName="eu-west-1"
        )
        await w.refused(
            "InvalidParameterException", "DeleteUserPoolReplica", UserPoolId=pool_id, RegionName="us-east-1"
        )
        await w.call("UpdateUserPoolReplica", UserPoolId=pool_id, RegionName="eu-west-1", Status="INACTIVE")
        deleted = await w.call("DeleteUserPoolReplica", UserPoolId=pool_id, RegionName="eu-west-1")
        assert deleted["UserPoolReplica"]["Status"] == "DELETING"
        listed = (await w.call("ListUserPoolReplicas", UserPoolId=pool_id))["UserPoolReplicas"]
        assert [r["Role"] for r in listed] == ["PRIMARY"]
        assert replica_regions(local._state.pools[pool_id]) == []
        await w.refused(
            "ResourceNotFoundException", "DeleteUserPoolReplica", UserPoolId=pool_id, RegionName="eu-west-1"
        )
        await europe.refused("ResourceNotFoundException", "ListUserPoolReplicas", UserPoolId=pool_id)
        # a new replica can be made once the first is gone
        await w.call("CreateUserPoolReplica", UserPoolId=pool_id, RegionName="ap-south-1")
        w.check_walked(test_replicas)


@walks(
    "InitiatePointInTimeRecovery",
    "DescribePointInTimeRecovery",
    "ListPointInTimeRecoveries",
    "StartPointInTimeRecovery",
)
async def test_point_in_time_recovery_restores_users_and_groups() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = (await w.call("CreateUserPool", PoolName="p", UserPoolTier="PLUS"))["UserPool"]["Id"]
        client = await w.call(
            "CreateUserPoolClient",
            UserPoolId=pool_id,
            ClientName="app",
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )
        client_id = client["UserPoolClient"]["ClientId"]
        created_at = local.now()
        alice = await new_user(local, w, pool_id, "alice", given_name="Alice", phone_number="+15550100")
        bob = await new_user(local, w, pool_id, "bob")
        await new_user(local, w, pool_id, "carol")
        await write(local, w, "CreateGroup", UserPoolId=pool_id, GroupName="admins")
        await write(local, w, "AdminAddUserToGroup", UserPoolId=pool_id, Username="alice", GroupName="admins")

        local.advance_clock(60)  # the accident: a minute later
        await write(local, w, "AdminDeleteUser", UserPoolId=pool_id, Username="bob")
        await write(
            local,
            w,
            "AdminUpdateUserAttributes",
            UserPoolId=pool_id,
            Username="alice",
            UserAttributes=[{"Name": "given_name", "Value": "Mallory"}],
        )
        await write(
            local, w, "AdminRemoveUserFromGroup", UserPoolId=pool_id, Username="alice", GroupName="admins"
        )
        await write(
            local,
            w,
            "AdminSetUserSettings",
            UserPoolId=pool_id,
            Username="alice",
            MFAOptions=[{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}],
        )
        await new_user(local, w, pool_id, "dave")
        await write(local, w, "CreateGroup", UserPoolId=pool_id, GroupName="late")
        await write(
            local,
            w,
            "AdminSetUserPassword",
            UserPoolId=pool_id,
            Username="carol",
            Password="N3w-Passw0rd!",
            Permanent=True,
        )

        local.advance_clock(20 * 60)
        await w.refused(
            "InvalidParameterException",
            "InitiatePointInTimeRecovery",
            UserPoolId=pool_id,
            RestoreTimestamp=local.now() - 60,
        )
        await w.refused(
            "InvalidParameterException",
            "InitiatePointInTimeRecovery",
            UserPoolId=pool_id,
            RestoreTimestamp=created_at - 10,
        )
        restore_to = created_at + 30
        initiated = await w.call(
            "InitiatePointInTimeRecovery", UserPoolId=pool_id, RestoreTimestamp=restore_to
        )
        restoration = initiated["Restoration"]
        assert restoration["RestoreStatus"] == "PREVIEW_GENERATING"
        assert restoration["RestoreTimestamp"] == restore_to
        assert restoration["TriggerTimestamp"] == pytest.approx(local.now())
        assert "RestorePreview" not in restoration
        restore_id = restoration["RestoreId"]

        described = (await w.call("DescribePointInTimeRecovery", UserPoolId=pool_id, RestoreId=restore_id))[
            "Restoration"
        ]
        assert described["RestoreStatus"] == "PREVIEW_GENERATED"
        # bob comes back, alice is reverted (carol keeps her newer password: no change), dave goes
        assert preview(described) == {
            "Users": (1, 1, 1),
            "Groups": (0, 0, 1),
            "User MFAs": (0, 0, 1),
            "Passkeys": (0, 0, 0),
        }

        # writes are paused, reads go on; one active recovery at a time
        with pytest.raises(errors.OperationNotEnabledException):
            before_operation(local._state, "AdminCreateUser", {"UserPoolId": pool_id, "Username": "erin"})
        with pytest.raises(errors.OperationNotEnabledException):
            before_operation(
                local._state,
                "RespondToAuthChallenge",
                {"ClientId": client_id, "ChallengeName": "NEW_PASSWORD_REQUIRED", "ChallengeResponses": {}},
            )
        await w.call("AdminGetUser", UserPoolId=pool_id, Username="alice")
        await w.refused(
            "LimitExceededException",
            "InitiatePointInTimeRecovery",
            UserPoolId=pool_id,
            RestoreTimestamp=restore_to,
        )
        listed = (await w.call("ListPointInTimeRecoveries", UserPoolId=pool_id))["Restorations"]
        assert listed == [
            {"RestoreId": restore_id, "RestoreStatus": "PREVIEW_GENERATED", "RestoreTimestamp": restore_to}
        ]

        started = (await w.call("StartPointInTimeRecovery", UserPoolId=pool_id, RestoreId=restore_id))[
            "Restoration"
        ]
        assert started["RestoreStatus"] == "RESTORING"
        assert preview(started) == preview(described)
        described = (await w.call("DescribePointInTimeRecovery", UserPoolId=pool_id, RestoreId=restore_id))[
            "Restoration"
        ]
        assert described["RestoreStatus"] == "RESTORE_COMPLETED"

        # the users and groups as they were at the recovery point
        got_bob = await w.call("AdminGetUser", UserPoolId=pool_id, Username="bob")
        assert {"Name": "sub", "Value": bob} in got_bob["UserAttributes"]
        got_alice = await w.call("AdminGetUser", UserPoolId=pool_id, Username="alice")
        assert {"Name": "given_name", "Value": "Alice"} in got_alice["UserAttributes"]
        assert {"Name": "sub", "Value": alice} in got_alice["UserAttributes"]
        assert "MFAOptions" not in got_alice
        groups = await w.call("AdminListGroupsForUser", UserPoolId=pool_id, Username="alice")
        assert [g["GroupName"] for g in groups["Groups"]] == ["admins"]
        await w.refused("UserNotFoundException", "AdminGetUser", UserPoolId=pool_id, Username="dave")
        await w.refused("ResourceNotFoundException", "GetGroup", UserPoolId=pool_id, GroupName="late")
        # passwords: bob's as it was; carol changed hers since, and keeps it
        for name, password in (("bob", PASSWORD), ("carol", "N3w-Passw0rd!")):
            await w.call(
                "AdminInitiateAuth",
                UserPoolId=pool_id,
                ClientId=client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": name, "PASSWORD": password},
            )

        # writes resume; one completed recovery a day; a started recovery can be neither started nor cancelled
        await new_user(local, w, pool_id, "erin")
        await w.refused(
            "LimitExceededException",
            "InitiatePointInTimeRecovery",
            UserPoolId=pool_id,
            RestoreTimestamp=restore_to,
        )
        await w.refused(
            "InvalidParameterException", "StartPointInTimeRecovery", UserPoolId=pool_id, RestoreId=restore_id
        )
        await w.refused(
            "InvalidParameterException", "CancelPointInTimeRecovery", UserPoolId=pool_id, RestoreId=restore_id
        )

        # a day later, recovering to before the first recovery brings dave back (and takes erin away)
        local.advance_clock(DAY)
        second = await w.call(
            "InitiatePointInTimeRecovery", UserPoolId=pool_id, RestoreTimestamp=created_at + 90
        )
        second_id = second["Restoration"]["RestoreId"]
        described = (await w.call("DescribePointInTimeRecovery", UserPoolId=pool_id, RestoreId=second_id))[
            "Restoration"
        ]
        assert preview(described)["Users"] == (1, 1, 2)  # dave back; alice as changed; bob and erin gone
        listed = await w.call("ListPointInTimeRecoveries", UserPoolId=pool_id, MaxResults=1)
        assert [r["RestoreId"] for r in listed["Restorations"]] == [second_id]
        rest = await w.call("ListPointInTimeRecoveries", UserPoolId=pool_id, NextToken=listed["NextToken"])
        assert [r["RestoreId"] for r in rest["Restorations"]] == [restore_id]
        w.check_walked(test_point_in_time_recovery_restores_users_and_groups)


@walks("InitiatePointInTimeRecovery", "CancelPointInTimeRecovery", "DescribePointInTimeRecovery")
async def test_point_in_time_recovery_plans_cancel_expiry_and_limits() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        lite = (await w.call("CreateUserPool", PoolName="lite", UserPoolTier="LITE"))["UserPool"]["Id"]
        essentials = (await w.call("CreateUserPool", PoolName="essentials"))["UserPool"]["Id"]
        plus = (await w.call("CreateUserPool", PoolName="plus", UserPoolTier="PLUS"))["UserPool"]["Id"]
        start = local.now()
        local.advance_clock(2 * DAY)
        point = start + 60
        await w.refused(
            "FeatureUnavailableInTierException",
            "InitiatePointInTimeRecovery",
            UserPoolId=lite,
            RestoreTimestamp=point,
        )
        await w.refused("FeatureUnavailableInTierException", "ListPointInTimeRecoveries", UserPoolId=lite)
        await w.refused(
            "ResourceNotFoundException",
            "InitiatePointInTimeRecovery",
            UserPoolId="us-east-1_nope",
            RestoreTimestamp=point,
        )
        # Essentials recovers up to a day back; Plus 14 days, when it was Plus all along
        await w.refused(
            "InvalidParameterException",
            "InitiatePointInTimeRecovery",
            UserPoolId=essentials,
            RestoreTimestamp=point,
        )
        await write(local, w, "UpdateUserPool", UserPoolId=essentials, UserPoolTier="PLUS")
        await w.refused(
            "InvalidParameterException",
            "InitiatePointInTimeRecovery",
            UserPoolId=essentials,
            RestoreTimestamp=point,
        )
        await w.refused(
            "InvalidParameterException",
            "InitiatePointInTimeRecovery",
            UserPoolId=plus,
            RestoreTimestamp=local.now() - 15 * DAY,
        )
        first = (await w.call("InitiatePointInTimeRecovery", UserPoolId=plus, RestoreTimestamp=point))[
            "Restoration"
        ]
        await w.refused(
            "ResourceNotFoundException",
            "DescribePointInTimeRecovery",
            UserPoolId=plus,
            RestoreId="00000000-0000-4000-8000-000000000000",
        )

        # Cancel discards the preview and resumes writes
        cancelled = await w.call("CancelPointInTimeRecovery", UserPoolId=plus, RestoreId=first["RestoreId"])
        assert cancelled["Restoration"]["RestoreStatus"] == "PREVIEW_CANCELLED"
        assert "RestorePreview" not in cancelled["Restoration"]
        described = await w.call("DescribePointInTimeRecovery", UserPoolId=plus, RestoreId=first["RestoreId"])
        assert described["Restoration"]["RestoreStatus"] == "PREVIEW_CANCELLED"
        await w.refused(
            "InvalidParameterException",
            "CancelPointInTimeRecovery",
            UserPoolId=plus,
            RestoreId=first["RestoreId"],
        )
        await w.refused(
            "InvalidParameterException",
            "StartPointInTimeRecovery",
            UserPoolId=plus,
            RestoreId=first["RestoreId"],
        )
        await new_user(local, w, plus, "alice")

        # a preview neither started nor cancelled expires after 24 hours, and writes resume
        second = (await w.call("InitiatePointInTimeRecovery", UserPoolId=plus, RestoreTimestamp=point))[
            "Restoration"
        ]
        with pytest.raises(errors.OperationNotEnabledException):
            before_operation(local._state, "CreateGroup", {"UserPoolId": plus, "GroupName": "g"})
        local.advance_clock(DAY)
        described = await w.call(
            "DescribePointInTimeRecovery", UserPoolId=plus, RestoreId=second["RestoreId"]
        )
        assert described["Restoration"]["RestoreStatus"] == "PREVIEW_EXPIRED"
        assert "RestorePreview" not in described["Restoration"]
        await write(local, w, "CreateGroup", UserPoolId=plus, GroupName="g")

        # three previews of a pool a day
        for _ in range(3):
            made = await w.call("InitiatePointInTimeRecovery", UserPoolId=plus, RestoreTimestamp=point)
            await w.call(
                "CancelPointInTimeRecovery", UserPoolId=plus, RestoreId=made["Restoration"]["RestoreId"]
            )
        await w.refused(
            "LimitExceededException", "InitiatePointInTimeRecovery", UserPoolId=plus, RestoreTimestamp=point
        )
        w.check_walked(test_point_in_time_recovery_plans_cancel_expiry_and_limits)


async def test_snapshots_are_kept_at_most_once_a_second() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = (await w.call("CreateUserPool", PoolName="p"))["UserPool"]["Id"]
        pool = local._state.pools[pool_id]
        for name in ("a", "b", "c"):
            await new_user(local, w, pool_id, name)
        history = pool.features["point_in_time_recovery"]
        assert len(history.snapshots) == 1 and not history.snapshots[0].users
        local.advance_clock(recovery.SNAPSHOT_INTERVAL)
        await new_user(local, w, pool_id, "d")
        assert [len(s.users) for s in history.snapshots] == [0, 3]
        # operations that write no user data take no copy
        before_operation(local._state, "AdminGetUser", {"UserPoolId": pool_id, "Username": "a"})
        assert len(history.snapshots) == 2


async def test_recovery_restores_passkeys_and_mfa_secrets() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = (await w.call("CreateUserPool", PoolName="p", UserPoolTier="PLUS"))["UserPool"]["Id"]
        created_at = local.now()
        sub = await new_user(local, w, pool_id, "alice")
        pool, state = local._state.pools[pool_id], local._state
        passkeys = pool.features.setdefault("webauthn_credentials", {})
        passkeys[sub] = [{"CredentialId": "c1", "FriendlyCredentialName": "laptop", "sign_count": 1}]

        local.advance_clock(60)
        await write(local, w, "CreateGroup", UserPoolId=pool_id, GroupName="g")  # a copy is kept first
        passkeys[sub].append({"CredentialId": "c2", "FriendlyCredentialName": "phone", "sign_count": 0})
        passkeys[sub][0]["sign_count"] = 5  # a sign-in, not a write
        state.secrets_for((pool_id, sub)).email_mfa_enabled = True

        local.advance_clock(20 * 60)
        made = await w.call(
            "InitiatePointInTimeRecovery", UserPoolId=pool_id, RestoreTimestamp=created_at + 30
        )
        restore_id = made["Restoration"]["RestoreId"]
        described = await w.call("DescribePointInTimeRecovery", UserPoolId=pool_id, RestoreId=restore_id)
        assert preview(described["Restoration"]) == {
            "Users": (0, 0, 0),
            "Groups": (0, 0, 1),
            "User MFAs": (0, 0, 1),
            "Passkeys": (0, 0, 1),
        }
        await w.call("StartPointInTimeRecovery", UserPoolId=pool_id, RestoreId=restore_id)
        restored = pool.features["webauthn_credentials"][sub]
        assert [(c["CredentialId"], c["sign_count"]) for c in restored] == [("c1", 5)]
        assert state.secrets_for((pool_id, sub)).email_mfa_enabled is False
        assert "g" not in pool.groups


async def test_copies_share_unchanged_users_and_thin_out_with_age() -> None:
    from aiocognito.testing import _snapshots

    async with LocalUserPool() as local:
        pool_id = await local.create_user_pool()
        for n in range(50):
            await local.create_user(pool_id, f"user{n}", "Passw0rd!")
        pool = local._state.pools[pool_id]
        first = _snapshots.take(local._state, pool, local.now())
        await local.call("AdminDisableUser", UserPoolId=pool_id, Username="user7")
        second = _snapshots.take(local._state, pool, local.now(), first)
        changed = pool.users["user7"].sub
        assert second.users[changed] is not first.users[changed] and not second.users[changed].enabled
        assert all(second.users[s] is first.users[s] for s in first.users if s != changed)
        # one copy a second of writes for a day: a few hundred are kept, spread over the whole day
        kept: list[_snapshots.Snapshot] = []
        for _ in range(86_400 // 60):
            local.advance_clock(60)
            kept = _snapshots.keep(local._state, pool, kept, local.now(), 15 * 86_400.0, force=False)
        assert 20 < len(kept) < 200
        ages = [local.now() - s.taken_at for s in kept]
        assert max(ages) > 86_000 and min(ages) < 1  # the oldest copy stays
