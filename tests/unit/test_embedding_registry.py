"""The model registry: YAML entries, open_clip names resolved offline, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from cliplens.core.errors import FailedPrecondition, NotFound
from cliplens.embedding.registry import BUILTIN_DIR, Registry, RegistryError

TOYWORLD_CONFIG = Path(__file__).resolve().parents[2] / "services/toyworld/model/toyworld.json"


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_shipped_toyworld_entry(tmp_path):
    reg = Registry(model_dir=tmp_path)
    entry = reg.resolve("toyworld")
    assert "toyworld" in reg.names()
    assert entry.config == TOYWORLD_CONFIG
    assert entry.arch_name == "toyworld"
    assert entry.weights == TOYWORLD_CONFIG.with_name("toyworld.safetensors")
    assert not entry.random_weights
    assert entry.source == str(BUILTIN_DIR / "toyworld.yaml")


def test_extra_dirs_relative_paths_and_fields(tmp_path):
    folder = tmp_path / "reg"
    (folder / "w").mkdir(parents=True)
    (folder / "w" / "m.safetensors").write_bytes(b"x")
    _write(folder, "mine.yaml", f"""
- name: mine
  config: {TOYWORLD_CONFIG}
  weights: w/m.safetensors
  surgery_depth: 4
  precision: fp32
- name: arch-only
  architecture: ViT-B-32
  pretrained: openai
  weights: random
""")
    reg = Registry([folder], model_dir=tmp_path / "models")
    mine = reg.resolve("mine")
    assert mine.weights == (folder / "w" / "m.safetensors").resolve()
    assert mine.surgery_depth == 4 and mine.precision == "fp32"
    arch = reg.resolve("arch-only")
    assert arch.random_weights and arch.weights is None and arch.pretrained == "openai"


def test_weights_fall_back_to_the_model_dir(tmp_path):
    models = tmp_path / "models"
    (models / "sub").mkdir(parents=True)
    (models / "sub" / "w.safetensors").write_bytes(b"x")
    _write(tmp_path / "reg", "a.yaml", f"name: a\nconfig: {TOYWORLD_CONFIG}\n"
                                       f"weights: sub/w.safetensors\n")
    entry = Registry([tmp_path / "reg"], model_dir=models).resolve("a")
    assert entry.weights == (models / "sub" / "w.safetensors").resolve()
    assert len(entry.weights_candidates) == 2


@pytest.mark.parametrize("text, message", [
    ("name: x\n", "exactly one of architecture, config, hf_dir, hf_hub, got none"),
    ("name: x\nhf_dir: a\nhf_hub: o/n\n", "got hf_dir='a', hf_hub='o/n'"),
    ("name: x\nhf_dir: a\nweights: w.safetensors\n", "weights and pretrained come from"),
    ("name: x\narchitecture: ViT-B-32\nconfig: a.json\n", "exactly one"),
    ("architecture: ViT-B-32\n", "name: expected a non-empty string"),
    ("name: x\narchitecture: ViT-B-32\nsurgery_depth: 0\n", "surgery_depth"),
    ("name: x\narchitecture: ViT-B-32\nprecision: fp8\n", "precision"),
    ("name: x\narchitecture: ViT-B-32\nwieghts: a\n", "unknown keys ['wieghts']"),
    ("- 3\n", "expected a mapping"),
    ("name: [unclosed\n", "cannot read registry file"),
])
def test_malformed_entries_name_the_file_and_key(tmp_path, text, message):
    path = _write(tmp_path / "reg", "bad.yaml", text)
    with pytest.raises(RegistryError) as info:
        Registry([tmp_path / "reg"], model_dir=tmp_path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert isinstance(info.value, FailedPrecondition)


def test_duplicate_names_are_refused(tmp_path):
    _write(tmp_path / "reg", "a.yaml", "name: toyworld\narchitecture: ViT-B-32\n")
    with pytest.raises(RegistryError, match="already defined"):
        Registry([tmp_path / "reg"], model_dir=tmp_path)


def test_missing_registry_dir_is_refused(tmp_path):
    with pytest.raises(RegistryError, match="not a directory"):
        Registry([tmp_path / "nope"], model_dir=tmp_path)


def test_open_clip_names_resolve_to_the_model_dir_in_order(tmp_path):
    reg = Registry(model_dir=tmp_path)
    entry = reg.resolve("ViT-B-16/openai")
    assert entry.architecture == "ViT-B-16" and entry.pretrained == "openai"
    assert [p.name for p in entry.weights_candidates] == [
        "openai.safetensors", "openai.bin", "openai.pt", "openai.pth"]
    assert entry.weights == tmp_path / "ViT-B-16" / "openai.safetensors"
    (tmp_path / "ViT-B-16").mkdir()
    (tmp_path / "ViT-B-16" / "openai.pt").write_bytes(b"x")
    assert reg.resolve("ViT-B-16/openai").weights == tmp_path / "ViT-B-16" / "openai.pt"


def test_random_tag(tmp_path):
    entry = Registry(model_dir=tmp_path).resolve("RN50/random")
    assert entry.random_weights and entry.weights is None and entry.architecture == "RN50"


@pytest.mark.parametrize("name, message", [
    ("nope", "neither a registry entry"),
    ("ViT-Q-99/openai", "unknown open_clip architecture 'ViT-Q-99'"),
    ("ViT-B-32/", "neither a registry entry"),
])
def test_unknown_names_are_not_found(tmp_path, name, message):
    with pytest.raises(NotFound, match=message):
        Registry(model_dir=tmp_path).resolve(name)
