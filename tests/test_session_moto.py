"""Session end to end: against moto's server for what moto implements, and against a scripted client for
what it does not (devices, RevokeToken, rotation, expired sessions).

moto's SRP is fake (and its USER_ID_FOR_SRP is the sub), so SRP correctness is tested in test_flow.py
against the known-answer vectors, never here.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest

import aiocognito
from aiocognito import errors
from aiocognito._signin import srp as _srp
from aiocognito._signin.session import Session
from aiocognito._signin.steps import (
    ChallengeSelectionRequired,
    MfaCodeRequired,
    NewPasswordRequired,
    SignedIn,
    TotpSetupRequired,
)
from aiocognito._signin.stores import DeviceRecord, FileTokenStore, MemoryDeviceStore, MemoryTokenStore

PASSWORD = "Correct-Horse-9!"


class Totp(pyotp.TOTP):
    """moto's fixed TOTP secret is 60 bits, below pyotp's 112-bit minimum."""

    min_secret_length_bits = 0


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


class Recorder:
    """A client stand-in that forwards to a real client and records every call."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        self.calls.append((operation, params))
        result: dict[str, Any] = await self.client.call(operation, **params)
        return result

    def operations(self) -> list[str]:
        return [op for op, _ in self.calls]


@dataclass
class Pool:
    id: str
    client_id: str
    client_secret: str | None = None


async def make_pool(
    cognito: aiocognito.CognitoClient, *, secret: bool = False, mfa_totp: bool = False, **pool_kw: Any
) -> Pool:
    pool_id = (await cognito.create_user_pool(PoolName="sessions", **pool_kw))["UserPool"]["Id"]
    if mfa_totp:
        await cognito.set_user_pool_mfa_config(
            UserPoolId=pool_id, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
        )
    client = (
        await cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="app",
            GenerateSecret=secret,
            ExplicitAuthFlows=[
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                "ALLOW_USER_SRP_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ],
        )
    )["UserPoolClient"]
    return Pool(pool_id, client["ClientId"], client.get("ClientSecret"))


async def add_user(
    cognito: aiocognito.CognitoClient, pool: Pool, name: str = "alice", *, confirmed: bool = True
) -> None:
    await cognito.admin_create_user(
        UserPoolId=pool.id,
        Username=name,
        TemporaryPassword="Temp-Pass-1!",
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
    )
    if confirmed:
        await cognito.admin_set_user_password(
            UserPoolId=pool.id, Username=name, Password=PASSWORD, Permanent=True
        )


def session_for(client: Any, pool: Pool, **kw: Any) -> Session:
    return Session(
        client, user_pool_id=pool.id, client_id=pool.client_id, client_secret=pool.client_secret, **kw
    )


# ----------------------------------------------------------------------------------------------------
# moto
# ----------------------------------------------------------------------------------------------------


async def test_user_password_auth_signs_in(cognito: aiocognito.CognitoClient) -> None:
    pool = await make_pool(cognito)
    await add_user(cognito, pool)
    session = cognito.session(user_pool_id=pool.id, client_id=pool.client_id)
    assert isinstance(session, Session)
    step = await session.sign_in("alice", PASSWORD, flow="USER_PASSWORD_AUTH")
    assert isinstance(step, SignedIn)
    assert step.tokens is session.tokens and session.username == "alice"
    user = await cognito.get_user(AccessToken=await session.access_token())
    assert user["Username"] == "alice"
    assert PASSWORD not in repr(step) + repr(session)

    with pytest.raises(errors.NotAuthorizedException):
        await session.sign_in("alice", "wrong-password", flow="USER_PASSWORD_AUTH")
    assert session.tokens is step.tokens  # a failed sign-in keeps the earlier tokens


