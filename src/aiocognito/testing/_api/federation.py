"""Federation: identity providers, linked provider identities, the SAML signing certificate.

Create/Describe/Update/Delete/ListIdentityProviders, GetIdentityProviderByIdentifier,
AdminLinkProviderForUser, AdminDisableProviderForUser and GetSigningCertificate, as Cognito does them
(resource servers: ``resource_servers``):

* a provider's ProviderDetails must hold what its type needs (``client_id``, ``client_secret`` and
  ``authorize_scopes`` for Google, Facebook and Login with Amazon; ``team_id``, ``key_id`` and
  ``private_key`` for Sign in with Apple; ``attributes_request_method`` and ``oidc_issuer`` for OIDC;
  exactly one of ``MetadataURL`` and ``MetadataFile`` for SAML). Cognito adds what it derives: the social
  providers' endpoints, ``attributes_url_add_attributes``, the ``username`` attribute mapping, and for a
  MetadataFile the SSO/SLO redirect endpoints read from the metadata; Apple's ``private_key`` is never
  answered; an encrypting SAML provider gets an ``ActiveEncryptionCertificate``;
* a social provider is named after its type; names are unique in the pool (DuplicateProviderException),
  and so are IdpIdentifiers; AttributeMapping names attributes the pool has; only OIDC takes AcrMapping;
  UpdateIdentityProvider replaces what it is given; deleting a provider takes it out of the app clients'
  SupportedIdentityProviders;
* AdminLinkProviderForUser adds the source identity to the destination user's ``identities`` attribute (as
  AdminGetUser shows it) - never a native source, never an identity already linked or already signed up,
  at most five per user; AdminDisableProviderForUser removes such a link, deletes the federated user of
  that identity if there is one, and for a native user (``Cognito``/``Cognito_Subject``) ends sign-in
  with the password;
* GetSigningCertificate answers the pool's self-signed X.509 certificate (base64 DER, valid ten years),
  made on first use and the same ever after.

Stored, not reproduced: SAML metadata behind a ``MetadataURL`` and OIDC endpoint discovery at
``oidc_issuer`` need the network; such details are kept as given. The sign-in through a provider is the
managed login's (``_managed_login._federation``), where a page of the local pool stands in for the
provider: nothing reaches a real provider and no token or assertion of theirs is checked.
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ... import errors
from .. import _rules
from .._records import User, UserPool
from .._users import delete_user
from ._base import Context, Route, page

__all__ = ["ROUTES", "FIDELITY", "self_signed_certificate", "federated_username"]

_SOCIAL = frozenset({"Google", "Facebook", "LoginWithAmazon", "SignInWithApple"})
_NEEDS: dict[str, tuple[str, ...]] = {
    "Google": ("client_id", "client_secret", "authorize_scopes"),
    "Facebook": ("client_id", "client_secret", "authorize_scopes"),
    "LoginWithAmazon": ("client_id", "client_secret", "authorize_scopes"),
    "SignInWithApple": ("client_id", "team_id", "key_id", "private_key", "authorize_scopes"),
    "OIDC": ("client_id", "client_secret", "attributes_request_method", "oidc_issuer", "authorize_scopes"),
}
_DERIVED: dict[str, dict[str, str]] = {
    "Google": {
        "attributes_url": "https://people.googleapis.com/v1/people/me?personFields=",
        "attributes_url_add_attributes": "true",
        "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "oidc_issuer": "https://accounts.google.com",
        "token_request_method": "POST",
        "token_url": "https://www.googleapis.com/oauth2/v4/token",
    },
    "LoginWithAmazon": {
        "attributes_url": "https://api.amazon.com/user/profile",
        "attributes_url_add_attributes": "false",
        "authorize_url": "https://www.amazon.com/ap/oa",
        "token_request_method": "POST",
        "token_url": "https://api.amazon.com/auth/o2/token",
    },
    "SignInWithApple": {
        "attributes_url_add_attributes": "false",
        "authorize_url": "https://appleid.apple.com/auth/authorize",
        "oidc_issuer": "https://appleid.apple.com",
        "token_request_method": "POST",
        "token_url": "https://appleid.apple.com/auth/token",
    },
    "OIDC": {"attributes_url_add_attributes": "false"},
}
#: the provider claim the ``username`` attribute maps to, by type
_USERNAME_CLAIM = {"Google": "sub", "Facebook": "id", "LoginWithAmazon": "user_id", "SignInWithApple": "sub"}
_HIDDEN = frozenset({"private_key"})  # kept, never answered
_SAML_DERIVED = ("SSORedirectBindingURI", "SLORedirectBindingURI", "ActiveEncryptionCertificate")
_SAML_FLAGS = ("IDPInit", "IDPSignout", "EncryptedResponses")
_MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
_REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
_MAX_PROVIDERS = 300
_MAX_LINKS = 5
_SUBJECT = "Cognito_Subject"
_LINKS = "linked_identities"  # pool.features key: [{"provider", "attribute", "value", "sub"}]


# ===== certificates =======================================================================================
def self_signed_certificate(ctx: Context, common_name: str) -> str:
    """A new self-signed X.509 certificate (RSA 2048, SHA-256, ten years), as base64 DER without headers."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = datetime.datetime.fromtimestamp(int(ctx.state.now()), tz=datetime.timezone.utc)
    serial = (int.from_bytes(ctx.state.random_bytes(20), "big") >> 1) or 1
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")


