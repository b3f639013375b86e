"""User pool domains, managed login branding styles and hosted UI (classic) customization.

Create/Describe/Update/DeleteUserPoolDomain, Create/Describe/Update/DeleteManagedLoginBranding,
DescribeManagedLoginBrandingByClient, SetUICustomization and GetUICustomization, as Cognito does them:

* a pool has at most one prefix domain and one custom domain (CustomDomainConfig makes a domain custom).
  A prefix is lowercase letters, digits and hyphens without the reserved words ``aws``, ``amazon`` and
  ``cognito``, unique in its region; a custom domain is a dotted name, unique everywhere, needs an ACM
  certificate in us-east-1, and an account has at most four. DescribeUserPoolDomain of an unknown domain
  answers an empty DomainDescription; a custom domain answers its CloudFront domain; ManagedLoginVersion
  is 1 (hosted UI classic) unless 2 (managed login, not in the LITE tier) is asked for;
* a branding style (a UUID) belongs to one app client, one per client; UseCognitoProvidedValues excludes
  Settings and Assets; an update merges the Settings it is given into the style's and replaces assets by
  category and colour mode; Describe answers what the style holds;
* UI customization needs a domain; it is set for ``ALL`` clients or for one client, CSS and logo together
  (a call without either removes it). The CSS may only style Cognito's ``-customizable`` classes and may
  not hold @import, @media, @page, @supports or script; the logo is a PNG or JPEG. A client without its
  own customization gets the pool's ``ALL`` one; an ``ALL`` customization is answered without ClientId.

Records are keyed for later lookups: ``pool.domains`` by domain name (:func:`find_domain` and
:func:`find_host` find a domain's pool, as the managed login pages will), ``pool.features["branding"]`` by style id and
``pool.features["ui"]`` by client id or ``ALL``.

Stored, not reproduced: a custom domain's certificate and DNS (Cognito checks the certificate in ACM and
an A record for the parent domain, then sets up CloudFront); Cognito's own default style document
(ReturnMergedResources answers the style's settings); the logo's CloudFront ImageUrl (left out).
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import re
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ... import errors
from .. import _ids
from .._records import UserPool
from ._base import Context, Route

if TYPE_CHECKING:
    from .._state import PoolState

__all__ = ["ROUTES", "FIDELITY", "find_domain", "find_host"]

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?")
_RESERVED = ("aws", "amazon", "cognito")
_CERTIFICATE = re.compile(r"arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[\w-]+")
_MAX_CUSTOM_DOMAINS = 4
_TAKEN = "Domain already associated with another user pool."
_NO_DOMAIN = "No such domain or user pool exists."
_BAD_PREFIX = (
    "The domain name contains an invalid character. Domain names can only contain lower-case letters, "
    "numbers, and hyphens. Please enter a different name that follows this format: "
    "^[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?$"
)
_BAD_CERTIFICATE = (
    "The specified SSL certificate doesn't exist, isn't in us-east-1 region, isn't valid, "
    "or doesn't include a valid certificate chain."
)
# the airport code Cognito names a region's asset bucket after
_AIRPORTS = {
    "us-east-1": "iad",
    "us-east-2": "cmh",
    "us-west-1": "sfo",
    "us-west-2": "pdx",
    "ca-central-1": "yul",
    "sa-east-1": "gru",
    "eu-west-1": "dub",
    "eu-west-2": "lhr",
    "eu-west-3": "cdg",
    "eu-central-1": "fra",
    "eu-north-1": "arn",
    "ap-south-1": "bom",
    "ap-northeast-1": "nrt",
    "ap-northeast-2": "icn",
    "ap-southeast-1": "sin",
    "ap-southeast-2": "syd",
}
_DISTRIBUTION = "abcdefghijklmnopqrstuvwxyz0123456789"


# ===== domains ============================================================================================
def find_domain(
    state: PoolState, domain: str, region: str | None = None
) -> tuple[UserPool, dict[str, Any]] | None:
    """The pool and DomainDescription of ``domain``: a custom domain anywhere, a prefix domain in ``region``."""
    for pool in state.pools.values():
        record = pool.domains.get(domain)
        if record is not None and (record.get("CustomDomainConfig") or region in (None, pool.region)):
            return pool, record
    return None


def find_host(state: PoolState, host: str) -> tuple[UserPool, dict[str, Any]] | None:
    """The pool and DomainDescription a host name serves: ``<prefix>.auth.<region>.amazoncognito.com`` or a
    custom domain."""
    name = host.lower().split(":", 1)[0]
    prefix, _dot, rest = name.partition(".auth.")
    region, _dot, suffix = rest.partition(".")
    if suffix == "amazoncognito.com" and _LABEL.fullmatch(prefix):
        found = find_domain(state, prefix, region)
        return found if found is not None and not _is_custom(found[1]) else None
    return find_domain(state, name)


def _is_custom(record: Mapping[str, Any]) -> bool:
    return bool(record.get("CustomDomainConfig"))


def _managed_login_version(pool: UserPool, given: object, default: int) -> int:
    version = default if given is None else given
    if version not in (1, 2):
        raise errors.InvalidParameterException("ManagedLoginVersion must be 1 (hosted UI classic) or 2.")
    if version == 2 and pool.config.get("UserPoolTier") == "LITE":
        raise errors.FeatureUnavailableInTierException(
            "Managed login is not available in the LITE tier of user pools."
        )
    return int(str(version))


def _check_certificate(config: Mapping[str, Any]) -> None:
    if not _CERTIFICATE.fullmatch(str(config.get("CertificateArn", ""))):
        raise errors.InvalidParameterException(_BAD_CERTIFICATE)


def _check_prefix(ctx: Context, pool: UserPool, domain: str) -> None:
    if not _LABEL.fullmatch(domain):
        raise errors.InvalidParameterException(_BAD_PREFIX)
    for word in _RESERVED:
        if word in domain:
            raise errors.InvalidParameterException(f"Domain cannot contain reserved word: {word}")
    if find_domain(ctx.state, domain, pool.region) is not None:
        raise errors.InvalidParameterException(_TAKEN)


def _check_custom(ctx: Context, domain: str, config: Mapping[str, Any]) -> None:
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise errors.InvalidParameterException(f"{domain} is not a valid custom domain name.")
    _check_certificate(config)
    if find_domain(ctx.state, domain) is not None:
        raise errors.InvalidParameterException(_TAKEN)
    custom = sum(1 for p in ctx.state.pools.values() for r in p.domains.values() if _is_custom(r))
    if custom >= _MAX_CUSTOM_DOMAINS:
        raise errors.LimitExceededException(
            f"An account can have at most {_MAX_CUSTOM_DOMAINS} custom domains."
        )


def _domain_answer(record: Mapping[str, Any]) -> dict[str, Any]:
    """CreateUserPoolDomain's and UpdateUserPoolDomain's answer."""
    answer: dict[str, Any] = {"ManagedLoginVersion": record["ManagedLoginVersion"]}
    if _is_custom(record):
        answer["CloudFrontDomain"] = record["CloudFrontDistribution"]
    if record.get("Routing"):
        answer["Routing"] = copy.deepcopy(record["Routing"])
    return answer


def create_user_pool_domain(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    domain = str(params["Domain"])
    config: Mapping[str, Any] = params.get("CustomDomainConfig") or {}
    custom = params.get("CustomDomainConfig") is not None
    if custom:
        _check_custom(ctx, domain, config)
    else:
        if params.get("Routing"):
            raise errors.InvalidParameterException("Routing is only supported for custom domains.")
        _check_prefix(ctx, pool, domain)
    if any(_is_custom(r) == custom for r in pool.domains.values()):
        raise errors.InvalidParameterException("User pool already has a domain configured.")
    version = _managed_login_version(pool, params.get("ManagedLoginVersion"), 1)
    now = ctx.state.now()
    if custom:
        distribution = _ids.choose(ctx.state.random_bytes, _DISTRIBUTION, 13)
    else:  # prefix domains of a region share Cognito's regional distribution
        digest = hashlib.sha256(f"{pool.region}/{pool.account_id}".encode()).digest()
        distribution = "".join(_DISTRIBUTION[b % len(_DISTRIBUTION)] for b in digest[:13])
    record: dict[str, Any] = {
        "UserPoolId": pool.id,
        "AWSAccountId": pool.account_id,
        "Domain": domain,
        "S3Bucket": f"aws-cognito-prod-{_AIRPORTS.get(pool.region, pool.region)}-assets",
        "CloudFrontDistribution": f"d{distribution}.cloudfront.net",
        "Version": time.strftime("%Y%m%d%H%M%S", time.gmtime(now)),
        "Status": "ACTIVE",
    }
    if custom:
        record["CustomDomainConfig"] = dict(config)
    record["ManagedLoginVersion"] = version
    if params.get("Routing"):
        record["Routing"] = copy.deepcopy(params["Routing"])
    pool.domains[domain] = record
    return _domain_answer(record)


def describe_user_pool_domain(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    found = find_domain(ctx.state, str(params["Domain"]), ctx.state.region_of_request)
    return {"DomainDescription": copy.deepcopy(found[1]) if found else {}}


def _own_domain(ctx: Context, params: Mapping[str, Any]) -> tuple[UserPool, dict[str, Any]]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    record = pool.domains.get(str(params["Domain"]))
    if record is None:
        raise errors.InvalidParameterException(_NO_DOMAIN)
    return pool, record


def update_user_pool_domain(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, record = _own_domain(ctx, params)
    config, routing = params.get("CustomDomainConfig"), params.get("Routing")
    if (config is not None or routing) and not _is_custom(record):
        raise errors.InvalidParameterException(
            "Only a custom domain has a certificate and routing to update."
        )
    version = _managed_login_version(pool, params.get("ManagedLoginVersion"), record["ManagedLoginVersion"])
    if config is not None:
        _check_certificate(config)
        record["CustomDomainConfig"] = dict(config)
    record["ManagedLoginVersion"] = version
    if routing:
        record["Routing"] = copy.deepcopy(routing)
    return _domain_answer(record)


def delete_user_pool_domain(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, record = _own_domain(ctx, params)
    del pool.domains[record["Domain"]]
    return {}


# ===== managed login branding =============================================================================
_ASSET_EXTENSION = {"FAVICON_ICO": "ICO", "FAVICON_SVG": "SVG"}


def _styles(pool: UserPool) -> dict[str, dict[str, Any]]:
    """style id -> {"client_id": ..., "style": ManagedLoginBrandingType members}"""
    styles: dict[str, dict[str, Any]] = pool.features.setdefault("branding", {})
    return styles


def _check_branding(params: Mapping[str, Any]) -> None:
    if params.get("UseCognitoProvidedValues") and (
        params.get("Settings") is not None or params.get("Assets")
    ):
        raise errors.InvalidParameterException(
            "When UseCognitoProvidedValues is true, Settings and Assets must be left out."
        )
    seen: set[tuple[str, str]] = set()
    for asset in params.get("Assets") or []:
        slot = (str(asset["Category"]), str(asset["ColorMode"]))
        if slot in seen:
            raise errors.InvalidParameterException(f"Assets has {slot[0]} in {slot[1]} mode more than once.")
        seen.add(slot)
        wanted = _ASSET_EXTENSION.get(slot[0])
        if wanted is not None and asset["Extension"] != wanted:
            raise errors.InvalidParameterException(f"A {slot[0]} asset must have the extension {wanted}.")
        if asset.get("Bytes") is not None:
            try:
                base64.b64decode(str(asset["Bytes"]), validate=True)
            except binascii.Error:
                raise errors.InvalidParameterException("Asset Bytes must be base64.") from None


def _merged(old: Any, new: Any) -> Any:
    """``new`` over ``old``: objects merge key by key, anything else is replaced."""
    if isinstance(old, dict) and isinstance(new, dict):
        merged = dict(old)
        for key, value in new.items():
            merged[key] = _merged(old.get(key), value)
        return merged
    return copy.deepcopy(new)


def _style(ctx: Context, params: Mapping[str, Any]) -> tuple[UserPool, dict[str, Any]]:
    if not params.get("UserPoolId") or not params.get("ManagedLoginBrandingId"):
        raise errors.InvalidParameterException("UserPoolId and ManagedLoginBrandingId are required.")
    pool = ctx.lookups.pool(params["UserPoolId"])
    entry = _styles(pool).get(str(params["ManagedLoginBrandingId"]))
    if entry is None:
        raise errors.ResourceNotFoundException(
            f"Managed login branding {params['ManagedLoginBrandingId']} does not exist."
        )
    return pool, entry


def create_managed_login_branding(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, client = ctx.lookups.client(params["ClientId"], params["UserPoolId"])
    styles = _styles(pool)
    if any(entry["client_id"] == client.client_id for entry in styles.values()):
        raise errors.ManagedLoginBrandingExistsException(
            f"A managed login branding style already exists for app client {client.client_id}."
        )
    _check_branding(params)
    style_id = str(uuid.UUID(bytes=ctx.state.random_bytes(16), version=4))
    now = ctx.state.now()
    style: dict[str, Any] = {
        "ManagedLoginBrandingId": style_id,
        "UserPoolId": pool.id,
        "UseCognitoProvidedValues": bool(params.get("UseCognitoProvidedValues")),
    }
    if params.get("Settings") is not None:
        style["Settings"] = copy.deepcopy(params["Settings"])
    style["Assets"] = copy.deepcopy(list(params.get("Assets") or []))
    style["CreationDate"] = style["LastModifiedDate"] = now
    styles[style_id] = {"client_id": client.client_id, "style": style}
    return {"ManagedLoginBranding": copy.deepcopy(style)}


def describe_managed_login_branding(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    return {"ManagedLoginBranding": copy.deepcopy(_style(ctx, params)[1]["style"])}


def describe_managed_login_branding_by_client(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, client = ctx.lookups.client(params["ClientId"], params["UserPoolId"])
    for entry in _styles(pool).values():
        if entry["client_id"] == client.client_id:
            return {"ManagedLoginBranding": copy.deepcopy(entry["style"])}
    raise errors.ResourceNotFoundException(
        f"App client {client.client_id} has no managed login branding style."
    )


def update_managed_login_branding(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    _pool, entry = _style(ctx, params)
    _check_branding(params)
    style = entry["style"]
    if params.get("UseCognitoProvidedValues"):
        style.pop("Settings", None)
        style["Assets"] = []
        style["UseCognitoProvidedValues"] = True
    if params.get("Settings") is not None:
        style["Settings"] = _merged(style.get("Settings"), params["Settings"])
        style["UseCognitoProvidedValues"] = False
    if params.get("Assets"):
        slots = {(a["Category"], a["ColorMode"]): a for a in style["Assets"]}
        slots.update({(a["Category"], a["ColorMode"]): copy.deepcopy(a) for a in params["Assets"]})
        style["Assets"] = list(slots.values())
        style["UseCognitoProvidedValues"] = False
    style["LastModifiedDate"] = ctx.state.now()
    order = ("ManagedLoginBrandingId", "UserPoolId", "UseCognitoProvidedValues", "Settings", "Assets")
    entry["style"] = {k: style[k] for k in (*order, "CreationDate", "LastModifiedDate") if k in style}
    return {"ManagedLoginBranding": copy.deepcopy(entry["style"])}


def delete_managed_login_branding(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, entry = _style(ctx, params)
    del _styles(pool)[entry["style"]["ManagedLoginBrandingId"]]
    return {}


# ===== hosted UI (classic) customization ==================================================================
_CSS_CLASSES = frozenset(
    {
        "background-customizable",
        "banner-customizable",
        "errorMessage-customizable",
        "idpButton-customizable",
        "idpButton-customizable:hover",
        "idpDescription-customizable",
        "inputField-customizable",
        "inputField-customizable:focus",
        "label-customizable",
        "legalText-customizable",
        "logo-customizable",
        "passwordCheck-notValid-customizable",
        "passwordCheck-valid-customizable",
        "redirect-customizable",
        "socialButton-customizable",
        "submitButton-customizable",
        "submitButton-customizable:hover",
        "textDescription-customizable",
    }
)
_CSS_FORBIDDEN = ("@import", "@supports", "@page", "@media", "javascript:", "<script", "expression(")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def _check_css(css: str) -> None:
    text = _CSS_COMMENT.sub("", css)
    for word in _CSS_FORBIDDEN:
        if word in text.lower():
            raise errors.InvalidParameterException(f"CSS must not contain {word}.")
    for block in text.split("}"):
        selectors, brace, _declarations = block.partition("{")
        if not brace:
            if selectors.strip():
                raise errors.InvalidParameterException("CSS could not be parsed.")
            continue
        for selector in selectors.split(","):
            name = selector.strip()
            if not name.startswith(".") or name[1:] not in _CSS_CLASSES:
                raise errors.InvalidParameterException(
                    f"CSS selector {name or '(empty)'} is not one of the customizable classes."
                )


def _check_image(image: str) -> None:
    try:
        data = base64.b64decode(image, validate=True)
    except binascii.Error:
        raise errors.InvalidParameterException("ImageFile must be base64.") from None
    if not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        raise errors.InvalidParameterException("ImageFile must be a PNG or JPEG image.")


def _ui_answer(pool: UserPool, key: str, entry: Mapping[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"UserPoolId": pool.id}
    if key != "ALL":
        body["ClientId"] = key
    if entry is not None:
        body.update(
            {k: entry[k] for k in ("CSS", "CSSVersion", "LastModifiedDate", "CreationDate") if k in entry}
        )
    return {"UICustomization": body}


def set_ui_customization(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    if not pool.domains:
        raise errors.InvalidParameterException(
            "There has to be an existing domain associated with this user pool"
        )
    key = str(params.get("ClientId") or "ALL")
    if key != "ALL":
        ctx.lookups.client(key, pool.id)
    css, image = params.get("CSS"), params.get("ImageFile")
    ui: dict[str, dict[str, Any]] = pool.features.setdefault("ui", {})
    if not css and not image:
        ui.pop(key, None)
        return _ui_answer(pool, key, None)
    if css:
        _check_css(str(css))
    if image:
        _check_image(str(image))
    now = ctx.state.now()
    before = ui.get(key)
    entry: dict[str, Any] = {"CSSVersion": time.strftime("%Y%m%d%H%M%S", time.gmtime(now))}
    if css:
        entry["CSS"] = str(css)
    if image:
        entry["ImageFile"] = str(image)
    entry["CreationDate"] = before["CreationDate"] if before else now
    entry["LastModifiedDate"] = now
    ui[key] = entry
    return _ui_answer(pool, key, entry)


def get_ui_customization(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    key = str(params.get("ClientId") or "ALL")
    if key != "ALL":
        ctx.lookups.client(key, pool.id)
    ui: dict[str, dict[str, Any]] = pool.features.get("ui", {})
    if key in ui:
        return _ui_answer(pool, key, ui[key])
    if "ALL" in ui:
        return _ui_answer(pool, "ALL", ui["ALL"])
    return {"UICustomization": {}}


ROUTES: dict[str, Route] = {
    "CreateUserPoolDomain": create_user_pool_domain,
    "DescribeUserPoolDomain": describe_user_pool_domain,
    "UpdateUserPoolDomain": update_user_pool_domain,
    "DeleteUserPoolDomain": delete_user_pool_domain,
    "CreateManagedLoginBranding": create_managed_login_branding,
    "DescribeManagedLoginBranding": describe_managed_login_branding,
    "DescribeManagedLoginBrandingByClient": describe_managed_login_branding_by_client,
    "UpdateManagedLoginBranding": update_managed_login_branding,
    "DeleteManagedLoginBranding": delete_managed_login_branding,
    "SetUICustomization": set_ui_customization,
    "GetUICustomization": get_ui_customization,
}
_CUSTOM = (
    "stored: a custom domain's ACM certificate, DNS and CloudFront distribution cannot be checked or "
    "made offline; prefix domains are full"
)
_MERGED = "stored: Cognito's own default style document is not published; ReturnMergedResources answers the style's settings"
_IMAGE_URL = (
    "stored: the logo's CloudFront ImageUrl cannot be served offline; the logo is kept, its URL not answered"
)
#: operation -> "full", or "stored: <why the behaviour cannot be reproduced offline>"
FIDELITY: dict[str, str] = {
    **{name: "full" for name in ROUTES},
    "CreateUserPoolDomain": _CUSTOM,
    "UpdateUserPoolDomain": _CUSTOM,
    "DescribeManagedLoginBranding": _MERGED,
    "DescribeManagedLoginBrandingByClient": _MERGED,
    "SetUICustomization": _IMAGE_URL,
    "GetUICustomization": _IMAGE_URL,
}
