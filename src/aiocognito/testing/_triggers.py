"""Lambda triggers as Python callables: the user's trigger code runs where Cognito would invoke its Lambda.

Which callable runs for a pool (:meth:`TriggerRegistry.find`), first match wins:

1. ``local.set_triggers(user_pool_id, {...})``: callables for that one pool;
2. a callable registered under a Lambda function ARN (``{"arn:aws:lambda:us-east-1:123456789012:function:
   pre-sign-up": fn}``) runs for the pools whose ``LambdaConfig`` (CreateUserPool / UpdateUserPool) names
   that ARN for the trigger, as Cognito invokes the function the pool names;
3. a callable registered under a ``LambdaConfig`` name (``{"PreSignUp": fn}``) runs for every pool of the
   local server, whatever its LambdaConfig says: ``LocalUserPool(triggers={"PreSignUp": fn})`` just works.

``triggers`` is a mapping or any object (a module, a class) with attributes named as LambdaConfig names
them: PreSignUp, PostConfirmation, PreAuthentication, PostAuthentication, DefineAuthChallenge,
CreateAuthChallenge, VerifyAuthChallengeResponse, PreTokenGeneration (``PreTokenGenerationConfig`` is a
synonym), UserMigration, CustomMessage. The pre token generation event's version is the pool's
``LambdaConfig.PreTokenGenerationConfig.LambdaVersion`` (``V1_0`` when not set; ``V2_0``/``V3_0`` add the
access token's claims and scopes).

A trigger is ``handler(event)`` or ``handler(event, context)`` (a Lambda handler works unchanged; the
context is a :class:`LambdaContext`), plain or ``async``. It gets its own copy of the event, shaped as
Cognito documents it for the trigger source (version, triggerSource, region, userPoolId, userName,
callerContext {awsSdkVersion, clientId}, request, response), and returns the event with its ``response``
filled in, as a Lambda does.

The pool answers each operation at once, one at a time, so that every operation is atomic: a trigger
runs in a worker thread of its own (an async one in its own event loop there) while the operation waits
for it, at most :data:`TIMEOUT` (Cognito's 5 seconds). So a trigger must not call the same local pool
(over HTTP or in-process): the pool is busy waiting for it, the call would wait out the 5 seconds and the
operation fail with the timeout error. A trigger keeps its own state (a dict, a database, another
service); change the pool from the test, before or after the operation.

Failures, as Cognito reports a failing Lambda:

* the trigger raises: ``UserLambdaValidationException`` "<Name> failed with error <message>." (Name is
  the LambdaConfig name, e.g. "PreSignUp failed with error Domain not allowed.");
* it runs longer than 5 s: ``UnexpectedLambdaException`` "<Name> invocation failed due to error Socket
  timeout while invoking Lambda function." (Cognito tries a timed-out function up to three times; here
  it is called once, and the thread is left to finish on its own);
* it returns something other than the event (None, a list, not JSON): ``InvalidLambdaResponseException``
  "Unrecognizable lambda output".

ClientMetadata reaches the triggers Cognito documents for it: that of SignUp, ForgotPassword and the other
account operations directly; in a sign-in (:func:`auth_request`), RespondToAuthChallenge's as
``clientMetadata`` (custom challenge, post authentication, pre token generation, custom message) and
InitiateAuth's as ``validationData`` (pre authentication, user migration).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import errors

if TYPE_CHECKING:
    from ._records import User, UserPool
    from ._state import PoolState

__all__ = [
    "NAMES",
    "TIMEOUT",
    "CODE_PARAMETER",
    "USERNAME_PARAMETER",
    "NO_CLIENT",
    "LambdaContext",
    "TriggerFunction",
    "TriggerRegistry",
    "bound",
    "run",
    "auth_request",
    "user_attributes",
    "flag",
    "pre_sign_up",
    "post_confirmation",
    "pre_authentication",
    "post_authentication",
    "user_migration",
    "token_generation",
    "custom_message",
]

logger = logging.getLogger("aiocognito.testing")

#: The LambdaConfig names the local pool runs, in the order Cognito's API lists them.
NAMES = (
    "PreSignUp",
    "CustomMessage",
    "PostConfirmation",
    "PreAuthentication",
    "PostAuthentication",
    "DefineAuthChallenge",
    "CreateAuthChallenge",
    "VerifyAuthChallengeResponse",
    "PreTokenGeneration",
    "UserMigration",
)
#: Seconds a trigger may take (Cognito's limit, which cannot be changed).
TIMEOUT = 5.0
#: The placeholders a custom message carries for the code (or temporary password) and the username.
CODE_PARAMETER = "{####}"
USERNAME_PARAMETER = "{username}"
#: ``callerContext.clientId`` of an operation made without an app client (AdminCreateUser).
NO_CLIENT = "CLIENT_ID_NOT_APPLICABLE"
_SDK_VERSION = "aws-sdk-unknown-unknown"
_SYNONYMS = {"PreTokenGenerationConfig": "PreTokenGeneration"}
_UNRECOGNIZABLE = "Unrecognizable lambda output"
_SETTINGS_KEY = "lambda_triggers"  # where the registry lives in PoolState.account_settings

#: A trigger: ``(event)`` or ``(event, context)``, sync or async, returning the event.
TriggerFunction = Callable[..., Any]

#: The ClientMetadata of the InitiateAuth (True) or RespondToAuthChallenge (False) being answered.
_AUTH_REQUEST: ContextVar[tuple[dict[str, str] | None, bool]] = ContextVar(
    "trigger_auth_request", default=(None, False)
)


@dataclass(frozen=True)
class LambdaContext:
    """What a Lambda handler's ``context`` offers, as far as a local trigger can say."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    deadline: float = field(repr=False)  # time.monotonic() by which the trigger must answer
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class _Table:
    """Callables by LambdaConfig name and by function ARN."""

    by_name: dict[str, TriggerFunction] = field(default_factory=dict)
    by_arn: dict[str, TriggerFunction] = field(default_factory=dict)


