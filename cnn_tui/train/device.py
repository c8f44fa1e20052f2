"""Pick the device (cuda, then mps, then cpu), and the mixed-precision and memory-format settings for it.

The mixed-precision and channels-last code is device-generic (torch's autocast and GradScaler take
the device type): the normal test suite runs it on the CPU, so the CUDA tests add only the device."""

from __future__ import annotations

import contextlib
import os
import platform

import torch

from cnn_tui.contract.errors import UsageError


def pick_device(preference: str) -> torch.device:
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps and mps.is_available())
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if has_mps else torch.device("cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise UsageError("device: 'cuda' was asked for but no CUDA GPU is visible; use --device cpu or auto")
    if preference == "mps" and not has_mps:
        raise UsageError("device: 'mps' was asked for but Apple MPS is not available; use --device cpu or auto")
    return torch.device(preference)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple MPS"
    cpu = platform.processor() or platform.machine() or "CPU"
    # a spin-wait set (by the user, or by cnn-tui because other processes were busy at start) is said
    spin = f", OpenMP spin-wait {spin_count}" if (spin_count := os.environ.get("GOMP_SPINCOUNT")) else ""
    return f"CPU {cpu} ({torch.get_num_threads()} threads of {os.cpu_count()}{spin})"


CHANNELS_LAST_DEVICES = ("cuda",)  # where it pays (cuDNN's NHWC kernels); small CPU convs run slower in it


def amp_dtype(device: torch.device, setting: str) -> torch.dtype | None:
    """`auto`: mixed precision on CUDA, bf16 where supported (no loss scaling), else fp16 (GradScaler).
    `bf16`/`fp16` asked for by name: on CUDA and on the CPU alike (slower there than fp32 on most
    CPUs, but the same code as on a GPU). MPS trains in full precision."""
    if setting == "off" or device.type not in ("cuda", "cpu"):
        return None
    if device.type == "cpu":
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(setting)
    if setting == "bf16" or (setting == "auto" and torch.cuda.is_bf16_supported()):
        return torch.bfloat16
    return torch.float16


def uses_channels_last(device: torch.device, asked: bool) -> bool:
    """`train.channels_last` on a device where the format pays (CHANNELS_LAST_DEVICES)."""
    return asked and device.type in CHANNELS_LAST_DEVICES


def autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager[object]:
    """Mixed precision in `dtype` on the device's own autocast; nothing for None (full precision)."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def memory_in_use(device: torch.device) -> int:
    """Bytes allocated on the accelerator, or the process's resident memory on CPU."""
    if device.type == "cuda":
        return int(torch.cuda.memory_allocated(device))
    if device.type == "mps":
        return int(torch.mps.current_allocated_memory())
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
