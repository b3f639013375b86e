"""The package's shape, kept so by the test suite: no import cycles, modules a newcomer can read, a pure core
with no async imports, and ruff's lint and format clean."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "aiocognito"
GENERATED = {"aiocognito._wire.operations", "aiocognito._wire.error_codes", "aiocognito.type_defs"}
#: A hand-written module longer than this says why in its docstring (a line starting "Why one").
MAX_LINES = 600
#: The pure core: protocol and token logic with no I/O. It must not import asyncio or aiohttp, directly
#: or through another module of the package.
PURE = [
    "aiocognito._signin.flow",
    "aiocognito._signin.events",
    "aiocognito._signin.parameters",
    "aiocognito._signin.refresh",
    "aiocognito._signin.refresh_lock",
    "aiocognito._signin.srp",
    "aiocognito._tokens.claims",
    "aiocognito._tokens.token_set",
    "aiocognito._wire.signing",
    "aiocognito._wire.retry",
    "aiocognito._wire.model",
    "aiocognito.oauth._pkce",
    "aiocognito.oauth._responses",
]
ASYNC_LIBRARIES = {"asyncio", "aiohttp"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name: str) -> set[str]:
    """Every module this one imports, anywhere in the file (functions and TYPE_CHECKING blocks too).

    ``from . import x`` counts as importing the module ``x`` when it is one; a package's own ``__init__``
    is not counted as imported by importing one of its modules.
    """
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            submodules = {f"{target}.{alias.name}" for alias in node.names} & MODULES.keys()
            found.update(submodules)
            if len(submodules) < len(node.names):  # some names come from the module ``target`` itself
                found.add(target)
    return found


def package_graph() -> dict[str, set[str]]:
    return {name: {m for m in imports_of(name) if m in MODULES and m != name} for name in MODULES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_import_graph_has_no_cycles() -> None:
    graph = package_graph()
    assert "aiocognito._signin.flow" in graph["aiocognito._signin.session"]  # the walk sees imports
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_hand_written_modules_are_short_or_say_why() -> None:
    long = []
    for name, path in MODULES.items():
        if name in GENERATED:
            continue
        text = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(text)) or ""
        if text.count("\n") > MAX_LINES and not any(line.startswith("Why one") for line in doc.splitlines()):
            long.append(f"{name} ({text.count(chr(10))} lines)")
    assert not long, f"over {MAX_LINES} lines with no reason in the docstring: {long}"


@pytest.mark.parametrize("name", PURE)
def test_the_pure_core_imports_nothing_async(name: str) -> None:
    graph = package_graph()
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        direct = {m.split(".")[0] for m in imports_of(current)}
        assert not direct & ASYNC_LIBRARIES, (
            f"{current} (reached from {name}) imports {direct & ASYNC_LIBRARIES}"
        )
        todo.extend(graph[current])


def ruff() -> list[str]:
    found = shutil.which("ruff", path=os.path.dirname(sys.executable)) or shutil.which("ruff")
    if found is None:
        pytest.fail("ruff is not installed: it is part of the test extra (pip install -e '.[test]')")
    return [found]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_is_clean(command: list[str]) -> None:
    paths = ["src", "tests", "benchmarks", "examples", "scripts", "conftest.py"]
    result = subprocess.run(ruff() + command + paths, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
