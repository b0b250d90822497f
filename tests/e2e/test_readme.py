"""The README's SDK examples run, as written, against the real processes."""

import os
import re
import subprocess
import sys

import pytest
from support import ROOT

pytestmark = pytest.mark.e2e

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_the_readme_has_sdk_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(deployment, tmp_path, index):
    (tmp_path / "services").symlink_to(ROOT / "services")  # the examples' relative paths
    script = tmp_path / f"example{index}.py"
    script.write_text(BLOCKS[index])
    env = {**os.environ, "CLIPLENS_TARGET": deployment.address("gateway")}
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "each example prints what it shows"
