"""The load benchmark holds: no errors under capacity, RESOURCE_EXHAUSTED beyond it, flat memory.

    .venv/bin/pytest tests/reliability/test_load.py              # --quick run (~30 s)
    .venv/bin/pytest tests/reliability/test_load.py -m slow      # the full run: 10,000-call soak

Runs `benchmarks/load.py --json` as a process (it starts and stops its own deployment).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support import ROOT

pytestmark = pytest.mark.e2e

RPCS = {"EncodeImages", "EncodeTexts", "GetSynset", "SearchSynsets", "Classify", "Rank",
        "Surgery"}


def _run(*args: str) -> dict:
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks/load.py"), "--json", *args],
                            capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def _check(report: dict, *, soak: int, max_growth_mb: float) -> None:
    assert set(report["rpcs"]) == RPCS
    for name, r in report["rpcs"].items():
        assert {"rps", "p50_ms", "p99_ms", "errors", "rss_growth_mb"} <= set(r), name
        assert r["errors"] == {}, (name, r["errors"])  # under capacity nothing fails
        assert r["rps"] > 0 and 0 < r["p50_ms"] <= r["p99_ms"], (name, r)
    over = report["overload"]
    # Beyond capacity the excess is refused, not queued: nobody waits out the deadline, and a
    # refusal comes back sooner than an answer (relative, so a loaded machine cannot flip it).
    assert set(over["codes"]) <= {"OK", "RESOURCE_EXHAUSTED"}, over["codes"]
    assert over["codes"].get("RESOURCE_EXHAUSTED", 0) > 0 and over["codes"].get("OK", 0) > 0
    assert over["deadline_exceeded"] == 0
    assert over["rejected_p50_ms"] < over["ok_p50_ms"], over
    assert over["rejected_p99_ms"] < over["deadline_s"] * 1000, over
    s = report["soak"]
    assert s["requests"] == soak and s["codes"] == {"OK": soak}
    assert s["rss_growth_total_mb"] < max_growth_mb, s["rss_growth_mb"]


def test_load_quick():
    _check(_run("--quick"), soak=1000, max_growth_mb=50)


@pytest.mark.slow
def test_load_full_soak_memory_stays_flat():
    _check(_run(), soak=10_000, max_growth_mb=50)