def _table(triggers: object) -> _Table:
    """A mapping or an object with trigger attributes, checked: known names or Lambda ARNs, callables."""
    table = _Table()
    if triggers is None:
        return table
    if isinstance(triggers, Mapping):
        items = list(triggers.items())
    else:
        names = (*NAMES, *_SYNONYMS)
        items = [(name, getattr(triggers, name)) for name in names if hasattr(triggers, name)]
    for key, function in items:
        if not isinstance(key, str):
            raise TypeError(f"a trigger's key must be a str, not {type(key).__name__}")
        if not callable(function):
            raise TypeError(f"the trigger {key!r} is not callable")
        if key.startswith("arn:"):
            if ":lambda:" not in key or ":function:" not in key:
                raise ValueError(f"{key!r} is not a Lambda function ARN")
            table.by_arn[key] = function
            continue
        name = _SYNONYMS.get(key, key)
        if name not in NAMES:
            raise ValueError(
                f"unknown trigger {key!r}: use a Lambda function ARN or one of {', '.join(NAMES)}"
            )
        table.by_name[name] = function
    return table


def _configured_arn(pool: UserPool, name: str) -> str | None:
    config = pool.config.get("LambdaConfig") or {}
    if name == "PreTokenGeneration":
        versioned = config.get("PreTokenGenerationConfig") or {}
        return versioned.get("LambdaArn") or config.get("PreTokenGeneration")
    arn = config.get(name)
    return arn if isinstance(arn, str) else None


def _unqualified(arn: str) -> str:
    """``arn:aws:lambda:region:account:function:name`` without a ``:version`` or ``:alias`` qualifier."""
    return ":".join(arn.split(":")[:7])


