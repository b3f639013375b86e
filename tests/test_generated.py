"""The generated operation layer matches its generator and the model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aiocognito
from aiocognito._wire.operations import OPERATION_COUNT, OPERATIONS, PAGINATED

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ("_wire/operations.py", "_wire/error_codes.py", "type_defs.py")


def test_generated_modules_are_current(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_operations.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in GENERATED:
        fresh = (tmp_path / name).read_text(encoding="utf-8")
        committed = (ROOT / "src" / "aiocognito" / name).read_text(encoding="utf-8")
        assert fresh == committed, f"{name} is stale: run python scripts/generate_operations.py"


def test_counts() -> None:
    assert OPERATION_COUNT == len(OPERATIONS) == 153
    assert len(PAGINATED) == 21
    methods = [m for m in dir(aiocognito.CognitoClient) if m.startswith(("list_all_", "admin_list_all_"))]
    assert sorted(methods) == sorted(PAGINATED)
    for required in (
        "list_all_users",
        "admin_list_all_groups_for_user",
        "admin_list_all_devices",
        "list_all_user_import_jobs",
    ):
        assert required in PAGINATED


def test_signed_and_unsigned_split() -> None:
    unsigned = {name for name, spec in OPERATIONS.items() if not spec.signed}
    assert len(unsigned) == 34
    assert {"InitiateAuth", "RespondToAuthChallenge", "SignUp", "GetUser", "ConfirmDevice"} <= unsigned
    assert all(OPERATIONS[name].signed for name in OPERATIONS if name.startswith("Admin"))


def test_type_defs_import() -> None:
    from aiocognito import type_defs

    assert "Username" in type_defs.AdminGetUserResponseTypeDef.__annotations__


def test_method_names_are_boto3s() -> None:
    from botocore import xform_name

    for operation in OPERATIONS:
        method = getattr(aiocognito.CognitoClient, xform_name(operation), None)
        assert method is not None, operation
        assert (method.__doc__ or "").startswith(operation + ":"), operation
