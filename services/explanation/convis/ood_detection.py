"""ConVis's zero-shot OOD score (the paper's validation of WordNet definitions)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.arrays import (
    as_float32,
    as_index_array,
    check_same_width,
    check_unit_rows,
)


def ood_scores(image_embeddings: ArrayLike, dictionary_embeddings: ArrayLike, concept_index: int,
               subtree: ArrayLike,
               method: str = "hierarchy") -> np.ndarray:
    """In-distribution score of each image for one concept (higher = more in-distribution).

    Args:
        image_embeddings: (B, D) L2-normalised.
        dictionary_embeddings: (T, D) L2-normalised definition embeddings.
        concept_index: the in-distribution synset's index in T.
        subtree: its subtree's indices in T (used by "hierarchy").
        method: "naive" = cosine to the concept's own definition; "hierarchy" = the maximum
            cosine over the subtree's definitions.

    Returns:
        float32 (B,).
    """
    images = as_float32("image_embeddings", image_embeddings, ndim=2)
    dictionary = as_float32("dictionary_embeddings", dictionary_embeddings, ndim=2)
    check_same_width("dictionary_embeddings", dictionary, "image_embeddings", images)
    check_unit_rows("image_embeddings", images)
    check_unit_rows("dictionary_embeddings", dictionary)
    concept = as_index_array("concept_index", [concept_index], dictionary.shape[0])
    if method == "naive":
        columns = concept
    elif method == "hierarchy":
        columns = np.union1d(concept, as_index_array("subtree", subtree, dictionary.shape[0]))
    else:
        raise InvalidArgument(f"method: expected 'naive' or 'hierarchy', got {method!r}")
    return (images @ dictionary[columns].T).max(axis=1).astype(np.float32)
