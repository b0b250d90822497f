"""The distribution: one wheel `cliplens` carrying every package and the data they read."""

import subprocess
import sys
import zipfile

from support import ROOT


def test_wheel_carries_packages_and_data(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path), str(ROOT)], check=True,
                   capture_output=True)
    (wheel,) = tmp_path.glob("cliplens-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("cliplens/v1/explanation_pb2.py", "cliplens/core/server.py",
                     "cliplens/explanation/convis/__init__.py",
                     "cliplens/client/cli/__init__.py", "cliplens/embedding/models/toyworld.yaml",
                     "cliplens/toyworld/model/toyworld.json",
                     "cliplens/toyworld/model/toyworld.safetensors",
                     "cliplens/toyworld/wordnet_facts.json",
                     "cliplens/toyworld/examples/annotations.json"):
        assert required in names, f"{required} missing from the wheel"
    assert not any(n.startswith(("tests/", "benchmarks/", "deploy/")) for n in names)
