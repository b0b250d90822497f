"""The four services in threads of this process on ephemeral loopback ports: real gRPC, real
WordNet, real open_clip towers. The embedding service holds the shipped toyworld model and
small random-weight open_clip models of other families (`EXTRA_MODELS`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import grpc

from cliplens.v1 import (
    embedding_pb2_grpc,
    explanation_pb2_grpc,
    gateway_pb2_grpc,
    lexicon_pb2_grpc,
)

_TEXT = {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 1}
# Small towers of the families open_clip builds (random weights: shapes, not quality). A family
# the embedding service learns to load joins the contract test by an entry here.
EXTRA_MODELS = {
    "tiny-vit": {"embed_dim": 64, "text_cfg": _TEXT,
                 "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "head_width": 32,
                                "patch_size": 16}},
    "tiny-resnet": {"embed_dim": 64, "text_cfg": _TEXT,
                    "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 16,
                                   "head_width": 16}},
}


@dataclass
class Stack:
    """Targets and stubs of the four services."""

    targets: dict[str, str]
    models: list[str]

    def channel(self, service: str) -> grpc.Channel:
        return grpc.insecure_channel(self.targets[service], options=[
            ("grpc.max_receive_message_length", 64 * 2**20)])

    @property
    def explanation(self):
        return explanation_pb2_grpc.ExplanationServiceStub(self.channel("explanation"))

    @property
    def lexicon(self):
        return lexicon_pb2_grpc.LexiconServiceStub(self.channel("lexicon"))

    @property
    def embedding(self):
        return embedding_pb2_grpc.EmbeddingServiceStub(self.channel("embedding"))

    @property
    def gateway(self):
        return gateway_pb2_grpc.GatewayServiceStub(self.channel("gateway"))


def registry(folder: Path) -> Path:
    """A registry folder with the extra models (custom configs, random weights)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, config in EXTRA_MODELS.items():
        (folder / f"{name}.json").write_text(json.dumps(config))
        (folder / f"{name}.yaml").write_text(f"name: {name}\nconfig: {name}.json\n")
    return folder


def start_stack(serve, tmp: Path, *, extra_models: bool = True, gateway: bool = True,
                **explanation) -> Stack:
    """Start lexicon, embedding, explanation (and the gateway) with `serve`."""
    from cliplens.embedding.config import EmbeddingConfig
    from cliplens.embedding.service import start as start_embedding
    from cliplens.explanation.config import ExplanationConfig
    from cliplens.explanation.service import start as start_explanation
    from cliplens.gateway.config import GatewayConfig
    from cliplens.gateway.service import start as start_gateway
    from cliplens.lexicon.config import LexiconConfig
    from cliplens.lexicon.service import start as start_lexicon

    models = ["toyworld", *(EXTRA_MODELS if extra_models else ())]
    lexicon = serve(lambda: start_lexicon(LexiconConfig(
        port=0, metrics_port=-1, database=str(tmp / "lexicon.sqlite3"), grace_seconds=0)))
    embedding = serve(lambda: start_embedding(EmbeddingConfig(
        port=0, metrics_port=-1, models=tuple(models), default_model="toyworld",
        registry_dirs=(str(registry(tmp / "registry")),), torch_threads=1, grace_seconds=0)))
    targets = {"lexicon": f"127.0.0.1:{lexicon.port}",
               "embedding": f"127.0.0.1:{embedding.port}"}
    running = serve(lambda: start_explanation(ExplanationConfig(
        port=0, metrics_port=-1, embedding_target=targets["embedding"],
        lexicon_target=targets["lexicon"], cache_dir=str(tmp / "cache"), grace_seconds=0,
        **explanation)))
    targets["explanation"] = f"127.0.0.1:{running.port}"
    if gateway:
        running = serve(lambda: start_gateway(GatewayConfig(
            port=0, metrics_port=-1, grace_seconds=0, health_poll_seconds=0.2,
            **{f"{s}_target": t for s, t in targets.items()})))
        targets["gateway"] = f"127.0.0.1:{running.port}"
    return Stack(targets, models)
