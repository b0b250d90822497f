"""Load through the gateway: throughput, latency, errors by status, overload, memory over a soak.

    python benchmarks/load.py              # a table (about 3 minutes on 2 cores)
    python benchmarks/load.py --json       # one JSON object
    python benchmarks/load.py --quick      # fewer requests (checks that it runs, ~30 s)

It starts the local deployment (the four service processes, toyworld model) on free loopback
ports in a temporary run directory, drives it from this process, and stops it. Everything is
bounded in requests and in time; nothing leaves the machine.

What is measured:
- per RPC (EncodeImages, EncodeTexts, GetSynset, SearchSynsets, Classify, Rank, Surgery):
  `--clients` concurrent callers (asyncio, one channel to the gateway) send `--requests`
  requests (fewer for the explanation RPCs, which cost 10x more) after a warm-up; rps is
  completed calls over wall time, p50/p95/p99 are per-call latencies, `errors` counts every
  non-OK status by name, `rss_growth_mb` is the growth of the four processes' resident memory
  (summed) across the measured requests.
- overload: `--overload-clients` callers (twice the gateway's 256 concurrent calls) send
  EncodeImages with a 5 s deadline for `--overload-seconds`, each waiting 100 ms after a
  refusal: the excess must be answered RESOURCE_EXHAUSTED at once, not left to time out.
  Reports codes, answered calls per second, p50/p99 of the refusals and of the answered calls,
  how many hit their deadline, and what the refusals said.
- soak: `--soak` requests (10,000 by default) cycling through the cheap RPCs, right after the
  per-RPC phases have warmed every path (and before the overload, whose burst of 256 calls in
  flight moves the allocators' high-water marks); resident memory of each process before and
  after, and of all four after every round, so a leak of even a few KB per request would show.

The client runs in this process on the same cores as the services, so the figures are those of
the whole machine under load, client included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import sys
import tempfile
import time
from pathlib import Path

import grpc
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / "services/toyworld/examples/scene0.png"
OVERLOAD_DEADLINE = 5.0


def _free_base(span: int = 4) -> int:
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + span >= 65535:
            continue
        try:
            for port in range(base, base + span):
                with socket.socket() as t:
                    t.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free port range")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Deployment:
    """The local deployment in a private run directory, with its processes' memory."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="cliplens-load-")
        os.environ["CLIPLENS_RUN_DIR"] = self.dir.name
        from cliplens.client import local

        self.local = local
        self.layout = local.Layout(base_port=_free_base(), metrics_base=_free_base())
        env = {"CLIPLENS_LEXICON_DATABASE": str(Path(self.dir.name) / "lexicon.sqlite3"),
               "CLIPLENS_EXPLANATION_CACHE_DIR": str(Path(self.dir.name) / "cache"),
               **{f"CLIPLENS_{s.upper()}_LOG_LEVEL": "WARNING" for s in local.SERVICES}}
        try:
            local.up(self.layout, timeout=300, env=env)
        except Exception:
            local.down()
            raise
        self.pids = {s: int((Path(self.dir.name) / f"{s}.pid").read_text())
                     for s in local.SERVICES}

    @property
    def gateway(self) -> str:
        return self.layout.address("gateway")

    def rss(self) -> dict[str, float]:
        return {s: round(_rss_mb(pid), 1) for s, pid in self.pids.items()}

    def close(self) -> None:
        self.local.down()
        self.dir.cleanup()


def _requests() -> dict[str, tuple[str, object, bool]]:
    """RPC -> (method path, request, costly)."""
    from cliplens.v1 import common_pb2, embedding_pb2, explanation_pb2, lexicon_pb2

    image = common_pb2.Image(data=IMAGE.read_bytes())
    labels = ["car.n.01", "bird.n.01", "tree.n.01"]
    e, lx, x = "cliplens.v1.EmbeddingService", "cliplens.v1.LexiconService", \
        "cliplens.v1.ExplanationService"
    return {
        "EncodeImages": (f"/{e}/EncodeImages", embedding_pb2.EncodeImagesRequest(
            images=[image]), False),
        "EncodeTexts": (f"/{e}/EncodeTexts", embedding_pb2.EncodeTextsRequest(
            texts=["a photo of a car"]), False),
        "GetSynset": (f"/{lx}/GetSynset", lexicon_pb2.GetSynsetRequest(id="dog.n.01"), False),
        "SearchSynsets": (f"/{lx}/SearchSynsets", lexicon_pb2.SearchSynsetsRequest(
            lemma="dogs", limit=5), False),
        "Classify": (f"/{x}/Classify", explanation_pb2.ClassifyRequest(
            images=[image], labels=labels), True),
        "Rank": (f"/{x}/Rank", explanation_pb2.RankRequest(
            images=[image], texts=["a car", "a bird", "a tree"]), True),
        "Surgery": (f"/{x}/Surgery", explanation_pb2.SurgeryRequest(
            images=[image], labels=labels), True),
    }


