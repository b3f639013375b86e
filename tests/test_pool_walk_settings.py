"""Walk of the per-pool settings: risk configuration, log delivery, tags, terms, sessions, provisioned limits."""

from __future__ import annotations

import re
from typing import Any

from walk import Walker, walks

from aiocognito.testing import LocalUserPool
from aiocognito.testing._api.settings import risk_exception

SES = "arn:aws:ses:us-east-1:123456789012:identity/security@example.com"
TERMS_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


async def _pool(w: Walker, name: str = "p", **extra: Any) -> dict[str, Any]:
    pool: dict[str, Any] = (await w.call("CreateUserPool", PoolName=name, **extra))["UserPool"]
    return pool


async def _client(w: Walker, pool_id: str, name: str = "app") -> str:
    created = await w.call("CreateUserPoolClient", UserPoolId=pool_id, ClientName=name)
    return str(created["UserPoolClient"]["ClientId"])


@walks("SetRiskConfiguration", "DescribeRiskConfiguration")
async def test_risk_configuration_pool_and_client() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = (await _pool(w, UserPoolTier="PLUS"))["Id"]
        client_id = await _client(w, pool_id)

        nothing = await w.call("DescribeRiskConfiguration", UserPoolId=pool_id)
        assert nothing["RiskConfiguration"] == {"UserPoolId": pool_id}

        pool_level = {
            "CompromisedCredentialsRiskConfiguration": {"Actions": {"EventAction": "BLOCK"}},
            "AccountTakeoverRiskConfiguration": {
                "NotifyConfiguration": {"SourceArn": SES, "From": "security@example.com"},
                "Actions": {
                    "HighAction": {"EventAction": "BLOCK", "Notify": True},
                    "MediumAction": {"EventAction": "MFA_REQUIRED", "Notify": False},
                },
            },
            "RiskExceptionConfiguration": {
                "BlockedIPRangeList": ["203.0.113.0/24"],
                "SkippedIPRangeList": ["10.0.0.0/8", "2001:db8::/32"],
            },
        }
        set_answer = (await w.call("SetRiskConfiguration", UserPoolId=pool_id, **pool_level))[
            "RiskConfiguration"
        ]
        assert set_answer["UserPoolId"] == pool_id and "ClientId" not in set_answer
        # Compromised credentials watch every event unless told otherwise.
        watched = set_answer["CompromisedCredentialsRiskConfiguration"]["EventFilter"]
        assert sorted(watched) == ["PASSWORD_CHANGE", "SIGN_IN", "SIGN_UP"]
        assert (
            set_answer["AccountTakeoverRiskConfiguration"] == pool_level["AccountTakeoverRiskConfiguration"]
        )
        described = await w.call("DescribeRiskConfiguration", UserPoolId=pool_id)
        assert described["RiskConfiguration"] == set_answer
        # A client without its own configuration gets the pool's.
        inherited = await w.call("DescribeRiskConfiguration", UserPoolId=pool_id, ClientId=client_id)
        assert inherited["RiskConfiguration"] == set_answer

        own = {
            "CompromisedCredentialsRiskConfiguration": {
                "EventFilter": ["SIGN_UP"],
                "Actions": {"EventAction": "NO_ACTION"},
            }
        }
        await w.call("SetRiskConfiguration", UserPoolId=pool_id, ClientId=client_id, **own)
        mine = (await w.call("DescribeRiskConfiguration", UserPoolId=pool_id, ClientId=client_id))[
            "RiskConfiguration"
        ]
        assert mine["ClientId"] == client_id
        assert (
            mine["CompromisedCredentialsRiskConfiguration"] == own["CompromisedCredentialsRiskConfiguration"]
        )
        assert "RiskExceptionConfiguration" not in mine  # the client's replaces the pool's, whole
        pool = local._state.pools[pool_id]
        assert risk_exception(pool, None, "203.0.113.9") == "BLOCK"
        assert risk_exception(pool, None, "10.1.2.3") == "SKIP"
        assert risk_exception(pool, client_id, "203.0.113.9") is None
        assert risk_exception(pool, None, "198.51.100.1") is None

        # Only the ids: the client goes back to the pool's, then the pool to nothing configured.
        await w.call("SetRiskConfiguration", UserPoolId=pool_id, ClientId=client_id)
        back = await w.call("DescribeRiskConfiguration", UserPoolId=pool_id, ClientId=client_id)
        assert back["RiskConfiguration"] == set_answer
        reset = (await w.call("SetRiskConfiguration", UserPoolId=pool_id))["RiskConfiguration"]
        assert set(reset) == {"UserPoolId", "LastModifiedDate"}
        assert (await w.call("DescribeRiskConfiguration", UserPoolId=pool_id))["RiskConfiguration"] == reset
        w.check_walked(test_risk_configuration_pool_and_client)


