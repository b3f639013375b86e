"""The async sign-in driver: :class:`Session` (the steps it returns live in ``steps.py``).

``Session`` sends what the pure :class:`~aiocognito._signin.flow.SignInFlow` asks for and hands back a step:
:class:`SignedIn`, or a challenge with an ``await step.respond(...)`` that returns the next step. It also
keeps the tokens fresh (:meth:`Session.access_token`), remembers and forgets devices, refreshes and signs
out.

Choices worth knowing:

* The password lives only inside the ``sign_in()`` / ``respond()`` call that needs it (SRP, the one retry
  after a forgotten device); no step, saved challenge or repr holds it.
* A challenge step can be answered again after a wrong code (``CodeMismatchException`` is raised from
  ``respond()``, the step stays usable); an expired or used challenge session raises
  :class:`SessionExpiredError` ("sign in again").
* ``step.to_dict()`` / ``session.resume(data)`` move a challenge to another worker. The saved form holds
  Cognito's Session string, a credential for the 3-15 minutes the challenge lives: store it privately.
* Refresh needs no setting: GetTokensFromRefreshToken, which Cognito answers for app clients with and
  without refresh-token rotation (with rotation the new refresh token replaces the old one in the store,
  in one save). Where an endpoint does not offer it (older emulators), the session falls back to
  REFRESH_TOKEN_AUTH once and remembers that. ``refresh_token_rotation=True``/``False`` forces one of the
  two.
* Expiry is the server's ``ExpiresIn`` against a monotonic clock read when the answer arrived. Tokens are
  refreshed ``refresh_margin`` seconds (default 300, at most half the lifetime) before they expire; any
  number of concurrent callers share one refresh. A refresh token the service rejects
  (NotAuthorizedException, RefreshTokenReuseException) clears the tokens and raises :class:`SignInRequired`.
* Several processes, one session: with ``refresh_lock=`` (``aiocognito.redis.RedisRefreshLock``) and a
  shared token store with ``save_if`` (``RedisTokenStore``), one refresh call serves every process: a
  process takes newer tokens another one saved, else refreshes under the lock and saves with its fencing
  token (see ``refresh_lock.py``). Without the lock, processes sharing a store each refresh on their own.
* Remembered devices are stored per ``(pool, username)`` under the real username and the typed alias.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

from .._errors import (
    CognitoError,
    ConfigurationError,
    ParamValidationError,
    ProtocolError,
    ServiceError,
    SessionExpiredError,
    SignInRequired,
)
from .._tokens.token_set import TokenSet
from .._wire.validate import check_client_id, check_user_pool_id
from .account import AccountFlows
from .devices import RememberedDevices
from .events import (
    Answer,
    AssociateSoftwareToken,
    Authenticated,
    ChallengeChoice,
    ClientConfig,
    NewDevice,
    PendingChallenge,
    Request,
    SoftwareTokenAssociated,
)
from .flow import ErrorAction, SignInFlow
from .refresh import refresh_request, refresh_unavailable
from .refresh_lock import FencedTokenStore, RefreshLock, adoptable, newest
from .srp import DEFAULT_EPHEMERAL_BYTES
from .srp_thread import srp_executor
from .steps import STEP_CLASSES, Challenge, SignedIn, Step
from .stores import DeviceStore, MemoryDeviceStore, TokenStore

__all__ = ["Session"]

logger = logging.getLogger("aiocognito.session")

_T = TypeVar("_T")
#: Seconds of validity below which access_token() no longer hands out a token it could not refresh.
_EXPIRY_SAFETY = 10.0

# The challenges the flow answers with SRP math (a modular exponentiation or two).
_SRP_CHALLENGES = frozenset({"PASSWORD_VERIFIER", "DEVICE_SRP_AUTH", "DEVICE_PASSWORD_VERIFIER"})

_SESSION_EXPIRED = "the sign-in session expired or was already used: call sign_in() again"
_DEVICE_GONE = "the remembered device is unknown to the user pool and was forgotten: call sign_in() again"
_REFRESH_REJECTED = "the refresh token was rejected: sign in again"
_TOKEN_STORE_VERSION = 1


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Session(AccountFlows, RememberedDevices):
    """Sign-in, tokens and devices for one user of one app client, and the account flows around sign-in
    (sign-up, password recovery, attributes, MFA settings, TOTP, deletion: see ``account.AccountFlows``).

    Create it with ``cognito.session(user_pool_id=..., client_id=...)``; ids that cannot be a user pool
    or app client id raise ParamValidationError there, before anything is sent.

    Args:
        client: the ``CognitoClient`` that sends the requests.
        user_pool_id: the pool (``us-east-1_AbC``).
        client_id: the app client.
        client_secret: the app client's secret, if it has one (SECRET_HASH on every request).
        device_store: where remembered devices live (default: in memory).
        token_store: where tokens are saved after sign-in and refresh (default: nowhere); see :meth:`load`.
        refresh_lock: a lock shared by every process using ``token_store`` (``RedisRefreshLock``), so that
            one refresh serves them all; the store must then have ``save_if`` (``RedisTokenStore``).
        admin: use AdminInitiateAuth/AdminRespondToAuthChallenge (needs AWS credentials).
        refresh_token_rotation: None (default) refreshes with GetTokensFromRefreshToken, falling back to
            REFRESH_TOKEN_AUTH where the endpoint lacks it; True forces GetTokensFromRefreshToken, False
            forces (Admin)InitiateAuth REFRESH_TOKEN_AUTH (refused by clients with rotation).
        refresh_margin: refresh this many seconds before expiry (capped at half the token lifetime).
        srp_ephemeral_bytes: size of the random SRP exponent (32 bytes; AWS's JS client uses 128).
        clock: aware UTC "now" for SRP timestamps and the wall-clock receipt time.
        monotonic: monotonic seconds for token expiry.
        random_bytes: randomness for SRP and device passwords.
    """

    def __init__(
        self,
        client: Any,
        *,
        user_pool_id: str,
        client_id: str,
        client_secret: str | None = None,
        device_store: DeviceStore | None = None,
        token_store: TokenStore | None = None,
        refresh_lock: RefreshLock | None = None,
        admin: bool = False,
        refresh_token_rotation: bool | None = None,
        refresh_margin: float = 300.0,
        srp_ephemeral_bytes: int = DEFAULT_EPHEMERAL_BYTES,
        clock: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        if refresh_margin < 0:
            raise ConfigurationError("refresh_margin must be >= 0")
        if refresh_lock is not None and not isinstance(token_store, FencedTokenStore):
            raise ConfigurationError("refresh_lock needs a token_store with save_if (RedisTokenStore)")
        self._client = client
        self.config = ClientConfig(
            user_pool_id=check_user_pool_id(user_pool_id),
            client_id=check_client_id(client_id),
            client_secret=client_secret,
            admin=admin,
            srp_ephemeral_bytes=srp_ephemeral_bytes,
        )
        self._devices: DeviceStore = device_store if device_store is not None else MemoryDeviceStore()
        self._token_store = token_store
        self._refresh_lock = refresh_lock
        # How refreshes go: True GetTokensFromRefreshToken, False REFRESH_TOKEN_AUTH, None not known yet.
        self._rotation = refresh_token_rotation
        self._rotation_fixed = refresh_token_rotation is not None
        self._margin = refresh_margin
        self._clock = clock
        self._monotonic = monotonic
        self._random_bytes = random_bytes
        self._tokens: TokenSet | None = None
        self._username: str | None = None  # the identifier sign_in()/load() was given
        self._device_key: str | None = None  # device of this sign-in (used or confirmed)
        self._new_device: NewDevice | None = None
        self._refresh_task: asyncio.Task[TokenSet] | None = None

    def __repr__(self) -> str:
        state = "signed in" if self._tokens is not None else "signed out"
        return f"<Session pool={self.config.user_pool_id!r} client={self.config.client_id!r} {state}>"

    # -- state -----------------------------------------------------------------------------------------

    @property
    def tokens(self) -> TokenSet | None:
        """The current tokens (possibly expired: use :meth:`access_token` for a fresh one), or None."""
        return self._tokens

    @property
    def username(self) -> str | None:
        """The real username of the signed-in user (from the tokens), else the sign-in identifier."""
        if self._tokens is not None and self._tokens.username:
            return self._tokens.username
        return self._username

    @property
    def device_key(self) -> str | None:
        """The remembered device this session uses, if any."""
        return self._device_key

    # -- sending ---------------------------------------------------------------------------------------

    async def _run(self, srp: bool, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
        """Run a step of the pure flow; one with SRP math runs on the SRP thread (see ``_srp_executor``)."""
        if not srp:
            return fn(*args, **kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(srp_executor(), functools.partial(fn, *args, **kwargs))

    async def _call(self, request: Request) -> dict[str, Any]:
        response = await self._client.call(request.operation, **request.params)
        return response if isinstance(response, dict) else {}

    async def _drive(
        self, flow: SignInFlow, request: Request, *, password: str | None
    ) -> tuple[Authenticated | PendingChallenge | SoftwareTokenAssociated, float, float]:
        """Send, feed the answer to the flow, repeat until it needs the caller or has tokens.

        Returns the event and the wall/monotonic clocks read when the last answer arrived.
        """
        while True:
            logger.debug("sign-in: %s", request.operation)
            try:
                response = await self._call(request)
            except ServiceError as exc:
                action = flow.receive_error(exc.code, exc.message)
                if action is ErrorAction.RAISE:
                    raise
                if action is ErrorAction.SESSION_EXPIRED:
                    raise SessionExpiredError(_SESSION_EXPIRED) from exc
                await self._forget_device_locally(
                    [flow.username, flow.challenge_username, self._username or ""], device_key=flow.device_key
                )
                if action is ErrorAction.DEVICE_GONE:
                    raise SessionExpiredError(_DEVICE_GONE) from exc
                logger.info("sign-in: the remembered device is unknown to the pool; retrying without it")
                request = await self._run(
                    True, flow.restart_without_device, password=password, random_bytes=self._random_bytes
                )
                continue
            now = self._clock()
            wall, mono = now.timestamp(), self._monotonic()
            name = response.get("ChallengeName")
            event = await self._run(
                isinstance(name, str) and name in _SRP_CHALLENGES,
                flow.receive,
                response,
                password=password,
                now=now,
                random_bytes=self._random_bytes,
            )
            if not isinstance(event, Request):
                return event, wall, mono
            request = event

    async def _step(
        self,
        event: Authenticated | PendingChallenge | SoftwareTokenAssociated,
        wall: float,
        mono: float,
        username: str,
    ) -> Step:
        if isinstance(event, Authenticated):
            tokens = TokenSet.from_authentication_result(
                event.result, received_at=wall, received_monotonic=mono
            )
            self._tokens, self._username = tokens, username
            self._device_key = tokens.device_key or event.device_key
            self._new_device = event.new_device
            await self._save_tokens()
            logger.debug("sign-in: signed in")
            return SignedIn(tokens, event.new_device)
        if isinstance(event, PendingChallenge):
            logger.debug("sign-in: challenge %s", event.name)
            return STEP_CLASSES.get(event.name, Challenge)(self, event)
        raise ProtocolError("unexpected AssociateSoftwareToken answer")

    # -- sign-in ---------------------------------------------------------------------------------------

    async def sign_in(
        self,
        username: str,
        password: str | None = None,
        *,
        flow: str = "USER_SRP_AUTH",
        preferred_challenge: str | None = None,
        custom_srp: bool = False,
        client_metadata: Mapping[str, str] | None = None,
    ) -> Step:
        """Start a sign-in; return :class:`SignedIn` or the first challenge to answer.

        Args:
            username: what the user typed (username or alias).
            password: needed by USER_SRP_AUTH, the password flows, ``custom_srp`` and USER_AUTH with a
                password preference; used within this call only.
            flow: USER_SRP_AUTH (default), USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH (admin sessions),
                CUSTOM_AUTH or USER_AUTH.
            preferred_challenge: USER_AUTH only: PASSWORD, PASSWORD_SRP, EMAIL_OTP, SMS_OTP, WEB_AUTHN.
            custom_srp: CUSTOM_AUTH only: start with SRP (CHALLENGE_NAME=SRP_A).
            client_metadata: passed to the pool's Lambda triggers on every request.

        Raises:
            ParamValidationError: the arguments do not fit the flow (nothing was sent).
            ServiceError: Cognito refused (``NotAuthorizedException`` for a wrong password...).
            SessionExpiredError: the challenge session ran out during the automatic steps.
        """
        device = (
            await self._devices.get(self.config.user_pool_id, username) if isinstance(username, str) else None
        )
        machine = SignInFlow(self.config, device=device)
        srp = flow == "USER_SRP_AUTH" or custom_srp or preferred_challenge == "PASSWORD_SRP"
        request = await self._run(
            srp,
            machine.initiate,
            username,
            flow=flow,
            password=password,
            preferred_challenge=preferred_challenge,
            custom_srp=custom_srp,
            client_metadata=client_metadata,
            random_bytes=self._random_bytes,
        )
        event, wall, mono = await self._drive(machine, request, password=password)
        return await self._step(event, wall, mono, username)

    async def resume(self, data: Mapping[str, Any]) -> Step:
        """The challenge step saved with ``step.to_dict()`` (maybe in another worker), ready to answer.

        Raises:
            ParamValidationError: ``data`` is not a saved challenge, or is for another pool or app client.
        """
        challenge = PendingChallenge.from_dict(data)
        challenge.check_client(self.config)
        return STEP_CLASSES.get(challenge.name, Challenge)(self, challenge)

    async def _flow_for(self, challenge: PendingChallenge) -> SignInFlow:
        device = None
        if challenge.device_key:
            for name in dict.fromkeys((challenge.username, challenge.challenge_username)):
                device = await self._devices.get(self.config.user_pool_id, name)
                if device is not None and device.device_key == challenge.device_key:
                    break
        return SignInFlow.resume(self.config, challenge, device=device)

    async def _answer(self, challenge: PendingChallenge, answer: Answer, *, password: str | None) -> Step:
        flow = await self._flow_for(challenge)
        srp = isinstance(answer, ChallengeChoice) and answer.choice == "PASSWORD_SRP"
        request = await self._run(srp, flow.answer, answer, random_bytes=self._random_bytes)
        event, wall, mono = await self._drive(flow, request, password=password)
        return await self._step(event, wall, mono, challenge.username)

    async def _associate(self, challenge: PendingChallenge) -> SoftwareTokenAssociated:
        flow = await self._flow_for(challenge)
        request = flow.answer(AssociateSoftwareToken(), random_bytes=self._random_bytes)
        event, _, _ = await self._drive(flow, request, password=None)
        if not isinstance(event, SoftwareTokenAssociated):
            raise ProtocolError("AssociateSoftwareToken gave no secret")
        return event

    # -- tokens ----------------------------------------------------------------------------------------

    def _store_key(self, username: str) -> str:
        return f"{self.config.user_pool_id}:{self.config.client_id}:{username}"

    def _record(self, tokens: TokenSet) -> dict[str, Any]:
        return {
            "version": _TOKEN_STORE_VERSION,
            "username": self._username,
            "device_key": self._device_key,
            "tokens": tokens.to_dict(),
        }

    def _read_record(self, data: Mapping[str, Any]) -> TokenSet:
        """The tokens of a saved record. Raises ValueError, KeyError, TypeError, AttributeError."""
        if data.get("version") != _TOKEN_STORE_VERSION:
            raise ValueError("unknown version")
        return TokenSet.from_dict(
            data["tokens"], wall_now=self._clock().timestamp(), monotonic_now=self._monotonic()
        )

    async def _save_tokens(self) -> None:
        if self._token_store is None or self._tokens is None or not self._username:
            return
        await self._token_store.save(self._store_key(self._username), self._record(self._tokens))

    async def _clear_tokens(self) -> None:
        self._tokens = None
        self._new_device = None
        if self._token_store is not None and self._username:
            await self._token_store.delete(self._store_key(self._username))

    async def use_tokens(self, tokens: TokenSet, *, username: str | None = None) -> None:
        """Carry on with tokens this session did not sign in for (a bearer token a web request brought,
        tokens from managed login): ``access_token()``, the account flows, refresh (when ``tokens`` has a
        refresh token) and sign-out then work as after :meth:`sign_in`. Saved to the token store, if any.

        Raises:
            ParamValidationError: the tokens name no user and ``username`` is not given.
        """
        name = username or tokens.username
        if not name:
            raise ParamValidationError("use_tokens", ["the tokens name no user: pass username="])
        self._tokens, self._username = tokens, name
        self._device_key, self._new_device = tokens.device_key, None
        await self._save_tokens()

    async def load(self, username: str) -> bool:
        """Restore the tokens saved for ``username`` (the identifier given to ``sign_in``) from the
        token store, so a restarted worker needs no new sign-in. Returns False when nothing is saved.

        Raises:
            ConfigurationError: the session has no token store.
        """
        if self._token_store is None:
            raise ConfigurationError("load() needs a token_store")
        data = await self._token_store.load(self._store_key(username))
        if data is None:
            return False
        try:
            tokens = self._read_record(data)
        except (ValueError, KeyError, TypeError, AttributeError):
            logger.warning("discarding unreadable saved tokens")
            await self._token_store.delete(self._store_key(username))
            return False
        device_key = data.get("device_key")
        self._tokens, self._username = tokens, username
        self._device_key = device_key if isinstance(device_key, str) and device_key else tokens.device_key
        return True

    def _needs_refresh(self, tokens: TokenSet) -> bool:
        return tokens.needs_refresh(self._monotonic(), min(self._margin, tokens.expires_in / 2))

    async def _fresh_tokens(self) -> TokenSet:
        tokens = self._tokens
        if tokens is None:
            raise SignInRequired("not signed in: call sign_in() (or load())")
        if self._needs_refresh(tokens):
            try:
                return await self._shared_refresh()
            except SignInRequired:
                raise
            except CognitoError as exc:
                # A passing failure (throttling, 5xx, network) while the tokens still have time left:
                # use them; the next call tries the refresh again.
                if tokens.seconds_left(self._monotonic()) <= _EXPIRY_SAFETY:
                    raise
                logger.warning("refresh failed (%s); the current tokens are still valid", type(exc).__name__)
        return tokens

    async def access_token(self) -> str:
        """A valid access token, refreshed first when it is within the refresh margin of expiry.

        When the refresh fails for a passing reason (throttling, 5xx, network) and the current token still
        has more than 10 seconds left, that token is returned and the next call tries again.

        Raises:
            SignInRequired: not signed in, or the refresh token was rejected (the tokens are cleared).
            CognitoError: the refresh failed for a passing reason and the token is about to expire.
        """
        return (await self._fresh_tokens()).access_token

    async def id_token(self) -> str:
        """A valid ID token (see :meth:`access_token`).

        Raises:
            SignInRequired: as :meth:`access_token`, or the tokens came without an ID token.
        """
        tokens = await self._fresh_tokens()
        if not tokens.id_token:
            raise SignInRequired("these tokens have no ID token (an access token alone): sign in for one")
        return tokens.id_token

    async def refresh(self) -> TokenSet:
        """Refresh now (joining a refresh already running) and return the new tokens.

        Raises:
            SignInRequired: not signed in, no refresh token, or the refresh token was rejected.
        """
        return await self._shared_refresh()

    async def _shared_refresh(self) -> TokenSet:
        """Single flight: every concurrent caller awaits the same refresh task.

        The task is shielded, so a caller that is cancelled does not abort the refresh for the others (an
        abandoned rotating refresh could otherwise burn the refresh token).
        """
        task = self._refresh_task
        if task is None:
            task = asyncio.get_running_loop().create_task(self._refresh_now())
            self._refresh_task = task
            task.add_done_callback(self._refresh_finished)
        return await asyncio.shield(task)

    def _refresh_finished(self, task: asyncio.Task[TokenSet]) -> None:
        if self._refresh_task is task:
            self._refresh_task = None
        if not task.cancelled():
            task.exception()  # retrieved here, so an unawaited failure does not log "never retrieved"

    async def _refresh_now(self) -> TokenSet:
        tokens = self._tokens
        if tokens is None:
            raise SignInRequired("not signed in: call sign_in() (or load())")
        if self._refresh_lock is not None and self._username:
            return await self._refresh_across_processes(tokens, self._refresh_lock)
        new = await self._refreshed(tokens, tokens)
        if self._tokens is tokens:  # not signed out or signed in again meanwhile
            self._tokens = new
            await self._save_tokens()
        return new

    async def _saved(self, key: str) -> TokenSet | None:
        assert self._token_store is not None
        data = await self._token_store.load(key)
        try:
            return None if data is None else self._read_record(data)
        except (ValueError, KeyError, TypeError, AttributeError):
            logger.warning("ignoring unreadable saved tokens")
            return None

    def _adopt(self, tokens: TokenSet, new: TokenSet) -> TokenSet:
        if self._tokens is tokens:  # not signed out or signed in again meanwhile
            self._tokens = new
        return new

    async def _refresh_across_processes(self, tokens: TokenSet, lock: RefreshLock) -> TokenSet:
        """One refresh for every process sharing the token store (the steps: ``refresh_lock.py``)."""
        store, key = self._token_store, self._store_key(self._username or "")
        assert isinstance(store, FencedTokenStore)
        base = newest(tokens, await self._saved(key))
        if adoptable(tokens, base, self._needs_refresh):
            return self._adopt(tokens, base)  # another process refreshed: no lock, no call
        async with lock.holding(key) as fence:
            base = newest(tokens, await self._saved(key))  # the holder before us may just have saved
            if adoptable(tokens, base, self._needs_refresh):
                return self._adopt(tokens, base)
            new = await self._refreshed(base, tokens)
            if await store.save_if(key, self._record(new), fence=fence):
                return self._adopt(tokens, new)
        # Refused: our lease ran out while refreshing, and a later holder (higher fence) saved first.
        logger.warning("refresh: a later lock holder saved its tokens first; using those")
        return self._adopt(tokens, await self._saved(key) or new)

    async def _refreshed(self, tokens: TokenSet, current: TokenSet) -> TokenSet:
        """New tokens from ``tokens``' refresh token (``current``: the session's, cleared if rejected)."""
        if not tokens.refresh_token:
            raise SignInRequired("these tokens have no refresh token: sign in again")
        rotation = self._rotation is not False
        try:
            response = await self._send_refresh(tokens, current, rotation=rotation)
        except CognitoError as exc:
            if self._rotation_fixed or not rotation or not refresh_unavailable(exc):
                raise
            logger.info("refresh: GetTokensFromRefreshToken is not offered here; using REFRESH_TOKEN_AUTH")
            rotation = False
            response = await self._send_refresh(tokens, current, rotation=rotation)
        self._rotation = rotation  # remembered: later refreshes go the way that worked
        wall, mono = self._clock().timestamp(), self._monotonic()
        result = response.get("AuthenticationResult")
        if not isinstance(result, Mapping):
            raise ProtocolError("the refresh answer has no AuthenticationResult")
        return TokenSet.from_authentication_result(
            result, received_at=wall, received_monotonic=mono, previous=tokens
        )

    async def _send_refresh(self, tokens: TokenSet, current: TokenSet, *, rotation: bool) -> dict[str, Any]:
        """One refresh call; a refresh token the service rejects clears the tokens (SignInRequired)."""
        assert tokens.refresh_token
        request = refresh_request(
            self.config,
            refresh_token=tokens.refresh_token,
            username=tokens.username or self._username,
            device_key=tokens.device_key or self._device_key,
            rotation=rotation,
        )
        logger.debug("refresh: %s", request.operation)
        try:
            return await self._call(request)
        except ServiceError as exc:
            if exc.code in ("NotAuthorizedException", "RefreshTokenReuseException"):
                if self._tokens is current:
                    await self._clear_tokens()
                raise SignInRequired(_REFRESH_REJECTED) from exc
            raise

    async def sign_out(self, *, everywhere: bool = False) -> None:
        """Sign out: RevokeToken on the refresh token, or GlobalSignOut (every session of the user) with
        ``everywhere=True``. The local tokens are cleared even when the call fails (the error is raised)."""
        tokens = self._tokens
        if tokens is None:
            return
        try:
            if everywhere:
                try:
                    fresh = await self._fresh_tokens()
                except SignInRequired:
                    return  # the refresh token is already dead
                await self._call(Request("GlobalSignOut", {"AccessToken": fresh.access_token}))
            elif tokens.refresh_token:
                params: dict[str, Any] = {"Token": tokens.refresh_token, "ClientId": self.config.client_id}
                if self.config.client_secret is not None:
                    params["ClientSecret"] = self.config.client_secret
                await self._call(Request("RevokeToken", params))
        finally:
            await self._clear_tokens()
