"""Embedding service ratios: gRPC vs in-process, batching on vs off, ONNX vs torch, regions.

    python benchmarks/embedding.py            # a table
    python benchmarks/embedding.py --json     # one JSON object
    python benchmarks/embedding.py --quick    # fewer iterations (checks that it runs)

What is measured: throughputs are medians over repeats after a warm-up; within a repeat the
two sides of a ratio take turns (so background load hits both alike) and the ratio is the
median of the per-repeat ratios.

- grpc_vs_inprocess: images/s of EncodeImages (preprocessed pixels, one batch per call, one
  client, the service in its own process on loopback) over the same model's `encode_image`
  called in this process, same batch size; toyworld and ViT-B-32 (random weights). The server
  runs with max_batch_size = the batch size, so a full request never waits for company. The
  headline ratio is the smaller of the two models'.
- batching_speedup: 16 concurrent clients each sending single images as fast as they are
  answered, server batching on (max_batch_size 16, 5 ms delay) vs off (max_batch_size 1);
  toyworld.
- onnx_vs_torch: ViT-B-32 image encoder, same batch, ONNX Runtime (CPU provider, as the onnx
  backend configures it) vs torch, both in this process.
- regions_vs_naive: 1,800 windows of one 224x224 image through one EncodeRegions call vs a
  naive client that crops, pads and PNG-encodes each window and sends one EncodeImages call per
  crop; the naive loop is timed on a subset and extrapolated (said in the output); toyworld.

The toyworld model is the shipped checkpoint when present, else the toyworld config with random
weights (same architecture, same speed). Nothing here needs a network.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import io
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
TOYWORLD_CONFIG = ROOT / "services/toyworld/model/toyworld.json"
TOYWORLD_WEIGHTS = ROOT / "services/toyworld/model/toyworld.safetensors"
VIT = "ViT-B-32/random"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _interleaved(cases: dict, *, repeats: int, calls: int) -> dict[str, list[float]]:
    """items/s of each case in every repeat; the cases take turns within each repeat.

    `cases` maps a label to (fn, items per call, on_worker). Taking turns makes the machine's
    background load fall on every case alike. `on_worker` cases run on a worker thread, the
    way the service runs its forward passes: on an oversubscribed CPU, OpenMP regions started
    from the main thread measured up to 5x slower than from a worker thread, so in-process
    baselines run where the service runs them and only the transport differs.
    """
    def timed(fn, items: int) -> float:
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        return items * calls / (time.perf_counter() - started)

    rates: dict[str, list[float]] = {label: [] for label in cases}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        def run(fn, items, on_worker):
            return pool.submit(timed, fn, items).result() if on_worker else timed(fn, items)

        for fn, _, on_worker in cases.values():  # warm-up
            (pool.submit(fn).result() if on_worker else fn())
        for _ in range(repeats):
            for label, (fn, items, on_worker) in cases.items():
                rates[label].append(run(fn, items, on_worker))
    return rates


def _ratio(rates: dict[str, list[float]], ours: str, base: str) -> float:
    """Median over repeats of ours/base, each repeat's pair measured back to back."""
    return statistics.median(a / b for a, b in zip(rates[ours], rates[base], strict=True))


class Server:
    """`python -m cliplens.embedding` in its own process, configured by environment."""

    def __init__(self, registry: Path, model: str, **settings):
        self.port = _free_port()
        env = {**os.environ, "CLIPLENS_EMBEDDING_PORT": str(self.port),
               "CLIPLENS_EMBEDDING_METRICS_PORT": "-1",
               "CLIPLENS_EMBEDDING_MODELS": model, "CLIPLENS_EMBEDDING_DEFAULT_MODEL": model,
               "CLIPLENS_EMBEDDING_REGISTRY_DIRS": str(registry),
               "CLIPLENS_EMBEDDING_LOG_LEVEL": "WARNING"}
        env.update({f"CLIPLENS_EMBEDDING_{k.upper()}": str(v) for k, v in settings.items()})
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, "-m", "cliplens.embedding"], env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.target = f"127.0.0.1:{self.port}"
        self._wait()

    def _wait(self, timeout: float = 300.0) -> None:
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        deadline = time.monotonic() + timeout
        with grpc.insecure_channel(self.target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    self.log.seek(0)
                    raise RuntimeError("embedding server exited:\n" + self.log.read().decode())
                try:
                    reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.2)
        raise RuntimeError("embedding server did not become SERVING")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _registry(folder: Path) -> str:
    """A registry folder with the toyworld entry to benchmark; returns its name."""
    if TOYWORLD_WEIGHTS.is_file():
        return "toyworld"
    (folder / "toyworld-random.yaml").write_text(
        f"name: toyworld-random\nconfig: {TOYWORLD_CONFIG}\nweights: random\n")
    return "toyworld-random"


