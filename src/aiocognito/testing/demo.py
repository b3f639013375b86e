"""``aiocognito demo``: the whole journey of a user, printed step by step with its time.

Without arguments it starts a local user pool in this process, creates a pool (TOTP MFA required, devices
remembered), an app client and a user with a temporary password, then: signs in with SRP, answers
NEW_PASSWORD_REQUIRED, sets up TOTP, is signed in, remembers the device, signs in again with device SRP
(no MFA prompt), refreshes, verifies the tokens against the pool's JWKS, lists the users with the async
iterator and signs out everywhere.

With ``user_pool_id`` and ``client_id`` the same journey runs against that pool (a real one: AWS
credentials from the usual chain create and finally delete a throw-away user); the app client must allow
USER_SRP_AUTH and refresh, and have no secret. ``endpoint_url`` alone points the journey at another
endpoint, such as ``aiocognito local``, where the pool and client are created. The exit code is 0 when
every step passed, 1 when one failed, 2 for bad arguments.

Only the local mode needs the ``local`` extra: the local pool is imported when that mode starts it.

Nothing secret is printed: no password, token, session or TOTP secret.
"""

from __future__ import annotations

import secrets
import string
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import aiohttp
import pyotp

from .._errors import CognitoError, redact
from .._signin.session import Session
from .._signin.steps import MfaCodeRequired, NewPasswordRequired, SignedIn, Step, TotpSetupRequired
from .._tokens.verifier import TokenVerifier
from .._wire.client import CognitoClient
from .._wire.retry import RetryPolicy
from ._constants import LOCAL_CREDENTIALS

if TYPE_CHECKING:
    from ._pool import LocalUserPool

__all__ = ["run_demo", "uses_local_pool"]

T = TypeVar("T")


class _StepFailed(Exception):
    """A step of the journey failed (already printed)."""


class _Journey:
    """Runs and prints the steps: elapsed time, the step's own time, ok/FAIL, and a short detail."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.started = time.perf_counter()
        self.passed = 0

    def _line(self, status: str, title: str, detail: str, took: float) -> None:
        elapsed = time.perf_counter() - self.started
        text = f"{elapsed:7.3f}s  {took * 1000:7.1f} ms  {status:<4}  {title}"
        if detail:
            text += f" - {detail}"
        print(text, file=self.out, flush=True)

    async def run(self, title: str, action: Callable[[], Awaitable[tuple[T, str]]]) -> T:
        began = time.perf_counter()
        try:
            value, detail = await action()
        except (CognitoError, AssertionError, OSError, ValueError, LookupError, ImportError) as exc:
            message = redact(str(exc) or type(exc).__name__)
            self._line("FAIL", title, f"{type(exc).__name__}: {message}", time.perf_counter() - began)
            raise _StepFailed(title) from exc
        self.passed += 1
        self._line("ok", title, detail, time.perf_counter() - began)
        return value

    def note(self, title: str, detail: str) -> None:
        self._line("skip", title, detail, 0.0)


def _password() -> str:
    """A random password that satisfies Cognito's default policy."""
    alphabet = string.ascii_letters + string.digits
    return "Aa1!" + "".join(secrets.choice(alphabet) for _ in range(16))


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def uses_local_pool(endpoint_url: str | None, user_pool_id: str | None) -> bool:
    """Whether the demo starts a local pool in this process (then it needs the ``local`` extra)."""
    return endpoint_url is None and user_pool_id is None


