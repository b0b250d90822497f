"""ConVis: saliency maps of WordNet concepts over a concept dictionary (specs/convis.md).

Three maps, all float32 in [0, 1], all ranking regions against the dictionary with a
`ConceptRanker` (min rank over each concept's subtree):

- grid (the paper's Algorithm 1): `grid_windows(R)` gives the windows; encode them in chunks,
  rank each chunk, `GridAccumulator.add(offset, ranks)`, then `.maps()`. `grid_maps` is the
  synchronous loop.
- stochastic (the paper's sampler): `StochasticSampler.propose()` / `.feed(embeddings)` until
  `propose()` returns None, then `.maps()`; `stochastic_maps` is the synchronous loop.
- dense (cliplens): `dense_concept_maps` from surgery patch tokens, one forward pass.

`ood_scores` is the paper's zero-shot OOD check. No image I/O here: boxes are geometry in the
coordinates of the centre-cropped R x R image; the embedding service cuts and pads them.
"""

from cliplens.explanation.convis.concept_ranking import ConceptRanker, concept_ranks
from cliplens.explanation.convis.convis_geometry import ConvisGeometry, grid_windows
from cliplens.explanation.convis.dense_saliency import DenseMaps, dense_concept_maps
from cliplens.explanation.convis.grid_accumulator import ConvisMaps, GridAccumulator, grid_maps
from cliplens.explanation.convis.ood_detection import ood_scores
from cliplens.explanation.convis.stochastic_sampler import (
    StochasticSampler,
    rank_score,
    stochastic_maps,
)

__all__ = [
    "ConceptRanker",
    "ConvisGeometry",
    "ConvisMaps",
    "DenseMaps",
    "GridAccumulator",
    "StochasticSampler",
    "concept_ranks",
    "dense_concept_maps",
    "grid_maps",
    "grid_windows",
    "ood_scores",
    "rank_score",
    "stochastic_maps",
]
