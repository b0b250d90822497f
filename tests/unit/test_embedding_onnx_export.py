"""ONNX export and the onnx backend: files, parity with torch, honest provider reporting."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from cliplens.core.errors import Unimplemented
from cliplens.embedding import surgery
from cliplens.embedding.backends.onnx_backend import (
    CPU,
    CUDA,
    OnnxBackend,
    OnnxBackendError,
    make_session,
)
from cliplens.embedding.backends.torch_backend import TorchBackend
from cliplens.embedding.loading import build
from cliplens.embedding.onnx_export import export, min_cosine, model_folder
from cliplens.embedding.registry import ModelEntry, Registry

TOYWORLD_CONFIG = Path(__file__).resolve().parents[2] / "services/toyworld/model/toyworld.json"


def _exported(tmp_path_factory, entry: ModelEntry):
    out = tmp_path_factory.mktemp("onnx")
    built = build(entry)
    folder = export(entry, out, built=built)
    return out, folder, built


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return _exported(tmp_path_factory, ModelEntry(name="tw/rand", config=TOYWORLD_CONFIG,
                                                  random_weights=True))


def test_export_writes_three_graphs_and_meta(toy):
    out, folder, built = toy
    assert folder == model_folder(out, "tw/rand") == out / "tw__rand"
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["fingerprint"] == built.fingerprint and meta["random_weights"] is True
    assert meta["input_size"] == [80, 80] and meta["surgery_depth"] == 6
    assert meta["context_length"] == 32 and meta["embed_dim"] == 128
    assert meta["vision"]["grid"] == [10, 10]
    for name, inputs, outputs in [("image", ["pixels"], ["embeddings"]),
                                  ("text", ["tokens"], ["embeddings"]),
                                  ("dense", ["pixels"], ["surgery", "raw", "keys"])]:
        graph = onnx.load(str(folder / f"{name}.onnx"), load_external_data=False)
        assert graph.opset_import[0].version >= 17
        assert [i.name for i in graph.graph.input] == inputs
        assert [o.name for o in graph.graph.output] == outputs
        batch = graph.graph.input[0].type.tensor_type.shape.dim[0]
        assert batch.dim_param == "batch"  # dynamic batch axis


def _parity(onnx_backend: OnnxBackend, model, *, batch=3, seed=0):
    spec = surgery.inspect_visual(model.visual)
    torch_backend = TorchBackend(model, spec=spec, depth=onnx_backend.meta["surgery_depth"],
                                 device="cpu", precision="fp32")
    g = torch.Generator().manual_seed(seed)
    h, w = spec.image_size
    pixels = torch.randn(batch, 3, h, w, generator=g)
    tokens = torch.zeros(batch, model.context_length, dtype=torch.int64)
    for i in range(batch):
        n = 3 + 4 * i
        tokens[i, 0] = 49406
        tokens[i, 1:n] = torch.randint(1, 49000, (n - 1,), generator=g)
        tokens[i, n] = 49407
    result = {
        "image": min_cosine(onnx_backend.encode_images(pixels),
                            torch_backend.encode_images(pixels)),
        "text": min_cosine(onnx_backend.encode_texts(tokens),
                           torch_backend.encode_texts(tokens)),
    }
    a, b = onnx_backend.dense(pixels, surgery=True), torch_backend.dense(pixels, surgery=True)
    assert a.grid == b.grid == spec.grid
    for name in ("surgery", "raw", "keys"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape
        result[name] = min_cosine(x, y)
    return result


def test_onnx_matches_torch_on_toyworld(toy):
    out, _, built = toy
    backend = OnnxBackend(out, "tw/rand", provider="cpu")
    assert backend.device == CPU and backend.name == "onnx" and backend.precision == "fp32"
    parity = _parity(backend, built.model)
    assert min(parity.values()) >= 0.999, parity


def test_dense_export_is_at_the_native_size_only(toy):
    out, _, _ = toy
    backend = OnnxBackend(out, "tw/rand", provider="cpu")
    with pytest.raises(Unimplemented, match="exported at 80x80, got 96x80"):
        backend.dense(torch.zeros(1, 3, 96, 80), surgery=True)
    raw = backend.dense(torch.zeros(2, 3, 80, 80), surgery=False)
    assert raw.surgery is None and raw.raw.shape == (2, 101, 128)


def test_missing_export_says_how_to_make_one(tmp_path):
    with pytest.raises(OnnxBackendError, match="cliplens export-onnx toyworld"):
        OnnxBackend(tmp_path, "toyworld", provider="cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a usable GPU")
def test_cuda_asked_without_a_gpu_fails_instead_of_falling_back(toy):
    import onnxruntime as ort

    _, folder, _ = toy
    if CUDA not in ort.get_available_providers():
        with pytest.raises(OnnxBackendError, match="cuda asked for"):
            OnnxBackend(folder.parent, "tw/rand", provider="cuda")
    else:
        with pytest.raises(OnnxBackendError, match="refusing to fall back silently|cannot load"):
            make_session(folder / "image.onnx", CUDA)


def test_auto_picks_cpu_without_a_gpu(toy):
    out, _, _ = toy
    backend = OnnxBackend(out, "tw/rand", provider="auto")
    assert backend.device == (CUDA if torch.cuda.is_available() else CPU)


@pytest.mark.slow
def test_onnx_matches_torch_on_vit_b_32(tmp_path_factory):
    entry = Registry(model_dir=tmp_path_factory.mktemp("m")).resolve("ViT-B-32/random")
    out, _, built = _exported(tmp_path_factory, entry)
    parity = _parity(OnnxBackend(out, entry.name, provider="cpu"), built.model, batch=2)
    assert min(parity.values()) >= 0.999, parity


def test_min_cosine():
    a = np.array([[1.0, 0.0], [0.0, 2.0]])
    assert min_cosine(a, a) == pytest.approx(1.0)
    assert min_cosine(a, np.array([[1.0, 0.0], [2.0, 0.0]])) == pytest.approx(0.0)
