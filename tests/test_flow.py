"""The sign-in state machine, driven with scripted server answers (no network).

SRP steps are checked against the known-answer vectors in tests/data (produced by AWS's JS client).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from aiocognito._errors import (
    CognitoError,
    ConnectionFailedError,
    ParamValidationError,
    ProtocolError,
    ResponseParseError,
    ServiceError,
    SignInError,
)
from aiocognito._signin.events import (
    AssociateSoftwareToken,
    Authenticated,
    ChallengeChoice,
    ClientConfig,
    CodeAnswer,
    CustomAnswer,
    MfaTypeAnswer,
    NewPasswordAnswer,
    PendingChallenge,
    RawAnswer,
    Request,
    SoftwareTokenAssociated,
    VerifySoftwareToken,
    WebAuthnAnswer,
)
from aiocognito._signin.flow import (
    ErrorAction,
    Phase,
    SignInFlow,
)
from aiocognito._signin.parameters import (
    parse_name_list,
    parse_required_attributes,
    parse_user_attributes,
    secret_hash,
)
from aiocognito._signin.refresh import (
    refresh_request,
    refresh_unavailable,
)
from aiocognito._signin.stores import DeviceRecord
from aiocognito._tokens.token_set import TokenSet

VECTORS = json.loads((Path(__file__).parent / "data" / "cognito-srp-known-answers.json").read_text())[
    "vectors"
]
PASSWORD_VECTORS = [v for v in VECTORS if v["type"] == "password_verifier"]
DEVICE_VECTOR = next(v for v in VECTORS if v["type"] == "device_password_verifier")

POOL = "us-east-1_TestPool1"
CLIENT = "client123"
SECRET = "s3cr3t-client-secret"
NOW = datetime(2026, 3, 5, 9, 4, 11, tzinfo=timezone.utc)


def _segment(claims: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()


# JWT-shaped (the flow checks that tokens are JWTs; signatures are the verifier's business)
TOKENS = {
    "AccessToken": f"h.{_segment({'username': 'real-alice', 'token_use': 'access'})}.s",
    "IdToken": f"h.{_segment({'cognito:username': 'real-alice', 'token_use': 'id'})}.s",
    "RefreshToken": "r",
    "ExpiresIn": 3600,
}


class Randoms:
    """A random source that hands out given byte strings in order (and checks the size asked for)."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)

    def __call__(self, n: int) -> bytes:
        chunk = self.chunks.pop(0)
        assert len(chunk) == n, f"asked for {n} bytes, scripted {len(chunk)}"
        return chunk


def urandom(n: int) -> bytes:
    """Deterministic stand-in for os.urandom."""
    return hashlib.shake_256(b"aiocognito-test").digest(n)


