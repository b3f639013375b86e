"""Sign-in through a third-party identity provider (social, SAML, OIDC), with a stand-in for the provider.

On Cognito, ``/oauth2/authorize?identity_provider=Google`` (or ``idp_identifier=...``, or a provider's
button on the sign-in page) sends the browser to the provider; the provider sends it back to
``https://<domain>/oauth2/idpresponse`` (OIDC and social, a code) or ``/saml2/idpresponse`` (SAML, a
posted SAMLResponse), and Cognito signs the user in and goes on to the app's callback with a code.

Offline there is no provider, so **a page of the local pool stands in for it**: ``/_idp/<provider>`` on the
domain, where a test (or a person) types the external user's subject (an OIDC or social ``sub``, a SAML
NameID) and the provider's claims. Posting it is "the provider answered": nothing is asked of Google,
Facebook, Apple, Amazon or a SAML/OIDC provider, and no token or assertion of theirs is signed or
checked. From the provider's answer on, the pool does what Cognito does:

* an identity linked to a native user with AdminLinkProviderForUser signs in as that native user;
* else the federated user ``<provider>_<subject>`` (``federated_username``: social provider names
  lowercased) is made on the first sign-in: status EXTERNAL_PROVIDER, the provider's claims through its
  AttributeMapping, the ``identities`` attribute, the automatic group ``<pool id>_<provider>``, after
  the PreSignUp trigger (``PreSignUp_ExternalProvider``: raising refuses the sign-in) and then the
  PostConfirmation trigger (``PostConfirmation_ConfirmSignUp``, as Cognito runs it once for a new
  federated user); later sign-ins write the mapped attributes again;
* no password, MFA, PreAuthentication or PostAuthentication (Cognito runs none for a federated
  sign-in); the code, the token endpoint and the PreTokenGeneration trigger are the native sign-in's.

A refusal after the provider answered (a trigger's, a disabled user, a required attribute the mapping
does not give) goes to the app's callback as ``error=invalid_request`` with the message as
``error_description``. The provider records here (:class:`FederationStore`) are keyed by random
strings, single use and short-lived; time is a parameter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ... import errors
from .. import _ids, _triggers, _users
from .._api.federation import SUBJECT_ATTRIBUTE, federated_username, identity_issuer, link_records
from .._records import Group, User
from .._state import PoolState

if TYPE_CHECKING:
    from .._records import UserPool

__all__ = ["FederationStore", "FederatedSignIn", "ProviderAnswer", "ProviderLogin", "FEDERATION_SECONDS"]

#: How long the stand-in page and the provider's answer stay usable.
FEDERATION_SECONDS = 600.0
_PRUNE_AT = 256


@dataclass
class ProviderLogin:
    """An authorize request waiting for the provider: which provider, and the request's query string."""

    provider: str
    query: str = field(repr=False)
    expires_at: float = 0.0


@dataclass
class ProviderAnswer:
    """What the (stand-in) provider said about the user: its subject and claims."""

    state: str = field(repr=False)
    provider: str
    subject: str = field(repr=False)
    claims: dict[str, str] = field(repr=False)
    expires_at: float = 0.0


class FederationStore:
    """Provider logins by their ``state`` and provider answers by their code (both single use at the end)."""

    def __init__(self) -> None:
        self._logins: dict[str, ProviderLogin] = {}
        self._answers: dict[str, ProviderAnswer] = {}

    def __repr__(self) -> str:
        return f"<FederationStore logins={len(self._logins)} answers={len(self._answers)}>"

    def _prune(self, now: float) -> None:
        if len(self._logins) + len(self._answers) < _PRUNE_AT:
            return
        self._logins = {k: v for k, v in self._logins.items() if v.expires_at > now}
        self._answers = {k: v for k, v in self._answers.items() if v.expires_at > now}

    def begin(self, key: str, provider: str, query: str, now: float) -> None:
        self._prune(now)
        self._logins[key] = ProviderLogin(provider, query, now + FEDERATION_SECONDS)

    def login(self, key: str | None, provider: str, now: float) -> ProviderLogin | None:
        """The waiting login of ``key`` for ``provider`` (None: unknown, used, expired, another provider)."""
        found = self._logins.get(key) if key else None
        if found is None or found.provider != provider or now >= found.expires_at:
            return None
        return found

    def answer(self, code: str, answer: ProviderAnswer) -> None:
        self._answers[code] = answer

    def redeem(self, code: str | None, state: str | None, now: float) -> tuple[ProviderLogin, ProviderAnswer]:
        """The login and the provider's answer of ``code`` (both removed). ErrorPage-worthy: LookupError."""
        answer = self._answers.pop(code, None) if code else None
        if answer is None or now >= answer.expires_at or answer.state != state:
            raise LookupError("unknown or used provider response")
        login = self._logins.pop(answer.state, None)
        if login is None or login.provider != answer.provider or now >= login.expires_at:
            raise LookupError("unknown or used provider login")
        return login, answer


