"""The one registry of models: YAML entries, plus open_clip names resolved offline.

A model is named in one of four ways:

- a registry entry: a YAML file in `services/embedding/models/` (or a configured
  `registry_dirs` folder) with `name` and exactly one of
  - `architecture` (an open_clip model name) or `config` (an open_clip model-config JSON,
    relative to the YAML file), with `weights` (relative to the YAML file, else to the model
    directory; absent or `random` for seeded random weights);
  - `hf_dir`: a checkpoint folder in transformers' layout (`config.json` +
    `model.safetensors` of a CLIPModel or SiglipModel) or open_clip's (`open_clip_config.json`
    + `open_clip_model.safetensors`), relative like `weights` (see `hf_checkpoints`);
  - `hf_hub`: `ORG/NAME` of an open_clip model in the local Hugging Face cache;
  and optionally `tokenizer` (a folder of Hugging Face tokenizer files, relative to the YAML
  file), `surgery_depth`, `precision`, `pretrained` (the open_clip tag whose preprocessing and
  QuickGELU setting the weights need) and `description`. A file holds one entry or a list.
- `ARCH/PRETRAINED` as open_clip names it (`ViT-B-16/openai`): the weights are looked up in the
  model directory (`CLIPLENS_MODEL_DIR`) as `<ARCH>/<PRETRAINED>.safetensors`, then `.bin`,
  `.pt`, `.pth`. Nothing is ever downloaded.
- `hf-hub:ORG/NAME` as open_clip names it: the snapshot of that repository in the local
  Hugging Face cache (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub), offline.
- `ARCH/random`: the architecture with seeded random weights (tests, benchmarks).

Tokenizer files are looked for in the entry's `tokenizer` folder, then in the weights' folder
(`<model dir>/<ARCH>/` for open_clip names, random weights included), see `tokenization`.

Adding a model needs no code: drop a YAML file (and its weights) in a registry folder.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

from cliplens.core.errors import FailedPrecondition, NotFound

BUILTIN_DIR = Path(__file__).with_name("models")
RANDOM_TAG = "random"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
HF_HUB_PREFIX = "hf-hub:"
_ENTRY_KEYS = {"name", "architecture", "config", "weights", "surgery_depth", "precision",
               "pretrained", "description", "hf_dir", "hf_hub", "tokenizer"}
_SOURCES = ("architecture", "config", "hf_dir", "hf_hub")


class RegistryError(FailedPrecondition):
    """A registry file is malformed; the message names the file and the key."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelEntry:
    """Everything needed to build one model, before any weight is read."""

    name: str
    # open_clip architecture name, or None when `config` gives a custom one.
    architecture: str | None = None
    config: Path | None = None
    # The weights file, or None for random weights.
    weights: Path | None = None
    # Every path that was tried for the weights (for the error when none exists).
    weights_candidates: tuple[Path, ...] = ()
    random_weights: bool = False
    surgery_depth: int | None = None
    precision: str | None = None
    # open_clip pretrained tag (preprocessing, QuickGELU), e.g. "openai".
    pretrained: str | None = None
    description: str = ""
    # Where the entry came from: the YAML file, or "open_clip".
    source: str = ""
    # A checkpoint folder (transformers' or open_clip's layout: `hf_checkpoints`), and the
    # Hugging Face repository it is the cached snapshot of.
    folder: Path | None = None
    hub_repo: str | None = None
    # Folders searched first for tokenizer files, in order.
    tokenizer_dirs: tuple[Path, ...] = ()

    @property
    def arch_name(self) -> str:
        """The open_clip architecture name (a custom config's file stem; for a checkpoint
        folder the name it is registered under before any clash with open_clip's)."""
        if self.architecture:
            return self.architecture
        if self.hub_repo:
            return self.hub_repo.replace("/", "--")
        if self.folder is not None:
            return self.folder.name
        assert self.config is not None
        return self.config.stem


def load_entries(dirs: Iterable[Path], *, model_dir: Path) -> dict[str, ModelEntry]:
    """Read every `*.yaml` registry file of `dirs`; names must be unique."""
    entries: dict[str, ModelEntry] = {}
    for folder in dirs:
        folder = Path(folder)
        if not folder.is_dir():
            raise RegistryError(f"registry_dirs: {folder} is not a directory")
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            for entry in _read_file(path, model_dir):
                if entry.name in entries:
                    raise RegistryError(
                        f"{path}: model name {entry.name!r} already defined in "
                        f"{entries[entry.name].source}")
                entries[entry.name] = entry
    return entries


def _read_file(path: Path, model_dir: Path) -> list[ModelEntry]:
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise RegistryError(f"{path}: cannot read registry file: {e}") from None
    items = doc if isinstance(doc, list) else [doc]
    return [_entry(item, path, model_dir, i) for i, item in enumerate(items)]


