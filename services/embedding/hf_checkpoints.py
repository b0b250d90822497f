"""Checkpoint folders in Hugging Face layouts, served as open_clip models.

Two layouts are read from a folder (a registry entry's `hf_dir`, or the snapshot of an
`hf-hub:ORG/NAME` model in the local Hugging Face cache):

- **transformers** (`config.json` + `model.safetensors` or `pytorch_model.bin`, as
  `openai/clip-vit-base-patch32` and `google/siglip-base-patch16-224` hold them): `CLIPModel`
  and `SiglipModel` checkpoints are converted at load time into the open_clip model of the same
  shape: a CLIP into open_clip's `CLIP` (OpenAI-style ViT, causal text tower), a SigLIP into a
  `CustomTextCLIP` whose image tower is a timm `VisionTransformer` with the MAP head (timm's own
  SigLIP towers) and whose text tower is open_clip's bidirectional, last-token one. Converting,
  rather than serving through transformers, keeps one forward for every model: the dense tokens
  and the Surgery dual path read open_clip's and timm's modules, and transformers is not needed
  at run time. Model facts come from `config.json` and the weights (logit scale and bias), image
  preprocessing from `preprocessor_config.json` (family defaults when it is absent), the
  tokenizer from the folder's own files (`tokenization`).
- **open_clip** (`open_clip_config.json` + `open_clip_model.safetensors` or
  `open_clip_pytorch_model.bin`, as open_clip's `push_to_hf_hub` writes `hf-hub:` models): the
  model configuration and preprocessing are read from `open_clip_config.json`, the weights
  loaded as open_clip's own.

The configurations are registered with open_clip under a name of their own (the folder's name,
or ORG--NAME for hub models, suffixed with a digest of the content when open_clip already knows
that name otherwise), so that everything downstream sees an ordinary open_clip architecture.
"""

from __future__ import annotations

import functools
import hashlib
import json
import tempfile
from pathlib import Path

import torch

from cliplens.core.errors import FailedPrecondition
from cliplens.embedding.tokenization import hub_snapshot

TRANSFORMERS_CONFIG = "config.json"
OPEN_CLIP_CONFIG = "open_clip_config.json"
# In the order they are preferred (open_clip's own order for its layout).
TRANSFORMERS_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
OPEN_CLIP_WEIGHTS = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin",
                     "open_clip_pytorch_model.pth")
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
# PIL resampling codes of preprocessor_config.json -> open_clip interpolation names.
_RESAMPLE = {2: "bilinear", 3: "bicubic"}
# transformers' defaults for keys a config.json may leave out.
_DEFAULTS = {
    "clip": {"text": dict(vocab_size=49408, hidden_size=512, intermediate_size=2048,
                          num_hidden_layers=12, num_attention_heads=8,
                          max_position_embeddings=77, hidden_act="quick_gelu",
                          layer_norm_eps=1e-5, eos_token_id=49407),
             "vision": dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                            num_attention_heads=12, num_channels=3, image_size=224,
                            patch_size=32, hidden_act="quick_gelu", layer_norm_eps=1e-5),
             "model": dict(projection_dim=512)},
    "siglip": {"text": dict(vocab_size=32000, hidden_size=768, intermediate_size=3072,
                            num_hidden_layers=12, num_attention_heads=12,
                            max_position_embeddings=64, hidden_act="gelu_pytorch_tanh",
                            layer_norm_eps=1e-6, projection_size=None),
               "vision": dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                              num_attention_heads=12, num_channels=3, image_size=224,
                              patch_size=16, hidden_act="gelu_pytorch_tanh",
                              layer_norm_eps=1e-6, vision_use_head=True),
               "model": {}},
}
MODEL_TYPES = tuple(_DEFAULTS)


class CheckpointError(FailedPrecondition):
    """A checkpoint folder cannot be served; the message names the path and the reason."""


def layout(folder: Path) -> str:
    """"transformers", "open_clip", or "" when `folder` holds neither configuration."""
    if (Path(folder) / TRANSFORMERS_CONFIG).is_file():
        return "transformers"
    if (Path(folder) / OPEN_CLIP_CONFIG).is_file():
        return "open_clip"
    return ""


def find_weights(folder: Path) -> tuple[Path, tuple[Path, ...]]:
    """(the weights file, every name tried) of a checkpoint folder; the first when none is."""
    kind = layout(folder)
    names = {"transformers": TRANSFORMERS_WEIGHTS, "open_clip": OPEN_CLIP_WEIGHTS}.get(
        kind, TRANSFORMERS_WEIGHTS + OPEN_CLIP_WEIGHTS)
    candidates = tuple(Path(folder) / n for n in names)
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:  # a sharded checkpoint: named, so that `register` says why it is refused
        found = next((c.with_name(c.name + ".index.json") for c in candidates
                      if c.with_name(c.name + ".index.json").is_file()), candidates[0])
    return found, candidates


