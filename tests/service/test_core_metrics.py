"""The gRPC metrics of the standard interceptor over a real server: every kind of method is
counted, timed and labelled with its grpc_type (what the latency alerts select on)."""

import urllib.request

import grpc
import pytest

from cliplens.core import metrics
from cliplens.core.config import ServiceConfig
from cliplens.core.errors import InvalidArgument
from cliplens.core.server import start_server

SERVICE = "cliplens.test.Kinds"


async def _unary(request, context):
    if request == b"bad":
        raise InvalidArgument("request: expected anything but 'bad'")
    return request.upper()


async def _server_stream(request, context):
    for byte in request:
        yield bytes([byte])


async def _client_stream(requests, context):
    parts = [part async for part in requests]
    if b"bad" in parts:
        raise InvalidArgument("request: expected anything but 'bad'")
    return b"".join(parts)


async def _bidi_stream(requests, context):
    async for part in requests:
        yield part[::-1]


HANDLER = grpc.method_handlers_generic_handler(SERVICE, {
    "Unary": grpc.unary_unary_rpc_method_handler(_unary),
    "ServerStream": grpc.unary_stream_rpc_method_handler(_server_stream),
    "ClientStream": grpc.stream_unary_rpc_method_handler(_client_stream),
    "BidiStream": grpc.stream_stream_rpc_method_handler(_bidi_stream),
})


def _start():
    return start_server(ServiceConfig(), name="kinds", register=lambda server: [],
                        generic_handlers=[HANDLER])


def _scrape(port: int) -> str:
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()


def _line(text: str, name: str, **labels: str) -> float:
    """The value of the sample `name` whose labels include `labels` (fails when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} sample with {labels}")


def test_every_method_kind_is_counted_under_its_grpc_type(serve):
    running = serve(_start)
    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        assert channel.unary_unary(f"/{SERVICE}/Unary")(b"abc", timeout=5) == b"ABC"
        assert list(channel.unary_stream(f"/{SERVICE}/ServerStream")(b"ab", timeout=5)) == [
            b"a", b"b"]
        assert channel.stream_unary(f"/{SERVICE}/ClientStream")(
            iter([b"a", b"b"]), timeout=5) == b"ab"
        assert list(channel.stream_stream(f"/{SERVICE}/BidiStream")(
            iter([b"ab", b"cd"]), timeout=5)) == [b"ba", b"dc"]
        # A client stream that fails is counted with its status, and the server serves on.
        with pytest.raises(grpc.RpcError) as e:
            channel.stream_unary(f"/{SERVICE}/ClientStream")(iter([b"bad"]), timeout=5)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert channel.unary_unary(f"/{SERVICE}/Unary")(b"x", timeout=5) == b"X"
    text = _scrape(running.metrics_port)
    kinds = {"Unary": "unary", "ServerStream": "server_stream",
             "ClientStream": "client_stream", "BidiStream": "bidi_stream"}
    assert set(kinds.values()) == set(metrics.GRPC_TYPES)
    for method, kind in kinds.items():
        labels = {"service": "kinds", "method": f"/{SERVICE}/{method}", "grpc_type": kind}
        assert _line(text, "cliplens_grpc_requests_started_total", **labels) >= 1
        assert _line(text, "cliplens_grpc_requests_handled_total", code="OK", **labels) >= 1
        assert _line(text, "cliplens_grpc_request_duration_seconds_count", **labels) >= 1
        assert _line(text, "cliplens_grpc_requests_in_flight", **labels) == 0
    assert _line(text, "cliplens_grpc_requests_handled_total", code="INVALID_ARGUMENT",
                 method=f"/{SERVICE}/ClientStream", grpc_type="client_stream") == 1
    assert _line(text, "cliplens_grpc_requests_handled_total", code="OK",
                 method=f"/{SERVICE}/Unary", grpc_type="unary") == 2


@pytest.mark.parametrize("request_streaming, response_streaming, kind", [
    (False, False, "unary"), (False, True, "server_stream"),
    (True, False, "client_stream"), (True, True, "bidi_stream")])
def test_grpc_type_names(request_streaming, response_streaming, kind):
    assert metrics.grpc_type(request_streaming, response_streaming) == kind
