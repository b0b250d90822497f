"""What every command shares: output, errors, progress and the SDK client."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import grpc


class CommandError(Exception):
    """A failure to report in one line, with the exit code to leave with."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


# Exit codes by gRPC status, so scripts can tell bad input from an outage.
EXIT_CODES = {
    grpc.StatusCode.INVALID_ARGUMENT: 2, grpc.StatusCode.NOT_FOUND: 3,
    grpc.StatusCode.UNAUTHENTICATED: 4, grpc.StatusCode.PERMISSION_DENIED: 4,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 5, grpc.StatusCode.UNAVAILABLE: 6,
    grpc.StatusCode.DEADLINE_EXCEEDED: 7,
}


def run_command(args) -> int:
    """Run the command chosen on the command line, turning RPC errors into one line."""
    from cliplens.client.errors import CliplensClientError

    try:
        result = args.func(args)
    except CliplensClientError as e:
        raise CommandError(f"{e.code.name}: {e.details}",
                           EXIT_CODES.get(e.code, 1)) from None
    except grpc.RpcError as e:
        raise CommandError(f"{e.code().name}: {e.details()}",
                           EXIT_CODES.get(e.code(), 1)) from None
    return 0 if result is None else int(result)


def client(args):
    """The SDK client for the gateway named on the command line."""
    from cliplens.client import Client

    return Client(args.target, api_key=args.api_key or None, timeout=args.timeout)


def emit(args, data: dict[str, Any], human: str) -> None:
    """Print `data` as one JSON object with --json, else the human text."""
    if args.json:
        print(json.dumps(data, default=_jsonable))
    else:
        print(human)


def _jsonable(x):
    try:
        import numpy as np

        if isinstance(x, np.ndarray):
            return x.tolist()
        if isinstance(x, np.generic):
            return x.item()
    except ImportError:
        pass
    if hasattr(x, "__dataclass_fields__"):
        return {k: getattr(x, k) for k in x.__dataclass_fields__}
    return str(x)


class Progress:
    """A one-line progress indicator on stderr (silent when stderr is not a terminal)."""

    def __init__(self, label: str, *, enabled: bool | None = None):
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.start = time.monotonic()

    def update(self, done: int, total: int, stage: str = "") -> None:
        if not self.enabled:
            return
        pct = 100.0 * done / total if total else 0.0
        elapsed = time.monotonic() - self.start
        sys.stderr.write(f"\r{self.label} {stage} {done}/{total} ({pct:5.1f}%) "
                         f"{elapsed:6.1f}s ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()
