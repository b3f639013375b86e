"""A user's Lambda trigger module, as tests/test_triggers.py and ``aiocognito local --triggers`` run it.

The functions are written the way Lambda handlers are (they take the event, and some the context, and
return the event), so the same code could be deployed. ``TRIGGERS`` maps LambdaConfig names to them.

* Custom auth: three questions of this app's own design, after the password (SRP) when the sign-in starts
  with it. A wrong answer asks the same question again, once; a second wrong answer fails the sign-in.
* Pre token generation: a ``tenant`` claim in the ID token (V1_0) or in both tokens plus the
  ``orders/read`` scope in the access token (V2_0); V1_0 also drops ``email`` and puts the user in the
  ``readers`` group only.
* User migration: users of a legacy directory (``LEGACY_USERS``) come in on first sign-in with their old
  password, or through the forgot-password flow.
* Pre sign-up: ``@example.com`` addresses are confirmed and verified at once; ``@blocked.example`` is
  refused.
* Pre authentication: ``betty`` is refused; ``slowpoke`` takes longer than Cognito's 5 seconds (async).
* Custom message: the app's own words around the code.
* Post confirmation and post authentication: noted in ``CONFIRMED`` and ``SIGNED_IN``.

``EVENTS`` keeps (triggerSource, event) of every call for the tests to inspect (with the password of a
migration event taken out); ``reset()`` empties the records.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

Event = dict[str, Any]

#: The three questions: (metadata, question, answer of each user).
QUESTIONS = (
    ("COLOUR", "What colour is the front door?", {"quinn": "green", "rosa": "red"}),
    ("PET", "What was the name of your first pet?", {"quinn": "biscuit", "rosa": "tiger"}),
    ("CITY", "In which city did you open your account?", {"quinn": "lisbon", "rosa": "oslo"}),
)
LEGACY_USERS = {
    "legacy-larry": {"password": "Legacy-Passw0rd!", "email": "larry@example.com"},
    "legacy-lena": {"password": "Lena-Passw0rd!", "email": "lena@example.com"},
}
EVENTS: list[tuple[str, Event]] = []
CONFIRMED: list[str] = []
SIGNED_IN: list[str] = []


def reset() -> None:
    EVENTS.clear()
    CONFIRMED.clear()
    SIGNED_IN.clear()


def _note(event: Event) -> None:
    kept = copy.deepcopy(event)  # as it came in (the trigger changes its response afterwards)
    kept["request"].pop("password", None)
    EVENTS.append((event["triggerSource"], kept))


# ----- custom authentication ---------------------------------------------------------------------------
def define_auth_challenge(event: Event) -> Event:
    _note(event)
    session, response = event["request"]["session"], event["response"]
    response.update(issueTokens=False, failAuthentication=False)
    answers = [s for s in session if s["challengeName"] == "CUSTOM_CHALLENGE"]
    passed = {s["challengeMetadata"] for s in answers if s["challengeResult"]}
    if event["request"].get("userNotFound") or sum(not s["challengeResult"] for s in answers) >= 2:
        response["failAuthentication"] = True
    elif session and session[-1]["challengeName"] == "SRP_A":
        response["challengeName"] = "PASSWORD_VERIFIER"
    elif len(passed) == len(QUESTIONS):
        response["issueTokens"] = True
    else:
        response["challengeName"] = "CUSTOM_CHALLENGE"
    return event


def create_auth_challenge(event: Event) -> Event:
    _note(event)
    passed = {s["challengeMetadata"] for s in event["request"]["session"] if s["challengeResult"]}
    number, (metadata, question, answers) = next(
        (n, q) for n, q in enumerate(QUESTIONS, 1) if q[0] not in passed
    )
    event["response"] = {
        "publicChallengeParameters": {"question": question, "number": str(number)},
        "privateChallengeParameters": {"answer": answers.get(event["userName"], "")},
        "challengeMetadata": metadata,
    }
    return event


def verify_auth_challenge_response(event: Event) -> Event:
    _note(event)
    expected = event["request"]["privateChallengeParameters"]["answer"]
    given = event["request"]["challengeAnswer"].strip().lower()
    event["response"]["answerCorrect"] = bool(expected) and given == expected
    return event


# ----- tokens --------------------------------------------------------------------------------------------
def pre_token_generation(event: Event, context: Any) -> Event:
    """A Lambda handler with its context, as deployed."""
    _note(event)
    assert context.get_remaining_time_in_millis() > 0
    if event["version"] == "1":
        event["response"]["claimsOverrideDetails"] = {
            "claimsToAddOrOverride": {"tenant": "acme"},
            "claimsToSuppress": ["email"],
            "groupOverrideDetails": {"groupsToOverride": ["readers"]},
        }
    else:
        event["response"]["claimsAndScopeOverrideDetails"] = {
            "idTokenGeneration": {"claimsToAddOrOverride": {"tenant": "acme"}},
            "accessTokenGeneration": {
                "claimsToAddOrOverride": {"tenant": "acme", "plan": {"tier": "gold", "seats": 5}},
                "scopesToAdd": ["orders/read"],
            },
        }
    return event


# ----- users ---------------------------------------------------------------------------------------------
def user_migration(event: Event) -> Event:
    _note(event)
    legacy = LEGACY_USERS.get(event["userName"])
    if legacy is None:
        return event  # not ours either: Cognito answers that the user was not found
    if event["triggerSource"] == "UserMigration_Authentication":
        if event["request"]["password"] != legacy["password"]:
            raise ValueError("Bad password")
        event["response"]["finalUserStatus"] = "CONFIRMED"
    event["response"]["userAttributes"] = {"email": legacy["email"], "email_verified": "true"}
    event["response"]["messageAction"] = "SUPPRESS"
    return event


def pre_sign_up(event: Event) -> Event:
    _note(event)
    email = event["request"]["userAttributes"].get("email", "")
    if email.endswith("@blocked.example"):
        raise PermissionError("Sign-ups from blocked.example are not allowed")
    if event["triggerSource"] == "PreSignUp_SignUp" and email.endswith("@example.com"):
        event["response"].update(autoConfirmUser=True, autoVerifyEmail=True)
    return event


def post_confirmation(event: Event) -> Event:
    _note(event)
    CONFIRMED.append(event["userName"])
    return event


async def pre_authentication(event: Event) -> Event:
    """An async trigger: awaited in its own event loop."""
    _note(event)
    if event["userName"] == "slowpoke":
        await asyncio.sleep(8)  # longer than Cognito's 5 seconds
    if event["userName"] == "betty":
        raise RuntimeError("Betty may not sign in today")
    return event


def post_authentication(event: Event) -> Event:
    _note(event)
    SIGNED_IN.append(event["userName"])
    return event


def custom_message(event: Event) -> Event:
    _note(event)
    code, source = event["request"]["codeParameter"], event["triggerSource"]
    if source == "CustomMessage_AdminCreateUser":
        text = f"Welcome aboard, {event['request']['usernameParameter']}! Your temporary password: {code}"
    elif source == "CustomMessage_ForgotPassword":
        text = f"Someone asked to reset your Acme password. The code is {code}."
    else:
        text = f"Welcome to Acme! Your code is {code}."
    event["response"].update(emailMessage=text, smsMessage=text, emailSubject="Acme")
    return event


TRIGGERS = {
    "DefineAuthChallenge": define_auth_challenge,
    "CreateAuthChallenge": create_auth_challenge,
    "VerifyAuthChallengeResponse": verify_auth_challenge_response,
    "PreTokenGeneration": pre_token_generation,
    "UserMigration": user_migration,
    "PreSignUp": pre_sign_up,
    "PostConfirmation": post_confirmation,
    "PreAuthentication": pre_authentication,
    "PostAuthentication": post_authentication,
    "CustomMessage": custom_message,
}
