"""Per-pool settings: threat protection (risk configuration), log delivery, tags, terms documents, session
configuration and the account's provisioned API limits.

As Cognito does them:

* **Risk configuration** (SetRiskConfiguration, DescribeRiskConfiguration): one configuration for the pool
  and, optionally, one per app client, which then replaces the pool's for that client. A request with only
  the ids resets: the pool's to nothing configured, a client's to inheriting the pool's. Describing a client
  without its own configuration answers the pool's (without ``ClientId``: it is the pool's). Compromised
  credentials watch every event (SIGN_IN, PASSWORD_CHANGE, SIGN_UP) unless an EventFilter says otherwise;
  an action that notifies needs a NotifyConfiguration with an SES identity; IP exceptions are CIDR ranges.
  Neither the plan nor UserPoolAddOns is required to set it (Terraform's acceptance tests set it on a plain
  pool): it is data until UserPoolAddOns turns threat protection on (``UpdateUserPool``).
  *Stored*: there is no risk engine offline (adaptive authentication, breached-password lookups and the
  notification e-mails need Cognito's service); :func:`risk_exception` gives the always-block / never-check
  decision of the IP lists for a sign-in to use.
* **Log delivery** (Set/GetLogDeliveryConfiguration): at most one configuration per event source, each with
  exactly one destination: ``userNotification`` logs at ERROR to a CloudWatch Logs group of the pool's
  account; ``userAuthEvents`` at INFO to CloudWatch Logs, Firehose or S3, on the PLUS plan only. Setting
  replaces the whole list (an empty list turns logging off). *Stored*: nothing is delivered offline.
* **Tags** (TagResource, UntagResource, ListTagsForResource) on the pool's ARN: at most 50 per pool, keys
  starting ``aws:`` are reserved. They are the pool's ``UserPoolTags``, so DescribeUserPool agrees.
* **Terms documents** (Create/Update/Delete/Describe/ListTerms, DescribeTermsByClient): per app client, one
  ``terms-of-use`` and one ``privacy-policy`` (TermsExistsException for a second of either), links by
  language, ids as Cognito's (UUID v4). Terms of a deleted app client go with it.
* **Session configuration** (Get/Set UserPool[Client]SessionConfiguration): every Set replaces the whole
  configuration, on the ESSENTIALS or PLUS plan only; a client's needs session tracking on in the pool;
  Get answers Cognito's defaults (tracking DISABLED, 20 sessions per user; SSO reuse for 60 minutes) until
  set. Turning tracking off keeps the clients' settings, dormant. *Stored*: the local pool does not evict
  sessions at sign-in or reuse SSO sessions by them yet.
* **Provisioned limits** (Get/UpdateProvisionedLimit): account-level, per API category, with the free value
  from :data:`aiocognito.quotas.CATEGORY_RPS`; an update lies between that and the account's Service Quotas
  maximum, which for the local account is ten times the free value (ServiceQuotaExceededException above).
  A provisioned limit is enforced: calls of that category above it are refused with
  ``TooManyRequestsException`` (``testing/_throttle.py``; ``LocalUserPool(quotas=...)`` wins over it).
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ... import errors
from ...quotas import CATEGORY_RPS
from .. import _ids
from .._records import UserPool
from .._session_config import session_configuration, sessions_store
from ._base import Context, Route, page

if TYPE_CHECKING:
    from .._state import PoolState

__all__ = ["ROUTES", "FIDELITY", "risk_exception", "session_configuration"]


def _client_id(ctx: Context, pool: UserPool, params: Mapping[str, Any]) -> str | None:
    """The request's ClientId, checked to be an app client of ``pool`` (None when not given)."""
    client_id = params.get("ClientId")
    if client_id is None:
        return None
    ctx.lookups.client(client_id, pool.id)
    return str(client_id)


# ===== risk configuration =================================================================================
_ALL_EVENTS = ("SIGN_IN", "PASSWORD_CHANGE", "SIGN_UP")
_RISK_MEMBERS = (
    "CompromisedCredentialsRiskConfiguration",
    "AccountTakeoverRiskConfiguration",
    "RiskExceptionConfiguration",
)


