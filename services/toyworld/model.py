"""The toyworld model files: its open_clip config, its weights, and how they are written.

Serving code loads toyworld through the embedding service's registry like any other model;
this module is what training and the held-out evaluation use to build it in-process.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

MODEL_DIR = Path(__file__).with_name("model")
CONFIG_PATH = MODEL_DIR / "toyworld.json"
WEIGHTS_NAME = "toyworld.safetensors"
WEIGHTS_PATH = MODEL_DIR / WEIGHTS_NAME
IMAGE_SIZE = 80
# open_clip's OpenAI normalisation, which toyworld keeps so it preprocesses like real CLIP.
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)


def register(config: Path = CONFIG_PATH) -> str:
    """Make a toyworld architecture known to open_clip (named by the file's stem)."""
    import open_clip

    name = Path(config).stem
    if name not in open_clip.list_models():
        open_clip.add_model_config(config)
    return name


def create(*, pretrained: bool = True, weights: Path = WEIGHTS_PATH,
           config: Path = CONFIG_PATH):
    """The toyworld CLIP in fp32 eval mode, with the shipped (or given) weights."""
    import open_clip
    from safetensors.torch import load_file

    model = open_clip.create_model(register(config), pretrained=None)
    if pretrained:
        if not Path(weights).is_file():
            raise FileNotFoundError(f"toyworld weights not found at {weights}")
        state = {k: v.float() for k, v in load_file(str(weights)).items()}
        model.load_state_dict(state, strict=True)
    return model.eval()


def tokenizer(config: Path = CONFIG_PATH):
    """The standard CLIP BPE tokenizer open_clip ships, at toyworld's context length."""
    import open_clip

    return open_clip.get_tokenizer(register(config))


def save_fp16(model: torch.nn.Module, path: Path) -> Path:
    """Write the weights as fp16 safetensors (keeps the checkpoint under 20 MB)."""
    from safetensors.torch import save_file

    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={"format": "pt", "model": "toyworld"})
    return path


def sha256(path: Path) -> str:
    """sha256 of a file, the fingerprint every response carries."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
