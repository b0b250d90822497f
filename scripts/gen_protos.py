"""Regenerate the Python code of protos/cliplens/v1/*.proto next to the protos.

    python scripts/gen_protos.py            # rewrite the committed *_pb2*.py files
    python scripts/gen_protos.py --out DIR  # write them under DIR instead (the staleness test)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"


def generate(out: Path) -> list[Path]:
    files = sorted(PROTOS.glob("cliplens/v1/*.proto"))
    include = Path(grpc_tools.__file__).parent / "_proto"
    args = ["protoc", f"-I{PROTOS}", f"-I{include}", f"--python_out={out}", f"--pyi_out={out}",
            f"--grpc_python_out={out}", *[str(f.relative_to(PROTOS)) for f in files]]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    return sorted((out / "cliplens" / "v1").glob("*_pb2*.py*"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=PROTOS)
    args = p.parse_args()
    for path in generate(args.out):
        print(path.relative_to(args.out), file=sys.stderr)


if __name__ == "__main__":
    main()
