"""Every model's tokenizer, from files on this machine: never the network, never `transformers`.

Which tokenizer a model uses is a fact of its open_clip text configuration:

- no `hf_tokenizer_name`: open_clip's CLIP BPE (`SimpleTokenizer`), whose vocabulary ships
  inside the open_clip package;
- `hf_tokenizer_name` set (SigLIP, SigLIP2, RoBERTa, XLM-RoBERTa, NLLB, mT5, BERT towers, and
  every Hugging Face checkpoint converted by `hf_checkpoints`): a Hugging Face tokenizer read
  from files. `tokenizer.json` (the `tokenizers` library's own format, which
  `save_pretrained` writes for every fast tokenizer) is preferred; a directory with only a
  SentencePiece model (`spiece.model`, as `google/siglip-*` and `google/mt5-*` ship) is read
  with `sentencepiece`, with the T5/SigLIP rules that `transformers` applies to it.

The files are looked for, in order, in the registry entry's `tokenizer` folder, beside the
weights, in `hf_tokenizer_name` itself when it is a local folder, and in the local Hugging Face
cache (`hf_hub_cache()`) under the repository `hf_tokenizer_name`. None found is a start-up error
that names every path tried.

Token ids follow open_clip's `HFTokenizer`: the text cleaned by open_clip's clean function
(`tokenizer_kwargs.clean` of the config, "whitespace" by default), then the tokenizer's own
special tokens, truncation to the context length (the end token kept) and padding with the
tokenizer's pad token.
"""

from __future__ import annotations

import json
import os
import re
import string
from collections.abc import Sequence
from pathlib import Path

import torch

from cliplens.core.errors import FailedPrecondition

TOKENIZER_JSON = "tokenizer.json"
SENTENCEPIECE_MODELS = ("spiece.model",)
TOKENIZER_FILES = (TOKENIZER_JSON, *SENTENCEPIECE_MODELS)
# tokenizer_config.json classes whose SentencePiece-only layout is read here (T5 rules).
SENTENCEPIECE_CLASSES = ("SiglipTokenizer", "T5Tokenizer")


class TokenizerLoadError(FailedPrecondition):
    """A tokenizer cannot be loaded; the message names the paths tried and the reason."""


