"""`cliplens bench NAME`: run one of the ratio benchmarks in benchmarks/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cliplens.client.cli.common import CommandError

BENCHMARKS = Path(__file__).resolve().parents[4] / "benchmarks"


def _names() -> list[str]:
    return sorted(p.stem for p in BENCHMARKS.glob("*.py")) if BENCHMARKS.is_dir() else []


def register(sub) -> None:
    """Add `bench`."""
    p = sub.add_parser("bench", help="run a benchmark from benchmarks/ (prints a ratio table)")
    p.add_argument("name", help=f"one of: {', '.join(_names()) or '(none found)'}")
    p.add_argument("args", nargs="*", help="passed to the benchmark (e.g. --quick)")
    p.set_defaults(func=_bench)


def _bench(args) -> int:
    if args.name not in _names():
        raise CommandError(f"unknown benchmark {args.name!r}; choose from {_names()}", 2)
    extra = ["--json"] if args.json else []
    return subprocess.call([sys.executable, str(BENCHMARKS / f"{args.name}.py"), *extra,
                            *args.args])