def _stub(target: str):
    from cliplens.core.channels import sync_channel
    from cliplens.v1 import embedding_pb2_grpc

    return embedding_pb2_grpc.EmbeddingServiceStub(sync_channel(target, retries=False))


def _build(registry: Path, name: str):
    from cliplens.embedding.loading import build
    from cliplens.embedding.registry import Registry

    return build(Registry([registry], model_dir=registry).resolve(name))


def bench_grpc_vs_inprocess(registry: Path, name: str, batch: int, q: dict) -> dict:
    """images/s through the service vs in-process, same model and batch, taking turns."""
    from cliplens.core.tensors import to_proto
    from cliplens.v1 import embedding_pb2 as pb

    built = _build(registry, name)
    h, w = built.preprocess_cfg["size"]
    pixels = torch.randn(batch, 3, h, w, generator=torch.Generator().manual_seed(0))
    model = built.model

    def inprocess():
        with torch.inference_mode():
            model.encode_image(pixels).numpy()

    request = pb.EncodeImagesRequest(pixels=to_proto(pixels.numpy()))
    with Server(registry, name, max_batch_size=batch) as server:
        stub = _stub(server.target)
        rates = _interleaved({"inprocess": (inprocess, batch, True),
                              "grpc": (lambda: stub.EncodeImages(request), batch, False)}, **q)
    return {"model": name, "batch": batch,
            "inprocess_images_per_s": statistics.median(rates["inprocess"]),
            "grpc_images_per_s": statistics.median(rates["grpc"]),
            "ratio": _ratio(rates, "grpc", "inprocess")}


async def _hammer(target: str, clients: int, seconds: float, pixels) -> float:
    from cliplens.core.channels import aio_channel
    from cliplens.core.tensors import to_proto
    from cliplens.v1 import embedding_pb2 as pb
    from cliplens.v1 import embedding_pb2_grpc

    request = pb.EncodeImagesRequest(pixels=to_proto(pixels))
    channel = aio_channel(target, retries=False)
    stub = embedding_pb2_grpc.EmbeddingServiceStub(channel)
    await asyncio.gather(*(stub.EncodeImages(request) for _ in range(clients)))  # warm-up
    done = 0
    stop = time.perf_counter() + seconds

    async def client():
        nonlocal done
        while time.perf_counter() < stop:
            await stub.EncodeImages(request)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    await channel.close()
    return done / elapsed


def bench_batching(registry: Path, name: str, clients: int, seconds: float,
                   repeats: int) -> dict:
    """Throughput of `clients` concurrent single-image callers, batching on vs off.

    Both servers run at once; measurement windows alternate between them.
    """
    pixels = np.random.default_rng(0).standard_normal((1, 3, 80, 80)).astype(np.float32)
    rates: dict[str, list[float]] = {"on": [], "off": []}
    with Server(registry, name, max_queue_size=1024, max_batch_size=16,
                max_queue_delay_ms=5) as on, \
            Server(registry, name, max_queue_size=1024, max_batch_size=1,
                   max_queue_delay_ms=0) as off:
        for _ in range(repeats):
            for label, server in (("on", on), ("off", off)):
                rates[label].append(asyncio.run(_hammer(server.target, clients, seconds,
                                                        pixels)))
    return {"model": name, "clients": clients,
            "on_images_per_s": statistics.median(rates["on"]),
            "off_images_per_s": statistics.median(rates["off"]),
            "ratio": _ratio(rates, "on", "off"),
            "forward_only": _forward_ceiling(registry, name)}


def _forward_ceiling(registry: Path, name: str) -> dict:
    """In-process encode_image at batch 16 vs batch 1 (images/s): what batching can win at
    most on this machine when the forward pass itself dominates."""
    model = _build(registry, name).model
    one, sixteen = torch.randn(1, 3, 80, 80), torch.randn(16, 3, 80, 80)

    def run(x):
        with torch.inference_mode():
            model.encode_image(x)

    rates = _interleaved({"batch1": (lambda: run(one), 1, True),
                          "batch16": (lambda: run(sixteen), 16, True)}, repeats=3, calls=16)
    return {"batch1_images_per_s": statistics.median(rates["batch1"]),
            "batch16_images_per_s": statistics.median(rates["batch16"]),
            "ratio": _ratio(rates, "batch16", "batch1")}


