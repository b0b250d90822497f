"""Hugging Face checkpoints served over real gRPC: a transformers CLIPModel folder, a SiglipModel
folder and an open_clip `hf-hub:` model from the local cache, next to each other."""

from __future__ import annotations

import hashlib
import os

import grpc
import hf_models
import numpy as np
import pytest
import torch

from cliplens.core.server import ServerThread
from cliplens.core.tensors import from_proto, to_proto
from cliplens.embedding.config import EmbeddingConfig
from cliplens.embedding.service import start
from cliplens.v1 import embedding_pb2 as pb
from cliplens.v1 import embedding_pb2_grpc as pb_grpc

HUB = "hf-hub:cliplens-tests/tiny-siglip"
TEXTS = ["a photo of a cat", "A red car on the street!", "bird " * 80]


@pytest.fixture(scope="module")
def served(hf_checkpoints, tmp_path_factory):
    root = tmp_path_factory.mktemp("hf-served")
    hf_models.open_clip_hub_model(root / "repo")
    cache = hf_models.hub_cache(root / "cache", HUB.removeprefix("hf-hub:"), root / "repo")
    (root / "registry").mkdir()
    for kind, folder in hf_checkpoints.items():
        (root / "registry" / f"{kind}.yaml").write_text(f"name: hf-{kind}\nhf_dir: {folder}\n")
    before = os.environ.get("HF_HUB_CACHE")
    os.environ["HF_HUB_CACHE"] = str(cache)
    config = EmbeddingConfig(models=("hf-clip", "hf-siglip", HUB), default_model="hf-clip",
                             port=0, metrics_port=-1, registry_dirs=(str(root / "registry"),),
                             model_dir=str(root / "models"), torch_threads=1)
    thread = ServerThread(lambda: start(config))
    running = thread.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        yield pb_grpc.EmbeddingServiceStub(channel)
    finally:
        channel.close()
        thread.stop()
        if before is None:
            os.environ.pop("HF_HUB_CACHE", None)
        else:
            os.environ["HF_HUB_CACHE"] = before


def _transformers(folder):
    from transformers import AutoModel

    return AutoModel.from_pretrained(folder).eval()


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


def test_every_model_is_listed_with_the_sha256_of_its_weights(served, hf_checkpoints):
    models = {m.ref.name: m for m in served.ListModels(pb.ListModelsRequest()).models}
    assert set(models) == {"hf-clip", "hf-siglip", HUB}
    for kind, folder in hf_checkpoints.items():
        info = models[f"hf-{kind}"]
        data = (folder / "model.safetensors").read_bytes()
        assert info.ref.fingerprint == "sha256:" + hashlib.sha256(data).hexdigest()
        assert info.source == str(folder / "model.safetensors")
        assert not info.ref.random_weights
    assert (models["hf-clip"].image_height, models["hf-clip"].context_length) == (64, 77)
    assert models["hf-siglip"].context_length == 16
    assert "open_clip_model.safetensors" in models[HUB].source


@pytest.mark.parametrize("kind", ["clip", "siglip"])
def test_texts_and_images_equal_transformers(served, hf_checkpoints, kind):
    folder = hf_checkpoints[kind]
    hf = _transformers(folder)
    context = hf.config.text_config.max_position_embeddings
    ids = torch.tensor(hf_models.transformers_ids(folder, TEXTS, context))
    pixels = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        want_txt = hf.get_text_features(input_ids=ids)
        want_img = hf.get_image_features(pixel_values=torch.from_numpy(pixels))
    want_txt = getattr(want_txt, "pooler_output", want_txt).numpy()
    want_img = getattr(want_img, "pooler_output", want_img).numpy()
    texts = served.EncodeTexts(pb.EncodeTextsRequest(model=f"hf-{kind}", texts=TEXTS))
    images = served.EncodeImages(pb.EncodeImagesRequest(model=f"hf-{kind}",
                                                        pixels=to_proto(pixels)))
    assert _cos(from_proto(texts.embeddings), want_txt).min() >= 0.9999
    assert _cos(from_proto(images.embeddings), want_img).min() >= 0.9999
    assert list(texts.truncated) == [False, False, True]


def test_clip_surgery_token_equals_the_image_embedding(served):
    pixels = np.random.default_rng(1).standard_normal((2, 3, 64, 64)).astype(np.float32)
    dense = served.EncodeDense(pb.EncodeDenseRequest(model="hf-clip", pixels=to_proto(pixels),
                                                     mode=pb.DENSE_MODE_SURGERY))
    image = from_proto(served.EncodeImages(pb.EncodeImagesRequest(
        model="hf-clip", pixels=to_proto(pixels))).embeddings)
    tokens = from_proto(dense.tokens)
    assert tokens.shape == (2, 1 + 16, 24) and (dense.grid_height, dense.grid_width) == (4, 4)
    assert np.abs(tokens[:, 0] - image).max() <= 1e-4


def test_hub_model_tokenizes_with_its_own_files(served):
    """open_clip's SigLIP-style configs canonicalize: case and punctuation do not count."""
    out = served.EncodeTexts(pb.EncodeTextsRequest(model=HUB, texts=["A CAT!", "a cat"]))
    emb = from_proto(out.embeddings)
    assert np.allclose(emb[0], emb[1]) and emb.shape == (2, 32)
