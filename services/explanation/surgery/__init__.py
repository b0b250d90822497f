"""CLIP Surgery's math: feature surgery, similarity maps, point prompts.

specs/surgery.md sections 3-4; the architecture surgery (the v-v dual path) runs in the
embedding service, which hands back the dense tokens these functions take.

Typical use (B images, K labels, tokens from EncodeDense with mode SURGERY, normalised)::

    text = base.prompts.class_embeddings(per_template)     # (K, C)
    similarity = feature_surgery(tokens, text)             # (B, N+1, K), K >= 2
    maps = similarity_maps(similarity, grid_hw, image_hw)  # .grid (B,K,h,w), .full (B,K,H,W)
    points = point_prompts(maps.grid[0, k], image_hw)

Prompt ensembling, `minmax`/`resize_bilinear` and the array checks every method shares live in
`cliplens.explanation.base`.
"""

from cliplens.explanation.surgery.sam_points import (
    PointPrompts,
    combined_point_prompts,
    parse_point_query,
    point_prompts,
)
from cliplens.explanation.surgery.surgery_maps import (
    SimilarityMaps,
    similarity_maps,
)
from cliplens.explanation.surgery.surgery_similarity import (
    feature_surgery,
    raw_similarity,
    single_text_similarity,
)

__all__ = [
    "PointPrompts",
    "SimilarityMaps",
    "combined_point_prompts",
    "feature_surgery",
    "parse_point_query",
    "point_prompts",
    "raw_similarity",
    "similarity_maps",
    "single_text_similarity",
]