def bench_onnx(registry: Path, onnx_dir: Path, batch: int, q: dict) -> dict:
    """ViT-B-32 image encoder: ONNX Runtime (CPU) vs torch, same batch, in-process."""
    from cliplens.embedding.backends.onnx_backend import OnnxBackend
    from cliplens.embedding.backends.torch_backend import TorchBackend
    from cliplens.embedding.onnx_export import export, model_folder, read_meta
    from cliplens.embedding.registry import Registry
    from cliplens.embedding.surgery import inspect_visual

    entry = Registry([registry], model_dir=registry).resolve(VIT)
    built = _build(registry, VIT)
    try:
        fresh = read_meta(model_folder(onnx_dir, VIT))["fingerprint"] == built.fingerprint
    except (FileNotFoundError, ValueError, KeyError):
        fresh = False
    if not fresh:
        export(entry, onnx_dir, built=built)
    onnx = OnnxBackend(onnx_dir, VIT, provider="cpu")
    tb = TorchBackend(built.model, spec=inspect_visual(built.model.visual), depth=6,
                      device="cpu", precision="fp32")
    pixels = torch.randn(batch, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    rates = _interleaved({"torch": (lambda: tb.encode_images(pixels), batch, True),
                          "onnx": (lambda: onnx.encode_images(pixels), batch, True)}, **q)
    return {"model": VIT, "batch": batch,
            "torch_images_per_s": statistics.median(rates["torch"]),
            "onnx_images_per_s": statistics.median(rates["onnx"]), "provider": onnx.device,
            "ratio": _ratio(rates, "onnx", "torch")}


def convis_windows(size: int = 224, count: int = 1800) -> np.ndarray:
    """ConVis-style windows of one image: 128 and 64 px, stride 8, up to half out of it."""
    per = []
    for side in (128, 64):
        starts = np.arange(-side // 2, size, 8)
        y0, x0 = np.meshgrid(starts, starts, indexing="ij")
        boxes = np.stack([x0.ravel(), y0.ravel(), x0.ravel() + side, y0.ravel() + side], 1)
        per.append(boxes[:count // 2])
    return np.concatenate(per).astype(np.float32)


def bench_regions(registry: Path, name: str, naive_subset: int, repeats: int) -> dict:
    """Windows/s of one EncodeRegions call vs one EncodeImages call per window."""
    from PIL import Image

    from cliplens.v1 import common_pb2 as cpb
    from cliplens.v1 import embedding_pb2 as pb

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    boxes = convis_windows()
    request = pb.EncodeRegionsRequest(
        image=cpb.Image(data=buf.getvalue()), padding=pb.PADDING_NOISE, noise_seed=0,
        windows=[cpb.Box(x0=b[0], y0=b[1], x1=b[2], y1=b[3]) for b in boxes])
    margin = 128
    canvas = rng.integers(0, 256, (224 + 2 * margin, 224 + 2 * margin, 3), dtype=np.uint8)
    canvas[margin:margin + 224, margin:margin + 224] = image

    def crop_png(b) -> bytes:
        x0, y0, x1, y1 = (int(v) + margin for v in b)
        out = io.BytesIO()
        Image.fromarray(canvas[y0:y1, x0:x1]).save(out, "PNG")
        return out.getvalue()

    subset = boxes[:: max(1, len(boxes) // naive_subset)][:naive_subset]
    rates: dict[str, list[float]] = {"regions": [], "naive": []}
    with Server(registry, name) as server:
        stub = _stub(server.target)
        list(stub.EncodeRegions(request))  # warm-up
        stub.EncodeImages(pb.EncodeImagesRequest(images=[cpb.Image(data=crop_png(subset[0]))]))
        for _ in range(repeats):
            started = time.perf_counter()
            total = sum(c.embeddings.shape[0] for c in stub.EncodeRegions(request))
            rates["regions"].append(total / (time.perf_counter() - started))
            started = time.perf_counter()
            for b in subset:
                stub.EncodeImages(pb.EncodeImagesRequest(images=[cpb.Image(data=crop_png(b))]))
            rates["naive"].append(len(subset) / (time.perf_counter() - started))
    naive_rate = statistics.median(rates["naive"])
    return {"model": name, "windows": int(total),
            "regions_windows_per_s": statistics.median(rates["regions"]),
            "naive_windows_per_s": naive_rate, "naive_timed_on": len(subset),
            "naive_extrapolated_seconds_for_all": len(boxes) / naive_rate,
            "ratio": _ratio(rates, "regions", "naive")}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    parser.add_argument("--onnx-dir", type=Path,
                        default=Path.home() / ".cache" / "cliplens" / "bench-onnx")
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["grpc", "batching", "onnx", "regions"])
    args = parser.parse_args(argv)
    q = dict(repeats=3, calls=3) if args.quick else dict(repeats=5, calls=10)
    qv = dict(repeats=3, calls=2) if args.quick else dict(repeats=5, calls=4)
    results: dict = {"settings": {"quick": args.quick, "torch_threads": torch.get_num_threads(),
                                  "cpus": os.cpu_count(), "cuda": torch.cuda.is_available(),
                                  "machine": platform.processor() or platform.machine()}}
    with tempfile.TemporaryDirectory() as tmp:
        registry = Path(tmp)
        toy = _registry(registry)
        if "grpc" not in args.skip:
            by_model = [bench_grpc_vs_inprocess(registry, toy, 64, q),
                        bench_grpc_vs_inprocess(registry, VIT, 8, qv)]
            results["grpc_vs_inprocess"] = min(r["ratio"] for r in by_model)
            results["grpc_vs_inprocess_by_model"] = by_model
        if "batching" not in args.skip:
            b = bench_batching(registry, toy, 16, 3.0 if args.quick else 5.0,
                               2 if args.quick else 4)
            results["batching_speedup"] = b["ratio"]
            results["batching"] = b
        if "onnx" not in args.skip:
            o = bench_onnx(registry, args.onnx_dir, 8, qv)
            results["onnx_vs_torch"] = o["ratio"]
            results["onnx"] = o
        if "regions" not in args.skip:
            r = bench_regions(registry, toy, 60 if args.quick else 200,
                              1 if args.quick else 3)
            results["regions_vs_naive"] = r["ratio"]
            results["regions"] = r
    if args.json:
        print(json.dumps(results))
    else:
        print(_table(results))
    return results


def _table(r: dict) -> str:
    rows = [("measure", "ours", "baseline", "ratio", "target")]
    for g in r.get("grpc_vs_inprocess_by_model", []):
        rows.append((f"gRPC vs in-process, {g['model']}, batch {g['batch']} (images/s)",
                     f"{g['grpc_images_per_s']:.1f}", f"{g['inprocess_images_per_s']:.1f}",
                     f"{g['ratio']:.2f}", ">= 0.9"))
    if "batching" in r:
        b = r["batching"]
        rows.append((f"batching on vs off, {b['clients']} clients, {b['model']} (images/s)",
                     f"{b['on_images_per_s']:.1f}", f"{b['off_images_per_s']:.1f}",
                     f"{b['ratio']:.2f}", ">= 3"))
        f = b["forward_only"]
        rows.append(("  context: in-process forward, batch 16 vs batch 1 (images/s)",
                     f"{f['batch16_images_per_s']:.1f}", f"{f['batch1_images_per_s']:.1f}",
                     f"{f['ratio']:.2f}", "ceiling"))
    if "onnx" in r:
        o = r["onnx"]
        rows.append((f"ONNX Runtime ({o['provider']}) vs torch, {o['model']}, batch "
                     f"{o['batch']} (images/s)", f"{o['onnx_images_per_s']:.1f}",
                     f"{o['torch_images_per_s']:.1f}", f"{o['ratio']:.2f}", ">= 1.2"))
    if "regions" in r:
        g = r["regions"]
        rows.append((f"EncodeRegions vs one call per crop, {g['windows']} windows, "
                     f"{g['model']} (windows/s; naive timed on {g['naive_timed_on']})",
                     f"{g['regions_windows_per_s']:.1f}", f"{g['naive_windows_per_s']:.1f}",
                     f"{g['ratio']:.2f}", "report"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    s = r["settings"]
    lines.append(f"({s['cpus']} CPUs, torch threads {s['torch_threads']}, CUDA {s['cuda']}, "
                 f"quick={s['quick']})")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
