"""The shipped toyworld checkpoint: held-out accuracy, model card, reproducibility."""

import json

import pytest
import torch

from cliplens.toyworld import model as toymodel
from cliplens.toyworld.evaluate import zero_shot_eval

CARD = json.loads((toymodel.MODEL_DIR / "model_card.json").read_text())


@pytest.fixture(scope="module")
def shipped():
    return toymodel.create()


def test_checkpoint_is_small_fp16_safetensors_matching_its_card():
    assert toymodel.WEIGHTS_PATH.stat().st_size <= 20 * 1024 * 1024
    assert toymodel.sha256(toymodel.WEIGHTS_PATH) == CARD["sha256"]
    from safetensors import safe_open

    with safe_open(str(toymodel.WEIGHTS_PATH), "pt") as f:
        assert all(f.get_slice(k).get_dtype() == "F16" for k in f.keys())


def test_heldout_zero_shot_top1_at_least_90_percent(shipped):
    result = zero_shot_eval(shipped, toymodel.tokenizer())
    assert result["n"] == 50 * len(result["per_class"])
    assert result["top1"] >= 0.90, result
    # The card tells the truth (up to an image or two where another CPU rounds differently).
    assert abs(result["top1"] - CARD["heldout"]["top1"]) <= 2 / result["n"]


def test_surgery_class_token_is_the_image_embedding(shipped):
    from cliplens.embedding.surgery import default_depth, dense_tokens, inspect_visual

    spec = inspect_visual(shipped.visual)
    assert default_depth(spec) == spec.layers == 6  # the rule for a shallow model: every block
    x = torch.randn(2, 3, 80, 80)
    with torch.inference_mode():
        ref = shipped.encode_image(x)
        dense = dense_tokens(shipped.visual, x, spec=spec, depth=default_depth(spec),
                             surgery=True)
    torch.testing.assert_close(dense.surgery[:, 0], ref, atol=1e-4, rtol=1e-4)


def test_training_is_deterministic_from_its_seed(tmp_path):
    from cliplens.toyworld.train import train

    cards = [train(seed=3, steps=6, batch=16, n_scenes=64, lr=1e-3, out=tmp_path / str(i),
                   threads=2, eval_every=0, heldout_per_class=2) for i in range(2)]
    assert cards[0]["sha256"] == cards[1]["sha256"]
