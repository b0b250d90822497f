"""CLIP Surgery's math: feature surgery, similarity maps, point prompts, prompt ensembles.

specs/surgery.md sections 3-4; the architecture surgery (the v-v dual path) runs in the
embedding service, which hands back the dense tokens these functions take.

Typical use (B images, K labels, tokens from EncodeDense with mode SURGERY, normalised)::

    text = class_embeddings(per_template)                  # (K, C)
    similarity = feature_surgery(tokens, text)             # (B, N+1, K), K >= 2
    maps = similarity_maps(similarity, grid_hw, image_hw)  # .grid (B,K,h,w), .full (B,K,H,W)
    points = point_prompts(maps.grid[0, k], image_hw)

`surgery_maps.minmax`/`resize_bilinear` and `array_checks` are shared by the other packages.
"""

from cliplens.explanation.surgery.prompt_ensemble import (
    class_embeddings,
    format_prompts,
    openai_imagenet_templates,
    simple_imagenet_templates,
)
from cliplens.explanation.surgery.sam_points import (
    PointPrompts,
    combined_point_prompts,
    parse_point_query,
    point_prompts,
)
from cliplens.explanation.surgery.surgery_maps import (
    SimilarityMaps,
    minmax,
    resize_bilinear,
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
    "class_embeddings",
    "combined_point_prompts",
    "feature_surgery",
    "format_prompts",
    "minmax",
    "openai_imagenet_templates",
    "parse_point_query",
    "point_prompts",
    "raw_similarity",
    "resize_bilinear",
    "similarity_maps",
    "simple_imagenet_templates",
    "single_text_similarity",
]