async def test_risk_configuration_refusals() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = (await _pool(w))["Id"]
        other_client = await _client(w, (await _pool(w, "other"))["Id"])
        await w.refused(
            "ResourceNotFoundException", "DescribeRiskConfiguration", UserPoolId="us-east-1_nothere1"
        )
        await w.refused(
            "ResourceNotFoundException", "SetRiskConfiguration", UserPoolId=pool_id, ClientId=other_client
        )
        await w.refused(
            "ResourceNotFoundException",
            "DescribeRiskConfiguration",
            UserPoolId=pool_id,
            ClientId=other_client,
        )
        for bad in ("10.0.0.0", "10.0.0.0/33", "not-an-ip/8"):
            await w.refused(
                "InvalidParameterException",
                "SetRiskConfiguration",
                UserPoolId=pool_id,
                RiskExceptionConfiguration={"BlockedIPRangeList": [bad]},
            )
        notify = {"Actions": {"LowAction": {"EventAction": "NO_ACTION", "Notify": True}}}
        await w.refused(
            "InvalidParameterException",
            "SetRiskConfiguration",
            UserPoolId=pool_id,
            AccountTakeoverRiskConfiguration=notify,
        )
        not_ses = {**notify, "NotifyConfiguration": {"SourceArn": "arn:aws:iam::123456789012:role/r"}}
        await w.refused(
            "InvalidParameterException",
            "SetRiskConfiguration",
            UserPoolId=pool_id,
            AccountTakeoverRiskConfiguration=not_ses,
        )
        assert (await w.call("DescribeRiskConfiguration", UserPoolId=pool_id))["RiskConfiguration"] == {
            "UserPoolId": pool_id
        }


def _cloudwatch(account: str, name: str = "cognito") -> dict[str, str]:
    return {"LogGroupArn": f"arn:aws:logs:us-east-1:{account}:log-group:{name}"}


