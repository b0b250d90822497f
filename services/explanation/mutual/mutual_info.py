"""Mutual information between D_v and D_y, its dynamics and AUC (specs/mutual_knowledge.md
section 4).

D_v (N items) and D_y (M items) are two random variables over their items; the joint is the
contingency table P_ij = 1[X_i = Y_j] / m over the m matching pairs, and MI = 0 when m = 0.

- "paper" (default): ln N + ln M + H(joint), what the authors' code computes and the published
  tables report (ln N + ln M + ln m for one-to-one matches).
- "contingency": MI of that joint with its own marginals, sum P_ij ln(P_ij / (P_i. P_.j));
  ln m for one-to-one matches. It is degenerate where the analysis needs it most: a single
  match gives ln 1 = 0, exactly what no overlap at all gives, and the dynamics cannot tell the
  last match's removal from nothing.

Never ln N + ln M - H(joint) (the sign as printed in the paper's Eq. 1): it grows as the overlap
shrinks, so its dynamics would run backwards.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import InvalidArgument

ESTIMATORS: tuple[str, ...] = ("paper", "contingency")


class _Removed:
    """The sentinel that replaces a removed D_v item: equal to nothing, itself included."""

    def __eq__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return id(self)


def match_table(dv: Sequence[Hashable], dy: Sequence[Hashable]) -> np.ndarray:
    """bool (N, M): whether D_v item i equals D_y item j."""
    positions: dict[Hashable, list[int]] = {}
    for j, item in enumerate(dy):
        positions.setdefault(item, []).append(j)
    table = np.zeros((len(dv), len(dy)), dtype=bool)
    for i, item in enumerate(dv):
        if isinstance(item, _Removed):
            continue
        for j in positions.get(item, ()):
            table[i, j] = True
    return table


def _from_table(table: np.ndarray, estimator: str) -> float:
    if estimator not in ESTIMATORS:
        raise InvalidArgument(f"estimator: expected one of {list(ESTIMATORS)}, got {estimator!r}")
    matches = int(table.sum())
    if matches == 0:
        return 0.0
    joint = table / matches
    nonzero = joint[table]
    if estimator == "paper":
        entropy = -float(np.sum(nonzero * np.log(nonzero)))
        return float(np.log(table.shape[0]) + np.log(table.shape[1]) + entropy)
    rows = joint.sum(axis=1, keepdims=True)
    cols = joint.sum(axis=0, keepdims=True)
    independent = (rows * cols)[table]
    return float(np.sum(nonzero * np.log(nonzero / independent)))


def mutual_information(dv: Sequence[Hashable], dy: Sequence[Hashable],
                       estimator: str = "paper") -> float:
    """MI between D_v and D_y (see the module docstring); 0 when nothing matches.

    Args:
        dv: the visual descriptors (N items).
        dy: the textual descriptors (M items).
        estimator: "contingency" or "paper".
    """
    return _from_table(match_table(dv, dy), estimator)


def mi_dynamics(dv: Sequence[Hashable], dy: Sequence[Hashable],
                estimator: str = "paper") -> np.ndarray:
    """MI as D_v's items are removed in order.

    Args:
        dv: D_v sorted by descending relevance.
        dy: D_y.
        estimator: as `mutual_information`.

    Returns:
        float64 (|D_v| + 1,): point k is the MI with the first k items replaced by a sentinel
        that matches nothing (N stays |D_v|).
    """
    table = match_table(dv, dy)
    curve = np.empty(len(dv) + 1, dtype=np.float64)
    curve[0] = _from_table(table, estimator)
    for step in range(len(dv)):
        table[step] = False
        curve[step + 1] = _from_table(table, estimator)
    return curve


def auc(curve: ArrayLike) -> float:
    """Area under an MI curve with x scaled to [0, 1], as the authors compute it: the mean of
    the points."""
    points = np.asarray(curve, dtype=np.float64).reshape(-1)
    if points.size == 0:
        raise InvalidArgument("curve: expected at least one point, got none")
    return float(points.mean())


def aggregate_curves(curves: Sequence) -> tuple[np.ndarray, float]:
    """A dataset's MI curve: zero-pad every curve to the longest, average point-wise.

    Returns:
        (float64 mean curve, its AUC = the mean of its points).
    """
    if len(curves) == 0:
        raise InvalidArgument("curves: expected at least one curve, got none")
    arrays = [np.asarray(c, dtype=np.float64).reshape(-1) for c in curves]
    length = max(a.size for a in arrays)
    if length == 0:
        raise InvalidArgument("curves: every curve is empty")
    padded = np.stack([np.pad(a, (0, length - a.size)) for a in arrays])
    mean = padded.mean(axis=0)
    return mean, auc(mean)