def _entry(item: object, path: Path, model_dir: Path, index: int) -> ModelEntry:
    where = f"{path} (entry {index})"
    if not isinstance(item, dict):
        raise RegistryError(f"{where}: expected a mapping, got {type(item).__name__}")
    unknown = set(item) - _ENTRY_KEYS
    if unknown:
        raise RegistryError(f"{where}: unknown keys {sorted(unknown)}; expected some of "
                            f"{sorted(_ENTRY_KEYS)}")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RegistryError(f"{where}: name: expected a non-empty string, got {name!r}")
    given = [k for k in _SOURCES if item.get(k)]
    if len(given) != 1:
        raise RegistryError(f"{where}: expected exactly one of {', '.join(_SOURCES)}, got "
                            f"{', '.join(f'{k}={item[k]!r}' for k in given) or 'none'}")
    if given[0] in ("hf_dir", "hf_hub") and (item.get("weights") or item.get("pretrained")):
        raise RegistryError(f"{where}: weights and pretrained come from the checkpoint folder "
                            f"of {given[0]}; remove them")
    depth = item.get("surgery_depth")
    if depth is not None and (not isinstance(depth, int) or depth < 1):
        raise RegistryError(f"{where}: surgery_depth: expected an integer >= 1, got {depth!r}")
    precision = item.get("precision")
    if precision is not None and precision not in ("fp32", "fp16", "bf16"):
        raise RegistryError(f"{where}: precision: expected fp32, fp16 or bf16, got "
                            f"{precision!r}")
    config = (path.parent / item["config"]).resolve() if item.get("config") else None
    tokenizer = (path.parent / item["tokenizer"]).resolve() if item.get("tokenizer") else None
    common = dict(name=name, surgery_depth=depth, precision=precision,
                  description=str(item.get("description") or ""), source=str(path))
    if item.get("hf_hub"):
        return _hub_entry(str(item["hf_hub"]), tokenizer=tokenizer, **common)
    if item.get("hf_dir"):
        raw = str(item["hf_dir"])
        tried = (path.parent / raw, model_dir / raw) if not Path(raw).is_absolute() \
            else (Path(raw),)
        return _folder_entry(next((c for c in tried if c.is_dir()), tried[0]).resolve(),
                             tokenizer=tokenizer, **common)
    weights, candidates, random = None, (), False
    raw = item.get("weights")
    if raw in (None, "", RANDOM_TAG):
        random = True
    else:
        candidates = (path.parent / raw, model_dir / raw) if not Path(raw).is_absolute() \
            else (Path(raw),)
        weights = next((c for c in candidates if c.is_file()), candidates[0]).resolve()
    folder = weights.parent if weights is not None else None
    return ModelEntry(architecture=item.get("architecture"), config=config,
                      weights=weights, weights_candidates=tuple(c.resolve() for c in candidates),
                      random_weights=random, pretrained=item.get("pretrained"),
                      tokenizer_dirs=tuple(d for d in (tokenizer, folder) if d is not None),
                      **common)


def _folder_entry(folder: Path, *, tokenizer: Path | None, **common) -> ModelEntry:
    """An entry served from a checkpoint folder (transformers' or open_clip's layout)."""
    from cliplens.embedding.hf_checkpoints import find_weights

    weights, candidates = find_weights(folder)
    return ModelEntry(folder=folder, weights=weights, weights_candidates=candidates,
                      tokenizer_dirs=tuple(d for d in (tokenizer, folder) if d is not None),
                      **common)


def _hub_entry(repo_id: str, *, tokenizer: Path | None = None, **common) -> ModelEntry:
    """An entry served from the cached snapshot of an `hf-hub:` repository (never fetched)."""
    from cliplens.embedding.hf_checkpoints import hub_folder

    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise NotFound(f"model: hf-hub:{repo_id}: expected hf-hub:ORG/NAME")
    weights, candidates, where = hub_folder(repo_id)
    common.setdefault("source", where)
    return ModelEntry(folder=weights.parent, hub_repo=repo_id, weights=weights,
                      weights_candidates=candidates,
                      tokenizer_dirs=tuple(d for d in (tokenizer, weights.parent) if d),
                      **common)


class Registry:
    """Registry entries by name, and open_clip names resolved against the model directory."""

    def __init__(self, dirs: Sequence[Path | str] = (), *, model_dir: Path | str):
        self.model_dir = Path(model_dir)
        self.dirs = [BUILTIN_DIR, *(Path(d) for d in dirs)]
        self.entries = load_entries(self.dirs, model_dir=self.model_dir)

    def names(self) -> list[str]:
        """Registry entry names (open_clip names are open-ended and not listed)."""
        return sorted(self.entries)

    def resolve(self, name: str) -> ModelEntry:
        """The entry for `name`, or NotFound saying what was looked for."""
        if name in self.entries:
            return self.entries[name]
        if name.startswith(HF_HUB_PREFIX):
            return _hub_entry(name[len(HF_HUB_PREFIX):], name=name)
        arch, sep, tag = name.partition("/")
        if not sep or not arch or not tag:
            raise NotFound(f"model: {name!r} is neither a registry entry "
                           f"({', '.join(self.names()) or 'none'}) nor an open_clip "
                           f"ARCH/PRETRAINED name")
        import open_clip

        if arch not in open_clip.list_models():
            raise NotFound(f"model: {name!r}: unknown open_clip architecture {arch!r}")
        folder = self.model_dir / arch
        if tag == RANDOM_TAG:
            return ModelEntry(name=name, architecture=arch, random_weights=True,
                              source="open_clip (random weights, seed 0)",
                              tokenizer_dirs=(folder,))
        candidates = tuple(folder / f"{tag}{suffix}" for suffix in WEIGHT_SUFFIXES)
        weights = next((c for c in candidates if c.is_file()), candidates[0])
        return ModelEntry(name=name, architecture=arch, weights=weights,
                          weights_candidates=candidates, pretrained=tag, source=str(weights),
                          tokenizer_dirs=(folder,))
