"""Building a registry entry into an open_clip model: weights, fingerprint, device, precision.

Weights are read offline and never unpickled: safetensors, or `torch.load(weights_only=True)`
for `.bin`/`.pt`/`.pth` state dicts. open_clip is asked for the architecture only (no
pretrained tag, so it never downloads); the state dict is loaded here, strictly. A missing or
unreadable file stops the service at start with the path and the reason.

Checkpoint folders (a registry `hf_dir`, an `hf-hub:` snapshot) are registered with open_clip and
their weights converted by `hf_checkpoints`; everything after that is the same path.

Fingerprints: "sha256:" + the sha256 of the weights file's bytes (hashed once, in chunks), for
every kind of entry: for a checkpoint folder, of its one weights file (`model.safetensors`,
`open_clip_model.safetensors`, ...: the file named in the model's `source`), which is also the
name the Hugging Face cache gives its blob; for random weights (built after
`torch.manual_seed(0)`), of the state-dict tensors as float32 in key order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import time
from pathlib import Path

import torch

from cliplens.core.errors import FailedPrecondition
from cliplens.embedding.registry import ModelEntry

# Belt and braces: nothing below may reach the Hugging Face hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
log = logging.getLogger(__name__)
RANDOM_SEED = 0


class _OpenClipChatter(logging.Filter):
    """Drops open_clip's root-logger notes while a model is built here.

    open_clip warns "No pretrained weights loaded ... initialized randomly" because the weights
    are loaded by this module afterwards, which would mislead whoever reads the logs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or "open_clip" not in record.pathname


@contextlib.contextmanager
def quiet_open_clip():
    """Silence open_clip's informational root-logger records for the block."""
    root = logging.getLogger()
    chatter = _OpenClipChatter()
    root.addFilter(chatter)
    try:
        yield
    finally:
        root.removeFilter(chatter)


class ModelLoadError(FailedPrecondition):
    """A model cannot be built; the message names the path and the reason."""


@dataclasses.dataclass
class BuiltModel:
    """An open_clip CLIP model in eval mode on its device, with where its weights came from."""

    model: torch.nn.Module
    architecture: str
    fingerprint: str
    random_weights: bool
    preprocess_cfg: dict
    load_seconds: float


def file_fingerprint(path: Path) -> str:
    """"sha256:<hex>" of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def state_fingerprint(state: dict[str, torch.Tensor]) -> str:
    """"sha256:<hex>" of the state-dict tensors (float32 for floating ones) in key order."""
    h = hashlib.sha256()
    for tensor in state.values():
        t = tensor.detach().cpu()
        if t.is_floating_point():
            t = t.float()
        h.update(t.contiguous().numpy().tobytes())
    return "sha256:" + h.hexdigest()


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a weights file, or ModelLoadError naming the path and the reason."""
    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - every reader failure means a corrupt file
        raise ModelLoadError(f"weights {path}: cannot be read ({type(e).__name__}: "
                             f"{str(e).splitlines()[0] if str(e) else 'no detail'})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelLoadError(f"weights {path}: expected a state dict of tensors, got "
                             f"{type(state).__name__}")
    if next(iter(state)).startswith("module."):
        state = {k.removeprefix("module."): v for k, v in state.items()}
    return state


def register_architecture(entry: ModelEntry) -> str:
    """Make the entry's architecture known to open_clip; returns its name."""
    import open_clip

    if entry.folder is not None:
        from cliplens.embedding.hf_checkpoints import register

        return register(entry.folder, entry.arch_name)[0]
    if entry.config is None:
        if entry.architecture not in open_clip.list_models():
            raise ModelLoadError(f"model {entry.name}: unknown open_clip architecture "
                                 f"{entry.architecture!r}")
        return entry.architecture
    name = entry.arch_name
    try:
        wanted = json.loads(Path(entry.config).read_text())
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"model {entry.name}: config {entry.config}: {e}") from None
    if not all(k in wanted for k in ("embed_dim", "vision_cfg", "text_cfg")):
        raise ModelLoadError(f"model {entry.name}: config {entry.config}: expected keys "
                             f"embed_dim, vision_cfg and text_cfg")
    known = open_clip.get_model_config(name)
    if known is None:
        open_clip.add_model_config(entry.config)
    elif known != wanted:
        raise ModelLoadError(f"model {entry.name}: config {entry.config} is named {name!r}, "
                             f"which open_clip already knows with a different content")
    return name


