"""How faithfully each endpoint of a local user pool domain answers (the managed login part of
``docs/local-pool-fidelity.md``): ``"full"`` or ``"stand-in: <what differs>"``."""

from __future__ import annotations

__all__ = ["ENDPOINTS"]

#: endpoint -> "full" or "stand-in: <what differs from Cognito>"
ENDPOINTS: dict[str, str] = {
    "GET /oauth2/authorize": "full for the code and implicit grants (PKCE S256 only, as Cognito; plain is "
    "refused); `lang` and `resource` are accepted and ignored",
    "GET|POST /login (sign-in pages)": "full: password, lockout, SMS, email and TOTP codes, the choice of a "
    "factor, TOTP set-up, new password, user migration and the pre/post authentication triggers, on the "
    "pool's own machinery; the pages are plain HTML forms, not Cognito's look (branding is stored, not shown)",
    "identity providers (social, OIDC, SAML)": "stand-in: a page of the local pool takes the provider's "
    "subject and attributes where the provider would sign the user in; from its answer on, as Cognito "
    "(federated user, attribute mapping, `identities`, the provider group, PreSignUp_ExternalProvider, "
    "linked users)",
    "POST /oauth2/token": "full for authorization_code, refresh_token and client_credentials (both client "
    "authentication methods, custom scopes of resource servers); the ClientAuthentication quota is not applied",
    "POST /oauth2/revoke": "full",
    "GET|POST /oauth2/userInfo": "full",
    "GET /logout": "full",
    "GET /{pool id}/.well-known/openid-configuration, jwks.json": "full (served by the issuer, the pool's "
    "endpoint URL and pool id)",
}
