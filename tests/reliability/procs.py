"""Service processes the fault and TLS tests start, kill, stop and restart themselves.

`cliplens.client.local` starts the standard four; these tests also need a second embedding
replica, peers listed as replica sets, TLS settings and restarts of one process at a time, so
each service here is one `Proc`: `python -m cliplens.<service>` on its own ports, configured
by environment variables, logging to a file in the test's run directory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from support import free_port


class Proc:
    """One service process (`module` is cliplens.<module>), restartable on the same ports."""

    def __init__(self, module: str, run_dir: Path, *, name: str | None = None,
                 env: dict[str, str] | None = None,
                 credentials: grpc.ChannelCredentials | None = None):
        self.module = module
        self.name = name or module
        self.run_dir = run_dir
        self.port = free_port()
        self.metrics_port = free_port()
        self.credentials = credentials
        prefix = f"CLIPLENS_{module.upper()}_"
        self.env = {f"{prefix}PORT": str(self.port),
                    f"{prefix}METRICS_PORT": str(self.metrics_port),
                    f"{prefix}LOG_FORMAT": "text", **(env or {})}
        self.log = run_dir / f"{self.name}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> Proc:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", f"cliplens.{self.module}"], env={**os.environ, **self.env},
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        return self

    def health(self, timeout: float = 0.5) -> str:
        channel = (grpc.secure_channel(self.address, self.credentials) if self.credentials
                   else grpc.insecure_channel(self.address))
        with channel:
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=timeout)
            except grpc.RpcError:
                return "UNREACHABLE"
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)

    def wait_serving(self, timeout: float = 180.0) -> Proc:
        deadline = time.monotonic() + timeout
        while self.health() != "SERVING":
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n"
                                   f"{self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not SERVING after {timeout} s:\n{self.tail()}")
            time.sleep(0.1)
        return self

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def wait_exit(self, timeout: float = 30.0) -> int:
        return self.proc.wait(timeout)

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM, then SIGKILL what is still alive after `grace` seconds."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGCONT)  # a test may have left it stopped
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def start_all(procs: list[Proc], timeout: float = 180.0) -> None:
    """Start every process, then wait until each is SERVING (stopping them all on failure)."""
    for p in procs:
        p.start()
    try:
        for p in procs:
            p.wait_serving(timeout)
    except Exception:
        for p in reversed(procs):
            p.stop(grace=5)
        raise
