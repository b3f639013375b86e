"""The OpenID Provider metadata of a user pool (``/.well-known/openid-configuration``), as Cognito lists it.

Without a domain only the issuer, its keys and the ID token algorithm are known. With one, the
endpoints of the domain's managed login are added, with what Cognito says it supports: response types
``code`` and ``token``, the OIDC scopes, ``client_secret_basic`` and ``client_secret_post``. Cognito
does not list ``code_challenge_methods_supported`` (it accepts only S256), so neither does this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._records import UserPool

__all__ = ["openid_configuration"]


def _domain(pool: UserPool) -> str | None:
    """The domain the endpoints are listed on: the prefix domain, else the custom one."""
    prefix = [name for name, record in pool.domains.items() if not record.get("CustomDomainConfig")]
    names = prefix or list(pool.domains)
    return names[0] if names else None


def openid_configuration(
    pool: UserPool, issuer: str, jwks_uri: str, domain_url: Callable[[str], str]
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "issuer": issuer,
        "jwks_uri": jwks_uri,
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
    }
    domain = _domain(pool)
    if domain is None:
        return document
    base = domain_url(domain)
    document.update(
        {
            "authorization_endpoint": f"{base}/oauth2/authorize",
            "token_endpoint": f"{base}/oauth2/token",
            "userinfo_endpoint": f"{base}/oauth2/userInfo",
            "revocation_endpoint": f"{base}/oauth2/revoke",
            "end_session_endpoint": f"{base}/logout",
            "response_types_supported": ["code", "token"],
            "scopes_supported": ["openid", "email", "phone", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }
    )
    return document
