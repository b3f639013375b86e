"""Every code block of README.md is run by the test suite (conftest.py): none is in a language the harness
does not run, and none is skipped without a reason."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
RUN = {"python", "sh", "json"}  # the languages conftest.py's sybil parsers run


def fences(text: str) -> list[tuple[int, str]]:
    """(line, language) of every fenced code block."""
    found, inside = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            if not inside:
                found.append((number, line[3:].strip()))
            inside = not inside
    assert not inside, "a code fence is not closed"
    return found


def test_every_block_is_in_a_language_the_harness_runs() -> None:
    blocks = fences(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 10
    unrun = [(line, language) for line, language in blocks if language not in RUN]
    assert not unrun, f"README blocks the tests would not run (line, language): {unrun}"


def test_every_skip_says_why() -> None:
    skips = re.findall(r"<!--\s*skip:(.*?)-->", README.read_text(encoding="utf-8"), re.S)
    assert all("because" in skip for skip in skips), skips


def test_fences_finds_blocks() -> None:
    assert fences("a\n```python\nx = 1\n```\n```sh\nls\n```\n") == [(2, "python"), (5, "sh")]
