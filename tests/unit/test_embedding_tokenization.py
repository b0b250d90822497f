"""Tokenizers from files: each kind built here with transformers, read without it, same ids."""

from __future__ import annotations

import hf_models
import open_clip
import pytest
import torch

from cliplens.embedding import tokenization
from cliplens.embedding.tokenization import TokenizerLoadError


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("tokenizers")
    return {kind: build(root / kind) for kind, build in hf_models.TOKENIZERS.items()}

@pytest.mark.parametrize("kind", sorted(hf_models.TOKENIZERS))
@pytest.mark.parametrize("context", [16, 77])
def test_ids_equal_open_clip_hf_tokenizer(saved, kind, context):
    """open_clip's HFTokenizer (transformers' AutoTokenizer after open_clip's clean) is what
    the weights were trained with; the files read without transformers give the same ids."""
    from open_clip.tokenizer import HFTokenizer

    want = HFTokenizer(str(saved[kind]), context_length=context)(hf_models.TEXTS)
    got = tokenization.load_folder(saved[kind], context_length=context)(hf_models.TEXTS)
    assert got.dtype == torch.int64 and got.shape == (len(hf_models.TEXTS), context)
    assert torch.equal(got, want)

@pytest.mark.parametrize("kind", ["clip", "siglip"])
def test_checkpoint_tokenizers_equal_transformers_on_raw_text(saved, kind):
    """A Hugging Face checkpoint's own tokenizer, called as transformers calls it."""
    want = hf_models.transformers_ids(saved[kind], hf_models.TEXTS, 20)
    got = tokenization.load_folder(saved[kind], context_length=20)(hf_models.TEXTS)
    assert got.tolist() == want

def test_kinds_are_read_from_their_files(saved):
    assert isinstance(tokenization.load_folder(saved["siglip"], context_length=8),
                      tokenization.SentencePieceTokenizer)
    assert not (saved["siglip"] / "tokenizer.json").exists()
    for kind in ("clip", "roberta", "xlm-roberta", "nllb", "gemma"):
        tok = tokenization.load_folder(saved[kind], context_length=8)
        assert isinstance(tok, tokenization.HubTokenizer), kind
        assert tok.source == str(saved[kind] / "tokenizer.json")

@pytest.mark.parametrize("kind", sorted(hf_models.TOKENIZERS))
def test_truncation_keeps_the_end_token_and_counts_what_was_cut(saved, kind):
    long_text = hf_models.TEXTS[4]
    tok = tokenization.load_folder(saved[kind], context_length=12)
    ids = tok([long_text, "a cat"])
    full = tokenization.load_folder(saved[kind], context_length=512)([long_text])[0]
    count = tokenization.count_tokens(tok, [long_text, "a cat"])
    assert count[0] > 12 and count[1] <= 12
    assert ids[0, -1] == full[count[0] - 1]  # the end token survives truncation
    assert ids[1, count[1]:].eq(tok.pad_id).all()

def test_clip_checkpoint_tokenizer_equals_open_clip_bpe(saved):
    """The CLIP vocabulary is the one open_clip ships: same ids up to padding."""
    ours = tokenization.load_folder(saved["clip"], context_length=77)(hf_models.TEXTS[:2])
    bpe = open_clip.tokenizer.SimpleTokenizer()(hf_models.TEXTS[:2])
    eot = bpe.argmax(dim=-1)
    for row, (a, b) in enumerate(zip(ours, bpe, strict=True)):
        assert torch.equal(a[:eot[row] + 1], b[:eot[row] + 1])

def test_open_clip_bpe_when_no_hf_tokenizer_is_named():
    cfg = open_clip.get_model_config("ViT-B-32")["text_cfg"]
    tok = tokenization.for_text_config(cfg, context_length=77, model="ViT-B-32/random")
    assert isinstance(tok, open_clip.tokenizer.SimpleTokenizer)
    assert tokenization.count_tokens(tok, ["a cat"]) == [4]

def test_siglip_random_names_the_cache_path_it_looked_in(tmp_path, monkeypatch):
    """`ViT-B-16-SigLIP/random` asks for timm/ViT-B-16-SigLIP's tokenizer: never downloaded."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    cfg = open_clip.get_model_config("ViT-B-16-SigLIP")["text_cfg"]
    with pytest.raises(TokenizerLoadError) as e:
        tokenization.for_text_config(cfg, context_length=64, search=[tmp_path / "weights"],
                                     model="ViT-B-16-SigLIP/random")
    message = str(e.value)
    assert "timm/ViT-B-16-SigLIP" in message
    assert str(tmp_path / "hub" / "models--timm--ViT-B-16-SigLIP") in message
    assert str(tmp_path / "weights" / "tokenizer.json") in message

def test_tokenizer_from_the_hugging_face_cache(saved, tmp_path, monkeypatch):
    hub = hf_models.hub_cache(tmp_path / "hub", "timm/ViT-B-16-SigLIP", saved["siglip"])
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    cfg = open_clip.get_model_config("ViT-B-16-SigLIP")["text_cfg"]
    tok = tokenization.for_text_config(cfg, context_length=64, model="ViT-B-16-SigLIP/random")
    assert "models--timm--ViT-B-16-SigLIP/snapshots" in tok.source
    # open_clip's SigLIP configs canonicalize before the tokenizer: punctuation and case go.
    assert torch.equal(tok(["A Cat!!"]), tok(["a cat"]))

def test_files_beside_the_weights_come_first(saved, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    cfg = {"hf_tokenizer_name": "nobody/nothing"}
    tok = tokenization.for_text_config(cfg, context_length=16, search=[None, saved["roberta"]])
    assert tok.source == str(saved["roberta"] / "tokenizer.json")

def test_missing_and_corrupt_files_name_the_path(tmp_path):
    with pytest.raises(TokenizerLoadError, match=str(tmp_path)):
        tokenization.load_folder(tmp_path, context_length=8)
    (tmp_path / "tokenizer.json").write_text("{not json")
    with pytest.raises(TokenizerLoadError, match="tokenizer.json: cannot be read"):
        tokenization.load_folder(tmp_path, context_length=8)
    (tmp_path / "tokenizer.json").unlink()
    (tmp_path / "spiece.model").write_bytes(b"\x00garbage")
    with pytest.raises(TokenizerLoadError, match="spiece.model: cannot be read"):
        tokenization.load_folder(tmp_path, context_length=8)

def test_sentencepiece_alone_is_read_only_for_t5_kinds(saved, tmp_path):
    import shutil

    shutil.copy(saved["siglip"] / "spiece.model", tmp_path / "spiece.model")
    (tmp_path / "tokenizer_config.json").write_text('{"tokenizer_class": "LlamaTokenizer"}')
    with pytest.raises(TokenizerLoadError, match="LlamaTokenizer needs tokenizer.json"):
        tokenization.load_folder(tmp_path, context_length=8)

def test_unsupported_tokenizer_settings_are_refused():
    with pytest.raises(TokenizerLoadError, match="tokenizer_mode 'clips'"):
        tokenization.for_text_config({"hf_tokenizer_name": "x/y", "tokenizer_mode": "clips"},
                                     context_length=8)
