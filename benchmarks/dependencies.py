"""Two libraries aiocognito could use and does not: srptools (SRP) and tenacity (retries), measured in one run.

    pip install srptools tenacity        # measured here only; neither is a dependency of aiocognito
    python benchmarks/dependencies.py [--srp-runs 200] [--retry-calls 100000] [--rounds 3]

SRP. srptools is configured as close to Cognito's variant as its options allow (N = the RFC 5054 3072-bit
group, g = 2, SHA-256, k given explicitly, username = pool name + user id, so that its inner hash is
H(pool_name || user_id || ":" || password)) and checked against the known-answer vectors of AWS's own client
(``tests/data/cognito-srp-known-answers.json``, made by amazon-cognito-identity-js): per case, which of A, k,
x, u, S, the key and the signature it reproduces, and why not. Then the CPU of one client-side sign-in step
(``time.process_time`` over ``--srp-runs`` runs): draw ``a`` and compute A, then from the challenge's
SALT/SRP_B compute S, the HKDF key and PASSWORD_CLAIM_SIGNATURE. srptools has no HKDF key or claim
signature, so its rows use aiocognito's ``derive_key``/``claim_signature`` for that tail (microseconds) and
pass the salt pre-padded; the exponentiations, which are nearly all the cost, are its own. pycognito's
``AWSSRP`` (a peer of the test extra, Cognito's variant built in) is checked on the same cases and timed too.

Retries. Per-call CPU (``time.process_time`` over ``--retry-calls`` sequential calls on one event loop) of
aiocognito's retry loop (the loop of ``CognitoClient._invoke``, without the quota pacer and the connection
queue, neither of which is on here) and of tenacity's ``AsyncRetrying``, around a coroutine that succeeds at
once and one that raises ``ThrottlingException`` twice and then succeeds; all waits are zero, so only the
machinery is measured. tenacity runs with the same rule (``retry.py``'s functions as its ``retry`` and
``wait`` callables) as one shared ``AsyncRetrying`` (the cheapest way to call it) and as the ``@retry``
decorator (which copies the ``AsyncRetrying`` per call), and with a bare configuration (retry on any
``CognitoError``, ``wait_none``). Before timing, both loops run on a grid of errors and operations and must
make the same decisions (attempts and waits). For scale, a whole ``CognitoClient.call("GetUser")`` over a
stub transport (no HTTP) is timed too.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import importlib.metadata
import json
import logging
import os
import random
import sys
import time
from binascii import unhexlify
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiocognito._errors import CognitoError, ResponseParseError, ServiceError, TransportError
from aiocognito._signin import srp
from aiocognito._wire.error_codes import ERROR_CLASSES
from aiocognito._wire.retry import (
    RetryPolicy,
    backoff,
    failure_kind,
    is_safe_to_repeat,
    is_throttle,
    retry_delay,
)

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "data" / "cognito-srp-known-answers.json"
N_HEX = format(srp.N, "x")
K_HEX = format(srp.K, "x")
logger = logging.getLogger("aiocognito")


def need(module: str) -> None:
    try:
        __import__(module)
    except ImportError:
        raise SystemExit(
            f"{module} is not installed: pip install srptools tenacity (and the test extra)"
        ) from None


# --------------------------------------------------------------------------------------------------
# SRP: can srptools produce Cognito's values?
# --------------------------------------------------------------------------------------------------


def client_cases(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    return [v for v in data["vectors"] if v["type"] in ("password_verifier", "device_password_verifier")]


def srptools_context(inputs: dict[str, Any], *, cognito_pad: bool = False, bits: int = 1024) -> Any:
    """srptools as close to Cognito as its options go; ``cognito_pad`` also overrides its padding (a subclass)."""
    from srptools import SRPContext

    cls = SRPContext
    if cognito_pad:

        class CognitoPadContext(SRPContext):  # type: ignore[misc]
            def pad(self, val: int) -> bytes:
                return srp.padded_bytes(val)

        cls = CognitoPadContext
    return cls(
        inputs["srp_pool_name"] + inputs["srp_user_id"],  # its x hashes username + ":" + password
        inputs["srp_password"],
        prime=N_HEX,
        generator="2",  # its PRIME_3072 constant comes with g = 5 (RFC 5054); Cognito uses 2
        hash_func=hashlib.sha256,
        multiplier=K_HEX,  # its own k is H(N | PAD(g)), see check_vectors
        bits_random=bits,
    )


def mark(ok: bool) -> str:
    return "same" if ok else "DIFFERS"


def check_vectors(path: Path) -> tuple[int, int]:
    """Print, per known-answer case, which values stock srptools reproduces; return (cases, fixed-up matches)."""
    from srptools import SRPClientSession, SRPContext

    cases = client_cases(path)
    default_k = SRPContext("u", "p", prime=N_HEX, generator="2", hash_func=hashlib.sha256)._mult
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"known-answer cases: {len(cases)} client-side SRP cases from {shown}")
    print(
        f"k: srptools' own H(N | PAD(g)) (g padded to 384 bytes) = {default_k:064x}"[:90]
        + f"...; Cognito's H(00 N | 02) = {K_HEX[:16]}...: {mark(default_k == srp.K)}; given as multiplier= below"
    )
    print(f"{'case':10} {'A':5} {'x':8} {'u':8} {'S':8} {'key':8} {'process(SRP_B, SALT)':21} why")
    fixed = 0
    for case in cases:
        inputs, out = case["inputs"], case["outputs"]
        params = inputs["challenge_parameters"]
        a = int(inputs["small_a_hex"], 16)
        B = int(params["SRP_B"], 16)  # noqa: N806
        ctx = srptools_context(inputs)
        session = SRPClientSession(ctx, private=a)
        A = int(session.public, 16)  # noqa: N806
        why = []
        # x from the SALT string as process() reads it (unhexlify): the bytes as sent, no sign, no 00 byte.
        try:
            raw_salt = unhexlify(params["SALT"])
            x: int | None = ctx.get_common_password_hash(raw_salt)
            x_text = mark(format(x, "064x") == out["x_hash_hex"])
            cognito_salt = bytes.fromhex(out["salt_padded_hex"])
            if raw_salt != cognito_salt:
                why.append(
                    f"x: hashes SALT as {len(raw_salt)} bytes, Cognito as {len(cognito_salt)} (00 first)"
                )
        except Exception as exc:  # noqa: BLE001 - report whatever it raises
            x, x_text = None, "error"
            why.append(f"x: SALT {params['SALT'][:5]}... is negative; unhexlify: {exc}")
        u = ctx.get_common_secret(B, A)
        for label, value in (("A", A), ("B", B)):
            if ctx.pad(value) != srp.padded_bytes(value):
                why.append(
                    f"u: pads {label} to {len(ctx.pad(value))} bytes, Cognito to {len(srp.padded_bytes(value))}"
                )
        s_text = "-"
        if x is not None:
            S = ctx.get_client_premaster_secret(  # noqa: N806
                password_hash=x, server_public=B, client_private=a, common_secret=u
            )
            s_text = mark(srp.pad_hex(S) == out["s_padded_hex"])
        # Its key from Cognito's own S: K = H(S) against HKDF(pad(S), pad(u), "Caldera Derived Key").
        right_s = int(out["s_padded_hex"], 16)
        key_text = mark(ctx.get_common_session_key(right_s)[:16].hex() == out["hkdf_key_hex"])
        try:
            SRPClientSession(ctx, private=a).process(params["SRP_B"], params["SALT"])
            proc = "runs"
        except Exception as exc:  # noqa: BLE001
            proc = f"raises {type(exc).__module__}.{type(exc).__name__}"
        print(
            f"{case['id']:10} {mark(format(A, 'x') == out['srp_a_hex']):5} {x_text:8} "
            f"{mark(format(u, '064x') == out['u_hash_hex']):8} {s_text:8} {key_text:8} {proc:21} {'; '.join(why)}"
        )

        # The same case with every gap filled by hand: padding overridden, salt pre-padded, HKDF + HMAC ours.
        fctx = srptools_context(inputs, cognito_pad=True)
        fx = fctx.get_common_password_hash(srp.padded_bytes(srp.hex_to_int(params["SALT"])))
        fu = fctx.get_common_secret(B, A)
        fS = fctx.get_client_premaster_secret(  # noqa: N806
            password_hash=fx, server_public=B, client_private=a, common_secret=fu
        )
        signature = srp.claim_signature(
            key=srp.derive_key(fS, fu),
            srp_pool_name=inputs["srp_pool_name"],
            srp_user_id=inputs["srp_user_id"],
            secret_block=base64.b64decode(params["SECRET_BLOCK"]),
            timestamp=out["timestamp"],
        )
        fixed += signature == out["password_claim_signature"]
    print(
        "key: srptools' key is K = H(S), compared here from Cognito's own S; Cognito's is HKDF-SHA256(pad(S), "
        "pad(u), 'Caldera Derived Key')[:16]. signature: srptools has no HMAC claim (its proof is RFC 2945's M)"
    )
    print(
        f"with its pad() overridden by a subclass, the salt pre-padded by the caller and the HKDF + HMAC "
        f"written by hand: {fixed} of {len(cases)} signatures match"
    )
    return len(cases), fixed


def check_pycognito(path: Path) -> None:
    """pycognito's AWSSRP (the client the warrant library began) on the same cases: key and signature."""
    from pycognito.aws_srp import AWSSRP

    print(
        f"\npycognito {importlib.metadata.version('pycognito')} AWSSRP on the same cases (its a set to the case's):"
    )
    for case in client_cases(path):
        inputs, out = case["inputs"], case["outputs"]
        params = inputs["challenge_parameters"]
        device = case["type"] == "device_password_verifier"
        extra = (
            {"device_key": inputs["device_key"], "device_group_key": inputs["device_group_key"]}
            | {"device_password": inputs["device_password"]}
            if device
            else {}
        )
        helper = AWSSRP(
            inputs["username"],
            inputs["password"] if not device else None,
            inputs["pool_id"],
            "c",
            client=object(),
            **extra,
        )
        helper.small_a_value = int(inputs["small_a_hex"], 16)
        helper.large_a_value = helper.calculate_a()
        B = int(params["SRP_B"], 16)  # noqa: N806
        try:
            if device:
                key = helper.get_device_authentication_key(
                    inputs["device_group_key"],
                    inputs["device_key"],
                    inputs["device_password"],
                    B,
                    params["SALT"],
                )
                result = f"key {mark(key.hex() == out['hkdf_key_hex'])}"
            else:
                helper.get_cognito_formatted_timestamp = lambda _now, ts=out["timestamp"]: ts
                answer = helper.process_challenge(params, {"USERNAME": inputs["username"]})
                result = (
                    f"signature {mark(answer['PASSWORD_CLAIM_SIGNATURE'] == out['password_claim_signature'])}"
                )
        except Exception as exc:  # noqa: BLE001 - report whatever it raises
            result = f"raises {type(exc).__name__}: {exc} (SALT {params['SALT'][:5]}...)"
        print(f"  {case['id']:10} {result}")


