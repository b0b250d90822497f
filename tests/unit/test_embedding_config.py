"""Embedding settings: defaults, environment, and refusals that name the key."""

from __future__ import annotations

import pytest

from cliplens.core.config import ConfigError, load_config
from cliplens.embedding.config import EmbeddingConfig


def test_defaults():
    c = EmbeddingConfig()
    assert (c.port, c.metrics_port) == (50151, 9151)
    assert c.models == ("toyworld",) and c.default_model == "toyworld"
    assert (c.device, c.precision, c.backend) == ("auto", "fp32", "torch")
    assert c.image_limits.max_bytes == c.max_image_bytes


def test_environment(tmp_path):
    env = {"CLIPLENS_EMBEDDING_MODELS": "toyworld,ViT-B-32/random",
           "CLIPLENS_EMBEDDING_MAX_BATCH_SIZE": "16",
           "CLIPLENS_EMBEDDING_REGISTRY_DIRS": f"{tmp_path}",
           "CLIPLENS_EMBEDDING_MAX_QUEUE_DELAY_MS": "0.5"}
    c = load_config(EmbeddingConfig, "embedding", env=env)
    assert c.models == ("toyworld", "ViT-B-32/random")
    assert c.max_batch_size == 16 and c.max_queue_delay_ms == 0.5
    assert c.registry_dirs == (str(tmp_path),)


@pytest.mark.parametrize("kw, message", [
    (dict(device="tpu"), "device: expected one of auto, cpu, cuda, got 'tpu'"),
    (dict(precision="fp8"), "precision: expected one of"),
    (dict(device="cpu", precision="fp16"), "fp16 needs device cuda"),
    (dict(backend="tensorrt"), "backend"),
    (dict(onnx_provider="rocm"), "onnx_provider"),
    (dict(models=("a",), default_model="b"), "default_model: expected one of models"),
    (dict(models=()), "models: expected at least one"),
    (dict(max_batch_size=0), "max_batch_size: expected >= 1, got 0"),
    (dict(max_queue_delay_ms=-1), "max_queue_delay_ms"),
    (dict(torch_threads=-2), "torch_threads"),
])
def test_invalid_settings_name_the_key(kw, message):
    with pytest.raises(ConfigError, match=message):
        EmbeddingConfig(**kw)
