"""Faults on the real processes: a replica killed, lexicon killed mid-import, SIGTERM, a hung peer.

    .venv/bin/pytest tests/reliability/test_faults.py

The deployment (conftest.py) runs two embedding replicas behind one round-robin target. Each
test leaves every process running and SERVING as it found it.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import grpc
import pytest
from procs import Proc

from cliplens.client import Client, CliplensClientError
from cliplens.lexicon.banks import content_hash
from cliplens.toyworld.examples import load_examples
from cliplens.v1 import common_pb2, embedding_pb2, embedding_pb2_grpc, gateway_pb2, lexicon_pb2

pytestmark = pytest.mark.e2e

IMAGE = load_examples()[1].image_path


class Hammer:
    """Threads calling the gateway in a loop; every outcome counted by status."""

    def __init__(self, address: str, calls, *, threads: int = 4, timeout: float = 30.0):
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(address, calls[i % len(calls)],
                                                                  timeout))
                         for i in range(threads)]

    def _run(self, address, call, timeout) -> None:
        # retries=0: the SDK does not retry, so any UNAVAILABLE the gateway let through counts.
        with Client(address, timeout=timeout, retries=0) as client:
            while not self._stop.is_set():
                try:
                    call(client)
                    outcome = "OK"
                except CliplensClientError as e:
                    outcome = e.code.name
                    with self._lock:
                        self.failures.append(f"{e.code.name}: {e.details}")
                with self._lock:
                    self.outcomes[outcome] += 1

    def ok(self) -> int:
        with self._lock:
            return self.outcomes["OK"]

    def __enter__(self) -> Hammer:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(60)


def _restart(proc: Proc) -> None:
    if proc.proc.poll() is None:
        proc.signal(signal.SIGCONT)
    else:
        proc.start()
    proc.wait_serving()


CALLS = [
    lambda c: c.encode_images(IMAGE),
    lambda c: c.encode_texts(["a car", "a red bird"]),
    lambda c: c.classify(IMAGE, labels=["car.n.01", "bird.n.01", "tree.n.01"]),
]


def test_kill9_of_an_embedding_replica_fails_no_request(cluster):
    """kill -9 one replica under load: the gateway retries on the other; nothing fails."""
    with Hammer(cluster.gateway.address, CALLS, threads=6) as hammer:
        time.sleep(1.5)
        before = hammer.ok()
        assert before > 0, hammer.failures[:3]
        cluster.embedding_b.signal(signal.SIGKILL)
        cluster.embedding_b.wait_exit()
        time.sleep(3.0)
        after_kill = hammer.ok() - before
    print(f"kill -9 of a replica: {dict(hammer.outcomes)} ({after_kill} answered after it)")
    try:
        assert hammer.failures == [], hammer.failures[:5]
        assert after_kill > 10, "requests kept being answered after the kill"
    finally:
        _restart(cluster.embedding_b)


def test_sigterm_drains_in_flight_calls(cluster):
    """SIGTERM a replica mid-stream: the stream completes, new calls go elsewhere, exit 0."""
    b = cluster.embedding_b
    windows = [common_pb2.Box(x0=x, y0=y, x1=x + 40, y1=y + 40)
               for x in range(0, 40, 2) for y in range(0, 40, 2)] * 3  # 1,200 windows
    request = embedding_pb2.EncodeRegionsRequest(
        image=common_pb2.Image(data=IMAGE.read_bytes()), windows=windows, chunk_size=64)
    received: list[int] = []
    started = threading.Event()
    errors: list[BaseException] = []

    def stream() -> None:
        with grpc.insecure_channel(b.address) as channel:
            try:
                for reply in embedding_pb2_grpc.EmbeddingServiceStub(channel).EncodeRegions(
                        request, timeout=60):
                    received.append(reply.embeddings.shape[0])
                    started.set()
            except grpc.RpcError as e:
                errors.append(e)
                started.set()

    with Hammer(cluster.gateway.address, CALLS[:2], threads=2) as hammer:
        reader = threading.Thread(target=stream)
        reader.start()
        assert started.wait(30)
        b.signal(signal.SIGTERM)
        t0 = time.monotonic()
        time.sleep(0.3)
        assert b.health() != "SERVING", "health leaves SERVING as soon as draining starts"
        reader.join(60)
        code = b.wait_exit(30)
        drained_in = time.monotonic() - t0
        time.sleep(0.5)
    print(f"SIGTERM: stream of {sum(received)}/{len(windows)} windows completed, exit {code} "
          f"after {drained_in:.1f} s; gateway traffic meanwhile {dict(hammer.outcomes)}")
    try:
        assert not errors, errors
        assert sum(received) == len(windows), "the in-flight stream was drained, not cut"
        assert code == 0 and drained_in < 15
        assert hammer.failures == [], hammer.failures[:5]
        assert hammer.ok() > 0
    finally:
        _restart(b)


def test_a_hung_peer_is_cut_by_deadlines(cluster, tmp_path):
    """A replica that stops answering (SIGSTOP) costs a caller its deadline, not a hang.

    A gateway in front of the stopped replica alone: a call with a deadline ends at it; a call
    without one ends at the gateway's upstream timeout; the gateway itself answers throughout.
    """
    b = cluster.embedding_b
    gateway = Proc("gateway", tmp_path, env={
        "CLIPLENS_GATEWAY_EMBEDDING_TARGET": b.address,
        "CLIPLENS_GATEWAY_LEXICON_TARGET": cluster.lexicon.address,
        "CLIPLENS_GATEWAY_EXPLANATION_TARGET": cluster.explanation.address,
        "CLIPLENS_GATEWAY_UPSTREAM_TIMEOUT_SECONDS": "2"}).start().wait_serving()
    try:
        with Client(gateway.address, timeout=30, retries=0) as client:
            client.encode_texts(["a car"])  # connected to the replica before it hangs
        b.signal(signal.SIGSTOP)
        for timeout, cut_at in ((1.0, 1.0), (None, 2.0)):
            with Client(gateway.address, timeout=timeout, retries=0) as client:
                t0 = time.monotonic()
                with pytest.raises(CliplensClientError) as e:
                    client.encode_texts(["a car"])
                took = time.monotonic() - t0
                assert e.value.code == grpc.StatusCode.DEADLINE_EXCEEDED, e.value
                assert cut_at * 0.9 < took < cut_at + 2.0, (timeout, took)
                assert client.synset("dog.n.01").name == "dog.n.01"  # other peers unaffected
        with Client(gateway.address, timeout=10, retries=0) as client:
            t0 = time.monotonic()
            peers = {p.service: p.state for p in client.status().peers}
            assert time.monotonic() - t0 < 2.5, "status polls peers with a 1 s timeout"
        assert peers["embedding"] == gateway_pb2.PEER_STATE_UNREACHABLE, peers
        assert peers["lexicon"] == gateway_pb2.PEER_STATE_SERVING, peers
    finally:
        b.signal(signal.SIGCONT)
        gateway.stop()
    b.wait_serving()


def _bank(version: int, classes: int = 5000) -> dict[str, list[str]]:
    return {f"thing {i:04d}": [f"descriptor {j} of thing {i}, version {version}"
                               for j in range(12)] for i in range(classes)}


def _stored(client: Client, bank_id: str) -> dict[str, list[str]] | None:
    try:
        reply = client.lexicon.GetBank(lexicon_pb2.GetBankRequest(id=bank_id))
    except CliplensClientError as e:
        assert e.code == grpc.StatusCode.NOT_FOUND, e
        return None
    doc = {c.class_name: list(c.descriptors) for c in reply.classes}
    # The bank's own bookkeeping agrees with its rows: nothing half-written.
    assert reply.info.class_count == len(doc)
    assert reply.info.descriptor_count == sum(len(d) for d in doc.values())
    assert reply.info.content_hash == content_hash(doc)
    return doc


def test_lexicon_killed_during_import_keeps_every_bank_whole(cluster):
    """kill -9 lexicon at points through an import: after restart each bank is all or nothing."""
    lexicon = cluster.lexicon
    versions = {v: _bank(v) for v in range(1, 8)}
    small = {"car": ["four wheels", "a windshield"], "tree": ["a trunk", "leaves"]}
    with Client(lexicon.address, timeout=60, retries=0) as client:
        client.lexicon.ImportBank(lexicon_pb2.ImportBankRequest(
            name="small", json=json.dumps(small), replace=True))
        t0 = time.monotonic()
        client.lexicon.ImportBank(lexicon_pb2.ImportBankRequest(
            name="big", json=json.dumps(versions[1]), replace=True))
        duration = time.monotonic() - t0
    killed_mid_call = 0
    for k, version in enumerate(range(2, 8)):
        delay = duration * (0.15 + 0.15 * k)  # from early in parsing to around the commit
        outcome: list[str] = []

        def importer(v=version, outcome=outcome):
            with Client(lexicon.address, timeout=60, retries=0) as c:
                try:
                    c.lexicon.ImportBank(lexicon_pb2.ImportBankRequest(
                        name="big", json=json.dumps(versions[v]), replace=True))
                    outcome.append("OK")
                except CliplensClientError as e:
                    outcome.append(e.code.name)

        thread = threading.Thread(target=importer)
        thread.start()
        time.sleep(delay)
        lexicon.signal(signal.SIGKILL)
        lexicon.wait_exit()
        thread.join(30)
        killed_mid_call += outcome == ["UNAVAILABLE"]
        lexicon.start().wait_serving()
        with Client(lexicon.address, timeout=60, retries=0) as client:
            stored = _stored(client, "big")
            assert stored in (versions[version - 1], versions[version]), \
                f"kill {k} after {delay:.2f} s: bank 'big' is neither version whole"
            assert _stored(client, "small") == small
            if stored != versions[version]:  # keep the chain: the next kill replaces this
                client.lexicon.ImportBank(lexicon_pb2.ImportBankRequest(
                    name="big", json=json.dumps(versions[version]), replace=True))
    size = len(json.dumps(versions[1])) / 2**20
    print(f"lexicon kill -9 during 6 imports of a {size:.1f} MB bank: {killed_mid_call} "
          f"died mid-call; every bank whole after each restart")
    assert killed_mid_call >= 2, "most kills should land while the import was running"
    db = lexicon.env["CLIPLENS_LEXICON_DATABASE"]
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


_DIE_MID_TRANSACTION = """
import os, signal, sys
from cliplens.lexicon.banks import Bank, BankClass, BankInfo
from cliplens.lexicon.store import Store