@walks("SetLogDeliveryConfiguration", "GetLogDeliveryConfiguration", "CreateUserPool")
async def test_log_delivery() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        essentials = await _pool(w)
        account = essentials["Arn"].split(":")[4]
        pool_id = essentials["Id"]
        empty = await w.call("GetLogDeliveryConfiguration", UserPoolId=pool_id)
        assert empty["LogDeliveryConfiguration"] == {"UserPoolId": pool_id, "LogConfigurations": []}

        notification = {
            "LogLevel": "ERROR",
            "EventSource": "userNotification",
            "CloudWatchLogsConfiguration": _cloudwatch(account),
        }
        answer = await w.call(
            "SetLogDeliveryConfiguration", UserPoolId=pool_id, LogConfigurations=[notification]
        )
        assert answer["LogDeliveryConfiguration"]["LogConfigurations"] == [notification]
        got = await w.call("GetLogDeliveryConfiguration", UserPoolId=pool_id)
        assert got == answer

        auth_events = {
            "LogLevel": "INFO",
            "EventSource": "userAuthEvents",
            "FirehoseConfiguration": {"StreamArn": f"arn:aws:firehose:us-east-1:{account}:deliverystream/s"},
        }
        both = [notification, auth_events]
        # User activity logs need the PLUS plan.
        await w.refused(
            "FeatureUnavailableInTierException",
            "SetLogDeliveryConfiguration",
            UserPoolId=pool_id,
            LogConfigurations=both,
        )
        plus_id = (await _pool(w, "plus", UserPoolTier="PLUS"))["Id"]
        await w.call("SetLogDeliveryConfiguration", UserPoolId=plus_id, LogConfigurations=both)
        assert (await w.call("GetLogDeliveryConfiguration", UserPoolId=plus_id))["LogDeliveryConfiguration"][
            "LogConfigurations"
        ] == both
        s3 = {**auth_events, "S3Configuration": {"BucketArn": "arn:aws:s3:::logs-bucket"}}
        del s3["FirehoseConfiguration"]
        await w.call("SetLogDeliveryConfiguration", UserPoolId=plus_id, LogConfigurations=[s3])

        refused = [
            [notification, notification],  # one configuration per event source
            [{**notification, "LogLevel": "INFO"}],  # userNotification logs at ERROR
            [{**auth_events, "LogLevel": "ERROR"}],  # userAuthEvents at INFO
            [{"LogLevel": "ERROR", "EventSource": "userNotification"}],  # no destination
            [{**s3, "FirehoseConfiguration": auth_events["FirehoseConfiguration"]}],  # two destinations
            [{**notification, "CloudWatchLogsConfiguration": None, "S3Configuration": s3["S3Configuration"]}],
            [{**notification, "CloudWatchLogsConfiguration": _cloudwatch("999999999999")}],  # other account
            [
                {
                    **notification,
                    "CloudWatchLogsConfiguration": {"LogGroupArn": s3["S3Configuration"]["BucketArn"]},
                }
            ],
        ]
        for configurations in refused:
            cleaned = [{k: v for k, v in c.items() if v is not None} for c in configurations]
            await w.refused(
                "InvalidParameterException",
                "SetLogDeliveryConfiguration",
                UserPoolId=plus_id,
                LogConfigurations=cleaned,
            )
        assert (await w.call("GetLogDeliveryConfiguration", UserPoolId=plus_id))["LogDeliveryConfiguration"][
            "LogConfigurations"
        ] == [s3]
        # An empty list turns logging off.
        await w.call("SetLogDeliveryConfiguration", UserPoolId=plus_id, LogConfigurations=[])
        off = await w.call("GetLogDeliveryConfiguration", UserPoolId=plus_id)
        assert off["LogDeliveryConfiguration"]["LogConfigurations"] == []
        await w.refused(
            "ResourceNotFoundException", "GetLogDeliveryConfiguration", UserPoolId="us-east-1_nothere1"
        )
        w.check_walked(test_log_delivery)


@walks("TagResource", "UntagResource", "ListTagsForResource", "DescribeUserPool")
async def test_tags() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool = await _pool(w, UserPoolTags={"team": "auth"})
        arn = pool["Arn"]
        assert (await w.call("ListTagsForResource", ResourceArn=arn))["Tags"] == {"team": "auth"}

        await w.call("TagResource", ResourceArn=arn, Tags={"env": "test", "team": "identity"})
        expected = {"team": "identity", "env": "test"}
        assert (await w.call("ListTagsForResource", ResourceArn=arn))["Tags"] == expected
        described = await w.call("DescribeUserPool", UserPoolId=pool["Id"])
        assert described["UserPool"]["UserPoolTags"] == expected

        await w.call("UntagResource", ResourceArn=arn, TagKeys=["team", "never-set"])
        assert (await w.call("ListTagsForResource", ResourceArn=arn))["Tags"] == {"env": "test"}
        await w.call("UntagResource", ResourceArn=arn, TagKeys=["env"])
        assert (await w.call("ListTagsForResource", ResourceArn=arn))["Tags"] == {}
        assert "UserPoolTags" not in (await w.call("DescribeUserPool", UserPoolId=pool["Id"]))["UserPool"]

        # At most 50 tags, counting those already there; aws: keys are reserved.
        await w.call("TagResource", ResourceArn=arn, Tags={f"k{i}": "v" for i in range(50)})
        await w.refused("InvalidParameterException", "TagResource", ResourceArn=arn, Tags={"one-more": "v"})
        await w.call("TagResource", ResourceArn=arn, Tags={"k0": "replaced"})  # a key already there
        assert len((await w.call("ListTagsForResource", ResourceArn=arn))["Tags"]) == 50
        await w.refused("InvalidParameterException", "TagResource", ResourceArn=arn, Tags={"aws:owner": "x"})

        wrong = arn.rsplit("/", 1)[0] + "/us-east-1_nothere1"
        for operation, extra in (
            ("TagResource", {"Tags": {"a": "b"}}),
            ("UntagResource", {"TagKeys": ["a"]}),
            ("ListTagsForResource", {}),
        ):
            await w.refused("ResourceNotFoundException", operation, ResourceArn=wrong, **extra)
        w.check_walked(test_tags)


