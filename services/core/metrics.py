"""Prometheus metrics shared by every service (one registry per process).

Names are the contract with the Grafana dashboard and alert rules in `deploy/`; a test checks
the dashboard against a live scrape. Service-specific metrics live beside their service but
follow the same `cliplens_<service>_...` pattern.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, Info, start_http_server

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                   30.0, 60.0, 120.0, 300.0)

# grpc_type is the method's kind, as go-grpc-prometheus names it: unary, client_stream,
# server_stream or bidi_stream. Alerts and panels select on it (streams run long by design)
# instead of keeping a list of method names.
GRPC_TYPES = ("unary", "client_stream", "server_stream", "bidi_stream")
RPC_LABELS = ["service", "method", "grpc_type"]

REQUESTS_STARTED = Counter(
    "cliplens_grpc_requests_started", "RPCs started.", RPC_LABELS)
REQUESTS_HANDLED = Counter(
    "cliplens_grpc_requests_handled", "RPCs completed, by status code.", [*RPC_LABELS, "code"])
REQUEST_SECONDS = Histogram(
    "cliplens_grpc_request_duration_seconds", "RPC handling time.", RPC_LABELS,
    buckets=LATENCY_BUCKETS)
IN_FLIGHT = Gauge(
    "cliplens_grpc_requests_in_flight", "RPCs being handled now.", RPC_LABELS)
READY = Gauge(
    "cliplens_service_ready", "1 once the service is SERVING (loaded and warmed up).",
    ["service"])
STARTUP_SECONDS = Gauge(
    "cliplens_service_startup_seconds", "Time from process start to SERVING.", ["service"])
BUILD = Info("cliplens_build", "Version of the running cliplens.")


def grpc_type(request_streaming: bool, response_streaming: bool) -> str:
    """The `grpc_type` label of a method with these streaming flags."""
    if request_streaming:
        return "bidi_stream" if response_streaming else "client_stream"
    return "server_stream" if response_streaming else "unary"


def start_metrics_server(host: str, port: int) -> int:
    """Serve /metrics on host:port (0 picks a free port); returns the bound port."""
    server, _thread = start_http_server(port, addr=host)
    return server.server_port