def expected_hash(secret: str, username: str, client_id: str) -> str:
    mac = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def vector_now(vector: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(vector["inputs"]["epoch_ms"] / 1000, timezone.utc)


def challenge(
    name: str, params: dict[str, Any] | None = None, session: str | None = "sess-1", **extra: Any
) -> dict[str, Any]:
    response: dict[str, Any] = {"ChallengeName": name, "ChallengeParameters": params or {}}
    if session is not None:
        response["Session"] = session
    response.update(extra)
    return response


def start(
    config: ClientConfig,
    username: str = "alice",
    *,
    flow: str = "USER_PASSWORD_AUTH",
    password: str | None = "pw-Secret-1",
    device: DeviceRecord | None = None,
    **kw: Any,
) -> tuple[SignInFlow, Request]:
    machine = SignInFlow(config, device=device)
    return machine, machine.initiate(username, flow=flow, password=password, random_bytes=urandom, **kw)


def pending_after(config: ClientConfig, response: dict[str, Any], **kw: Any) -> PendingChallenge:
    machine, _ = start(config, **kw)
    event = machine.receive(response, now=NOW, random_bytes=urandom)
    assert isinstance(event, PendingChallenge)
    assert machine.phase is Phase.CHALLENGED
    return event


def answer(config: ClientConfig, pending: PendingChallenge, ans: Any) -> tuple[SignInFlow, Request]:
    machine = SignInFlow.resume(config, pending)
    return machine, machine.answer(ans, random_bytes=urandom)


def no_secret_in(obj: Any, *secrets: str) -> None:
    text = repr(obj) + repr(vars(obj)) if hasattr(obj, "__dict__") else repr(obj)
    for s in secrets:
        assert s not in text


# ----------------------------------------------------------------------------------------------------
# SRP against the known-answer vectors
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", PASSWORD_VECTORS, ids=lambda v: v["id"])
def test_password_verifier_answer_equals_vector(vector: dict[str, Any]) -> None:
    inp, out = vector["inputs"], vector["outputs"]
    config = ClientConfig(inp["pool_id"], inp["client_id"], srp_ephemeral_bytes=128)
    machine = SignInFlow(config)
    first = machine.initiate(
        inp["username"],
        flow="USER_SRP_AUTH",
        password=inp["password"],
        random_bytes=Randoms(bytes.fromhex(inp["small_a_random_hex"])),
    )
    assert first.operation == "InitiateAuth"
    assert first.params == {
        "ClientId": inp["client_id"],
        "AuthFlow": "USER_SRP_AUTH",
        "AuthParameters": out["auth_parameters"],
    }

    # Real Cognito sends PASSWORD_VERIFIER without a Session: the flow must not need one.
    answer_request = machine.receive(
        challenge("PASSWORD_VERIFIER", inp["challenge_parameters"], session=None),
        password=inp["password"],
        now=vector_now(vector),
        random_bytes=Randoms(),
    )
    assert isinstance(answer_request, Request)
    assert answer_request.operation == "RespondToAuthChallenge"
    assert answer_request.params["ChallengeName"] == "PASSWORD_VERIFIER"
    assert answer_request.params["ChallengeResponses"] == out["challenge_responses"]
    assert "Session" not in answer_request.params
    no_secret_in(machine, inp["password"])


def test_password_verifier_sends_session_when_there_is_one_and_a_bad_b_is_a_protocol_error() -> None:
    vector = PASSWORD_VECTORS[0]
    inp = vector["inputs"]
    config = ClientConfig(inp["pool_id"], inp["client_id"], srp_ephemeral_bytes=128)
    machine = SignInFlow(config)
    machine.initiate(
        inp["username"],
        flow="USER_SRP_AUTH",
        password=inp["password"],
        random_bytes=Randoms(bytes.fromhex(inp["small_a_random_hex"])),
    )
    request = machine.receive(
        challenge("PASSWORD_VERIFIER", inp["challenge_parameters"], session="S-1"),
        password=inp["password"],
        now=vector_now(vector),
        random_bytes=Randoms(),
    )
    assert isinstance(request, Request) and request.params["Session"] == "S-1"

    # The vectors' error case: SRP_B == N (0 mod N). No answer may be built.
    err = next(v for v in VECTORS if v["type"] == "error")["inputs"]
    machine = SignInFlow(ClientConfig(err["pool_id"], err["client_id"], srp_ephemeral_bytes=128))
    machine.initiate(
        err["username"],
        flow="USER_SRP_AUTH",
        password=err["password"],
        random_bytes=Randoms(bytes.fromhex(err["small_a_random_hex"])),
    )
    with pytest.raises(ProtocolError):
        machine.receive(
            challenge("PASSWORD_VERIFIER", err["challenge_parameters"]),
            password=err["password"],
            now=NOW,
            random_bytes=urandom,
        )
    assert machine.phase is Phase.ERROR


def test_alias_sign_in_with_secret_hashes_each_request_over_its_own_username() -> None:
    vector = PASSWORD_VECTORS[0]  # typed alice@example.com, USER_ID_FOR_SRP is a UUID
    assert "username_is_alias" in vector["tags"]
    inp, out = vector["inputs"], vector["outputs"]
    config = ClientConfig(inp["pool_id"], inp["client_id"], client_secret=SECRET, srp_ephemeral_bytes=128)
    machine = SignInFlow(config)
    first = machine.initiate(
        inp["username"],
        flow="USER_SRP_AUTH",
        password=inp["password"],
        random_bytes=Randoms(bytes.fromhex(inp["small_a_random_hex"])),
    )
    auth = first.params["AuthParameters"]
    assert auth["USERNAME"] == "alice@example.com"
    assert auth["SECRET_HASH"] == expected_hash(SECRET, "alice@example.com", inp["client_id"])

    second = machine.receive(
        challenge("PASSWORD_VERIFIER", inp["challenge_parameters"], session=None),
        password=inp["password"],
        now=vector_now(vector),
        random_bytes=Randoms(),
    )
    assert isinstance(second, Request)
    responses = second.params["ChallengeResponses"]
    user_id = inp["challenge_parameters"]["USER_ID_FOR_SRP"]
    assert responses["USERNAME"] == user_id != inp["username"]
    assert responses["SECRET_HASH"] == expected_hash(SECRET, user_id, inp["client_id"])
    assert (
        responses["PASSWORD_CLAIM_SIGNATURE"] == out["password_claim_signature"]
    )  # the secret does not touch SRP

    # The next challenge names another internal USERNAME: the answer follows it, hash included.
    mfa = machine.receive(
        challenge("SMS_MFA", {"USERNAME": "internal-42", "CODE_DELIVERY_DESTINATION": "+***9"}),
        now=NOW,
        random_bytes=urandom,
    )
    assert isinstance(mfa, PendingChallenge) and mfa.challenge_username == "internal-42"
    _, third = answer(config, mfa, CodeAnswer("123456"))
    assert third.params["ChallengeResponses"] == {
        "SMS_MFA_CODE": "123456",
        "USERNAME": "internal-42",
        "SECRET_HASH": expected_hash(SECRET, "internal-42", inp["client_id"]),
    }
    assert third.params["Session"] == "sess-1"


def test_device_srp_answers_equal_vector() -> None:
    inp, out = DEVICE_VECTOR["inputs"], DEVICE_VECTOR["outputs"]
    config = ClientConfig(inp["pool_id"], inp["client_id"], srp_ephemeral_bytes=128)
    device = DeviceRecord(inp["device_key"], inp["device_group_key"], inp["device_password"])
    machine = SignInFlow(config, device=device)
    first = machine.initiate(
        inp["username"], flow="USER_PASSWORD_AUTH", password="user-pw", random_bytes=Randoms()
    )
    assert first.params["AuthParameters"] == {
        "USERNAME": "dave",
        "PASSWORD": "user-pw",
        "DEVICE_KEY": inp["device_key"],
    }

    srp_auth = machine.receive(
        challenge("DEVICE_SRP_AUTH", {"USERNAME": "dave"}, session="S-dev-1"),
        now=NOW,
        random_bytes=Randoms(bytes.fromhex(inp["small_a_random_hex"])),
    )
    assert isinstance(srp_auth, Request)
    assert srp_auth.params["ChallengeName"] == "DEVICE_SRP_AUTH"
    assert srp_auth.params["ChallengeResponses"] == out["device_srp_auth_challenge_responses"]
    assert srp_auth.params["Session"] == "S-dev-1"

    verifier = machine.receive(
        challenge("DEVICE_PASSWORD_VERIFIER", inp["challenge_parameters"], session="S-dev-2"),
        now=vector_now(DEVICE_VECTOR),
        random_bytes=Randoms(),
    )
    assert isinstance(verifier, Request)
    assert verifier.params["ChallengeResponses"] == out["challenge_responses"]
    assert verifier.params["Session"] == "S-dev-2"

    done = machine.receive({"AuthenticationResult": TOKENS}, now=NOW, random_bytes=urandom)
    assert (
        isinstance(done, Authenticated) and done.device_key == inp["device_key"] and done.new_device is None
    )
    assert machine.phase is Phase.DONE
    no_secret_in(machine, inp["device_password"], "user-pw")


def test_remembered_device_key_goes_into_password_verifier_and_later_answers() -> None:
    vector = PASSWORD_VECTORS[1]
    inp = vector["inputs"]
    config = ClientConfig(inp["pool_id"], inp["client_id"], client_secret=SECRET, srp_ephemeral_bytes=128)
    device = DeviceRecord("us-east-1_dev-1", "-grp", "devpw")
    machine = SignInFlow(config, device=device)
    first = machine.initiate(
        inp["username"],
        password=inp["password"],
        random_bytes=Randoms(bytes.fromhex(inp["small_a_random_hex"])),
    )
    assert first.params["AuthParameters"]["DEVICE_KEY"] == "us-east-1_dev-1"
    pv = machine.receive(
        challenge("PASSWORD_VERIFIER", inp["challenge_parameters"], session=None),
        password=inp["password"],
        now=vector_now(vector),
        random_bytes=Randoms(),
    )
    assert isinstance(pv, Request)
    assert pv.params["ChallengeResponses"]["DEVICE_KEY"] == "us-east-1_dev-1"
    assert (
        pv.params["ChallengeResponses"]["PASSWORD_CLAIM_SIGNATURE"]
        == vector["outputs"]["password_claim_signature"]
    )


def test_device_srp_without_a_device_is_refused() -> None:
    machine, _ = start(ClientConfig(POOL, CLIENT))
    with pytest.raises(SignInError):
        machine.receive(challenge("DEVICE_SRP_AUTH", {"USERNAME": "alice"}), now=NOW, random_bytes=urandom)


def test_custom_auth_with_srp_starts_with_srp_a_and_answers_the_verifier_itself() -> None:
    vector = PASSWORD_VECTORS[2]
    inp = vector["inputs"]
    config = ClientConfig(inp["pool_id"], inp["client_id"], srp_ephemeral_bytes=128)
    machine = SignInFlow(config)
    first = machine.initiate(
        inp["username"],
        flow="CUSTOM_AUTH",
        custom_srp=True,
        password=inp["password"],
        random_bytes=Randoms(bytes.fromhex(inp["small_a_random_hex"])),
    )
    assert first.params["AuthParameters"] == {
        "USERNAME": "carol",
        "CHALLENGE_NAME": "SRP_A",
        "SRP_A": vector["outputs"]["srp_a_hex"],
    }
    pv = machine.receive(
        challenge("PASSWORD_VERIFIER", inp["challenge_parameters"], session="cs-1"),
        password=inp["password"],
        now=vector_now(vector),
        random_bytes=Randoms(),
    )
    assert (
        isinstance(pv, Request)
        and pv.params["ChallengeResponses"] == vector["outputs"]["challenge_responses"]
    )
    custom = machine.receive(
        challenge("CUSTOM_CHALLENGE", {"USERNAME": "carol", "question": "2+2"}, session="cs-2"),
        now=NOW,
        random_bytes=urandom,
    )
    assert isinstance(custom, PendingChallenge) and custom.parameters["question"] == "2+2"
    _, reply = answer(config, custom, CustomAnswer("4"))
    assert reply.params["ChallengeResponses"] == {"ANSWER": "4", "USERNAME": "carol"}
    assert reply.params["Session"] == "cs-2"


# ----------------------------------------------------------------------------------------------------
# The other challenges
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("SMS_MFA", "SMS_MFA_CODE"),
        ("EMAIL_OTP", "EMAIL_OTP_CODE"),
        ("EMAIL_MFA", "EMAIL_MFA_CODE"),
        ("SMS_OTP", "SMS_OTP_CODE"),
        ("SOFTWARE_TOKEN_MFA", "SOFTWARE_TOKEN_MFA_CODE"),
    ],
)
def test_code_challenges_use_their_own_response_key(name: str, key: str) -> None:
    config = ClientConfig(POOL, CLIENT)
    pending = pending_after(config, challenge(name, {"USERNAME": "u-1"}))
    machine, request = answer(config, pending, CodeAnswer("654321"))
    assert request.params == {
        "ClientId": CLIENT,
        "ChallengeName": name,
        "ChallengeResponses": {key: "654321", "USERNAME": "u-1"},
        "Session": "sess-1",
    }
    done = machine.receive({"AuthenticationResult": TOKENS}, now=NOW, random_bytes=urandom)
    assert isinstance(done, Authenticated)


