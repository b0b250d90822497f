"""The server bootstrap every service uses.

`start_server` builds a grpc.aio server with the standard interceptor, raised message limits,
bounded concurrency, grpc.health.v1 (NOT_SERVING until the service's warm-up has finished),
server reflection and a Prometheus endpoint. `run_service` is a process's main loop: it serves
until SIGTERM/SIGINT, then marks health NOT_SERVING and drains in-flight calls for
`grace_seconds` before exiting.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from cliplens.core import metrics
from cliplens.core.config import ServiceConfig
from cliplens.core.interceptors import StandardInterceptor

T = TypeVar("T")

log = logging.getLogger(__name__)
_PROCESS_START = time.time()
HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


def grpc_options(config: ServiceConfig) -> list[tuple[str, int]]:
    """Channel/server options shared by servers and the clients they make."""
    size = config.max_message_bytes
    return [("grpc.max_send_message_length", size), ("grpc.max_receive_message_length", size),
            ("grpc.so_reuseport", 0),
            # Accept the clients' 30 s keepalive pings (the default allows one per 5 minutes
            # and would close long streams with GOAWAY too_many_pings). The C macro is
            # GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS; its string has no "recv".
            ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
            ("grpc.keepalive_permit_without_calls", 1),
            # Age connections out so clients re-resolve DNS and spread over new replicas;
            # in-flight calls (long streams included) get 10 minutes to finish.
            ("grpc.max_connection_age_ms", 300_000),
            ("grpc.max_connection_age_grace_ms", 600_000)]


def server_credentials(config: ServiceConfig) -> grpc.ServerCredentials | None:
    """TLS (optionally mutual) credentials from the configured PEM files, or None.

    The files are re-read when one of them changes, before the next handshake: a renewed
    certificate (cert-manager rewrites the mounted Secret) is served without a restart, and
    connections already open keep theirs.
    """
    if not config.tls_cert:
        return None
    paths = [Path(p) for p in (config.tls_key, config.tls_cert, config.tls_client_ca) if p]

    def stamp() -> list[tuple[int, int]]:
        return [(s.st_mtime_ns, s.st_ino) for s in map(Path.stat, paths)]

    def load() -> grpc.ServerCertificateConfiguration:
        pair = [(Path(config.tls_key).read_bytes(), Path(config.tls_cert).read_bytes())]
        ca = Path(config.tls_client_ca).read_bytes() if config.tls_client_ca else None
        return grpc.ssl_server_certificate_configuration(pair, root_certificates=ca)

    seen = [stamp()]

    def fetch() -> grpc.ServerCertificateConfiguration | None:
        try:
            now = stamp()
            if now == seen[0]:
                return None
            fresh = load()
        except (OSError, ValueError) as e:  # half-written files: keep serving the old pair
            log.warning("TLS files unreadable, keeping the current certificate: %s", e)
            return None
        seen[0] = now
        log.info("TLS certificate reloaded from %s", config.tls_cert)
        return fresh

    return grpc.dynamic_ssl_server_credentials(
        load(), fetch, require_client_authentication=bool(config.tls_client_ca))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cliplens")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class RunningServer:
    """A started server: where it listens and how to stop it."""

    name: str
    server: grpc.aio.Server
    health: health.aio.HealthServicer
    service_names: list[str]
    port: int
    metrics_port: int
    grace: float
    # The plaintext health-only server (config.health_port), if any.
    health_server: grpc.aio.Server | None = None
    health_port: int = -1
    warmup_task: asyncio.Task | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Tasks the service runs beside the server (pollers, batchers); cancelled on stop.
    background: list[asyncio.Task] = field(default_factory=list)

    async def set_serving(self, serving: bool) -> None:
        status = (health_pb2.HealthCheckResponse.SERVING if serving
                  else health_pb2.HealthCheckResponse.NOT_SERVING)
        for name in ["", *self.service_names]:
            await self.health.set(name, status)
        metrics.READY.labels(self.name).set(1 if serving else 0)

    async def stop(self, grace: float | None = None) -> None:
        """Stop taking calls (health NOT_SERVING first), drain, and stop."""
        await self.health.enter_graceful_shutdown()
        metrics.READY.labels(self.name).set(0)
        if self.warmup_task and not self.warmup_task.done():
            self.warmup_task.cancel()
        await self.server.stop(self.grace if grace is None else grace)
        if self.health_server is not None:
            await self.health_server.stop(0)
        for task in self.background:
            task.cancel()


async def start_server(
    config: ServiceConfig,
    *,
    name: str,
    register: Callable[[grpc.aio.Server], Iterable[str]],
    warmup: Callable[[], Awaitable[None]] | None = None,
    generic_handlers: Iterable[grpc.GenericRpcHandler] = (),
    reflection_names: Iterable[str] = (),
    max_receive_bytes: int | None = None,
) -> RunningServer:
    """Start serving `name`; health turns SERVING once `warmup` has finished.

    `register` adds the servicers to the server and returns their full service names (their
    health follows the warm-up). `reflection_names` are further services served through
    `generic_handlers` (listed by reflection). `max_receive_bytes` lowers the request limit
    below the configured message size.
    """
    options = grpc_options(config)
    if max_receive_bytes is not None:
        options = [o for o in options if o[0] != "grpc.max_receive_message_length"]
        options.append(("grpc.max_receive_message_length", max_receive_bytes))
    server = grpc.aio.server(
        interceptors=[StandardInterceptor(name, quiet_methods=(f"/{HEALTH_SERVICE}/",
                                                               "/grpc.reflection."))],
        options=options,
        maximum_concurrent_rpcs=config.max_concurrent_rpcs,
    )
    service_names = list(register(server))
    for handler in generic_handlers:
        server.add_generic_rpc_handlers((handler,))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [*service_names, *reflection_names, HEALTH_SERVICE, reflection.SERVICE_NAME], server)
    address = f"{config.host}:{config.port}"
    creds = server_credentials(config)
    port = (server.add_secure_port(address, creds) if creds
            else server.add_insecure_port(address))
    if port == 0:
        raise OSError(f"{name}: cannot bind {address}")
    metrics_port = -1
    if config.metrics_port >= 0:
        metrics_port = metrics.start_metrics_server(config.metrics_host, config.metrics_port)
    metrics.BUILD.info({"version": _version(), "service": name})
    running = RunningServer(name=name, server=server, health=health_servicer,
                            service_names=service_names, port=port, metrics_port=metrics_port,
                            grace=config.grace_seconds)
    if config.health_port >= 0:
        running.health_server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, running.health_server)
        running.health_port = running.health_server.add_insecure_port(
            f"{config.host}:{config.health_port}")
        if running.health_port == 0:
            raise OSError(f"{name}: cannot bind {config.host}:{config.health_port} (health)")
    await running.set_serving(False)
    await server.start()
    if running.health_server is not None:
        await running.health_server.start()
    log.info("%s listening on %s:%d (metrics on %s:%d), warming up", name, config.host, port,
             config.metrics_host, metrics_port)

    async def _warm() -> None:
        started = time.perf_counter()
        try:
            if warmup is not None:
                await warmup()
        except Exception:
            log.exception("%s warm-up failed; staying NOT_SERVING", name)
            raise
        await running.set_serving(True)
        running.ready.set()
        metrics.STARTUP_SECONDS.labels(name).set(time.time() - _PROCESS_START)
        log.info("%s SERVING after %.2f s warm-up", name, time.perf_counter() - started)

    running.warmup_task = asyncio.create_task(_warm())
    return running


def run_service(start: Callable[[], Awaitable[RunningServer]]) -> None:
    """Run a service process until SIGTERM/SIGINT, then drain and exit.

    Exits non-zero if warm-up fails, so an orchestrator restarts the process.
    """
    async def main() -> int:
        running = await start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        waiter = asyncio.create_task(stop.wait())
        warmup = running.warmup_task
        assert warmup is not None  # start_server always schedules it
        done, _ = await asyncio.wait({waiter, warmup}, return_when=asyncio.FIRST_COMPLETED)
        failed = warmup in done and warmup.exception() is not None
        if not failed and waiter not in done:
            await waiter
        log.info("%s shutting down: draining for up to %.1f s", running.name, running.grace)
        await running.stop()
        log.info("%s stopped", running.name)
        return 1 if failed else 0

    raise SystemExit(asyncio.run(main()))


def service_main(config_cls: type, name: str,
                 start: Callable[[Any], Awaitable[RunningServer]]) -> None:
    """A service process's `main`: configuration, logging, serve until SIGTERM.

    An invalid configuration stops the process at once with exit code 2 and one line naming
    the key and the problem.
    """
    import sys

    from cliplens.core.config import ConfigError, load_config
    from cliplens.core.logs import setup_logging

    try:
        config: ServiceConfig = load_config(config_cls, name)
    except ConfigError as e:
        sys.stderr.write(f"cliplens {name}: {e}\n")
        raise SystemExit(2) from None
    setup_logging(name, level=config.log_level, fmt=config.log_format)
    run_service(lambda: start(config))


class ServerThread:
    """A service running on its own event loop in a background thread (tests, notebooks)."""

    def __init__(self, start: Callable[[], Awaitable[RunningServer]]):
        self._start = start
        self.loop = asyncio.new_event_loop()
        self.running: RunningServer | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.running = self.loop.run_until_complete(self._start())
        except BaseException as e:  # noqa: BLE001 - handed to the starting thread
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    def start(self, *, wait_ready: bool = True, timeout: float = 120.0) -> RunningServer:
        self._thread.start()
        self._ready.wait(timeout)
        if self._error:
            raise self._error
        assert self.running is not None
        if wait_ready:
            self.call(self._warmed(), timeout=timeout)
        return self.running

    async def _warmed(self) -> None:
        assert self.running is not None and self.running.warmup_task is not None
        await self.running.warmup_task  # re-raises a failed warm-up

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the server's loop from another thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self, grace: float = 0.0) -> None:
        if self.running is not None:
            self.call(self.running.stop(grace), timeout=grace + 30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