def _wants_context(function: TriggerFunction) -> bool:
    """Whether the callable takes a second positional argument (a Lambda handler's ``context``)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    kinds = [p.kind for p in parameters]
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        return True
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(kind in positional for kind in kinds) >= 2


class TriggerRegistry:
    """The callables the local server runs as its pools' Lambda triggers (see the module docstring)."""

    def __init__(self, triggers: object = None) -> None:
        self._default = _table(triggers)
        self._pools: dict[str, _Table] = {}
        #: seconds a trigger may take (Cognito's 5)
        self.timeout = TIMEOUT

    def __repr__(self) -> str:
        return f"<TriggerRegistry {', '.join(self.names()) or 'empty'}>"

    def names(self) -> list[str]:
        """The LambdaConfig names and function ARNs that have a callable (for any pool)."""
        return sorted(
            {key for t in (self._default, *self._pools.values()) for key in (*t.by_name, *t.by_arn)}
        )

    @classmethod
    def install(cls, state: PoolState, triggers: object = None) -> TriggerRegistry:
        """A registry of ``triggers`` for the pools of ``state`` (replacing any earlier one)."""
        found = state.account_settings[_SETTINGS_KEY] = cls(triggers)
        return found

    def set(self, user_pool_id: str | None, triggers: object) -> None:
        """Replace the callables of one pool (``user_pool_id``), or of every pool (None)."""
        if user_pool_id is None:
            self._default = _table(triggers)
        else:
            self._pools[user_pool_id] = _table(triggers)

    def find(self, pool: UserPool, name: str) -> tuple[TriggerFunction, str] | None:
        """The callable that runs as ``name`` for ``pool``, and the function ARN it stands for."""
        tables = [t for t in (self._pools.get(pool.id), self._default) if t is not None]
        if not any(t.by_name or t.by_arn for t in tables):
            return None
        arn = _configured_arn(pool, name)
        local_arn = arn or f"arn:aws:lambda:{pool.region}:{pool.account_id}:function:{name}"
        own = self._pools.get(pool.id)
        if own is not None and name in own.by_name:
            return own.by_name[name], local_arn
        if arn is not None:
            for table in tables:
                function = table.by_arn.get(arn) or table.by_arn.get(_unqualified(arn))
                if function is not None:
                    return function, arn
        function = self._default.by_name.get(name)
        return (function, local_arn) if function is not None else None

    def invoke(self, pool: UserPool, name: str, event: dict[str, Any]) -> dict[str, Any] | None:
        """Run the trigger ``name`` for ``pool`` with ``event``; its ``response``, or None when none is bound.

        Raises:
            UserLambdaValidationException: the trigger raised.
            UnexpectedLambdaException: it took longer than :attr:`timeout`.
            InvalidLambdaResponseException: it did not return the event.
        """
        found = self.find(pool, name)
        if found is None:
            return None
        function, arn = found
        event = json.loads(json.dumps(event))  # the trigger's own copy, as Lambda delivers it
        deadline = time.monotonic() + self.timeout
        context = LambdaContext(arn.split(":")[6], arn, str(uuid.uuid4()), deadline)
        outcome = _run_in_thread(function, event, context, name)
        if "error" in outcome:
            exc = outcome["error"]
            logger.debug("the %s trigger raised %s", name, type(exc).__name__, exc_info=exc)
            raise errors.UserLambdaValidationException(f"{name} failed with error {exc}.")
        if "value" not in outcome:
            raise errors.UnexpectedLambdaException(
                f"{name} invocation failed due to error Socket timeout while invoking Lambda function."
            )
        returned = outcome["value"]
        try:
            returned = json.loads(json.dumps(returned))
        except (TypeError, ValueError):
            raise errors.InvalidLambdaResponseException(_UNRECOGNIZABLE) from None
        if not isinstance(returned, dict):
            raise errors.InvalidLambdaResponseException(_UNRECOGNIZABLE)
        response = returned.get("response") or {}
        if not isinstance(response, dict):
            raise errors.InvalidLambdaResponseException(_UNRECOGNIZABLE)
        return response


def _run_in_thread(
    function: TriggerFunction, event: dict[str, Any], context: LambdaContext, name: str
) -> dict[str, Any]:
    """Call the trigger in a daemon thread; ``{"value": ...}``, ``{"error": exc}`` or ``{}`` (timed out)."""
    outcome: dict[str, Any] = {}
    args = (event, context) if _wants_context(function) else (event,)

    async def bounded(awaitable: Any) -> Any:
        return await asyncio.wait_for(awaitable, max(0.0, context.deadline - time.monotonic()))

    def work() -> None:
        try:
            result = function(*args)
            if inspect.isawaitable(result):
                result = asyncio.run(bounded(result))
            if time.monotonic() <= context.deadline:  # later than that, the operation has failed already
                outcome["value"] = result
        except BaseException as exc:  # reported as Cognito reports a failing Lambda
            if time.monotonic() < context.deadline:
                outcome["error"] = exc

    thread = threading.Thread(target=work, name=f"lambda-trigger-{name}", daemon=True)
    thread.start()
    thread.join(max(0.0, context.deadline - time.monotonic()) + 0.05)
    return {} if thread.is_alive() else dict(outcome)


# ----- running one trigger -------------------------------------------------------------------------------
def bound(state: PoolState, pool: UserPool, name: str) -> bool:
    """Whether a trigger ``name`` runs for ``pool``."""
    found = state.account_settings.get(_SETTINGS_KEY)
    return isinstance(found, TriggerRegistry) and found.find(pool, name) is not None


@contextmanager
def auth_request(params: Mapping[str, Any], *, initiate: bool) -> Iterator[None]:
    """While an InitiateAuth (``initiate``) or RespondToAuthChallenge is answered: its ClientMetadata."""
    token = _AUTH_REQUEST.set((_string_map(params.get("ClientMetadata")), initiate))
    try:
        yield
    finally:
        _AUTH_REQUEST.reset(token)