def parse_claims(text: str) -> dict[str, str]:
    """The stand-in page's claims: a JSON object; values as strings (booleans ``true``/``false``).

    Raises:
        ValueError: not a JSON object of strings, numbers or booleans.
    """
    found = json.loads(text or "{}")
    if not isinstance(found, dict):
        raise ValueError("the attributes must be a JSON object")
    claims: dict[str, str] = {}
    for name, value in found.items():
        if isinstance(value, bool):
            claims[str(name)] = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            claims[str(name)] = str(value)
        else:
            raise ValueError(f"the attribute {name} must be a string, a number or a boolean")
    return claims


class FederatedSignIn:
    """Turns a provider's answer into the user pool's user: linked, made or updated (see the module doc)."""

    def __init__(self, state: PoolState) -> None:
        self.state = state
        self.store = FederationStore()

    def __repr__(self) -> str:
        return f"<FederatedSignIn {self.store!r}>"

    @staticmethod
    def mapped(record: Mapping[str, Any], claims: Mapping[str, str]) -> dict[str, str]:
        """The user pool attributes the provider's AttributeMapping gives from its claims."""
        values: dict[str, str] = {}
        for attribute, claim in (record.get("AttributeMapping") or {}).items():
            if attribute != "username" and claim in claims:
                value = claims[claim]
                if attribute in ("email_verified", "phone_number_verified"):
                    value = value.lower()
                values[str(attribute)] = value
        return values

    def sign_in(
        self,
        pool: UserPool,
        client_id: str,
        record: Mapping[str, Any],
        subject: str,
        claims: Mapping[str, str],
    ) -> User:
        """The user the provider's answer signs in. Raises the API's errors (their messages are shown)."""
        native = link_user(pool, record, subject, claims)
        if native is not None:
            return _enabled(native)
        values = self.mapped(record, claims)
        existing = pool.users.get(federated_username(record, subject))
        if existing is not None:
            _enabled(existing)
            schema = pool.schema()
            changed = {
                k: v
                for k, v in values.items()
                if existing.attributes.get(k) != v and schema.get(k, {}).get("Mutable", True) is not False
            }
            if changed:
                _users.check_attributes(pool, changed, creating=False)
                existing.attributes.update(changed)
                existing.modified = self.state.now()
            return existing
        return self._first_sign_in(pool, client_id, record, subject, values)

    def _first_sign_in(
        self, pool: UserPool, client_id: str, record: Mapping[str, Any], subject: str, values: dict[str, str]
    ) -> User:
        _users.check_attributes(pool, values, creating=True)
        missing = [
            name
            for name, spec in pool.schema().items()
            if spec.get("Required") and name != "sub" and not values.get(name)
        ]
        if missing:
            raise errors.InvalidParameterException(
                f"Invalid user attributes: {missing[0]}: The attribute is required"
            )
        now = self.state.now()
        sub = _ids.sub(self.state.random_bytes)
        identity = {
            "userId": subject,
            "providerName": record["ProviderName"],
            "providerType": record["ProviderType"],
            "issuer": identity_issuer(record),
            "primary": "true",  # strings, as Cognito's ID tokens show them
            "dateCreated": str(int(now * 1000)),
        }
        attributes = {**values, "sub": sub, "identities": json.dumps([identity], separators=(",", ":"))}
        user = User(
            username=federated_username(record, subject),
            sub=sub,
            created=now,
            modified=now,
            attributes=attributes,
            status="EXTERNAL_PROVIDER",
        )
        flags = _triggers.pre_sign_up(self.state, pool, user, "PreSignUp_ExternalProvider", client_id, {})
        if flags and flags["autoVerifyEmail"] and user.attributes.get("email"):
            user.attributes["email_verified"] = "true"
        if flags and flags["autoVerifyPhone"] and user.attributes.get("phone_number"):
            user.attributes["phone_number_verified"] = "true"
        pool.add_user(user)
        group = f"{pool.id}_{record['ProviderName']}"
        if group not in pool.groups:
            pool.groups[group] = Group(name=group, created=now, modified=now)
        user.groups.add(group)
        _triggers.post_confirmation(self.state, pool, user, "PostConfirmation_ConfirmSignUp", client_id)
        return user


def link_user(
    pool: UserPool, record: Mapping[str, Any], subject: str, claims: Mapping[str, str]
) -> User | None:
    """The native user AdminLinkProviderForUser linked this identity to (by ``Cognito_Subject``: the
    subject; by another attribute name: the provider's claim of that name); None when there is none."""
    for link in link_records(pool):
        if link["provider"] != record["ProviderName"]:
            continue
        value = subject if link["attribute"] == SUBJECT_ATTRIBUTE else claims.get(link["attribute"])
        if value == link["value"]:
            return pool.by_sub.get(link["sub"])
    return None


def _enabled(user: User) -> User:
    if not user.enabled:
        raise errors.NotAuthorizedException("User is disabled.")
    return user
