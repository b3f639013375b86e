"""Offline verification of Cognito ID and access tokens against the user pools' JWKS.

The pure checks are in ``claims.py`` (``now`` is a parameter), key sets and their cache in ``jwks.py``.
:class:`TokenVerifier` routes a token by its (unverified) ``iss`` to one of its pools, keeps one key cache
per pool and runs the optional checks (``cognito:groups``, ``scope``, a custom check, revocation).

Signatures are checked with python-jose's key object (built once per JWKS fetch) on our own split of the
token: as fast as a bare ``cryptography`` RSA verify, while ``jose.jwt.decode`` costs 1.6x the floor.
``python benchmarks/verify.py`` (2000 tokens, best of 5): ``verify`` at 1.11-1.14x the floor (target
<= 1.5x), the same with a ``scopes`` requirement.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import KW_ONLY, dataclass, field
from types import TracebackType
from typing import Any, Final, Protocol

import aiohttp

from .._errors import (
    ConfigurationError,
    InvalidToken,
    JwksUnavailable,
    ParamValidationError,
    ServiceError,
    TokenError,
)
from .._tasks import stop_task
from .claims import (
    INVALID_TOKEN_REASONS,
    MAX_TOKEN_SIZE,
    ParsedToken,
    TokenUse,
    _pool_region,
    _show,
    check_claims,
    cognito_issuers,
    decode_payload,
    parse_token,
)
from .jwks import JwksSource, KeyCache, load_jwks, parse_jwks

__all__ = [
    "AS_CONFIGURED",
    "INVALID_TOKEN_REASONS",
    "MAX_TOKEN_SIZE",
    "CustomCheck",
    "JwksSource",
    "ParsedToken",
    "PoolConfig",
    "TokenVerifier",
    "check_claims",
    "cognito_issuers",
    "decode_payload",
    "parse_jwks",
    "parse_token",
]


#: ``check(header, claims)``: return None or True to accept, False to refuse (``InvalidToken("custom")``);
#: raise :class:`InvalidToken` to refuse with your own reason. May be a coroutine function.
CustomCheck = Callable[[dict[str, Any], dict[str, Any]], bool | None | Awaitable[bool | None]]


class _AsConfigured(enum.Enum):
    AS_CONFIGURED = "as configured"

    def __repr__(self) -> str:
        return "AS_CONFIGURED"


#: Default of :meth:`TokenVerifier.verify`'s per-call ``groups``/``scopes``/``custom_check``: keep the
#: configured value (pass None to drop the check for this call).
AS_CONFIGURED: Final = _AsConfigured.AS_CONFIGURED

# Cognito's own API hosts (standard and FIPS, both partitions' domains). A client whose endpoint is one of
# these talks to AWS, so its tokens and keys are the AWS issuer's; any other endpoint is "custom".
_AWS_ENDPOINT = re.compile(
    r"https://cognito-idp(?:-fips)?\.[a-z]{2}(?:-[a-z]+)+-\d+\.amazonaws\.com(?:\.cn)?/?"
)


class _ClientLike(Protocol):
    """What the verifier needs from :class:`aiocognito.CognitoClient`."""

    @property
    def endpoint_url(self) -> str: ...

    @property
    def http_session(self) -> aiohttp.ClientSession: ...

    async def get_user(self, *, AccessToken: str) -> Any: ...


@dataclass(frozen=True)
class PoolConfig:
    """One user pool for :meth:`TokenVerifier.multi`; the fields mean what the constructor's do.

    ``groups``/``scopes`` are this pool's requirements (any-of); ``jwks`` preloads its keys.
    """

    user_pool_id: str
    _: KW_ONLY
    client_ids: str | Iterable[str]
    groups: str | Iterable[str] | None = None
    scopes: str | Iterable[str] | None = None
    region: str | None = None
    issuer: str | Iterable[str] | None = None
    jwks_url: str | None = None
    jwks: JwksSource | None = field(default=None, repr=False)


def _id_set(value: str | Iterable[str], what: str) -> frozenset[str]:
    """A non-empty set of non-empty names; a single str is one name, not its characters."""
    names = frozenset([value] if isinstance(value, str) else value)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ConfigurationError(f"{what} must name at least one non-empty str")
    return names


def _requirement(value: str | Iterable[str] | None, what: str) -> frozenset[str] | None:
    if value is None:
        return None
    names = _id_set(value, what)
    if what == "scopes" and any(len(n.split()) != 1 for n in names):
        raise ConfigurationError("scopes are single names: pass several as a list, not one spaced str")
    return names


async def _run_custom_check(check: CustomCheck, header: dict[str, Any], claims: dict[str, Any]) -> None:
    try:
        outcome = check(header, claims)
        if inspect.isawaitable(outcome):
            outcome = await outcome
    except InvalidToken:
        raise
    except Exception as exc:  # the check's own failure; its exception stays attached as the cause
        raise InvalidToken("custom", f"custom check raised {type(exc).__name__}") from exc
    if outcome is None or outcome is True:
        return
    if outcome is False:
        raise InvalidToken("custom", "custom check refused the token")
    raise InvalidToken("custom", f"custom check returned a {type(outcome).__name__}, not a bool or None")


class _Pool:
    """A configured pool: its checks, accepted issuers (each with its JWKS URL) and key cache."""

    __slots__ = ("cache", "client_ids", "groups", "issuer_set", "issuers", "region", "scopes", "user_pool_id")

    def __init__(
        self,
        config: PoolConfig,
        owner: TokenVerifier,
        client: _ClientLike | None,
    ) -> None:
        if not isinstance(config, PoolConfig):
            raise ConfigurationError(f"expected a PoolConfig, not a {type(config).__name__}")
        pool_id = config.user_pool_id
        self.region = _pool_region(pool_id, config.region)
        original, updated = cognito_issuers(pool_id, self.region)
        self.user_pool_id = pool_id
        self.client_ids = _id_set(config.client_ids, "client_ids")
        self.groups = _requirement(config.groups, "groups")
        self.scopes = _requirement(config.scopes, "scopes")
        custom = None
        if client is not None and _AWS_ENDPOINT.fullmatch(client.endpoint_url) is None:
            custom = f"{client.endpoint_url.rstrip('/')}/{pool_id}"
        if config.issuer is not None:
            given = [config.issuer] if isinstance(config.issuer, str) else list(config.issuer)
            if not given or not all(isinstance(i, str) and i for i in given):
                raise ConfigurationError("issuer must be a non-empty str or a list of them")
            names = tuple(dict.fromkeys(given))
        else:
            names = (original, updated) if custom is None else (original, updated, custom)
        if config.jwks_url is not None:
            urls = dict.fromkeys(names, config.jwks_url)
        elif custom is not None:
            # A custom endpoint (moto, a local pool) serves the pool's keys itself, whatever the issuer.
            urls = dict.fromkeys(names, f"{custom}/.well-known/jwks.json")
        else:
            urls = {name: f"{name.rstrip('/')}/.well-known/jwks.json" for name in names}
        self.issuers: dict[str, str] = urls
        self.issuer_set = frozenset(names)
        self.cache = KeyCache(owner, pool_id)

    @property
    def issuer(self) -> str:
        return next(iter(self.issuers))

    @property
    def jwks_url(self) -> str:
        return self.issuers[self.issuer]


class TokenVerifier:
    """Verify Cognito ID and access tokens offline, with the pools' cached JWKS.

    ``await verifier.verify(token, "access")`` returns the claims or raises :class:`InvalidToken`
    whose ``reason`` is one of (checked in this order):

    ``malformed``
        not a str, not three base64url segments, header/payload not JSON objects, a non-canonical
        signature segment, a ``crit`` header, or ``exp``/``iat``/``nbf`` missing or not numbers
    ``too_large``
        longer than :data:`MAX_TOKEN_SIZE` characters
    ``alg``
        header ``alg`` is not exactly ``RS256`` (``none``, ``HS256``, ... are refused)
    ``issuer``
        the (still unverified) ``iss`` is no configured pool's: refused before any fetch
    ``unknown_kid``
        no ``kid``, or a ``kid`` not in the pool's JWKS even after a refetch, or during a cool-down
    ``signature``
        the RS256 signature does not verify with that pool's key
    ``expired``
        ``now >= exp + leeway`` (raised as :class:`TokenExpired`)
    ``not_yet_valid`` / ``issued_in_future``
        ``nbf`` / ``iat`` later than ``now + leeway``
    ``token_use``
        ``token_use`` is not the one asked for
    ``audience`` / ``client_id``
        an ID token's ``aud`` / an access token's ``client_id`` is not in the pool's ``client_ids``
    ``groups`` / ``scope``
        with ``groups``: ``cognito:groups`` holds none of them; with ``scopes``: the ``scope`` claim
        holds none of them (an ID token has no ``scope``, so it fails a scopes requirement)
    ``custom``
        the custom check returned False (or anything but None/True), or raised an exception that is
        not an ``InvalidToken`` (kept as ``__cause__``; the message names only its type). An
        ``InvalidToken`` it raises propagates unchanged. It runs last, before revocation, and gets the
        decoded header and the claims, never the token text.
    ``revoked``
        with ``check_revocation``: Cognito refused the access token in ``GetUser``

    Only :class:`InvalidToken` escapes for a bad token, and no message holds the token's text.
    :class:`JwksUnavailable` (a :class:`TokenError`, not an ``InvalidToken``) means the keys could not be
    fetched and none are cached. With ``check_revocation``, errors of the ``GetUser`` call other than the
    two that mean "revoked" propagate as they are (``TransportError``, ``ServiceError``).

    **Pools and issuers.** A token is routed by its ``iss`` to the pool accepting it and then verified
    against that pool's keys only. By default a pool accepts both issuer forms Cognito uses, ORIGINAL
    ``https://cognito-idp.{region}.amazonaws.com/{pool}`` and UPDATED
    ``https://issuer-cognito-idp.{region}.amazonaws.com/{pool}`` (``amazonaws.com.cn`` in China), and
    the keys are fetched from ``{issuer}/.well-known/jwks.json`` of the form the token names. With a
    ``client`` whose endpoint is not Cognito's own (moto, :class:`aiocognito.testing.LocalUserPool`),
    ``{endpoint_url}/{pool}`` is accepted too and every form's keys come from
    ``{endpoint_url}/{pool}/.well-known/jwks.json``. ``issuer=`` replaces the accepted set,
    ``jwks_url=`` the URL. :meth:`multi` serves several pools; each has its own cache.

    **Keys.** Both forms of a pool share one cache: Cognito serves the same keys for them. Keys are
    fetched once for concurrent callers and kept for ``jwks_ttl`` seconds; after that a cached key still
    answers at once while one refresh runs in the background, and when a refresh fails the cached keys
    keep working. An unknown ``kid`` refetches at once, so a key added to the JWKS is accepted on first
    sight; only a failed lookup (the kid still absent, or the fetch failed while keys are cached) starts
    a cool-down of ``jwks_cooldown`` seconds in which unknown kids are refused without fetching, so a
    flood of made-up kids costs at most one fetch per cool-down. With no keys cached every call tries
    (concurrent ones share one fetch). ``jwks=`` / :meth:`cache_jwks` load keys offline and
    :meth:`hydrate` prefetches every pool's. HTTP goes through ``http_session``, else the ``client``'s
    session, else a session the verifier opens and closes in :meth:`aclose` (or ``async with``).

    Args:
        user_pool_id: e.g. ``us-east-1_AbC123``.
        client_ids: the app client id(s) whose tokens are accepted (a single str is fine).
        region: the region in the issuers; defaults to the pool id's prefix.
        jwks_url: one URL for the keys of every accepted issuer (see above for the default).
        issuer: the accepted issuer(s), replacing the defaults; the first is :attr:`issuer`.
        leeway: seconds of clock skew allowed on ``exp``, ``nbf`` and ``iat``.
        client: an :class:`aiocognito.CognitoClient`; needed for ``check_revocation``.
        http_session: an aiohttp session to borrow for the JWKS fetch.
        jwks_ttl: seconds before a cached JWKS is refreshed.
        min_refetch_interval: the former name of ``jwks_cooldown``, still accepted.
        fetch_timeout: seconds allowed for one JWKS fetch.
        check_revocation: default for :meth:`verify`'s option of the same name.
        clock: returns the current Unix time; used for the claims and for the cache.
        groups: at least one of these must be in ``cognito:groups`` (default: no group check).
        scopes: at least one of these must be in ``scope`` (default: no scope check).
        custom_check: ``check(header, claims)``, sync or async; see ``custom`` above.
        jwks: the pool's JWKS to start with (dict, JSON str/bytes, or file path): no fetch needed.
        jwks_cooldown: seconds after a failed lookup in which unknown kids are refused without fetching
            (default 10, like aws-jwt-verify's penalty box); also the wait after a failed refresh.
    """

    def __init__(
        self,
        user_pool_id: str,
        *,
        client_ids: str | Iterable[str],
        region: str | None = None,
        jwks_url: str | None = None,
        issuer: str | Iterable[str] | None = None,
        leeway: float = 5.0,
        client: _ClientLike | None = None,
        http_session: aiohttp.ClientSession | None = None,
        jwks_ttl: float = 3600.0,
        min_refetch_interval: float | None = None,
        fetch_timeout: float = 10.0,
        check_revocation: bool = False,
        clock: Callable[[], float] = time.time,
        groups: str | Iterable[str] | None = None,
        scopes: str | Iterable[str] | None = None,
        custom_check: CustomCheck | None = None,
        jwks: JwksSource | None = None,
        jwks_cooldown: float | None = None,
    ) -> None:
        pool = PoolConfig(
            user_pool_id,
            client_ids=client_ids,
            groups=groups,
            scopes=scopes,
            region=region,
            issuer=issuer,
            jwks_url=jwks_url,
            jwks=jwks,
        )
        self._setup(
            [pool],
            leeway=leeway,
            client=client,
            http_session=http_session,
            jwks_ttl=jwks_ttl,
            jwks_cooldown=jwks_cooldown,
            min_refetch_interval=min_refetch_interval,
            fetch_timeout=fetch_timeout,
            check_revocation=check_revocation,
            clock=clock,
            custom_check=custom_check,
        )

    @classmethod
    def multi(
        cls,
        pools: Iterable[PoolConfig],
        *,
        leeway: float = 5.0,
        client: _ClientLike | None = None,
        http_session: aiohttp.ClientSession | None = None,
        jwks_ttl: float = 3600.0,
        jwks_cooldown: float | None = None,
        min_refetch_interval: float | None = None,
        fetch_timeout: float = 10.0,
        check_revocation: bool = False,
        clock: Callable[[], float] = time.time,
        custom_check: CustomCheck | None = None,
    ) -> TokenVerifier:
        """One verifier for several pools (and their clients), e.g.
        ``TokenVerifier.multi([PoolConfig("eu-west-1_A", client_ids="a"), PoolConfig(...)])``.

        A token goes to the pool whose accepted issuers hold its ``iss``; no two pools may share an
        issuer. The other arguments apply to all pools and mean what the constructor's do; the
        single-pool attributes (:attr:`user_pool_id`, :attr:`issuer`, ...) describe the first pool.
        """
        self = cls.__new__(cls)
        self._setup(
            list(pools),
            leeway=leeway,
            client=client,
            http_session=http_session,
            jwks_ttl=jwks_ttl,
            jwks_cooldown=jwks_cooldown,
            min_refetch_interval=min_refetch_interval,
            fetch_timeout=fetch_timeout,
            check_revocation=check_revocation,
            clock=clock,
            custom_check=custom_check,
        )
        return self

    def _setup(
        self,
        configs: list[PoolConfig],
        *,
        leeway: float,
        client: _ClientLike | None,
        http_session: aiohttp.ClientSession | None,
        jwks_ttl: float,
        jwks_cooldown: float | None,
        min_refetch_interval: float | None,
        fetch_timeout: float,
        check_revocation: bool,
        clock: Callable[[], float],
        custom_check: CustomCheck | None,
    ) -> None:
        if not configs:
            raise ConfigurationError("at least one user pool is needed")
        if check_revocation and client is None:
            raise ConfigurationError("check_revocation needs a client")
        if (
            jwks_cooldown is not None
            and min_refetch_interval is not None
            and jwks_cooldown != min_refetch_interval
        ):
            raise ConfigurationError("jwks_cooldown and min_refetch_interval are one setting: pass one")
        cooldown = jwks_cooldown if jwks_cooldown is not None else min_refetch_interval
        cooldown = 10.0 if cooldown is None else cooldown
        if leeway < 0 or jwks_ttl < 0 or cooldown < 0 or fetch_timeout <= 0:
            raise ConfigurationError("leeway, jwks_ttl, jwks_cooldown and fetch_timeout must be >= 0")
        if custom_check is not None and not callable(custom_check):
            raise ConfigurationError("custom_check must be callable")

        self.leeway = float(leeway)
        self.jwks_ttl = float(jwks_ttl)
        self.jwks_cooldown = float(cooldown)
        self.check_revocation = check_revocation
        self._custom_check = custom_check
        self._client = client
        self._http_session = http_session
        self._owned_session: aiohttp.ClientSession | None = None
        self._closed = False
        self._timeout = aiohttp.ClientTimeout(total=fetch_timeout)
        self._clock = clock
        self._background: asyncio.Task[None] | None = None  # the latest background refresh

        pools = [_Pool(config, self, client) for config in configs]
        routes: dict[str, tuple[_Pool, str]] = {}
        names: dict[str, _Pool] = {}
        for pool in pools:
            if pool.user_pool_id in names:
                raise ConfigurationError(f"user pool {pool.user_pool_id} is configured twice")
            names[pool.user_pool_id] = pool
            for iss, url in pool.issuers.items():
                if iss in routes:
                    raise ConfigurationError(f"issuer {iss!r} is configured for two pools")
                routes[iss] = (pool, url)
        for iss, (pool, _) in routes.items():
            names.setdefault(iss, pool)
        self._pools = tuple(pools)
        self._routes = routes
        self._by_name = names
        for config, pool in zip(configs, pools, strict=True):
            if config.jwks is not None:
                pool.cache.load(load_jwks(config.jwks), clock())

        first = pools[0]
        self.user_pool_id = first.user_pool_id
        self.region = first.region
        self.client_ids = first.client_ids
        self.issuer = first.issuer
        self.issuers = tuple(first.issuers)
        self.jwks_url = first.jwks_url
        self.user_pool_ids = tuple(pool.user_pool_id for pool in pools)

    def __repr__(self) -> str:
        if len(self._pools) == 1:
            return f"TokenVerifier({self.user_pool_id!r}, jwks_url={self.jwks_url!r}, issuer={self.issuer!r})"
        return f"TokenVerifier.multi({list(self.user_pool_ids)!r})"

    @property
    def min_refetch_interval(self) -> float:
        """The former name of :attr:`jwks_cooldown`."""
        return self.jwks_cooldown

    @property
    def jwks_urls(self) -> dict[str, str]:
        """``{accepted issuer: JWKS URL its tokens' keys are fetched from}``, for every pool."""
        return {iss: url for iss, (_pool, url) in self._routes.items()}

    # -- public ------------------------------------------------------------------------------------

    async def verify(
        self,
        token: str,
        token_use: TokenUse = "access",
        *,
        check_revocation: bool | None = None,
        groups: str | Iterable[str] | None | _AsConfigured = AS_CONFIGURED,
        scopes: str | Iterable[str] | None | _AsConfigured = AS_CONFIGURED,
        custom_check: CustomCheck | None | _AsConfigured = AS_CONFIGURED,
    ) -> dict[str, Any]:
        """Return the claims of ``token`` after every check; see the class docstring for the reasons.

        ``groups``, ``scopes`` and ``custom_check`` replace the configured ones for this call (None: no
        such check); left out, the pool's / verifier's apply.

        Raises:
            InvalidToken: the token is not acceptable (``TokenExpired`` when it expired).
            JwksUnavailable: no keys could be fetched and none are cached.
        """
        if token_use != "access" and token_use != "id":
            raise ParamValidationError("verify", [f"token_use must be 'access' or 'id', not {token_use!r}"])
        revocation = self.check_revocation if check_revocation is None else check_revocation
        if revocation and self._client is None:
            raise ConfigurationError("check_revocation needs a client")
        call_groups = None if groups is AS_CONFIGURED else _requirement(groups, "groups")
        call_scopes = None if scopes is AS_CONFIGURED else _requirement(scopes, "scopes")
        check = self._custom_check if custom_check is AS_CONFIGURED else custom_check
        if check is not None and not callable(check):
            raise ConfigurationError("custom_check must be callable")
        now = self._clock()
        try:
            parsed = parse_token(token)
            # The unverified iss only picks the pool; everything is then checked with that pool's keys.
            claims = decode_payload(parsed)
            iss = claims.get("iss")
            route = self._routes.get(iss) if isinstance(iss, str) else None
            if route is None:
                raise InvalidToken("issuer", f"iss {_show(iss)} is not an accepted issuer")
            pool, url = route
            cache = pool.cache
            keys = cache.keys
            key = None if keys is None else keys.get(parsed.kid)
            if key is None:
                key = await cache.lookup(parsed.kid, now, url)
            elif now - cache.fetched_at >= self.jwks_ttl:
                cache.refresh_in_background(now, url)
            if not key.verify(parsed.signing_input, parsed.signature):
                raise InvalidToken("signature")
            check_claims(
                claims,
                token_use=token_use,
                issuer=pool.issuer_set,
                client_ids=pool.client_ids,
                now=now,
                leeway=self.leeway,
                groups=pool.groups if groups is AS_CONFIGURED else call_groups,
                scopes=pool.scopes if scopes is AS_CONFIGURED else call_scopes,
            )
        except TokenError:
            raise
        except Exception as exc:  # any other failure on a token string is a bad token
            raise InvalidToken("malformed", f"unexpected {type(exc).__name__}") from None
        if check is not None:
            await _run_custom_check(check, parsed.header, claims)
        if revocation and token_use == "access":
            await self._check_not_revoked(token)
        return claims

    def cache_jwks(self, pool: str, jwks: JwksSource) -> None:
        """Load a JWKS (dict, JSON str/bytes, or file path) as the keys of ``pool`` (its id or one of its
        issuers), e.g. to start without network. The keys count as fetched now (see ``jwks_ttl``).

        Raises:
            ConfigurationError: no such pool, or the JWKS holds no usable RS256 key.
        """
        target = self._by_name.get(pool) if isinstance(pool, str) else None
        if target is None:
            raise ConfigurationError(f"no configured pool is {pool!r}")
        target.cache.load(load_jwks(jwks), self._clock())

    async def hydrate(self) -> None:
        """Fetch the JWKS of every configured pool now (concurrently; a fetch already running is shared).

        A pool whose fetch fails but that has keys (loaded, or fetched before) keeps them.

        Raises:
            JwksUnavailable: some pool has no keys after its fetch (the message names each one).
        """
        await asyncio.gather(*(pool.cache.fetch_once(pool.jwks_url) for pool in self._pools))
        missing = [pool.cache.last_error for pool in self._pools if pool.cache.keys is None]
        if missing:
            raise JwksUnavailable("; ".join(missing))

    async def aclose(self) -> None:
        """Close the HTTP session if the verifier opened it; borrowed sessions stay open. Idempotent."""
        self._closed = True
        for pool in self._pools:
            task = pool.cache.background
            if task is not None and not task.done():
                await stop_task(task)
        session, self._owned_session = self._owned_session, None
        if session is not None:
            await session.close()

    async def __aenter__(self) -> TokenVerifier:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- plumbing ----------------------------------------------------------------------------------

    def _session(self) -> aiohttp.ClientSession:
        if self._http_session is not None:
            return self._http_session
        if self._client is not None:
            return self._client.http_session
        if self._closed:
            raise RuntimeError("the verifier is closed")
        if self._owned_session is None:
            self._owned_session = aiohttp.ClientSession()
        return self._owned_session

    async def _check_not_revoked(self, token: str) -> None:
        assert self._client is not None
        try:
            await self._client.get_user(AccessToken=token)
        except ServiceError as exc:
            if exc.code in ("NotAuthorizedException", "UserNotFoundException"):
                raise InvalidToken("revoked", exc.code) from None
            raise