def u_match_rate(samples: int) -> float:
    """How often stock srptools' u (pad to N's width) equals Cognito's (minimal two's complement) for real A, B."""
    from srptools import SRPContext

    ctx = SRPContext("u", "p", prime=N_HEX, generator="2", hash_func=hashlib.sha256, multiplier=K_HEX)
    verifier = srp.compute_verifier(
        srp_pool_name="pool", srp_user_id="user", password="pw", salt=b"\x01" * 16
    )
    same = 0
    for _ in range(samples):
        A = srp.new_ephemeral().A  # noqa: N806
        _, B = srp.server_ephemeral(verifier)  # noqa: N806
        same += ctx.get_common_secret(B, A) == srp.compute_u(A, B)
    return same / samples


# --------------------------------------------------------------------------------------------------
# SRP: CPU per client step
# --------------------------------------------------------------------------------------------------


def step_ours(case: dict[str, Any], nbytes: int) -> str:
    inputs, params = case["inputs"], case["inputs"]["challenge_parameters"]
    ephemeral = srp.new_ephemeral(nbytes=nbytes)  # a, A (SRP_A goes out in InitiateAuth)
    return srp.password_signature(
        srp_pool_name=inputs["srp_pool_name"],
        srp_user_id=inputs["srp_user_id"],
        password=inputs["srp_password"],
        ephemeral=ephemeral,
        salt_hex=params["SALT"],
        srp_b_hex=params["SRP_B"],
        secret_block_b64=params["SECRET_BLOCK"],
        timestamp=case["outputs"]["timestamp"],
    )


