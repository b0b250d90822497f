"""`cliplens report` writes one HTML page that a real headless browser renders with images."""

import re
import shutil
import subprocess
import sys

import pytest

from cliplens.toyworld.examples import load_examples

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium not installed: run `bash scripts/setup.sh --dev`")
    return path


def test_report_renders_every_image_in_headless_chromium(deployment, tmp_path):
    out = tmp_path / "report.html"
    image = load_examples()[0].image_path
    subprocess.run([sys.executable, "-m", "cliplens.client.cli", "--target",
                    deployment.address("gateway"), "--timeout", "300", "report", str(image),
                    "--labels", "car.n.01", "tree.n.01", "bird.n.01", "--out", str(out)],
                   check=True, capture_output=True, timeout=600)
    page = out.read_text()
    assert page.count("data:image/png;base64,") >= 6  # input + surgery + convis + concepts
    assert "http://" not in page and "https://" not in page  # self-contained
    dom = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=5000", "--dump-dom", out.as_uri()],
        capture_output=True, text=True, timeout=120).stdout
    total = re.search(r'data-images-total="(\d+)"', dom)
    rendered = re.search(r'data-images-rendered="(\d+)"', dom)
    assert total and rendered, "the page's load handler did not run"
    assert int(rendered.group(1)) == int(total.group(1)) >= 6
    assert "Mutual information" in dom and "CLIP Surgery" in dom and "ConVis" in dom
