"""Web backends on Amazon Cognito in a few lines: sign-in routes, bearer checks, the HTTP error table.

Importing this package imports nothing: each module below is imported by name, and only the two framework
adapters import their framework (``import aiocognito`` never imports FastAPI, Starlette or pydantic).

Framework-neutral:

* :mod:`aiocognito.web.challenges`: the :class:`~aiocognito.web.challenges.ChallengeStore` protocol (a
  challenge saved between two requests under an unguessable id, taken back once, put back after a wrong
  code) and :class:`~aiocognito.web.challenges.MemoryChallengeStore` (one process).
* :mod:`aiocognito.web.http_errors`: the table from Cognito errors to HTTP statuses and JSON bodies
  (:data:`~aiocognito.web.http_errors.COGNITO_ERRORS`, :func:`~aiocognito.web.http_errors.http_error`).
* :mod:`aiocognito.web.bearer`: ``Authorization: Bearer`` checks on a :class:`~aiocognito.TokenVerifier`
  and the verified claims as a typed :class:`~aiocognito.web.bearer.CognitoClaims`.
* :mod:`aiocognito.web.routes`: the HTTP API (``POST /sign-in``, ``/sign-in/answer``, ``/sign-up``, ...,
  ``/mfa/totp/confirm``) as data, :data:`~aiocognito.web.routes.ROUTES`; :mod:`aiocognito.web.forms`: the
  JSON bodies they accept, checked without echoing a value.
* :mod:`aiocognito.web.backend`: :class:`~aiocognito.web.backend.CognitoSettings` (from the environment)
  and :class:`~aiocognito.web.backend.CognitoBackend`, which opens one client and one verifier for the
  app's lifetime and answers every route; the passkey routes (``/passkeys/...``, mounted with
  ``passkeys=True``) are answered by :mod:`aiocognito.web.passkeys`.
* :mod:`aiocognito.web.managed_login`: "Sign in with Cognito" through the user pool domain's managed login
  (:class:`~aiocognito.web.managed_login.ManagedLoginSettings`, given as ``CognitoBackend(...,
  managed_login=...)``): ``GET /login``, the callback and ``GET /logout`` as framework-neutral steps, and
  browser sessions (a cookie in front of tokens kept on the server).

Adapters: :mod:`aiocognito.web.fastapi` (FastAPI and Starlette; ``pip install 'aiocognito[fastapi]'``) and
:mod:`aiocognito.web.aiohttp`.
"""