def step_srptools(case: dict[str, Any], bits: int) -> str:
    from srptools import SRPClientSession

    inputs, params = case["inputs"], case["inputs"]["challenge_parameters"]
    ctx = srptools_context(inputs, bits=bits)
    session = SRPClientSession(ctx)  # a, A
    A, a = int(session.public, 16), int(session.private, 16)  # noqa: N806
    B = int(params["SRP_B"], 16)  # noqa: N806
    x = ctx.get_common_password_hash(srp.padded_bytes(srp.hex_to_int(params["SALT"])))
    u = ctx.get_common_secret(B, A)
    S = ctx.get_client_premaster_secret(password_hash=x, server_public=B, client_private=a, common_secret=u)  # noqa: N806
    return srp.claim_signature(
        key=srp.derive_key(S, u),
        srp_pool_name=inputs["srp_pool_name"],
        srp_user_id=inputs["srp_user_id"],
        secret_block=base64.b64decode(params["SECRET_BLOCK"]),
        timestamp=case["outputs"]["timestamp"],
    )


def step_pycognito(case: dict[str, Any]) -> str:
    from pycognito.aws_srp import AWSSRP

    inputs, params = case["inputs"], case["inputs"]["challenge_parameters"]
    helper = AWSSRP(inputs["username"], inputs["password"], inputs["pool_id"], "c", client=object())  # a, A
    answer = helper.process_challenge(params, {"USERNAME": inputs["username"]})
    return str(answer["PASSWORD_CLAIM_SIGNATURE"])


