"""The contract every map method keeps, for every model the embedding service loads: maps of the
right shape, finite and in [0, 1], at grid and image resolution, for square, wide and tall
images, through the real services (in the style of pytorch-grad-cam's tests over every CAM).

The methods come from the registry (`cliplens.explanation.methods.MAP_METHODS`) and the models
from the running embedding service's ListModels, so a method or a model family added later is
tested here without a line changing.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import stack as stacks
from PIL import Image

from cliplens.core.tensors import from_proto
from cliplens.explanation.methods import MAP_METHODS, MapMethod
from cliplens.v1 import common_pb2, embedding_pb2
from cliplens.v1 import explanation_pb2 as pb

SHAPES = {"square": (96, 96), "wide": (72, 128), "tall": (120, 64)}
CONCEPTS = ["car.n.01", "tree.n.01"]


@pytest.fixture(scope="module")
def stack(serve_module, tmp_path_factory):
    return stacks.start_stack(serve_module, tmp_path_factory.mktemp("contract"), gateway=False)


@pytest.fixture(scope="module")
def models(stack) -> list[str]:
    listed = stack.embedding.ListModels(embedding_pb2.ListModelsRequest()).models
    names = [m.ref.name for m in listed]
    assert set(stack.models) <= set(names)
    return names


def _image(hw: tuple[int, int], seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (*hw, 3), dtype=np.uint8)
    pixels[hw[0] // 4: hw[0] // 2, hw[1] // 4: hw[1] // 2] = (200, 30, 30)  # some structure
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _maps(stack, method: MapMethod, model: str, data: bytes) -> list[common_pb2.Map]:
    if method.family == "surgery":
        reply = stack.explanation.Surgery(pb.SurgeryRequest(
            model=model, images=[common_pb2.Image(data=data)], labels=CONCEPTS,
            mode=method.mode))
        assert len(reply.results) == 1
        return list(reply.results[0].maps)
    results = [r.result for r in stack.explanation.Convis(pb.ConvisRequest(
        model=model, image=common_pb2.Image(data=data), concepts=CONCEPTS, mode=method.mode,
        dictionary="toyworld", iterations=20)) if r.HasField("result")]
    assert len(results) == 1
    return [m.map for m in results[0].maps]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", MAP_METHODS)
def test_every_method_gives_maps_of_the_right_shape_and_range(stack, models, name, shape):
    method = MAP_METHODS[name]
    hw = SHAPES[shape]
    data = _image(hw)
    for model in models:
        maps = _maps(stack, method, model, data)
        assert len(maps) == len(CONCEPTS), model
        for m in maps:
            grid, full = from_proto(m.grid), from_proto(m.full)
            where = f"{name} on {model}, {shape} {hw}"
            assert grid.ndim == 2 and min(grid.shape) >= 1, where
            assert full.shape == hw and full.dtype == np.float32, where
            for values in (grid, full):
                assert np.isfinite(values).all(), where
                assert values.min() >= 0.0 and values.max() <= 1.0, where
            assert full.max() > full.min(), f"{where}: a constant map"
