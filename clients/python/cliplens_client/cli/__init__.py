"""The `cliplens` command line: `cliplens --help` lists the commands.

Each submodule registers its own commands (`register(subparsers)`), so adding a command needs
no edit here beyond the module list.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from cliplens.client.cli.common import CommandError, run_command

# The one list of command modules; their order is the order of `cliplens --help`.
MODULES = ("local", "explain", "classify", "lexicon", "models", "toyworld", "evaluate", "bench",
           "export", "report")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used by the docs test to list commands)."""
    parser = argparse.ArgumentParser(
        prog="cliplens", description="What does your CLIP model see? cliplens explains it.")
    parser.add_argument("--target", default=os.environ.get("CLIPLENS_TARGET", "127.0.0.1:50150"),
                        help="gateway address (env CLIPLENS_TARGET; default %(default)s)")
    parser.add_argument("--api-key", default=os.environ.get("CLIPLENS_API_KEY", ""),
                        help="API key (env CLIPLENS_API_KEY)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="deadline of each call in seconds")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in MODULES:
        try:
            module = importlib.import_module(f"cliplens.client.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"cliplens.client.cli.{name}":
                continue  # not written yet
            raise
        module.register(sub)
    _json_anywhere(parser)
    return parser


def _json_anywhere(parser: argparse.ArgumentParser) -> None:
    """Accept `--json` after the command too (`cliplens toyworld eval --json`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                if "--json" not in child._option_string_actions:
                    # SUPPRESS: absent here, the global flag's value stands.
                    child.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                                       help="machine-readable output")
                _json_anywhere(child)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `cliplens` script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = run_command(args)
    except CommandError as e:
        print(f"cliplens: {e}", file=sys.stderr)
        code = e.exit_code
    except KeyboardInterrupt:
        print("cliplens: interrupted", file=sys.stderr)
        code = 130
    raise SystemExit(code)
