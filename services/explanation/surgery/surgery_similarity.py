"""CLIP Surgery's feature surgery (specs/surgery.md section 3) and the raw baseline.

Shapes: B images, N patch tokens plus the class token at index 0, K texts, C embedding width.
All three functions return float32 (B, N+1, K); the class-token row is kept so callers can
read it, and `similarity_maps` drops it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.arrays import as_float32, check_same_width, check_unit_rows

# The paper's softmax scale over the class token's similarities (its `t`).
SOFTMAX_SCALE = 2.0


def _tokens_and_text(image_tokens: ArrayLike, text: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    tokens = as_float32("image_tokens", image_tokens, ndim=3)
    texts = as_float32("text", text, ndim=2)
    check_same_width("image_tokens", tokens, "text", texts)
    check_unit_rows("image_tokens", tokens)
    check_unit_rows("text", texts)
    return tokens, texts


def raw_similarity(image_tokens: ArrayLike, text: ArrayLike) -> np.ndarray:
    """Plain cosine similarity of every token with every text: the no-surgery baseline.

    Args:
        image_tokens: (B, N+1, C) L2-normalised tokens, class token first.
        text: (K, C) L2-normalised text embeddings.

    Returns:
        float32 (B, N+1, K).
    """
    tokens, texts = _tokens_and_text(image_tokens, text)
    return (tokens @ texts.T).astype(np.float32, copy=False)


def feature_surgery(image_tokens: ArrayLike, text: ArrayLike) -> np.ndarray:
    """Feature surgery over a label set (K >= 2), per image.

    p = softmax(2 F_cls T^T) over the K classes, w = p / mean(p), s = F T^T, and
    S[b, n, k] = w[b, k] s[b, n, k] - mean_k'(w[b, k'] s[b, n, k']). This is the paper's
    element-wise form (products F[n, c] T[k, c] w[k] minus their class mean, summed over c)
    rearranged so no (B, N, K, C) array is built. The weights are per image; the reference code
    shares the first image's weights across a batch.

    Args:
        image_tokens: (B, N+1, C) L2-normalised tokens, class token first.
        text: (K, C) L2-normalised class embeddings, K >= 2.

    Returns:
        float32 (B, N+1, K).

    Raises:
        InvalidArgument: K < 2 (with one class the result is identically zero; use
            `single_text_similarity`), or malformed arrays.
    """
    tokens, texts = _tokens_and_text(image_tokens, text)
    if texts.shape[0] < 2:
        raise InvalidArgument(
            f"text: label-set surgery needs at least 2 classes, got {texts.shape[0]} "
            "(use single-text surgery for one)")
    similarity = tokens.astype(np.float64) @ texts.T.astype(np.float64)  # (B, N+1, K)
    logits = SOFTMAX_SCALE * similarity[:, 0, :]
    logits -= logits.max(axis=-1, keepdims=True)
    probabilities = np.exp(logits)
    probabilities /= probabilities.sum(axis=-1, keepdims=True)
    weights = probabilities / probabilities.mean(axis=-1, keepdims=True)  # (B, K)
    weighted = similarity * weights[:, None, :]
    return (weighted - weighted.mean(axis=-1, keepdims=True)).astype(np.float32)


def single_text_similarity(image_tokens: ArrayLike, text: ArrayLike,
                           empty: ArrayLike) -> np.ndarray:
    """Surgery for one text or a free vocabulary: S = F (T - T_empty)^T.

    The redundant feature is the embedding of the empty string "" through the same template
    ensemble as `text`.

    Args:
        image_tokens: (B, N+1, C) L2-normalised tokens, class token first.
        text: (K, C) L2-normalised text embeddings, K >= 1.
        empty: (C,) the empty string's embedding.

    Returns:
        float32 (B, N+1, K).
    """
    tokens, texts = _tokens_and_text(image_tokens, text)
    redundant = as_float32("empty", empty, ndim=1)
    check_same_width("text", texts, "empty", redundant)
    return (tokens @ (texts - redundant[None, :]).T).astype(np.float32, copy=False)
