"""Tests for aiocognito._signin.srp: the known-answer vectors, a client/server round trip, encodings, errors."""

from __future__ import annotations

import base64
import json
import locale
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiocognito._errors import ProtocolError
from aiocognito._signin import srp

VECTORS_PATH = Path(__file__).parent / "data" / "cognito-srp-known-answers.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text())


def cases(kind: str) -> list[Any]:
    found = [pytest.param(v, id=v["id"]) for v in VECTORS["vectors"] if v["type"] == kind]
    assert found, kind
    return found


def when(epoch_ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=epoch_ms)


def fixed_random(*chunks: bytes) -> Callable[[int], bytes]:
    """A random_bytes stand-in that hands out ``chunks`` in order and checks the requested sizes."""
    pending = list(chunks)

    def draw(n: int) -> bytes:
        chunk = pending.pop(0)
        assert len(chunk) == n, (len(chunk), n)
        return chunk

    return draw


# --------------------------------------------------------------------------------------------------
# Known-answer vectors
# --------------------------------------------------------------------------------------------------


def test_vector_file_is_complete() -> None:
    counts = VECTORS["counts"]
    kinds = [v["type"] for v in VECTORS["vectors"]]
    assert len(kinds) == counts["total"]
    for kind, count in counts.items():
        if kind != "total":
            assert kinds.count(kind) == count, kind


def test_constants() -> None:
    constants = VECTORS["constants"]
    assert srp.N == int(constants["N_hex"], 16)
    assert srp.N.bit_length() == 3072
    assert srp.G == int(constants["g_hex"], 16)
    assert format(srp.K, "064x") == constants["k_hex"]
    assert srp.INFO_BITS.decode() == constants["hkdf_info"]


@pytest.mark.parametrize("vector", cases("pad_hex"))
def test_pad_hex_vectors(vector: dict[str, Any]) -> None:
    assert srp.pad_hex(srp.hex_to_int(vector["inputs"]["value"])) == vector["outputs"]["padded_hex"]


@pytest.mark.parametrize("vector", cases("timestamp"))
def test_timestamp_vectors(vector: dict[str, Any]) -> None:
    expected = vector["outputs"]["timestamp"]
    assert srp.format_timestamp(when(vector["inputs"]["epoch_ms"])) == expected
    iso = datetime.fromisoformat(vector["inputs"]["date_iso"].replace("Z", "+00:00"))
    assert srp.format_timestamp(iso) == expected