def hub_folder(repo_id: str) -> tuple[Path, tuple[Path, ...], str]:
    """(weights, weights tried, description) of `hf-hub:repo_id` in the local cache (offline).

    When the repository is not cached, the weights named are where they would be, so that the
    start-up error says where it looked.
    """
    snapshot, repo = hub_snapshot(repo_id)
    if snapshot is None:
        where = repo / "snapshots" / "<revision of refs/main>"
        candidates = tuple(where / n for n in OPEN_CLIP_WEIGHTS)
        return candidates[0], candidates, f"hf-hub:{repo_id} (not in the cache at {repo})"
    weights, candidates = find_weights(snapshot)
    return weights, candidates, f"hf-hub:{repo_id} ({snapshot})"


def _read_config(path: Path) -> dict:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise CheckpointError(f"checkpoint: {path}: cannot be read ({e})") from None
    if not isinstance(doc, dict):
        raise CheckpointError(f"checkpoint: {path}: expected a JSON object")
    return doc


def _mlp_ratio(width: int, hidden: int) -> float:
    """A ratio whose `int(width * ratio)` is exactly `hidden` (how both towers size the MLP)."""
    ratio = hidden / width
    return ratio if int(width * ratio) == hidden else (hidden + 0.5) / width


def _towers(config: dict, kind: str, path: Path) -> tuple[dict, dict]:
    defaults = _DEFAULTS[kind]
    text = {**defaults["text"], **(config.get("text_config") or {})}
    vision = {**defaults["vision"], **(config.get("vision_config") or {})}
    for name, tower in (("text_config", text), ("vision_config", vision)):
        if tower["hidden_size"] % tower["num_attention_heads"]:
            raise CheckpointError(f"checkpoint: {path}: {name}: hidden_size "
                                  f"{tower['hidden_size']} is not a multiple of "
                                  f"num_attention_heads {tower['num_attention_heads']}")
    if vision["num_channels"] != 3:
        raise CheckpointError(f"checkpoint: {path}: vision_config.num_channels: expected 3, "
                              f"got {vision['num_channels']}")
    return text, vision


def _clip_config(config: dict, path: Path) -> dict:
    text, vision = _towers(config, "clip", path)
    acts = {text["hidden_act"], vision["hidden_act"]}
    if len(acts) != 1 or not acts <= {"quick_gelu", "gelu"}:
        raise CheckpointError(f"checkpoint: {path}: hidden_act {sorted(acts)} is not supported "
                              f"(open_clip's CLIP runs quick_gelu or gelu, the same in both "
                              f"towers)")
    eos = int(text["eos_token_id"])
    return {
        "embed_dim": int(config.get("projection_dim", 512)),
        "quick_gelu": acts == {"quick_gelu"},
        "vision_cfg": {
            "image_size": vision["image_size"], "patch_size": vision["patch_size"],
            "width": vision["hidden_size"], "layers": vision["num_hidden_layers"],
            "head_width": vision["hidden_size"] // vision["num_attention_heads"],
            "mlp_ratio": _mlp_ratio(vision["hidden_size"], vision["intermediate_size"]),
            "norm_kwargs": {"eps": vision["layer_norm_eps"]},
        },
        "text_cfg": {
            "context_length": text["max_position_embeddings"], "vocab_size": text["vocab_size"],
            "width": text["hidden_size"], "heads": text["num_attention_heads"],
            "layers": text["num_hidden_layers"],
            "mlp_ratio": _mlp_ratio(text["hidden_size"], text["intermediate_size"]),
            "norm_kwargs": {"eps": text["layer_norm_eps"]},
            # transformers pools at the highest id when eos_token_id is the legacy 2 (the openai
            # checkpoints), else at the first end token.
            "pool_type": "argmax" if eos == 2 else "eos", "eos_id": eos,
            "hf_tokenizer_name": str(path.parent),
        },
    }


_TEXT_ACTS = {"gelu_pytorch_tanh": {"act_kwargs": {"approximate": "tanh"}},
              "gelu": {}, "quick_gelu": {"quick_gelu": True}}
_TIMM_ACTS = {"gelu_pytorch_tanh": "gelu_tanh", "gelu": "gelu", "quick_gelu": "quick_gelu"}


