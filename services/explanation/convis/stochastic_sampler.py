"""The ConVis stochastic map (the paper's faster default), batched for remote encoders.

Per concept, an accumulator over the padded image starts at ones. Each iteration samples a
window with probability proportional to the accumulator at the window's centre, encodes it,
ranks it, and multiplies the pixels it covers by (1 + eps * score) with
score = 2 (exp(-gamma rank / |S|) [rank < |S|] - 0.5), in [-1, 1]. Every `restart_every`
iterations the accumulator is added to a running total and reset to ones; large windows are
used for the first half of the iterations, small ones for the second. The map is the total over
the central R x R, min-max scaled.

Batching approximation: one remote encode per window would be far too slow, so each step draws
`windows_per_step` (k) windows from the same accumulator state (with replacement), encodes them
in one call (together with the other concepts' windows), then applies their k updates. With
k = 1 this is the paper's sampler. With k > 1 a window cannot react to the previous k - 1
windows of its step; as each update moves the accumulator by at most eps = 0.2 %, the sampling
distribution a window sees differs by under 0.2 % * (k - 1) from the sequential one. Steps never
cross a restart, so every restart still runs exactly `restart_every` iterations.

Choices where the paper's code is loose: windows are sampled at whole-pixel positions among
those that overlap the central R x R and stay inside the padding (the reference also draws
small windows that see only padding, which cannot change the map); the sampling weight is read
at the window's centre (the reference reads it at the top-left corner, which drifts windows
down and to the right). Covered pixels are weighed by the covered fraction when the geometry is
fractional (R != 224): the factor is raised to that power.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.arrays import as_float32
from cliplens.explanation.base.resample import minmax
from cliplens.explanation.convis.concept_ranking import ConceptRanker
from cliplens.explanation.convis.convis_geometry import ConvisGeometry, pixel_coverage
from cliplens.explanation.convis.grid_accumulator import ConvisMaps

ITERATIONS = 600
RESTART_EVERY = 100
EPSILON = 0.002
GAMMA = 5.0
WINDOWS_PER_STEP = 10


def rank_score(ranks: ArrayLike, subtree_size: float, gamma: float = GAMMA) -> np.ndarray:
    """score = 2 (exp(-gamma rank / |S|) [rank < |S|] - 0.5): 1 at rank 0, -1 from rank |S|."""
    values = np.asarray(ranks, dtype=np.float64)
    inside = values < subtree_size
    return 2.0 * (np.where(inside, np.exp(-gamma * values / subtree_size), 0.0) - 0.5)


class StochasticSampler:
    """The sampler as a step machine: `propose()` windows, `feed()` their embeddings.

    This shape lets an async servicer drive it (await the encoder between calls) and lets tests
    drive it with a fake encoder. `stochastic_maps` is the synchronous loop.

    Args:
        size: R.
        ranker: a `ConceptRanker` for the dictionary and the concepts (one sampler each).
        iterations, restart_every, eps, gamma: the paper's 600, 100, 0.002, 5.
        windows_per_step: k windows per concept per step (see the module docstring).
        seed: seeds the window positions (the same seed gives the same windows and map).
        rank_scale: the |S| of the score formula; None (the spec) uses each concept's subtree
            size. With a one-synset subtree almost every window scores -1 and the map carries
            little; the authors' code hard-codes 91 (the size of bird.n.01's subtree) for every
            concept, which a fixed value here reproduces.
    """

    def __init__(self, size: int, ranker: ConceptRanker, *, iterations: int = ITERATIONS,
                 restart_every: int = RESTART_EVERY, eps: float = EPSILON, gamma: float = GAMMA,
                 windows_per_step: int = WINDOWS_PER_STEP, seed: int = 0,
                 rank_scale: float | None = None):
        for name, value in (("iterations", iterations), ("restart_every", restart_every),
                            ("windows_per_step", windows_per_step)):
            if int(value) != value or value < 1:
                raise InvalidArgument(f"{name}: expected an integer >= 1, got {value}")
        if not 0.0 < eps < 1.0:
            raise InvalidArgument(f"eps: expected a value in (0, 1), got {eps}")
        if gamma <= 0:
            raise InvalidArgument(f"gamma: expected a positive value, got {gamma}")
        self.geometry = ConvisGeometry.for_size(size)
        self.ranker = ranker
        self.iterations, self.restart_every = int(iterations), int(restart_every)
        self.eps, self.gamma, self.step_size = float(eps), float(gamma), int(windows_per_step)
        self._rng = np.random.default_rng(seed)
        self._pad = math.ceil(self.geometry.padding - 1e-6)
        side = self.geometry.size + 2 * self._pad
        concepts = len(ranker.subtrees)
        if rank_scale is not None and rank_scale <= 0:
            raise InvalidArgument(f"rank_scale: expected a positive value, got {rank_scale}")
        self._sizes = (ranker.subtree_sizes.astype(np.float64) if rank_scale is None
                       else np.full(concepts, float(rank_scale)))
        self._current = np.ones((concepts, side, side), dtype=np.float64)
        self._total = np.zeros_like(self._current)
        self._done = 0
        self._pending: np.ndarray | None = None
        self._candidates = {True: self._positions(self.geometry.large),
                            False: self._positions(self.geometry.small)}

    def _positions(self, side: float) -> tuple[np.ndarray, np.ndarray]:
        """Whole-pixel starts whose window overlaps the crop and stays inside the padding."""
        g = self.geometry
        # x0 >= -P and x0 + side <= R + P (inside the padding); x0 > -side and x0 < R (overlap)
        low = max(math.ceil(-g.padding - 1e-6), math.floor(-side + 1e-6) + 1)
        high = min(math.floor(g.size + g.padding - side + 1e-6), g.size - 1)
        starts = np.arange(low, high + 1, dtype=np.float64)
        centres = np.floor(starts + side / 2.0).astype(np.int64) + self._pad
        return starts, centres

    @property
    def done(self) -> int:
        """Iterations completed per concept."""
        return self._done

    @property
    def finished(self) -> bool:
        """Whether all iterations ran."""
        return self._done >= self.iterations

    def propose(self) -> np.ndarray | None:
        """The next step's windows, or None when finished.

        Returns:
            float32 (n_concepts * k', 4) boxes in crop coordinates, concept-major (the k'
            windows of concept 0, then concept 1, ...); k' <= k at the end of a restart.
        """
        if self._pending is not None:
            raise InvalidArgument("propose: the previous windows were not fed back yet")
        if self.finished:
            return None
        block_end = (self._done // self.restart_every + 1) * self.restart_every
        count = min(self.step_size, block_end - self._done, self.iterations - self._done)
        boxes = np.empty((len(self._current), count, 4), dtype=np.float64)
        large = np.arange(self._done, self._done + count) < self.iterations / 2
        for concept, accumulator in enumerate(self._current):
            draws = self._rng.random(count)
            for is_large in (True, False):
                which = np.nonzero(large == is_large)[0]
                if which.size == 0:
                    continue
                side = self.geometry.large if is_large else self.geometry.small
                starts, centres = self._candidates[is_large]
                cumulative = np.cumsum(accumulator[np.ix_(centres, centres)].reshape(-1))
                picks = np.searchsorted(cumulative, draws[which] * cumulative[-1], side="right")
                picks = np.minimum(picks, cumulative.size - 1)
                y0, x0 = starts[picks // starts.size], starts[picks % starts.size]
                boxes[concept, which] = np.stack([x0, y0, x0 + side, y0 + side], axis=1)
        self._pending = boxes
        return boxes.reshape(-1, 4).astype(np.float32)

    def feed(self, embeddings: ArrayLike) -> None:
        """Apply the proposed windows' embeddings ((n_concepts * k', D), normalised)."""
        if self._pending is None:
            raise InvalidArgument("feed: no windows were proposed")
        boxes = self._pending
        concepts, count = boxes.shape[:2]
        values = as_float32("embeddings", embeddings, ndim=2)
        if values.shape[0] != concepts * count:
            raise InvalidArgument(
                f"embeddings: expected {concepts * count} rows (one per proposed window), "
                f"got {values.shape[0]}")
        ranks = self.ranker(values).reshape(concepts, count, concepts)
        for concept in range(concepts):
            scores = rank_score(ranks[concept, :, concept], self._sizes[concept],
                                self.gamma)
            for box, score in zip(boxes[concept], scores, strict=True):
                self._multiply(self._current[concept], box, 1.0 + self.eps * score)
        self._pending = None
        self._done += count
        if self._done % self.restart_every == 0 or self.finished:
            self._total += self._current
            self._current = np.ones_like(self._current)

    def _multiply(self, accumulator: np.ndarray, box: np.ndarray, factor: float) -> None:
        x0, y0, x1, y1 = box
        cols = slice(int(math.floor(x0)) + self._pad, int(math.ceil(x1)) + self._pad)
        rows = slice(int(math.floor(y0)) + self._pad, int(math.ceil(y1)) + self._pad)
        cover_x = pixel_coverage([x0], [x1], cols.stop - cols.start, cols.start - self._pad)[0]
        cover_y = pixel_coverage([y0], [y1], rows.stop - rows.start, rows.start - self._pad)[0]
        accumulator[rows, cols] *= factor ** np.outer(cover_y, cover_x)

    def maps(self) -> np.ndarray:
        """float32 (n_concepts, R, R): the summed restarts over the crop, min-max scaled.

        Before the end, the restarts so far plus the running one.
        """
        total = self._total if self.finished else self._total + self._current
        crop = slice(self._pad, self._pad + self.geometry.size)
        return minmax(total[:, crop, crop], axis=(1, 2))


def stochastic_maps(size: int, encode: Callable[[np.ndarray], np.ndarray],
                    dictionary_embeddings: ArrayLike, subtrees: Sequence, *,
                    iterations: int = ITERATIONS,
                    restart_every: int = RESTART_EVERY, eps: float = EPSILON,
                    gamma: float = GAMMA, windows_per_step: int = WINDOWS_PER_STEP,
                    seed: int = 0, rank_scale: float | None = None) -> ConvisMaps:
    """The stochastic ConVis map end to end with a synchronous `encode`.

    Args:
        size: R.
        encode: boxes float32 (n, 4) -> (n, D) L2-normalised window embeddings; called once per
            step with every concept's windows.
        dictionary_embeddings: (T, D) L2-normalised.
        subtrees: one index array per concept.
        iterations, restart_every, eps, gamma, windows_per_step, seed, rank_scale: see
            `StochasticSampler`.

    Returns:
        ConvisMaps with maps (n_concepts, R, R) and the number of windows encoded
        (iterations x n_concepts).
    """
    ranker = ConceptRanker(dictionary_embeddings, subtrees)
    sampler = StochasticSampler(size, ranker, iterations=iterations,
                                restart_every=restart_every, eps=eps, gamma=gamma,
                                windows_per_step=windows_per_step, seed=seed,
                                rank_scale=rank_scale)
    encoded = 0
    while (boxes := sampler.propose()) is not None:
        sampler.feed(encode(boxes))
        encoded += len(boxes)
    return ConvisMaps(maps=sampler.maps(), windows=encoded)