def _check_srp_vector(vector: dict[str, Any]) -> None:
    """Every client-side and server-side field of a password_verifier / device_password_verifier case."""
    inputs, outputs, server = vector["inputs"], vector["outputs"], vector["server"]
    params = inputs["challenge_parameters"]
    pool, user, password = inputs["srp_pool_name"], inputs["srp_user_id"], inputs["srp_password"]

    ephemeral = srp.ephemeral_from_random(bytes.fromhex(inputs["small_a_random_hex"]))
    assert ephemeral.a == int(inputs["small_a_hex"], 16)
    assert ephemeral.srp_a == outputs["srp_a_hex"]
    assert srp.pad_hex(ephemeral.A) == outputs["a_padded_hex"]

    B = srp.hex_to_int(params["SRP_B"], what="SRP_B")
    salt = srp.hex_to_int(params["SALT"], what="SALT")
    assert srp.pad_hex(B) == outputs["b_padded_hex"]
    assert srp.pad_hex(salt) == outputs["salt_padded_hex"]

    u = srp.compute_u(ephemeral.A, B)
    assert format(u, "064x") == outputs["u_hash_hex"]
    assert srp.pad_hex(u) == outputs["u_padded_hex"]
    x = srp.compute_x(salt=salt, srp_pool_name=pool, srp_user_id=user, password=password)
    assert format(x, "064x") == outputs["x_hash_hex"] == server["x_hash_hex"]
    S = srp.client_premaster_secret(a=ephemeral.a, B=B, u=u, x=x)
    assert srp.pad_hex(S) == outputs["s_padded_hex"] == server["premaster_secret_padded_hex"]
    key = srp.derive_key(S, u)
    assert key.hex() == outputs["hkdf_key_hex"]
    assert (
        srp.client_session_key(
            srp_pool_name=pool, srp_user_id=user, password=password, ephemeral=ephemeral, salt=salt, B=B
        )
        == key
    )

    timestamp = srp.format_timestamp(when(inputs["epoch_ms"]))
    assert timestamp == outputs["timestamp"]
    signature = srp.password_signature(
        srp_pool_name=pool,
        srp_user_id=user,
        password=password,
        ephemeral=ephemeral,
        salt_hex=params["SALT"],
        srp_b_hex=params["SRP_B"],
        secret_block_b64=params["SECRET_BLOCK"],
        timestamp=timestamp,
    )
    assert signature == outputs["password_claim_signature"]
    responses = outputs["challenge_responses"]
    assert responses["PASSWORD_CLAIM_SIGNATURE"] == signature
    assert responses["TIMESTAMP"] == timestamp
    assert responses["PASSWORD_CLAIM_SECRET_BLOCK"] == params["SECRET_BLOCK"]

    # The server's end of the same exchange.
    salt_bytes = bytes.fromhex(server["salt_bytes_hex"])
    assert srp.salt_to_hex(salt_bytes) == params["SALT"]
    verifier = srp.compute_verifier(srp_pool_name=pool, srp_user_id=user, password=password, salt=salt_bytes)
    assert srp.pad_hex(verifier) == server["verifier_padded_hex"]
    b, server_B = srp.server_ephemeral(verifier, fixed_random(bytes.fromhex(server["b_random_hex"])))
    assert b == int(server["b_random_hex"], 16)
    assert server_B == B
    assert srp.int_to_hex(server_B) == params["SRP_B"]
    assert srp.pad_hex(
        srp.server_premaster_secret(A=ephemeral.A, verifier=verifier, u=u, b=b)
    ) == srp.pad_hex(S)
    expected = srp.expected_signature(
        srp_pool_name=pool,
        srp_user_id=user,
        verifier=verifier,
        b=b,
        B=server_B,
        A_hex=ephemeral.srp_a,
        salt_hex=params["SALT"],
        secret_block=base64.b64decode(params["SECRET_BLOCK"]),
        timestamp=timestamp,
    )
    assert expected == signature


@pytest.mark.parametrize("vector", cases("password_verifier"))
def test_password_verifier_vectors(vector: dict[str, Any]) -> None:
    inputs, outputs = vector["inputs"], vector["outputs"]
    params = inputs["challenge_parameters"]
    assert srp.pool_name_of(inputs["pool_id"]) == inputs["pool_name"] == inputs["srp_pool_name"]
    assert inputs["srp_user_id"] == params["USER_ID_FOR_SRP"]
    assert outputs["auth_parameters"]["SRP_A"] == outputs["srp_a_hex"]
    assert outputs["challenge_responses"]["USERNAME"] == params["USER_ID_FOR_SRP"]
    _check_srp_vector(vector)


@pytest.mark.parametrize("vector", cases("device_password_verifier"))
def test_device_password_verifier_vectors(vector: dict[str, Any]) -> None:
    inputs, outputs = vector["inputs"], vector["outputs"]
    assert inputs["srp_pool_name"] == inputs["device_group_key"]
    assert inputs["srp_user_id"] == inputs["device_key"]
    assert inputs["srp_password"] == inputs["device_password"]
    first = outputs["device_srp_auth_challenge_responses"]
    assert first["SRP_A"] == srp.ephemeral_from_random(bytes.fromhex(inputs["small_a_random_hex"])).srp_a
    assert first["DEVICE_KEY"] == inputs["device_key"]
    assert first["USERNAME"] == inputs["challenge_parameters"]["USERNAME"] == inputs["username"]
    assert outputs["challenge_responses"]["DEVICE_KEY"] == inputs["device_key"]
    _check_srp_vector(vector)

    # The verifier the device registered parses back to what the server side uses.
    salt, verifier = srp.parse_device_verifier_config(inputs["device_secret_verifier_config"])
    assert salt.hex() == vector["server"]["salt_bytes_hex"]
    assert srp.pad_hex(verifier) == vector["server"]["verifier_padded_hex"]
    registered = next(v for v in VECTORS["vectors"] if v["id"] == vector["registered_by"])
    assert registered["outputs"]["device_secret_verifier_config"] == inputs["device_secret_verifier_config"]


