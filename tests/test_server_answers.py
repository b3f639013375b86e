"""Strict about what the server sends: malformed answers end in ProtocolError, never in a sign-in.

A hostile or broken server (or proxy) may send anything. The named cases come from a hostile-server run
(ExpiresIn as a string, negative or 1e30 signed in; a missing USER_ID_FOR_SRP was silently replaced);
the hypothesis tests feed arbitrary answers to the pure flow and to a whole ``Session`` and check that
only ``CognitoError`` subclasses escape and that whatever counts as signed in is a well-formed token set.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import aiocognito
from aiocognito._errors import CognitoError, ProtocolError
from aiocognito._signin.events import (
    Authenticated,
    ClientConfig,
    Request,
)
from aiocognito._signin.flow import (
    Phase,
    SignInFlow,
)
from aiocognito._signin.session import Session
from aiocognito._signin.srp import N, int_to_hex, salt_to_hex
from aiocognito._signin.steps import SignedIn
from aiocognito._signin.stores import DeviceRecord, MemoryDeviceStore
from aiocognito._tokens.token_set import MAX_TOKEN_LIFETIME, TokenSet

POOL, CLIENT = "us-east-1_Hostile01", "client1"
NOW = datetime(2026, 3, 5, 9, 4, 11, tzinfo=timezone.utc)


def segment(claims: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()


ACCESS = f"h.{segment({'username': 'alice', 'token_use': 'access', 'exp': 4600, 'iat': 1000})}.s"
IDENT = f"h.{segment({'cognito:username': 'alice', 'token_use': 'id'})}.s"
GOOD = {
    "AccessToken": ACCESS,
    "IdToken": IDENT,
    "RefreshToken": "r-1",
    "ExpiresIn": 3600,
    "TokenType": "Bearer",
}


class Scripted:
    """A client whose answers come from ``answer(operation, params)``."""

    def __init__(self, answer: Callable[[str, dict[str, Any]], dict[str, Any]]) -> None:
        self.answer = answer
        self.calls: list[str] = []

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        self.calls.append(operation)
        return self.answer(operation, params)


def session_answering(*answers: dict[str, Any]) -> tuple[Session, Scripted]:
    queue = list(answers)
    client = Scripted(lambda op, params: queue.pop(0))
    return Session(client, user_pool_id=POOL, client_id=CLIENT), client


# -- the named cases ---------------------------------------------------------------------------------------

MALFORMED_RESULTS = {
    "ExpiresIn a string": {**GOOD, "ExpiresIn": "3600"},
    "ExpiresIn negative": {**GOOD, "ExpiresIn": -5},
    "ExpiresIn zero": {**GOOD, "ExpiresIn": 0},
    "ExpiresIn 1e30": {**GOOD, "ExpiresIn": 1e30},
    "ExpiresIn 10^22": {**GOOD, "ExpiresIn": 10**22},
    "ExpiresIn a bool": {**GOOD, "ExpiresIn": True},
    "ExpiresIn a float": {**GOOD, "ExpiresIn": 3600.0},
    "no ExpiresIn, no exp": {**GOOD, "ExpiresIn": None, "AccessToken": f"h.{segment({'username': 'a'})}.s"},
    "access token not a JWT": {**GOOD, "AccessToken": "opaque"},
    "ID token missing": {k: v for k, v in GOOD.items() if k != "IdToken"},
    "RefreshToken a number": {**GOOD, "RefreshToken": 5},
    "TokenType a list": {**GOOD, "TokenType": ["Bearer"]},
    "NewDeviceMetadata without a group key": {**GOOD, "NewDeviceMetadata": {"DeviceKey": "k"}},
    "AuthenticationResult a string": "tokens",
}


@pytest.mark.parametrize("result", MALFORMED_RESULTS.values(), ids=MALFORMED_RESULTS.keys())
async def test_a_malformed_authentication_result_is_a_protocol_error(result: Any) -> None:
    if isinstance(result, dict):
        result = {k: v for k, v in result.items() if v is not None}
    session, _ = session_answering({"AuthenticationResult": result})
    with pytest.raises(ProtocolError) as caught:
        await session.sign_in("alice", "pw-1", flow="USER_PASSWORD_AUTH")
    assert session.tokens is None
    assert ACCESS not in str(caught.value) and "opaque" not in str(caught.value)


async def test_without_expires_in_the_lifetime_is_the_access_tokens_own() -> None:
    result = {k: v for k, v in GOOD.items() if k != "ExpiresIn"}
    session, _ = session_answering({"AuthenticationResult": result})
    step = await session.sign_in("alice", "pw-1", flow="USER_PASSWORD_AUTH")
    assert isinstance(step, SignedIn) and step.tokens.expires_in == 3600  # exp 4600 - iat 1000


async def test_a_malformed_refresh_answer_keeps_the_tokens_it_would_replace() -> None:
    session, client = session_answering(
        {"AuthenticationResult": GOOD}, {"AuthenticationResult": {**GOOD, "ExpiresIn": -1}}
    )
    step = await session.sign_in("alice", "pw-1", flow="USER_PASSWORD_AUTH")
    assert isinstance(step, SignedIn)
    with pytest.raises(ProtocolError, match="ExpiresIn"):
        await session.refresh()
    assert session.tokens is step.tokens and client.calls[-1] == "GetTokensFromRefreshToken"


def verifier_challenge(**parameters: Any) -> dict[str, Any]:
    base = {"SALT": salt_to_hex(b"\x01" * 16), "SRP_B": int_to_hex(7), "SECRET_BLOCK": "c2VjcmV0"}
    return {"ChallengeName": "PASSWORD_VERIFIER", "ChallengeParameters": {**base, **parameters}}


@pytest.mark.parametrize(
    "answer",
    [
        verifier_challenge(),  # no USER_ID_FOR_SRP
        verifier_challenge(USER_ID_FOR_SRP=""),
        verifier_challenge(USER_ID_FOR_SRP=42),
        verifier_challenge(USER_ID_FOR_SRP="alice", SRP_B=int_to_hex(N)),  # B % N == 0
        verifier_challenge(USER_ID_FOR_SRP="alice", SALT="not hex"),
        verifier_challenge(USER_ID_FOR_SRP="alice", SECRET_BLOCK="%%%"),
        {**verifier_challenge(USER_ID_FOR_SRP="alice"), "Session": 7},
        {"ChallengeName": "SMS_MFA", "ChallengeParameters": ["x"]},
        {"ChallengeName": "SELECT_CHALLENGE", "AvailableChallenges": "PASSWORD"},
        {"ChallengeName": 3},
        {},
    ],
)
async def test_malformed_challenges_are_protocol_errors(answer: dict[str, Any]) -> None:
    session, client = session_answering(answer)
    with pytest.raises(ProtocolError):
        await session.sign_in("alice", "pw-1")
    assert session.tokens is None and client.calls == ["InitiateAuth"]  # nothing answered blindly


# -- fuzzing -----------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
hex_text = st.text("0123456789abcdefABCDEF-", max_size=40)
b64_text = st.text("ABCDEFGHabcdefgh0123+/=", max_size=24)
jwt_like = st.builds(
    lambda claims: f"h.{segment(claims)}.s",
    st.dictionaries(
        st.sampled_from(["username", "cognito:username", "exp", "iat", "device_key", "sub"]),
        st.integers(-10, 10**6) | st.text(max_size=10),
        max_size=4,
    ),
)
parameter_values = st.one_of(
    st.text(max_size=24),
    hex_text,
    b64_text,
    st.sampled_from(["alice", '["SMS_MFA"]', "[]", "{}"]),
    json_values,
)
challenge_parameters = st.dictionaries(
    st.sampled_from(
        [
            "USERNAME",
            "USER_ID_FOR_SRP",
            "SALT",
            "SRP_B",
            "SECRET_BLOCK",
            "MFAS_CAN_SETUP",
            "MFAS_CAN_CHOOSE",
            "requiredAttributes",
            "userAttributes",
            "CODE_DELIVERY_DESTINATION",
        ]
    )
    | st.text(max_size=8),
    parameter_values,
    max_size=6,
)
authentication_results = st.fixed_dictionaries(
    {},
    optional={
        "AccessToken": jwt_like | json_values,
        "IdToken": jwt_like | json_values,
        "RefreshToken": st.text(max_size=8) | json_values,
        "ExpiresIn": st.integers(-10, 10**25) | st.floats() | json_values,
        "TokenType": st.just("Bearer") | json_values,
        "NewDeviceMetadata": st.fixed_dictionaries(
            {}, optional={"DeviceKey": st.text(max_size=8), "DeviceGroupKey": st.text(max_size=8)}
        )
        | json_values,
    },
)
challenge_names = st.sampled_from(
    [
        "PASSWORD_VERIFIER",
        "DEVICE_SRP_AUTH",
        "DEVICE_PASSWORD_VERIFIER",
        "SMS_MFA",
        "SOFTWARE_TOKEN_MFA",
        "NEW_PASSWORD_REQUIRED",
        "SELECT_MFA_TYPE",
        "MFA_SETUP",
        "SELECT_CHALLENGE",
        "CUSTOM_CHALLENGE",
        "SOMETHING_NEW",
    ]
)
answers = st.fixed_dictionaries(
    {},
    optional={
        "AuthenticationResult": authentication_results | json_values,
        "ChallengeName": challenge_names | json_values,
        "ChallengeParameters": challenge_parameters | json_values,
        "Session": st.text(max_size=24) | json_values,
        "AvailableChallenges": st.lists(st.sampled_from(["PASSWORD", "EMAIL_OTP"])) | json_values,
    },
)

# Near-valid answers (a well-formed answer with up to two fields replaced or removed) reach the deep paths
# (SRP steps, tokens) that wholly random answers rarely get past.
SRP_PARAMS = {
    "SALT": salt_to_hex(b"\x05" * 16),
    "SRP_B": int_to_hex(pow(2, 12345, N)),
    "SECRET_BLOCK": "c2VjcmV0LWJsb2Nr",
    "USERNAME": "alice",
}
TEMPLATES = [
    {"AuthenticationResult": GOOD},
    {"AuthenticationResult": {**GOOD, "NewDeviceMetadata": {"DeviceKey": "k-1", "DeviceGroupKey": "g-1"}}},
    {"ChallengeName": "PASSWORD_VERIFIER", "ChallengeParameters": {**SRP_PARAMS, "USER_ID_FOR_SRP": "alice"}},
    {"ChallengeName": "DEVICE_SRP_AUTH", "Session": "s-1", "ChallengeParameters": {"USERNAME": "alice"}},
    {"ChallengeName": "DEVICE_PASSWORD_VERIFIER", "Session": "s-2", "ChallengeParameters": SRP_PARAMS},
    {
        "ChallengeName": "SMS_MFA",
        "Session": "s-3",
        "ChallengeParameters": {"CODE_DELIVERY_DESTINATION": "+*1"},
    },
    {"ChallengeName": "SELECT_CHALLENGE", "Session": "s-4", "AvailableChallenges": ["PASSWORD", "EMAIL_OTP"]},
    {
        "ChallengeName": "MFA_SETUP",
        "Session": "s-5",
        "ChallengeParameters": {"MFAS_CAN_SETUP": '["SOFTWARE_TOKEN_MFA"]'},
    },
]
FIELDS = (
    [
        ("AuthenticationResult", key)
        for key in ("AccessToken", "IdToken", "RefreshToken", "ExpiresIn", "TokenType")
    ]
    + [("ChallengeParameters", key) for key in SRP_PARAMS]
    + [
        ("ChallengeParameters", "USER_ID_FOR_SRP"),
        (None, "ChallengeName"),
        (None, "Session"),
        (None, "ChallengeParameters"),
        (None, "AvailableChallenges"),
    ]
)
REMOVE = object()


def mutate(template: dict[str, Any], changes: list[tuple[tuple[str | None, str], Any]]) -> dict[str, Any]:
    answer = {k: dict(v) if isinstance(v, dict) else v for k, v in template.items()}
    for (outer, key), value in changes:
        target = answer if outer is None else answer.get(outer)
        if isinstance(target, dict):
            if value is REMOVE:
                target.pop(key, None)
            else:
                target[key] = value
    return answer


near_valid_answers = st.builds(
    mutate,
    st.sampled_from(TEMPLATES),
    st.lists(
        st.tuples(st.sampled_from(FIELDS), st.just(REMOVE) | parameter_values | st.integers(-10, 10**25)),
        max_size=2,
    ),
)
answers = near_valid_answers | answers

DEVICE = DeviceRecord("us-east-1_dev-1", "-group1", "device-password")
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_well_formed(result: Any) -> None:
    tokens = TokenSet.from_authentication_result(result, received_at=0.0, received_monotonic=0.0)
    assert 0 < tokens.expires_in <= MAX_TOKEN_LIFETIME
    assert isinstance(tokens.access_claims, dict) and isinstance(tokens.id_claims, dict)


@FUZZ
@given(
    flow=st.sampled_from(["USER_SRP_AUTH", "USER_PASSWORD_AUTH", "CUSTOM_AUTH", "USER_AUTH"]),
    device=st.booleans(),
    script=st.lists(answers, min_size=1, max_size=3),
)
def test_the_flow_turns_any_answer_into_an_event_or_a_cognito_error(
    flow: str, device: bool, script: list[dict[str, Any]]
) -> None:
    machine = SignInFlow(ClientConfig(POOL, CLIENT, client_secret="s"), device=DEVICE if device else None)
    machine.initiate("alice", flow=flow, password="pw-1", random_bytes=secrets.token_bytes)
    for answer in script:
        try:
            outcome = machine.receive(answer, password="pw-1", now=NOW, random_bytes=secrets.token_bytes)
        except CognitoError as exc:
            event(f"{type(exc).__name__}")
            assert machine.phase is Phase.ERROR
            return
        event(type(outcome).__name__)
        if isinstance(outcome, Authenticated):
            assert_well_formed(outcome.result)
            assert machine.phase is Phase.DONE
            return
        if not isinstance(outcome, Request):
            assert machine.phase is Phase.CHALLENGED
            return


@FUZZ
@given(script=st.lists(answers, min_size=1, max_size=4))
async def test_a_session_against_any_server_signs_in_well_formed_or_raises_a_cognito_error(
    script: list[dict[str, Any]],
) -> None:
    queue = list(script)

    def answer(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if not queue:
            raise aiocognito.errors.NotAuthorizedException("out of answers", operation=operation, status=400)
        return queue.pop(0)

    devices = MemoryDeviceStore()
    await devices.put(POOL, "alice", DEVICE)
    session = Session(Scripted(answer), user_pool_id=POOL, client_id=CLIENT, device_store=devices)
    try:
        step = await session.sign_in("alice", "pw-1")
    except CognitoError as exc:
        event(type(exc).__name__)
        assert session.tokens is None
        return
    event(type(step).__name__)
    if isinstance(step, SignedIn):
        assert session.tokens is step.tokens
        assert_well_formed(
            {
                "AccessToken": step.tokens.access_token,
                "IdToken": step.tokens.id_token,
                "ExpiresIn": step.tokens.expires_in,
            }
        )
    else:
        assert session.tokens is None
