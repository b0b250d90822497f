"""`cliplens models` against a real embedding server, and `cliplens export-onnx`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cliplens.client.cli import main

TOYWORLD_CONFIG = Path(__file__).resolve().parents[2] / "services/toyworld/model/toyworld.json"


@pytest.fixture
def registry(tmp_path, monkeypatch):
    folder = tmp_path / "registry"
    folder.mkdir()
    (folder / "tw-random.yaml").write_text(
        f"name: tw-random\nconfig: {TOYWORLD_CONFIG}\nweights: random\n")
    monkeypatch.setenv("CLIPLENS_EMBEDDING_REGISTRY_DIRS", str(folder))
    monkeypatch.setenv("CLIPLENS_EMBEDDING_MODEL_DIR", str(tmp_path / "models"))
    return folder


def _run(capsys, *argv) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def test_models_list_and_show(serve, registry, capsys):
    from cliplens.embedding.config import EmbeddingConfig
    from cliplens.embedding.service import start

    config = EmbeddingConfig(models=("tw-random",), default_model="tw-random", port=0,
                             metrics_port=-1, registry_dirs=(str(registry),), torch_threads=1)
    target = f"127.0.0.1:{serve(lambda: start(config)).port}"
    code, out, _ = _run(capsys, "--target", target, "--json", "models", "list")
    assert code == 0
    data = json.loads(out)
    assert data["default_model"] == "tw-random"
    (info,) = data["models"]
    assert info["ref"]["name"] == "tw-random" and info["ref"]["random_weights"] is True
    assert info["embed_dim"] == 128 and info["surgery_depth"] == 6
    code, out, _ = _run(capsys, "--target", target, "models")
    assert code == 0 and "tw-random* (random)" in out and "10x10" in out
    code, out, _ = _run(capsys, "--target", target, "--json", "models", "show")
    assert code == 0 and json.loads(out)["ref"]["fingerprint"] == info["ref"]["fingerprint"]
    code, _, _ = _run(capsys, "--target", target, "models", "show", "nope")
    assert code == 3  # NOT_FOUND


def test_models_list_local(registry, capsys):
    code, out, _ = _run(capsys, "--json", "models", "list", "--local")
    assert code == 0
    names = {m["name"]: m for m in json.loads(out)["models"]}
    assert {"toyworld", "tw-random"} <= set(names)
    assert names["tw-random"]["weights_present"] is True


def test_export_onnx(registry, tmp_path, capsys):
    out_dir = tmp_path / "onnx"
    code, out, _ = _run(capsys, "--json", "export-onnx", "tw-random", "--out", str(out_dir))
    assert code == 0
    data = json.loads(out)
    assert data["folder"] == str(out_dir / "tw-random")
    assert set(data["files"]) == {"image.onnx", "text.onnx", "dense.onnx", "meta.json"}
    assert min(data["min_cosine"].values()) >= 0.999
    assert set(data["min_cosine"]) == {"image", "text", "dense.surgery", "dense.raw",
                                       "dense.keys"}


def test_export_onnx_unknown_model(registry, capsys):
    code, _, err = _run(capsys, "export-onnx", "no-such-model", "--out", "/tmp/unused")
    assert code == 1
    assert "neither a registry entry" in err
