"""glibc's malloc, told to keep the memory a step frees for the next step (Linux, CPU runs).

torch's CPU tensors come from the C library's malloc. glibc serves a block over its mmap threshold
(adaptive, up to 32 MB) from a fresh mapping, and gives the top of its heap back to the kernel once
more than its trim threshold (twice the mmap threshold) is free there. A loop that allocates and
frees the same few megabytes of activations at every step therefore gets them back as new pages,
each zeroed by the kernel on first touch: a page fault per 4 kB. Measured on this 2-core VM
(2026-12-07, `cnn-tui run style_transfer_mosaic`, Lite0 at 256 px): 7,000-9,000 minor faults per
L-BFGS step, at about 2.6 us each (a run with the trim threshold alone set, which pins the mmap
threshold at 128 kB, faulted 85,000 times a step and took 312 ms a step instead of ~90), so ~20 ms
of a ~90 ms step. With the thresholds below: under 400 faults a step.

The price is memory the process keeps after a step has freed it, up to TRIM_THRESHOLD above what
the step needs, held until the run ends (a 100-step style run: peak RSS 993 -> 1,022 MB, wall
14.7 -> 13.1 s; a 3-epoch `scratch_cnn` run: +30-40 MB, its training part unchanged, ~1,000 faults
an epoch either way, but the end of each epoch, validation at batch 256 with the views' pictures
and the checkpoints, 39,000-44,000 faults -> 3,500-4,200). So it is applied to the runs whose
process is the training's alone: style transfer and classification on the CPU, except a streamed
data set (its decode workers inherit the setting, and a stream runs under a memory budget). It is
per process and stays: each data-parallel rank keeps its own, and `cnn-tui compare`, which runs its
recipes in one process, keeps it for a streamed recipe after an in-memory one (as do test
processes that run recipes in-process). A user's own MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_,
MALLOC_TOP_PAD_ or MALLOC_MMAP_MAX_, or any glibc.malloc tunable in GLIBC_TUNABLES, wins (glibc has
applied it already); elsewhere (not glibc: macOS, musl, Windows) nothing is done.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Mapping

M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # blocks up to this size come from the heap (older glibc refuses more: HEAP_MAX_SIZE / 2)
TRIM_THRESHOLD = 256 << 20  # free memory kept at the heap's top before any is given back
USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


def keep_freed_memory(env: Mapping[str, str] = os.environ) -> bool:
    """Raise glibc's mmap and trim thresholds for this process; True if they were set."""
    if not sys.platform.startswith("linux") or any(name in env for name in USER_SETTINGS):
        return False
    if "glibc.malloc." in env.get("GLIBC_TUNABLES", ""):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # mallopt answers 1 where it took the value. The trim threshold only after the mmap one: setting
    # either ends glibc's adaptive mmap threshold, and a trim threshold alone would leave it at 128 kB,
    # the worst case above.
    if mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) != 1:
        return False
    return bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1)
