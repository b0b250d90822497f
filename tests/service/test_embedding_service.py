"""EmbeddingService over real gRPC on loopback, with toyworld-config random weights."""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

import grpc
import numpy as np
import pytest
import torch
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image
from prometheus_client import REGISTRY

from cliplens.core.server import ServerThread
from cliplens.core.tensors import from_proto, to_proto
from cliplens.embedding.config import EmbeddingConfig
from cliplens.embedding.engine import Engine
from cliplens.embedding.service import start
from cliplens.v1 import common_pb2 as cpb
from cliplens.v1 import embedding_pb2 as pb
from cliplens.v1 import embedding_pb2_grpc as pb_grpc

TOYWORLD_CONFIG = Path(__file__).resolve().parents[2] / "services/toyworld/model/toyworld.json"


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """A toyworld-config checkpoint with seeded random weights, and a registry beside it."""
    from cliplens.toyworld.model import create, save_fp16

    folder = tmp_path_factory.mktemp("registry")
    torch.manual_seed(1)
    path = save_fp16(create(pretrained=False), folder / "tw.safetensors")
    for name in ("tw", "tw-slow", "tw-queue"):
        (folder / f"{name}.yaml").write_text(
            f"name: {name}\nconfig: {TOYWORLD_CONFIG}\nweights: tw.safetensors\n")
    return path


def _config(weights: Path, model: str, **kw) -> EmbeddingConfig:
    return EmbeddingConfig(models=(model,), default_model=model, port=0, metrics_port=-1,
                           registry_dirs=(str(weights.parent),), torch_threads=1, **kw)


@pytest.fixture(scope="module")
def server(weights):
    config = _config(weights, "tw", region_chunk_size=64)
    engine = Engine(config)
    thread = ServerThread(lambda: start(config, engine=engine))
    running = thread.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    yield pb_grpc.EmbeddingServiceStub(channel), channel, engine
    channel.close()
    thread.stop()


@pytest.fixture
def stub(server):
    return server[0]


def _png(seed=0, w=96, h=120) -> bytes:
    arr = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def _fingerprint(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _ref_ok(ref, weights):
    assert ref.name == "tw" and ref.fingerprint == _fingerprint(weights)
    assert (ref.backend, ref.device, ref.precision) == ("torch", "cpu", "fp32")
    assert not ref.random_weights


def _still_serving(stub):
    reply = stub.EncodeTexts(pb.EncodeTextsRequest(texts=["still here"]))
    assert from_proto(reply.embeddings).shape == (1, 128)


def test_health_and_list_models(server, weights):
    stub, channel, _ = server
    health = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service="cliplens.v1.EmbeddingService"))
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    reply = stub.ListModels(pb.ListModelsRequest())
    assert reply.default_model == "tw" and len(reply.models) == 1
    info = reply.models[0]
    _ref_ok(info.ref, weights)
    assert info.architecture == "toyworld" and info.embed_dim == 128
    assert (info.image_height, info.image_width, info.context_length) == (80, 80, 32)
    assert info.vision_kind == pb.VISION_KIND_VIT and info.vision_layers == 6
    assert (info.grid_height, info.grid_width, info.surgery_depth) == (10, 10, 6)
    assert info.surgery_unsupported_reason == "" and info.load_seconds > 0
    assert info.source == str(weights.resolve())
    assert stub.GetModel(pb.GetModelRequest()).model == info
    assert stub.GetModel(pb.GetModelRequest(model="tw")).model == info