async def run_demo(
    *,
    endpoint_url: str | None = None,
    user_pool_id: str | None = None,
    client_id: str | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """Run the demo journey; returns the exit code (0: every step passed)."""
    if (user_pool_id is None) != (client_id is None):
        print("aiocognito demo: give both --user-pool-id and --client-id, or neither", file=out)
        return 2
    journey = _Journey(out)
    target = (
        "a local user pool in this process"
        if uses_local_pool(endpoint_url, user_pool_id)
        else (f"user pool {user_pool_id}" if user_pool_id else endpoint_url)
    )
    print(f"aiocognito demo against {target}", file=out, flush=True)
    async with AsyncExitStack() as stack:
        try:
            await _journey(journey, stack, endpoint_url, user_pool_id, client_id)
        except _StepFailed as failed:
            print(f"demo FAILED at step: {failed}", file=out, flush=True)
            return 1
    took = time.perf_counter() - journey.started
    print(f"demo finished in {took:.2f}s: all {journey.passed} steps passed", file=out, flush=True)
    return 0


async def _journey(
    journey: _Journey,
    stack: AsyncExitStack,
    endpoint_url: str | None,
    user_pool_id: str | None,
    client_id: str | None,
) -> None:
    local_mode = uses_local_pool(endpoint_url, user_pool_id)
    if local_mode:

        async def start() -> tuple[LocalUserPool, str]:
            from ._pool import LocalUserPool  # the 'local' extra: only this mode needs it

            pool = await LocalUserPool().start()
            stack.push_async_callback(pool.close)
            return pool, pool.endpoint_url

        endpoint_url = (await journey.run("start a local user pool", start)).endpoint_url

    region = user_pool_id.split("_", 1)[0] if user_pool_id else "us-east-1"
    credentials = LOCAL_CREDENTIALS if user_pool_id is None else None
    cognito = CognitoClient(
        region=region,
        endpoint_url=endpoint_url,
        credentials=credentials,
        retries=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.5),
    )
    stack.push_async_callback(cognito.close)

    if user_pool_id is None:

        async def create_pool() -> tuple[str, str]:
            created = await cognito.create_user_pool(
                PoolName="aiocognito-demo",
                DeviceConfiguration={
                    "ChallengeRequiredOnNewDevice": True,
                    "DeviceOnlyRememberedOnUserPrompt": False,
                },
            )
            pool_id = created["UserPool"]["Id"]
            await cognito.set_user_pool_mfa_config(
                UserPoolId=pool_id, MfaConfiguration="ON", SoftwareTokenMfaConfiguration={"Enabled": True}
            )
            return pool_id, f"{pool_id} (TOTP MFA required, devices remembered)"

        user_pool_id = await journey.run("create a user pool", create_pool)
        pool_id_for_cleanup = user_pool_id
        if not local_mode:
            stack.push_async_callback(
                _quietly, lambda: cognito.delete_user_pool(UserPoolId=pool_id_for_cleanup)
            )

        async def create_client() -> tuple[str, str]:
            created = await cognito.create_user_pool_client(
                UserPoolId=pool_id_for_cleanup,
                ClientName="aiocognito-demo",
                ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            )
            return created["UserPoolClient"]["ClientId"], "SRP and refresh allowed, no secret"

        client_id = await journey.run("create an app client", create_client)
    assert user_pool_id is not None and client_id is not None
    pool_id: str = user_pool_id
    app_id: str = client_id

    username = f"demo-{secrets.token_hex(4)}"
    temporary, new_password = _password(), _password()

    async def create_user() -> tuple[None, str]:
        await cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=username,
            TemporaryPassword=temporary,
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
        )
        stack.push_async_callback(
            _quietly, lambda: cognito.admin_delete_user(UserPoolId=pool_id, Username=username)
        )
        return None, f"{username} (FORCE_CHANGE_PASSWORD)"

    await journey.run("create a user with a temporary password", create_user)

    session: Session = cognito.session(user_pool_id=pool_id, client_id=app_id)
    totp_secret: list[str] = []

    async def sign_in() -> tuple[Step, str]:
        step = await session.sign_in(username, temporary)
        return step, f"PASSWORD_VERIFIER answered, next: {_name(step)}"

    step = await journey.run("sign in with SRP", sign_in)

    if isinstance(step, NewPasswordRequired):
        current = step

        async def new_password_step() -> tuple[Step, str]:
            filler = {name: "demo" for name in current.missing_attributes}
            nxt = await current.respond(new_password, filler)
            return nxt, f"password changed, next: {_name(nxt)}"

        step = await journey.run("answer NEW_PASSWORD_REQUIRED", new_password_step)

    if isinstance(step, TotpSetupRequired):
        setup = step

        async def totp_step() -> tuple[Step, str]:
            secret = await setup.associate()
            totp_secret.append(secret)
            nxt = await setup.respond(pyotp.TOTP(secret).now(), "aiocognito demo")
            return nxt, "AssociateSoftwareToken + VerifySoftwareToken, MFA_SETUP answered"

        step = await journey.run("set up TOTP (MFA_SETUP)", totp_step)

    async def signed_in() -> tuple[SignedIn, str]:
        _check(isinstance(step, SignedIn), f"expected to be signed in, got {_name(step)}")
        assert isinstance(step, SignedIn)
        tokens = step.tokens
        return step, f"as {tokens.username}, access token valid for {tokens.expires_in}s"

    first = await journey.run("signed in", signed_in)

    if not totp_secret:  # the pool did not ask for MFA set-up: enable TOTP as a signed-in user

        async def enable_totp() -> tuple[None, str]:
            access = await session.access_token()
            secret = (await cognito.associate_software_token(AccessToken=access))["SecretCode"]
            await cognito.verify_software_token(AccessToken=access, UserCode=pyotp.TOTP(secret).now())
            await cognito.set_user_mfa_preference(
                AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
            )
            totp_secret.append(secret)
            return None, "TOTP enabled and preferred"

        await journey.run("set up TOTP (signed in)", enable_totp)

    remembered = first.new_device is not None
    if remembered:

        async def remember() -> tuple[str, str]:
            key = await session.remember_device("aiocognito demo")
            return key, f"ConfirmDevice with an SRP verifier, device {key[:18]}..."

        await journey.run("remember this device", remember)
    else:
        journey.note("remember this device", "the pool does not track devices")

    async def sign_in_again() -> tuple[None, str]:
        nxt = await session.sign_in(username, new_password)
        if isinstance(nxt, SignedIn):
            if remembered:
                return None, "DEVICE_SRP_AUTH + DEVICE_PASSWORD_VERIFIER, no MFA prompt"
            return None, "no MFA prompt: the pool's MFA is off"
        _check(not remembered, f"the remembered device did not skip MFA ({_name(nxt)})")
        _check(isinstance(nxt, MfaCodeRequired), f"unexpected challenge {_name(nxt)}")
        assert isinstance(nxt, MfaCodeRequired)
        code = pyotp.TOTP(totp_secret[0]).at(time.time() + 30)  # the next step's code: unused so far
        done = await nxt.respond(code)
        _check(isinstance(done, SignedIn), f"expected to be signed in, got {_name(done)}")
        return None, "TOTP code accepted"

    title = "sign in again with the remembered device" if remembered else "sign in again with TOTP"
    await journey.run(title, sign_in_again)

    async def refresh() -> tuple[None, str]:
        before = session.tokens
        tokens = await session.refresh()
        _check(
            before is not None and tokens.access_token != before.access_token,
            "the access token did not change",
        )
        return None, f"new access token, valid for {tokens.expires_in}s"

    await journey.run("refresh the tokens", refresh)

    async def verify() -> tuple[None, str]:
        issuer, jwks_url = await _discover(cognito, pool_id)
        async with TokenVerifier(
            pool_id, client_ids=app_id, jwks_url=jwks_url, issuer=issuer, http_session=cognito.http_session
        ) as verifier:
            access = await verifier.verify(await session.access_token(), "access")
            identity = await verifier.verify(await session.id_token(), "id")
        _check(access["sub"] == identity["sub"], "the ID and access tokens name different users")
        return None, f"RS256 signatures and claims ok, iss {issuer}"

    await journey.run("verify the tokens against the JWKS", verify)

    async def list_users() -> tuple[None, str]:
        count, found = 0, False
        async for user in cognito.list_all_users(UserPoolId=pool_id, Limit=10):
            count += 1
            found = found or user.get("Username") == username or _has_email(user, f"{username}@example.com")
        _check(found, f"{username} is not in the listing")
        return None, f"{count} user(s), {username} among them"

    await journey.run("list users with the async iterator", list_users)

    async def sign_out() -> tuple[None, str]:
        access = await session.access_token()
        await session.sign_out(everywhere=True)
        try:
            await cognito.get_user(AccessToken=access)
        except CognitoError as exc:
            return None, f"GlobalSignOut; GetUser now answers {type(exc).__name__}"
        raise AssertionError("GetUser still accepts the access token after sign-out")

    await journey.run("sign out everywhere", sign_out)


def _name(step: Step) -> str:
    return "signed in" if isinstance(step, SignedIn) else str(getattr(step, "name", type(step).__name__))


def _has_email(user: Any, email: str) -> bool:
    return any(a.get("Name") == "email" and a.get("Value") == email for a in user.get("Attributes", []))


async def _discover(cognito: CognitoClient, pool_id: str) -> tuple[str, str]:
    """The pool's issuer and JWKS URL from its OpenID configuration (local issuer or AWS)."""
    url = f"{cognito.endpoint_url}/{pool_id}/.well-known/openid-configuration"
    async with cognito.http_session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
        if response.status != 200:
            raise LookupError(f"no OpenID configuration at {url} (HTTP {response.status})")
        document = await response.json(content_type=None)
    return str(document["issuer"]), str(document["jwks_uri"])


async def _quietly(call: Callable[[], Awaitable[Any]]) -> None:
    """Clean-up calls: a failure here does not fail the demo."""
    try:
        await call()
    except CognitoError:
        pass
