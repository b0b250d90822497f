"""`benchmarks/explanation.py` runs against the real processes and its table holds together."""

import json
import subprocess
import sys

import pytest
from support import ROOT

pytestmark = pytest.mark.e2e


def test_explanation_benchmark_quick(deployment):
    # The deployment fixture points CLIPLENS_RUN_DIR at its services, so the benchmark uses them.
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks/explanation.py"), "--quick",
                           "--json"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout)
    assert set(results) == {"encode_dense", "surgery", "convis_dense_toyworld",
                            "convis_dense_physical"}
    assert results["encode_dense"]["over_forward"] == 1.0
    # Each explanation makes the same forward pass and more.
    for name in ("surgery", "convis_dense_toyworld", "convis_dense_physical"):
        assert results[name]["p50_ms"] > 0
        assert results[name]["over_forward"] > 0.8, results