def test_new_password_sends_only_missing_required_and_given_attributes() -> None:
    config = ClientConfig(POOL, CLIENT)
    params = {
        "USERNAME": "alice",
        "requiredAttributes": json.dumps(["userAttributes.email", "userAttributes.name"]),
        "userAttributes": json.dumps(
            {"email_verified": "true", "name": "Alice", "phone_number": "+15550100"}
        ),
    }
    pending = pending_after(config, challenge("NEW_PASSWORD_REQUIRED", params))
    with pytest.raises(ParamValidationError, match="email"):
        answer(config, pending, NewPasswordAnswer("New-Pass-1"))
    _, request = answer(
        config,
        pending,
        NewPasswordAnswer("New-Pass-1", {"email": "a@example.com", "userAttributes.locale": "en"}),
    )
    assert request.params["ChallengeResponses"] == {
        "NEW_PASSWORD": "New-Pass-1",
        "userAttributes.email": "a@example.com",
        "userAttributes.locale": "en",
        "USERNAME": "alice",
    }


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"USERNAME": "alice"},
        {"requiredAttributes": "[email]", "userAttributes": "{not json"},
    ],
)
def test_new_password_tolerates_emulator_forms(params: dict[str, Any]) -> None:
    config = ClientConfig(POOL, CLIENT)
    pending = pending_after(config, challenge("NEW_PASSWORD_REQUIRED", params))
    _, request = answer(config, pending, NewPasswordAnswer("New-Pass-1"))
    assert request.params["ChallengeResponses"] == {"NEW_PASSWORD": "New-Pass-1", "USERNAME": "alice"}