async def test_admin_user_password_auth(cognito: aiocognito.CognitoClient) -> None:
    pool = await make_pool(cognito)
    await add_user(cognito, pool)
    recorder = Recorder(cognito)
    session = session_for(recorder, pool, admin=True)
    step = await session.sign_in("alice", PASSWORD, flow="ADMIN_USER_PASSWORD_AUTH")
    assert isinstance(step, SignedIn)
    assert recorder.operations() == ["AdminInitiateAuth"]
    # moto lacks GetTokensFromRefreshToken (a non-JSON 500): the refresh falls back to AdminInitiateAuth
    # REFRESH_TOKEN_AUTH once, and later refreshes go that way straight away.
    await session.refresh()
    assert recorder.operations() == ["AdminInitiateAuth", "GetTokensFromRefreshToken", "AdminInitiateAuth"]
    assert recorder.calls[-1][1]["AuthFlow"] == "REFRESH_TOKEN_AUTH"
    await session.refresh()
    assert recorder.operations()[3:] == ["AdminInitiateAuth"]


async def test_new_password_required_then_sign_in_with_the_new_password(
    cognito: aiocognito.CognitoClient,
) -> None:
    pool = await make_pool(cognito)
    await add_user(cognito, pool, confirmed=False)
    session = session_for(cognito, pool)
    step = await session.sign_in("alice", "Temp-Pass-1!", flow="USER_PASSWORD_AUTH")
    assert isinstance(step, NewPasswordRequired)
    assert step.required_attributes == [] and step.missing_attributes == []  # moto sends only USERNAME
    done = await step.respond("Brand-New-Pass-2!")
    assert isinstance(done, SignedIn)
    again = await session_for(cognito, pool).sign_in("alice", "Brand-New-Pass-2!", flow="USER_PASSWORD_AUTH")
    assert isinstance(again, SignedIn)


