"""``LocalUserPool``: Cognito's wire protocol on 127.0.0.1, every operation of the model answered.

One aiohttp server answers ``POST /`` (JSON 1.1, ``X-Amz-Target: AWSCognitoIdentityProviderService.<Op>``).
Each request is checked against the operation's input shape (``_shapes``), then routed: sign-in (``_auth``),
MFA settings and TOTP (``_mfa``), devices (``_devices``), tokens (``_token_ops``), sign-up and recovery
codes (``_codes``), a user's own account (``_user_ops``), and everything else to the handlers of ``_api``
(pools, app clients, users, groups, ...). The state is the pool's own (``_state``, ``_records``).
``GET /{user_pool_id}/.well-known/jwks.json`` serves the pool's keys; tokens say
``iss = {endpoint_url}/{user_pool_id}`` (the local issuer).

Errors are Cognito's: HTTP 400 ``{"__type": "<Code>", "message": "..."}`` with ``x-amzn-ErrorType``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pyotp
from aiohttp import web

from .. import errors
from .._errors import ServiceError
from . import _api, _rules, _shapes
from ._api import import_jobs, recovery
from ._auth import AuthService
from ._codes import CodeService
from ._constants import LOCAL_CREDENTIALS, UPLOAD_PATH
from ._devices import DeviceService
from ._faults import FaultEvent, FaultInjector, FaultPlan
from ._issuer import TokenIssuer
from ._lookups import Lookups
from ._managed_login import PATH_PREFIX, ManagedLogin, add_routes, openid_configuration
from ._mfa import MfaService
from ._refresh_auth import RefreshAuth
from ._sessions import ChallengeSessions
from ._state import CustomChallengeFactory, OutboxMessage, PoolState
from ._throttle import CategoryThrottle
from ._token_ops import TokenOperations
from ._triggers import TriggerRegistry
from ._user_ops import UserOperations

if TYPE_CHECKING:
    from .._wire.client import CognitoClient

__all__ = ["LocalUserPool", "AppClient", "serve"]

logger = logging.getLogger("aiocognito.testing")

TARGET_PREFIX = "AWSCognitoIdentityProviderService"
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"

#: (status, headers, body) of one answer.
Reply = tuple[int, list[tuple[str, str]], bytes]


def error_reply(status: int, code: str, message: str) -> Reply:
    """A Cognito error answer: ``{"__type": code, "message": ...}`` with ``x-amzn-ErrorType``."""
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, [("Content-Type", JSON_CONTENT_TYPE), ("x-amzn-ErrorType", f"{code}:")], body


@dataclass(frozen=True)
class AppClient:
    """An app client made by :meth:`LocalUserPool.create_app_client`."""

    user_pool_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)


class LocalUserPool:
    """A local Cognito user pool server (an async context manager).

    Args:
        host, port: where to listen (port 0: a free port; see :attr:`endpoint_url`).
        region: the region of the helpers' calls (pools made through a client use that client's region).
        faults: a :class:`FaultPlan` to inject faults from the start (see :attr:`faults`).
        clock: the pool's wall clock (Unix seconds); :meth:`advance_clock` adds an offset to it.
        custom_challenge: makes CUSTOM_AUTH challenges ``(username, round) -> CustomChallenge``; the
            default emails a 6-digit code to the outbox and expects it back.
        account_id: the AWS account id in ARNs (default: a random 12-digit one per instance).
        quotas: requests per second per quota category (``{"UserCreation": 20}``): above it a call is refused
            with ``TooManyRequestsException``, as Cognito does. A category not given here is held to its
            provisioned limit once ``UpdateProvisionedLimit`` sets one, else not throttled (``_throttle``).
        triggers: the Lambda triggers as Python callables, ``{"PreSignUp": fn, ...}`` (every pool) or by
            function ARN (the pools whose LambdaConfig names it), or an object with those attributes;
            :meth:`set_triggers` sets one pool's. See ``_triggers``.

    Example::

        async with LocalUserPool() as local:
            pool_id = await local.create_user_pool(mfa="OPTIONAL")
            app = await local.create_app_client(pool_id)
            await local.create_user(pool_id, "alice", "Passw0rd!")
            async with local.client() as cognito:
                ...
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        region: str = "us-east-1",
        faults: FaultPlan | None = None,
        clock: Callable[[], float] = time.time,
        custom_challenge: CustomChallengeFactory | None = None,
        account_id: str | None = None,
        quotas: Mapping[str, float] | None = None,
        triggers: object = None,
    ) -> None:
        self.host = host
        self.port = port
        self.region = region
        self._state = PoolState(account_id=account_id, clock=clock, custom_challenge=custom_challenge)
        self._issuer = TokenIssuer(self._state)
        self.triggers = TriggerRegistry.install(self._state, triggers)
        self._lookups = Lookups(self._state, self._issuer)
        self._sessions = ChallengeSessions(self._state, self._lookups)
        self._devices = DeviceService(self._state, self._lookups)
        self._mfa = MfaService(self._state, self._lookups, self._sessions)
        self._refresh = RefreshAuth(self._issuer, self._lookups)
        self._auth = AuthService(
            self._state, self._issuer, self._lookups, self._sessions, self._devices, self._mfa, self._refresh
        )
        self._tokens = TokenOperations(self._state, self._issuer, self._lookups, self._refresh, self._mfa)
        self._codes = CodeService(self._state, self._lookups)
        self._user_ops = UserOperations(self._state, self._issuer, self._lookups)
        self._injector: FaultInjector | None = FaultInjector(faults) if faults else None
        #: Refuses calls over their category's rate (``quota_throttle.refused`` counts them per category).
        self.quota_throttle = CategoryThrottle(
            quotas, lambda: self._state.account_settings.get("provisioned_limits", {})
        )
        self._runner: web.AppRunner | None = None
        self._closed = False
        self.request_count = 0
        a, m, d, t, c, u = self._auth, self._mfa, self._devices, self._tokens, self._codes, self._user_ops
        self._own: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
            "InitiateAuth": lambda p: a.initiate_auth(p, admin=False),
            "AdminInitiateAuth": lambda p: a.initiate_auth(p, admin=True),
            "RespondToAuthChallenge": lambda p: a.respond_to_auth_challenge(p, admin=False),
            "AdminRespondToAuthChallenge": lambda p: a.respond_to_auth_challenge(p, admin=True),
            "AssociateSoftwareToken": m.associate_software_token,
            "VerifySoftwareToken": m.verify_software_token,
            "SetUserMFAPreference": lambda p: m.set_user_mfa_preference(p, admin=False),
            "AdminSetUserMFAPreference": lambda p: m.set_user_mfa_preference(p, admin=True),
            "ConfirmDevice": d.confirm_device,
            "UpdateDeviceStatus": lambda p: d.update_device_status(p, admin=False),
            "AdminUpdateDeviceStatus": lambda p: d.update_device_status(p, admin=True),
            "GetDevice": lambda p: d.get_device(p, admin=False),
            "AdminGetDevice": lambda p: d.get_device(p, admin=True),
            "ListDevices": lambda p: d.list_devices(p, admin=False),
            "AdminListDevices": lambda p: d.list_devices(p, admin=True),
            "ForgetDevice": lambda p: d.forget_device(p, admin=False),
            "AdminForgetDevice": lambda p: d.forget_device(p, admin=True),
            "GetTokensFromRefreshToken": t.get_tokens_from_refresh_token,
            "RevokeToken": t.revoke_token,
            "GlobalSignOut": lambda p: t.global_sign_out(p, admin=False),
            "AdminUserGlobalSignOut": lambda p: t.global_sign_out(p, admin=True),
            "GetUser": t.get_user,
            "SignUp": c.sign_up,
            "ConfirmSignUp": c.confirm_sign_up,
            "ResendConfirmationCode": c.resend_confirmation_code,
            "ForgotPassword": c.forgot_password,
            "ConfirmForgotPassword": c.confirm_forgot_password,
            "UpdateUserAttributes": lambda p: u.update_user_attributes(p, admin=False),
            "AdminUpdateUserAttributes": lambda p: u.update_user_attributes(p, admin=True),
            "GetUserAttributeVerificationCode": u.get_user_attribute_verification_code,
            "VerifyUserAttribute": u.verify_user_attribute,
            "DeleteUserAttributes": u.delete_user_attributes,
            "DeleteUser": u.delete_user,
        }
        context = _api.Context(self._state, self._lookups, self._issuer, self._mfa, self._codes)
        for name, route in _api.routes().items():
            if name in self._own:
                raise RuntimeError(f"{name} is routed twice")
            self._own[name] = functools.partial(route, context)
        m_args = (self._state, self._issuer, self._lookups, self._sessions, self._mfa, self._refresh, context)
        self._managed_login = ManagedLogin(*m_args)  # the domains' pages and OAuth endpoints

    def __repr__(self) -> str:
        return f"<LocalUserPool {self.endpoint_url if self._runner else 'not started'}>"

    # ===== lifetime =======================================================================================
    async def start(self) -> LocalUserPool:
        """Start listening. Idempotent."""
        if self._runner is not None:
            return self
        app = web.Application(client_max_size=1 << 20)
        app.router.add_post("/", self._handle_api)
        app.router.add_get("/{pool_id}/.well-known/jwks.json", self._handle_jwks)
        app.router.add_get("/{pool_id}/.well-known/openid-configuration", self._handle_openid)
        app.router.add_put(f"{UPLOAD_PATH}/{{job_id}}", self._handle_upload)
        add_routes(app, self._managed_login)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        await site.start()
        self._runner = runner
        if self.port == 0 and runner.addresses:
            self.port = int(runner.addresses[0][1])
        self._state.endpoint_url = self.endpoint_url
        return self

    async def close(self) -> None:
        """Stop the server and drop this pool's data. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._runner is not None:
            await self._runner.cleanup()
        self._state.pools.clear()

    async def __aenter__(self) -> LocalUserPool:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>``: pass it as a client's ``endpoint_url``."""
        return f"http://{self.host}:{self.port}"

    def issuer(self, user_pool_id: str) -> str:
        """The ``iss`` of this pool's tokens (the local issuer)."""
        return self._state.issuer(user_pool_id)

    def jwks_url(self, user_pool_id: str) -> str:
        return f"{self.issuer(user_pool_id)}/.well-known/jwks.json"

    def domain_url(self, domain: str) -> str:
        """Where a user pool domain (prefix or custom) serves managed login, as ``https://<domain>``."""
        return f"{self.endpoint_url}{PATH_PREFIX}/{domain}"

    def client(self, **options: Any) -> CognitoClient:
        """A :class:`~aiocognito.CognitoClient` for this pool (dummy credentials); close it when done."""
        from .._wire.client import CognitoClient

        options.setdefault("region", self.region)
        options.setdefault("credentials", LOCAL_CREDENTIALS)
        return CognitoClient(endpoint_url=self.endpoint_url, **options)

    # ===== faults and time ================================================================================
    @property
    def faults(self) -> FaultPlan | None:
        """The fault plan in force (None: no faults). Setting it starts a fresh, seeded injector."""
        return self._injector.plan if self._injector else None

    @faults.setter
    def faults(self, plan: FaultPlan | None) -> None:
        self._injector = FaultInjector(plan) if plan else None

    @property
    def fault_log(self) -> list[FaultEvent]:
        """Every fault injected under the current plan."""
        return list(self._injector.log) if self._injector else []

    def advance_clock(self, seconds: float) -> None:
        """Move the pool's clock forward (sessions, codes, tokens and TIMESTAMP checks follow it)."""
        self._state.clock_offset += seconds

    def now(self) -> float:
        return self._state.now()

    def set_triggers(self, user_pool_id: str | None, triggers: object) -> None:
        """The trigger callables of one pool (None: of every pool), replacing the earlier ones."""
        self.triggers.set(user_pool_id, triggers)

    def set_token_lifetimes(
        self,
        client_id: str,
        *,
        access: int | None = None,
        id_token: int | None = None,
        refresh: int | None = None,
    ) -> None:
        """Test control: an app client's token lifetimes in seconds, below Cognito's floors if a test needs
        tokens that expire at once (CreateUserPoolClient refuses those, as Cognito does)."""
        found = self._state.app_client(client_id)
        if found is None:
            raise LookupError(f"no app client {client_id}")
        config = found[1].config
        units = config.setdefault("TokenValidityUnits", {})
        for member, unit, seconds in (
            ("AccessTokenValidity", "AccessToken", access),
            ("IdTokenValidity", "IdToken", id_token),
            ("RefreshTokenValidity", "RefreshToken", refresh),
        ):
            if seconds is not None:
                config[member] = seconds
                units[unit] = "seconds"

    # ===== inspection =====================================================================================
    @property
    def outbox(self) -> list[OutboxMessage]:
        """Every SMS and email the pool sent, oldest first."""
        return list(self._state.outbox)

    def messages(self, username: str | None = None, *, purpose: str | None = None) -> list[OutboxMessage]:
        return [
            m
            for m in self._state.outbox
            if (username is None or m.username == username or m.destination == username)
            and (purpose is None or m.purpose == purpose)
        ]

    def last_code(self, username: str | None = None, *, purpose: str | None = None) -> str:
        """The code of the latest outbox message (for ``username`` / ``purpose``). LookupError if none."""
        found = self.messages(username, purpose=purpose)
        if not found:
            raise LookupError(f"no message for {username or 'anyone'} in the outbox")
        return found[-1].code

    def _user_key(self, username: str, user_pool_id: str | None) -> tuple[str, str]:
        pools = [self._state.user_pool(user_pool_id)] if user_pool_id else list(self._state.pools.values())
        hits = [
            (p.id, u.sub) for p in pools if p is not None for u in [_rules.resolve_user(p, username)] if u
        ]
        if len(hits) != 1:
            raise LookupError(f"{len(hits)} users named {username!r}; pass user_pool_id")
        return hits[0]

    def totp_secret(self, username: str, *, user_pool_id: str | None = None) -> str:
        """The user's TOTP secret (the verified one, else the one waiting for VerifySoftwareToken)."""
        user_secrets = self._state.secrets_for(self._user_key(username, user_pool_id))
        secret = user_secrets.totp_secret or user_secrets.pending_totp_secret
        if secret is None:
            raise LookupError(f"{username!r} has no TOTP secret")
        return secret

    def totp_code(self, username: str, *, user_pool_id: str | None = None, secret: str | None = None) -> str:
        """A TOTP code the pool will accept now: the current step's, or the next one's when that was used.

        ``secret`` overrides the user's stored secret (e.g. the SecretCode of an MFA_SETUP in progress).
        """
        key = self._user_key(username, user_pool_id)
        secret = secret or self.totp_secret(username, user_pool_id=user_pool_id)
        step = max(int(self.now() // 30), self._state.secrets_for(key).last_totp_step + 1)
        if step > int(self.now() // 30) + 1:
            raise LookupError("every code within the accepted window was used: advance_clock(30)")
        return pyotp.TOTP(secret).at(step * 30)

    # ===== setup helpers (in-process calls, no faults) ====================================================
    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call an operation in-process (no HTTP, no faults); typed errors as a client would get them."""
        status, _headers, payload = self._dispatch(operation, json.dumps(params).encode(), {})
        body: dict[str, Any] = json.loads(payload) if payload else {}
        if status != 200:
            code = str(body.get("__type", "InternalErrorException"))
            raise errors.error_class(code)(
                str(body.get("message", "")), code=code, operation=operation, status=status
            )
        return body

    async def create_user_pool(
        self,
        name: str = "local-pool",
        *,
        mfa: str = "OFF",
        totp: bool = True,
        sms: bool = False,
        email_mfa: bool = False,
        device_tracking: str | None = None,
        username_attributes: list[str] | None = None,
        alias_attributes: list[str] | None = None,
        required_attributes: tuple[str, ...] = (),
        **extra: Any,
    ) -> str:
        """Create a user pool; returns its id.

        Args:
            mfa: ``OFF``, ``OPTIONAL`` or ``ON``; ``totp``/``sms``/``email_mfa`` pick the factors offered.
            device_tracking: None (off), ``"always"`` (devices remembered at ConfirmDevice) or
                ``"opt-in"`` (remembered after UpdateDeviceStatus).
            required_attributes: standard attributes users must have (``"email"``, ...).
            extra: more CreateUserPool parameters.
        """
        params: dict[str, Any] = {"PoolName": name, "MfaConfiguration": mfa, **extra}
        if device_tracking is not None:
            params["DeviceConfiguration"] = {
                "ChallengeRequiredOnNewDevice": True,
                "DeviceOnlyRememberedOnUserPrompt": device_tracking != "always",
            }
        if username_attributes:
            params["UsernameAttributes"] = username_attributes
        if alias_attributes:
            params["AliasAttributes"] = alias_attributes
        if required_attributes:
            params["Schema"] = [
                {"Name": n, "AttributeDataType": "String", "Mutable": True, "Required": True}
                for n in required_attributes
            ]
        pool_id = str((await self.call("CreateUserPool", **params))["UserPool"]["Id"])
        if mfa != "OFF":
            config: dict[str, Any] = {"MfaConfiguration": mfa, "UserPoolId": pool_id}
            config["SoftwareTokenMfaConfiguration"] = {"Enabled": totp}
            if sms:
                config["SmsMfaConfiguration"] = {
                    "SmsAuthenticationMessage": "Your code is {####}",
                    "SmsConfiguration": {
                        "SnsCallerArn": "arn:aws:iam::000000000000:role/sns",
                        "ExternalId": "local",
                    },
                }
            if email_mfa:
                config["EmailMfaConfiguration"] = {"Message": "Your code is {####}", "Subject": "Your code"}
            await self.call("SetUserPoolMfaConfig", **config)
        return pool_id

    async def create_app_client(
        self,
        user_pool_id: str,
        name: str = "local-app",
        *,
        secret: bool = False,
        flows: tuple[str, ...] = ("ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"),
        rotation: bool = False,
        grace_seconds: int = 0,
        **extra: Any,
    ) -> AppClient:
        """Create an app client (``flows`` are ExplicitAuthFlows; ``rotation`` turns on refresh-token rotation)."""
        params: dict[str, Any] = {
            "UserPoolId": user_pool_id,
            "ClientName": name,
            "GenerateSecret": secret,
            "ExplicitAuthFlows": list(flows),
            **extra,
        }
        if rotation:
            params["RefreshTokenRotation"] = {"Feature": "ENABLED", "RetryGracePeriodSeconds": grace_seconds}
        created = (await self.call("CreateUserPoolClient", **params))["UserPoolClient"]
        return AppClient(user_pool_id, str(created["ClientId"]), created.get("ClientSecret"))

    async def create_user(
        self,
        user_pool_id: str,
        username: str,
        password: str | None = None,
        *,
        attributes: Mapping[str, str] | None = None,
        temporary: bool = False,
    ) -> str:
        """Create a user (CONFIRMED, or FORCE_CHANGE_PASSWORD when ``temporary``); returns the username.

        Without ``password`` a temporary password is generated and "sent" (see :attr:`outbox`).
        """
        params: dict[str, Any] = {
            "UserPoolId": user_pool_id,
            "Username": username,
            "UserAttributes": [{"Name": k, "Value": v} for k, v in (attributes or {}).items()],
        }
        if password is not None:
            params["TemporaryPassword"] = password
            params["MessageAction"] = "SUPPRESS"
        created = await self.call("AdminCreateUser", **params)
        internal = str(created["User"]["Username"])
        if password is not None and not temporary:
            await self.call(
                "AdminSetUserPassword",
                UserPoolId=user_pool_id,
                Username=internal,
                Password=password,
                Permanent=True,
            )
        return internal

    # ===== HTTP ===========================================================================================
    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        prefix, _, operation = request.headers.get("X-Amz-Target", "").partition(".")
        self.request_count += 1
        request_id = str(uuid.uuid4())
        if prefix != TARGET_PREFIX or not operation:
            return self._web_reply(
                error_reply(400, "UnknownOperationException", "Unknown operation"), request_id
            )
        injector = self._injector
        fault = injector.decide(operation, time.monotonic()) if injector else None
        if fault == "throttle":
            return self._web_reply(error_reply(400, "TooManyRequestsException", "Rate exceeded"), request_id)
        if fault == "error":
            reply = error_reply(500, "InternalErrorException", "An internal error occurred (injected).")
            return self._web_reply(reply, request_id)
        if fault == "drop":
            return self._drop(request)
        if self.quota_throttle.refuses(operation, time.monotonic()):
            return self._web_reply(error_reply(400, "TooManyRequestsException", "Rate exceeded"), request_id)
        reply = self._dispatch(operation, body, request.headers)
        if fault == "lost_reply":
            assert injector is not None
            injector.note_lost_reply(operation, took_effect=reply[0] == 200)
            return self._drop(request)
        return self._web_reply(reply, request_id)

    @staticmethod
    def _web_reply(reply: Reply, request_id: str) -> web.Response:
        status, headers, payload = reply
        response = web.Response(status=status, body=payload)
        for key, value in headers:
            response.headers[key] = value
        response.headers.setdefault("Content-Type", JSON_CONTENT_TYPE)
        response.headers["x-amzn-RequestId"] = request_id
        return response

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        """Close the connection without an answer (the client sees the server disconnect)."""
        transport = request.transport
        if transport is not None:
            transport.abort()
        raise asyncio.CancelledError  # aiohttp stops handling this request quietly

    async def _handle_upload(self, request: web.Request) -> web.Response:
        """A user import job's CSV, PUT to the pre-signed URL CreateUserImportJob returned."""
        body = bytearray()  # not request.read(): it stops at client_max_size (1 MB); a job takes 100 MB
        async for chunk in request.content.iter_chunked(1 << 16):
            body += chunk
            if len(body) > import_jobs.MAX_CSV_BYTES:
                break  # receive_upload answers EntityTooLarge
        status, text = import_jobs.receive_upload(
            self._state,
            request.match_info["job_id"],
            dict(request.query),
            bytes(body),
            headers=request.headers,
        )
        return web.Response(status=status, text=text, content_type="application/xml" if text else None)

    async def _handle_jwks(self, request: web.Request) -> web.Response:
        pool_id = request.match_info["pool_id"]
        if self._state.user_pool(pool_id) is None:
            return web.json_response({"message": f"User pool {pool_id} does not exist."}, status=404)
        return web.json_response(self._state.keys.for_pool(pool_id).jwks())

    async def _handle_openid(self, request: web.Request) -> web.Response:
        pool_id = request.match_info["pool_id"]
        pool = self._state.user_pool(pool_id)
        if pool is None:
            return web.json_response({"message": f"User pool {pool_id} does not exist."}, status=404)
        document = openid_configuration(pool, self.issuer(pool_id), self.jwks_url(pool_id), self.domain_url)
        return web.json_response(document)

    # ===== dispatch =======================================================================================
    def _dispatch(self, operation: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        """Answer one operation. Runs without awaiting, so each operation is atomic."""
        try:
            try:
                params = json.loads(body) if body else {}
            except ValueError:
                params = None
            if not isinstance(params, dict):
                return error_reply(400, "SerializationException", "The request body is not a JSON object")
            handler = self._own.get(operation)
            if handler is None:
                if operation in _shapes.model().operations:
                    raise RuntimeError(f"{operation} has no handler")  # the walk over every operation fails
                return error_reply(400, "UnknownOperationException", f"Unknown operation {operation}")
            _shapes.check_input(operation, params)
            self._state.region_of_request = _signed_region(headers) or self.region
            recovery.before_operation(self._state, operation, params)
            result = handler(params)
            return 200, [("Content-Type", JSON_CONTENT_TYPE)], json.dumps(result).encode()
        except ServiceError as exc:
            status = exc.status or (500 if exc.code in ("InternalErrorException",) else 400)
            return error_reply(status, exc.code, exc.message)
        except Exception:  # a bug here must look like Cognito's 500, not kill the connection
            logger.exception("local user pool failed on %s", operation)
            return error_reply(500, "InternalErrorException", "Internal error in the local user pool")


def _signed_region(headers: Mapping[str, str]) -> str | None:
    """The region of a SigV4 ``Authorization`` header's credential scope (None when unsigned)."""
    authorization = headers.get("Authorization", "")
    _, found, rest = authorization.partition("Credential=")
    parts = rest.split(",", 1)[0].split("/") if found else []
    return parts[2] if len(parts) >= 5 and parts[2] else None


async def serve(host: str = "127.0.0.1", port: int = 9229) -> None:
    """Run a local user pool until cancelled (``aiocognito local --port 9229``)."""
    async with LocalUserPool(host, port) as pool:
        print(f"aiocognito local user pool listening on {pool.endpoint_url} (Ctrl-C to stop)", flush=True)
        await asyncio.Event().wait()