@pytest.mark.parametrize("vector", cases("device_verifier"))
def test_device_verifier_vectors(vector: dict[str, Any]) -> None:
    inputs, outputs = vector["inputs"], vector["outputs"]
    group, device = inputs["device_group_key"], inputs["device_key"]
    secret = srp.new_device_secret(
        group,
        device,
        fixed_random(
            bytes.fromhex(inputs["random_password_random_hex"]), bytes.fromhex(inputs["salt_random_hex"])
        ),
    )
    assert secret.device_password == outputs["device_password"]
    assert secret.verifier_config() == outputs["device_secret_verifier_config"]
    assert secret.verifier_config() == outputs["confirm_device_request"]["DeviceSecretVerifierConfig"]
    assert base64.b64decode(secret.salt_b64).hex() == outputs["salt_padded_hex"]
    assert base64.b64decode(secret.verifier_b64).hex() == outputs["verifier_padded_hex"]

    assert f"{group}{device}:{secret.device_password}" == outputs["hashed_string"]
    inner = srp.identity_hash(group, device, secret.device_password)
    assert inner.hex() == outputs["hashed_string_sha256_hex"]
    x = srp.compute_x(
        salt=int(outputs["salt_padded_hex"], 16),
        srp_pool_name=group,
        srp_user_id=device,
        password=secret.device_password,
    )
    assert format(x, "064x") == outputs["x_hash_hex"]


@pytest.mark.parametrize("vector", cases("error"))
def test_error_vectors(vector: dict[str, Any]) -> None:
    inputs = vector["inputs"]
    params = inputs["challenge_parameters"]
    ephemeral = srp.ephemeral_from_random(bytes.fromhex(inputs["small_a_random_hex"]))
    assert ephemeral.a == int(inputs["small_a_hex"], 16)
    assert ephemeral.srp_a == vector["outputs"]["srp_a_hex"]
    with pytest.raises(ProtocolError) as caught:
        srp.password_signature(
            srp_pool_name=srp.pool_name_of(inputs["pool_id"]),
            srp_user_id=params["USER_ID_FOR_SRP"],
            password=inputs["password"],
            ephemeral=ephemeral,
            salt_hex=params["SALT"],
            srp_b_hex=params["SRP_B"],
            secret_block_b64=params["SECRET_BLOCK"],
            timestamp=srp.format_timestamp(when(inputs["epoch_ms"])),
        )
    assert inputs["password"] not in str(caught.value)


# --------------------------------------------------------------------------------------------------
# Round trip: the client's functions against the server's
# --------------------------------------------------------------------------------------------------

NOW = datetime(2026, 3, 5, 9, 4, 11, tzinfo=timezone.utc)


def _server_challenge(
    pool: str, user: str, password: str, salt: bytes
) -> tuple[int, int, int, dict[str, str], bytes]:
    verifier = srp.compute_verifier(srp_pool_name=pool, srp_user_id=user, password=password, salt=salt)
    b, B = srp.server_ephemeral(verifier)
    secret_block = os.urandom(64)
    params = {
        "SALT": srp.salt_to_hex(salt),
        "SRP_B": srp.int_to_hex(B),
        "SECRET_BLOCK": base64.b64encode(secret_block).decode(),
    }
    return verifier, b, B, params, secret_block


def _client_signs(
    pool: str, user: str, password: str, params: dict[str, str], eph: srp.Ephemeral, ts: str
) -> str:
    return srp.password_signature(
        srp_pool_name=pool,
        srp_user_id=user,
        password=password,
        ephemeral=eph,
        salt_hex=params["SALT"],
        srp_b_hex=params["SRP_B"],
        secret_block_b64=params["SECRET_BLOCK"],
        timestamp=ts,
    )


