"""Container HEALTHCHECK: exit 0 when the service on localhost:PORT answers grpc.health SERVING.

Docker and Compose use it; Kubernetes uses its own native gRPC probes on the same endpoint.

    python healthcheck.py 50150 [service-name] [--timeout 2]
"""

from __future__ import annotations

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def check(address: str, service: str = "", timeout: float = 2.0) -> tuple[bool, str]:
    """(serving, status name) of `service` at `address`; UNREACHABLE when the call fails."""
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as e:
            return False, f"UNREACHABLE ({e.code().name})"
    name = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return reply.status == health_pb2.HealthCheckResponse.SERVING, name


def main(argv: list[str] | None = None) -> int:
    """Check once; the exit status is the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("service", nargs="?", default="")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    ok, status = check(f"{args.host}:{args.port}", args.service, args.timeout)
    sys.stderr.write(f"{args.host}:{args.port} {args.service or '(server)'}: {status}\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
