"""Client ID Metadata Document (CIMD) policies, and the client metadata URLs the pool has received.

CreateCIMDPolicy, DescribeCIMDPolicy, UpdateCIMDPolicy, DeleteCIMDPolicy, ListCIMDPolicies,
ListClientMetadataURLs and UpdateClientMetadataURLState, as Cognito does them:

* a policy maps one to five HTTPS URL patterns (``*`` matches any run of characters) to one app client of
  the pool; a pattern names a host and no user information, and no ``.`` or ``..`` path segment (what a
  client ID metadata URL may not have either); the pool must be on the Essentials or Plus feature plan, as
  for dynamic client registration (FeatureUnavailableInTierException on Lite);
* the policy gets an id of lowercase letters and digits; CacheDuration defaults to 86,400 seconds (one day);
  UpdateCIMDPolicy replaces the app client and the patterns, and keeps the name and cache duration it is
  not given; Describe and List omit ClientId once that app client is deleted;
* policies are changed only in the primary Region of a pool with a replica (OperationNotEnabledException
  in a secondary one), read in both;
* ListClientMetadataURLs lists, by URL, the client metadata URLs the pool received for the policy with the
  dates of the cached document (none once invalidated); UpdateClientMetadataURLState ``INVALIDATE`` drops
  the cached document, ``REFRESH`` caches it again for the cache duration; both need a cached document
  that has not expired (CachedCIMDURLDoesNotExistException). A URL that no longer matches the patterns
  after an update is no longer listed.

Nothing is fetched from the internet offline: the pool receives a metadata URL and its document only
through :func:`receive_client_metadata` (what an ``/oauth2/authorize`` request with an ``https`` client_id
does), and REFRESH re-caches the document last received instead of retrieving it again.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ... import errors
from .. import _ids
from .._records import UserPool
from ._base import Context, Route, page
from .recovery import regional_pool

if TYPE_CHECKING:
    from .._state import PoolState

__all__ = ["ROUTES", "FIDELITY", "receive_client_metadata"]

_POLICIES = "cimd_policies"  # pool.features key: policy id -> _Policy
_DEFAULT_CACHE = 86_400
_MAX_AGE = range(86_400, 31_556_952 + 1)


@dataclass
class _CachedURL:
    url: str
    document: dict[str, Any] | None = field(default=None, repr=False)
    cached: float | None = None
    expires: float | None = None


@dataclass
class _Policy:
    policy_id: str
    name: str
    client_id: str
    cache_duration: int
    patterns: list[str]
    created: float
    modified: float
    urls: dict[str, _CachedURL] = field(default_factory=dict)

    def accepts(self, url: str) -> bool:
        return any(_pattern(p).fullmatch(url) for p in self.patterns)


def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def _policies(pool: UserPool) -> dict[str, _Policy]:
    return pool.features.setdefault(_POLICIES, {})  # type: ignore[no-any-return]


def _check_patterns(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        authority, _, path = pattern[len("https://") :].partition("/")
        if not authority.split(":")[0]:
            raise errors.InvalidParameterException(f"The URL pattern {pattern} has no host.")
        if "@" in authority:
            raise errors.InvalidParameterException(
                f"The URL pattern {pattern} can't contain user information."
            )
        if any(segment in (".", "..") for segment in path.split("/")):
            raise errors.InvalidParameterException(f"The URL pattern {pattern} can't contain dot segments.")
    return list(patterns)


def _check_tier(pool: UserPool) -> None:
    if (pool.config.get("UserPoolTier") or "ESSENTIALS") == "LITE":
        raise errors.FeatureUnavailableInTierException(
            "Client ID metadata documents need the Essentials or Plus feature plan."
        )


def _policy(pool: UserPool, policy_id: object) -> _Policy:
    found = _policies(pool).get(str(policy_id))
    if found is None:
        raise errors.ResourceNotFoundException(f"CIMD policy {policy_id} does not exist.")
    return found


def _summary(pool: UserPool, policy: _Policy) -> dict[str, Any]:
    body: dict[str, Any] = {"CIMDPolicyId": policy.policy_id}
    if policy.client_id in pool.clients:
        body["ClientId"] = policy.client_id
    body["PolicyName"] = policy.name
    body["CacheDuration"] = policy.cache_duration
    body["CreationDate"] = policy.created
    body["LastModifiedDate"] = policy.modified
    return body


def _describe(pool: UserPool, policy: _Policy) -> dict[str, Any]:
    return {"UserPoolId": pool.id, **_summary(pool, policy), "URLPatterns": list(policy.patterns)}


def _writable_pool(ctx: Context, params: Mapping[str, Any]) -> UserPool:
    pool = regional_pool(ctx, params["UserPoolId"], primary_only=True)
    _check_tier(pool)
    return pool


def create_cimd_policy(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = _writable_pool(ctx, params)
    ctx.lookups.client(params["ClientId"], pool.id)
    patterns = _check_patterns(list(params["URLPatterns"]))
    policies, now = _policies(pool), ctx.state.now()
    policy_id = _ids.choose(ctx.state.random_bytes, "0123456789abcdefghijklmnopqrstuvwxyz", 32)
    policies[policy_id] = policy = _Policy(
        policy_id,
        str(params["PolicyName"]),
        str(params["ClientId"]),
        int(params.get("CacheDuration") or _DEFAULT_CACHE),
        patterns,
        now,
        now,
    )
    return {"CIMDPolicy": _describe(pool, policy)}


def describe_cimd_policy(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = regional_pool(ctx, params["UserPoolId"])
    return {"CIMDPolicy": _describe(pool, _policy(pool, params["CIMDPolicyId"]))}


def update_cimd_policy(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = _writable_pool(ctx, params)
    policy = _policy(pool, params["CIMDPolicyId"])
    ctx.lookups.client(params["ClientId"], pool.id)
    policy.patterns = _check_patterns(list(params["URLPatterns"]))
    policy.client_id = str(params["ClientId"])
    if params.get("PolicyName") is not None:
        policy.name = str(params["PolicyName"])
    if params.get("CacheDuration") is not None:
        policy.cache_duration = int(params["CacheDuration"])
    policy.urls = {url: cached for url, cached in policy.urls.items() if policy.accepts(url)}
    policy.modified = ctx.state.now()
    return {"CIMDPolicy": _describe(pool, policy)}


def delete_cimd_policy(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = regional_pool(ctx, params["UserPoolId"], primary_only=True)
    del _policies(pool)[_policy(pool, params["CIMDPolicyId"]).policy_id]
    return {}


def list_cimd_policies(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = regional_pool(ctx, params["UserPoolId"])
    policies = list(_policies(pool).values())
    chunk, token = page(policies, params, key=lambda p: f"{p.created:020.6f}/{p.policy_id}")
    listed = [_summary(pool, p) for p in chunk]
    return {"CIMDPolicies": listed, **({"NextToken": token} if token else {})}


def _url_type(cached: _CachedURL) -> dict[str, Any]:
    body: dict[str, Any] = {"URL": cached.url}
    if cached.document is not None and cached.cached is not None and cached.expires is not None:
        body["CachedDate"] = cached.cached
        body["ExpirationDate"] = cached.expires
    return body


def list_client_metadata_urls(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = regional_pool(ctx, params["UserPoolId"])
    policy = _policy(pool, params["CIMDPolicyId"])
    chunk, token = page(list(policy.urls.values()), params, key=lambda c: c.url)
    return {"ClientMetadataURLs": [_url_type(c) for c in chunk], **({"NextToken": token} if token else {})}


def update_client_metadata_url_state(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = _writable_pool(ctx, params)
    policy = _policy(pool, params["CIMDPolicyId"])
    now = ctx.state.now()
    cached = policy.urls.get(str(params["URL"]))
    if cached is None or cached.document is None or cached.expires is None or now >= cached.expires:
        raise errors.CachedCIMDURLDoesNotExistException(
            f"There is no cached client metadata document for {params['URL']}."
        )
    if params["Action"] == "INVALIDATE":
        cached.document = cached.cached = cached.expires = None
    else:
        duration = cached.expires - (cached.cached or now)
        cached.cached, cached.expires = now, now + duration
    return {}


def receive_client_metadata(
    state: PoolState,
    user_pool_id: str,
    url: str,
    document: Mapping[str, Any],
    *,
    max_age: int | None = None,
) -> str:
    """The pool receives a CIMD client's metadata URL and the document retrieved from it; the policy's id.

    The first policy (oldest first) with a pattern matching ``url`` caches ``document`` for ``max_age``
    seconds (the document's ``Cache-Control: max-age``) when that is between a day and a year, else for its
    CacheDuration. LookupError when the pool is unknown or no policy accepts the URL; ValueError when the
    document is not this URL's (its ``client_id``) or not a public client's (``token_endpoint_auth_method``
    ``none``).
    """
    pool = state.user_pool(user_pool_id)
    if pool is None:
        raise LookupError(f"User pool {user_pool_id} does not exist.")
    if document.get("client_id") != url:
        raise ValueError("The client metadata document's client_id must be the URL it was retrieved from.")
    if document.get("token_endpoint_auth_method") != "none":
        raise ValueError("A CIMD client is a public client: token_endpoint_auth_method must be none.")
    policies = sorted(_policies(pool).values(), key=lambda p: (p.created, p.policy_id))
    policy = next((p for p in policies if p.accepts(url)), None)
    if policy is None:
        raise LookupError(f"No CIMD policy of user pool {user_pool_id} accepts {url}.")
    now = state.now()
    duration = max_age if max_age is not None and max_age in _MAX_AGE else policy.cache_duration
    policy.urls[url] = _CachedURL(url, copy.deepcopy(dict(document)), now, now + duration)
    return policy.policy_id


ROUTES: dict[str, Route] = {
    "CreateCIMDPolicy": create_cimd_policy,
    "DescribeCIMDPolicy": describe_cimd_policy,
    "UpdateCIMDPolicy": update_cimd_policy,
    "DeleteCIMDPolicy": delete_cimd_policy,
    "ListCIMDPolicies": list_cimd_policies,
    "ListClientMetadataURLs": list_client_metadata_urls,
    "UpdateClientMetadataURLState": update_client_metadata_url_state,
}
#: operation -> "full", or "stored: <why the behaviour cannot be reproduced offline>"
FIDELITY: dict[str, str] = {
    **{name: "full" for name in ROUTES},
    "ListClientMetadataURLs": "stored: no metadata document is retrieved from the internet offline; it "
    "lists the URLs handed to receive_client_metadata",
    "UpdateClientMetadataURLState": "stored: REFRESH can't retrieve the document again offline; it "
    "re-caches the document last received",
}