def cpu_ms(step: Callable[[], object], runs: int) -> float:
    step()
    t0 = time.process_time()
    for _ in range(runs):
        step()
    return (time.process_time() - t0) / runs * 1e3


def srp_cpu(path: Path, runs: int, rounds: int) -> None:
    case = client_cases(path)[0]
    rows = [
        ("aiocognito (gmpy2)", "256 (its default)", lambda: step_ours(case, 32)),
        ("aiocognito (gmpy2)", "1024 (AWS's JS client)", lambda: step_ours(case, 128)),
        ("srptools (pow)", "1024 (its default)", lambda: step_srptools(case, 1024)),
        ("srptools (pow)", "256", lambda: step_srptools(case, 256)),
        ("pycognito (pow)", "1024 (its 128 bytes)", lambda: step_pycognito(case)),
    ]
    best = [cpu_ms(fn, runs) for _, _, fn in rows]
    for _ in range(rounds - 1):  # rounds interleave the rows; each keeps its best round
        best = [min(b, cpu_ms(fn, runs)) for b, (_, _, fn) in zip(best, rows, strict=True)]
    results = [(name, bits, ms) for (name, bits, _), ms in zip(rows, best, strict=True)]
    same_bits = {"256": results[0][2], "1024": results[1][2]}
    print(
        f"\nSRP client step (A, then S, key and signature), CPU ms per step, {runs} runs, best of {rounds} rounds"
    )
    print(f"{'library':20} {'bits of a':24} {'ms':>7} {'x aiocognito':>13} {'x aiocognito, same bits':>24}")
    for name, bits, ms in results:
        ratio = ms / same_bits[bits.split()[0]]
        print(f"{name:20} {bits:24} {ms:7.2f} {ms / results[0][2]:13.1f} {ratio:24.1f}")


