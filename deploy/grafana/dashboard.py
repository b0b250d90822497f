"""Build the cliplens Grafana dashboard: `python deploy/grafana/dashboard.py` (rewrites the JSON).

One row per service (plus an overview), every query over the metrics the services export
(services/core/metrics.py and each service's metrics.py). The variables cluster (optional),
namespace, job and instance select one install: every selector carries them and every
aggregation keeps cluster and namespace. The JSON is committed where the kustomize monitoring
component picks it up; a test fails when it is stale, and another checks every metric name
against a live scrape.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUTPUT = (Path(__file__).resolve().parents[1] / "k8s" / "components" / "monitoring"
          / "cliplens-dashboard.json")
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"
# Every selector is scoped to one install (the variables below), and every aggregation keeps
# cluster and namespace: two installs sharing one Prometheus never merge.
SCOPE = 'cluster=~"$cluster", namespace=~"$namespace", job=~"$job", instance=~"$instance"'
INSTALL = "cluster, namespace"
# The variables' source: a series every cliplens process exports, whatever its job is called.
BUILD_INFO = "cliplens_build_info"
UNARY = 'grpc_type="unary"'
SERVER_ERRORS = ('code=~"UNKNOWN|INTERNAL|UNAVAILABLE|DEADLINE_EXCEEDED|RESOURCE_EXHAUSTED|'
                 'DATA_LOSS|UNIMPLEMENTED"')
SERVICES = ("gateway", "explanation", "lexicon", "embedding")


class Layout:
    """Places panels left to right on a 24-column grid, wrapping to a new line."""

    def __init__(self) -> None:
        self.y = 0
        self.x = 0
        self.line_height = 0
        self.next_id = 1

    def place(self, panel: dict, w: int, h: int) -> dict:
        if self.x + w > 24:
            self.newline()
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        panel["id"] = self.next_id
        self.next_id += 1
        self.x += w
        self.line_height = max(self.line_height, h)
        return panel

    def newline(self) -> None:
        self.y += self.line_height
        self.x = 0
        self.line_height = 0

    def row(self, title: str) -> dict:
        self.newline()
        panel = self.place({"type": "row", "title": title, "collapsed": False, "panels": []},
                           24, 1)
        self.newline()
        return panel


def _targets(queries: list[tuple[str, str]]) -> list[dict]:
    return [{"datasource": DATASOURCE, "expr": expr, "legendFormat": legend,
             "refId": chr(ord("A") + i)} for i, (expr, legend) in enumerate(queries)]


def timeseries(title: str, queries: list[tuple[str, str]], unit: str = "short",
               description: str = "") -> dict:
    """A time-series panel of one or more PromQL queries."""
    return {"type": "timeseries", "title": title, "description": description,
            "datasource": DATASOURCE, "targets": _targets(queries),
            "fieldConfig": {"defaults": {"unit": unit, "custom": {"lineWidth": 1,
                                                                    "fillOpacity": 10}},
                            "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom"},
                        "tooltip": {"mode": "multi", "sort": "desc"}}}


def stat(title: str, queries: list[tuple[str, str]], unit: str = "short",
         description: str = "") -> dict:
    """A single-value panel (the last value of each series)."""
    return {"type": "stat", "title": title, "description": description,
            "datasource": DATASOURCE, "targets": _targets(queries),
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "",
                                          "values": False},
                        "colorMode": "value", "graphMode": "none", "textMode": "auto"}}


def sel(metric: str, *matchers: str) -> str:
    """`metric` selected within the install the dashboard's variables name."""
    return f"{metric}{{{', '.join([SCOPE, *matchers])}}}"


def agg(op: str, labels: str, expr: str) -> str:
    """`op by (cluster, namespace, labels) (expr)`: installs never merge."""
    return f"{op} by ({', '.join([INSTALL, labels] if labels else [INSTALL])}) ({expr})"


def rate(metric: str, *matchers: str) -> str:
    """rate() of a counter over Grafana's rate interval, scoped."""
    return f"rate({sel(metric, *matchers)}[{RATE}])"


def quantile(q: float, metric: str, matchers: tuple[str, ...], by: str) -> str:
    """histogram_quantile over a histogram's buckets, grouped by `by` (and le)."""
    buckets = rate(f"{metric}_bucket", *matchers)
    return f"histogram_quantile({q}, {agg('sum', f'{by}, le', buckets)})"


def mean(metric: str, matchers: tuple[str, ...], by: str) -> str:
    """Mean of a histogram's observations over the rate window, grouped by `by`."""
    return (f"{agg('sum', by, rate(metric + '_sum', *matchers))} / "
            f"{agg('sum', by, rate(metric + '_count', *matchers))}")