def _validation_data() -> dict[str, str] | None:
    """InitiateAuth's ClientMetadata, which pre authentication and user migration get as validationData."""
    metadata, initiate = _AUTH_REQUEST.get()
    return metadata if initiate else None


def _string_map(value: object) -> dict[str, str] | None:
    """``ClientMetadata`` as given, or ``ValidationData`` (``[{"Name", "Value"}]``) as a map; None if absent."""
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()} or None
    if isinstance(value, list):
        pairs = {str(a.get("Name")): str(a.get("Value", "")) for a in value if isinstance(a, Mapping)}
        return pairs or None
    return None


def run(
    state: PoolState,
    pool: UserPool,
    name: str,
    source: str,
    username: str,
    client_id: str | None,
    request: dict[str, Any],
    response: dict[str, Any] | None = None,
    *,
    version: str = "1",
) -> dict[str, Any] | None:
    """Build the event of ``source`` and run the trigger ``name``: its response, or None when none is bound."""
    found = state.account_settings.get(_SETTINGS_KEY)
    if not isinstance(found, TriggerRegistry) or found.find(pool, name) is None:
        return None
    metadata, initiate = _AUTH_REQUEST.get()
    if metadata is not None and not initiate and "clientMetadata" not in request:
        request = {**request, "clientMetadata": metadata}
    event = {
        "version": version,
        "triggerSource": source,
        "region": pool.region,
        "userPoolId": pool.id,
        "userName": username,
        "callerContext": {"awsSdkVersion": _SDK_VERSION, "clientId": client_id or NO_CLIENT},
        "request": request,
        "response": response or {},
    }
    return found.invoke(pool, name, event)


