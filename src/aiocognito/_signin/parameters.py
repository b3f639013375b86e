"""Reading what Cognito sends in a challenge and checking what the caller answers, with no I/O.

``SECRET_HASH``; the JSON-in-a-string challenge parameters (``MFAS_CAN_SETUP``, ``requiredAttributes``,
``userAttributes``), read leniently because emulators print them differently; strict checks of the answer's
own members (a non-string Session is a :class:`~aiocognito.ProtocolError`); and the checks of a caller's
answer that run before anything is sent (:class:`~aiocognito.ParamValidationError`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from .._errors import (
    ParamValidationError,
    ProtocolError,
)
from .events import NewPasswordAnswer, PendingChallenge

__all__ = [
    "SECRET_CODE",
    "challenge_parameters",
    "check_offered",
    "new_password_responses",
    "optional_text",
    "parse_name_list",
    "parse_required_attributes",
    "parse_user_attributes",
    "required_text",
    "secret_hash",
]


def secret_hash(client_secret: str, username: str, client_id: str) -> str:
    """``SECRET_HASH = Base64(HMAC-SHA256(key=client_secret, msg=username + client_id))``."""
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def parse_name_list(value: Any) -> list[str]:
    """A JSON array of names (``MFAS_CAN_SETUP``, ``MFAS_CAN_CHOOSE``), tolerating non-JSON forms.

    Accepts a real list, a JSON string, or a printed Python list (``"['SMS_MFA']"``, seen on emulators).
    Anything else gives ``[]``.
    """
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    if not isinstance(value, str) or not value.strip():
        return []
    try:
        parsed = json.loads(value)
    except ValueError:
        return re.findall(r"[A-Z][A-Z0-9_]*", value)
    return parse_name_list(parsed) if isinstance(parsed, list) else []


def parse_required_attributes(value: Any) -> list[str]:
    """``requiredAttributes`` (JSON array of ``"userAttributes.<name>"``) as bare names; unknown -> ``[]``."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if not isinstance(value, list):
        return []
    return [v.removeprefix("userAttributes.") for v in value if isinstance(v, str) and v]


def parse_user_attributes(value: Any) -> dict[str, str]:
    """``userAttributes`` (JSON object string of current attributes); unknown -> ``{}``."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


#: The model's SecretCodeType: 16 or more letters and digits (Cognito sends base32).
SECRET_CODE = re.compile(r"[A-Za-z0-9]{16,}")


def optional_text(response: Mapping[str, Any], key: str) -> str | None:
    """A string member of a server answer ("" counts as absent); another type is a ProtocolError."""
    value = response.get(key)
    if value is not None and not isinstance(value, str):
        raise ProtocolError(f"{key} in the answer is not a string")
    return value or None


def challenge_parameters(value: Any) -> dict[str, str]:
    """``ChallengeParameters``: a map of strings to strings (absent: empty); anything else is malformed."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ProtocolError("ChallengeParameters is not a map of strings")
    return dict(value)


def required_text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ParamValidationError("RespondToAuthChallenge", [f"{what} must be a non-empty string"])
    return value


def check_offered(choice: str, offered: list[str]) -> None:
    if not isinstance(choice, str) or not choice:
        raise ParamValidationError("RespondToAuthChallenge", ["the choice must be a non-empty string"])
    if offered and choice not in offered:
        raise ParamValidationError(
            "RespondToAuthChallenge", [f"{choice!r} is not one of the offered {offered}"]
        )


def new_password_responses(pending: PendingChallenge, answer: NewPasswordAnswer) -> dict[str, str]:
    """NEW_PASSWORD + ``userAttributes.<name>`` for each missing required attribute and each given one.

    The ``userAttributes`` blob is never echoed (it holds read-only values Cognito rejects). A required
    attribute with no value that the caller did not give is reported before anything is sent.
    """
    new_password = required_text(answer.new_password, "new_password")
    given = {key.removeprefix("userAttributes."): value for key, value in answer.attributes.items()}
    current = parse_user_attributes(pending.parameters.get("userAttributes"))
    required = parse_required_attributes(pending.parameters.get("requiredAttributes"))
    missing = [name for name in required if not current.get(name) and not given.get(name)]
    if missing:
        raise ParamValidationError(
            "RespondToAuthChallenge",
            [f"NEW_PASSWORD_REQUIRED needs a value for required attribute {name!r}" for name in missing],
        )
    responses = {"NEW_PASSWORD": new_password}
    for name, value in given.items():
        responses[f"userAttributes.{name}"] = str(value)
    return responses
