"""The local deployment: the four services as background processes on loopback.

`up()` starts lexicon, embedding, explanation and gateway (logs and pid files under the run
directory) and returns once every one reports SERVING; `down()` stops them with SIGTERM (they
drain in-flight calls) and SIGKILLs what is still alive after the grace period.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

# Start order: peers before the services that call them.
SERVICES = ("lexicon", "embedding", "explanation", "gateway")
# Port offsets from the base port, and metrics port offsets from the metrics base.
OFFSETS = {"gateway": 0, "embedding": 1, "lexicon": 2, "explanation": 3}
DEFAULT_BASE_PORT = 50150
DEFAULT_METRICS_BASE = 9150


def run_dir() -> Path:
    """Where pids, logs and the port map live (`$CLIPLENS_RUN_DIR`, default ~/.cache)."""
    path = Path(os.environ.get("CLIPLENS_RUN_DIR",
                               Path.home() / ".cache" / "cliplens" / "run"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class Layout:
    """The ports of one local deployment."""

    base_port: int = DEFAULT_BASE_PORT
    metrics_base: int = DEFAULT_METRICS_BASE

    def port(self, service: str) -> int:
        return self.base_port + OFFSETS[service]

    def metrics_port(self, service: str) -> int:
        return self.metrics_base + OFFSETS[service]

    def address(self, service: str) -> str:
        return f"127.0.0.1:{self.port(service)}"

    def env(self, service: str) -> dict[str, str]:
        """The environment that places `service` and points it at its peers."""
        prefix = f"CLIPLENS_{service.upper()}_"
        env = {f"{prefix}PORT": str(self.port(service)),
               f"{prefix}METRICS_PORT": str(self.metrics_port(service))}
        peers = {"explanation": ("embedding", "lexicon"),
                 "gateway": ("embedding", "lexicon", "explanation")}.get(service, ())
        for peer in peers:
            env[f"{prefix}{peer.upper()}_TARGET"] = self.address(peer)
        return env


class LocalError(RuntimeError):
    """The local deployment could not be started or stopped as asked."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _pid(service: str) -> int | None:
    path = run_dir() / f"{service}.pid"
    try:
        pid = int(path.read_text())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def health(address: str, timeout: float = 1.0) -> str:
    """'SERVING', 'NOT_SERVING', or 'UNREACHABLE' for the service at `address`."""
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.RpcError:
            return "UNREACHABLE"
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def saved_layout() -> Layout:
    """The layout of the running deployment (or the default)."""
    try:
        data = json.loads((run_dir() / "ports.json").read_text())
        return Layout(data["base_port"], data["metrics_base"])
    except (OSError, ValueError, KeyError):
        return Layout()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def up(layout: Layout | None = None, *, timeout: float = 300.0, env: dict | None = None,
       progress=None) -> Layout:
    """Start whatever is not running and wait until all four services are SERVING."""
    layout = layout or saved_layout()
    rd = run_dir()
    running = {s: _pid(s) for s in SERVICES}
    if any(running.values()) and saved_layout() != layout:
        raise LocalError("cliplens is already running with other ports; `cliplens down` first")
    (rd / "ports.json").write_text(json.dumps({"base_port": layout.base_port,
                                               "metrics_base": layout.metrics_base}))
    procs: dict[str, subprocess.Popen] = {}
    for service in SERVICES:
        if running[service]:
            continue
        log_path = rd / f"{service}.log"
        child_env = {**os.environ, **(env or {}), **layout.env(service)}
        with open(log_path, "ab") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", f"cliplens.{service}"], stdout=log_file,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=child_env,
                start_new_session=True)
        (rd / f"{service}.pid").write_text(str(proc.pid))
        procs[service] = proc
    deadline = time.monotonic() + timeout
    pending = list(SERVICES)
    while pending:
        for service in list(pending):
            proc = procs.get(service)
            if proc is not None and proc.poll() is not None:
                raise LocalError(f"{service} exited with code {proc.returncode} while starting; "
                                 f"last lines of {rd / (service + '.log')}:\n"
                                 f"{_tail(rd / (service + '.log'))}")
            if health(layout.address(service), timeout=0.5) == "SERVING":
                pending.remove(service)
                if progress:
                    progress(service)
        if pending and time.monotonic() > deadline:
            raise LocalError(f"not SERVING after {timeout:.0f} s: {', '.join(pending)} "
                             f"(logs in {rd})")
        if pending:
            time.sleep(0.2)
    return layout


def down(*, grace: float = 15.0) -> list[str]:
    """Stop every running service (SIGTERM, then SIGKILL after `grace`); returns their names."""
    rd = run_dir()
    stopped = []
    pids = {s: _pid(s) for s in reversed(SERVICES)}
    for service, pid in pids.items():
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            stopped.append(service)
    deadline = time.monotonic() + grace
    for service, pid in pids.items():
        while pid and _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid and _alive(pid):
            os.kill(pid, signal.SIGKILL)
        (rd / f"{service}.pid").unlink(missing_ok=True)
    return stopped


def status() -> dict[str, dict]:
    """pid and health of every service of the local deployment."""
    layout = saved_layout()
    out = {}
    for service in SERVICES:
        pid = _pid(service)
        out[service] = {"pid": pid, "address": layout.address(service),
                        "metrics": f"http://127.0.0.1:{layout.metrics_port(service)}/metrics",
                        "health": health(layout.address(service)) if pid else "STOPPED"}
    return out


class running:
    """Context manager: the local deployment for the duration of a command.

    Uses the services already running; otherwise starts them and stops them on exit.
    """

    def __init__(self, *, timeout: float = 300.0, progress=None):
        self.timeout = timeout
        self.progress = progress
        self.started = False

    def __enter__(self) -> Layout:
        self.started = not all(v["health"] == "SERVING" for v in status().values())
        return up(timeout=self.timeout, progress=self.progress)

    def __exit__(self, *exc) -> None:
        if self.started:
            down()
