"""Mutual knowledge of CLIP's two encoders (specs/mutual_knowledge.md).

One image's analysis, with the model calls left to the caller:

    fg = gdc_foreground(tokens, grid_hw)                          # bool (B, h, w)
    labels = concepts_pca(tokens, fg, grid_hw)                    # int32 (B, h, w), -1 = bg
    masks = labels_to_masks(labels[0], L, image_hw)               # bool (L, H, W)
    prompts = [concept_prompt_images(image, m) for m in masks]    # encode their .images()
    concepts = concept_embeddings(prompt_embs)                    # (L, 3, D) -> (L, D)
    dv = retrieve_visual_descriptors(concepts, image_emb, bank_embs, bank_texts)
    dy = textual_descriptors(class_emb, bank_embs, bank_texts)
    mi = mutual_information(dv.texts, dy.texts)
    curve = mi_dynamics(dv.texts, dy.texts); area = auc(curve)
"""

from cliplens.explanation.mutual.concept_clustering import concepts_kmeans, concepts_pca, kmeans
from cliplens.explanation.mutual.concept_prompts import (
    ConceptPrompts,
    Ellipse,
    concept_embeddings,
    concept_prompt_images,
    fit_ellipse,
    greyscale,
    labels_to_masks,
)
from cliplens.explanation.mutual.descriptor_retrieval import (
    TextualDescriptors,
    VisualDescriptors,
    concept_importance,
    retrieve_visual_descriptors,
    sinkhorn,
    textual_descriptors,
)
from cliplens.explanation.mutual.gdc import fiedler_component, fix_sign, gdc_foreground
from cliplens.explanation.mutual.mutual_info import (
    ESTIMATORS,
    aggregate_curves,
    auc,
    match_table,
    mi_dynamics,
    mutual_information,
)

__all__ = [
    "ESTIMATORS",
    "ConceptPrompts",
    "Ellipse",
    "TextualDescriptors",
    "VisualDescriptors",
    "aggregate_curves",
    "auc",
    "concept_embeddings",
    "concept_importance",
    "concept_prompt_images",
    "concepts_kmeans",
    "concepts_pca",
    "fiedler_component",
    "fit_ellipse",
    "fix_sign",
    "gdc_foreground",
    "greyscale",
    "kmeans",
    "labels_to_masks",
    "match_table",
    "mi_dynamics",
    "mutual_information",
    "retrieve_visual_descriptors",
    "sinkhorn",
    "textual_descriptors",
]
