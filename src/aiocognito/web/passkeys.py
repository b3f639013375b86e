"""The passkey routes' answers (see :mod:`aiocognito.web.routes` for the JSON contract), as methods
:class:`~aiocognito.web.backend.CognitoBackend` inherits from :class:`PasskeyRoutes`.

WebAuthn's JSON is not interpreted here: the creation and request options go to the browser as Cognito sent
them, the browser's credential goes to Cognito as it came. A sign-in's WEB_AUTHN challenge is saved in the
backend's challenge store like any other challenge (its id goes to the browser; Cognito's Session stays
on the server), so the answer may reach another worker. Cognito's WebAuthn errors become 4xx answers
here (the general table, :mod:`aiocognito.web.http_errors`, has no rows for them); logs name outcomes
only.

This module does not import ``backend``: what it uses of the backend is declared on
:class:`PasskeyRoutes` for the type checker only.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from .._errors import CognitoError, ServiceError
from .._signin.account import Passkey
from .._signin.steps import WebAuthnRequired
from .bearer import CognitoClaims
from .http_errors import HttpError, bad_request

if TYPE_CHECKING:
    from .._signin.session import Session
    from .._signin.steps import Step
    from .challenges import ChallengeStore, SavedChallenge

__all__ = ["PasskeyRoutes", "SIGN_IN_PURPOSE"]

logger = logging.getLogger("aiocognito.web")

#: The ``purpose`` of a saved sign-in challenge (the backend's, shared so either answer route takes it).
SIGN_IN_PURPOSE = "sign-in"

Handler = Callable[[dict[str, Any], "CognitoClaims | None"], Awaitable[dict[str, Any]]]

#: Cognito's WebAuthn errors (StartWebAuthnRegistration, CompleteWebAuthnRegistration) -> the answer.
_PASSKEY_ERRORS: dict[str, tuple[int, str, str]] = {
    "WebAuthnNotEnabledException": (403, "passkeys_not_enabled", "passkeys are not enabled here"),
    "WebAuthnConfigurationMissingException": (
        500,
        "server_misconfigured",
        "the user pool has no passkey relying party",
    ),
    "WebAuthnChallengeNotFoundException": (
        410,
        "registration_expired",
        "no passkey registration is waiting: start again",
    ),
    "WebAuthnOriginNotAllowedException": (400, "passkey_rejected", "the passkey was made on another site"),
    "WebAuthnRelyingPartyMismatchException": (400, "passkey_rejected", "the passkey is for another site"),
    "WebAuthnClientMismatchException": (400, "passkey_rejected", "the registration was started elsewhere"),
    "WebAuthnCredentialNotSupportedException": (400, "passkey_rejected", "this passkey is not supported"),
}


@contextlib.contextmanager
def _passkey_errors(*, not_found: bool = False) -> Iterator[None]:
    """Cognito's WebAuthn errors (and, with ``not_found``, ResourceNotFoundException) as HTTP answers."""
    try:
        yield
    except ServiceError as exc:
        rule = _PASSKEY_ERRORS.get(exc.code)
        if rule is not None:
            logger.info("passkeys: refused (%s)", exc.code)
            status, error, message = rule
            raise HttpError(status, error, message=message) from None
        if not_found and exc.code == "ResourceNotFoundException":
            raise HttpError(404, "passkey_not_found", message="no such passkey") from None
        raise


def _passkey_body(passkey: Passkey) -> dict[str, Any]:
    return {
        "credential_id": passkey.credential_id,
        "name": passkey.friendly_name,
        "relying_party_id": passkey.relying_party_id,
        "attachment": passkey.attachment,
        "transports": list(passkey.transports),
        "created_at": passkey.created_at.isoformat() if passkey.created_at is not None else None,
    }


