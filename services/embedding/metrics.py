"""Prometheus metrics of the embedding service (names are the dashboard's contract).

Model metrics carry the model's name and the fingerprint of its weights, so a panel or an
alert tells which weights it measured. GPU metrics carry torch's device name and the device
UUID under the label `UUID`, as NVIDIA's dcgm-exporter names it, so `on (UUID)` joins them
with DCGM's series; used/total memory and utilization come from NVML (nvidia-ml-py) when it
is present, the memory torch allocated always.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from cliplens.core.metrics import LATENCY_BUCKETS

log = logging.getLogger(__name__)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
MODEL_LABELS = ["model", "fingerprint"]
GPU_LABELS = ["device", "UUID"]

BATCH_SIZE = Histogram(
    "cliplens_embedding_batch_size", "Rows per forward pass.", MODEL_LABELS,
    buckets=BATCH_BUCKETS)
QUEUE_SECONDS = Histogram(
    "cliplens_embedding_queue_seconds", "Time a request waited for its batch.", MODEL_LABELS,
    buckets=LATENCY_BUCKETS)
INFERENCE_SECONDS = Histogram(
    "cliplens_embedding_inference_seconds", "Forward pass time per batch.",
    [*MODEL_LABELS, "op"], buckets=LATENCY_BUCKETS)
QUEUE_DEPTH = Gauge(
    "cliplens_embedding_queue_depth", "Requests waiting for a batch.", MODEL_LABELS)
REJECTED = Counter(
    "cliplens_embedding_rejected", "Requests refused or dropped before compute.", ["reason"])
MODELS_LOADED = Gauge("cliplens_embedding_models_loaded", "Models loaded and warmed up.")
MODEL_LOAD_SECONDS = Gauge(
    "cliplens_embedding_model_load_seconds", "Time to load and warm up a model.",
    MODEL_LABELS)
GPU_MEMORY_ALLOCATED = Gauge(
    "cliplens_embedding_gpu_memory_allocated_bytes",
    "GPU memory this process's torch tensors occupy.", GPU_LABELS)
GPU_MEMORY_USED = Gauge(
    "cliplens_embedding_gpu_memory_used_bytes",
    "GPU memory in use on the device, by every process (NVML).", GPU_LABELS)
GPU_MEMORY_TOTAL = Gauge(
    "cliplens_embedding_gpu_memory_total_bytes", "GPU memory of the device (NVML).",
    GPU_LABELS)
GPU_UTILIZATION = Gauge(
    "cliplens_embedding_gpu_utilization_ratio",
    "Share of the last sample period the device was busy, 0..1 (NVML).", GPU_LABELS)


def load_nvml() -> Any | None:
    """The initialised `pynvml` module (nvidia-ml-py), or None without it or a driver."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception as e:  # noqa: BLE001 - ImportError, or NVMLError without a driver
        log.info("NVML unavailable (%s): exporting torch's allocated GPU memory only", e)
        return None
    return pynvml


def device_uuid(cuda: Any, index: int) -> str:
    """The UUID of CUDA device `index` as NVML and DCGM write it ("GPU-..."), or ""."""
    try:
        raw = str(cuda.get_device_properties(index).uuid)
    except Exception as e:  # noqa: BLE001 - old drivers and non-NVIDIA builds lack it
        log.warning("no UUID for cuda:%d: %s", index, e)
        return ""
    return raw if raw.startswith(("GPU-", "MIG-")) else f"GPU-{raw}"


def _guarded(read: Callable[[], float]) -> Callable[[], float]:
    """`read`, answering NaN instead of raising: a failing NVML call must not fail the scrape."""
    def value() -> float:
        try:
            return float(read())
        except Exception:  # noqa: BLE001 - a GPU reset or driver hiccup at scrape time
            return math.nan
    return value


def watch_gpus(cuda: Any = None, nvml: Any = None) -> list[str]:
    """Export memory and utilization of every visible CUDA device (read at scrape time).

    `cuda` is `torch.cuda` and `nvml` the module `load_nvml` returns (tests pass fakes).
    Devices are matched to NVML by UUID, not by index: CUDA_VISIBLE_DEVICES renumbers them.
    Returns the devices watched ("cuda:0", ...).
    """
    if cuda is None:
        import torch

        cuda = torch.cuda
    if not cuda.is_available():
        return []
    if nvml is None:
        nvml = load_nvml()
    devices = []
    for index in range(cuda.device_count()):
        name = f"cuda:{index}"
        uuid = device_uuid(cuda, index)
        labels = (name, uuid)
        GPU_MEMORY_ALLOCATED.labels(*labels).set_function(
            _guarded(lambda i=index: cuda.memory_allocated(i)))
        handle = None
        if nvml is not None and uuid:
            try:
                handle = nvml.nvmlDeviceGetHandleByUUID(uuid)
            except Exception as e:  # noqa: BLE001 - memory allocated is still exported
                log.warning("NVML does not know %s (%s): %s", name, uuid, e)
        if handle is not None:
            GPU_MEMORY_USED.labels(*labels).set_function(
                _guarded(lambda h=handle: nvml.nvmlDeviceGetMemoryInfo(h).used))
            GPU_MEMORY_TOTAL.labels(*labels).set_function(
                _guarded(lambda h=handle: nvml.nvmlDeviceGetMemoryInfo(h).total))
            GPU_UTILIZATION.labels(*labels).set_function(
                _guarded(lambda h=handle: nvml.nvmlDeviceGetUtilizationRates(h).gpu / 100.0))
        devices.append(name)
    return devices
