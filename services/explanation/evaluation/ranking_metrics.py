"""Threshold-free separation of two score sets (the ConVis OOD evaluation)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import rankdata

from cliplens.core.errors import InvalidArgument


def auroc(id_scores: ArrayLike, ood_scores: ArrayLike) -> float:
    """Area under the ROC curve of in-distribution (positive) vs OOD scores.

    The Mann-Whitney statistic: the probability that a random ID score exceeds a random OOD
    score, ties counted half. 1.0 = perfect separation, 0.5 = chance.

    Args:
        id_scores: (n1,) scores of in-distribution samples (higher = more ID).
        ood_scores: (n0,) scores of out-of-distribution samples.
    """
    positives = np.asarray(id_scores, dtype=np.float64).reshape(-1)
    negatives = np.asarray(ood_scores, dtype=np.float64).reshape(-1)
    if positives.size == 0 or negatives.size == 0:
        raise InvalidArgument(f"auroc: expected scores on both sides, got {positives.size} ID "
                              f"and {negatives.size} OOD")
    ranks = rankdata(np.concatenate([positives, negatives]))  # ties get their average rank
    u = ranks[:positives.size].sum() - positives.size * (positives.size + 1) / 2.0
    return float(u / (positives.size * negatives.size))