def test_challenge_parameters_that_are_not_strings_break_the_protocol() -> None:
    """ChallengeParameters is a map of strings in Cognito's model; JSON arrays or objects in it are not."""
    config = ClientConfig(POOL, CLIENT)
    params = {"requiredAttributes": ["userAttributes.x"], "userAttributes": {"x": "1"}}
    with pytest.raises(ProtocolError, match="ChallengeParameters"):
        pending_after(config, challenge("NEW_PASSWORD_REQUIRED", params))


def test_attribute_parsers() -> None:
    assert parse_required_attributes('["userAttributes.email"]') == ["email"]
    assert parse_required_attributes("userAttributes.email") == []
    assert parse_user_attributes('{"a": "1", "b": true}') == {"a": "1", "b": "true"}
    assert parse_user_attributes("[1]") == {}
    assert parse_name_list('["SMS_MFA","SOFTWARE_TOKEN_MFA"]') == ["SMS_MFA", "SOFTWARE_TOKEN_MFA"]
    assert parse_name_list("['SOFTWARE_TOKEN_MFA', 'SMS_MFA']") == ["SOFTWARE_TOKEN_MFA", "SMS_MFA"]
    assert parse_name_list(["EMAIL_OTP", 3]) == ["EMAIL_OTP"]
    assert parse_name_list(None) == []


def test_select_mfa_type_checks_the_choice_against_the_options() -> None:
    config = ClientConfig(POOL, CLIENT)
    pending = pending_after(
        config,
        challenge(
            "SELECT_MFA_TYPE", {"USERNAME": "u", "MFAS_CAN_CHOOSE": '["SMS_MFA","SOFTWARE_TOKEN_MFA"]'}
        ),
    )
    with pytest.raises(ParamValidationError):
        answer(config, pending, MfaTypeAnswer("EMAIL_OTP"))
    machine, request = answer(config, pending, MfaTypeAnswer("SOFTWARE_TOKEN_MFA"))
    assert request.params["ChallengeResponses"] == {"ANSWER": "SOFTWARE_TOKEN_MFA", "USERNAME": "u"}
    nxt = machine.receive(
        challenge("SOFTWARE_TOKEN_MFA", {"USERNAME": "u"}, session="sess-2"), now=NOW, random_bytes=urandom
    )
    assert isinstance(nxt, PendingChallenge) and nxt.session == "sess-2"


def test_mfa_setup_associates_verifies_then_answers_with_the_verify_session() -> None:
    config = ClientConfig(POOL, CLIENT, client_secret=SECRET)
    pending = pending_after(
        config,
        challenge(
            "MFA_SETUP", {"USERNAME": "u-7", "MFAS_CAN_SETUP": '["SOFTWARE_TOKEN_MFA"]'}, session="setup-1"
        ),
    )
    with pytest.raises(ParamValidationError, match="associate"):
        answer(config, pending, VerifySoftwareToken("123456"))

    machine, request = answer(config, pending, AssociateSoftwareToken())
    assert request == Request("AssociateSoftwareToken", {"Session": "setup-1"})
    associated = machine.receive(
        {"SecretCode": "JBSWY3DPEHPK3PXPJBSWY3DP", "Session": "setup-2"}, now=NOW, random_bytes=urandom
    )
    assert isinstance(associated, SoftwareTokenAssociated)
    assert associated.secret_code == "JBSWY3DPEHPK3PXPJBSWY3DP" and "JBSWY" not in repr(associated)
    saved = associated.challenge
    assert saved.session == "setup-2" and saved.totp_associated and "JBSWY" not in json.dumps(saved.to_dict())

    machine, request = answer(
        config, PendingChallenge.from_dict(saved.to_dict()), VerifySoftwareToken("123456", "phone")
    )
    assert request == Request(
        "VerifySoftwareToken", {"UserCode": "123456", "FriendlyDeviceName": "phone", "Session": "setup-2"}
    )
    with pytest.raises(SignInError):
        machine.receive({"Status": "ERROR"}, now=NOW, random_bytes=urandom)
    assert machine.phase is Phase.CHALLENGED  # try another code

    machine, _ = answer(config, saved, VerifySoftwareToken("654321"))
    final = machine.receive({"Status": "SUCCESS", "Session": "setup-3"}, now=NOW, random_bytes=urandom)
    assert isinstance(final, Request)
    assert final.params == {
        "ClientId": CLIENT,
        "ChallengeName": "MFA_SETUP",
        "ChallengeResponses": {"USERNAME": "u-7", "SECRET_HASH": expected_hash(SECRET, "u-7", CLIENT)},
        "Session": "setup-3",
    }
    assert isinstance(
        machine.receive({"AuthenticationResult": TOKENS}, now=NOW, random_bytes=urandom), Authenticated
    )