async def _drive(channel: grpc.aio.Channel, path: str, request, *, total: int, clients: int,
                 max_seconds: float, timeout: float, backoff: float = 0.0) -> dict:
    """`clients` concurrent callers sending `request` until `total` calls or `max_seconds`.

    A caller refused with RESOURCE_EXHAUSTED waits `backoff` seconds before its next call, as
    a well-behaved client does.
    """
    call = channel.unary_unary(path, request_serializer=lambda m: m.SerializeToString(),
                               response_deserializer=lambda b: b)
    latencies: dict[str, list[float]] = {}
    messages: dict[str, dict[str, int]] = {}
    issued = 0
    stop_at = time.perf_counter() + max_seconds

    async def caller() -> None:
        nonlocal issued
        while issued < total and time.perf_counter() < stop_at:
            issued += 1
            started = time.perf_counter()
            try:
                await call(request, timeout=timeout)
                code = "OK"
            except grpc.aio.AioRpcError as e:
                code = e.code().name
                seen = messages.setdefault(code, {})
                seen[e.details()] = seen.get(e.details(), 0) + 1
            latencies.setdefault(code, []).append(time.perf_counter() - started)
            if code == "RESOURCE_EXHAUSTED" and backoff:
                await asyncio.sleep(backoff)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    done = sum(len(v) for v in latencies.values())
    every = np.concatenate([np.asarray(v) for v in latencies.values()] or [[]]) * 1e3
    ok = np.asarray(latencies.get("OK", [])) * 1e3
    return {"requests": done, "seconds": round(elapsed, 2), "rps": round(done / elapsed, 1),
            "p50_ms": _pct(every, 50), "p95_ms": _pct(every, 95), "p99_ms": _pct(every, 99),
            "ok_p99_ms": _pct(ok, 99),
            "errors": {code: len(v) for code, v in sorted(latencies.items()) if code != "OK"},
            "_latencies": latencies, "_messages": messages}


