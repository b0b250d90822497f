"""The committed generated code matches the protos, and the protos pass buf's STANDARD lint."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from support import ROOT


def test_generated_code_is_fresh(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_protos.py"), "--out",
                    str(tmp_path)], check=True, capture_output=True)
    generated = sorted((tmp_path / "cliplens" / "v1").glob("*_pb2*.py*"))
    assert generated, "protoc produced nothing"
    for fresh in generated:
        committed = ROOT / "protos" / "cliplens" / "v1" / fresh.name
        assert committed.exists(), f"{committed.name} not committed: run make protos"
        assert committed.read_bytes() == fresh.read_bytes(), (
            f"{committed.name} is stale: run `make protos` and commit")


def test_buf_lint_standard():
    buf = ROOT / ".cache" / "buf" / "node_modules" / ".bin" / "buf"
    if not buf.exists():
        buf = shutil.which("buf")
    if buf is None:
        pytest.fail("buf not installed: run `bash scripts/setup.sh --dev`")
    result = subprocess.run([str(buf), "lint"], cwd=ROOT / "protos", capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_service_has_the_service_suffix_and_versioned_package():
    from cliplens.v1 import embedding_pb2, explanation_pb2, gateway_pb2, lexicon_pb2

    names = [s.full_name for m in (embedding_pb2, lexicon_pb2, explanation_pb2, gateway_pb2)
             for s in m.DESCRIPTOR.services_by_name.values()]
    assert names == ["cliplens.v1.EmbeddingService", "cliplens.v1.LexiconService",
                     "cliplens.v1.ExplanationService", "cliplens.v1.GatewayService"]