def _risk(pool: UserPool) -> dict[str, Any]:
    """``{"pool": RiskConfigurationType | None, "clients": {client id: RiskConfigurationType}}``."""
    store: dict[str, Any] = pool.features.setdefault("risk", {"pool": None, "clients": {}})
    return store


def _check_cidrs(ranges: list[str]) -> None:
    for text in ranges:
        try:
            if "/" not in text:
                raise ValueError(text)
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise errors.InvalidParameterException(
                f"{text} is not an IP address range in CIDR notation."
            ) from None


def _risk_settings(params: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration members of a SetRiskConfiguration request, checked, with Cognito's defaults."""
    config = {name: copy.deepcopy(params[name]) for name in _RISK_MEMBERS if params.get(name) is not None}
    compromised = config.get("CompromisedCredentialsRiskConfiguration")
    if compromised is not None and not compromised.get("EventFilter"):
        compromised["EventFilter"] = list(_ALL_EVENTS)
    takeover = config.get("AccountTakeoverRiskConfiguration")
    if takeover is not None:
        actions = takeover.get("Actions") or {}
        notifies = any(action.get("Notify") for action in actions.values())
        notify = takeover.get("NotifyConfiguration")
        if notifies and notify is None:
            raise errors.InvalidParameterException(
                "NotifyConfiguration is required when an account takeover action notifies the user."
            )
        if notify is not None and str(notify["SourceArn"]).split(":")[2:3] != ["ses"]:
            raise errors.InvalidParameterException("SourceArn must be the ARN of an Amazon SES identity.")
    exceptions = config.get("RiskExceptionConfiguration")
    if exceptions is not None:
        _check_cidrs([*exceptions.get("BlockedIPRangeList", []), *exceptions.get("SkippedIPRangeList", [])])
    return config


def set_risk_configuration(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    client_id = _client_id(ctx, pool, params)
    config = _risk_settings(params)
    record: dict[str, Any] = {"UserPoolId": pool.id}
    if client_id is not None:
        record["ClientId"] = client_id
    record.update(config)
    record["LastModifiedDate"] = ctx.state.now()
    store = _risk(pool)
    if client_id is None:
        store["pool"] = record
    elif config:
        store["clients"][client_id] = record
    else:  # back to the pool's configuration
        store["clients"].pop(client_id, None)
    return {"RiskConfiguration": copy.deepcopy(record)}


def _effective_risk(pool: UserPool, client_id: str | None) -> dict[str, Any] | None:
    store = _risk(pool)
    found: dict[str, Any] | None = store["clients"].get(client_id) if client_id else None
    return found if found is not None else store["pool"]


def describe_risk_configuration(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    found = _effective_risk(pool, _client_id(ctx, pool, params))
    return {"RiskConfiguration": copy.deepcopy(found) if found is not None else {"UserPoolId": pool.id}}


def risk_exception(pool: UserPool, client_id: str | None, ip: str) -> str | None:
    """What the IP lists of the configuration in force say of ``ip``: ``"BLOCK"`` (always block),
    ``"SKIP"`` (never assess), or None. Cognito applies them while threat protection is on."""
    found = _effective_risk(pool, client_id)
    lists = (found or {}).get("RiskExceptionConfiguration") or {}
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    for decision, member in (("BLOCK", "BlockedIPRangeList"), ("SKIP", "SkippedIPRangeList")):
        if any(address in ipaddress.ip_network(cidr, strict=False) for cidr in lists.get(member, [])):
            return decision
    return None


# ===== log delivery =======================================================================================
# event source -> (log level, destinations it may use)
_LOG_SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "userNotification": ("ERROR", ("CloudWatchLogsConfiguration",)),
    "userAuthEvents": ("INFO", ("CloudWatchLogsConfiguration", "FirehoseConfiguration", "S3Configuration")),
}
# destination -> (its ARN member, the ARN's service)
_LOG_DESTINATIONS = {
    "CloudWatchLogsConfiguration": ("LogGroupArn", "logs"),
    "FirehoseConfiguration": ("StreamArn", "firehose"),
    "S3Configuration": ("BucketArn", "s3"),
}


def _check_log_configuration(pool: UserPool, config: Mapping[str, Any]) -> None:
    source = str(config["EventSource"])
    level, allowed = _LOG_SOURCES[source]
    if config["LogLevel"] != level:
        raise errors.InvalidParameterException(f"The log level for {source} must be {level}.")
    destinations = [name for name in _LOG_DESTINATIONS if config.get(name) is not None]
    if len(destinations) != 1:
        raise errors.InvalidParameterException(f"The {source} configuration needs exactly one destination.")
    destination = destinations[0]
    if destination not in allowed:
        raise errors.InvalidParameterException(f"{destination} is not a destination for {source} logs.")
    member, service = _LOG_DESTINATIONS[destination]
    arn = str(config[destination].get(member) or "")
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != service:
        raise errors.InvalidParameterException(f"{member} must be the ARN of a {service} resource.")
    if service == "logs" and parts[4] != pool.account_id:
        raise errors.InvalidParameterException(
            "The log group must be in the same AWS account as the user pool."
        )
    if source == "userAuthEvents" and pool.config.get("UserPoolTier") != "PLUS":
        raise errors.FeatureUnavailableInTierException(
            "User activity logs (userAuthEvents) are only available in the PLUS tier of user pools."
        )


def _log_answer(pool: UserPool) -> dict[str, Any]:
    configurations = copy.deepcopy(pool.features.get("log_delivery", []))
    return {"LogDeliveryConfiguration": {"UserPoolId": pool.id, "LogConfigurations": configurations}}


def set_log_delivery_configuration(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    configurations = copy.deepcopy(list(params["LogConfigurations"]))
    sources = [c["EventSource"] for c in configurations]
    if len(set(sources)) != len(sources):
        raise errors.InvalidParameterException("Only one log configuration per event source is allowed.")
    for config in configurations:
        _check_log_configuration(pool, config)
    pool.features["log_delivery"] = configurations
    return _log_answer(pool)


def get_log_delivery_configuration(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    return _log_answer(ctx.lookups.pool(params["UserPoolId"]))


# ===== tags ===============================================================================================
_MAX_TAGS = 50


def _tagged_pool(ctx: Context, arn: object) -> UserPool:
    for pool in ctx.state.pools.values():
        if pool.arn == arn:
            return pool
    text = str(arn)
    name = text.rpartition(":userpool/")[2] if ":userpool/" in text else text
    raise errors.ResourceNotFoundException(f"User pool {name} does not exist.")


def tag_resource(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = _tagged_pool(ctx, params["ResourceArn"])
    given = {str(k): str(v) for k, v in params["Tags"].items()}
    if any(key.lower().startswith("aws:") for key in given):
        raise errors.InvalidParameterException("Tag keys starting with aws: are reserved for AWS use.")
    tags = {**pool.config.get("UserPoolTags", {}), **given}
    if len(tags) > _MAX_TAGS:
        raise errors.InvalidParameterException(f"A user pool can have at most {_MAX_TAGS} tags.")
    pool.config["UserPoolTags"] = tags
    return {}


def untag_resource(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = _tagged_pool(ctx, params["ResourceArn"])
    drop = set(params["TagKeys"])
    tags = {k: v for k, v in pool.config.get("UserPoolTags", {}).items() if k not in drop}
    if tags:
        pool.config["UserPoolTags"] = tags
    else:
        pool.config.pop("UserPoolTags", None)
    return {}


def list_tags_for_resource(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = _tagged_pool(ctx, params["ResourceArn"])
    return {"Tags": dict(pool.config.get("UserPoolTags", {}))}


# ===== terms documents ====================================================================================
def _terms(pool: UserPool) -> dict[str, dict[str, Any]]:
    """Terms id -> TermsType; the terms of app clients deleted since are dropped here."""
    store: dict[str, dict[str, Any]] = pool.features.setdefault("terms", {})
    for terms_id in [i for i, t in store.items() if t["ClientId"] not in pool.clients]:
        del store[terms_id]
    return store


def _one_terms(ctx: Context, params: Mapping[str, Any]) -> tuple[UserPool, dict[str, Any]]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    found = _terms(pool).get(str(params["TermsId"]))
    if found is None:
        raise errors.ResourceNotFoundException(f"Terms {params['TermsId']} does not exist.")
    return pool, found


def _require_unique(pool: UserPool, client_id: str, name: str, terms_id: str | None = None) -> None:
    for other in _terms(pool).values():
        if other["ClientId"] == client_id and other["TermsName"] == name and other["TermsId"] != terms_id:
            raise errors.TermsExistsException(f"Terms named {name} already exist for this app client.")


def create_terms(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    client_id = _client_id(ctx, pool, params)
    assert client_id is not None  # required by the input shape
    name = str(params["TermsName"])
    _require_unique(pool, client_id, name)
    if not params.get("Links"):
        raise errors.InvalidParameterException(
            "Links are required for terms documents with TermsSource LINK."
        )
    now = ctx.state.now()
    terms = {
        "TermsId": _ids.sub(ctx.state.random_bytes),
        "UserPoolId": pool.id,
        "ClientId": client_id,
        "TermsName": name,
        "TermsSource": params["TermsSource"],
        "Enforcement": params["Enforcement"],
        "Links": dict(params["Links"]),
        "CreationDate": now,
        "LastModifiedDate": now,
    }
    _terms(pool)[terms["TermsId"]] = terms
    return {"Terms": copy.deepcopy(terms)}


def update_terms(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, terms = _one_terms(ctx, params)
    if params.get("TermsName") is not None:
        _require_unique(pool, terms["ClientId"], str(params["TermsName"]), terms["TermsId"])
    for member in ("TermsName", "TermsSource", "Enforcement", "Links"):
        if params.get(member) is not None:
            terms[member] = copy.deepcopy(params[member])
    terms["LastModifiedDate"] = ctx.state.now()
    return {"Terms": copy.deepcopy(terms)}


def delete_terms(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, terms = _one_terms(ctx, params)
    del _terms(pool)[terms["TermsId"]]
    return {}


def describe_terms(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    return {"Terms": copy.deepcopy(_one_terms(ctx, params)[1])}


def describe_terms_by_client(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    client_id = _client_id(ctx, pool, params)
    for terms in _terms(pool).values():
        if terms["ClientId"] == client_id and terms["TermsName"] == params["TermsName"]:
            return {"Terms": copy.deepcopy(terms)}
    raise errors.ResourceNotFoundException(f"Terms {params['TermsName']} do not exist for this app client.")


def list_terms(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    everything = list(_terms(pool).values())
    chunk, token = page(everything, params, key=lambda t: f"{t['CreationDate']:020.6f}/{t['TermsId']}")
    members = ("TermsId", "TermsName", "Enforcement", "CreationDate", "LastModifiedDate")
    listed = [{m: t[m] for m in members} for t in chunk]
    return {"Terms": listed, **({"NextToken": token} if token else {})}


# ===== session configuration ==============================================================================
def _require_session_tier(pool: UserPool) -> None:
    tier = pool.config.get("UserPoolTier") or "ESSENTIALS"
    if tier not in ("ESSENTIALS", "PLUS"):
        raise errors.FeatureUnavailableInTierException(
            f"Session configuration is not available in the {tier} tier of user pools."
        )


def get_user_pool_session_configuration(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    return {"UserPoolId": pool.id, **session_configuration(pool)}


def set_user_pool_session_configuration(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    _require_session_tier(pool)
    sessions_store(pool)["pool"] = {
        "UserSessionTracking": params["UserSessionTracking"],
        "TokenSession": {"MaxPerUser": int(params["TokenSession"]["MaxPerUser"])},
    }
    return {"UserPoolId": pool.id, **session_configuration(pool)}


def get_user_pool_client_session_configuration(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    client_id = _client_id(ctx, pool, params)
    settings = session_configuration(pool, client_id)
    return {"UserPoolId": pool.id, "ClientId": client_id, "SSOSession": settings["SSOSession"]}


def set_user_pool_client_session_configuration(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    client_id = _client_id(ctx, pool, params)
    assert client_id is not None  # required by the input shape
    _require_session_tier(pool)
    if session_configuration(pool)["UserSessionTracking"] != "ENABLED":
        raise errors.InvalidParameterException(
            "Session tracking must be enabled for the user pool (SetUserPoolSessionConfiguration) first."
        )
    sso = {"MaxValidityMinutes": int(params["SSOSession"]["MaxValidityMinutes"])}
    sessions_store(pool)["clients"][client_id] = {"SSOSession": sso}
    return {"UserPoolId": pool.id, "ClientId": client_id, "SSOSession": dict(sso)}


# ===== provisioned limits =================================================================================
#: state -> {API category: provisioned requests per second}, the account's settings beside its pools
#: the local account's Service Quotas maximum, as a multiple of a category's free value
_MAXIMUM_FACTOR = 10


def _category(params: Mapping[str, Any]) -> str:
    attributes = params["LimitDefinition"]["Attributes"]
    if set(attributes) != {"Category"}:
        raise errors.InvalidParameterException("An API_CATEGORY limit is named by one attribute, Category.")
    category = str(attributes["Category"])
    if category not in CATEGORY_RPS:
        raise errors.InvalidParameterException(f"{category} is not an API category.")
    return category


def _limit(state: PoolState, category: str) -> dict[str, Any]:
    free = int(CATEGORY_RPS[category])
    return {
        "Limit": {
            "LimitDefinition": {"LimitClass": "API_CATEGORY", "Attributes": {"Category": category}},
            "ProvisionedLimitValue": state.account_settings.get("provisioned_limits", {}).get(category, free),
            "FreeLimitValue": free,
        }
    }


def get_provisioned_limit(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    return _limit(ctx.state, _category(params))


def update_provisioned_limit(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    category = _category(params)
    free = int(CATEGORY_RPS[category])
    wanted = int(params["RequestedLimitValue"])
    if wanted < free:
        raise errors.InvalidParameterException(
            f"The provisioned limit for {category} cannot be lower than its default, {free}."
        )
    if wanted > free * _MAXIMUM_FACTOR:
        raise errors.ServiceQuotaExceededException(
            f"{wanted} exceeds the account's maximum of {free * _MAXIMUM_FACTOR} for {category}."
        )
    ctx.state.account_settings.setdefault("provisioned_limits", {})[category] = wanted
    return _limit(ctx.state, category)


ROUTES: dict[str, Route] = {
    "SetRiskConfiguration": set_risk_configuration,
    "DescribeRiskConfiguration": describe_risk_configuration,
    "SetLogDeliveryConfiguration": set_log_delivery_configuration,
    "GetLogDeliveryConfiguration": get_log_delivery_configuration,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
    "CreateTerms": create_terms,
    "UpdateTerms": update_terms,
    "DeleteTerms": delete_terms,
    "DescribeTerms": describe_terms,
    "DescribeTermsByClient": describe_terms_by_client,
    "ListTerms": list_terms,
    "GetUserPoolSessionConfiguration": get_user_pool_session_configuration,
    "SetUserPoolSessionConfiguration": set_user_pool_session_configuration,
    "GetUserPoolClientSessionConfiguration": get_user_pool_client_session_configuration,
    "SetUserPoolClientSessionConfiguration": set_user_pool_client_session_configuration,
    "GetProvisionedLimit": get_provisioned_limit,
    "UpdateProvisionedLimit": update_provisioned_limit,
}
#: operation -> "full", or "stored: <why the behaviour cannot be reproduced offline>"
FIDELITY: dict[str, str] = {
    **{name: "full" for name in ROUTES},
    "SetRiskConfiguration": (
        "stored: no risk engine offline (adaptive authentication, compromised-credential lookups and "
        "notification e-mails need Cognito's service)"
    ),
    "SetLogDeliveryConfiguration": "stored: no CloudWatch Logs, S3 or Firehose offline; nothing is delivered",
    "SetUserPoolSessionConfiguration": ("full"),
    "SetUserPoolClientSessionConfiguration": (
        "stored: the local pool does not reuse SSO sessions by MaxValidityMinutes yet"
    ),
}