# --------------------------------------------------------------------------------------------------
# Retries
# --------------------------------------------------------------------------------------------------

ZERO = RetryPolicy(max_attempts=4, base_delay=0.0, max_delay=0.0, throttle_base_delay=0.0)


async def ours(fn: Callable[[], Awaitable[Any]], name: str, policy: RetryPolicy = ZERO) -> Any:
    """The loop of ``CognitoClient._invoke`` (client.py) without the pacer and connection slots."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await fn()
        except CognitoError as exc:
            error = exc
        delay = retry_delay(policy, attempt, error, name, random.random)
        if delay is None:
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("%s failed after %d attempt(s): %s", name, attempt, type(error).__name__)
            raise error
        logger.debug(
            "%s attempt %d failed (%s); retrying in %.3fs", name, attempt, type(error).__name__, delay
        )
        await asyncio.sleep(delay)


def tenacity_same_rule(name: str, policy: RetryPolicy = ZERO) -> Any:
    """AsyncRetrying with aiocognito's rule: retry.py's functions as its retry and wait callables."""
    import tenacity

    def retryable(error: BaseException) -> bool:
        kind = failure_kind(error)
        return kind == "rejected" or (kind == "ambiguous" and is_safe_to_repeat(name))

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return backoff(policy, state.attempt_number, throttled=error is not None and is_throttle(error))

    def log(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.debug(
            "%s attempt %d failed (%s); retrying in %.3fs",
            name,
            state.attempt_number,
            type(error).__name__,
            state.upcoming_sleep,
        )

    return tenacity.AsyncRetrying(
        stop=tenacity.stop_after_attempt(policy.max_attempts),
        retry=tenacity.retry_if_exception(retryable),
        wait=wait,
        before_sleep=log,
        reraise=True,
    )


def tenacity_bare() -> Any:
    import tenacity

    return tenacity.AsyncRetrying(
        stop=tenacity.stop_after_attempt(4),
        retry=tenacity.retry_if_exception_type(CognitoError),
        wait=tenacity.wait_none(),
        reraise=True,
    )


def throttled() -> ServiceError:
    return ERROR_CLASSES["ThrottlingException"]("Rate exceeded", code="ThrottlingException", status=400)


def make_fn(failures: int) -> Callable[[], Awaitable[dict[str, Any]]]:
    left = failures

    async def call() -> dict[str, Any]:
        nonlocal left
        if left:
            left -= 1
            raise throttled()
        return {"ok": True}

    return call


async def attempts_made(run: Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]], error: Any) -> int:
    count = 0

    async def always() -> None:
        nonlocal count
        count += 1
        raise error()

    try:
        await run(always)
    except CognitoError:
        pass
    return count


def same_decisions(error: Callable[[], CognitoError], name: str) -> bool:
    """Attempts and waits of both loops for an error that repeats forever; both draw from one seeded generator."""
    policy = RetryPolicy()
    ours_waits: list[float] = []
    theirs_waits: list[float] = []
    rng = random.Random(7)

    async def run_ours(fn: Callable[[], Awaitable[Any]]) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await fn()
            except CognitoError as exc:
                delay = retry_delay(policy, attempt, exc, name, rng.random)
                if delay is None:
                    raise
                ours_waits.append(delay)

    def wait(state: Any) -> float:
        exc = state.outcome.exception()
        return backoff(policy, state.attempt_number, throttled=is_throttle(exc), random=rng.random)

    async def no_sleep(seconds: float) -> None:
        theirs_waits.append(seconds)

    async def run_theirs(fn: Callable[[], Awaitable[Any]]) -> Any:
        return await tenacity_same_rule(name, policy).copy(wait=wait, sleep=no_sleep)(fn)

    n_ours = asyncio.run(attempts_made(run_ours, error))
    rng.seed(7)
    n_theirs = asyncio.run(attempts_made(run_theirs, error))
    return n_ours == n_theirs and ours_waits == theirs_waits


def decision_grid() -> tuple[int, int]:
    """How many (error, operation) pairs both loops treat alike."""

    def svc(code: str, status: int) -> Callable[[], ServiceError]:
        return lambda: ERROR_CLASSES.get(code, ServiceError)("m", code=code, status=status)

    errors: dict[str, Callable[[], CognitoError]] = {
        "ThrottlingException": svc("ThrottlingException", 400),
        "TooManyRequestsException": svc("TooManyRequestsException", 400),
        "HTTP 429, no code": lambda: ResponseParseError("x", operation=None, status=429, excerpt=""),
        "InternalErrorException": svc("InternalErrorException", 500),
        "HTTP 503": svc("ServiceUnavailable", 503),
        "connect failed (never sent)": lambda: TransportError("x", before_send=True),
        "reset after send": lambda: TransportError("x", before_send=False),
        "LimitExceededException": svc("LimitExceededException", 400),
        "NotAuthorizedException": svc("NotAuthorizedException", 400),
    }
    operations = [
        "AdminGetUser",
        "AdminDeleteUser",
        "InitiateAuth",
        "SignUp",
        "CreateGroup",
        "AdminCreateUser",
    ]
    total = same = 0
    for error in errors.values():
        for name in operations:
            total += 1
            same += same_decisions(error, name)
    return same, total


def builtin_full_jitter_matches() -> bool:
    """tenacity's wait_random_exponential is the same full jitter as retry.backoff, for one base delay."""
    import tenacity

    policy = RetryPolicy()
    wait = tenacity.wait_random_exponential(multiplier=policy.base_delay, max=policy.max_delay)
    state = tenacity.RetryCallState(tenacity.Retrying(), fn=None, args=(), kwargs={})
    random.seed(11)
    theirs = []
    for attempt in range(1, 9):
        state.attempt_number = attempt
        theirs.append(wait(state))
    random.seed(11)
    ours = [backoff(policy, attempt, throttled=False, random=random.random) for attempt in range(1, 9)]
    return all(abs(a - b) < 1e-12 for a, b in zip(ours, theirs, strict=True))


