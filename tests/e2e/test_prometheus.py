"""Observability against the real processes: a live /metrics scrape and a real Prometheus.

- Every cliplens_* name the Grafana dashboard, the alert rules and the prometheus-adapter rule
  read is in a live scrape of the four services (the GPU gauges may be missing without CUDA,
  nothing else may).
- Debian's Prometheus, started here on loopback with its own storage, scrapes the four services
  (labelled as the ServiceMonitor labels them, beside another application's job="gateway" in
  another namespace), evaluates the alert rules, resolves the dashboard's variables as Grafana
  does, and answers every dashboard query and the adapter's query through its HTTP API with the
  services' series and nothing else.
- The Indexed Job's shard script analyses a small dataset through the gateway.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import yaml
from deploy_checks import (
    DASHBOARD,
    GPU_ONLY,
    K8S,
    SERVICES,
    SETUP_HINT,
    adapter_queries,
    dashboard_exprs,
    exposition_names,
    free_port,
    promql_metric_names,
    rule_exprs,
    rule_groups,
)

from cliplens.client import Client
from cliplens.toyworld.examples import load_examples
from cliplens.v1 import embedding_pb2, lexicon_pb2

pytestmark = pytest.mark.e2e
RATE_WINDOW = "15s"  # $__rate_interval at a 1 s scrape interval


def _exercise(deployment) -> None:
    """Calls of every kind: through the gateway to each service, twice (a cache hit)."""
    example = load_examples()[0]
    with Client(deployment.address("gateway"), timeout=120) as client:
        for _ in range(2):
            client.surgery(example.image_path, ["car.n.01"])
        client.classify(example.image_path, ["car", "tree"])
        client.lexicon.GetSynset(lexicon_pb2.GetSynsetRequest(id="dog.n.01"))
        client.lexicon.ListBanks(lexicon_pb2.ListBanksRequest())
        client.embedding.EncodeTexts(embedding_pb2.EncodeTextsRequest(texts=["a red car"]))


def _scrape(deployment, service: str) -> str:
    url = f"http://127.0.0.1:{deployment.metrics_port(service)}/metrics"
    return urllib.request.urlopen(url, timeout=10).read().decode()


def _samples(text: str, name: str) -> list[tuple[str, float]]:
    """(labels, value) of every sample line of `name`."""
    out = []
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            head, value = line.rsplit(" ", 1)
            out.append((head[len(name):], float(value)))
    return out


def test_dashboard_rules_and_adapter_read_only_metrics_a_live_scrape_has(deployment):
    _exercise(deployment)
    scrapes = {s: _scrape(deployment, s) for s in SERVICES}
    live = {s: exposition_names(text) for s, text in scrapes.items()}
    everywhere = set().union(*live.values())
    used = {
        "dashboard": set().union(*map(promql_metric_names,
                                      dashboard_exprs(json.loads(DASHBOARD.read_text())))),
        "alert rules": set().union(*map(promql_metric_names, rule_exprs())),
        "prometheus-adapter": set().union(*map(promql_metric_names, adapter_queries())),
    }
    for where, names in used.items():
        missing = names - everywhere - GPU_ONLY
        assert not missing, f"{where} reads metrics no live service exports: {sorted(missing)}"
        # A service's own metrics come from that service.
        for service in SERVICES:
            own = {n for n in names if n.startswith(f"cliplens_{service}_")} - GPU_ONLY
            assert own <= live[service], (where, service, sorted(own - live[service]))
    # The core families are on every service.
    for service in SERVICES:
        assert {"cliplens_grpc_requests_handled_total", "cliplens_service_ready",
                "cliplens_grpc_request_duration_seconds_bucket"} <= live[service], service
        ready = _samples(scrapes[service], "cliplens_service_ready")
        assert (f'{{service="{service}"}}', 1.0) in ready, (service, ready)
    # The calls above were measured where the dashboard looks for them.
    embedding = scrapes["embedding"]
    for name in ("cliplens_embedding_queue_seconds_count", "cliplens_embedding_batch_size_count",
                 "cliplens_embedding_inference_seconds_count"):
        assert sum(v for _, v in _samples(embedding, name)) >= 1, name
    assert sum(v for _, v in _samples(embedding, "cliplens_embedding_models_loaded")) >= 1
    explanation = scrapes["explanation"]
    lookups = sum(v for _, v in _samples(explanation, "cliplens_explanation_cache_hits_total"))
    lookups += sum(v for _, v in _samples(explanation, "cliplens_explanation_cache_misses_total"))
    assert lookups >= 1
    assert sum(v for _, v in _samples(explanation,
                                      "cliplens_explanation_method_seconds_count")) >= 1
    assert _samples(scrapes["lexicon"], "cliplens_lexicon_wordnet_load_seconds")[0][1] > 0


# -- a real Prometheus ------------------------------------------------------------------------


def _prometheus_binary() -> str:
    path = shutil.which("prometheus")
    if not path:
        pytest.fail(f"Debian's prometheus is not installed: {SETUP_HINT}")
    return path


def _get(base: str, path: str, **params) -> dict:
    url = f"{base}{path}?{urllib.parse.urlencode(params)}" if params else f"{base}{path}"
    try:
        body = urllib.request.urlopen(url, timeout=10).read()
    except urllib.error.HTTPError as e:  # 400 carries Prometheus's error message
        body = e.read()
    return json.loads(body)


def _query(base: str, expr: str) -> dict:
    return _get(base, "/api/v1/query", query=expr)


def _wait(what: str, check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


@pytest.fixture
def prometheus(deployment, tmp_path):
    """Debian's Prometheus scraping the local deployment every second, with our alert rules."""
    binary = _prometheus_binary()
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": rule_groups()},
                                                        sort_keys=False))
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": ["rules.yaml"],
        # As the ServiceMonitor does: job = cliplens-<component>, the metrics' own labels win,
        # and the target carries namespace and pod (what prometheus-adapter maps to objects).
        "scrape_configs": [{
            "job_name": f"cliplens-{service}", "honor_labels": True,
            "static_configs": [{"targets": [f"127.0.0.1:{deployment.metrics_port(service)}"],
                                "labels": {"namespace": "cliplens", "pod": f"{service}-0"}}],
        } for service in SERVICES] + [{
            # Another application's "gateway" (Prometheus itself) in another namespace: the
            # alerts and the dashboard must not take it for cliplens'.
            "job_name": "gateway",
            "static_configs": [{"targets": [f"127.0.0.1:{port}"],
                                "labels": {"namespace": "shop", "pod": "gateway-0"}}],
        }],
    }
    config_path = tmp_path / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    promtool = shutil.which("promtool")
    assert promtool, f"promtool not found: {SETUP_HINT}"
    check = subprocess.run([promtool, "check", "config", str(config_path)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    log = open(tmp_path / "prometheus.log", "wb")
    proc = subprocess.Popen(
        [binary, f"--config.file={config_path}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=1h"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"

    def ready():
        if proc.poll() is not None:
            raise AssertionError(f"prometheus exited with {proc.returncode}: "
                                 f"{(tmp_path / 'prometheus.log').read_text()[-2000:]}")
        try:
            return urllib.request.urlopen(f"{base}/-/ready", timeout=2).status == 200
        except OSError:
            return False

    try:
        _wait("prometheus to be ready", ready, timeout=60)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.prometheus
def test_prometheus_scrapes_the_four_services_and_answers_the_dashboard(deployment, prometheus):
    _exercise(deployment)

    def all_up():
        result = _query(prometheus, "up")["data"]["result"]
        up = {(r["metric"]["namespace"], r["metric"]["job"]): float(r["value"][1])
              for r in result}
        want = {("cliplens", f"cliplens-{s}"): 1.0 for s in SERVICES} | {("shop", "gateway"): 1.0}
        return up if up == want else None

    _wait("every service's target up", all_up)

    def calls_by_service():
        result = _query(prometheus, 'sum by (service) (cliplens_grpc_requests_handled_total'
                                    '{code="OK"})')["data"]["result"]
        seen = {r["metric"]["service"]: float(r["value"][1]) for r in result}
        return seen if set(seen) == set(SERVICES) and all(seen.values()) else None

    calls = _wait("the cliplens series of all four services", calls_by_service)
    assert calls["gateway"] >= 5  # the calls _exercise made
    _exercise(deployment)  # a second round, so rate() has an increase to see
    time.sleep(3)

    dashboard = json.loads(DASHBOARD.read_text())
    values = _resolve_variables(prometheus, dashboard)
    assert values["namespace"] == ["cliplens"]  # not "shop": its gateway is not cliplens'
    assert values["job"] == sorted(f"cliplens-{s}" for s in SERVICES)
    assert values["instance"] == sorted(f"127.0.0.1:{deployment.metrics_port(s)}"
                                        for s in SERVICES)
    answered = {}
    for expr in dashboard_exprs(dashboard):
        reply = _query(prometheus, _grafana_interpolate(expr, values, dashboard))
        assert reply["status"] == "success", (expr, reply.get("error"))
        answered[expr] = reply["data"]["result"]
    by_service = answered[_panel_expr(dashboard, "Calls/s by service")]
    assert {r["metric"]["service"] for r in by_service} == set(SERVICES)
    targets = answered[_panel_expr(dashboard, "Targets up by job")]
    assert {r["metric"]["job"] for r in targets} == {f"cliplens-{s}" for s in SERVICES}
    # What the latency alerts select on: every service labels its calls with grpc_type.
    unary = _query(prometheus, 'count by (service) (cliplens_grpc_request_duration_seconds_count'
                               '{grpc_type="unary"})')["data"]["result"]
    assert {r["metric"]["service"] for r in unary} == set(SERVICES)
    empty = [e for e, v in answered.items() if not v and not promql_metric_names(e) & GPU_ONLY]
    # Without traffic of those kinds (auth refusals, rate limits, upstream errors, retries,
    # rejections, server errors) some panels are empty; everything else has data.
    quiet = ("auth_failures", "rate_limited", "upstream_errors", "retries", "rejected",
             'code!="OK"', "UNKNOWN|INTERNAL")
    assert [e for e in empty if not any(q in e for q in quiet)] == []

    # The HPA's metric, as prometheus-adapter would ask for the embedding pod.
    (query,) = adapter_queries('namespace="cliplens",pod="embedding-0"', "pod")
    result = _query(prometheus, query.replace("[2m]", f"[{RATE_WINDOW}]"))["data"]["result"]
    assert [r["metric"] for r in result] == [{"pod": "embedding-0"}]
    value = float(result[0]["value"][1])
    assert math.isfinite(value) and value >= 0

    # The alert rules are loaded and evaluate cleanly against the live series.
    def evaluated():
        groups = _get(prometheus, "/api/v1/rules")["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        done = rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules)
        return groups if done else None

    groups = _wait("the alert rules to be evaluated", evaluated)
    assert {g["name"] for g in groups} == {g["name"] for g in rule_groups()}
    unhealthy = [(r["name"], r.get("lastError")) for g in groups for r in g["rules"]
                 if r["health"] != "ok"]
    assert not unhealthy
    firing = [r["name"] for g in groups for r in g["rules"] if r["state"] == "firing"]
    assert "CliplensServiceDown" not in firing and "CliplensServiceAbsent" not in firing


def _resolve_variables(base: str, dashboard: dict) -> dict[str, list[str]]:
    """Each query variable's values, asked of Prometheus in order as Grafana asks them."""
    values: dict[str, list[str]] = {}
    for var in dashboard["templating"]["list"]:
        if var["type"] != "query":
            continue
        m = re.fullmatch(r"label_values\((.+), (\w+)\)", var["query"]["query"])
        series = _grafana_interpolate(m[1], values, dashboard)
        reply = _get(base, f"/api/v1/label/{m[2]}/values", **{"match[]": series})
        assert reply["status"] == "success", (var["name"], reply.get("error"))
        values[var["name"]] = sorted(reply["data"])
    return values


def _grafana_interpolate(expr: str, values: dict[str, list[str]],
                         dashboard: dict | None = None) -> str:
    """`expr` with $__rate_interval and the variables as Grafana fills them in: "All" (every
    value, or the variable's allValue) for multi-value variables, the only value otherwise."""
    variables = {v["name"]: v for v in (dashboard or {}).get("templating", {}).get("list", [])}

    def fill(m):
        name = m[1]
        if name == "__rate_interval":
            return RATE_WINDOW
        found = values.get(name, [])
        spec = variables.get(name, {})
        if spec.get("allValue") and (spec.get("multi") or len(found) != 1):
            return spec["allValue"]
        escaped = [re.escape(v).replace("\\", "\\\\") for v in found]
        return escaped[0] if len(escaped) == 1 else f"({'|'.join(escaped)})"

    return re.sub(r"\$(\w+)", fill, expr)


def _panel_expr(dashboard: dict, title: str) -> str:
    (panel,) = [p for p in dashboard["panels"] if p["title"] == title]
    return panel["targets"][0]["expr"]


# -- the Indexed Job's script -----------------------------------------------------------------


def test_indexed_job_script_analyses_a_dataset_through_the_gateway(deployment, tmp_path):
    examples = load_examples()
    dataset = tmp_path / "dataset"
    (dataset / "img").mkdir(parents=True)
    # Synset ids: explanation generates their descriptor bank from WordNet.
    labels = sorted({e.objects[0]["synset"] for e in examples})
    (dataset / "labels.txt").write_text("\n".join(labels) + "\n")
    lines = []
    for e in examples:
        shutil.copy(e.image_path, dataset / "img" / e.image_path.name)
        lines.append(f"img/{e.image_path.name}\t{e.objects[0]['synset']}")
    (dataset / "images.txt").write_text("\n".join(lines) + "\n")
    script = K8S / "examples" / "mutual-knowledge" / "shard_job.py"
    env = {**os.environ, "CLIPLENS_TARGET": deployment.address("gateway"),
           "DATASET_DIR": str(dataset), "SHARDS": "2", "BATCH_SIZE": "2"}
    for index in range(2):
        proc = subprocess.run([sys.executable, str(script), "run"],
                              env={**env, "JOB_COMPLETION_INDEX": str(index)},
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
    proc = subprocess.run([sys.executable, str(script), "aggregate"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((dataset / "out" / "summary.json").read_text())
    assert summary["images"] == len(examples)
    assert summary["model"]["name"] == "toyworld"
    assert summary["mean_mi_curve"] and all(math.isfinite(v) for v in summary["mean_mi_curve"])
    assert 0.0 <= summary["accuracy"] <= 1.0
    shards = [json.loads(p.read_text()) for p in sorted((dataset / "out").glob("shard-*.json"))]
    assert sorted(im["index"] for s in shards for im in s["images"]) == list(range(len(examples)))
