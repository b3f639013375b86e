"""The two ways managed login refuses a request, as Cognito does.

* :class:`OAuthError`: an OAuth 2.0 error once the app is known to be at the other end. The authorize
  and login pages redirect it to the callback URL (``?error=...&error_description=...&state=...``); the
  token, revoke and userInfo endpoints answer it as JSON (``{"error": ..., "error_description": ...}``)
  with its HTTP status.
* :class:`ErrorPage`: a request that cannot be sent back to the app, because its ``client_id`` or its
  ``redirect_uri`` (or ``logout_uri``) is not registered. Cognito never redirects those to the URL given;
  it sends the browser to its own ``/error?error=...`` page on the user pool domain.

Neither carries a secret: descriptions name what is wrong, never a value that was sent.
"""

from __future__ import annotations

__all__ = ["OAuthError", "ErrorPage"]


class OAuthError(Exception):
    """An OAuth 2.0 error code with its description and the HTTP status of a JSON answer."""

    def __init__(self, error: str, description: str | None = None, *, status: int = 400) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        """The JSON answer of the token, revoke and userInfo endpoints."""
        answer = {"error": self.error}
        if self.description:
            answer["error_description"] = self.description
        return answer


class ErrorPage(Exception):
    """A refusal shown on the domain's ``/error`` page instead of a redirect to the app."""

    def __init__(self, error: str, client_id: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.client_id = client_id
