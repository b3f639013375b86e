"""Write the local user pool's fidelity table to ``docs/local-pool-fidelity.md``.

The table comes from ``aiocognito.testing._fidelity`` (the FIDELITY tables of the pool's area modules,
and the operations the pool answers with its own services). ``tests/test_pool_walk.py`` fails when the
committed file differs from what this script writes.

Usage::

    python scripts/fidelity_table.py            # write the file
    python scripts/fidelity_table.py --check    # exit 1 when the file is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from aiocognito.testing._fidelity import DOCUMENT_PATH, document_markdown  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the local user pool's fidelity table.")
    parser.add_argument("--check", action="store_true", help="only check that the file is current")
    args = parser.parse_args(argv)
    path = ROOT / DOCUMENT_PATH
    text = document_markdown()
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if args.check:
        if current != text:
            print(f"{DOCUMENT_PATH} is stale: run python scripts/fidelity_table.py", file=sys.stderr)
            return 1
        return 0
    if current != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {DOCUMENT_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
