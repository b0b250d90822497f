"""The Grafana dashboard and the metric names it, the alert rules and the HPA's adapter rule use.

Static half of the contract: the committed JSON is what deploy/grafana/dashboard.py builds, its
layout is sound, every query parses (promtool), and every cliplens_* name is one the services
register. tests/e2e/test_prometheus.py checks the same names against a live scrape.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess

import pytest
import yaml
from deploy_checks import (
    DASHBOARD,
    DEPLOY,
    GPU_ONLY,
    SERVICES,
    SETUP_HINT,
    adapter_queries,
    aggregations,
    dashboard_exprs,
    exposition_names,
    promql_metric_names,
    rule_exprs,
    selectors,
)

# Families with no panel, on purpose: build info carries no measurement.
NOT_ON_DASHBOARD = {"cliplens_build_info"}


def _generator():
    spec = importlib.util.spec_from_file_location("dashboard_generator",
                                                  DEPLOY / "grafana" / "dashboard.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def registered_names() -> set[str]:
    """Sample names of every family the four services register, as a scrape would list them."""
    from prometheus_client import REGISTRY, generate_latest

    for service in SERVICES:
        importlib.import_module(f"cliplens.{service}.service")
    return {n for n in exposition_names(generate_latest(REGISTRY).decode())
            if n.startswith("cliplens_")}


def test_committed_dashboard_is_what_the_generator_builds():
    assert DASHBOARD.read_text() == _generator().render(), (
        "stale: run .venv/bin/python deploy/grafana/dashboard.py")


def test_one_row_per_service_after_the_overview():
    panels = _dashboard()["panels"]
    rows = [p["title"] for p in panels if p["type"] == "row"]
    assert rows == ["Overview", *[s.capitalize() for s in _generator().SERVICES]]
    assert sorted(rows[1:]) == sorted(s.capitalize() for s in SERVICES)
    # Every panel under a service's row is about that service.
    current = None
    for panel in panels:
        if panel["type"] == "row":
            current = panel["title"].lower()
            continue
        if current == "overview":
            continue
        for target in panel["targets"]:
            names = promql_metric_names(target["expr"])
            own = {n for n in names if n.startswith(f"cliplens_{current}_")}
            assert f'service="{current}"' in target["expr"] or own, (current, target["expr"])


def test_layout_ids_and_datasources():
    panels = _dashboard()["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    cells = set()
    for p in panels:
        pos = p["gridPos"]
        assert 0 <= pos["x"] and pos["x"] + pos["w"] <= 24, p["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{p['title']} overlaps another panel"
                cells.add((x, y))
        if p["type"] != "row":
            assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert p["targets"] and all(t["refId"] for t in p["targets"])
    variables = {v["name"]: v for v in _dashboard()["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"


SCOPE_VARIABLES = ("cluster", "namespace", "job", "instance")


def test_variables_select_one_install():
    variables = _dashboard()["templating"]["list"]
    assert [v["name"] for v in variables] == ["datasource", *SCOPE_VARIABLES]
    by_name = {v["name"]: v for v in variables}
    for i, name in enumerate(SCOPE_VARIABLES):
        var = by_name[name]
        assert var["type"] == "query" and var["datasource"]["uid"] == "${datasource}"
        # Found on a series every cliplens process exports, narrowed by the variables before.
        query = var["query"]["query"]
        assert query.startswith("label_values(cliplens_build_info") and query.endswith(
            f", {name})"), query
        for earlier in SCOPE_VARIABLES[:i]:
            assert f'{earlier}=~"${earlier}"' in query, (name, earlier)
        assert var["refresh"] == 2  # re-read when the time range changes
    # One install at a time: a single namespace; cluster is optional ("All" matches none).
    assert by_name["namespace"]["multi"] is False and not by_name["namespace"]["includeAll"]
    assert by_name["cluster"]["allValue"] == ".*"
    assert by_name["job"]["multi"] and by_name["instance"]["multi"]


def test_every_query_is_scoped_to_the_selected_install():
    exprs = dashboard_exprs(_dashboard())
    assert exprs
    for expr in exprs:
        found = selectors(expr)
        assert found, expr
        for metric, matchers in found:
            for name in SCOPE_VARIABLES:
                assert matchers.get(name) == ("=~", f"${name}"), (metric, name, expr)
        for op, by in aggregations(expr):
            assert by is not None and {"cluster", "namespace"} <= set(by), (op, expr)


def test_the_scope_checks_can_fail():
    assert selectors('sum by (cluster, namespace) (up{job="gateway"})') == [
        ("up", {"job": ("=", "gateway")})]
    assert aggregations("sum(rate(cliplens_x_total[5m]))") == [("sum", None)]
    assert aggregations('max by (job) (up{namespace="x"})') == [("max", ["job"])]


def _promtool() -> str:
    path = shutil.which("promtool")
    if not path:
        pytest.fail(f"promtool not found: {SETUP_HINT}")
    return path


@pytest.mark.prometheus
def test_every_query_parses(tmp_path):
    # promtool parses recording rules offline: one rule per dashboard and adapter query.
    queries = [e.replace("$__rate_interval", "1m") for e in dashboard_exprs(_dashboard())]
    queries += adapter_queries('namespace="cliplens"', "pod")
    rules = [{"record": f"cliplens:check_{i}", "expr": q} for i, q in enumerate(queries)]
    path = tmp_path / "queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "queries", "rules": rules}]}))
    proc = subprocess.run([_promtool(), "check", "rules", str(path)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_metric_names_are_ones_the_services_register():
    registered = registered_names()
    used = {
        "dashboard": set().union(*map(promql_metric_names, dashboard_exprs(_dashboard()))),
        "alert rules": set().union(*map(promql_metric_names, rule_exprs())),
        "prometheus-adapter": set().union(*map(promql_metric_names, adapter_queries())),
    }
    for where, names in used.items():
        assert names, where
        unknown = names - registered
        assert not unknown, f"{where} reads metrics no service registers: {sorted(unknown)}"


def test_every_registered_family_has_a_panel():
    registered = registered_names()
    used = set().union(*map(promql_metric_names, dashboard_exprs(_dashboard())))
    families = {n.removesuffix("_bucket") for n in registered if n.endswith("_bucket")}
    families |= {n for n in registered if n.endswith("_total")}
    families |= {n for n in registered
                 if not n.endswith(("_bucket", "_sum", "_count", "_created", "_total"))
                 and n.removesuffix("_bucket") not in families}
    shown = {f for f in families
             if any(u == f or u.startswith(f + "_") and u.removeprefix(f + "_")
                    in ("bucket", "sum", "count") for u in used)}
    missing = families - shown - NOT_ON_DASHBOARD
    assert not missing, f"exported but not on the dashboard: {sorted(missing)}"
    assert GPU_ONLY <= used


def test_metric_name_extraction():
    expr = ('sum by (code) (rate(cliplens_grpc_requests_handled_total{service="gateway", '
            'code!="cliplens_not_a_metric"}[5m])) / cliplens_x:ratio')
    assert promql_metric_names(expr) == {"cliplens_grpc_requests_handled_total",
                                         "cliplens_x:ratio"}
    text = ("# HELP a_total x\n# TYPE a_total counter\n# TYPE h histogram\n"
            "# TYPE g gauge\ng 1.0\n")
    assert exposition_names(text) == {"a_total", "a_created", "h", "h_bucket", "h_sum",
                                      "h_count", "h_created", "g"}