def get_signing_certificate(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    certificate = pool.features.get("signing_certificate")
    if certificate is None:
        certificate = pool.features["signing_certificate"] = self_signed_certificate(ctx, pool.id)
    return {"Certificate": certificate}


# ===== identity providers =================================================================================
def _saml_metadata(document: str) -> tuple[str, dict[str, str]]:
    """The entityID of a SAML metadata document and the redirect endpoints its IdP descriptor names."""
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError:
        raise errors.InvalidParameterException("Could not parse the SAML metadata in MetadataFile.") from None
    idp = root.find(f"{_MD}IDPSSODescriptor")
    if root.tag != f"{_MD}EntityDescriptor" or not root.get("entityID") or idp is None:
        raise errors.InvalidParameterException(
            "MetadataFile must be SAML 2.0 metadata: an EntityDescriptor with an entityID and an IDPSSODescriptor."
        )
    endpoints: dict[str, str] = {}
    for tag, key in (
        ("SingleSignOnService", "SSORedirectBindingURI"),
        ("SingleLogoutService", "SLORedirectBindingURI"),
    ):
        for service in idp.findall(f"{_MD}{tag}"):
            if service.get("Binding") == _REDIRECT_BINDING and service.get("Location"):
                endpoints[key] = str(service.get("Location"))
                break
    return str(root.get("entityID")), endpoints


def _saml_details(ctx: Context, name: str, details: dict[str, str], before: Mapping[str, str]) -> None:
    for key in _SAML_DERIVED:
        details.pop(key, None)
    if bool(details.get("MetadataURL")) == bool(details.get("MetadataFile")):
        raise errors.InvalidParameterException(
            "A SAML provider needs exactly one of MetadataURL and MetadataFile in ProviderDetails."
        )
    for flag in _SAML_FLAGS:
        if flag in details and details[flag] not in ("true", "false"):
            raise errors.InvalidParameterException(f"{flag} must be true or false.")
    if details.get("RequestSigningAlgorithm", "rsa-sha256") != "rsa-sha256":
        raise errors.InvalidParameterException("RequestSigningAlgorithm only accepts rsa-sha256.")
    if details.get("MetadataFile"):
        details.update(_saml_metadata(details["MetadataFile"])[1])
    if details.get("EncryptedResponses") == "true":
        kept = before.get("ActiveEncryptionCertificate")
        details["ActiveEncryptionCertificate"] = kept or self_signed_certificate(ctx, name)


def _details(
    ctx: Context, name: str, kind: str, given: Mapping[str, Any], before: Mapping[str, str]
) -> dict[str, str]:
    """The ProviderDetails Cognito keeps: the given ones, checked, with what it derives added."""
    details = {str(k): str(v) for k, v in given.items()}
    for key in _HIDDEN:
        if key in before and key not in details:
            details[key] = before[key]  # Describe never shows it, so an update may leave it out
    if kind == "SAML":
        _saml_details(ctx, name, details, before)
        return dict(sorted(details.items()))
    details.pop("attributes_url_add_attributes", None)  # read-only
    missing = [key for key in _NEEDS[kind] if not details.get(key)]
    if missing:
        raise errors.InvalidParameterException(
            f"ProviderDetails of a {kind} provider must include {missing[0]}."
        )
    if kind == "OIDC" and details["attributes_request_method"] not in ("GET", "POST"):
        raise errors.InvalidParameterException("attributes_request_method must be GET or POST.")
    if kind == "Facebook":
        version = f"/{details['api_version']}" if details.get("api_version") else ""
        details.update(
            {
                "attributes_url": f"https://graph.facebook.com{version}/me?fields=",
                "attributes_url_add_attributes": "true",
                "authorize_url": f"https://www.facebook.com{version}/dialog/oauth",
                "token_request_method": "GET",
                "token_url": f"https://graph.facebook.com{version}/oauth/access_token",
            }
        )
    else:
        details.update(_DERIVED[kind])
    return dict(sorted(details.items()))


def _attribute_mapping(pool: UserPool, kind: str, given: Mapping[str, Any] | None) -> dict[str, str]:
    mapping = {str(k): str(v) for k, v in (given or {}).items()}
    schema = pool.schema()
    for attribute in mapping:
        if attribute != "username" and attribute not in schema:
            raise errors.InvalidParameterException(
                f"Attribute {attribute} in AttributeMapping does not exist in the user pool schema."
            )
    if kind in _USERNAME_CLAIM or kind == "OIDC":
        mapping.setdefault("username", _USERNAME_CLAIM.get(kind, "sub"))
    return dict(sorted(mapping.items()))


def _identifiers(pool: UserPool, name: str, given: list[Any] | None) -> list[str]:
    identifiers = [str(i) for i in given or []]
    for index, identifier in enumerate(identifiers):
        owner = next(
            (
                p
                for p, r in pool.identity_providers.items()
                if p != name and identifier in r["IdpIdentifiers"]
            ),
            name if identifier in identifiers[:index] else None,
        )
        if owner is not None:
            raise errors.DuplicateProviderException(
                f"Identifier {identifier} is already used by provider {owner} in user pool {pool.id}"
            )
    return identifiers


def _check_acr(kind: str, acr: object) -> None:
    if acr and kind != "OIDC":
        raise errors.InvalidParameterException("AcrMapping is only supported for OIDC identity providers.")


def _describe_provider(record: Mapping[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(dict(record))
    body["ProviderDetails"] = {k: v for k, v in body["ProviderDetails"].items() if k not in _HIDDEN}
    return body


def _provider(ctx: Context, params: Mapping[str, Any]) -> tuple[UserPool, dict[str, Any]]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    record = pool.identity_providers.get(str(params["ProviderName"]))
    if record is None:
        raise errors.ResourceNotFoundException(
            f"Identity provider {params['ProviderName']} does not exist in user pool {pool.id}."
        )
    return pool, record


def create_identity_provider(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    name, kind = str(params["ProviderName"]), str(params["ProviderType"])
    reserved = name in _SOCIAL or name.casefold() == "cognito"
    if (name != kind) if kind in _SOCIAL else reserved:
        raise errors.InvalidParameterException(f"Provider {name} cannot be of type {kind}.")
    if name in pool.identity_providers:
        raise errors.DuplicateProviderException(f"{name} already exists in user pool {pool.id}")
    if len(pool.identity_providers) >= _MAX_PROVIDERS:
        raise errors.LimitExceededException(
            f"A user pool can have at most {_MAX_PROVIDERS} identity providers."
        )
    _check_acr(kind, params.get("AcrMapping"))
    now = ctx.state.now()
    record: dict[str, Any] = {
        "UserPoolId": pool.id,
        "ProviderName": name,
        "ProviderType": kind,
        "ProviderDetails": _details(ctx, name, kind, params["ProviderDetails"], {}),
        "AttributeMapping": _attribute_mapping(pool, kind, params.get("AttributeMapping")),
        "IdpIdentifiers": _identifiers(pool, name, params.get("IdpIdentifiers")),
    }
    if params.get("AcrMapping"):
        record["AcrMapping"] = dict(params["AcrMapping"])
    record["LastModifiedDate"] = record["CreationDate"] = now
    pool.identity_providers[name] = record
    return {"IdentityProvider": _describe_provider(record)}


def describe_identity_provider(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    return {"IdentityProvider": _describe_provider(_provider(ctx, params)[1])}


_PROVIDER_ORDER = (
    "UserPoolId",
    "ProviderName",
    "ProviderType",
    "ProviderDetails",
    "AttributeMapping",
    "IdpIdentifiers",
    "AcrMapping",
    "LastModifiedDate",
    "CreationDate",
)


def update_identity_provider(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, record = _provider(ctx, params)
    name, kind = record["ProviderName"], record["ProviderType"]
    _check_acr(kind, params.get("AcrMapping"))
    updated = dict(record)
    if params.get("ProviderDetails") is not None:
        updated["ProviderDetails"] = _details(
            ctx, name, kind, params["ProviderDetails"], record["ProviderDetails"]
        )
    if params.get("AttributeMapping") is not None:
        updated["AttributeMapping"] = _attribute_mapping(pool, kind, params["AttributeMapping"])
    if params.get("IdpIdentifiers") is not None:
        updated["IdpIdentifiers"] = _identifiers(pool, name, params["IdpIdentifiers"])
    if params.get("AcrMapping") is not None:
        updated["AcrMapping"] = dict(params["AcrMapping"])
    updated["LastModifiedDate"] = ctx.state.now()
    record.clear()
    record.update({k: updated[k] for k in _PROVIDER_ORDER if k in updated})
    return {"IdentityProvider": _describe_provider(record)}


def delete_identity_provider(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool, record = _provider(ctx, params)
    name = record["ProviderName"]
    del pool.identity_providers[name]
    for client in pool.clients.values():
        supported = client.config.get("SupportedIdentityProviders")
        if supported and name in supported:
            client.config["SupportedIdentityProviders"] = [p for p in supported if p != name]
    return {}


def list_identity_providers(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    records = list(pool.identity_providers.values())
    chunk, token = page(records, params, key=lambda r: f"{r['CreationDate']:020.6f}/{r['ProviderName']}")
    listed = [
        {k: r[k] for k in ("ProviderName", "ProviderType", "LastModifiedDate", "CreationDate")} for r in chunk
    ]
    return {"Providers": listed, **({"NextToken": token} if token else {})}


def get_identity_provider_by_identifier(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    wanted = str(params["IdpIdentifier"])
    for record in pool.identity_providers.values():
        if wanted in record["IdpIdentifiers"]:
            return {"IdentityProvider": _describe_provider(record)}
    raise errors.ResourceNotFoundException(f"Identity provider with identifier {wanted} does not exist.")


# ===== linked identities ==================================================================================
def _identities(user: User) -> list[dict[str, Any]]:
    try:
        found = json.loads(user.attributes.get("identities") or "[]")
    except ValueError:
        return []
    return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []


def _set_identities(ctx: Context, user: User, identities: list[dict[str, Any]]) -> None:
    if identities:
        user.attributes["identities"] = json.dumps(identities, separators=(",", ":"))
    else:
        user.attributes.pop("identities", None)
    user.modified = ctx.state.now()


def _links(pool: UserPool) -> list[dict[str, str]]:
    """The pool's links whose destination user still exists (a deleted user's links go with it)."""
    links: list[dict[str, str]] = pool.features.setdefault(_LINKS, [])
    links[:] = [link for link in links if link["sub"] in pool.by_sub]
    return links


def _identity_parts(given: object, what: str) -> tuple[str, str, str]:
    spec = given if isinstance(given, Mapping) else {}
    name, value = spec.get("ProviderName"), spec.get("ProviderAttributeValue")
    if not name or not value:
        raise errors.InvalidParameterException(f"{what} needs ProviderName and ProviderAttributeValue.")
    return str(name), str(spec.get("ProviderAttributeName") or ""), str(value)


def _idp(pool: UserPool, name: str) -> dict[str, Any]:
    record = pool.identity_providers.get(name)
    if record is None:
        raise errors.InvalidParameterException(f"The provider {name} does not exist for User Pool {pool.id}")
    return record


def _check_attribute(record: Mapping[str, Any], attribute: str) -> None:
    if attribute == _SUBJECT:
        return
    if record["ProviderType"] in _SOCIAL:
        raise errors.InvalidParameterException(
            f"ProviderAttributeName must be {_SUBJECT} for the social provider {record['ProviderName']}."
        )
    if attribute not in record["AttributeMapping"]:
        raise errors.InvalidParameterException(
            f"ProviderAttributeName {attribute} is neither {_SUBJECT} nor an attribute the provider maps."
        )


def _issuer(record: Mapping[str, Any]) -> str | None:
    details = record["ProviderDetails"]
    if record["ProviderType"] == "SAML":
        return _saml_metadata(details["MetadataFile"])[0] if details.get("MetadataFile") else None
    return details.get("oidc_issuer") if record["ProviderType"] == "OIDC" else None


def federated_username(record: Mapping[str, Any], subject: str) -> str:
    """``<provider>_<subject>``: a social provider's name lowercased, a SAML or OIDC one's as configured
    (real Google sign-ins' ID tokens: ``cognito:username`` ``google_<sub>``, ``providerName`` ``Google``)."""
    name = str(record["ProviderName"])
    return f"{name.lower() if record['ProviderType'] in _SOCIAL else name}_{subject}"


def admin_link_provider_for_user(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    source_name, attribute, value = _identity_parts(params["SourceUser"], "SourceUser")
    if source_name.casefold() == "cognito":
        raise errors.InvalidParameterException(
            "Invalid SourceUser: Cognito users with a username/password may not be passed in as a SourceUser, "
            "only as a DestinationUser"
        )
    record = _idp(pool, source_name)
    _check_attribute(record, attribute)
    dest_name, _ignored, dest_value = _identity_parts(params["DestinationUser"], "DestinationUser")
    if dest_name.casefold() == "cognito":
        user = _rules.resolve_user(pool, dest_value)
    else:
        user = pool.users.get(federated_username(_idp(pool, dest_name), dest_value))
    if user is None:
        raise errors.UserNotFoundException("User does not exist.")
    signed_up = pool.users.get(federated_username(record, value))
    if signed_up is not None and signed_up is not user:
        raise errors.InvalidParameterException(
            "Merging is not currently supported, provide a SourceUser that has not been signed up in order to link"
        )
    links = _links(pool)
    if any(link["provider"] == source_name and link["value"] == value for link in links):
        raise errors.InvalidParameterException(
            f"SourceUser {source_name} {value} is already linked to a user."
        )
    identities = _identities(user)
    if sum(1 for i in identities if not i.get("primary")) >= _MAX_LINKS:
        raise errors.LimitExceededException(f"A user can have at most {_MAX_LINKS} linked identities.")
    identities.append(
        {
            "userId": value,
            "providerName": source_name,
            "providerType": record["ProviderType"],
            "issuer": _issuer(record),
            "primary": False,
            "dateCreated": int(ctx.state.now() * 1000),
        }
    )
    _set_identities(ctx, user, identities)
    links.append({"provider": source_name, "attribute": attribute, "value": value, "sub": user.sub})
    return {}


def admin_disable_provider_for_user(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    pool = ctx.lookups.pool(params["UserPoolId"])
    name, attribute, value = _identity_parts(params["User"], "User")
    if name.casefold() == "cognito":
        if attribute != _SUBJECT:
            raise errors.InvalidParameterException(
                f"ProviderAttributeName must be {_SUBJECT} for Cognito users."
            )
        native = _rules.resolve_user(pool, value)
        if native is None:
            raise errors.UserNotFoundException("User does not exist.")
        native.password = None  # no sign-in with a password from now on
        native.modified = ctx.state.now()
        return {}
    record = _idp(pool, name)
    _check_attribute(record, attribute)
    links = _links(pool)
    matched = [
        link
        for link in links
        if link["provider"] == name and link["value"] == value and attribute in (link["attribute"], _SUBJECT)
    ]
    federated = pool.users.get(federated_username(record, value)) if attribute == _SUBJECT else None
    if not matched and federated is None:
        raise errors.UserNotFoundException("User does not exist.")
    for link in matched:
        links.remove(link)
        user = pool.by_sub.get(link["sub"])
        if user is not None:
            kept = [
                i
                for i in _identities(user)
                if i.get("primary") or i.get("providerName") != name or i.get("userId") != value
            ]
            _set_identities(ctx, user, kept)
    if federated is not None:
        delete_user(ctx.state, ctx.issuer, pool, federated)
    return {}


ROUTES: dict[str, Route] = {
    "CreateIdentityProvider": create_identity_provider,
    "DescribeIdentityProvider": describe_identity_provider,
    "UpdateIdentityProvider": update_identity_provider,
    "DeleteIdentityProvider": delete_identity_provider,
    "ListIdentityProviders": list_identity_providers,
    "GetIdentityProviderByIdentifier": get_identity_provider_by_identifier,
    "AdminLinkProviderForUser": admin_link_provider_for_user,
    "AdminDisableProviderForUser": admin_disable_provider_for_user,
    "GetSigningCertificate": get_signing_certificate,
}
link_records, identity_issuer, SUBJECT_ATTRIBUTE = _links, _issuer, _SUBJECT  # for the federated sign-in
_OFFLINE = (
    "stored: SAML metadata at a MetadataURL and OIDC endpoint discovery at oidc_issuer need the network; "
    "those details are kept as given"
)
#: operation -> "full", or "stored: <why the behaviour cannot be reproduced offline>"
FIDELITY: dict[str, str] = {
    name: _OFFLINE if name in ("CreateIdentityProvider", "UpdateIdentityProvider") else "full"
    for name in ROUTES
}