def _siglip_config(config: dict, path: Path) -> dict:
    text, vision = _towers(config, "siglip", path)
    if not vision["vision_use_head"]:
        raise CheckpointError(f"checkpoint: {path}: vision_config.vision_use_head is false; "
                              f"a SigLIP image embedding needs its attention-pool head")
    for name, tower in (("text_config", text), ("vision_config", vision)):
        if tower["hidden_act"] not in _TEXT_ACTS:
            raise CheckpointError(f"checkpoint: {path}: {name}.hidden_act "
                                  f"{tower['hidden_act']!r} is not supported (expected one of "
                                  f"{', '.join(_TEXT_ACTS)})")
    projection = text["projection_size"] or text["hidden_size"]
    if projection != vision["hidden_size"]:
        raise CheckpointError(f"checkpoint: {path}: text projection_size {projection} differs "
                              f"from the image embedding size {vision['hidden_size']}")
    act = dict(_TEXT_ACTS[text["hidden_act"]])
    quick = act.pop("quick_gelu", False)
    return {
        "embed_dim": projection,
        "init_logit_bias": -10.0,
        "custom_text": True,
        "quick_gelu": quick,
        "vision_cfg": {
            "image_size": vision["image_size"], "timm_model_name": _timm_siglip(vision),
            "timm_model_pretrained": False, "timm_pool": "map", "timm_proj": "none",
        },
        "text_cfg": {
            "context_length": text["max_position_embeddings"], "vocab_size": text["vocab_size"],
            "width": text["hidden_size"], "heads": text["num_attention_heads"],
            "layers": text["num_hidden_layers"],
            "mlp_ratio": _mlp_ratio(text["hidden_size"], text["intermediate_size"]),
            "no_causal_mask": True, "proj_bias": True, "pool_type": "last",
            "norm_kwargs": {"eps": text["layer_norm_eps"]}, **act,
            "hf_tokenizer_name": str(path.parent),
        },
    }


@functools.cache
def _timm_entrypoint(name: str, spec: str):
    """Register a timm entrypoint `name` building the SigLIP image tower `spec` describes."""
    from timm.layers import get_act_layer
    from timm.models import register_model
    from timm.models.vision_transformer import VisionTransformer

    dims = json.loads(spec)

    def create(pretrained: bool = False, **kwargs) -> VisionTransformer:
        for key in ("pretrained_cfg", "pretrained_cfg_overlay", "cache_dir"):
            kwargs.pop(key, None)
        kwargs.setdefault("global_pool", "map")
        return VisionTransformer(
            img_size=dims["image_size"], patch_size=dims["patch_size"],
            embed_dim=dims["hidden_size"], depth=dims["num_hidden_layers"],
            num_heads=dims["num_attention_heads"],
            mlp_ratio=_mlp_ratio(dims["hidden_size"], dims["intermediate_size"]),
            qkv_bias=True, class_token=False, act_layer=get_act_layer(dims["act"]),
            norm_layer=functools.partial(torch.nn.LayerNorm, eps=dims["layer_norm_eps"]),
            **kwargs)

    create.__name__ = create.__qualname__ = name
    create.__module__ = __name__
    register_model(create)
    return create


def _timm_siglip(vision: dict) -> str:
    """The timm model name of a SigLIP image tower of these dimensions (registered once)."""
    keys = ("image_size", "patch_size", "hidden_size", "num_hidden_layers",
            "num_attention_heads", "intermediate_size", "layer_norm_eps")
    dims = {k: vision[k] for k in keys} | {"act": _TIMM_ACTS[vision["hidden_act"]]}
    spec = json.dumps(dims, sort_keys=True)
    name = "cliplens_siglip_vit_" + hashlib.sha256(spec.encode()).hexdigest()[:12]
    _timm_entrypoint(name, spec)
    return name


def _transformers_model(folder: Path) -> tuple[str, dict]:
    path = folder / TRANSFORMERS_CONFIG
    config = _read_config(path)
    kind = config.get("model_type")
    if kind not in MODEL_TYPES:
        raise CheckpointError(f"checkpoint: {path}: model_type {kind!r} is not supported "
                              f"(expected one of {', '.join(MODEL_TYPES)}: CLIPModel or "
                              f"SiglipModel checkpoints)")
    return kind, (_clip_config if kind == "clip" else _siglip_config)(config, path)


