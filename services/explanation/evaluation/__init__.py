"""Evaluation metrics: localization (pointing game, MaxBoxAcc), faithfulness (deletion,
insertion, AccDrop, AccInc), AUROC. (Prometheus telemetry is `cliplens.explanation.metrics`.)

- `pointing_game(map, mask)`, `max_box_acc(maps, gt_boxes)`: specs/convis.md localization.
- `deletion_insertion(image, masks, score_fn)`, `random_baseline`, `accuracy_curve`:
  specs/mutual_knowledge.md section 5.
- `auroc(id_scores, ood_scores)`: the ConVis OOD check.
- Connected components and the blur they rest on are `cliplens.explanation.base`'s.
"""

from cliplens.explanation.evaluation.faithfulness import (
    AccuracyCurve,
    FaithfulnessCurves,
    accuracy_curve,
    curve_auc,
    deletion_insertion,
    perturbation_walks,
    random_baseline,
    random_order,
)
from cliplens.explanation.evaluation.localization import (
    MaxBoxAccuracy,
    box_hits,
    box_iou,
    max_box_acc,
    pointing_game,
)
from cliplens.explanation.evaluation.ranking_metrics import auroc

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
    "max_box_acc",
    "perturbation_walks",
    "pointing_game",
    "random_baseline",
    "random_order",
]
