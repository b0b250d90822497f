"""The PrometheusRule's alert rules: promtool accepts them and its unit tests pass.

promtool comes from Debian's prometheus package (`bash scripts/setup.sh --dev`); without it
these tests fail and say so.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml
from deploy_checks import (
    MONITORING,
    REPOSITORY,
    RUNBOOKS,
    SETUP_HINT,
    aggregations,
    rule_exprs,
    rule_groups,
    selectors,
)

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


def _alerts() -> list[dict]:
    return [r for g in rule_groups() for r in g["rules"] if "alert" in r]


def test_every_alert_links_its_runbook_in_the_repository():
    for rule in _alerts():
        url = rule["annotations"]["runbook_url"]
        assert url == f"{REPOSITORY}/blob/main/deploy/runbooks/{rule['alert']}.md", url
        page = RUNBOOKS / f"{rule['alert']}.md"
        assert page.is_file(), f"{rule['alert']}: no runbook at {page}"
        text = page.read_text()
        assert text.startswith(f"# {rule['alert']}\n")
        for part in ("**Meaning.**", "**Impact.**", "**Diagnosis.**", "**Mitigation.**"):
            assert part in text, (rule["alert"], part)
    pages = {p.stem for p in RUNBOOKS.glob("*.md")} - {"README"}
    assert pages == {r["alert"] for r in _alerts()}, "a runbook for an alert that is gone"
    index = (RUNBOOKS / "README.md").read_text()
    assert all(f"[{a}.md]({a}.md)" in index for a in pages)


def test_rules_are_scoped_to_the_install():
    for expr in rule_exprs():
        for op, by in aggregations(expr):
            # Two installs (namespaces, or clusters behind Thanos) never merge.
            assert by is not None and {"cluster", "namespace"} <= set(by), (op, expr)
        for metric, matchers in selectors(expr):
            if metric == "up":
                # cliplens' own job names only: another application's "gateway" is not ours.
                op, value = matchers["job"]
                assert op == "=~" and value.startswith("cliplens-("), expr


def test_latency_alerts_select_unary_calls_by_grpc_type():
    latency = [r for r in _alerts() if "request_duration_seconds" in r["expr"]]
    assert latency
    for rule in latency:
        for _metric, matchers in selectors(rule["expr"]):
            assert matchers.get("grpc_type") == ("=", "unary"), rule["alert"]
            assert "method" not in matchers, f"{rule['alert']}: a hand-kept list of methods"


def test_the_collision_of_issue_16_stays_tested():
    # Another application's target labelled job="gateway" in another namespace, beside a
    # cliplens gateway that is down (and one that is gone): both alerts must still fire.
    tests = yaml.safe_load((MONITORING / "rules_test.yaml").read_text())["tests"]
    firing_beside_a_foreign_gateway = set()
    for case in tests:
        series = [s["series"] for s in case["input_series"]]
        foreign = any('job="gateway"' in s and 'namespace="cliplens"' not in s for s in series)
        if not foreign:
            continue
        for check in case["alert_rule_test"]:
            for alert in check.get("exp_alerts", []):
                if alert["exp_labels"].get("job") == "cliplens-gateway":
                    firing_beside_a_foreign_gateway.add(check["alertname"])
    assert firing_beside_a_foreign_gateway >= {"CliplensServiceDown", "CliplensServiceAbsent"}