def rpc_panels(service: str) -> list[tuple[dict, int, int]]:
    """Calls, errors, latency and concurrency of one service (the core metrics)."""
    own = (f'service="{service}"',)
    handled = "cliplens_grpc_requests_handled_total"
    duration = "cliplens_grpc_request_duration_seconds"
    return [
        (timeseries("Calls/s by method", [(
            agg("sum", "method", rate(handled, *own)), "{{method}}")], "reqps"), 8, 8),
        (timeseries("Errors/s by code", [(
            agg("sum", "code", rate(handled, *own, 'code!="OK"')), "{{code}}")], "reqps",
            "Every status other than OK, including the callers' own mistakes "
            "(INVALID_ARGUMENT, NOT_FOUND)."), 8, 8),
        (timeseries("Latency p50 / p99 by method", [
            (quantile(0.5, duration, own, "method, grpc_type"),
             "p50 {{method}} ({{grpc_type}})"),
            (quantile(0.99, duration, own, "method, grpc_type"),
             "p99 {{method}} ({{grpc_type}})")], "s",
            "Streams (grpc_type other than unary) last as long as their work."), 8, 8),
        (timeseries("In flight by method", [(
            agg("sum", "method", sel("cliplens_grpc_requests_in_flight", *own)),
            "{{method}}")]), 8, 6),
        (timeseries("Calls started/s", [
            (agg("sum", "", rate("cliplens_grpc_requests_started_total", *own)), "started"),
            (agg("sum", "", rate(handled, *own)), "handled")], "reqps"), 8, 6),
        (stat("Ready replicas", [(
            agg("sum", "", sel("cliplens_service_ready", *own)), "ready")]), 4, 6),
        (stat("Startup (slowest replica)", [(
            agg("max", "", sel("cliplens_service_startup_seconds", *own)), "startup")], "s"),
         4, 6),
    ]


def service_panels(service: str) -> list[tuple[dict, int, int]]:
    """The panels of a service's own metrics."""
    if service == "gateway":
        return [
            (timeseries("Auth failures/s by reason", [(
                agg("sum", "reason", rate("cliplens_gateway_auth_failures_total")),
                "{{reason}}")], "reqps"), 6, 8),
            (timeseries("Rate-limited/s by key", [(
                agg("sum", "key", rate("cliplens_gateway_rate_limited_total")), "{{key}}")],
                "reqps"), 6, 8),
            (timeseries("Upstream errors/s", [(
                agg("sum", "service, code", rate("cliplens_gateway_upstream_errors_total")),
                "{{service}} {{code}}")], "reqps"), 6, 8),
            (timeseries("Retries/s by peer", [(
                agg("sum", "service", rate("cliplens_gateway_retries_total")),
                "{{service}}")], "reqps"), 6, 8),
        ]
    if service == "explanation":
        hits = agg("sum", "cache", rate("cliplens_explanation_cache_hits_total"))
        misses = agg("sum", "cache", rate("cliplens_explanation_cache_misses_total"))
        return [
            (timeseries("Method time p50 / p99", [
                (quantile(0.5, "cliplens_explanation_method_seconds", (), "method"),
                 "p50 {{method}}"),
                (quantile(0.99, "cliplens_explanation_method_seconds", (), "method"),
                 "p99 {{method}}")], "s"), 8, 8),
            (timeseries("Text-embedding cache hit ratio", [
                (f"{hits} / ({hits} + {misses})", "{{cache}}")], "percentunit"), 8, 8),
            (timeseries("Cache lookups/s", [(hits, "hit {{cache}}"),
                                            (misses, "miss {{cache}}")], "ops"), 8, 8),
        ]
    if service == "lexicon":
        return [
            (stat("WordNet load time", [(
                agg("max", "", sel("cliplens_lexicon_wordnet_load_seconds")), "load")], "s"),
             8, 5),
            (stat("Descriptor banks", [(
                agg("max", "", sel("cliplens_lexicon_banks")), "banks")]), 8, 5),
            (stat("Concept dictionaries", [(
                agg("max", "", sel("cliplens_lexicon_dictionaries")), "dictionaries")]), 8, 5),
        ]
    if service == "embedding":
        gpu = "{{instance}} {{device}} {{UUID}}"
        return [
            (timeseries("Queue time (mean, p90) by model", [
                (mean("cliplens_embedding_queue_seconds", (), "model"), "mean {{model}}"),
                (quantile(0.9, "cliplens_embedding_queue_seconds", (), "model"),
                 "p90 {{model}}")], "s",
                "Time a request waits for its batch; the HPA scales on the mean (50 ms)."), 8, 8),
            (timeseries("Queue depth by model", [(
                agg("sum", "model", sel("cliplens_embedding_queue_depth")), "{{model}}")]),
             8, 8),
            (timeseries("Batch size (mean, p90) by model", [
                (mean("cliplens_embedding_batch_size", (), "model"), "mean {{model}}"),
                (quantile(0.9, "cliplens_embedding_batch_size", (), "model"),
                 "p90 {{model}}")]), 8, 8),
            (timeseries("Forward pass p50 / p99 by op", [
                (quantile(0.5, "cliplens_embedding_inference_seconds", (), "model, op"),
                 "p50 {{model}} {{op}}"),
                (quantile(0.99, "cliplens_embedding_inference_seconds", (), "model, op"),
                 "p99 {{model}} {{op}}")], "s"), 8, 8),
            (timeseries("Rejected/s by reason", [(
                agg("sum", "reason", rate("cliplens_embedding_rejected_total")),
                "{{reason}}")], "reqps",
                "queue_full: RESOURCE_EXHAUSTED answered; deadline: dropped before compute."),
             8, 8),
            (stat("Models loaded (per replica, min)", [(
                agg("min", "", sel("cliplens_embedding_models_loaded")), "models")]), 4, 8),
            (stat("Model load time by weights", [(
                agg("max", "model, fingerprint", sel("cliplens_embedding_model_load_seconds")),
                "{{model}} {{fingerprint}}")], "s",
                "One value per model and fingerprint (sha256 of its weights): two values for "
                "one model mean replicas serve different weights."), 4, 8),
            (timeseries("GPU memory by device", [
                (sel("cliplens_embedding_gpu_memory_used_bytes"), f"used {gpu}"),
                (sel("cliplens_embedding_gpu_memory_total_bytes"), f"total {gpu}"),
                (sel("cliplens_embedding_gpu_memory_allocated_bytes"), f"torch {gpu}")],
                "bytes",
                "Used and total (every process on the device) from NVML, torch's own "
                "allocations always; only on replicas with CUDA. UUID joins dcgm-exporter."),
             12, 8),
            (timeseries("GPU utilization by device", [(
                sel("cliplens_embedding_gpu_utilization_ratio"), gpu)],
                "percentunit", "Only on replicas with CUDA and NVML."), 12, 8),
        ]
    raise KeyError(service)