@pytest.mark.parametrize(
    "salt",
    [
        pytest.param(bytes.fromhex("0651d153d38361ea860cb0c1cd2fd232"), id="positive"),
        pytest.param(bytes.fromhex("e95f476857431e06df700d85f6378fcc"), id="negative"),
        pytest.param(bytes.fromhex("0085344776f39ef7c72cf1c77f85fa56cc"), id="padded-msb"),
    ],
)
def test_round_trip_user(salt: bytes) -> None:
    pool, user, password = srp.pool_name_of("eu-west-1_Abc123"), "5f1c-user", "pässwörd:with colon"
    verifier, b, B, params, secret_block = _server_challenge(pool, user, password, salt)
    eph = srp.new_ephemeral()
    ts = srp.format_timestamp(NOW)

    def server_expects(*, timestamp: str = ts, block: bytes = secret_block, user_id: str = user) -> str:
        return srp.expected_signature(
            srp_pool_name=pool,
            srp_user_id=user_id,
            verifier=verifier,
            b=b,
            B=B,
            A_hex=eph.srp_a,
            salt_hex=params["SALT"],
            secret_block=block,
            timestamp=timestamp,
        )

    good = _client_signs(pool, user, password, params, eph, ts)
    assert good == server_expects()
    assert len(base64.b64decode(good)) == 32
    # Wrong password, tampered secret block, another timestamp, another user id: no match.
    assert _client_signs(pool, user, password + "x", params, eph, ts) != server_expects()
    assert good != server_expects(block=secret_block[:-1] + bytes([secret_block[-1] ^ 1]))
    assert good != server_expects(timestamp=srp.format_timestamp(NOW + timedelta(seconds=1)))
    assert good != server_expects(user_id=user + "x")
    # A fresh ephemeral gives a different, equally valid signature.
    other = srp.new_ephemeral()
    assert other.A != eph.A
    assert _client_signs(pool, user, password, params, other, ts) != good


def test_round_trip_device() -> None:
    group, device = "-MQ1T5tR2", "us-east-1_aa18aff0-2b28-4889-9cae-bfb5a0bb0961"
    secret = srp.new_device_secret(group, device)
    assert len(base64.b64decode(secret.device_password)) == 40
    assert 15 <= len(base64.b64decode(secret.salt_b64)) <= 17
    salt, verifier = srp.parse_device_verifier_config(secret.verifier_config())
    b, B = srp.server_ephemeral(verifier)
    block = os.urandom(48)
    eph = srp.new_ephemeral()
    ts = srp.format_timestamp(NOW)
    signature = srp.password_signature(
        srp_pool_name=group,
        srp_user_id=device,
        password=secret.device_password,
        ephemeral=eph,
        salt_hex=srp.salt_to_hex(salt),
        srp_b_hex=srp.int_to_hex(B),
        secret_block_b64=base64.b64encode(block).decode(),
        timestamp=ts,
    )
    kwargs: dict[str, Any] = dict(
        srp_pool_name=group, srp_user_id=device, b=b, B=B, A_hex=eph.srp_a,
        salt_hex=srp.salt_to_hex(salt), secret_block=block, timestamp=ts,
    )  # fmt: skip
    assert srp.expected_signature(verifier=verifier, **kwargs) == signature
    other = srp.new_device_secret(group, device)
    _, other_verifier = srp.parse_device_verifier_config(other.verifier_config())
    assert srp.expected_signature(verifier=other_verifier, **kwargs) != signature


# --------------------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "padded"),
    [(0, "00"), (1, "01"), (0x7F, "7f"), (0x80, "0080"), (0xFF, "00ff"), (0x100, "0100"), (0xABC, "0abc"),
     (-1, "ff"), (-0x80, "80"), (-0x81, "ff7f"), (-0x100, "ff00"), (-0x8000, "8000"), (-0x8001, "ff7fff")],
)  # fmt: skip
def test_pad_hex_table(value: int, padded: str) -> None:
    assert srp.pad_hex(value) == padded
    assert srp.padded_bytes(value) == bytes.fromhex(padded)


@given(st.integers(min_value=-(2**3100), max_value=2**3100))
def test_pad_hex_is_minimal_twos_complement(value: int) -> None:
    text = srp.pad_hex(value)
    raw = bytes.fromhex(text)
    assert text == text.lower() and len(text) % 2 == 0
    assert int.from_bytes(raw, "big", signed=True) == value
    # Minimal: no redundant sign byte in front.
    if len(raw) > 1:
        assert not (raw[0] == 0x00 and raw[1] < 0x80)
        assert not (raw[0] == 0xFF and raw[1] >= 0x80)


@given(st.integers(min_value=0, max_value=2**3100))
def test_pad_hex_matches_readme_rule_for_non_negative(value: int) -> None:
    digits = format(value, "x")
    if len(digits) % 2:
        digits = "0" + digits
    if digits[0] in "89abcdef":
        digits = "00" + digits
    assert srp.pad_hex(value) == digits