def _with_metadata(request: dict[str, Any], params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``request`` with the operation's ClientMetadata as ``clientMetadata``, when it has some."""
    metadata = _string_map((params or {}).get("ClientMetadata"))
    return {**request, "clientMetadata": metadata} if metadata else request


def user_attributes(user: User) -> dict[str, str]:
    """A user's attributes as trigger events carry them: strings, with ``sub`` and ``cognito:user_status``."""
    return {**user.attributes, "sub": user.sub, "cognito:user_status": user.status}


def flag(value: object) -> bool:
    """A boolean of a trigger's response (``true`` or the string ``"true"``)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


# ----- sign-up, confirmation and authentication ----------------------------------------------------------
def pre_sign_up(
    state: PoolState,
    pool: UserPool,
    user: User,
    source: str,
    client_id: str | None,
    params: Mapping[str, Any],
) -> dict[str, bool] | None:
    """PreSignUp_SignUp / PreSignUp_AdminCreateUser: ``autoConfirmUser``, ``autoVerifyEmail/Phone``."""
    attributes = {k: v for k, v in user.attributes.items() if k != "sub"}
    request = {"userAttributes": attributes, "validationData": _string_map(params.get("ValidationData"))}
    flags = ("autoConfirmUser", "autoVerifyEmail", "autoVerifyPhone")
    request = _with_metadata(request, params)
    response = run(
        state, pool, "PreSignUp", source, user.username, client_id, request, dict.fromkeys(flags, False)
    )
    return None if response is None else {name: flag(response.get(name)) for name in flags}


def post_confirmation(
    state: PoolState,
    pool: UserPool,
    user: User,
    source: str,
    client_id: str | None,
    params: Mapping[str, Any] | None = None,
) -> None:
    """PostConfirmation_ConfirmSignUp / _ConfirmForgotPassword, after the user is confirmed."""
    request = _with_metadata({"userAttributes": user_attributes(user)}, params)
    run(state, pool, "PostConfirmation", source, user.username, client_id, request)


def pre_authentication(
    state: PoolState, pool: UserPool, user: User | None, client_id: str, *, hides_users: bool
) -> None:
    """PreAuthentication_Authentication, before the credentials are checked (raises to deny the sign-in).

    It runs for users who exist (Cognito's note: the trigger depends on the user existing); ``userNotFound``
    is there (false) when the client prevents user existence errors.
    """
    if user is None or not bound(state, pool, "PreAuthentication"):
        return
    request: dict[str, Any] = {"userAttributes": user_attributes(user), "validationData": _validation_data()}
    if hides_users:
        request["userNotFound"] = False
    run(
        state,
        pool,
        "PreAuthentication",
        "PreAuthentication_Authentication",
        user.username,
        client_id,
        request,
    )


def post_authentication(
    state: PoolState, pool: UserPool, user: User, client_id: str, *, new_device: bool
) -> None:
    """PostAuthentication_Authentication, once the tokens are made."""
    request = {"userAttributes": user_attributes(user), "newDeviceUsed": new_device}
    run(
        state,
        pool,
        "PostAuthentication",
        "PostAuthentication_Authentication",
        user.username,
        client_id,
        request,
    )


def user_migration(
    state: PoolState,
    pool: UserPool,
    typed_name: str,
    source: str,
    client_id: str,
    params: Mapping[str, Any] | None = None,
    *,
    password: str | None = None,
) -> dict[str, Any] | None:
    """UserMigration_Authentication (with the password typed) / UserMigration_ForgotPassword (without).

    Returns the response, or None when no trigger is bound.
    """
    forgot = source == "UserMigration_ForgotPassword"
    request: dict[str, Any] = {"validationData": None if forgot else _validation_data()}
    if forgot:
        request = _with_metadata(request, params)
    if password is not None:
        request["password"] = password
    members = ("userAttributes", "finalUserStatus", "messageAction", "desiredDeliveryMediums")
    response = dict.fromkeys((*members, "forceAliasCreation", "enableSMSMFA"))
    return run(state, pool, "UserMigration", source, typed_name, client_id, request, response)


def token_generation(
    state: PoolState,
    pool: UserPool,
    user: User,
    client_id: str,
    source: str,
    group_configuration: dict[str, Any],
    scopes: list[str],
) -> tuple[str, dict[str, Any]] | None:
    """PreTokenGeneration (TokenGeneration_Authentication, _RefreshTokens, ...): ``(version, response)``.

    The version is the pool's ``PreTokenGenerationConfig.LambdaVersion`` ("1" for V1_0, the default;
    "2" and "3" get the access token's ``scopes`` and answer ``claimsAndScopeOverrideDetails``).
    """
    if not bound(state, pool, "PreTokenGeneration"):
        return None
    config = (pool.config.get("LambdaConfig") or {}).get("PreTokenGenerationConfig") or {}
    version = {"V2_0": "2", "V3_0": "3"}.get(str(config.get("LambdaVersion")), "1")
    request: dict[str, Any] = {
        "userAttributes": user_attributes(user),
        "groupConfiguration": group_configuration,
    }
    if version != "1":
        request["scopes"] = scopes
    member = "claimsOverrideDetails" if version == "1" else "claimsAndScopeOverrideDetails"
    response = run(
        state,
        pool,
        "PreTokenGeneration",
        source,
        user.username,
        client_id,
        request,
        {member: None},
        version=version,
    )
    return None if response is None else (version, response)


# ----- messages ------------------------------------------------------------------------------------------
def custom_message(
    state: PoolState,
    pool: UserPool,
    user: User,
    source: str,
    medium: str,
    code: str,
    *,
    client_id: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> str | None:
    """The text of a message carrying ``code`` as the CustomMessage trigger writes it (None: the default).

    The trigger answers ``smsMessage`` / ``emailMessage`` holding :data:`CODE_PARAMETER` (and, for
    CustomMessage_AdminCreateUser, :data:`USERNAME_PARAMETER`), which the pool replaces with the code
    (the temporary password) and the username. ``emailSubject`` is accepted and not kept.

    Raises:
        InvalidParameterException: the message lacks a placeholder it must carry.
    """
    if not bound(state, pool, "CustomMessage"):
        return None
    admin = source == "CustomMessage_AdminCreateUser"
    request: dict[str, Any] = {
        "userAttributes": user_attributes(user),
        "codeParameter": CODE_PARAMETER,
        "usernameParameter": USERNAME_PARAMETER if admin else None,
    }
    answer = dict.fromkeys(("smsMessage", "emailMessage", "emailSubject"))
    response = run(
        state,
        pool,
        "CustomMessage",
        source,
        user.username,
        client_id,
        _with_metadata(request, params),
        answer,
    )
    member = "emailMessage" if medium == "EMAIL" else "smsMessage"
    text = (response or {}).get(member)
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise errors.InvalidLambdaResponseException(_UNRECOGNIZABLE)
    body = "emailBody" if medium == "EMAIL" else "smsBody"
    for placeholder in (CODE_PARAMETER, *((USERNAME_PARAMETER,) if admin else ())):
        if placeholder not in text:
            raise errors.InvalidParameterException(
                f"1 validation error detected: Value at '{body}' failed to satisfy constraint: "
                f"Member must contain {placeholder}"
            )
    return text.replace(CODE_PARAMETER, code).replace(USERNAME_PARAMETER, user.username)