def _preprocess_overrides(entry: ModelEntry, arch: str) -> tuple[dict, bool]:
    """Preprocessing and QuickGELU of the entry's pretrained tag (from open_clip's table)."""
    import open_clip

    if entry.folder is not None:
        from cliplens.embedding.hf_checkpoints import register

        return register(entry.folder, entry.arch_name)[1], False
    if not entry.pretrained:
        return {}, False
    cfg = open_clip.get_pretrained_cfg(arch, entry.pretrained) or {}
    keys = ("mean", "std", "interpolation", "resize_mode")
    return {k: cfg[k] for k in keys if k in cfg}, bool(cfg.get("quick_gelu", False))


def _load_into(model: torch.nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    from open_clip.convert import convert_state_dict
    from open_clip.model import (
        convert_to_custom_text_state_dict,
        resize_pos_embed,
        resize_text_pos_embed,
    )

    try:
        state = convert_state_dict(model, state)
        if "positional_embedding" in state and not hasattr(model, "positional_embedding"):
            state = convert_to_custom_text_state_dict(state)
        for key in ("logit_scale", "logit_bias"):
            own = getattr(model, key, None)
            if key in state and own is not None and own.ndim != state[key].ndim:
                state[key] = state[key].reshape(own.shape)
        if "logit_bias" not in state and getattr(model, "logit_bias", None) is not None:
            state["logit_bias"] = torch.zeros_like(model.logit_bias)
        resize_pos_embed(state, model)
        resize_text_pos_embed(state, model)
        model.load_state_dict(state, strict=True)
    except (RuntimeError, KeyError, ValueError) as e:
        detail = " ".join(str(e).split())[:600]
        raise ModelLoadError(f"weights {path}: do not fit the architecture ({detail})") from None


def resolve_device(device: str) -> str:
    """"auto" -> "cuda:0" when CUDA is usable, else "cpu"."""
    if device == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise ModelLoadError("device: cuda asked for, but CUDA is not available")
        return "cuda:0"
    return device


def build(entry: ModelEntry, *, device: str = "cpu", precision: str = "fp32") -> BuiltModel:
    """Create, load and place the model of `entry` (fails loudly, never half-loaded)."""
    import open_clip

    started = time.perf_counter()
    if precision != "fp32" and not device.startswith("cuda"):
        raise ModelLoadError(f"model {entry.name}: precision {precision} needs a CUDA device, "
                             f"got {device}")
    if not entry.random_weights:
        if entry.weights is None or not Path(entry.weights).is_file():
            looked = ", ".join(str(p) for p in entry.weights_candidates or (entry.weights,))
            raise ModelLoadError(f"model {entry.name}: weights not found (looked for {looked})")
    arch = register_architecture(entry)
    overrides, quick_gelu = _preprocess_overrides(entry, arch)
    kwargs = dict(pretrained=None, precision=precision, device="cpu",
                  force_quick_gelu=quick_gelu, force_preprocess_cfg=overrides,
                  pretrained_image=False, pretrained_text=False)
    if entry.random_weights:
        with torch.random.fork_rng(devices=[]), quiet_open_clip():
            torch.manual_seed(RANDOM_SEED)
            model = open_clip.create_model(arch, **kwargs)
        fingerprint = state_fingerprint(model.state_dict())
    else:
        path = Path(entry.weights)
        state = read_state_dict(path)
        if entry.folder is not None:
            from cliplens.embedding.hf_checkpoints import to_open_clip

            state = to_open_clip(entry.folder, state, path)
        fingerprint = file_fingerprint(path)
        with quiet_open_clip():
            model = open_clip.create_model(arch, **kwargs)
        _load_into(model, state, path)
        del state
    model = model.to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    from open_clip.model import get_model_preprocess_cfg

    return BuiltModel(model=model, architecture=arch, fingerprint=fingerprint,
                      random_weights=entry.random_weights,
                      preprocess_cfg=dict(get_model_preprocess_cfg(model)),
                      load_seconds=time.perf_counter() - started)
