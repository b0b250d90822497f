import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.surgery import feature_surgery, raw_similarity, single_text_similarity


def unit(rng, *shape):
    x = rng.normal(size=shape).astype(np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def paper_form(tokens, text):
    """The paper's element-wise form, built in full (B x N x K x C), weights per image."""
    logits = 2 * tokens[:, 0, :] @ text.T
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    w = p / p.mean(-1, keepdims=True)
    feats = tokens[:, :, None, :] * text[None, None, :, :] * w[:, None, :, None]
    return (feats - feats.mean(axis=2, keepdims=True)).sum(-1)


def test_feature_surgery_equals_the_paper_elementwise_form():
    rng = np.random.default_rng(0)
    tokens, text = unit(rng, 3, 10, 16), unit(rng, 4, 16)
    out = feature_surgery(tokens, text)
    assert out.shape == (3, 10, 4) and out.dtype == np.float32
    np.testing.assert_allclose(out, paper_form(tokens.astype(np.float64), text), atol=1e-6)


def test_feature_surgery_hand_computed():
    tokens = np.array([[[1.0, 0.0], [0.0, 1.0]]], dtype=np.float32)  # class token, one patch
    text = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    p0 = np.exp(2) / (np.exp(2) + 1)  # softmax([2, 0])
    w = np.array([p0, 1 - p0]) / 0.5
    out = feature_surgery(tokens, text)
    np.testing.assert_allclose(out[0, 0], [w[0] / 2, -w[0] / 2], atol=1e-6)  # [0.8808, -0.8808]
    np.testing.assert_allclose(out[0, 1], [-w[1] / 2, w[1] / 2], atol=1e-6)  # [-0.1192, 0.1192]


def test_feature_surgery_weights_are_per_image_in_a_batch():
    rng = np.random.default_rng(1)
    tokens, text = unit(rng, 4, 7, 8), unit(rng, 3, 8)
    batched = feature_surgery(tokens, text)
    one_by_one = np.concatenate([feature_surgery(tokens[i:i + 1], text) for i in range(4)])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-6)
    # Sharing image 0's weights (the reference code's batch bug) gives something else.
    logits = 2 * tokens[0, 0] @ text.T
    w0 = np.exp(logits) / np.exp(logits).sum()
    w0 = w0 / w0.mean()
    shared = (tokens[1] @ text.T) * w0
    shared = shared - shared.mean(-1, keepdims=True)
    assert not np.allclose(batched[1], shared, atol=1e-3)


def test_feature_surgery_rows_sum_to_zero_over_classes():
    rng = np.random.default_rng(2)
    out = feature_surgery(unit(rng, 2, 5, 6), unit(rng, 3, 6))
    np.testing.assert_allclose(out.sum(-1), 0.0, atol=1e-6)


def test_feature_surgery_refuses_one_class():
    rng = np.random.default_rng(3)
    with pytest.raises(InvalidArgument, match="at least 2 classes"):
        feature_surgery(unit(rng, 1, 5, 6), unit(rng, 1, 6))


def test_unnormalised_or_mismatched_inputs_are_refused():
    rng = np.random.default_rng(4)
    tokens, text = unit(rng, 1, 5, 6), unit(rng, 2, 6)
    with pytest.raises(InvalidArgument, match="L2-normalised"):
        feature_surgery(tokens * 3, text)
    with pytest.raises(InvalidArgument, match="width 6"):
        raw_similarity(tokens, unit(rng, 2, 5))
    with pytest.raises(InvalidArgument, match="dimensions"):
        raw_similarity(tokens[0], text)


def test_single_text_similarity_hand_computed():
    tokens = np.array([[[0.6, 0.8], [1.0, 0.0]]], dtype=np.float32)
    text = np.array([[0.0, 1.0]], dtype=np.float32)
    empty = np.array([0.6, 0.8], dtype=np.float32)
    # T - T_empty = [-0.6, 0.2]
    np.testing.assert_allclose(single_text_similarity(tokens, text, empty)[0, :, 0],
                               [-0.36 + 0.16, -0.6], atol=1e-6)


def test_raw_similarity_is_the_cosine():
    rng = np.random.default_rng(5)
    tokens, text = unit(rng, 2, 4, 8), unit(rng, 3, 8)
    np.testing.assert_allclose(raw_similarity(tokens, text), tokens @ text.T, atol=1e-6)


def test_inputs_are_left_unchanged():
    rng = np.random.default_rng(6)
    tokens, text, empty = unit(rng, 2, 5, 8), unit(rng, 3, 8), unit(rng, 8)
    copies = tokens.copy(), text.copy(), empty.copy()
    feature_surgery(tokens, text)
    single_text_similarity(tokens, text, empty)
    raw_similarity(tokens, text)
    for before, after in zip(copies, (tokens, text, empty), strict=True):
        np.testing.assert_array_equal(before, after)


def test_torch_tensors_are_accepted():
    import torch

    rng = np.random.default_rng(7)
    tokens, text = unit(rng, 2, 5, 8), unit(rng, 3, 8)
    np.testing.assert_allclose(feature_surgery(torch.from_numpy(tokens), torch.from_numpy(text)),
                               feature_surgery(tokens, text))
