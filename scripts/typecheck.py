"""mypy over the typed packages: services/core and the explanation service with its math
(`make lint` runs this).

The import names (`cliplens.core`, ...) are mapped from the service folders by pyproject's
`package-dir`, which mypy cannot read; so a tree of symlinks named as the imports is made under
build/ (ignored by git) and mypy reads the sources through it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The packages whose types are checked (the explanation math, its pipelines and servicer, and
# what every service shares); what they import is read for its types only.
CHECKED = ("cliplens.core", "cliplens.explanation", "cliplens.lexicon.ids")


def package_tree(folder: Path) -> Path:
    """`folder/cliplens/<name>` -> each mapped source folder; the tree's root."""
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-dir"]
    top = folder / "cliplens"
    top.mkdir(parents=True, exist_ok=True)
    (top / "__init__.py").touch()
    for name, source in mapping.items():
        link = top / name.removeprefix("cliplens.")
        if link.is_symlink() and Path(os.readlink(link)) == ROOT / source:
            continue
        if link.is_symlink():
            link.unlink()
        link.symlink_to(ROOT / source, target_is_directory=True)
    return folder


def main() -> int:
    """Run mypy; its exit status."""
    tree = package_tree(ROOT / "build" / "mypy-packages")
    env = {**os.environ, "MYPYPATH": str(tree)}
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
    for package in CHECKED:
        command += ["-p", package]
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