async def time_calls(
    run: Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]], failures: int, calls: int
) -> float:
    for _ in range(1000):
        await run(make_fn(failures))
    t0 = time.process_time()
    for _ in range(calls):
        await run(make_fn(failures))
    return (time.process_time() - t0) / calls * 1e6


async def whole_call_us(calls: int, failures: int) -> float:
    """A whole ``CognitoClient.call("GetUser")`` (real loop, parse, convert) over a stub transport."""
    from multidict import CIMultiDict

    import aiocognito
    from aiocognito._wire.transport import RawResponse

    ok = RawResponse(200, CIMultiDict({"x-amzn-RequestId": "r"}), b'{"Username":"a","UserAttributes":[]}')
    slow = RawResponse(
        400,
        CIMultiDict({"x-amzn-RequestId": "r"}),
        b'{"__type":"ThrottlingException","message":"Rate exceeded"}',
    )

    class Stub:
        def __init__(self) -> None:
            self.left = 0

        async def send(self, url: str, headers: dict[str, str], body: bytes) -> RawResponse:
            if self.left:
                self.left -= 1
                return slow
            return ok

        async def aclose(self) -> None:
            pass

    stub = Stub()
    async with aiocognito.CognitoClient(
        region="us-east-1", endpoint_url="http://127.0.0.1:9", transport=stub, retries=ZERO
    ) as cognito:

        async def one() -> None:
            stub.left = failures
            await cognito.call("GetUser", AccessToken="t")

        for _ in range(1000):
            await one()
        t0 = time.process_time()
        for _ in range(calls):
            await one()
        return (time.process_time() - t0) / calls * 1e6


