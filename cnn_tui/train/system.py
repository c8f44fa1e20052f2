"""What the machine does for a run, sampled in the training process: its CPU and memory (the data
loader's worker processes included), the GPU's utilisation, memory and temperature, and the share
of the training loop's time spent waiting for its next batch (against the time spent on its steps:
validation and checkpoints count as neither). The loop says when it asks for a batch and when it
has it; `sample` turns that into a `System` event at most every `every_s` seconds, so a user sees at a glance
whether a run is input-bound. psutil reads the processes, NVML (nvidia-ml-py) the GPU; without
NVML, torch's own memory counters stand in and utilisation stays unknown.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any, TypeVar

import psutil
import torch

from cnn_tui.contract.events import System

MB = 2**20
T = TypeVar("T")


class SystemSampler:
    def __init__(self, device: torch.device, every_s: float) -> None:
        self.device, self.every_s = device, every_s
        self.process = psutil.Process()
        self._cpu: dict[int, psutil.Process] = {}  # pid -> process, primed for cpu_percent
        self._cpu_percent()  # the first reading only sets the baseline
        self.waiting = 0.0  # seconds waited for batches since the last sample
        self.working = 0.0  # seconds of training steps (between receiving a batch and asking for the next)
        self.since = time.perf_counter()
        self._asked = self._got = 0.0
        self._in_epoch = False
        self.gpu = _Nvml.open(device)

    def asking(self) -> None:
        now = time.perf_counter()
        if self._in_epoch:
            self.working += now - self._got
        self._asked = now

    def got(self) -> None:
        self._got = time.perf_counter()
        self.waiting += self._got - self._asked
        self._in_epoch = True

    def epoch_ended(self) -> None:
        """What follows (validation, checkpoints) is neither waiting nor a training step."""
        self._in_epoch = False

    def due(self) -> bool:
        return self.every_s > 0 and time.perf_counter() - self.since >= self.every_s

    def timed(self, batches: Iterator[T]) -> Iterator[T]:
        """`batches`, with each wait for the next one timed (the data-wait share)."""
        while True:
            self.asking()
            batch = next(batches, None)
            if batch is None:
                self.epoch_ended()
                return
            self.got()
            yield batch

    def sample_if_due(self, step: int, epoch: int) -> System | None:
        return self.sample(step, epoch) if self.due() else None

    def state_dict(self) -> dict[str, Any]:
        """Nothing to resume: a resumed run samples afresh (the part is in the checkpoint all the same)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def sample(self, step: int, epoch: int) -> System:
        now = time.perf_counter()
        share = self.waiting / max(self.waiting + self.working, 1e-9)
        self.waiting = self.working = 0.0
        self.since = now
        cpu, rss, workers = self._cpu_percent()
        return System(step=step, epoch=epoch, cpu_percent=round(cpu, 1), cpu_cores=os.cpu_count() or 1,
                      rss_mb=round(rss / MB, 1), workers=workers, data_wait=round(share, 4), **self._gpu())

    def _cpu_percent(self) -> tuple[float, float, int]:
        """(CPU % of one core, resident bytes, workers) of this process and its children."""
        try:
            children = self.process.children(recursive=True)
        except psutil.Error:
            children = []
        alive = {p.pid: self._cpu.get(p.pid, p) for p in [self.process, *children]}
        self._cpu = alive
        cpu = rss = 0.0
        for proc in alive.values():
            try:
                cpu += proc.cpu_percent(None)  # since this process's previous call (0.0 on the first)
                rss += proc.memory_info().rss
            except psutil.Error:  # a worker that ended between the listing and the reading
                continue
        return cpu, rss, len(alive) - 1

    def _gpu(self) -> dict[str, Any]:
        if self.device.type != "cuda":
            return {}
        if self.gpu is not None:
            return self.gpu.read()
        free, total = torch.cuda.mem_get_info(self.device)
        return {"gpu_name": torch.cuda.get_device_name(self.device), "gpu_mem_mb": round((total - free) / MB, 1),
                "gpu_mem_total_mb": round(total / MB, 1)}


class _Nvml:
    """The device's NVML handle; None where NVML is missing or finds no driver."""

    def __init__(self, nvml: Any, handle: Any) -> None:
        self.nvml, self.handle = nvml, handle
        self.name = nvml.nvmlDeviceGetName(handle)

    @classmethod
    def open(cls, device: torch.device) -> _Nvml | None:
        if device.type != "cuda":
            return None
        try:
            import pynvml

            pynvml.nvmlInit()
            index = device.index if device.index is not None else torch.cuda.current_device()
            uuid = str(torch.cuda.get_device_properties(index).uuid)  # NVML's order need not be torch's
            try:
                handle = pynvml.nvmlDeviceGetHandleByUUID(f"GPU-{uuid}")
            except pynvml.NVMLError:
                handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            return cls(pynvml, handle)
        except Exception:  # no package, no driver, no permission: torch's counters stand in
            return None

    def read(self) -> dict[str, Any]:
        nvml, handle = self.nvml, self.handle
        try:
            util = nvml.nvmlDeviceGetUtilizationRates(handle)
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            temp = nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)
        except Exception:
            return {"gpu_name": self.name}
        return {"gpu_name": self.name, "gpu_util": float(util.gpu), "gpu_mem_mb": round(memory.used / MB, 1),
                "gpu_mem_total_mb": round(memory.total / MB, 1), "gpu_temp_c": float(temp)}
