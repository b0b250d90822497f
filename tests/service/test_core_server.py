"""The shared server bootstrap over real gRPC: health, reflection, metrics, errors, drain."""

import asyncio
import threading
import time
import urllib.request

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from cliplens.core.config import ServiceConfig
from cliplens.core.errors import InvalidArgument, NotFound
from cliplens.core.server import start_server
from cliplens.v1 import gateway_pb2 as pb
from cliplens.v1 import gateway_pb2_grpc

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class Probe(gateway_pb2_grpc.GatewayServiceServicer):
    """Behaves according to the version string it is asked for (test-only servicer)."""

    def __init__(self):
        self.release = asyncio.Event()

    async def GetStatus(self, request, context):
        behaviour = dict(context.invocation_metadata()).get("behaviour", "ok")
        if behaviour == "invalid":
            raise InvalidArgument("field: expected x, got y")
        if behaviour == "missing":
            raise NotFound("thing 'z' not found")
        if behaviour == "crash":
            raise RuntimeError("secret internal detail")
        if behaviour == "slow":
            await asyncio.sleep(1.0)
        return pb.GetStatusResponse(version="probe")


def start_probe(warm: threading.Event | None = None, **config):
    async def warmup():
        while warm is not None and not warm.is_set():
            await asyncio.sleep(0.02)

    def register(server):
        gateway_pb2_grpc.add_GatewayServiceServicer_to_server(Probe(), server)
        return ["cliplens.v1.GatewayService"]

    cfg = ServiceConfig(**config)
    return lambda: start_server(cfg, name="probe", register=register, warmup=warmup)


def call(port, behaviour="ok", timeout=5):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        return gateway_pb2_grpc.GatewayServiceStub(ch).GetStatus(
            pb.GetStatusRequest(), metadata=(("behaviour", behaviour),), timeout=timeout)


def health(port, service=""):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        return health_pb2_grpc.HealthStub(ch).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5).status


def test_health_turns_serving_only_after_warmup(serve):
    warm = threading.Event()
    running = serve(start_probe(warm), wait_ready=False)
    assert health(running.port) == NOT_SERVING
    assert health(running.port, "cliplens.v1.GatewayService") == NOT_SERVING
    warm.set()
    deadline = time.time() + 5
    while health(running.port) != SERVING and time.time() < deadline:
        time.sleep(0.05)
    assert health(running.port) == SERVING
    assert health(running.port, "cliplens.v1.GatewayService") == SERVING


def test_reflection_lists_the_service(serve):
    running = serve(start_probe())
    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as ch:
        replies = list(reflection_pb2_grpc.ServerReflectionStub(ch).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
    names = {s.name for s in replies[0].list_services_response.service}
    assert {"cliplens.v1.GatewayService", "grpc.health.v1.Health"} <= names


@pytest.mark.parametrize("behaviour, code, text", [
    ("invalid", grpc.StatusCode.INVALID_ARGUMENT, "field: expected x, got y"),
    ("missing", grpc.StatusCode.NOT_FOUND, "thing 'z' not found"),
    ("crash", grpc.StatusCode.INTERNAL, "internal error (request id"),
])
def test_errors_map_to_one_status_and_server_keeps_serving(serve, behaviour, code, text):
    running = serve(start_probe())
    with pytest.raises(grpc.RpcError) as e:
        call(running.port, behaviour)
    assert e.value.code() == code
    assert text in e.value.details()
    assert "secret internal detail" not in e.value.details()
    assert dict(e.value.trailing_metadata())["x-request-id"]
    assert call(running.port).version == "probe"


def test_metrics_count_calls_by_method_and_code(serve):
    running = serve(start_probe())
    call(running.port)
    with pytest.raises(grpc.RpcError):
        call(running.port, "missing")
    text = urllib.request.urlopen(f"http://127.0.0.1:{running.metrics_port}/metrics").read()
    text = text.decode()
    method = 'grpc_type="unary",method="/cliplens.v1.GatewayService/GetStatus",service="probe"'
    assert f'cliplens_grpc_requests_handled_total{{code="OK",{method}}}' in text
    assert f'cliplens_grpc_requests_handled_total{{code="NOT_FOUND",{method}}}' in text
    assert f"cliplens_grpc_request_duration_seconds_count{{{method}}}" in text
    assert f"cliplens_grpc_requests_in_flight{{{method}}} 0.0" in text
    assert 'cliplens_service_ready{service="probe"} 1.0' in text


def test_message_limit_is_raised_above_grpc_default(serve):
    from cliplens.v1 import lexicon_pb2, lexicon_pb2_grpc

    class Sizer(lexicon_pb2_grpc.LexiconServiceServicer):
        async def ImportBank(self, request, context):
            return lexicon_pb2.ImportBankResponse(
                info=lexicon_pb2.BankInfo(descriptor_count=len(request.json)))

    def register(server):
        lexicon_pb2_grpc.add_LexiconServiceServicer_to_server(Sizer(), server)
        return ["cliplens.v1.LexiconService"]

    running = serve(lambda: start_server(ServiceConfig(max_message_mb=16), name="sizer",
                                         register=register))
    options = [("grpc.max_send_message_length", 64 << 20)]
    with grpc.insecure_channel(f"127.0.0.1:{running.port}", options=options) as ch:
        stub = lexicon_pb2_grpc.LexiconServiceStub(ch)
        six_mb = "x" * (6 << 20)  # over gRPC's 4 MB default, under the configured 16 MB
        reply = stub.ImportBank(lexicon_pb2.ImportBankRequest(json=six_mb), timeout=10)
        assert reply.info.descriptor_count == 6 << 20
        with pytest.raises(grpc.RpcError) as e:  # over the configured limit
            stub.ImportBank(lexicon_pb2.ImportBankRequest(json="x" * (20 << 20)), timeout=10)
        assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_graceful_stop_drains_in_flight_calls(serve):
    from cliplens.core.server import ServerThread

    thread = ServerThread(start_probe(grace_seconds=5))
    running = thread.start()
    result = {}

    def slow_call():
        result["reply"] = call(running.port, "slow")

    t = threading.Thread(target=slow_call)
    t.start()
    time.sleep(0.3)
    thread.stop(grace=5)  # health goes NOT_SERVING, the slow call still finishes
    t.join(5)
    assert result["reply"].version == "probe"
