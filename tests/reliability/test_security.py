"""Security properties: loopback by default, API keys never logged, no unpickling anywhere.

    .venv/bin/pytest tests/reliability/test_security.py
"""

from __future__ import annotations

import ast
import socket
from pathlib import Path

import pytest
from procs import Proc
from support import ROOT

from cliplens.client import Client, CliplensClientError
from cliplens.core.config import load_config
from cliplens.embedding.config import EmbeddingConfig
from cliplens.explanation.config import ExplanationConfig
from cliplens.gateway.config import GatewayConfig
from cliplens.lexicon.config import LexiconConfig

CONFIGS = {"embedding": EmbeddingConfig, "lexicon": LexiconConfig,
           "explanation": ExplanationConfig, "gateway": GatewayConfig}


@pytest.mark.parametrize("service", sorted(CONFIGS))
def test_every_service_binds_loopback_by_default(service):
    config = load_config(CONFIGS[service], service, env={})
    assert config.host == "127.0.0.1" and config.metrics_host == "127.0.0.1"


def _listening(port: int) -> set[str]:
    """Local addresses with a socket listening on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, _, state = line.split()[1:4]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


@pytest.mark.e2e
def test_running_services_listen_on_loopback_only(cluster):
    """The processes of the fault-test deployment (no host configured) and their metrics."""
    # 127.0.0.1, ::1, and ::ffff:127.0.0.1 (the metrics server's dual-stack socket).
    loopback = {"0100007F", "00000000000000000000000001000000",
                "0000000000000000FFFF00000100007F"}
    for proc in cluster.all:
        for port in (proc.port, proc.metrics_port):
            addresses = _listening(port)
            assert addresses and addresses <= loopback, (proc.name, port, addresses)
    outside = _outside_address()
    if outside:
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((outside, cluster.embedding_a.port)) != 0


def _outside_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET: nothing is sent, only a route is chosen
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


@pytest.mark.e2e
def test_api_keys_are_never_logged_even_at_debug(tmp_path):
    keys = {"reader": "r-7e1b6f0f-secret", "admin": "a-93c2d1aa-secret"}
    gateway = Proc("gateway", tmp_path, env={
        "CLIPLENS_GATEWAY_API_KEYS": f"reader:{keys['reader']};admin:{keys['admin']}:read+admin",
        "CLIPLENS_GATEWAY_LOG_LEVEL": "DEBUG",
        "CLIPLENS_GATEWAY_EMBEDDING_TARGET": "127.0.0.1:9",  # peers down: errors get logged
        "CLIPLENS_GATEWAY_LEXICON_TARGET": "127.0.0.1:9",
        "CLIPLENS_GATEWAY_EXPLANATION_TARGET": "127.0.0.1:9",
        "GRPC_VERBOSITY": "debug"}).start().wait_serving()
    attempts = [keys["reader"], keys["admin"], keys["reader"] + "x", "wrong-" + keys["admin"]]
    try:
        for key in attempts:
            with Client(gateway.address, api_key=key, timeout=5, retries=0) as client:
                for call in (client.status, lambda c=client: c.synset("dog.n.01")):
                    try:
                        call()
                    except CliplensClientError as e:
                        assert key not in str(e)
    finally:
        gateway.stop()
    log = gateway.log.read_text(errors="replace")
    assert "GetStatus" in log, "the calls were logged (at DEBUG)"
    for key in attempts:
        assert key not in log
        assert key[2:10] not in log, "not even a fragment"


# -- no unpickling of untrusted input ----------------------------------------------------------

SOURCES = [p for folder in ("services", "clients", "benchmarks", "scripts")
           for p in (ROOT / folder).rglob("*.py") if "_pb2" not in p.name]
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "joblib", "shelve", "marshal",
                  "cloudpickle"}


def _keyword(call: ast.Call, name: str):
    for kw in call.keywords:
        if kw.arg == name and isinstance(kw.value, ast.Constant):
            return kw.value.value
    return None


def _findings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):
        where = f"{path}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            out += [f"{where}: import {a.name}" for a in node.names
                    if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in \
                UNSAFE_MODULES:
            out.append(f"{where}: from {node.module} import ...")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value.id if isinstance(node.func.value, ast.Name) else ""
            name = node.func.attr
            if owner == "torch" and name == "load" and _keyword(node, "weights_only") is not True:
                out.append(f"{where}: torch.load without weights_only=True")
            if owner == "np" and name == "load" and _keyword(node, "allow_pickle") is not False:
                out.append(f"{where}: np.load without allow_pickle=False")
            if owner == "yaml" and name in ("load", "load_all", "unsafe_load", "full_load"):
                out.append(f"{where}: yaml.{name} (use yaml.safe_load)")
            if name == "read_pickle" or (owner == "torch" and name == "jit"):
                out.append(f"{where}: {owner}.{name}")
    return out


def test_the_scan_finds_what_it_looks_for(tmp_path):
    bad = tmp_path / "probe.py"
    bad.write_text("import pickle\nimport torch, numpy as np, yaml\ntorch.load('x')\n"
                   "np.load('y')\nyaml.load(open('z'))\ntorch.load('w', weights_only=True)\n"
                   "np.load('v', allow_pickle=False)\n")
    assert len(_findings(bad)) == 4, _findings(bad)


def test_no_pickle_of_untrusted_input_anywhere():
    assert len(SOURCES) > 50
    findings = [f for path in SOURCES for f in _findings(path)]
    assert findings == []