def variable(name: str, label: str, series: str, *, multi: bool,
             all_value: str | None = None) -> dict:
    """A query variable: the values of label `name` on `series` (refreshed with the time range).

    Multi-value variables offer "All" (every value found); `all_value` adds "All" to a
    single-value one, standing for that regex.
    """
    query = f"label_values({series}, {name})"
    return {"name": name, "label": label, "type": "query", "datasource": DATASOURCE,
            "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "definition": query, "refresh": 2, "sort": 1, "hide": 0, "regex": "",
            "multi": multi, "includeAll": multi or all_value is not None,
            "allValue": all_value, "current": {}, "options": []}


def build() -> dict:
    """The dashboard as a dict (Grafana 10+ JSON model)."""
    layout = Layout()
    panels: list[dict] = [layout.row("Overview")]
    handled = "cliplens_grpc_requests_handled_total"
    for panel, w, h in [
        (stat("Ready replicas by service", [(
            agg("sum", "service", sel("cliplens_service_ready")), "{{service}}")]), 8, 5),
        (stat("Targets up by job", [(agg("sum", "job", sel("up")), "{{job}}")]), 8, 5),
        (stat("Server errors (5m) by service", [(agg("sum", "service", (
            f"increase({sel(handled, SERVER_ERRORS)}[5m])")), "{{service}}")]), 8, 5),
        (timeseries("Calls/s by service", [(agg("sum", "service", rate(handled)),
                                            "{{service}}")], "reqps"), 12, 8),
        (timeseries("Unary p99 latency by service", [(
            quantile(0.99, "cliplens_grpc_request_duration_seconds", (UNARY,), "service"),
            "{{service}}")], "s"), 12, 8),
    ]:
        panels.append(layout.place(panel, w, h))
    for service in SERVICES:
        panels.append(layout.row(service.capitalize()))
        for panel, w, h in [*rpc_panels(service), *service_panels(service)]:
            panels.append(layout.place(panel, w, h))
    return {
        "title": "cliplens",
        "uid": "cliplens-services",
        "description": "cliplens services: calls, errors, latency, batching, caches, models, "
                       "GPUs. One row per service.",
        "tags": ["cliplens", "grpc"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [
            {"name": "datasource", "label": "Prometheus", "type": "datasource",
             "query": "prometheus", "current": {}, "hide": 0, "refresh": 1,
             "options": [], "regex": ""},
            # Optional: "All" also matches series without a cluster label.
            variable("cluster", "Cluster", f"{BUILD_INFO}", multi=False, all_value=".*"),
            variable("namespace", "Namespace", f'{BUILD_INFO}{{cluster=~"$cluster"}}',
                     multi=False),
            variable("job", "Job", f'{BUILD_INFO}{{cluster=~"$cluster", '
                     f'namespace=~"$namespace"}}', multi=True),
            variable("instance", "Instance", f'{BUILD_INFO}{{cluster=~"$cluster", '
                     f'namespace=~"$namespace", job=~"$job"}}', multi=True),
        ]},
        "annotations": {"list": []},
        "links": [],
        "panels": panels,
    }


def render() -> str:
    """The dashboard JSON text as committed."""
    return json.dumps(build(), indent=2) + "\n"


def main(argv: list[str]) -> int:
    """Write the JSON (or, with --check, fail when the committed file differs)."""
    text = render()
    if "--check" in argv:
        if OUTPUT.read_text() != text:
            sys.stderr.write(f"{OUTPUT} is stale: run python deploy/grafana/dashboard.py\n")
            return 1
        return 0
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