def test_user_auth_select_challenge_choices() -> None:
    config = ClientConfig(POOL, CLIENT)
    machine, first = start(config, flow="USER_AUTH", password=None)
    assert first.params["AuthParameters"] == {"USERNAME": "alice"}
    pending = machine.receive(
        challenge(
            "SELECT_CHALLENGE",
            {"USERNAME": "alice"},
            AvailableChallenges=["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "WEB_AUTHN"],
        ),
        now=NOW,
        random_bytes=urandom,
    )
    assert isinstance(pending, PendingChallenge) and pending.available == (
        "PASSWORD",
        "PASSWORD_SRP",
        "EMAIL_OTP",
        "WEB_AUTHN",
    )

    _, req = answer(config, pending, ChallengeChoice("PASSWORD", "pw-1"))
    assert req.params["ChallengeResponses"] == {"ANSWER": "PASSWORD", "PASSWORD": "pw-1", "USERNAME": "alice"}
    _, req = answer(config, pending, ChallengeChoice("EMAIL_OTP"))
    assert req.params["ChallengeResponses"] == {"ANSWER": "EMAIL_OTP", "USERNAME": "alice"}
    _, req = answer(config, pending, ChallengeChoice("WEB_AUTHN", credential='{"id":"x"}'))
    assert req.params["ChallengeResponses"] == {
        "ANSWER": "WEB_AUTHN",
        "CREDENTIAL": '{"id":"x"}',
        "USERNAME": "alice",
    }
    for bad in (ChallengeChoice("SMS_OTP"), ChallengeChoice("PASSWORD")):
        with pytest.raises(ParamValidationError):
            answer(config, pending, bad)


def test_user_auth_password_srp_choice_runs_srp_within_the_answer() -> None:
    vector = PASSWORD_VECTORS[1]
    inp, out = vector["inputs"], vector["outputs"]
    config = ClientConfig(inp["pool_id"], inp["client_id"], srp_ephemeral_bytes=128)
    machine, _ = start(config, inp["username"], flow="USER_AUTH", password=None)
    pending = machine.receive(
        challenge("SELECT_CHALLENGE", {"USERNAME": inp["username"]}, AvailableChallenges=["PASSWORD_SRP"]),
        now=NOW,
        random_bytes=urandom,
    )
    assert isinstance(pending, PendingChallenge)
    machine = SignInFlow.resume(config, pending)
    req = machine.answer(
        ChallengeChoice("PASSWORD_SRP", inp["password"]),
        random_bytes=Randoms(bytes.fromhex(inp["small_a_random_hex"])),
    )
    assert req.params["ChallengeResponses"] == {
        "ANSWER": "PASSWORD_SRP",
        "SRP_A": out["srp_a_hex"],
        "USERNAME": inp["username"],
    }
    pv = machine.receive(
        challenge("PASSWORD_VERIFIER", inp["challenge_parameters"], session="pv-s"),
        password=inp["password"],
        now=vector_now(vector),
        random_bytes=Randoms(),
    )
    assert isinstance(pv, Request) and pv.params["ChallengeResponses"] == out["challenge_responses"]


@pytest.mark.parametrize(
    ("preferred", "expected"),
    [
        ("PASSWORD", {"PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": "pw-Secret-1"}),
        ("EMAIL_OTP", {"PREFERRED_CHALLENGE": "EMAIL_OTP"}),
        ("PASSWORD_SRP", {"PREFERRED_CHALLENGE": "PASSWORD_SRP", "SRP_A": None}),
    ],
)
def test_user_auth_with_a_preferred_challenge(preferred: str, expected: dict[str, Any]) -> None:
    _, req = start(ClientConfig(POOL, CLIENT), flow="USER_AUTH", preferred_challenge=preferred)
    auth = req.params["AuthParameters"]
    assert set(auth) == {"USERNAME", *expected}
    for key, value in expected.items():
        if value is not None:
            assert auth[key] == value
    if "SRP_A" in expected:
        int(auth["SRP_A"], 16)


def test_web_authn_challenge() -> None:
    config = ClientConfig(POOL, CLIENT)
    pending = pending_after(
        config,
        challenge("WEB_AUTHN", {"USERNAME": "alice", "CREDENTIAL_REQUEST_OPTIONS": '{"challenge":"abc"}'}),
    )
    _, req = answer(config, pending, WebAuthnAnswer('{"id":"cred"}'))
    assert req.params["ChallengeResponses"] == {"CREDENTIAL": '{"id":"cred"}', "USERNAME": "alice"}


def test_unknown_challenge_is_returned_and_answered_raw() -> None:
    config = ClientConfig(POOL, CLIENT, client_secret=SECRET)
    pending = pending_after(config, challenge("FUTURE_PUZZLE", {"USERNAME": "u-9", "HINT": "x"}))
    assert pending.name == "FUTURE_PUZZLE" and pending.parameters == {"USERNAME": "u-9", "HINT": "x"}
    with pytest.raises(ParamValidationError):
        answer(config, pending, CodeAnswer("1"))
    _, req = answer(config, pending, RawAnswer({"SOLUTION": "42"}))
    assert req.params["ChallengeResponses"] == {
        "SOLUTION": "42",
        "USERNAME": "u-9",
        "SECRET_HASH": expected_hash(SECRET, "u-9", CLIENT),
    }


# ----------------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------------


def test_wrong_code_leaves_the_challenge_answerable() -> None:
    config = ClientConfig(POOL, CLIENT)
    pending = pending_after(config, challenge("SOFTWARE_TOKEN_MFA", {"USERNAME": "u"}, session="mfa-1"))
    machine, _ = answer(config, pending, CodeAnswer("000000"))
    assert (
        machine.receive_error("CodeMismatchException", "Invalid code or auth state for the user.")
        is ErrorAction.RAISE
    )
    assert machine.phase is Phase.CHALLENGED
    retry = machine.answer(CodeAnswer("123456"), random_bytes=urandom)
    assert (
        retry.params["Session"] == "mfa-1"
        and retry.params["ChallengeResponses"]["SOFTWARE_TOKEN_MFA_CODE"] == "123456"
    )


@pytest.mark.parametrize(
    ("code", "message", "action"),
    [
        (
            "NotAuthorizedException",
            "Invalid session for the user, session is expired.",
            ErrorAction.SESSION_EXPIRED,
        ),
        (
            "ExpiredCodeException",
            "Your software token has already been used once.",
            ErrorAction.RAISE,
        ),
        ("NotAuthorizedException", "Incorrect username or password.", ErrorAction.RAISE),
        ("ResourceNotFoundException", "Device does not exist.", ErrorAction.DEVICE_GONE),
    ],
)
def test_errors_on_a_challenge_answer(code: str, message: str, action: ErrorAction) -> None:
    config = ClientConfig(POOL, CLIENT)
    device = DeviceRecord("us-east-1_d", "g", "p")
    pending = pending_after(config, challenge("SMS_MFA", {"USERNAME": "u"}), device=device)
    machine = SignInFlow.resume(config, pending, device=device)
    machine.answer(CodeAnswer("1"), random_bytes=urandom)
    assert machine.receive_error(code, message) is action


def test_password_verifier_without_session_rejected_is_not_a_session_error() -> None:
    machine, _ = start(ClientConfig(POOL, CLIENT), flow="USER_SRP_AUTH")
    srp_params = {
        "SALT": "ab",
        "SRP_B": "1234abcd",
        "SECRET_BLOCK": base64.b64encode(b"blk").decode(),
        "USER_ID_FOR_SRP": "alice",
        "USERNAME": "alice",
    }
    machine.receive(
        challenge("PASSWORD_VERIFIER", srp_params, session=None),
        password="pw-Secret-1",
        now=NOW,
        random_bytes=urandom,
    )
    assert (
        machine.receive_error("NotAuthorizedException", "Incorrect username or password.")
        is ErrorAction.RAISE
    )
    assert machine.phase is Phase.ERROR


def test_unknown_device_restarts_once_without_it() -> None:
    config = ClientConfig(POOL, CLIENT)
    device = DeviceRecord("us-east-1_gone", "g", "p")
    machine, first = start(config, flow="USER_SRP_AUTH", device=device)
    assert first.params["AuthParameters"]["DEVICE_KEY"] == "us-east-1_gone"
    assert (
        machine.receive_error("ResourceNotFoundException", "Device does not exist.")
        is ErrorAction.RETRY_WITHOUT_DEVICE
    )
    again = machine.restart_without_device(password="pw-Secret-1", random_bytes=urandom)
    assert again.operation == "InitiateAuth" and "DEVICE_KEY" not in again.params["AuthParameters"]
    assert machine.device_key is None
    assert machine.receive_error("ResourceNotFoundException", "Device does not exist.") is ErrorAction.RAISE
    with pytest.raises(SignInError):
        machine.restart_without_device(password="pw-Secret-1", random_bytes=urandom)


def test_answer_without_tokens_or_challenge_is_a_protocol_error() -> None:
    machine, _ = start(ClientConfig(POOL, CLIENT))
    with pytest.raises(ProtocolError):
        machine.receive({}, now=NOW, random_bytes=urandom)
    assert machine.phase is Phase.ERROR


def test_illegal_moves_are_refused() -> None:
    machine = SignInFlow(ClientConfig(POOL, CLIENT))
    with pytest.raises(SignInError):
        machine.receive({"AuthenticationResult": TOKENS}, now=NOW, random_bytes=urandom)
    with pytest.raises(SignInError):
        machine.answer(CodeAnswer("1"), random_bytes=urandom)
    machine.initiate("alice", flow="USER_PASSWORD_AUTH", password="pw", random_bytes=urandom)
    with pytest.raises(SignInError):
        machine.initiate("alice", flow="USER_PASSWORD_AUTH", password="pw", random_bytes=urandom)


@pytest.mark.parametrize(
    ("kwargs", "admin"),
    [
        ({"flow": "ADMIN_USER_PASSWORD_AUTH"}, False),
        ({"flow": "NO_SUCH_FLOW"}, False),
        ({"flow": "USER_SRP_AUTH", "password": None}, False),
        ({"flow": "USER_PASSWORD_AUTH", "custom_srp": True}, False),
        ({"flow": "USER_SRP_AUTH", "preferred_challenge": "PASSWORD"}, True),
    ],
)
def test_bad_sign_in_arguments_send_nothing(kwargs: dict[str, Any], admin: bool) -> None:
    kwargs.setdefault("password", "pw")
    machine = SignInFlow(ClientConfig(POOL, CLIENT, admin=admin))
    with pytest.raises(ParamValidationError):
        machine.initiate("alice", random_bytes=urandom, **kwargs)
    assert machine.phase is Phase.IDLE


def test_admin_flows_use_the_admin_operations() -> None:
    config = ClientConfig(POOL, CLIENT, admin=True)
    machine, first = start(config, flow="ADMIN_USER_PASSWORD_AUTH", client_metadata={"k": "v"})
    assert first.operation == "AdminInitiateAuth"
    assert first.params == {
        "ClientId": CLIENT,
        "UserPoolId": POOL,
        "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "alice", "PASSWORD": "pw-Secret-1"},
        "ClientMetadata": {"k": "v"},
    }
    pending = machine.receive(challenge("SMS_MFA", {"USERNAME": "alice"}), now=NOW, random_bytes=urandom)
    assert isinstance(pending, PendingChallenge)
    _, req = answer(config, pending, CodeAnswer("1"))
    assert req.operation == "AdminRespondToAuthChallenge"
    assert req.params["UserPoolId"] == POOL and req.params["ClientMetadata"] == {"k": "v"}


# ----------------------------------------------------------------------------------------------------
# Saving a challenge
# ----------------------------------------------------------------------------------------------------


def test_to_dict_round_trip_holds_no_password() -> None:
    password = "Very-Secret-Pw-123"
    config = ClientConfig(POOL, CLIENT, client_secret=SECRET)
    device = DeviceRecord("us-east-1_dk", "grp", "device-pw-xyz")
    machine, _ = start(config, "alice@example.com", password=password, device=device)
    pending = machine.receive(
        challenge("SMS_MFA", {"USERNAME": "u-1", "CODE_DELIVERY_DESTINATION": "+***1"}, session="S" * 40),
        now=NOW,
        random_bytes=urandom,
    )
    assert isinstance(pending, PendingChallenge)
    data = pending.to_dict()
    text = json.dumps(data)
    for secret in (password, SECRET, "device-pw-xyz"):
        assert secret not in text
        assert secret not in repr(pending)
    assert "S" * 40 not in repr(pending)
    restored = PendingChallenge.from_dict(json.loads(text))
    assert restored == pending
    assert (restored.username, restored.challenge_username, restored.device_key) == (
        "alice@example.com",
        "u-1",
        "us-east-1_dk",
    )
    _, req = answer(config, restored, CodeAnswer("42"))
    assert req.params["Session"] == "S" * 40
    assert req.params["ChallengeResponses"]["DEVICE_KEY"] == "us-east-1_dk"
    assert req.params["ChallengeResponses"]["SECRET_HASH"] == expected_hash(SECRET, "u-1", CLIENT)
    no_secret_in(machine, password)


def test_from_dict_rejects_garbage_and_other_clients() -> None:
    with pytest.raises(ParamValidationError):
        PendingChallenge.from_dict({"version": 1, "challenge": ""})
    with pytest.raises(ParamValidationError):
        PendingChallenge.from_dict({"version": 99})
    pending = pending_after(ClientConfig(POOL, CLIENT), challenge("SMS_MFA"))
    with pytest.raises(ParamValidationError):
        SignInFlow.resume(ClientConfig(POOL, "other-client"), pending)
    with pytest.raises(ParamValidationError, match="admin"):
        SignInFlow.resume(ClientConfig(POOL, CLIENT, admin=True), pending)


def test_reprs_hide_secrets() -> None:
    request = Request("InitiateAuth", {"AuthParameters": {"PASSWORD": "hunter2"}})
    assert "hunter2" not in repr(request)
    assert "hunter2" not in repr(NewPasswordAnswer("hunter2")) + repr(ChallengeChoice("PASSWORD", "hunter2"))
    assert "s3" not in repr(ClientConfig(POOL, CLIENT, client_secret="s3cret"))


# ----------------------------------------------------------------------------------------------------
# Refresh requests and token sets
# ----------------------------------------------------------------------------------------------------


def test_refresh_request_hashes_over_the_real_username() -> None:
    config = ClientConfig(POOL, CLIENT, client_secret=SECRET)
    req = refresh_request(config, refresh_token="rt", username="real-user", device_key="dk", rotation=False)
    assert req == Request(
        "InitiateAuth",
        {
            "ClientId": CLIENT,
            "AuthFlow": "REFRESH_TOKEN_AUTH",
            "AuthParameters": {
                "REFRESH_TOKEN": "rt",
                "DEVICE_KEY": "dk",
                "SECRET_HASH": expected_hash(SECRET, "real-user", CLIENT),
            },
        },
    )
    rotated = refresh_request(config, refresh_token="rt", username=None, device_key="dk", rotation=True)
    assert rotated == Request(
        "GetTokensFromRefreshToken",
        {"RefreshToken": "rt", "ClientId": CLIENT, "ClientSecret": SECRET, "DeviceKey": "dk"},
    )
    with pytest.raises(ParamValidationError):
        refresh_request(config, refresh_token="rt", username=None, device_key=None, rotation=False)
    admin = refresh_request(
        ClientConfig(POOL, CLIENT, admin=True),
        refresh_token="rt",
        username=None,
        device_key=None,
        rotation=False,
    )
    assert admin.operation == "AdminInitiateAuth" and admin.params["UserPoolId"] == POOL


def jwt(claims: dict[str, Any]) -> str:
    def seg(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'RS256'})}.{seg(claims)}.c2ln"


