"""GPU metrics: labelled by device UUID, memory used/total and utilization from NVML.

No GPU on the test machines: `torch.cuda` and NVML are replaced by small fakes with the same
calls (nvidia-ml-py's names), so the labelling and the fallbacks are what is tested here.
"""

import math
import sys
import types
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY, generate_latest

from cliplens.embedding import metrics


class NVMLError(Exception):
    pass


class FakeCuda:
    """torch.cuda as watch_gpus uses it: UUIDs without NVML's "GPU-" prefix, as torch gives."""

    def __init__(self, uuids, allocated=None):
        self.uuids = uuids
        self.allocated = allocated or {}

    def is_available(self):
        return bool(self.uuids)

    def device_count(self):
        return len(self.uuids)

    def get_device_properties(self, index):
        return SimpleNamespace(uuid=self.uuids[index], name="Fake GPU")

    def memory_allocated(self, index):
        return self.allocated.get(index, 0)


class FakeNvml:
    """NVML's device calls over a table UUID -> (used bytes, total bytes, utilization %)."""

    def __init__(self, devices):
        self.devices = devices
        self.broken = False

    def nvmlDeviceGetHandleByUUID(self, uuid):
        if uuid not in self.devices:
            raise NVMLError("Not Found")
        return uuid

    def nvmlDeviceGetMemoryInfo(self, handle):
        if self.broken:
            raise NVMLError("GPU is lost")
        used, total, _ = self.devices[handle]
        return SimpleNamespace(used=used, total=total, free=total - used)

    def nvmlDeviceGetUtilizationRates(self, handle):
        return SimpleNamespace(gpu=self.devices[handle][2], memory=0)


def sample(name, device, uuid):
    return REGISTRY.get_sample_value(name, {"device": device, "UUID": uuid})


def test_devices_are_matched_to_nvml_by_uuid_not_by_index():
    # CUDA_VISIBLE_DEVICES=2,0: torch's cuda:0 is NVML's third device, cuda:1 its first.
    nvml = FakeNvml({"GPU-aaaa-0": (1 << 30, 80 << 30, 10),
                     "GPU-aaaa-1": (2 << 30, 80 << 30, 20),
                     "GPU-aaaa-2": (3 << 30, 141 << 30, 75)})
    cuda = FakeCuda(["aaaa-2", "aaaa-0"], allocated={0: 123, 1: 456})
    assert metrics.watch_gpus(cuda, nvml) == ["cuda:0", "cuda:1"]
    used = "cliplens_embedding_gpu_memory_used_bytes"
    total = "cliplens_embedding_gpu_memory_total_bytes"
    assert sample(used, "cuda:0", "GPU-aaaa-2") == 3 << 30
    assert sample(total, "cuda:0", "GPU-aaaa-2") == 141 << 30
    assert sample(used, "cuda:1", "GPU-aaaa-0") == 1 << 30
    assert sample("cliplens_embedding_gpu_utilization_ratio", "cuda:0", "GPU-aaaa-2") == 0.75
    assert sample("cliplens_embedding_gpu_memory_allocated_bytes", "cuda:1", "GPU-aaaa-0") == 456
    # Read at scrape time, not when watched.
    nvml.devices["GPU-aaaa-2"] = (5 << 30, 141 << 30, 75)
    assert sample(used, "cuda:0", "GPU-aaaa-2") == 5 << 30
    # A device NVML was never asked about has no series under a wrong UUID.
    assert sample(used, "cuda:0", "GPU-aaaa-0") is None


def test_a_failing_nvml_read_gives_nan_and_the_scrape_still_works():
    nvml = FakeNvml({"GPU-bbbb-0": (1, 2, 3)})
    metrics.watch_gpus(FakeCuda(["bbbb-0"]), nvml)
    nvml.broken = True
    text = generate_latest(REGISTRY).decode()
    assert 'cliplens_embedding_gpu_memory_used_bytes{UUID="GPU-bbbb-0",device="cuda:0"} NaN' in (
        text)
    assert math.isnan(sample("cliplens_embedding_gpu_memory_total_bytes", "cuda:0", "GPU-bbbb-0"))


def test_without_nvml_only_torch_memory_is_exported(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # nvidia-ml-py not installed
    assert metrics.load_nvml() is None
    assert metrics.watch_gpus(FakeCuda(["cccc-0"], allocated={0: 789})) == ["cuda:0"]
    assert sample("cliplens_embedding_gpu_memory_allocated_bytes", "cuda:0", "GPU-cccc-0") == 789
    for name in ("used_bytes", "total_bytes"):
        assert sample(f"cliplens_embedding_gpu_memory_{name}", "cuda:0", "GPU-cccc-0") is None
    assert sample("cliplens_embedding_gpu_utilization_ratio", "cuda:0", "GPU-cccc-0") is None


def test_nvml_without_a_driver_counts_as_absent(monkeypatch):
    module = types.ModuleType("pynvml")

    def init():
        raise NVMLError("Driver Not Loaded")

    module.nvmlInit = init
    monkeypatch.setitem(sys.modules, "pynvml", module)
    assert metrics.load_nvml() is None
    module.nvmlInit = lambda: None
    assert metrics.load_nvml() is module


def test_a_device_nvml_does_not_know_keeps_its_torch_memory():
    nvml = FakeNvml({"GPU-dddd-1": (1, 2, 3)})
    assert metrics.watch_gpus(FakeCuda(["dddd-0", "dddd-1"]), nvml) == ["cuda:0", "cuda:1"]
    assert sample("cliplens_embedding_gpu_memory_allocated_bytes", "cuda:0", "GPU-dddd-0") == 0
    assert sample("cliplens_embedding_gpu_memory_used_bytes", "cuda:0", "GPU-dddd-0") is None
    assert sample("cliplens_embedding_gpu_memory_used_bytes", "cuda:1", "GPU-dddd-1") == 1


@pytest.mark.parametrize("raw, expected", [
    ("58c5b4f6-1f6a-4b1e-9a4e-000000000000", "GPU-58c5b4f6-1f6a-4b1e-9a4e-000000000000"),
    ("GPU-58c5b4f6-1f6a-4b1e-9a4e-000000000000", "GPU-58c5b4f6-1f6a-4b1e-9a4e-000000000000"),
    ("MIG-0b4e1f2a-0000-0000-0000-000000000000", "MIG-0b4e1f2a-0000-0000-0000-000000000000"),
])
def test_uuids_are_written_as_nvml_and_dcgm_write_them(raw, expected):
    assert metrics.device_uuid(FakeCuda([raw]), 0) == expected


def test_no_cuda_exports_nothing():
    assert metrics.watch_gpus(FakeCuda([]), FakeNvml({})) == []


def test_the_real_torch_without_a_gpu_watches_nothing():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert metrics.watch_gpus() == []