class DieAfter:
    # The classes of a bank, but the process is SIGKILLed after `n` rows went to SQLite.
    def __init__(self, classes, n):
        self.classes, self.n = classes, n
    def __iter__(self):
        for i, c in enumerate(self.classes):
            if i == self.n:
                os.kill(os.getpid(), signal.SIGKILL)
            yield c

path, version, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
classes = tuple(BankClass(f"c{i}", "", (f"d{i} v{version}",)) for i in range(1000))
info = BankInfo(id="b", name="b", content_hash=str(version), class_count=1000,
                descriptor_count=1000, source="json", created_at="now")
Store(path).save_bank(Bank(info, DieAfter(classes, n)), replace=True)
"""


@pytest.mark.parametrize("rows_written", [0, 1, 500, 999])
def test_store_killed_inside_the_transaction_keeps_the_old_bank(tmp_path, rows_written):
    """The process dies with some rows of a replacing bank written: the old bank is intact."""
    from cliplens.lexicon.banks import Bank, BankClass, BankInfo
    from cliplens.lexicon.store import Store

    path = tmp_path / "store.db"
    store = Store(path)
    old = tuple(BankClass(f"c{i}", "", (f"d{i} v1",)) for i in range(1000))
    store.save_bank(Bank(BankInfo(id="b", name="b", content_hash="1", class_count=1000,
                                  descriptor_count=1000, source="json", created_at="then"),
                         old), replace=True)
    store.close()
    result = subprocess.run([sys.executable, "-c", _DIE_MID_TRANSACTION, str(path), "2",
                             str(rows_written)], capture_output=True, timeout=60,
                            env={**os.environ})
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-2000:]
    store = Store(path)
    try:
        bank = store.get_bank("b")
        assert bank is not None and bank.info.content_hash == "1"
        assert bank.classes == old
    finally:
        store.close()
