"""`cliplens eval quality --json` through the four real services, on held-out toyworld scenes.

A smaller run than the README's table: 40 scenes with 70-odd objects (over the per-call image
limit, so the dataset path is exercised) and the same 30 mutual-knowledge images, with floors
a few points under what this run measured, so a regression in any method shows while
sampling noise does not.
"""

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

METHODS = ("raw", "surgery", "convis_grid", "convis_dense", "hypernym", "surgery_label_set")
# This run measured surgery 0.653 (single text; label set 0.597), grid 0.708, hypernym 0.400
# (raw 0.181) on the shipped model; the floors are about 10 points under (7 of 72 objects, 3 of
# 30 hypernym samples). The README's table has the full run's figures.
SURGERY_FLOOR = 0.55
LABEL_SET_FLOOR = 0.50
GRID_FLOOR = 0.60
HYPERNYM_FLOOR = 0.30


@pytest.fixture(scope="module")
def table(deployment):
    done = subprocess.run(
        [sys.executable, "-m", "cliplens.client.cli", "--target", deployment.address("gateway"),
         "--timeout", "1800", "eval", "quality", "--n", "40", "--hypernym-scenes", "15",
         "--mutual-images", "30", "--json"],
        capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_the_table_has_every_figure_the_issue_names(table):
    for key in ("pointing", "maxboxacc"):
        assert set(METHODS) <= set(table[key])
        assert all(0.0 <= table[key][m] <= 1.0 for m in METHODS)
    assert {"raw", "surgery", "convis_grid", "convis_dense"} <= set(table["seconds"])
    assert 0.0 <= table["hypernym"]["surgery"] <= 1.0
    assert table["n"]["localization_samples"] > 64  # past the per-call limit of 64 images
    assert len(table["model"]["fingerprint"]) == 71  # "sha256:" + 64 hex digits


def test_surgery_and_convis_localize_far_better_than_raw_similarity(table):
    pointing = table["pointing"]
    assert pointing["surgery"] >= pointing["raw"] + 0.15
    assert pointing["convis_grid"] >= pointing["raw"] + 0.15
    assert pointing["surgery"] >= SURGERY_FLOOR
    assert pointing["surgery_label_set"] >= LABEL_SET_FLOOR
    assert pointing["convis_grid"] >= GRID_FLOOR
    assert pointing["hypernym"] >= HYPERNYM_FLOOR


def test_convis_dense_is_orders_of_magnitude_faster_than_grid(table):
    assert table["seconds"]["convis_grid"] >= 30 * table["seconds"]["convis_dense"]


def test_mutual_knowledge_concepts_beat_a_random_order(table):
    assert table["deletion"] < table["deletion_random"]
    assert table["insertion"] > table["insertion_random"]
