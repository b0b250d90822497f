"""Where an ONNX export lives on disk and its `meta.json`: what the exporter writes and the
onnx backend reads (kept apart so neither imports the other for it)."""

from __future__ import annotations

import json
from pathlib import Path

FILES = {"image": "image.onnx", "text": "text.onnx", "dense": "dense.onnx"}
META = "meta.json"


def model_folder(onnx_dir: Path | str, name: str) -> Path:
    """Where the ONNX files of model `name` live."""
    return Path(onnx_dir) / name.replace("/", "__")


def read_meta(folder: Path) -> dict:
    """The meta.json of an export, or FileNotFoundError naming the path."""
    path = Path(folder) / META
    if not path.is_file():
        raise FileNotFoundError(str(path))
    return json.loads(path.read_text())
