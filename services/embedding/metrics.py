"""Prometheus metrics of the embedding service (names are the dashboard's contract)."""

from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge, Histogram

from cliplens.core.metrics import LATENCY_BUCKETS

log = logging.getLogger(__name__)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

BATCH_SIZE = Histogram(
    "cliplens_embedding_batch_size", "Rows per forward pass.", ["model"], buckets=BATCH_BUCKETS)
QUEUE_SECONDS = Histogram(
    "cliplens_embedding_queue_seconds", "Time a request waited for its batch.", ["model"],
    buckets=LATENCY_BUCKETS)
INFERENCE_SECONDS = Histogram(
    "cliplens_embedding_inference_seconds", "Forward pass time per batch.", ["model", "op"],
    buckets=LATENCY_BUCKETS)
QUEUE_DEPTH = Gauge(
    "cliplens_embedding_queue_depth", "Requests waiting for a batch.", ["model"])
REJECTED = Counter(
    "cliplens_embedding_rejected", "Requests refused or dropped before compute.", ["reason"])
MODELS_LOADED = Gauge("cliplens_embedding_models_loaded", "Models loaded and warmed up.")
MODEL_LOAD_SECONDS = Gauge(
    "cliplens_embedding_model_load_seconds", "Time to load and warm up a model.", ["model"])
GPU_MEMORY = Gauge(
    "cliplens_embedding_gpu_memory_bytes", "GPU memory allocated by torch.", ["device"])
GPU_UTILIZATION = Gauge(
    "cliplens_embedding_gpu_utilization_ratio", "GPU utilization (0..1).", ["device"])


def watch_gpus() -> list[str]:
    """Export memory and utilization of every CUDA device (read at scrape time)."""
    import torch

    if not torch.cuda.is_available():
        return []
    devices = []
    for index in range(torch.cuda.device_count()):
        name = f"cuda:{index}"
        GPU_MEMORY.labels(name).set_function(
            lambda i=index: float(torch.cuda.memory_allocated(i)))
        try:
            torch.cuda.utilization(index)
        except Exception as e:  # noqa: BLE001 - needs NVML; memory is still exported
            log.warning("GPU utilization of %s unavailable: %s", name, e)
        else:
            GPU_UTILIZATION.labels(name).set_function(
                lambda i=index: torch.cuda.utilization(i) / 100.0)
        devices.append(name)
    return devices
