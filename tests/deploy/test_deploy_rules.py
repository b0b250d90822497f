"""The PrometheusRule's alert rules: promtool accepts them and its unit tests pass.

promtool comes from Debian's prometheus package (`bash scripts/setup.sh --dev`); without it
these tests fail and say so.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml
from deploy_checks import MONITORING, SETUP_HINT, rule_groups

pytestmark = pytest.mark.prometheus


def promtool() -> str:
    path = shutil.which("promtool")
    if not path:
        pytest.fail(f"promtool not found: {SETUP_HINT}")
    return path


def _write_rules(tmp_path, groups) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))


def test_promtool_accepts_the_rules(tmp_path):
    _write_rules(tmp_path, rule_groups())
    proc = subprocess.run([promtool(), "check", "rules", str(tmp_path / "rules.yaml")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    count = sum(len(g["rules"]) for g in rule_groups())
    assert f"SUCCESS: {count} rules found" in proc.stdout


def test_promtool_rejects_a_broken_rule(tmp_path):
    # The check above can fail: a rule with a PromQL syntax error does not pass.
    groups = rule_groups()
    groups[0]["rules"][0]["expr"] = "sum by (job) (up{job=~\"gateway\"}) =="
    _write_rules(tmp_path, groups)
    proc = subprocess.run([promtool(), "check", "rules", str(tmp_path / "rules.yaml")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0


def test_alerts_fire_when_they_should_and_only_then(tmp_path):
    _write_rules(tmp_path, rule_groups())
    shutil.copy(MONITORING / "rules_test.yaml", tmp_path / "rules_test.yaml")
    proc = subprocess.run([promtool(), "test", "rules", "rules_test.yaml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_every_alert_is_unit_tested():
    alerts = {r["alert"] for g in rule_groups() for r in g["rules"] if "alert" in r}
    tests = yaml.safe_load((MONITORING / "rules_test.yaml").read_text())["tests"]
    tested = {t["alertname"] for case in tests for t in case.get("alert_rule_test", [])
              if t.get("exp_alerts")}
    untested = alerts - tested
    assert not untested, f"alerts without a firing unit test: {sorted(untested)}"
    for rule in (r for g in rule_groups() for r in g["rules"] if "alert" in r):
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert {"summary", "description"} <= rule["annotations"].keys(), rule["alert"]