def hf_hub_cache() -> Path:
    """The local Hugging Face hub cache, as huggingface_hub resolves it (read at call time)."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).expanduser() / "huggingface" / "hub"


def hub_snapshot(repo_id: str) -> tuple[Path | None, Path]:
    """(snapshot folder or None, the repository folder looked in) of `repo_id` in the cache.

    The revision is the one `refs/main` names, else the only snapshot there is.
    """
    repo = hf_hub_cache() / ("models--" + repo_id.replace("/", "--"))
    snapshots = repo / "snapshots"
    ref = repo / "refs" / "main"
    if ref.is_file():
        folder = snapshots / ref.read_text().strip()
        return (folder if folder.is_dir() else None), repo
    found = sorted(p for p in snapshots.iterdir() if p.is_dir()) if snapshots.is_dir() else []
    return (found[0] if len(found) == 1 else None), repo


def _read_json(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise TokenizerLoadError(f"tokenizer: {path}: cannot be read ({e})") from None
    return doc if isinstance(doc, dict) else {}


def _token_name(value) -> str | None:
    """A special token as tokenizer_config.json writes it: a string or an AddedToken dict."""
    if isinstance(value, dict):
        return value.get("content")
    return value if isinstance(value, str) else None


def _special(folder: Path, key: str) -> str | None:
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        token = _token_name(_read_json(folder / name).get(key))
        if token is not None:
            return token
    return None


def _clean_fn(clean: str):
    from open_clip.tokenizer import get_clean_fn

    try:
        return get_clean_fn(clean)
    except AssertionError:
        raise TokenizerLoadError(f"tokenizer_kwargs.clean: expected canonicalize, lower or "
                                 f"whitespace, got {clean!r}") from None


def _texts(texts: str | Sequence[str], asked: int | None, own: int) -> list[str]:
    """The texts as a list (open_clip's tokenizers take one string too); the context fixed."""
    if asked not in (None, own):
        raise ValueError(f"context_length: this tokenizer pads to {own}, got {asked}")
    return [texts] if isinstance(texts, str) else list(texts)


class HubTokenizer:
    """A Hugging Face fast tokenizer from its `tokenizer.json`, called as open_clip calls one."""

    def __init__(self, path: Path, *, context_length: int, clean: str = "whitespace",
                 strip_sep_token: bool = False):
        from tokenizers import Tokenizer

        self.path = Path(path)
        folder = self.path.parent
        try:
            # Two copies: one counts tokens untruncated, one truncates and pads.
            self.counter = Tokenizer.from_file(str(self.path))
            self.backend = Tokenizer.from_file(str(self.path))
        except Exception as e:  # noqa: BLE001 - any parse failure means a corrupt file
            raise TokenizerLoadError(f"tokenizer: {self.path}: cannot be read "
                                     f"({type(e).__name__}: {e})") from None
        self.counter.no_truncation()
        self.counter.no_padding()
        self.context_length = context_length
        self.clean = _clean_fn(clean)
        pad = _special(folder, "pad_token")
        pad_id = self.backend.token_to_id(pad) if pad is not None else None
        if pad_id is None:
            padding = _read_json(self.path).get("padding") or {}
            pad_id, pad = int(padding.get("pad_id", 0)), padding.get("pad_token", "")
        self.pad_id = int(pad_id)
        sep = _special(folder, "sep_token")
        self.sep_id = self.backend.token_to_id(sep) if strip_sep_token and sep else None
        self.backend.enable_truncation(context_length)
        self.backend.enable_padding(length=context_length, pad_id=self.pad_id,
                                    pad_token=pad or "")

    @property
    def source(self) -> str:
        return str(self.path)

    def __call__(self, texts: str | Sequence[str],
                 context_length: int | None = None) -> torch.Tensor:
        texts = _texts(texts, context_length, self.context_length)
        ids = torch.tensor([e.ids for e in self.backend.encode_batch(
            [self.clean(t) for t in texts])], dtype=torch.int64)
        if self.sep_id is not None:
            ids[ids == self.sep_id] = 0
        return ids.reshape(len(texts), self.context_length)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text before truncation, special tokens included."""
        return [len(e.ids) for e in self.counter.encode_batch([self.clean(t) for t in texts])]


class SentencePieceTokenizer:
    """A SentencePiece-only tokenizer (`spiece.model`) with the T5/SigLIP rules of transformers.

    The text is lowercased and stripped of ASCII punctuation first when the tokenizer is a
    `SiglipTokenizer` with `do_lower_case` (its default), as transformers does; then the pieces,
    the end token appended, truncation that keeps it, and padding with the pad token.
    """

    def __init__(self, path: Path, *, context_length: int, clean: str = "whitespace"):
        import sentencepiece

        self.path = Path(path)
        folder = self.path.parent
        config = _read_json(folder / "tokenizer_config.json")
        cls = config.get("tokenizer_class") or "SiglipTokenizer"
        if cls not in SENTENCEPIECE_CLASSES:
            raise TokenizerLoadError(
                f"tokenizer: {folder}: a {cls} needs {TOKENIZER_JSON} (only "
                f"{', '.join(SENTENCEPIECE_CLASSES)} are read from {self.path.name} alone)")
        self.processor = sentencepiece.SentencePieceProcessor()
        try:
            self.processor.Load(str(self.path))
        except Exception as e:  # noqa: BLE001 - any parse failure means a corrupt file
            raise TokenizerLoadError(f"tokenizer: {self.path}: cannot be read "
                                     f"({type(e).__name__}: {e})") from None
        self.canonicalize = cls == "SiglipTokenizer" and config.get("do_lower_case", True)
        self.context_length = context_length
        self.clean = _clean_fn(clean)
        eos = _special(folder, "eos_token") or "</s>"
        pad = _special(folder, "pad_token") or ("</s>" if cls == "SiglipTokenizer" else "<pad>")
        self.eos_id = self._piece_id(eos, "eos_token")
        self.pad_id = self._piece_id(pad, "pad_token")

    def _piece_id(self, piece: str, key: str) -> int:
        i = self.processor.piece_to_id(piece)
        if i == self.processor.unk_id() and piece != self.processor.id_to_piece(i):
            raise TokenizerLoadError(f"tokenizer: {self.path}: {key} {piece!r} is not a piece "
                                     f"of the model")
        return int(i)

    @property
    def source(self) -> str:
        return str(self.path)

    def _pieces(self, text: str) -> list[int]:
        text = self.clean(text)
        if self.canonicalize:
            text = text.lower().translate(str.maketrans("", "", string.punctuation))
            text = re.sub(r"\s+", " ", text).strip()
        return [*self.processor.encode(text), self.eos_id]

    def __call__(self, texts: str | Sequence[str],
                 context_length: int | None = None) -> torch.Tensor:
        texts = _texts(texts, context_length, self.context_length)
        out = torch.full((len(texts), self.context_length), self.pad_id, dtype=torch.int64)
        for i, text in enumerate(texts):
            ids = self._pieces(text)
            if len(ids) > self.context_length:
                ids = [*ids[:self.context_length - 1], self.eos_id]
            out[i, :len(ids)] = torch.tensor(ids, dtype=torch.int64)
        return out

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text before truncation, the end token included."""
        return [len(self._pieces(t)) for t in texts]


def load_folder(folder: Path, *, context_length: int, clean: str = "whitespace",
                strip_sep_token: bool = False) -> HubTokenizer | SentencePieceTokenizer:
    """The Hugging Face tokenizer saved in `folder` (TokenizerLoadError when there is none)."""
    folder = Path(folder)
    if (folder / TOKENIZER_JSON).is_file():
        return HubTokenizer(folder / TOKENIZER_JSON, context_length=context_length,
                            clean=clean, strip_sep_token=strip_sep_token)
    for name in SENTENCEPIECE_MODELS:
        if (folder / name).is_file():
            return SentencePieceTokenizer(folder / name, context_length=context_length,
                                          clean=clean)
    raise TokenizerLoadError(f"tokenizer: no {' or '.join(TOKENIZER_FILES)} in {folder}")


def has_files(folder: Path | None) -> bool:
    """Whether `folder` holds a tokenizer file this module reads."""
    return folder is not None and any((Path(folder) / n).is_file() for n in TOKENIZER_FILES)


def for_text_config(text_cfg: dict, *, context_length: int, search: Sequence[Path | None] = (),
                    model: str = "") -> object:
    """The tokenizer an open_clip text configuration asks for, from files on this machine.

    `search`: folders tried first (the registry's `tokenizer` folder, the weights' folder).
    """
    kwargs = dict(text_cfg.get("tokenizer_kwargs") or {})
    hf_name = text_cfg.get("hf_tokenizer_name")
    if not hf_name:
        from open_clip.tokenizer import SimpleTokenizer

        return SimpleTokenizer(context_length=context_length, **kwargs)
    mode = text_cfg.get("tokenizer_mode")
    if mode:
        raise TokenizerLoadError(f"model {model}: tokenizer_mode {mode!r} is not supported "
                                 f"(the standard Hugging Face call is)")
    unknown = set(kwargs) - {"clean", "strip_sep_token"}
    if unknown:
        raise TokenizerLoadError(f"model {model}: tokenizer_kwargs {sorted(unknown)} are not "
                                 f"supported (clean and strip_sep_token are)")
    tried: list[str] = []
    folders = [Path(f) for f in search if f is not None]
    if Path(hf_name).is_absolute() or Path(hf_name).is_dir():
        folders.append(Path(hf_name))
    else:
        snapshot, repo = hub_snapshot(hf_name)
        if snapshot is not None:
            folders.append(snapshot)
        else:
            tried.append(f"{repo} (Hugging Face cache of {hf_name}: no snapshot)")
    for folder in folders:
        if has_files(folder):
            return load_folder(folder, context_length=context_length,
                               clean=kwargs.get("clean", "whitespace"),
                               strip_sep_token=bool(kwargs.get("strip_sep_token", False)))
    tried = [f"{f / n}" for f in folders for n in TOKENIZER_FILES] + tried
    raise TokenizerLoadError(f"model {model}: tokenizer {hf_name} not found; looked for "
                             f"{', '.join(tried)}")


def for_entry(entry, arch: str) -> object:
    """The tokenizer of a registry entry built as open_clip architecture `arch`, at the
    context length of its text tower."""
    import open_clip

    text_cfg = (open_clip.get_model_config(arch) or {}).get("text_cfg") or {}
    return for_text_config(text_cfg, context_length=int(text_cfg.get("context_length", 77)),
                           search=entry.tokenizer_dirs, model=entry.name)


def count_tokens(tokenizer, texts: Sequence[str]) -> list[int] | None:
    """Tokens of each text before truncation (start and end included), or None if unknown."""
    count = getattr(tokenizer, "count_tokens", None)
    if count is not None:
        return count(texts)
    encode = getattr(tokenizer, "encode", None)
    if encode is not None and hasattr(tokenizer, "sot_token_id"):  # open_clip's CLIP BPE
        return [len(encode(t)) + 2 for t in texts]
    return None
