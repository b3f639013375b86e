"""OpenID Connect discovery: the issuer's ``/.well-known/openid-configuration``.

A Cognito issuer (``https://cognito-idp.<region>.amazonaws.com/<pool id>``) lists its keys and, once the
pool has a domain, the domain's endpoints. The answer's ``issuer`` must be the one asked for (OpenID
Connect Discovery 1.0, section 4.3): a document naming another issuer is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .._errors import ProtocolError
from ._endpoint import LOGGER, send_request
from ._responses import answer_error, json_object

__all__ = ["OpenIdConfiguration", "discover"]

_WHAT = "openid-configuration"


def _text(data: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"the OpenID configuration's {name} is not a non-empty str")
    return value


def _names(data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProtocolError(f"the OpenID configuration's {name} is not a list of str")
    return tuple(value)


@dataclass(frozen=True)
class OpenIdConfiguration:
    """The fields of an issuer's OpenID configuration that a Cognito client uses; ``raw`` is all of it.

    The endpoints are None when the document does not list them (a pool without a domain).
    """

    issuer: str
    jwks_uri: str
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    userinfo_endpoint: str | None = None
    revocation_endpoint: str | None = None
    end_session_endpoint: str | None = None
    response_types_supported: tuple[str, ...] = ()
    scopes_supported: tuple[str, ...] = ()
    subject_types_supported: tuple[str, ...] = ()
    id_token_signing_alg_values_supported: tuple[str, ...] = ()
    token_endpoint_auth_methods_supported: tuple[str, ...] = ()
    code_challenge_methods_supported: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def domain_url(self) -> str | None:
        """The user pool domain the authorize endpoint is on (``.../oauth2/authorize`` taken off)."""
        endpoint = self.authorization_endpoint
        suffix = "/oauth2/authorize"
        return endpoint[: -len(suffix)] if endpoint and endpoint.endswith(suffix) else None

    @classmethod
    def from_document(cls, data: Mapping[str, Any]) -> OpenIdConfiguration:
        """Read a parsed discovery document.

        Raises:
            ProtocolError: ``issuer`` or ``jwks_uri`` missing, or a field of the wrong type.
        """
        return cls(
            issuer=str(_text(data, "issuer", required=True)),
            jwks_uri=str(_text(data, "jwks_uri", required=True)),
            authorization_endpoint=_text(data, "authorization_endpoint"),
            token_endpoint=_text(data, "token_endpoint"),
            userinfo_endpoint=_text(data, "userinfo_endpoint"),
            revocation_endpoint=_text(data, "revocation_endpoint"),
            end_session_endpoint=_text(data, "end_session_endpoint"),
            response_types_supported=_names(data, "response_types_supported"),
            scopes_supported=_names(data, "scopes_supported"),
            subject_types_supported=_names(data, "subject_types_supported"),
            id_token_signing_alg_values_supported=_names(data, "id_token_signing_alg_values_supported"),
            token_endpoint_auth_methods_supported=_names(data, "token_endpoint_auth_methods_supported"),
            code_challenge_methods_supported=_names(data, "code_challenge_methods_supported"),
            raw=dict(data),
        )


async def discover(
    issuer: str, *, http: aiohttp.ClientSession | None = None, timeout: float = 10.0
) -> OpenIdConfiguration:
    """Fetch and read ``{issuer}/.well-known/openid-configuration``.

    Raises:
        ProtocolError: the document names another issuer, or lacks ``issuer``/``jwks_uri``.
        ResponseParseError / ServiceError / TransportError: not a JSON answer, an error status, no answer.
    """
    issuer = issuer.rstrip("/")
    url = f"{issuer}/.well-known/openid-configuration"
    session = http if http is not None else aiohttp.ClientSession()
    try:
        status, headers, body = await send_request(
            session,
            "GET",
            url,
            form=None,
            headers={"Accept": "application/json"},
            timeout=aiohttp.ClientTimeout(total=timeout),
        )
    finally:
        if http is None:
            await session.close()
    LOGGER.debug("GET %s -> HTTP %d", url, status)
    if not 200 <= status < 300:
        raise answer_error(status, headers, body, _WHAT)
    config = OpenIdConfiguration.from_document(json_object(status, body, _WHAT))
    if config.issuer.rstrip("/") != issuer:
        raise ProtocolError("the OpenID configuration names another issuer than the one asked")
    return config