@walks(
    "CreateTerms",
    "DescribeTerms",
    "DescribeTermsByClient",
    "UpdateTerms",
    "ListTerms",
    "DeleteTerms",
    "DeleteUserPoolClient",
)
async def test_terms() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = (await _pool(w))["Id"]
        app = await _client(w, pool_id)
        links = {
            "cognito:default": "https://example.com/terms",
            "cognito:french": "https://example.com/fr/terms",
        }
        created = (
            await w.call(
                "CreateTerms",
                UserPoolId=pool_id,
                ClientId=app,
                TermsName="terms-of-use",
                TermsSource="LINK",
                Enforcement="NONE",
                Links=links,
            )
        )["Terms"]
        terms_id = created["TermsId"]
        assert TERMS_ID.match(terms_id)
        assert created["ClientId"] == app and created["Links"] == links
        assert created["CreationDate"] == created["LastModifiedDate"]
        assert (await w.call("DescribeTerms", UserPoolId=pool_id, TermsId=terms_id))["Terms"] == created
        by_client = await w.call(
            "DescribeTermsByClient", UserPoolId=pool_id, ClientId=app, TermsName="terms-of-use"
        )
        assert by_client["Terms"] == created

        one = {
            "TermsSource": "LINK",
            "Enforcement": "NONE",
            "Links": {"cognito:default": "https://example.com/p"},
        }
        await w.refused(
            "TermsExistsException",
            "CreateTerms",
            UserPoolId=pool_id,
            ClientId=app,
            TermsName="terms-of-use",
            **one,
        )
        policy = (
            await w.call("CreateTerms", UserPoolId=pool_id, ClientId=app, TermsName="privacy-policy", **one)
        )["Terms"]
        other_app = await _client(w, pool_id, "other")
        await w.call("CreateTerms", UserPoolId=pool_id, ClientId=other_app, TermsName="terms-of-use", **one)
        no_links = {k: v for k, v in one.items() if k != "Links"}
        await w.refused(
            "InvalidParameterException",
            "CreateTerms",
            UserPoolId=pool_id,
            ClientId=other_app,
            TermsName="privacy-policy",
            **no_links,
        )
        stranger = await _client(w, (await _pool(w, "other"))["Id"])
        await w.refused(
            "ResourceNotFoundException",
            "CreateTerms",
            UserPoolId=pool_id,
            ClientId=stranger,
            TermsName="privacy-policy",
            **one,
        )

        local.advance_clock(5)
        new_links = {"cognito:default": "https://example.com/terms-v2"}
        updated = (await w.call("UpdateTerms", UserPoolId=pool_id, TermsId=terms_id, Links=new_links))[
            "Terms"
        ]
        assert updated["Links"] == new_links and updated["LastModifiedDate"] > created["LastModifiedDate"]
        assert (await w.call("DescribeTerms", UserPoolId=pool_id, TermsId=terms_id))["Terms"] == updated
        # A rename onto the app client's other document is a duplicate.
        await w.refused(
            "TermsExistsException",
            "UpdateTerms",
            UserPoolId=pool_id,
            TermsId=terms_id,
            TermsName="privacy-policy",
        )

        listed: list[dict[str, Any]] = []
        params: dict[str, Any] = {"UserPoolId": pool_id, "MaxResults": 2}
        while True:
            answer = await w.call("ListTerms", **params)
            listed += answer["Terms"]
            if "NextToken" not in answer:
                break
            params["NextToken"] = answer["NextToken"]
        assert len(listed) == 3 and listed[0] == {
            k: updated[k] for k in ("TermsId", "TermsName", "Enforcement", "CreationDate", "LastModifiedDate")
        }

        await w.call("DeleteTerms", UserPoolId=pool_id, TermsId=policy["TermsId"])
        await w.refused(
            "ResourceNotFoundException", "DescribeTerms", UserPoolId=pool_id, TermsId=policy["TermsId"]
        )
        await w.refused(
            "ResourceNotFoundException", "DeleteTerms", UserPoolId=pool_id, TermsId=policy["TermsId"]
        )
        await w.refused(
            "ResourceNotFoundException",
            "DescribeTermsByClient",
            UserPoolId=pool_id,
            ClientId=app,
            TermsName="privacy-policy",
        )
        # The terms of a deleted app client go with it.
        await w.call("DeleteUserPoolClient", UserPoolId=pool_id, ClientId=other_app)
        remaining = (await w.call("ListTerms", UserPoolId=pool_id))["Terms"]
        assert [t["TermsId"] for t in remaining] == [terms_id]
        w.check_walked(test_terms)


