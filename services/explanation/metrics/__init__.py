"""Evaluation metrics: localization (pointing game, MaxBoxAcc), faithfulness (deletion,
insertion, AccDrop, AccInc), AUROC, and the image helpers they rest on.

- `pointing_game(map, mask)`, `max_box_acc(maps, gt_boxes)`: specs/convis.md localization.
- `deletion_insertion(image, masks, score_fn)`, `random_baseline`, `accuracy_curve`:
  specs/mutual_knowledge.md section 5.
- `auroc(id_scores, ood_scores)`: the ConVis OOD check.
- `connected_components` and `image_blur` are shared with the mutual-knowledge package.
"""

from cliplens.explanation.metrics.connected_components import (
    label_components,
    largest_component,
    largest_component_box,
    largest_components,
    mask_box,
)
from cliplens.explanation.metrics.faithfulness import (
    AccuracyCurve,
    FaithfulnessCurves,
    accuracy_curve,
    curve_auc,
    deletion_insertion,
    perturbation_walks,
    random_baseline,
    random_order,
)
from cliplens.explanation.metrics.image_blur import gaussian_blur
from cliplens.explanation.metrics.localization import (
    MaxBoxAccuracy,
    box_hits,
    box_iou,
    max_box_acc,
    pointing_game,
)
from cliplens.explanation.metrics.ranking_metrics import auroc

__all__ = [
    "AccuracyCurve",
    "FaithfulnessCurves",
    "MaxBoxAccuracy",
    "accuracy_curve",
    "auroc",
    "box_hits",
    "box_iou",
    "curve_auc",
    "deletion_insertion",
    "gaussian_blur",
    "label_components",
    "largest_component",
    "largest_component_box",
    "largest_components",
    "mask_box",
    "max_box_acc",
    "perturbation_walks",
    "pointing_game",
    "random_baseline",
    "random_order",
]
