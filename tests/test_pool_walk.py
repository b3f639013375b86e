"""The walk over every operation is complete, and so is the fidelity table.

Every ``tests/test_pool_walk_*.py`` module is imported here, so ``walk.WALKED`` holds every scenario; then:
every operation of the model is walked with success by some scenario, and each scenario named exists;
every operation has a fidelity ("full" or "stored: <why>") and no entry names anything else; the committed
``docs/local-pool-fidelity.md`` is what ``scripts/fidelity_table.py`` writes. An operation added to the
model with no handler is answered with a 500 (so a scenario for it cannot pass) and is reported unwalked.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

import pytest
from walk import WALKED, Walker, walks

from aiocognito.testing import LocalUserPool, _api, _fidelity, _shapes

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SCENARIO_MODULES: list[ModuleType] = [
    importlib.import_module(path.stem) for path in sorted(TESTS.glob("test_pool_walk_*.py"))
]


def unwalked(operations: Iterable[str]) -> list[str]:
    """The operations no scenario walks."""
    return sorted(op for op in operations if not WALKED.get(op))


def test_the_scenario_modules_are_found_and_each_walks() -> None:
    names = {m.__name__ for m in SCENARIO_MODULES}
    assert {"test_pool_walk_core", "test_pool_walk_auth"} <= names
    idle = [m.__name__ for m in SCENARIO_MODULES if not any(hasattr(f, "walked") for f in vars(m).values())]
    assert not idle, f"scenario modules with no @walks scenario: {idle}"


def test_every_operation_of_the_model_is_walked() -> None:
    operations = _shapes.model().operations
    assert len(operations) == 153
    missing = unwalked(operations)
    assert not missing, (
        f"{len(missing)} operations walked by no scenario (tests/test_pool_walk_*.py): {missing}"
    )


def test_every_walked_scenario_exists() -> None:
    modules = {m.__name__: m for m in SCENARIO_MODULES}
    problems = []
    for op, scenarios in sorted(WALKED.items()):
        for scenario in scenarios:
            module_name, _, function_name = scenario.rpartition(".")
            module = modules.get(module_name)
            function = getattr(module, function_name, None) if module is not None else None
            if module is None:
                problems.append(f"{op}: {scenario} is not in a tests/test_pool_walk_*.py module")
            elif not (
                function_name.startswith("test_")
                and inspect.iscoroutinefunction(function)
                and op in getattr(function, "walked", ())
            ):
                problems.append(f"{op}: {scenario} is not a collected async test that walks it")
    assert not problems, "\n".join(problems)


def test_every_operation_has_a_fidelity_and_only_those() -> None:
    operations = set(_shapes.model().operations)
    table = _fidelity.fidelity()
    assert not operations - set(table), f"no fidelity for {sorted(operations - set(table))}"
    assert not set(table) - operations, f"fidelity for non-operations {sorted(set(table) - operations)}"
    for op, value in table.items():
        assert value == "full" or (value.startswith("stored: ") and value[8:].strip()), (op, value)
    # what the pool answers with its own services (sign-in, MFA, devices, tokens, codes, account) is full
    own = set(LocalUserPool()._own) - set(_api.routes())
    assert {"InitiateAuth", "ConfirmDevice", "RevokeToken", "SignUp", "DeleteUser"} <= own
    assert {table[op] for op in own} == {"full"}
    assert {op: table[op] for op in _api.fidelity()} == _api.fidelity()


def test_the_fidelity_table_lists_every_operation_alphabetically() -> None:
    table = _fidelity.fidelity()
    text = _fidelity.table_markdown()
    lines = text.splitlines()
    full = sum(v == "full" for v in table.values())
    assert lines[0] == f"153 operations: {full} full, {153 - full} stored-only."
    assert lines[2:4] == ["| Operation | Fidelity |", "| --- | --- |"]
    rows = [line.split(" | ")[0].removeprefix("| ") for line in lines[4:]]
    assert rows == sorted(table) and len(rows) == 153


def test_the_committed_fidelity_document_is_current() -> None:
    path = ROOT / _fidelity.DOCUMENT_PATH
    committed = path.read_text(encoding="utf-8") if path.exists() else ""
    assert committed == _fidelity.document_markdown(), (
        f"{_fidelity.DOCUMENT_PATH} is stale: regenerate it with python scripts/fidelity_table.py"
    )


async def test_an_operation_without_a_handler_fails_the_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model with one more operation than the pool handles: the dispatcher answers it with Cognito's 500
    (not UnknownOperationException, which is for names outside the model), and it is reported unwalked."""
    model = _shapes.model()
    fake = "FrobnicateUserPool"
    monkeypatch.setitem(
        model.operations,
        fake,
        {
            "name": fake,
            "http": {"method": "POST", "requestUri": "/"},
            "input": {"shape": "DescribeUserPoolRequest"},
        },
    )
    assert fake in unwalked(model.operations)
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        refused = await w.refused("InternalErrorException", fake, UserPoolId="us-east-1_AAAAAAAAA")
        assert refused.status == 500
        unknown = await w.refused("UnknownOperationException", "NoSuchOperation")
        assert unknown.status == 400
        assert w.succeeded == set()
    with pytest.raises(ValueError, match="not operations of the model"):
        walks("NoSuchOperation")
