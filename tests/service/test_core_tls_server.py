"""A TLS server as the gpu overlay's gateway runs it: a renewed certificate is served without a
restart, and a plaintext health-only port answers the kubelet's gRPC probes.

Certificates come from the `openssl` command (EC P-256, SAN 127.0.0.1).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from support import make_ca, make_leaf

from cliplens.core.config import ServiceConfig
from cliplens.core.server import start_server
from cliplens.v1 import gateway_pb2, gateway_pb2_grpc

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
SERVING = health_pb2.HealthCheckResponse.SERVING


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pki")
    for name in ("old", "new"):  # each server certificate signed by its own CA
        make_ca(folder, f"{name}-ca")
        make_leaf(folder, name, f"{name}-ca")
    return folder


def _install(pki: Path, served: Path, name: str) -> None:
    """Put the `name` pair where the server reads it, atomically as a Secret volume does."""
    for suffix, target in (("pem", "tls.crt"), ("key", "tls.key")):
        tmp = served / f".{target}.tmp"
        shutil.copy(pki / f"{name}.{suffix}", tmp)
        os.replace(tmp, served / target)


def _start(served: Path, **extra):
    config = ServiceConfig(tls_cert=str(served / "tls.crt"), tls_key=str(served / "tls.key"),
                           **extra)

    def register(server):
        gateway_pb2_grpc.add_GatewayServiceServicer_to_server(
            gateway_pb2_grpc.GatewayServiceServicer(), server)
        return ["cliplens.v1.GatewayService"]

    return lambda: start_server(config, name="tls-probe", register=register)


def _health(channel: grpc.Channel) -> int:
    return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                      timeout=5).status


def _secure_health(port: int, pki: Path, ca: str) -> int:
    creds = grpc.ssl_channel_credentials((pki / f"{ca}-ca.pem").read_bytes())
    with grpc.secure_channel(f"127.0.0.1:{port}", creds) as channel:
        return _health(channel)


def test_a_renewed_certificate_is_served_without_a_restart(serve, pki, tmp_path):
    _install(pki, tmp_path, "old")
    running = serve(_start(tmp_path))
    assert _secure_health(running.port, pki, "old") == SERVING
    _install(pki, tmp_path, "new")
    # New connections get the new certificate; a client trusting only the old CA is refused.
    assert _secure_health(running.port, pki, "new") == SERVING
    with pytest.raises(grpc.RpcError) as e:
        _secure_health(running.port, pki, "old")
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE


def test_unreadable_files_keep_the_current_certificate(serve, pki, tmp_path):
    _install(pki, tmp_path, "old")
    running = serve(_start(tmp_path))
    (tmp_path / "tls.key").write_text("not a key")  # mid-rotation garbage
    assert _secure_health(running.port, pki, "old") == SERVING


def test_health_port_answers_plaintext_probes_and_nothing_else(serve, pki, tmp_path):
    _install(pki, tmp_path, "old")
    running = serve(_start(tmp_path, health_port=0))
    assert running.health_port > 0 and running.health_port != running.port
    with grpc.insecure_channel(f"127.0.0.1:{running.health_port}") as channel:
        assert _health(channel) == SERVING
        # Only health: the API is not reachable in plaintext through it.
        with pytest.raises(grpc.RpcError) as e:
            gateway_pb2_grpc.GatewayServiceStub(channel).GetStatus(
                gateway_pb2.GetStatusRequest(), timeout=5)
        assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        with pytest.raises(grpc.RpcError):  # the main port speaks TLS only
            _health(channel)


def test_no_health_port_by_default(serve, pki, tmp_path):
    _install(pki, tmp_path, "old")
    running = serve(_start(tmp_path))
    assert running.health_server is None and running.health_port == -1