async def test_totp_setup_and_mfa_with_a_wrong_then_right_code(
    cognito: aiocognito.CognitoClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")  # moto then checks the codes
    pool = await make_pool(cognito, mfa_totp=True)
    await add_user(cognito, pool, confirmed=False)
    recorder = Recorder(cognito)
    session = session_for(recorder, pool)
    step = await session.sign_in("alice", "Temp-Pass-1!", flow="USER_PASSWORD_AUTH")
    assert isinstance(step, NewPasswordRequired)
    setup = await step.respond("Brand-New-Pass-2!")
    assert isinstance(setup, TotpSetupRequired)
    assert setup.options == ["SOFTWARE_TOKEN_MFA"]
    secret = await setup.associate()
    uri = setup.provisioning_uri("Example Corp")
    assert uri.startswith("otpauth://totp/Example%20Corp:alice?") and f"secret={secret}" in uri
    with pytest.raises(errors.CodeMismatchException):
        await setup.respond(wrong(Totp(secret).now()))
    done = await setup.respond(Totp(secret).now(), friendly_device_name="phone")
    assert isinstance(done, SignedIn)
    ops = recorder.operations()
    assert ops[-4:] == [
        "AssociateSoftwareToken",
        "VerifySoftwareToken",
        "VerifySoftwareToken",
        "RespondToAuthChallenge",
    ]
    assert recorder.calls[-1][1]["ChallengeName"] == "MFA_SETUP"
    verify_session = recorder.calls[-2][1]["Session"]
    assert recorder.calls[-1][1]["Session"] != verify_session  # answered with VerifySoftwareToken's Session

    # Next sign-in: SOFTWARE_TOKEN_MFA. A wrong code raises and the same step stays answerable.
    mfa = await session.sign_in("alice", "Brand-New-Pass-2!", flow="USER_PASSWORD_AUTH")
    assert isinstance(mfa, MfaCodeRequired) and mfa.kind == "TOTP"
    with pytest.raises(errors.CodeMismatchException):
        await mfa.respond(wrong(Totp(secret).now()))
    assert isinstance(await mfa.respond(Totp(secret).now()), SignedIn)
    with pytest.raises(aiocognito.SignInError):
        await mfa.respond(Totp(secret).now())  # already answered


async def test_challenge_resumed_in_a_second_request(
    cognito: aiocognito.CognitoClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    pool = await make_pool(cognito, mfa_totp=True)
    await add_user(cognito, pool, confirmed=False)
    first = await session_for(cognito, pool).sign_in("alice", "Temp-Pass-1!", flow="USER_PASSWORD_AUTH")
    assert isinstance(first, NewPasswordRequired)
    saved = json.dumps(first.to_dict())  # request 1 ends here
    assert "Temp-Pass-1!" not in saved

    worker2 = session_for(cognito, pool)  # request 2: another Session object
    resumed = await worker2.resume(json.loads(saved))
    assert isinstance(resumed, NewPasswordRequired)
    setup = await resumed.respond("Brand-New-Pass-2!")
    assert isinstance(setup, TotpSetupRequired)
    secret = await setup.associate()
    saved = json.dumps(setup.to_dict())
    assert secret not in saved and "Brand-New-Pass-2!" not in saved

    worker3 = session_for(cognito, pool)  # request 3: the user typed the code
    resumed_setup = await worker3.resume(json.loads(saved))
    assert isinstance(resumed_setup, TotpSetupRequired) and resumed_setup.secret_code is None
    done = await resumed_setup.respond(Totp(secret).now())
    assert isinstance(done, SignedIn) and worker3.tokens is done.tokens

    other = await make_pool(cognito)
    with pytest.raises(aiocognito.ParamValidationError):
        await session_for(cognito, other).resume(json.loads(saved))


async def test_refresh_with_a_client_secret_keeps_the_refresh_token(
    cognito: aiocognito.CognitoClient,
) -> None:
    pool = await make_pool(cognito, secret=True)  # moto checks SECRET_HASH on REFRESH_TOKEN_AUTH
    assert pool.client_secret
    await add_user(cognito, pool)
    recorder = Recorder(cognito)
    session = session_for(recorder, pool)
    step = await session.sign_in("alice", PASSWORD, flow="USER_PASSWORD_AUTH")
    assert isinstance(step, SignedIn)
    old = step.tokens
    new = await session.refresh()
    assert new.access_token != old.access_token and new.refresh_token == old.refresh_token
    assert session.tokens is new
    assert (await cognito.get_user(AccessToken=new.access_token))["Username"] == "alice"
    op, params = recorder.calls[-1]
    assert op == "InitiateAuth" and params["AuthFlow"] == "REFRESH_TOKEN_AUTH"
    assert set(params["AuthParameters"]) == {"REFRESH_TOKEN", "SECRET_HASH"}


async def test_global_sign_out_and_a_dead_refresh_token(cognito: aiocognito.CognitoClient) -> None:
    pool = await make_pool(cognito)
    await add_user(cognito, pool)
    store = MemoryTokenStore()
    kept = session_for(cognito, pool, token_store=store)
    await kept.sign_in("alice", PASSWORD, flow="USER_PASSWORD_AUTH")
    assert await store.load(f"{pool.id}:{pool.client_id}:alice") is not None

    leaving = session_for(cognito, pool)
    await leaving.sign_in("alice", PASSWORD, flow="USER_PASSWORD_AUTH")
    old_access = leaving.tokens.access_token if leaving.tokens else ""
    await leaving.sign_out(everywhere=True)
    assert leaving.tokens is None
    with pytest.raises(errors.NotAuthorizedException):
        await cognito.get_user(AccessToken=old_access)

    # GlobalSignOut revoked every refresh token of alice: refreshing fails for good.
    with pytest.raises(aiocognito.SignInRequired) as info:
        await kept.refresh()
    assert isinstance(info.value.__cause__, errors.NotAuthorizedException)
    assert kept.tokens is None
    assert await store.load(f"{pool.id}:{pool.client_id}:alice") is None
    with pytest.raises(aiocognito.SignInRequired):
        await kept.access_token()


async def test_access_token_single_flight(cognito: aiocognito.CognitoClient) -> None:
    pool = await make_pool(cognito)
    await add_user(cognito, pool)
    clock = [1000.0]
    recorder = Recorder(cognito)
    # moto has no GetTokensFromRefreshToken: REFRESH_TOKEN_AUTH from the start, so one call is one refresh
    session = session_for(recorder, pool, monotonic=lambda: clock[0], refresh_token_rotation=False)
    await session.sign_in("alice", PASSWORD, flow="USER_PASSWORD_AUTH")
    old = session.tokens
    assert old is not None
    assert await session.access_token() == old.access_token  # fresh: no refresh
    clock[0] += old.expires_in - 120  # inside the 300 s margin
    recorder.calls.clear()

    started = time.perf_counter()
    results = await asyncio.gather(*(session.access_token() for _ in range(1000)))
    elapsed = time.perf_counter() - started

    assert recorder.operations() == ["InitiateAuth"]
    assert recorder.calls[0][1]["AuthFlow"] == "REFRESH_TOKEN_AUTH"
    new = session.tokens
    assert new is not None and new is not old
    assert set(results) == {new.access_token} and new.access_token != old.access_token
    assert await session.id_token() == new.id_token and recorder.operations() == ["InitiateAuth"]
    print(f"1000 concurrent access_token() on an expiring session: 1 refresh, {elapsed * 1000:.1f} ms")


async def test_tokens_survive_a_worker_restart(cognito: aiocognito.CognitoClient, tmp_path: Path) -> None:
    pool = await make_pool(cognito)
    await add_user(cognito, pool)
    path = tmp_path / "tokens.json"
    first = session_for(cognito, pool, token_store=FileTokenStore(path))
    await first.sign_in("alice", PASSWORD, flow="USER_PASSWORD_AUTH")

    recorder = Recorder(cognito)
    restarted = session_for(recorder, pool, token_store=FileTokenStore(path))
    assert await restarted.load("alice")
    assert not await restarted.load("bob")
    token = await restarted.access_token()
    assert recorder.calls == []  # no sign-in, no refresh
    assert (await cognito.get_user(AccessToken=token))["Username"] == "alice"
    assert "Temp" not in path.read_text() and PASSWORD not in path.read_text()


# ----------------------------------------------------------------------------------------------------
# A scripted Cognito for what moto lacks
# ----------------------------------------------------------------------------------------------------


def fail(code: str, message: str, operation: str) -> errors.ServiceError:
    return errors.error_class(code)(message, code=code, operation=operation, status=400)


class Scripted:
    """A fake client: ``handler(operation, params)`` answers each call (and may raise); calls are recorded."""

    def __init__(
        self, handler: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]] | dict[str, Any]]
    ) -> None:
        self.handler = handler
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        self.calls.append((operation, params))
        result = self.handler(operation, params)
        if asyncio.iscoroutine(result):
            result = await result
        assert isinstance(result, dict)
        return result