def test_encode_images_matches_the_model_in_process(stub, weights):
    from cliplens.embedding.loading import build
    from cliplens.embedding.registry import Registry

    data = [_png(0), _png(1, 80, 80)]
    reply = stub.EncodeImages(pb.EncodeImagesRequest(images=[cpb.Image(data=d) for d in data]))
    _ref_ok(reply.model, weights)
    got = from_proto(reply.embeddings)
    assert got.shape == (2, 128) and got.dtype == np.float32
    built = build(Registry([weights.parent], model_dir=weights.parent).resolve("tw"))
    from open_clip.transform import PreprocessCfg, image_transform_v2

    transform = image_transform_v2(PreprocessCfg(**built.preprocess_cfg), is_train=False)
    pixels = torch.stack([transform(Image.open(io.BytesIO(d))) for d in data])
    with torch.no_grad():
        want = built.model.encode_image(pixels).numpy()
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)
    # Same pixels sent preprocessed, normalised this time.
    reply = stub.EncodeImages(pb.EncodeImagesRequest(pixels=to_proto(pixels.numpy()),
                                                     normalize=True))
    unit = from_proto(reply.embeddings)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(unit, want / np.linalg.norm(want, axis=1, keepdims=True),
                               atol=1e-5)


def test_encode_texts_reports_tokens_and_truncation(stub, weights):
    texts = ["a photo of a dog", "", "word " * 40, "nul\x00 byte and \U0001f436"]
    reply = stub.EncodeTexts(pb.EncodeTextsRequest(texts=texts, normalize=True))
    _ref_ok(reply.model, weights)
    emb = from_proto(reply.embeddings)
    assert emb.shape == (4, 128)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert list(reply.truncated) == [False, False, True, False]
    assert reply.token_counts[0] == 7 and reply.token_counts[1] == 2
    assert reply.token_counts[2] == 42 and reply.context_length == 32
    assert not np.allclose(emb[0], emb[1])


def test_encode_dense_raw_and_surgery(stub, weights):
    images = [cpb.Image(data=_png(3)), cpb.Image(data=_png(4))]
    image = from_proto(stub.EncodeImages(pb.EncodeImagesRequest(images=images)).embeddings)
    sur = stub.EncodeDense(pb.EncodeDenseRequest(images=images, mode=pb.DENSE_MODE_SURGERY,
                                                 include_keys=True))
    _ref_ok(sur.model, weights)
    tokens, keys = from_proto(sur.tokens), from_proto(sur.keys)
    assert tokens.shape == (2, 101, 128) and keys.shape == (2, 101, 96)
    assert (sur.grid_height, sur.grid_width) == (10, 10)
    assert sur.mode == pb.DENSE_MODE_SURGERY and sur.surgery_depth == 6
    np.testing.assert_allclose(tokens[:, 0], image, atol=1e-4, rtol=1e-4)
    raw = stub.EncodeDense(pb.EncodeDenseRequest(images=images))
    assert raw.mode == pb.DENSE_MODE_RAW and not raw.HasField("keys")
    raw_tokens = from_proto(raw.tokens)
    np.testing.assert_allclose(raw_tokens[:, 0], image, atol=1e-4, rtol=1e-4)
    assert not np.allclose(raw_tokens[:, 1:], tokens[:, 1:], atol=1e-3)
    big = stub.EncodeDense(pb.EncodeDenseRequest(images=images[:1], input_height=96,
                                                 input_width=160, normalize=True,
                                                 mode=pb.DENSE_MODE_SURGERY))
    assert (big.grid_height, big.grid_width) == (12, 20)
    big_tokens = from_proto(big.tokens)
    assert big_tokens.shape == (1, 241, 128)
    np.testing.assert_allclose(np.linalg.norm(big_tokens, axis=-1), 1.0, atol=1e-5)