def retry_overhead(calls: int, rounds: int) -> None:
    import tenacity

    same, total = decision_grid()
    print(f"\nsame decisions (attempts and waits) as retry.py on {same} of {total} (error, operation) cases")
    print(
        "tenacity's wait_random_exponential gives the same waits as retry.backoff for one base delay: "
        f"{builtin_full_jitter_matches()}"
    )
    shared_rule = tenacity_same_rule("AdminGetUser")
    bare = tenacity_bare()

    @tenacity.retry(
        stop=tenacity.stop_after_attempt(4),
        retry=shared_rule.retry,
        wait=shared_rule.wait,
        before_sleep=shared_rule.before_sleep,
        reraise=True,
    )
    async def decorated(fn: Callable[[], Awaitable[Any]]) -> Any:
        return await fn()

    async def plain(fn: Callable[[], Awaitable[Any]]) -> Any:
        return await fn()

    rows: list[tuple[str, Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]]] = [
        ("no retry loop (await fn())", plain),
        ("aiocognito loop (retry.py)", lambda fn: ours(fn, "AdminGetUser")),
        ("tenacity, same rule, shared", lambda fn: shared_rule(fn)),
        ("tenacity, same rule, @retry", decorated),
        ("tenacity, bare, shared", lambda fn: bare(fn)),
    ]

    async def measure() -> list[tuple[str, float, float | None]]:
        inf = float("inf")
        best = {label: [inf, inf] for label, _ in rows}
        for _ in range(rounds):  # rounds interleave the rows; each keeps its best round
            for label, run in rows:
                best[label][0] = min(best[label][0], await time_calls(run, 0, calls))
                if run is not plain:
                    best[label][1] = min(best[label][1], await time_calls(run, 2, calls))
        return [(label, ok, None if fails == inf else fails) for label, (ok, fails) in best.items()]

    results = asyncio.run(measure())
    print(
        f"\nretry loop around a coroutine, CPU us per call, {calls:,} calls, best of {rounds} rounds, zero waits "
        f"(tenacity {importlib.metadata.version('tenacity')})"
    )
    print(f"{'':30} {'succeeds at once':>16} {'(+ over no loop)':>17} {'throttled twice, then succeeds':>31}")
    floor = results[0][1]
    for label, first, fails in results:
        over = "" if fails is None else f"{first - floor:+.2f}"
        print(f"{label:30} {first:16.2f} {over:>17} {'' if fails is None else f'{fails:31.2f}'}")
    whole = asyncio.run(whole_call_us(calls // 5, 0))
    whole_fail = asyncio.run(whole_call_us(calls // 5, 2))
    print(
        f"for scale: a whole CognitoClient.call('GetUser') over a stub transport: {whole:.2f} us "
        f"(succeeds), {whole_fail:.2f} us (throttled twice)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--srp-runs", type=int, default=200)
    ap.add_argument("--retry-calls", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--u-samples", type=int, default=1000)
    ap.add_argument("--vectors", type=Path, default=VECTORS)
    args = ap.parse_args()
    need("srptools")
    need("tenacity")
    need("pycognito")
    print(f"srptools {importlib.metadata.version('srptools')}, python {sys.version.split()[0]}")
    check_vectors(args.vectors)
    rate = u_match_rate(args.u_samples)
    print(
        f"stock srptools' u (A, B padded to N's 384 bytes) equals Cognito's (minimal two's complement) "
        f"in {rate:.0%} of {args.u_samples} fresh (A, B) pairs"
    )
    check_pycognito(args.vectors)
    srp_cpu(args.vectors, args.srp_runs, args.rounds)
    retry_overhead(args.retry_calls, args.rounds)


if __name__ == "__main__":
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    main()
