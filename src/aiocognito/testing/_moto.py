"""moto underneath the local pool: its cognito-idp WSGI app, called in-process, and its backend objects.

moto's backend is the single source of truth for user pools, app clients and users. The pool calls moto's
Flask app directly (no second server, no thread): every call runs on the event loop's thread, one at a
time, so moto's backend (which is not thread-safe) is never touched concurrently, and the pool's own
auth state changes atomically with it.

Each :class:`MotoBackend` uses its own AWS account id (moto's ``x-moto-account-id`` header), so two local
pools in one process do not see each other's user pools, and :meth:`MotoBackend.close` drops exactly that
account's data.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

from werkzeug.test import EnvironBuilder

from .. import errors

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool, CognitoIdpUserPoolClient

__all__ = ["MotoBackend", "MotoReply", "TARGET_PREFIX", "JSON_CONTENT_TYPE", "error_reply"]

TARGET_PREFIX = "AWSCognitoIdentityProviderService"
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"

#: (status, headers, body) of one moto answer.
MotoReply = tuple[int, list[tuple[str, str]], bytes]

# Request headers the call sets itself (whatever their case in the incoming request).
_REPLACED_HEADERS = frozenset({"host", "content-length", "content-type", "x-amz-target", "x-moto-account-id"})
# Headers copied from moto's answer to ours (the rest, such as Content-Length, the server sets itself).
_KEPT_HEADERS = frozenset({"content-type", "x-amzn-errortype", "x-amzn-errormessage"})


def _new_account_id() -> str:
    return "9" + "".join(secrets.choice("0123456789") for _ in range(11))


class MotoBackend:
    """moto's cognito-idp service for one (private) account id."""

    def __init__(self, account_id: str | None = None) -> None:
        from moto.cognitoidp.models import cognitoidp_backends
        from moto.moto_server.werkzeug_app import create_backend_app

        self.account_id = account_id or _new_account_id()
        self._app = create_backend_app("cognito-idp")
        self._backends = cognitoidp_backends

    # ----- the wire -------------------------------------------------------------------------------------
    def call(
        self, operation: str, body: bytes, *, region: str, headers: Mapping[str, str] | None = None
    ) -> MotoReply:
        """Send one JSON-1.1 request to moto and return its answer.

        ``region`` goes into a SigV4-shaped Authorization header when the request has none (moto reads
        the region of signed operations from it). An operation moto does not implement answers 400
        ``UnsupportedOperationException`` (instead of moto's HTML 500 page).
        """
        sent = {k: v for k, v in (headers or {}).items() if k.lower() not in _REPLACED_HEADERS}
        sent["X-Amz-Target"] = f"{TARGET_PREFIX}.{operation}"
        sent["Content-Type"] = JSON_CONTENT_TYPE
        if not any(k.lower() == "authorization" for k in sent):
            sent["Authorization"] = (
                f"AWS4-HMAC-SHA256 Credential=LOCALPOOL/20240101/{region}/cognito-idp/aws4_request, "
                "SignedHeaders=host, Signature=0"
            )
        sent["x-moto-account-id"] = self.account_id
        environ = EnvironBuilder(method="POST", path="/", data=body, headers=list(sent.items())).get_environ()
        started: dict[str, Any] = {}

        def start_response(
            status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
        ) -> None:
            started["status"] = int(status.split(" ", 1)[0])
            started["headers"] = response_headers

        try:
            chunks = self._app(environ, cast(Any, start_response))
            try:
                payload = b"".join(chunks)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
        except NotImplementedError:
            return error_reply(
                400, "UnsupportedOperationException", f"{operation} is not supported by the local user pool"
            )
        kept = [(k, v) for k, v in started["headers"] if k.lower() in _KEPT_HEADERS]
        return started["status"], kept, payload

    def call_json(self, operation: str, params: Mapping[str, Any], *, region: str) -> dict[str, Any]:
        """Call moto and return the parsed answer, raising the typed error for a non-200 answer."""
        status, _headers, payload = self.call(operation, json.dumps(params).encode(), region=region)
        body = json.loads(payload) if payload else {}
        if status != 200:
            code = str(body.get("__type", "InternalErrorException")).rsplit("#", 1)[-1]
            raise errors.error_class(code)(str(body.get("message", "")), code=code, status=status)
        return body if isinstance(body, dict) else {}

    # ----- the backend objects -------------------------------------------------------------------------
    def _regions(self) -> Iterator[Any]:
        if self.account_id not in self._backends.keys():
            return iter(())
        return iter(list(dict.values(self._backends[self.account_id])))

    def user_pool(self, user_pool_id: str) -> CognitoIdpUserPool | None:
        """The moto pool with this id in this account, or None."""
        for backend in self._regions():
            pool = backend.user_pools.get(user_pool_id)
            if pool is not None:
                return pool  # type: ignore[no-any-return]
        return None

    def user_pools(self) -> list[CognitoIdpUserPool]:
        return [pool for backend in self._regions() for pool in backend.user_pools.values()]

    def app_client(self, client_id: str) -> tuple[CognitoIdpUserPool, CognitoIdpUserPoolClient] | None:
        """The pool and app client with this client id, or None."""
        for pool in self.user_pools():
            client = pool.clients.get(client_id)
            if client is not None:
                return pool, client
        return None

    @staticmethod
    def users(pool: CognitoIdpUserPool) -> list[CognitoIdpUser]:
        return list(pool.users.values())

    def close(self) -> None:
        """Forget this account's moto data."""
        if self.account_id in self._backends.keys():
            self._backends[self.account_id].reset()
            try:
                del self._backends[self.account_id]
            except KeyError:  # a moto-api reset in between already dropped it
                pass


def error_reply(status: int, code: str, message: str) -> MotoReply:
    """A Cognito error answer: ``{"__type": code, "message": ...}`` with ``x-amzn-ErrorType``."""
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, [("Content-Type", JSON_CONTENT_TYPE), ("x-amzn-ErrorType", f"{code}:")], body
