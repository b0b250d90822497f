"""Hugging Face tokenizers and checkpoints built here, with transformers' own classes.

No vocabulary or weight can be downloaded on this machine, so tests make small ones of the same
kinds and save them with `save_pretrained`, which writes exactly the files a real checkpoint
holds. The CLIP BPE vocabulary is the real one: open_clip ships it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from pathlib import Path

CORPUS = [
    "a photo of a cat", "a photo of a dog", "the red car parked on the street",
    "A bird flying over the sea.", "two people walking in the park", "a bowl of soup",
    "une photo d'un chat", "ein Foto eines Hundes", "un coche rojo en la calle",
    "a diagram of a bicycle wheel", "an old house with a green door",
]
TEXTS = ["a photo of a cat", "A Photo of a CAT!", "", "  spaces   everywhere  ",
         "a red car on the street, near a dog and a bird " * 8, "ein Foto eines Hundes",
         "bicycle's wheel (green)"]


def _sentencepiece(kind: str, vocab_size: int = 120, **ids) -> bytes:
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS * 10), model_writer=model, vocab_size=vocab_size,
        model_type=kind, hard_vocab_limit=False, minloglevel=2, **ids)
    return model.getvalue()


def clip_tokenizer(folder: Path) -> Path:
    """openai/clip-vit-*'s tokenizer files: the real CLIP BPE (from open_clip), saved by
    transformers' CLIPTokenizer."""
    from open_clip.tokenizer import SimpleTokenizer
    from transformers import CLIPTokenizer

    bpe = SimpleTokenizer()
    merges = [pair for pair, _ in sorted(bpe.bpe_ranks.items(), key=lambda kv: kv[1])]
    # open_clip names the two special tokens differently; their ids (49406, 49407) are the same.
    rename = {"<start_of_text>": "<|startoftext|>", "<end_of_text>": "<|endoftext|>"}
    vocab = {rename.get(token, token): i for token, i in bpe.encoder.items()}
    CLIPTokenizer(vocab=vocab, merges=merges).save_pretrained(folder)
    return Path(folder)