def _preprocess(folder: Path, kind: str) -> dict:
    """open_clip preprocessing from preprocessor_config.json (family defaults without it)."""
    path = folder / "preprocessor_config.json"
    doc = _read_config(path) if path.is_file() else {}
    clip = kind == "clip"
    mean = tuple(doc.get("image_mean") or (OPENAI_MEAN if clip else (0.5, 0.5, 0.5)))
    std = tuple(doc.get("image_std") or (OPENAI_STD if clip else (0.5, 0.5, 0.5)))
    resample = doc.get("resample", 3)
    if resample not in _RESAMPLE:
        raise CheckpointError(f"checkpoint: {path}: resample {resample} is not supported "
                              f"(open_clip's transforms: 2 bilinear, 3 bicubic)")
    crop = doc.get("do_center_crop", clip)
    return {"mean": mean, "std": std, "interpolation": _RESAMPLE[resample],
            "resize_mode": "shortest" if crop else "squash"}


def _register(label: str, model_cfg: dict) -> str:
    """Register `model_cfg` with open_clip under `label` (or label-digest); returns the name."""
    import open_clip

    name = label
    known = open_clip.get_model_config(name)
    if known is not None and known != model_cfg:
        digest = hashlib.sha256(json.dumps(model_cfg, sort_keys=True).encode()).hexdigest()
        name = f"{label}-{digest[:8]}"
        known = open_clip.get_model_config(name)
    if known is None:
        path = Path(_config_dir().name) / f"{name}.json"
        path.write_text(json.dumps(model_cfg))
        open_clip.add_model_config(path)
    return name


@functools.cache
def _config_dir() -> tempfile.TemporaryDirectory:
    # open_clip registers configurations from files; these live as long as the process.
    return tempfile.TemporaryDirectory(prefix="cliplens-configs-")


def register(folder: Path, label: str) -> tuple[str, dict]:
    """(open_clip architecture name, preprocessing overrides) of a checkpoint folder."""
    folder = Path(folder)
    kind = layout(folder)
    weights = find_weights(folder)[0]
    if weights.name.endswith(".index.json"):
        raise CheckpointError(f"checkpoint: {weights}: sharded checkpoints are not supported "
                              f"(save the model as one file, e.g. save_pretrained("
                              f"max_shard_size=\"100GB\"))")
    if kind == "transformers":
        model_type, model_cfg = _transformers_model(folder)
        return _register(label, model_cfg), _preprocess(folder, model_type)
    if kind == "open_clip":
        doc = _read_config(folder / OPEN_CLIP_CONFIG)
        model_cfg = doc.get("model_cfg")
        if not isinstance(model_cfg, dict) or not {"embed_dim", "vision_cfg",
                                                    "text_cfg"} <= set(model_cfg):
            raise CheckpointError(f"checkpoint: {folder / OPEN_CLIP_CONFIG}: expected "
                                  f"model_cfg with embed_dim, vision_cfg and text_cfg")
        keys = ("mean", "std", "interpolation", "resize_mode")
        pre = {k: v for k, v in (doc.get("preprocess_cfg") or {}).items() if k in keys}
        return _register(label, model_cfg), pre
    raise CheckpointError(f"checkpoint: {folder}: neither {TRANSFORMERS_CONFIG} (transformers) "
                          f"nor {OPEN_CLIP_CONFIG} (open_clip) found")


# weights

def _block(src: dict, hf: str, out: dict, oc: str, *, fused: str) -> None:
    """One encoder layer of transformers' CLIP/SigLIP into an open_clip (`fused="in_proj"`) or
    timm (`fused="qkv"`) block."""
    names = {"in_proj": ("ln_1", "ln_2", "attn.in_proj_", "attn.out_proj", "mlp.c_fc",
                         "mlp.c_proj"),
             "qkv": ("norm1", "norm2", "attn.qkv.", "attn.proj", "mlp.fc1", "mlp.fc2")}[fused]
    ln1, ln2, qkv, out_proj, fc1, fc2 = names
    for part in ("weight", "bias"):
        out[f"{oc}.{ln1}.{part}"] = src.pop(f"{hf}.layer_norm1.{part}")
        out[f"{oc}.{ln2}.{part}"] = src.pop(f"{hf}.layer_norm2.{part}")
        out[f"{oc}.{qkv}{part}"] = torch.cat(
            [src.pop(f"{hf}.self_attn.{p}_proj.{part}") for p in "qkv"])
        out[f"{oc}.{out_proj}.{part}"] = src.pop(f"{hf}.self_attn.out_proj.{part}")
        out[f"{oc}.{fc1}.{part}"] = src.pop(f"{hf}.mlp.fc1.{part}")
        out[f"{oc}.{fc2}.{part}"] = src.pop(f"{hf}.mlp.fc2.{part}")


def _layers(src: dict, prefix: str) -> list[int]:
    return sorted({int(k[len(prefix):].split(".")[0]) for k in src if k.startswith(prefix)})