def test_token_set_expiry_claims_and_repr() -> None:
    access = jwt({"username": "real-alice", "sub": "s-1", "device_key": "dk-1", "exp": 2000, "iat": 1000})
    ident = jwt({"cognito:username": "real-alice", "sub": "s-1"})
    result = {"AccessToken": access, "IdToken": ident, "RefreshToken": "refresh-xyz", "ExpiresIn": 3600}
    tokens = TokenSet.from_authentication_result(result, received_at=1_700_000_000.0, received_monotonic=50.0)
    assert (tokens.username, tokens.sub, tokens.device_key) == ("real-alice", "s-1", "dk-1")
    assert tokens.seconds_left(50.0 + 3000) == 600
    assert not tokens.needs_refresh(50.0 + 3000, 300) and tokens.needs_refresh(50.0 + 3300, 300)
    assert tokens.expires_at == datetime.fromtimestamp(1_700_003_600, timezone.utc)
    text = repr(tokens)
    assert "real-alice" in text and access not in text and "refresh-xyz" not in text and ident not in text

    refreshed = TokenSet.from_authentication_result(
        {"AccessToken": access, "IdToken": ident, "ExpiresIn": 60},
        received_at=0,
        received_monotonic=0,
        previous=tokens,
    )
    assert refreshed.refresh_token == "refresh-xyz" and refreshed.expires_in == 60
    # no ExpiresIn: the token's own exp - iat (server clock on both sides)
    assert (
        TokenSet.from_authentication_result(
            {"AccessToken": access, "IdToken": ident}, received_at=0, received_monotonic=0
        ).expires_in
        == 1000
    )
    with pytest.raises(ProtocolError):
        TokenSet.from_authentication_result({"IdToken": ident}, received_at=0, received_monotonic=0)