def test_encode_regions_streams_chunks(stub, weights):
    data = _png(5, 80, 80)
    boxes = [(0, 0, 80, 80)] + [(x, y, x + 40, y + 40) for x in range(-20, 80, 20)
                                for y in range(-20, 80, 20)]
    request = pb.EncodeRegionsRequest(
        image=cpb.Image(data=data), padding=pb.PADDING_NOISE, noise_seed=7, chunk_size=7,
        windows=[cpb.Box(x0=a, y0=b, x1=c, y1=d) for a, b, c, d in boxes])
    chunks = list(stub.EncodeRegions(request))
    assert [c.offset for c in chunks] == list(range(0, len(boxes), 7))
    assert all(c.total == len(boxes) for c in chunks)
    for c in chunks:
        _ref_ok(c.model, weights)
    emb = np.concatenate([from_proto(c.embeddings) for c in chunks])
    assert emb.shape == (len(boxes), 128)
    whole = from_proto(stub.EncodeImages(pb.EncodeImagesRequest(
        images=[cpb.Image(data=data)])).embeddings)[0]
    cos = emb[0] @ whole / np.linalg.norm(emb[0]) / np.linalg.norm(whole)
    assert cos > 0.99
    again = np.concatenate([from_proto(c.embeddings) for c in stub.EncodeRegions(request)])
    np.testing.assert_array_equal(again, emb)  # seeded noise: same windows, same result
    request.noise_seed = 8
    other = np.concatenate([from_proto(c.embeddings) for c in stub.EncodeRegions(request)])
    outside = [i for i, b in enumerate(boxes) if min(b) < 0 or max(b) > 80]
    inside = [i for i in range(len(boxes)) if i not in outside]
    np.testing.assert_allclose(other[inside], emb[inside], atol=1e-5)
    assert not np.allclose(other[outside], emb[outside], atol=1e-3)


def test_encode_regions_default_chunks_follow_the_server_setting(stub):
    boxes = [cpb.Box(x0=i % 40, y0=0, x1=i % 40 + 40, y1=40) for i in range(150)]
    chunks = list(stub.EncodeRegions(pb.EncodeRegionsRequest(
        image=cpb.Image(data=_png(6)), windows=boxes, padding=pb.PADDING_BLACK,
        normalize=True)))
    assert [c.offset for c in chunks] == [0, 64, 128]
    emb = np.concatenate([from_proto(c.embeddings) for c in chunks])
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def _bad_requests():
    good = [cpb.Image(data=_png(0))]
    pixels64 = to_proto(np.zeros((1, 3, 64, 64), np.float32))
    return [
        ("EncodeImages", pb.EncodeImagesRequest(images=[cpb.Image(data=b"\x89PNG broken")]),
         grpc.StatusCode.INVALID_ARGUMENT, r"images\[0\]: not a decodable image"),
        ("EncodeImages", pb.EncodeImagesRequest(model="ViT-H-14/laion", images=good),
         grpc.StatusCode.NOT_FOUND, "'ViT-H-14/laion' is not loaded"),
        ("EncodeImages", pb.EncodeImagesRequest(pixels=pixels64),
         grpc.StatusCode.INVALID_ARGUMENT, r"expected \(N, 3, 80, 80\).*got \(1, 3, 64, 64\)"),
        ("EncodeImages", pb.EncodeImagesRequest(
            pixels=to_proto(np.zeros((1, 3, 80, 80), np.float64))),
         grpc.StatusCode.INVALID_ARGUMENT, "pixels.dtype: expected DATA_TYPE_FLOAT32"),
        ("EncodeImages", pb.EncodeImagesRequest(
            images=good, pixels=to_proto(np.zeros((1, 3, 80, 80), np.float32))),
         grpc.StatusCode.INVALID_ARGUMENT, "expected exactly one, got both"),
        ("EncodeImages", pb.EncodeImagesRequest(), grpc.StatusCode.INVALID_ARGUMENT,
         "expected exactly one, got neither"),
        ("EncodeTexts", pb.EncodeTextsRequest(), grpc.StatusCode.INVALID_ARGUMENT,
         "texts: expected at least one text"),
        ("EncodeTexts", pb.EncodeTextsRequest(texts=["ok", "x" * 10_001]),
         grpc.StatusCode.INVALID_ARGUMENT, r"texts\[1\]: expected at most 10000 characters"),
        ("EncodeTexts", pb.EncodeTextsRequest(model="nope", texts=["a"]),
         grpc.StatusCode.NOT_FOUND, "'nope' is not loaded"),
        ("GetModel", pb.GetModelRequest(model="nope"), grpc.StatusCode.NOT_FOUND,
         "'nope' is not loaded"),
        ("EncodeDense", pb.EncodeDenseRequest(
            pixels=to_proto(np.zeros((1, 3, 84, 80), np.float32))),
         grpc.StatusCode.INVALID_ARGUMENT, "multiples of 8x8"),
        ("EncodeDense", pb.EncodeDenseRequest(images=good, input_height=90, input_width=80),
         grpc.StatusCode.INVALID_ARGUMENT, "multiples of 8x8"),
        ("EncodeDense", pb.EncodeDenseRequest(images=good, input_height=80),
         grpc.StatusCode.INVALID_ARGUMENT, "both 0 or both positive"),
        ("EncodeRegions", pb.EncodeRegionsRequest(image=good[0]),
         grpc.StatusCode.INVALID_ARGUMENT, "windows: expected at least one window, got 0"),
        ("EncodeRegions", pb.EncodeRegionsRequest(
            image=good[0], windows=[cpb.Box(x0=0, y0=0, x1=10, y1=10),
                                    cpb.Box(x0=200, y0=0, x1=260, y1=10)]),
         grpc.StatusCode.INVALID_ARGUMENT, r"windows\[1\]: window does not intersect"),
        ("EncodeRegions", pb.EncodeRegionsRequest(
            image=cpb.Image(data=b"junk"), windows=[cpb.Box(x0=0, y0=0, x1=10, y1=10)]),
         grpc.StatusCode.INVALID_ARGUMENT, "image: not a decodable image"),
    ]