@walks(
    "GetUserPoolSessionConfiguration",
    "SetUserPoolSessionConfiguration",
    "GetUserPoolClientSessionConfiguration",
    "SetUserPoolClientSessionConfiguration",
)
async def test_session_configuration() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = (await _pool(w))["Id"]
        app = await _client(w, pool_id)
        defaults = await w.call("GetUserPoolSessionConfiguration", UserPoolId=pool_id)
        assert defaults == {
            "UserPoolId": pool_id,
            "UserSessionTracking": "DISABLED",
            "TokenSession": {"MaxPerUser": 20},
        }
        client_defaults = await w.call(
            "GetUserPoolClientSessionConfiguration", UserPoolId=pool_id, ClientId=app
        )
        assert client_defaults == {
            "UserPoolId": pool_id,
            "ClientId": app,
            "SSOSession": {"MaxValidityMinutes": 60},
        }

        sso = {"MaxValidityMinutes": 120}
        await w.refused(  # session tracking is off in the pool
            "InvalidParameterException",
            "SetUserPoolClientSessionConfiguration",
            UserPoolId=pool_id,
            ClientId=app,
            SSOSession=sso,
        )
        enabled = await w.call(
            "SetUserPoolSessionConfiguration",
            UserPoolId=pool_id,
            UserSessionTracking="ENABLED",
            TokenSession={"MaxPerUser": 5},
        )
        assert enabled == {
            "UserPoolId": pool_id,
            "UserSessionTracking": "ENABLED",
            "TokenSession": {"MaxPerUser": 5},
        }
        assert await w.call("GetUserPoolSessionConfiguration", UserPoolId=pool_id) == enabled
        set_client = await w.call(
            "SetUserPoolClientSessionConfiguration", UserPoolId=pool_id, ClientId=app, SSOSession=sso
        )
        assert set_client == {"UserPoolId": pool_id, "ClientId": app, "SSOSession": sso}
        assert (
            await w.call("GetUserPoolClientSessionConfiguration", UserPoolId=pool_id, ClientId=app)
            == set_client
        )

        # Tracking off: the client's settings stay, dormant.
        await w.call(
            "SetUserPoolSessionConfiguration",
            UserPoolId=pool_id,
            UserSessionTracking="DISABLED",
            TokenSession={"MaxPerUser": 5},
        )
        assert (
            await w.call("GetUserPoolClientSessionConfiguration", UserPoolId=pool_id, ClientId=app)
            == set_client
        )

        stranger = await _client(w, (await _pool(w, "other"))["Id"])
        await w.refused(
            "ResourceNotFoundException",
            "GetUserPoolClientSessionConfiguration",
            UserPoolId=pool_id,
            ClientId=stranger,
        )
        await w.refused(
            "InvalidParameterException",  # the model's range: 1..100
            "SetUserPoolSessionConfiguration",
            UserPoolId=pool_id,
            UserSessionTracking="ENABLED",
            TokenSession={"MaxPerUser": 101},
        )
        lite_id = (await _pool(w, "lite", UserPoolTier="LITE"))["Id"]
        lite_app = await _client(w, lite_id)
        await w.refused(
            "FeatureUnavailableInTierException",
            "SetUserPoolSessionConfiguration",
            UserPoolId=lite_id,
            UserSessionTracking="ENABLED",
            TokenSession={"MaxPerUser": 5},
        )
        await w.refused(
            "FeatureUnavailableInTierException",
            "SetUserPoolClientSessionConfiguration",
            UserPoolId=lite_id,
            ClientId=lite_app,
            SSOSession=sso,
        )
        w.check_walked(test_session_configuration)


