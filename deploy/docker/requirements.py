"""Print pyproject's pinned dependencies (or one extra's), one per line, for `pip install -r`.

The image builders install dependencies before copying the sources so that layer is cached
across source edits; reading pyproject keeps the pins in one place.

    python requirements.py pyproject.toml          # [project] dependencies
    python requirements.py pyproject.toml gpu      # [project.optional-dependencies] gpu
"""

from __future__ import annotations

import sys
import tomllib


def requirements(pyproject: str, extra: str | None = None) -> list[str]:
    """The dependency strings of the project, or of `extra` (KeyError names a missing extra)."""
    with open(pyproject, "rb") as f:
        project = tomllib.load(f)["project"]
    if extra is None:
        return list(project["dependencies"])
    extras = project.get("optional-dependencies", {})
    if extra not in extras:
        raise KeyError(f"extra {extra!r} not in pyproject (have: {', '.join(sorted(extras))})")
    return list(extras[extra])


def main(argv: list[str]) -> int:
    """Write the requirement lines to stdout."""
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    lines = requirements(argv[1], argv[2] if len(argv) == 3 else None)
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