def _text(src: dict, out: dict, oc: str, *, final: str) -> None:
    t = "text_model."
    out[f"{oc}token_embedding.weight"] = src.pop(f"{t}embeddings.token_embedding.weight")
    out[f"{oc}positional_embedding"] = src.pop(f"{t}embeddings.position_embedding.weight")
    for i in _layers(src, f"{t}encoder.layers."):
        _block(src, f"{t}encoder.layers.{i}", out, f"{oc}transformer.resblocks.{i}",
               fused="in_proj")
    for part in ("weight", "bias"):
        out[f"{oc}ln_final.{part}"] = src.pop(f"{t}{final}.{part}")


def _clip_state(src: dict) -> dict:
    out: dict[str, torch.Tensor] = {}
    v = "vision_model."
    out["visual.class_embedding"] = src.pop(f"{v}embeddings.class_embedding")
    out["visual.conv1.weight"] = src.pop(f"{v}embeddings.patch_embedding.weight")
    out["visual.positional_embedding"] = src.pop(f"{v}embeddings.position_embedding.weight")
    for part in ("weight", "bias"):
        out[f"visual.ln_pre.{part}"] = src.pop(f"{v}pre_layrnorm.{part}")
        out[f"visual.ln_post.{part}"] = src.pop(f"{v}post_layernorm.{part}")
    for i in _layers(src, f"{v}encoder.layers."):
        _block(src, f"{v}encoder.layers.{i}", out, f"visual.transformer.resblocks.{i}",
               fused="in_proj")
    out["visual.proj"] = src.pop("visual_projection.weight").t().contiguous()
    _text(src, out, "", final="final_layer_norm")
    out["text_projection"] = src.pop("text_projection.weight").t().contiguous()
    out["logit_scale"] = src.pop("logit_scale").reshape(())
    return out


def _siglip_state(src: dict) -> dict:
    out: dict[str, torch.Tensor] = {}
    v, o = "vision_model.", "visual.trunk."
    for part in ("weight", "bias"):
        out[f"{o}patch_embed.proj.{part}"] = src.pop(f"{v}embeddings.patch_embedding.{part}")
        out[f"{o}norm.{part}"] = src.pop(f"{v}post_layernorm.{part}")
    out[f"{o}pos_embed"] = src.pop(f"{v}embeddings.position_embedding.weight").unsqueeze(0)
    for i in _layers(src, f"{v}encoder.layers."):
        _block(src, f"{v}encoder.layers.{i}", out, f"{o}blocks.{i}", fused="qkv")
    h, p = f"{v}head.", f"{o}attn_pool."
    out[f"{p}latent"] = src.pop(f"{h}probe")
    width = out[f"{p}latent"].shape[-1]
    for part in ("weight", "bias"):
        in_proj = src.pop(f"{h}attention.in_proj_{part}")
        out[f"{p}q.{part}"], out[f"{p}kv.{part}"] = in_proj[:width], in_proj[width:]
        out[f"{p}proj.{part}"] = src.pop(f"{h}attention.out_proj.{part}")
        out[f"{p}norm.{part}"] = src.pop(f"{h}layernorm.{part}")
        out[f"{p}mlp.fc1.{part}"] = src.pop(f"{h}mlp.fc1.{part}")
        out[f"{p}mlp.fc2.{part}"] = src.pop(f"{h}mlp.fc2.{part}")
    _text(src, out, "text.", final="final_layer_norm")
    for part in ("weight", "bias"):
        out[f"text.text_projection.{part}"] = src.pop(f"text_model.head.{part}")
    out["logit_scale"] = src.pop("logit_scale").reshape(())
    out["logit_bias"] = src.pop("logit_bias").reshape(())
    return out


def to_open_clip(folder: Path, state: dict[str, torch.Tensor], path: Path
                 ) -> dict[str, torch.Tensor]:
    """The open_clip state dict of a checkpoint folder's weights (`path` read into `state`)."""
    if layout(folder) != "transformers":
        return state
    kind = _read_config(Path(folder) / TRANSFORMERS_CONFIG).get("model_type")
    src = {k: v for k, v in state.items() if not k.endswith("position_ids")}
    try:
        out = (_clip_state if kind == "clip" else _siglip_state)(src)
    except KeyError as e:
        raise CheckpointError(f"weights {path}: not a {kind} checkpoint of transformers' "
                              f"layout (no tensor {e.args[0]})") from None
    if src:
        extra = ", ".join(sorted(src)[:5])
        raise CheckpointError(f"weights {path}: {len(src)} tensors the {kind} conversion does "
                              f"not know ({extra}{', ...' if len(src) > 5 else ''})")
    return out