def _category(name: str) -> dict[str, Any]:
    return {"LimitClass": "API_CATEGORY", "Attributes": {"Category": name}}


@walks("GetProvisionedLimit", "UpdateProvisionedLimit")
async def test_provisioned_limits() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        first = await w.call("GetProvisionedLimit", LimitDefinition=_category("UserCreation"))
        assert first == {
            "Limit": {
                "LimitDefinition": _category("UserCreation"),
                "ProvisionedLimitValue": 50,
                "FreeLimitValue": 50,
            }
        }
        raised = await w.call(
            "UpdateProvisionedLimit", LimitDefinition=_category("UserCreation"), RequestedLimitValue=80
        )
        assert raised["Limit"]["ProvisionedLimitValue"] == 80 and raised["Limit"]["FreeLimitValue"] == 50
        assert await w.call("GetProvisionedLimit", LimitDefinition=_category("UserCreation")) == raised
        # Other categories keep their defaults.
        read = await w.call("GetProvisionedLimit", LimitDefinition=_category("UserAuthentication"))
        assert read["Limit"]["ProvisionedLimitValue"] == read["Limit"]["FreeLimitValue"] == 120

        await w.refused(
            "InvalidParameterException",
            "UpdateProvisionedLimit",
            LimitDefinition=_category("UserCreation"),
            RequestedLimitValue=49,
        )
        await w.refused(
            "ServiceQuotaExceededException",
            "UpdateProvisionedLimit",
            LimitDefinition=_category("UserCreation"),
            RequestedLimitValue=501,
        )
        await w.refused(
            "InvalidParameterException", "GetProvisionedLimit", LimitDefinition=_category("UserDancing")
        )
        await w.refused(
            "InvalidParameterException",
            "GetProvisionedLimit",
            LimitDefinition={"LimitClass": "API_CATEGORY", "Attributes": {"Kind": "UserCreation"}},
        )
        # Back down to the default is allowed.
        await w.call(
            "UpdateProvisionedLimit", LimitDefinition=_category("UserCreation"), RequestedLimitValue=50
        )
        assert (await w.call("GetProvisionedLimit", LimitDefinition=_category("UserCreation")))["Limit"][
            "ProvisionedLimitValue"
        ] == 50
        w.check_walked(test_provisioned_limits)
    # The settings belong to the account of one local pool: a new one starts at the defaults.
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        fresh = await w.call("GetProvisionedLimit", LimitDefinition=_category("UserRead"))
        assert fresh["Limit"]["ProvisionedLimitValue"] == 120