def tokens(
    device_key: str | None = None, *, refresh: str | None = "rt-1", new_device: bool = False
) -> dict[str, Any]:
    import base64

    def seg(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    claims: dict[str, Any] = {"username": "real-alice", "sub": "sub-1", "jti": str(time.perf_counter_ns())}
    if device_key:
        claims["device_key"] = device_key
    result: dict[str, Any] = {
        "AccessToken": f"h.{seg(claims)}.s",
        "IdToken": f"h.{seg({'cognito:username': 'real-alice'})}.s",
        "ExpiresIn": 3600,
        "TokenType": "Bearer",
    }
    if refresh:
        result["RefreshToken"] = refresh
    if new_device:
        result["NewDeviceMetadata"] = {"DeviceKey": "us-east-1_dev-123", "DeviceGroupKey": "-grp9"}
    return {"AuthenticationResult": result}


POOL_ID, CLIENT_ID, SECRET = "us-east-1_Scripted1", "client1", "client-secret-1"


async def test_remembered_device_round_trip_with_real_device_srp() -> None:
    """remember_device() stores a device whose password matches the verifier sent in ConfirmDevice; the
    next sign-in answers DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER itself (checked with _srp's server
    side), and refresh carries DEVICE_KEY."""
    server: dict[str, Any] = {}

    def handler(op: str, params: dict[str, Any]) -> dict[str, Any]:
        if op == "InitiateAuth" and params["AuthFlow"] == "USER_PASSWORD_AUTH":
            if "DEVICE_KEY" in params["AuthParameters"]:
                return {
                    "ChallengeName": "DEVICE_SRP_AUTH",
                    "Session": "s-1",
                    "ChallengeParameters": {"USERNAME": "real-alice"},
                }
            return tokens(new_device=True)
        if op == "ConfirmDevice":
            server["salt"], server["verifier"] = _srp.parse_device_verifier_config(
                params["DeviceSecretVerifierConfig"]
            )
            return {"UserConfirmationNecessary": True}
        if op == "UpdateDeviceStatus":
            assert params["DeviceRememberedStatus"] == "remembered"
            return {}
        if op == "RespondToAuthChallenge" and params["ChallengeName"] == "DEVICE_SRP_AUTH":
            server["A"] = params["ChallengeResponses"]["SRP_A"]
            server["b"], server["B"] = _srp.server_ephemeral(server["verifier"])
            return {
                "ChallengeName": "DEVICE_PASSWORD_VERIFIER",
                "Session": "s-2",
                "ChallengeParameters": {
                    "USERNAME": "real-alice",
                    "SALT": _srp.salt_to_hex(server["salt"]),
                    "SRP_B": _srp.int_to_hex(server["B"]),
                    "SECRET_BLOCK": "c2VjcmV0LWJsb2Nr",
                },
            }
        if op == "RespondToAuthChallenge" and params["ChallengeName"] == "DEVICE_PASSWORD_VERIFIER":
            answer = params["ChallengeResponses"]
            expected = _srp.expected_signature(
                srp_pool_name="-grp9",
                srp_user_id="us-east-1_dev-123",
                verifier=server["verifier"],
                b=server["b"],
                B=server["B"],
                A_hex=server["A"],
                salt_hex=_srp.salt_to_hex(server["salt"]),
                secret_block=b"secret-block",
                timestamp=answer["TIMESTAMP"],
            )
            if answer["PASSWORD_CLAIM_SIGNATURE"] != expected:
                raise fail("NotAuthorizedException", "Incorrect username or password.", op)
            return tokens("us-east-1_dev-123")
        if op == "GetTokensFromRefreshToken":
            return tokens("us-east-1_dev-123", refresh=None)
        raise AssertionError(f"unexpected {op}")

    client = Scripted(handler)
    devices = MemoryDeviceStore()
    session = Session(
        client, user_pool_id=POOL_ID, client_id=CLIENT_ID, client_secret=SECRET, device_store=devices
    )
    first = await session.sign_in("alice@example.com", PASSWORD, flow="USER_PASSWORD_AUTH")
    assert isinstance(first, SignedIn) and first.new_device is not None
    assert await session.remember_device("laptop") == "us-east-1_dev-123"
    confirm = dict(client.calls)["ConfirmDevice"]
    assert confirm["DeviceName"] == "laptop" and confirm["DeviceKey"] == "us-east-1_dev-123"
    stored = await devices.get(POOL_ID, "real-alice")
    assert stored is not None and stored == await devices.get(POOL_ID, "alice@example.com")

    client.calls.clear()
    second = await Session(
        client, user_pool_id=POOL_ID, client_id=CLIENT_ID, client_secret=SECRET, device_store=devices
    ).sign_in("alice@example.com", PASSWORD, flow="USER_PASSWORD_AUTH")
    assert isinstance(second, SignedIn)
    names = [p.get("ChallengeName", p.get("AuthFlow")) for _, p in client.calls]
    assert names == ["USER_PASSWORD_AUTH", "DEVICE_SRP_AUTH", "DEVICE_PASSWORD_VERIFIER"]
    assert client.calls[0][1]["AuthParameters"]["DEVICE_KEY"] == "us-east-1_dev-123"
    for _, params in client.calls[1:]:
        responses = params["ChallengeResponses"]
        assert responses["USERNAME"] == "real-alice" and responses["DEVICE_KEY"] == "us-east-1_dev-123"
        assert responses["SECRET_HASH"] == aiocognito._signin.flow.secret_hash(
            SECRET, "real-alice", CLIENT_ID
        )

    await session.refresh()
    op, params = client.calls[-1]
    assert op == "GetTokensFromRefreshToken" and params["RefreshToken"] == "rt-1"
    assert params["DeviceKey"] == "us-east-1_dev-123" and params["ClientSecret"] == SECRET


async def test_unknown_device_is_forgotten_and_the_sign_in_retried_once() -> None:
    def handler(op: str, params: dict[str, Any]) -> dict[str, Any]:
        if "DEVICE_KEY" in params.get("AuthParameters", {}):
            raise fail("ResourceNotFoundException", "Device does not exist.", op)
        return tokens()

    client = Scripted(handler)
    devices = MemoryDeviceStore()
    await devices.put(POOL_ID, "alice", DeviceRecord("us-east-1_old", "g", "device-pw"))
    session = Session(client, user_pool_id=POOL_ID, client_id=CLIENT_ID, device_store=devices)
    step = await session.sign_in("alice", PASSWORD, flow="USER_PASSWORD_AUTH")
    assert isinstance(step, SignedIn)
    assert [("DEVICE_KEY" in p["AuthParameters"]) for _, p in client.calls] == [True, False]
    assert await devices.get(POOL_ID, "alice") is None


async def test_expired_challenge_session_says_sign_in_again() -> None:
    def handler(op: str, params: dict[str, Any]) -> dict[str, Any]:
        if op == "InitiateAuth":
            return {
                "ChallengeName": "SMS_MFA",
                "Session": "s-1",
                "ChallengeParameters": {"USERNAME": "u", "CODE_DELIVERY_DESTINATION": "+***1"},
            }
        raise fail("NotAuthorizedException", "Invalid session for the user, session is expired.", op)

    session = Session(Scripted(handler), user_pool_id=POOL_ID, client_id=CLIENT_ID)
    step = await session.sign_in("alice", PASSWORD, flow="USER_PASSWORD_AUTH")
    assert isinstance(step, MfaCodeRequired) and step.kind == "SMS" and step.destination == "+***1"
    with pytest.raises(aiocognito.SessionExpiredError, match="sign_in") as info:
        await step.respond("123456")
    assert isinstance(info.value.__cause__, errors.NotAuthorizedException)
    assert "s-1" not in str(info.value)


async def test_select_challenge_password_srp_runs_srp_inside_respond() -> None:
    seen: list[str] = []

    def handler(op: str, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("ChallengeName", "")
        seen.append(name or params["AuthFlow"])
        if op == "InitiateAuth":
            return {
                "ChallengeName": "SELECT_CHALLENGE",
                "Session": "s-1",
                "ChallengeParameters": {"USERNAME": "u"},
                "AvailableChallenges": ["PASSWORD_SRP", "EMAIL_OTP"],
            }
        if name == "SELECT_CHALLENGE":
            assert (
                params["ChallengeResponses"]["ANSWER"] == "PASSWORD_SRP"
                and "SRP_A" in params["ChallengeResponses"]
            )
            return {
                "ChallengeName": "PASSWORD_VERIFIER",
                "ChallengeParameters": {
                    "USERNAME": "u",
                    "USER_ID_FOR_SRP": "u",
                    "SALT": "0a1b",
                    "SRP_B": "5f3c9a",
                    "SECRET_BLOCK": "YmxvY2s=",
                },
            }
        assert name == "PASSWORD_VERIFIER" and "Session" not in params
        return tokens()

    session = Session(Scripted(handler), user_pool_id=POOL_ID, client_id=CLIENT_ID)
    step = await session.sign_in("alice", flow="USER_AUTH")
    assert isinstance(step, ChallengeSelectionRequired) and step.available == ["PASSWORD_SRP", "EMAIL_OTP"]
    assert "pw-1" not in json.dumps(step.to_dict())
    assert isinstance(await step.respond("PASSWORD_SRP", "pw-1"), SignedIn)
    assert seen == ["USER_AUTH", "SELECT_CHALLENGE", "PASSWORD_VERIFIER"]


async def test_rotation_revoke_and_reuse() -> None:
    issued = iter(["rt-2", "rt-3"])

    def handler(op: str, params: dict[str, Any]) -> dict[str, Any]:
        if op == "InitiateAuth":
            return tokens(refresh="rt-1")
        if op == "GetTokensFromRefreshToken":
            assert params["ClientSecret"] == SECRET
            if params["RefreshToken"] == "rt-3":
                raise fail("RefreshTokenReuseException", "reused", op)
            return tokens(refresh=next(issued))
        if op == "RevokeToken":
            return {}
        raise AssertionError(op)

    client = Scripted(handler)
    store = MemoryTokenStore()
    session = Session(
        client,
        user_pool_id=POOL_ID,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        token_store=store,
        refresh_token_rotation=True,
    )
    await session.sign_in("alice", PASSWORD, flow="USER_PASSWORD_AUTH")
    assert (await session.refresh()).refresh_token == "rt-2"
    saved = await store.load(f"{POOL_ID}:{CLIENT_ID}:alice")
    assert saved is not None and saved["tokens"]["refresh_token"] == "rt-2"
    await session.sign_out()
    assert client.calls[-1] == (
        "RevokeToken",
        {"Token": "rt-2", "ClientId": CLIENT_ID, "ClientSecret": SECRET},
    )
    assert session.tokens is None and await store.load(f"{POOL_ID}:{CLIENT_ID}:alice") is None

    await session.sign_in("alice", PASSWORD, flow="USER_PASSWORD_AUTH")
    assert (await session.refresh()).refresh_token == "rt-3"
    with pytest.raises(aiocognito.SignInRequired):
        await session.refresh()
    assert session.tokens is None


async def test_a_cancelled_caller_does_not_cancel_the_shared_refresh() -> None:
    gate = asyncio.Event()
    refreshes = 0

    async def handler(op: str, params: dict[str, Any]) -> dict[str, Any]:
        nonlocal refreshes
        if op == "GetTokensFromRefreshToken":
            refreshes += 1
            await gate.wait()
        return tokens()

    session = Session(Scripted(handler), user_pool_id=POOL_ID, client_id=CLIENT_ID)
    await session.sign_in("alice", PASSWORD, flow="USER_PASSWORD_AUTH")
    first = asyncio.ensure_future(session.refresh())
    second = asyncio.ensure_future(session.refresh())
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    gate.set()
    new = await second
    assert first.cancelled() and refreshes == 1
    assert session.tokens is new


async def test_remember_device_without_new_device_metadata_is_an_error() -> None:
    session = Session(Scripted(lambda op, p: tokens()), user_pool_id=POOL_ID, client_id=CLIENT_ID)
    await session.sign_in("alice", PASSWORD, flow="USER_PASSWORD_AUTH")
    with pytest.raises(aiocognito.SignInError):
        await session.remember_device()


def test_session_options_have_sane_defaults() -> None:
    session = Session(object(), user_pool_id=POOL_ID, client_id=CLIENT_ID, client_secret=SECRET)
    assert SECRET not in repr(session) and session.tokens is None
    with pytest.raises(aiocognito.ConfigurationError):
        Session(object(), user_pool_id=POOL_ID, client_id=CLIENT_ID, refresh_margin=-1)
