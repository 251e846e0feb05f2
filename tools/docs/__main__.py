"""``python -m tools.docs [--check] [--root DIR]``: rebuild docs/ (or check it is up to date)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .blocks import DocsError
from .build import default_root, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a page is stale")
    parser.add_argument("--root", type=Path, help="repository root (default: this source checkout)")
    args = parser.parse_args(argv)
    try:
        root = args.root or default_root()
        stale = generate(root, check=args.check)
    except DocsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in stale:
        verb = "stale" if args.check else "wrote"
        print(f"{verb}: {path.relative_to(root)}")
    if args.check and stale:
        print("the documentation differs from the code: run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