def siglip_tokenizer(folder: Path) -> Path:
    """google/siglip-*'s layout: a T5-style SentencePiece model (pad 0, eos 1, unk 2) alone."""
    from transformers import SiglipTokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / "raw.model"
    raw.write_bytes(_sentencepiece("unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1))
    SiglipTokenizer(vocab_file=str(raw)).save_pretrained(folder)
    raw.unlink()
    return folder


def roberta_tokenizer(folder: Path) -> Path:
    """roberta-base's kind: byte-level BPE with <s> </s> <pad> <unk> <mask>."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizer

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS * 10, vocab_size=400, special_tokens=specials,
                            show_progress=False)
    model = json.loads(bpe.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    RobertaTokenizer(vocab=model["vocab"], merges=merges).save_pretrained(folder)
    return Path(folder)


def _converted(folder: Path, cls: str, kind: str, **config) -> Path:
    """A SentencePiece tokenizer of class `cls` converted and saved by transformers, as the
    real repositories hold it (tokenizer.json beside tokenizer_config.json)."""
    from transformers import AutoTokenizer

    folder = Path(folder)
    src = folder.with_name(folder.name + "-src")
    src.mkdir(parents=True, exist_ok=True)
    if cls == "GemmaTokenizer":  # Gemma's ids and byte fallback
        (src / "tokenizer.model").write_bytes(_sentencepiece(
            kind, 400, pad_id=0, eos_id=1, bos_id=2, unk_id=3, byte_fallback=True))
    else:  # fairseq's ids
        (src / "sentencepiece.bpe.model").write_bytes(
            _sentencepiece(kind, bos_id=0, pad_id=1, eos_id=2, unk_id=3))
    (src / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": cls, **config}))
    AutoTokenizer.from_pretrained(src).save_pretrained(folder)
    shutil.rmtree(src)
    return folder


def xlm_roberta_tokenizer(folder: Path) -> Path:
    """xlm-roberta-base's kind: a SentencePiece unigram model with fairseq's special ids."""
    return _converted(folder, "XLMRobertaTokenizer", "unigram")


def nllb_tokenizer(folder: Path) -> Path:
    """facebook/nllb-200-*'s kind: a SentencePiece BPE model with language-code prefixes."""
    return _converted(folder, "NllbTokenizer", "bpe")


def gemma_tokenizer(folder: Path) -> Path:
    """SigLIP2's kind (timm/ViT-*-SigLIP2 name Gemma's tokenizer): SentencePiece BPE with byte
    fallback, an end token appended and no start token, as open_clip asks of it."""
    return _converted(folder, "GemmaTokenizer", "bpe", add_bos_token=False,
                      add_eos_token=True, padding_side="right")


TOKENIZERS = {"clip": clip_tokenizer, "siglip": siglip_tokenizer, "roberta": roberta_tokenizer,
              "xlm-roberta": xlm_roberta_tokenizer, "nllb": nllb_tokenizer,
              "gemma": gemma_tokenizer}


def transformers_ids(folder: Path, texts: list[str], context_length: int) -> list[list[int]]:
    """What transformers' AutoTokenizer makes of `texts` (open_clip's HFTokenizer call)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    return tok(texts, max_length=context_length, padding="max_length",
               truncation=True).input_ids


# checkpoints

TINY_TEXT = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4)
TINY_VISION = dict(hidden_size=48, intermediate_size=96, num_hidden_layers=3,
                   num_attention_heads=4, image_size=64, patch_size=16)


def clip_checkpoint(folder: Path, *, legacy_eos: bool = True, seed: int = 0) -> Path:
    """openai/clip-vit-base-patch32's layout with tiny random towers and the real vocabulary.

    `legacy_eos`: eos_token_id 2 in the config, as the openai checkpoints have it (pooling at
    the highest token id); else the tokenizer's real end id (pooling at its first place).
    """
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    folder = Path(folder)
    clip_tokenizer(folder)
    text = dict(TINY_TEXT, vocab_size=49408, max_position_embeddings=77,
                eos_token_id=2 if legacy_eos else 49407, bos_token_id=49406, pad_token_id=1)
    config = CLIPConfig(text_config=text, vision_config=TINY_VISION, projection_dim=24,
                        logit_scale_init_value=2.6592)
    torch.manual_seed(seed)
    CLIPModel(config).save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64}
                       ).save_pretrained(folder)
    return folder


def siglip_checkpoint(folder: Path, *, seed: int = 0) -> Path:
    """google/siglip-base-patch16-224's layout with tiny random towers."""
    import torch
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel

    folder = Path(folder)
    siglip_tokenizer(folder)
    width = TINY_VISION["hidden_size"]  # SigLIP's text head projects to the image width
    text = dict(TINY_TEXT, hidden_size=width, intermediate_size=TINY_VISION["intermediate_size"],
                vocab_size=120, max_position_embeddings=16, projection_size=width,
                pad_token_id=1, eos_token_id=1, bos_token_id=None)
    config = SiglipConfig(text_config=text, vision_config=TINY_VISION)
    torch.manual_seed(seed)
    model = SiglipModel(config)
    with torch.no_grad():  # a bias that is not the init default, so that reading it is tested
        model.logit_bias.fill_(-7.25)
        model.logit_scale.fill_(2.0)
    model.save_pretrained(folder)
    SiglipImageProcessor(size={"height": 64, "width": 64}).save_pretrained(folder)
    return folder


def hub_cache(root: Path, repo_id: str, files: Path) -> Path:
    """Lay `files` out as huggingface_hub caches a download: blobs named by their sha256,
    snapshots/<revision>/ of symlinks, refs/main naming the revision. Returns the cache root."""
    repo = Path(root) / ("models--" + repo_id.replace("/", "--"))
    revision = hashlib.sha1(repo_id.encode()).hexdigest()
    snapshot = repo / "snapshots" / revision
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    snapshot.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(files).iterdir()):
        data = path.read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        os.symlink(os.path.relpath(blob, snapshot), snapshot / path.name)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    return Path(root)


TINY_OPEN_CLIP = {
    "embed_dim": 32, "init_logit_bias": -10, "custom_text": True,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "patch_size": 16,
                   "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 120, "width": 32, "heads": 2, "layers": 2,
                 "hf_tokenizer_name": "cliplens-tests/tiny-siglip",
                 "tokenizer_kwargs": {"clean": "canonicalize"}, "no_causal_mask": True,
                 "proj_bias": True, "pool_type": "last"},
}


def open_clip_hub_model(folder: Path, *, seed: int = 0):
    """An `hf-hub:` repository as open_clip's own `save_for_hf` writes it (open_clip_config.json,
    weights in both formats, the tokenizer's files), with a tiny sigmoid-head model. Returns the
    model it saved."""
    import open_clip
    import torch
    from open_clip.push_to_hf_hub import save_for_hf
    from open_clip.tokenizer import HFTokenizer

    folder = Path(folder)
    configs = folder.with_name(folder.name + "-config")
    configs.mkdir(parents=True, exist_ok=True)
    (configs / "cliplens-tiny-hub.json").write_text(json.dumps(TINY_OPEN_CLIP))
    open_clip.add_model_config(configs / "cliplens-tiny-hub.json")
    torch.manual_seed(seed)
    model = open_clip.create_model("cliplens-tiny-hub", pretrained_text=False).eval()
    tokens = siglip_tokenizer(folder.with_name(folder.name + "-tokenizer"))
    save_for_hf(model, HFTokenizer(str(tokens)), TINY_OPEN_CLIP, folder)
    return model
