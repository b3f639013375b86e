"""Managed login (the hosted UI) and the OAuth 2.0 / OIDC endpoints of a local user pool's domains.

``LocalUserPool.domain_url(domain)`` is where a domain made with CreateUserPoolDomain answers, as
``https://<domain>`` does on Cognito. The modules, one concern each:

* ``_authorize``: the authorize request's parameters and where each refusal goes (pure);
* ``_grants``: authorization codes (single use, five minutes, PKCE) and browser sessions (pure);
* ``_signin``: the pages' sign-in on the pool's own password, MFA (and MFA set-up) and new-password
  machinery;
* ``_federation``: sign-in through an identity provider, with a page of the local pool standing in for
  the provider (nothing reaches a real one), and the federated users it makes;
* ``_pages``: the HTML;
* ``_token_endpoint``: ``/oauth2/token``, ``/oauth2/revoke``, ``/oauth2/userInfo``;
* ``_service``: what the pages share (codes, sessions, the answer to an authorize request);
* ``_routes``: the aiohttp handlers; ``_discovery``: the OpenID Provider metadata.
"""

from __future__ import annotations

from ._discovery import openid_configuration
from ._routes import COOKIE, PATH_PREFIX, add_routes
from ._service import ManagedLogin

__all__ = ["ManagedLogin", "add_routes", "openid_configuration", "PATH_PREFIX", "COOKIE"]