@pytest.mark.parametrize("method, request_, code, message", _bad_requests(),
                         ids=lambda v: v if isinstance(v, str) else None)
def test_bad_input_gets_the_right_status_and_the_service_keeps_serving(stub, method, request_,
                                                                       code, message):
    import re

    call = getattr(stub, method)
    with pytest.raises(grpc.RpcError) as info:
        reply = call(request_)
        if method == "EncodeRegions":
            list(reply)
    assert info.value.code() == code
    assert re.search(message, info.value.details()), info.value.details()
    _still_serving(stub)


def _sample(name: str, labels: dict) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _serve(serve, weights, model, **kw):
    config = _config(weights, model, **kw)
    engine = Engine(config)
    running = serve(lambda: start(config, engine=engine))
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    return pb_grpc.EmbeddingServiceStub(channel), engine


def test_concurrent_calls_share_one_batch(serve, weights):
    stub, engine = _serve(serve, weights, "tw-slow", max_queue_delay_ms=400.0)
    # Model metrics carry the fingerprint of the weights they measured.
    labels = {"model": "tw-slow", "fingerprint": engine.models["tw-slow"].fingerprint}
    assert labels["fingerprint"].startswith("sha256:")
    count = _sample("cliplens_embedding_batch_size_count", labels)
    total = _sample("cliplens_embedding_batch_size_sum", labels)
    futures = [stub.EncodeTexts.future(pb.EncodeTextsRequest(texts=[t], model="tw-slow"))
               for t in ("a cat", "a dog")]
    replies = [f.result(timeout=30) for f in futures]
    assert all(from_proto(r.embeddings).shape == (1, 128) for r in replies)
    assert _sample("cliplens_embedding_batch_size_count", labels) == count + 1
    assert _sample("cliplens_embedding_batch_size_sum", labels) == total + 2
    assert engine.models["tw-slow"].batchers[("text",)].batches == 1
    assert _sample("cliplens_embedding_queue_depth", labels) == 0
    assert _sample("cliplens_embedding_queue_seconds_count", labels) >= 2
    assert _sample("cliplens_embedding_inference_seconds_count",
                   {**labels, "op": "text"}) >= 1
    assert _sample("cliplens_embedding_model_load_seconds", labels) > 0