class PasskeyRoutes:
    """Passkey sign-in, registration, listing and deletion for the backend's routes."""

    if TYPE_CHECKING:  # provided by CognitoBackend
        store: ChallengeStore

        def session(self) -> Session: ...

        async def signed_in_session(self, user: CognitoClaims) -> Session: ...

        async def _step_reply(self, step: Step) -> dict[str, Any]: ...

        async def _retry_later(self, challenge_id: str, saved: SavedChallenge, exc: CognitoError) -> None: ...

    def _passkey_handlers(self) -> dict[str, Handler]:
        """The handlers by route name (see :data:`aiocognito.web.routes.ROUTES`)."""
        return {
            "passkey_sign_in": self._passkey_sign_in,
            "passkey_answer": self._passkey_answer,
            "passkey_register": self._passkey_register,
            "passkey_register_complete": self._passkey_register_complete,
            "passkey_list": self._passkey_list,
            "passkey_delete": self._passkey_delete,
        }

    async def _passkey_sign_in(self, values: dict[str, Any], user: CognitoClaims | None) -> dict[str, Any]:
        step = await self.session().sign_in(
            values["username"], flow="USER_AUTH", preferred_challenge="WEB_AUTHN"
        )
        if not isinstance(step, WebAuthnRequired):  # Cognito offered a choice without WEB_AUTHN
            logger.info("passkeys: sign-in without a usable passkey")
            raise HttpError(
                400, "passkey_unavailable", message="no passkey can sign in this user: sign in another way"
            )
        return await self._step_reply(step)

    async def _passkey_answer(self, values: dict[str, Any], user: CognitoClaims | None) -> dict[str, Any]:
        challenge_id = values["challenge_id"]
        saved = await self.store.take(challenge_id)
        if saved is None or saved.data.get("purpose") != SIGN_IN_PURPOSE:
            raise HttpError(410, "challenge_expired", message="unknown or expired challenge: sign in again")
        try:
            step = await self.session().resume(saved.data["step"])
            if not isinstance(step, WebAuthnRequired):
                await self.store.put_back(challenge_id, saved)
                raise bad_request("this challenge is answered at /sign-in/answer", fields=["credential"])
            following = await step.respond(values["credential"])
        except ServiceError as exc:
            await self._retry_later(challenge_id, saved, exc)
            if exc.code == "NotAuthorizedException":
                logger.info("passkeys: assertion refused")
                raise HttpError(
                    401, "not_authorized", message="the passkey was not accepted: sign in again"
                ) from None
            raise
        except CognitoError as exc:
            await self._retry_later(challenge_id, saved, exc)
            raise
        return await self._step_reply(following)

    async def _passkey_register(self, values: dict[str, Any], user: CognitoClaims | None) -> dict[str, Any]:
        assert user is not None
        with _passkey_errors():
            options = await (await self.signed_in_session(user)).start_passkey_registration()
        logger.info("passkeys: registration started")
        return {"creation_options": options}

    async def _passkey_register_complete(
        self, values: dict[str, Any], user: CognitoClaims | None
    ) -> dict[str, Any]:
        assert user is not None
        session = await self.signed_in_session(user)
        try:
            with _passkey_errors():
                await session.complete_passkey_registration(values["credential"])
        except ServiceError as exc:
            if exc.code == "InvalidParameterException":  # e.g. a passkey registered already
                raise HttpError(400, "passkey_rejected", message="the passkey was not accepted") from None
            raise
        logger.info("passkeys: registered")
        return {"registered": True}

    async def _passkey_list(self, values: dict[str, Any], user: CognitoClaims | None) -> dict[str, Any]:
        assert user is not None
        with _passkey_errors():
            passkeys = await (await self.signed_in_session(user)).list_passkeys()
        return {"passkeys": [_passkey_body(p) for p in passkeys]}

    async def _passkey_delete(self, values: dict[str, Any], user: CognitoClaims | None) -> dict[str, Any]:
        assert user is not None
        with _passkey_errors(not_found=True):
            await (await self.signed_in_session(user)).delete_passkey(values["credential_id"])
        logger.info("passkeys: deleted")
        return {"deleted": True}