def test_token_set_survives_a_restart_on_the_wall_clock() -> None:
    tokens = TokenSet.from_authentication_result(TOKENS, received_at=1000.0, received_monotonic=5.0)
    data = json.loads(json.dumps(tokens.to_dict()))
    later = TokenSet.from_dict(
        data, wall_now=1000.0 + 1200, monotonic_now=77.0
    )  # a new process, 20 min later
    assert later.seconds_left(77.0) == pytest.approx(2400)
    assert later.refresh_token == "r" and later == TokenSet.from_dict(
        data, wall_now=2200.0, monotonic_now=77.0
    )
    backwards = TokenSet.from_dict(data, wall_now=500.0, monotonic_now=10.0)
    assert backwards.seconds_left(10.0) == 3600
    with pytest.raises(ValueError):
        TokenSet.from_dict({"access_token": "x"}, wall_now=0, monotonic_now=0)


# -- refresh: which failures mean "GetTokensFromRefreshToken is not offered here" -------------------------


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (ServiceError("", code="UnknownOperationException", status=400), True),
        (ServiceError("", code="UnsupportedOperationException", status=400), True),
        (ResponseParseError("html", operation="GetTokensFromRefreshToken", status=500, excerpt=""), True),
        (ResponseParseError("html", operation="GetTokensFromRefreshToken", status=404, excerpt=""), True),
        # a gateway's passing fault, and the operation's own answers, are not "missing"
        (ResponseParseError("html", operation="GetTokensFromRefreshToken", status=502, excerpt=""), False),
        (ServiceError("", code="InvalidParameterException", status=400), False),
        (ServiceError("", code="NotAuthorizedException", status=400), False),
        (ServiceError("", code="InternalErrorException", status=500), False),
        (ConnectionFailedError("refused"), False),
    ],
)
def test_refresh_unavailable(error: CognitoError, unavailable: bool) -> None:
    assert refresh_unavailable(error) is unavailable


def test_refresh_request_for_both_operations() -> None:
    config = ClientConfig("us-east-1_Pool1", "client-1", client_secret="s3cret")
    rotating = refresh_request(config, refresh_token="rt", username="alice", device_key="dk", rotation=True)
    assert rotating.operation == "GetTokensFromRefreshToken"
    assert rotating.params == {
        "RefreshToken": "rt",
        "ClientId": "client-1",
        "ClientSecret": "s3cret",
        "DeviceKey": "dk",
    }
    plain = refresh_request(config, refresh_token="rt", username="alice", device_key="dk", rotation=False)
    assert plain.operation == "InitiateAuth" and plain.params["AuthFlow"] == "REFRESH_TOKEN_AUTH"
    assert plain.params["AuthParameters"]["SECRET_HASH"] == secret_hash("s3cret", "alice", "client-1")