def test_queue_full_and_expired_deadlines(serve, weights):
    stub, engine = _serve(serve, weights, "tw-queue", max_queue_delay_ms=500.0,
                          max_queue_size=2)
    full = _sample("cliplens_embedding_rejected_total", {"reason": "queue_full"})
    late = _sample("cliplens_embedding_rejected_total", {"reason": "deadline"})
    request = pb.EncodeTextsRequest(texts=["queued"])
    futures = [stub.EncodeTexts.future(request) for _ in range(2)]
    time.sleep(0.2)  # both are waiting for company
    with pytest.raises(grpc.RpcError) as info:
        stub.EncodeTexts(request)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "embedding queue full (2 waiting" in info.value.details()
    assert _sample("cliplens_embedding_rejected_total", {"reason": "queue_full"}) == full + 1
    assert all(f.result(timeout=30).embeddings.shape == [1, 128] for f in futures)
    batcher = engine.models["tw-queue"].batchers[("text",)]
    batches = batcher.batches
    # A deadline shorter than the queue delay: dropped before compute.
    with pytest.raises(grpc.RpcError) as info:
        stub.EncodeTexts(request, timeout=0.1)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    deadline = time.monotonic() + 5
    while (_sample("cliplens_embedding_rejected_total", {"reason": "deadline"}) == late
           and time.monotonic() < deadline):
        time.sleep(0.05)
    assert _sample("cliplens_embedding_rejected_total", {"reason": "deadline"}) == late + 1
    assert batcher.batches == batches  # nothing was computed for it
    assert stub.EncodeTexts(request).embeddings.shape == [1, 128]


def test_missing_weights_fail_at_start_with_the_path(tmp_path):
    (tmp_path / "gone.yaml").write_text(
        f"name: gone\nconfig: {TOYWORLD_CONFIG}\nweights: nowhere.safetensors\n")
    config = EmbeddingConfig(models=("gone",), default_model="gone", port=0, metrics_port=-1,
                             registry_dirs=(str(tmp_path),))
    from cliplens.embedding.loading import ModelLoadError

    with pytest.raises(ModelLoadError, match=f"weights not found.*{tmp_path}/nowhere"):
        Engine(config)


