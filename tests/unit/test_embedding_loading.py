"""Building models: safe weight reading, fingerprints, strict loading, loud failures."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import pytest
import torch

from cliplens.embedding import loading
from cliplens.embedding.loading import ModelLoadError, build
from cliplens.embedding.registry import ModelEntry

TOYWORLD_CONFIG = Path(__file__).resolve().parents[2] / "services/toyworld/model/toyworld.json"
RANDOM = ModelEntry(name="tw", config=TOYWORLD_CONFIG, random_weights=True, source="test")


@pytest.fixture(scope="module")
def random_tw():
    return build(RANDOM)


@pytest.fixture
def tw_file(tmp_path, random_tw):
    from cliplens.toyworld.model import save_fp16

    return save_fp16(random_tw.model, tmp_path / "tw.safetensors")


def _entry(path: Path) -> ModelEntry:
    return dataclasses.replace(RANDOM, weights=path, weights_candidates=(path,),
                               random_weights=False)


def test_random_weights_are_seeded_and_fingerprinted_by_state(random_tw):
    again = build(RANDOM)
    assert random_tw.random_weights
    assert random_tw.fingerprint == again.fingerprint
    assert random_tw.fingerprint.startswith("sha256:") and len(random_tw.fingerprint) == 71
    h = hashlib.sha256()
    for t in random_tw.model.state_dict().values():
        h.update(t.float().contiguous().numpy().tobytes())
    assert random_tw.fingerprint == "sha256:" + h.hexdigest()
    a, b = random_tw.model.state_dict(), again.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_random_build_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build(RANDOM)
    assert torch.equal(torch.rand(3), expected)


def test_safetensors_weights_load_and_fingerprint_the_file(tw_file, random_tw):
    built = build(_entry(tw_file))
    assert built.fingerprint == "sha256:" + hashlib.sha256(tw_file.read_bytes()).hexdigest()
    assert not built.random_weights
    want = {k: v.half().float() for k, v in random_tw.model.state_dict().items()}
    got = built.model.state_dict()
    assert all(torch.equal(got[k], want[k]) for k in want)
    assert not built.model.training
    assert built.preprocess_cfg["size"] == (80, 80)


def test_torch_state_dicts_load_with_weights_only(tmp_path, random_tw):
    path = tmp_path / "tw.pt"
    torch.save({"state_dict": {f"module.{k}": v for k, v in
                               random_tw.model.state_dict().items()}}, path)
    built = build(_entry(path))
    x = torch.randn(1, 3, 80, 80)
    with torch.no_grad():
        assert torch.allclose(built.model.encode_image(x), random_tw.model.encode_image(x))


class NotATensor:
    """Anything a weights-only unpickler must refuse."""

    def __reduce__(self):
        return (os.getcwd, ())


def test_pickled_objects_are_refused(tmp_path, random_tw):
    path = tmp_path / "evil.pt"
    state = dict(random_tw.model.state_dict())
    torch.save({"state_dict": state, "payload": NotATensor()}, path)
    with pytest.raises(ModelLoadError, match=f"weights {path}: cannot be read"):
        build(_entry(path))


def test_corrupt_file_names_the_path_and_reason(tmp_path):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(ModelLoadError) as info:
        build(_entry(path))
    assert str(path) in str(info.value) and "cannot be read" in str(info.value)


def test_weights_of_another_architecture_are_refused(tmp_path, random_tw):
    from safetensors.torch import save_file

    state = {k: v.contiguous() for k, v in random_tw.model.state_dict().items()}
    del state["visual.proj"]
    path = tmp_path / "partial.safetensors"
    save_file(state, str(path))
    with pytest.raises(ModelLoadError, match="do not fit the architecture.*visual.proj"):
        build(_entry(path))


def test_missing_weights_list_every_path_looked_for(tmp_path):
    a, b = tmp_path / "a.safetensors", tmp_path / "b.bin"
    entry = dataclasses.replace(_entry(a), weights_candidates=(a, b))
    with pytest.raises(ModelLoadError, match=f"weights not found.*{a}.*{b}"):
        build(entry)


def test_low_precision_needs_cuda():
    with pytest.raises(ModelLoadError, match="precision fp16 needs a CUDA device"):
        build(RANDOM, device="cpu", precision="fp16")


def test_never_online():
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert loading.RANDOM_SEED == 0