@given(st.integers(min_value=-(2**3100), max_value=2**3100))
def test_hex_round_trip(value: int) -> None:
    assert srp.hex_to_int(srp.int_to_hex(value)) == value
    assert srp.hex_to_int(srp.int_to_hex(value).upper()) == value


@given(st.binary(min_size=1, max_size=40))
def test_salt_to_hex_round_trips_through_the_client_parse(raw: bytes) -> None:
    minimal = srp.padded_bytes(int.from_bytes(raw, "big", signed=True))
    assert srp.pad_hex(srp.hex_to_int(srp.salt_to_hex(raw))) == minimal.hex()
    assert len(srp.salt_to_hex(raw).lstrip("-")) % 2 == 0


def test_hex_to_int_parses_like_biginteger() -> None:
    assert srp.hex_to_int("0012ab") == 0x12AB
    assert srp.hex_to_int("-100") == -0x100
    assert srp.hex_to_int("DEADbeef") == 0xDEADBEEF


@pytest.mark.parametrize(
    "bad", ["", "-", "0x12", "12 ", " 12", "+12", "1_2", "xyz", "12g", "--1", "１２", "a" * 5000]
)
def test_hex_to_int_rejects(bad: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        srp.hex_to_int(bad, what="SRP_B")
    assert "SRP_B" in str(caught.value)
    if bad.strip():
        assert bad.strip() not in str(caught.value)


def test_hex_to_int_rejects_non_strings() -> None:
    with pytest.raises(ProtocolError):
        srp.hex_to_int(None)  # type: ignore[arg-type]


def test_pool_name_of() -> None:
    assert srp.pool_name_of("us-east-1_XXXXXXXXX") == "XXXXXXXXX"
    assert srp.pool_name_of("eu-central-1_a_b") == "a_b"
    for bad in ["nounderscore", "_abc", "us-east-1_"]:
        with pytest.raises(ValueError):
            srp.pool_name_of(bad)


# --------------------------------------------------------------------------------------------------
# TIMESTAMP
# --------------------------------------------------------------------------------------------------


def test_timestamp_day_below_ten_is_not_padded() -> None:
    assert srp.format_timestamp(datetime(2024, 3, 5, 9, 4, 1, 999999, tzinfo=timezone.utc)) == (
        "Tue Mar 5 09:04:01 UTC 2024"
    )
    assert (
        srp.format_timestamp(datetime(2026, 9, 1, 0, 0, 0, tzinfo=timezone.utc))
        == "Tue Sep 1 00:00:00 UTC 2026"
    )


def test_timestamp_every_weekday_and_month() -> None:
    start = datetime(2023, 1, 1, 12, tzinfo=timezone.utc)  # a Sunday
    seen_days = {srp.format_timestamp(start + timedelta(days=i)).split()[0] for i in range(7)}
    assert seen_days == {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
    months = [
        srp.format_timestamp(datetime(2023, m, 15, tzinfo=timezone.utc)).split()[1] for m in range(1, 13)
    ]
    assert months == ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def test_timestamp_converts_aware_datetimes_to_utc() -> None:
    plus_five = timezone(timedelta(hours=5))
    assert (
        srp.format_timestamp(datetime(2026, 11, 3, 1, 0, 0, tzinfo=plus_five))
        == "Mon Nov 2 20:00:00 UTC 2026"
    )
    minus_eight = timezone(timedelta(hours=-8))
    assert (
        srp.format_timestamp(datetime(2030, 12, 31, 23, 30, tzinfo=minus_eight))
        == "Wed Jan 1 07:30:00 UTC 2031"
    )


def test_timestamp_rejects_naive() -> None:
    with pytest.raises(ValueError):
        srp.format_timestamp(datetime(2026, 11, 3, 5, 7, 9))


@pytest.fixture(scope="module")
def german_locale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A non-English LC_TIME: an installed one, or de_DE compiled with localedef into a temp dir."""
    names = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False).stdout.split()
    english = ("C", "POSIX", "en_")
    name = next((n for n in names if not n.startswith(english) and "." in n), None)
    old_locpath = os.environ.get("LOCPATH")
    if name is None:
        localedef = shutil.which("localedef")
        if localedef is None:
            pytest.skip("no non-English locale and no localedef")
        target = tmp_path_factory.mktemp("locales")
        done = subprocess.run(
            [localedef, "-i", "de_DE", "-f", "UTF-8", str(target / "de_DE.UTF-8")],
            capture_output=True,
            check=False,
        )
        if not (target / "de_DE.UTF-8").exists():
            pytest.skip(f"localedef failed: {done.returncode}")
        os.environ["LOCPATH"] = str(target)
        name = "de_DE.UTF-8"
    saved = locale.setlocale(locale.LC_TIME)
    try:
        locale.setlocale(locale.LC_TIME, name)
    except locale.Error:
        pytest.skip(f"cannot switch to {name}")
    try:
        yield name
    finally:
        locale.setlocale(locale.LC_TIME, saved)
        if old_locpath is None:
            os.environ.pop("LOCPATH", None)
        else:
            os.environ["LOCPATH"] = old_locpath


def test_timestamp_ignores_the_locale(german_locale: str) -> None:
    moment = datetime(2030, 12, 25, 0, 0, 0, tzinfo=timezone.utc)
    localized = moment.strftime("%a %b")
    assert localized != "Wed Dec", f"{german_locale} did not change strftime"  # the locale is active
    assert srp.format_timestamp(moment) == "Wed Dec 25 00:00:00 UTC 2030"
    assert (
        srp.format_timestamp(datetime(2026, 3, 5, 7, 8, 9, tzinfo=timezone.utc))
        == "Thu Mar 5 07:08:09 UTC 2026"
    )


# --------------------------------------------------------------------------------------------------
# Ephemerals, device secrets, errors, secrets in reprs
# --------------------------------------------------------------------------------------------------


def test_new_ephemeral_draws_32_bytes_and_skips_zero() -> None:
    calls: list[int] = []
    chunks = [bytes(32), bytes(range(1, 33))]

    def draw(n: int) -> bytes:
        calls.append(n)
        return chunks.pop(0)

    eph = srp.new_ephemeral(draw)
    assert calls == [32, 32]
    assert eph.a == int.from_bytes(bytes(range(1, 33)), "big")
    assert eph.A == pow(srp.G, eph.a, srp.N)
    assert srp.new_ephemeral(nbytes=128).a.bit_length() > 256
    with pytest.raises(ValueError):
        srp.new_ephemeral(nbytes=16)
    with pytest.raises(ValueError):
        srp.new_ephemeral(lambda n: bytes(n - 1))


def test_ephemeral_from_random_reduces_mod_n() -> None:
    big = (srp.N + 5).to_bytes(385, "big")
    assert srp.ephemeral_from_random(big).a == 5
    with pytest.raises(ValueError):
        srp.ephemeral_from_random(srp.N.to_bytes(384, "big"))


def test_server_ephemeral_draws_32_bytes_and_skips_zero() -> None:
    verifier = srp.compute_verifier(srp_pool_name="p", srp_user_id="u", password="pw", salt=b"\x01\x02")
    b, B = srp.server_ephemeral(verifier, fixed_random(bytes(32), b"\x07" * 32))
    assert b == int.from_bytes(b"\x07" * 32, "big")
    assert B == (srp.K * verifier + pow(srp.G, b, srp.N)) % srp.N
    assert 0 < B < srp.N


def test_device_secret_draw_order_and_sizes() -> None:
    calls: list[int] = []

    def draw(n: int) -> bytes:
        calls.append(n)
        return bytes([0x80]) * n

    secret = srp.new_device_secret("grp", "us-east-1_dev", draw)
    assert calls == [40, 16]
    assert base64.b64decode(secret.salt_b64) == b"\x00" + b"\x80" * 16
    with pytest.raises(ValueError):
        srp.new_device_secret("grp", "dev", lambda n: bytes(n + 1))


@pytest.mark.parametrize(
    "b_hex",
    [format(srp.N, "x"), format(srp.N, "X"), "0", "00", format(2 * srp.N, "x"), "-" + format(srp.N, "x")],
)
def test_b_zero_mod_n_is_rejected(b_hex: str) -> None:
    with pytest.raises(ProtocolError, match="SRP_B"):
        _client_signs("pool", "user", "secret-pw", {"SALT": "ab", "SRP_B": b_hex, "SECRET_BLOCK": "AAAA"},
                      srp.new_ephemeral(), "Tue Nov 3 05:07:09 UTC 2026")  # fmt: skip


@pytest.mark.parametrize(
    ("field_name", "params"),
    [
        ("SRP_B", {"SALT": "ab", "SRP_B": "zz", "SECRET_BLOCK": "AAAA"}),
        ("SALT", {"SALT": "", "SRP_B": "1234", "SECRET_BLOCK": "AAAA"}),
        ("SECRET_BLOCK", {"SALT": "ab", "SRP_B": "1234", "SECRET_BLOCK": "not base64!"}),
        ("SECRET_BLOCK", {"SALT": "ab", "SRP_B": "1234", "SECRET_BLOCK": "AAA"}),
    ],
)
def test_unparsable_server_values(field_name: str, params: dict[str, str]) -> None:
    with pytest.raises(ProtocolError, match=field_name) as caught:
        _client_signs("pool", "user", "secret-pw", params, srp.new_ephemeral(), "ts")
    assert "secret-pw" not in str(caught.value)


def test_u_zero_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(srp, "compute_u", lambda A, B: 0)
    with pytest.raises(ProtocolError, match="u is 0"):
        _client_signs("pool", "user", "pw", {"SALT": "ab", "SRP_B": "1234", "SECRET_BLOCK": "AAAA"},
                      srp.new_ephemeral(), "ts")  # fmt: skip
    with pytest.raises(ProtocolError, match="u is 0"):
        srp.expected_signature(srp_pool_name="p", srp_user_id="u", verifier=5, b=7, B=1234, A_hex="abcd",
                               salt_hex="ab", secret_block=b"", timestamp="ts")  # fmt: skip


@pytest.mark.parametrize("a_hex", ["0", format(srp.N, "x"), format(3 * srp.N, "x"), "not-hex"])
def test_server_rejects_bad_a(a_hex: str) -> None:
    with pytest.raises(ProtocolError, match="SRP_A"):
        srp.expected_signature(srp_pool_name="p", srp_user_id="u", verifier=5, b=7, B=1234, A_hex=a_hex,
                               salt_hex="ab", secret_block=b"", timestamp="ts")  # fmt: skip


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"Salt": "AAAA"},
        {"PasswordVerifier": "AAAA"},
        {"Salt": "@@@@", "PasswordVerifier": "AQ=="},
        {"Salt": "AQ==", "PasswordVerifier": "%%"},
        {"Salt": "AQ==", "PasswordVerifier": "AA=="},  # verifier 0
        {"Salt": "", "PasswordVerifier": "AQ=="},
        {"Salt": "AQ==", "PasswordVerifier": base64.b64encode(srp.N.to_bytes(384, "big")).decode()},
    ],
)
def test_parse_device_verifier_config_rejects(config: dict[str, str]) -> None:
    with pytest.raises(ProtocolError):
        srp.parse_device_verifier_config(config)


def test_reprs_hide_secrets() -> None:
    eph = srp.ephemeral_from_random(bytes(range(200, 232)))
    text = repr(eph) + str(eph)
    assert str(eph.a) not in text and format(eph.a, "x") not in text
    assert eph.srp_a[:16] in text
    secret = srp.new_device_secret("grp", "dev")
    text = repr(secret) + str(secret)
    assert secret.device_password not in text
    assert "device_password" in text and secret.salt_b64 in text


# --------------------------------------------------------------------------------------------------
# gmpy2 releases the GIL for our modular exponentiation
# --------------------------------------------------------------------------------------------------


def test_powmod_releases_the_gil() -> None:
    """While a worker thread runs one long exponentiation, the main thread keeps running."""
    exponent = (1 << 40000) - 1  # one powmod of ~0.1 s with a 3072-bit modulus
    done = threading.Event()
    duration: list[float] = []

    def work() -> None:
        start = time.perf_counter()
        srp.client_premaster_secret(a=exponent, B=3, u=0, x=1)
        duration.append(time.perf_counter() - start)
        done.set()

    thread = threading.Thread(target=work)
    last = time.perf_counter()
    max_gap = 0.0
    thread.start()
    while not done.is_set():
        now = time.perf_counter()
        max_gap = max(max_gap, now - last)
        last = now
    thread.join()
    # A held GIL would freeze this loop for the whole call; released, it only sees scheduling hiccups.
    assert max_gap < duration[0] / 2, (max_gap, duration[0])