def test_corrupt_weights_fail_the_warm_up_with_the_path(serve, tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not safetensors at all")
    (tmp_path / "bad.yaml").write_text(
        f"name: bad\nconfig: {TOYWORLD_CONFIG}\nweights: bad.safetensors\n")
    config = EmbeddingConfig(models=("bad",), default_model="bad", port=0, metrics_port=-1,
                             registry_dirs=(str(tmp_path),))
    from cliplens.embedding.loading import ModelLoadError

    with pytest.raises(ModelLoadError, match=f"weights {bad}: cannot be read"):
        serve(lambda: start(config))


def test_onnx_backend_serves_the_export_and_matches_torch(serve, server, weights, tmp_path):
    from cliplens.embedding.onnx_export import export
    from cliplens.embedding.registry import Registry

    torch_stub = server[0]
    entry = Registry([weights.parent], model_dir=weights.parent).resolve("tw")
    export(entry, tmp_path)
    stub, _ = _serve(serve, weights, "tw", backend="onnx", onnx_dir=str(tmp_path),
                     onnx_provider="cpu")
    info = stub.GetModel(pb.GetModelRequest()).model
    assert (info.ref.backend, info.ref.device) == ("onnx", "CPUExecutionProvider")
    assert info.ref.fingerprint == _fingerprint(weights) and info.surgery_depth == 6
    images = [cpb.Image(data=_png(9)), cpb.Image(data=_png(10))]

    def cos(a, b):
        a, b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
        return (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)

    for method, request in [
            ("EncodeImages", pb.EncodeImagesRequest(images=images)),
            ("EncodeTexts", pb.EncodeTextsRequest(texts=["a red ball", ""]))]:
        a = from_proto(getattr(stub, method)(request).embeddings)
        b = from_proto(getattr(torch_stub, method)(request).embeddings)
        assert cos(a, b).min() >= 0.999
    request = pb.EncodeDenseRequest(images=images, mode=pb.DENSE_MODE_SURGERY,
                                    include_keys=True)
    a, b = stub.EncodeDense(request), torch_stub.EncodeDense(request)
    assert cos(from_proto(a.tokens), from_proto(b.tokens)).min() >= 0.999
    assert cos(from_proto(a.keys), from_proto(b.keys)).min() >= 0.999
    with pytest.raises(grpc.RpcError) as info:
        stub.EncodeDense(pb.EncodeDenseRequest(images=images, input_height=96,
                                               input_width=96))
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "use the torch backend" in info.value.details()
    _still_serving(stub)


def test_onnx_backend_refuses_a_stale_export(serve, weights, tmp_path):
    import shutil

    from cliplens.embedding.backends.onnx_backend import OnnxBackendError
    from cliplens.embedding.onnx_export import export
    from cliplens.embedding.registry import Registry

    folder = tmp_path / "registry"
    shutil.copytree(weights.parent, folder, ignore=shutil.ignore_patterns("*.yaml"))
    (folder / "tw.yaml").write_text(
        f"name: tw\nconfig: {TOYWORLD_CONFIG}\nweights: tw.safetensors\n")
    export(Registry([folder], model_dir=folder).resolve("tw"), tmp_path / "onnx")
    data = bytearray((folder / "tw.safetensors").read_bytes())
    data[-1] ^= 1  # retrained weights, same shapes
    (folder / "tw.safetensors").write_bytes(bytes(data))
    config = EmbeddingConfig(models=("tw",), default_model="tw", port=0, metrics_port=-1,
                             registry_dirs=(str(folder),), backend="onnx",
                             onnx_dir=str(tmp_path / "onnx"), onnx_provider="cpu")
    with pytest.raises(OnnxBackendError, match="re-run `cliplens export-onnx tw`"):
        serve(lambda: start(config))


def test_onnx_backend_refuses_an_export_with_another_surgery_depth(serve, weights, tmp_path):
    from cliplens.embedding.backends.onnx_backend import OnnxBackendError
    from cliplens.embedding.onnx_export import export
    from cliplens.embedding.registry import Registry

    folder = tmp_path / "registry"
    folder.mkdir()
    entry_yaml = f"name: tw\nconfig: {TOYWORLD_CONFIG}\nweights: {weights}\n"
    (folder / "tw.yaml").write_text(entry_yaml)
    export(Registry([folder], model_dir=folder).resolve("tw"), tmp_path / "onnx")
    (folder / "tw.yaml").write_text(entry_yaml + "surgery_depth: 3\n")
    config = EmbeddingConfig(models=("tw",), default_model="tw", port=0, metrics_port=-1,
                             registry_dirs=(str(folder),), backend="onnx",
                             onnx_dir=str(tmp_path / "onnx"), onnx_provider="cpu")
    with pytest.raises(OnnxBackendError, match="surgery depth 6 but the registry now says 3"):
        serve(lambda: start(config))


def test_dense_residual_tokens_and_keys_without_bias(stub):
    images = [cpb.Image(data=_png(0))]
    plain = stub.EncodeDense(pb.EncodeDenseRequest(images=images, include_keys=True))
    authors = stub.EncodeDense(pb.EncodeDenseRequest(images=images, include_keys=True,
                                                     residual=True, keys_without_bias=True))
    tokens, residual = from_proto(plain.tokens), from_proto(authors.tokens)
    assert tokens.shape == (1, 101, 128) and residual.shape == (1, 101, 96)  # tower width
    bias = from_proto(plain.keys) - from_proto(authors.keys)
    assert np.allclose(bias, bias[:, :1], atol=1e-5)  # one vector: the key bias, every token
    with pytest.raises(grpc.RpcError) as e:
        stub.EncodeDense(pb.EncodeDenseRequest(images=images, mode=pb.DENSE_MODE_SURGERY,
                                               residual=True))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "residual" in e.value.details()
