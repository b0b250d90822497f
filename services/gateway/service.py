"""The gateway: one public endpoint in front of embedding, lexicon and explanation."""

from __future__ import annotations

import asyncio
import logging

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cliplens.core.channels import aio_channel, peer_credentials
from cliplens.core.server import RunningServer, start_server
from cliplens.gateway.auth import Guard, parse_keys
from cliplens.gateway.config import GatewayConfig
from cliplens.gateway.proxy import PROXIED, PROXIED_NAMES, Proxy
from cliplens.v1 import gateway_pb2 as pb
from cliplens.v1 import gateway_pb2_grpc

log = logging.getLogger(__name__)
VERSION = "0.1.0"
_STATES = {health_pb2.HealthCheckResponse.SERVING: pb.PEER_STATE_SERVING,
           health_pb2.HealthCheckResponse.NOT_SERVING: pb.PEER_STATE_NOT_SERVING}


class PeerWatch:
    """Polls the peers' grpc.health.v1 and mirrors it on the gateway's own health endpoint.

    The gateway's health for "cliplens.v1.EmbeddingService" etc. is the peer's; "" and
    "cliplens.v1.GatewayService" are the gateway's own.
    """

    def __init__(self, config: GatewayConfig, channels: dict[str, grpc.aio.Channel]):
        self.config = config
        self.channels = channels
        self.peers: dict[str, pb.PeerStatus] = {}

    def target(self, peer: str) -> str:
        return getattr(self.config, f"{peer}_target")

    async def poll(self) -> list[pb.PeerStatus]:
        async def check(peer: str) -> pb.PeerStatus:
            stub = health_pb2_grpc.HealthStub(self.channels[peer])
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                state, detail = _STATES.get(reply.status, pb.PEER_STATE_NOT_SERVING), ""
            except grpc.aio.AioRpcError as e:
                state, detail = pb.PEER_STATE_UNREACHABLE, f"{e.code().name}: {e.details()}"
            return pb.PeerStatus(service=peer, target=self.target(peer), state=state,
                                 detail=detail)

        statuses = await asyncio.gather(*(check(p) for p in self.channels))
        self.peers = {s.service: s for s in statuses}
        return list(statuses)

    async def run(self, running: RunningServer) -> None:
        names = {peer: svc.full_name for svc, peer in PROXIED.items()}
        while True:
            for status in await self.poll():
                serving = status.state == pb.PEER_STATE_SERVING
                await running.health.set(
                    names[status.service],
                    health_pb2.HealthCheckResponse.SERVING if serving
                    else health_pb2.HealthCheckResponse.NOT_SERVING)
            await asyncio.sleep(self.config.health_poll_seconds)


class GatewayServicer(gateway_pb2_grpc.GatewayServiceServicer):
    """The gateway's own RPCs."""

    def __init__(self, guard: Guard, watch: PeerWatch):
        self.guard = guard
        self.watch = watch

    async def GetStatus(self, request, context):
        caller = self.guard.check(context.invocation_metadata(),
                                  "/cliplens.v1.GatewayService/GetStatus")
        peers = await self.watch.poll()
        return pb.GetStatusResponse(version=VERSION, peers=peers, auth_enabled=self.guard.enabled,
                                    caller=caller.name, scopes=sorted(caller.scopes),
                                    services=[*PROXIED_NAMES, "cliplens.v1.GatewayService"])


async def start(config: GatewayConfig) -> RunningServer:
    """Start the gateway (SERVING at once; peers' health is polled in the background)."""
    creds = peer_credentials(config)
    channels = {peer: aio_channel(getattr(config, f"{peer}_target"), credentials=creds,
                                  max_message_bytes=config.max_message_bytes, retries=False)
                for peer in ("embedding", "lexicon", "explanation")}
    guard = Guard(parse_keys(config.api_keys_file, config.api_keys),
                  rate_per_second=config.rate_per_second, burst=config.rate_burst)
    watch = PeerWatch(config, channels)
    proxy = Proxy(guard, channels, attempts=config.upstream_attempts,
                  upstream_timeout=config.upstream_timeout_seconds)

    def register(server: grpc.aio.Server) -> list[str]:
        gateway_pb2_grpc.add_GatewayServiceServicer_to_server(GatewayServicer(guard, watch),
                                                              server)
        return ["cliplens.v1.GatewayService"]

    running = await start_server(config, name="gateway", register=register,
                                 generic_handlers=[proxy], reflection_names=PROXIED_NAMES,
                                 max_receive_bytes=config.max_request_mb << 20)
    task = asyncio.create_task(watch.run(running))
    running.background.append(task)
    log.info("gateway: auth %s, peers %s", "on" if guard.enabled else "off",
             {p: watch.target(p) for p in channels})
    return running