def _pct(values: np.ndarray, q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if len(values) else None


async def run(args) -> dict:
    from cliplens.core.channels import aio_channel

    deployment = Deployment()
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform()},
                     "config": {"clients": args.clients, "requests": args.requests,
                                "costly_requests": args.requests // 10,
                                "overload_clients": args.overload_clients,
                                "overload_seconds": args.overload_seconds, "soak": args.soak,
                                "max_seconds": args.max_seconds},
                     "rpcs": {}}
    # No retries: every status the gateway answers is counted as it came.
    channel = aio_channel(deployment.gateway, retries=False, max_attempts=1)
    try:
        rpcs = _requests()
        for name, (path, request, costly) in rpcs.items():
            total = max(10, args.requests // 10) if costly else args.requests
            await _drive(channel, path, request, total=max(5, total // 10), clients=args.clients,
                         max_seconds=args.max_seconds, timeout=60)  # warm-up
            before = sum(deployment.rss().values())
            out = await _drive(channel, path, request, total=total, clients=args.clients,
                               max_seconds=args.max_seconds, timeout=60)
            out.pop("_latencies")
            out.pop("_messages")
            out["rss_growth_mb"] = round(sum(deployment.rss().values()) - before, 1)
            results["rpcs"][name] = out
            _progress(args, f"{name}: {out['rps']} rps, p99 {out['p99_ms']} ms")

        cheap = [rpcs[n] for n in ("EncodeTexts", "GetSynset", "EncodeImages", "SearchSynsets",
                                   "Classify")]
        before = deployment.rss()
        samples = [round(sum(before.values()), 1)]
        soak_codes: dict[str, int] = {}
        started = time.perf_counter()
        sent = 0
        per_round = max(1, args.soak // (len(cheap) * 10))
        while sent < args.soak and time.perf_counter() - started < args.max_seconds * 5:
            for path, request, _ in cheap:
                n = min(per_round, args.soak - sent)
                if n <= 0:
                    break
                out = await _drive(channel, path, request, total=n, clients=args.clients,
                                   max_seconds=args.max_seconds, timeout=60)
                sent += out["requests"]
                soak_codes["OK"] = soak_codes.get("OK", 0) + out["requests"] - sum(
                    out["errors"].values())
                for code, count in out["errors"].items():
                    soak_codes[code] = soak_codes.get(code, 0) + count
            samples.append(round(sum(deployment.rss().values()), 1))
        after = deployment.rss()
        results["soak"] = {
            "requests": sent, "seconds": round(time.perf_counter() - started, 1),
            "codes": soak_codes, "rss_before_mb": before, "rss_after_mb": after,
            "rss_growth_mb": {s: round(after[s] - before[s], 1) for s in after},
            "rss_growth_total_mb": round(sum(after.values()) - sum(before.values()), 1),
            # The four processes' RSS summed, after every round of the cheap RPCs.
            "rss_total_samples_mb": samples}
        _progress(args, f"soak: {sent} requests, growth {results['soak']['rss_growth_mb']}")

        path, request, _ = rpcs["EncodeImages"]
        out = await _drive(channel, path, request, total=10**9, clients=args.overload_clients,
                           max_seconds=args.overload_seconds, timeout=OVERLOAD_DEADLINE,
                           backoff=0.1)
        lat = out.pop("_latencies")
        said = out.pop("_messages").get("RESOURCE_EXHAUSTED", {})
        rejected = np.asarray(lat.get("RESOURCE_EXHAUSTED", [])) * 1e3
        ok = np.asarray(lat.get("OK", [])) * 1e3
        results["overload"] = {
            "clients": args.overload_clients, "deadline_s": OVERLOAD_DEADLINE,
            "seconds": out["seconds"], "requests": out["requests"],
            "ok_rps": round(len(lat.get("OK", [])) / out["seconds"], 1),
            "codes": {"OK": len(lat.get("OK", [])), **out["errors"]},
            "rejected_p50_ms": _pct(rejected, 50), "rejected_p99_ms": _pct(rejected, 99),
            "ok_p50_ms": _pct(ok, 50), "ok_p99_ms": _pct(ok, 99),
            "deadline_exceeded": len(lat.get("DEADLINE_EXCEEDED", [])),
            "rejections": dict(sorted(said.items(), key=lambda kv: -kv[1])[:3])}
        _progress(args, f"overload: {results['overload']['codes']}")
    finally:
        await channel.close()
        deployment.close()
    return results


def _progress(args, text: str) -> None:
    if not args.json:
        print(f"  {text}", file=sys.stderr, flush=True)


def _table(results: dict) -> str:
    rows = [f"{'rpc':<15}{'rps':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'rss +MB':>9}  errors"]
    for name, r in results["rpcs"].items():
        rows.append(f"{name:<15}{r['rps']:>8}{r['p50_ms']:>9}{r['p95_ms']:>9}{r['p99_ms']:>9}"
                    f"{r['rss_growth_mb']:>9}  {r['errors'] or '-'}")
    o = results["overload"]
    rows += ["", f"overload: {o['clients']} clients for {o['seconds']} s, {o['deadline_s']} s "
             f"deadline, {o['requests']} calls: {o['codes']} ({o['ok_rps']} answered/s)",
             f"  refused with: {o['rejections']}",
             f"  rejected p50/p99 {o['rejected_p50_ms']}/{o['rejected_p99_ms']} ms, answered "
             f"p50/p99 {o['ok_p50_ms']}/{o['ok_p99_ms']} ms, deadline exceeded "
             f"{o['deadline_exceeded']}"]
    s = results["soak"]
    rows += ["", f"soak: {s['requests']} calls in {s['seconds']} s: {s['codes']}",
             f"  rss before {s['rss_before_mb']} MB", f"  rss after  {s['rss_after_mb']} MB",
             f"  growth {s['rss_growth_mb']} MB (total {s['rss_growth_total_mb']} MB)"]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=2000,
                        help="per cheap RPC (a tenth of it for the explanation RPCs)")
    parser.add_argument("--overload-clients", type=int, default=512)
    parser.add_argument("--overload-seconds", type=float, default=15.0)
    parser.add_argument("--soak", type=int, default=10_000)
    parser.add_argument("--max-seconds", type=float, default=120.0,
                        help="bound on each phase's wall time")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.soak, args.max_seconds, args.overload_seconds = 300, 1000, 60.0, 5.0
    results = asyncio.run(run(args))
    print(json.dumps(results, indent=2) if args.json else _table(results))


if __name__ == "__main__":
    main()
