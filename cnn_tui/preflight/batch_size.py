"""`--find-batch-size` (with `validate --estimate`): the largest power of two that fits the
device's memory with a margin, as Lightning's batch-size finder ("power" mode) does.

Device-generic: the search takes `used_at(batch)` (bytes a training step at that batch needs, or
None when it ran out of memory) and a limit in bytes. On CUDA `used_at` runs a real training step
(the recipe's model, optimizer and a real batch repeated to the size) and reads
torch.cuda.max_memory_allocated; the limit is the card's memory. Elsewhere (CPU, MPS) no
allocator reports a peak per step, so the bytes come from the estimate's model of memory (weights,
gradients, optimizer state, activations x 2, from the layer table) and the limit is the memory
the system has free. MEMORY_LIMIT_ENV (bytes) replaces the limit on any device: a fake limit for
tests, or a budget below the card's when it is shared.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cnn_tui.contract.errors import UsageError

MARGIN = 0.10  # keep a tenth of the memory free: fragmentation, the loader's pinned batches, cuDNN workspaces
MAX_BATCH = 4096
MEMORY_LIMIT_ENV = "CNN_TUI_MEMORY_LIMIT"


@dataclass
class BatchFit:
    batch: int
    used: int  # bytes at that batch
    limit: int  # the device's bytes (before the margin)
    tried: list[tuple[int, int | None]] = field(default_factory=list)  # (batch, bytes or None: out of memory)


def largest_fitting(used_at: Callable[[int], int | None], limit: int, most: int,
                    margin: float = MARGIN) -> BatchFit:
    """Doubling from 1 while a batch fits under limit x (1 - margin), up to `most`."""
    allowed = limit * (1 - margin)
    fit = BatchFit(0, 0, limit)
    batch = 1
    while batch <= most:
        used = used_at(batch)
        fit.tried.append((batch, used))
        if used is None or used > allowed:
            break
        fit.batch, fit.used = batch, used
        batch *= 2
    if not fit.batch:
        need = fit.tried[0][1]
        raise UsageError(f"--find-batch-size: even a batch of 1 does not fit: it needs "
                         f"{'more than' if need is None else f'{need / 2**20:.0f} MB of'} the "
                         f"{allowed / 2**20:.0f} MB allowed ({limit / 2**20:.0f} MB less a {margin:.0%} margin)")
    return fit


def memory_limit(device: Any) -> int:
    """The device's bytes: MEMORY_LIMIT_ENV if set, else the card's (CUDA) or the system's free memory."""
    raw = os.environ.get(MEMORY_LIMIT_ENV)
    if raw is not None:
        try:
            value = int(float(raw))
        except ValueError:
            value = 0
        if value <= 0:
            raise UsageError(f"{MEMORY_LIMIT_ENV}={raw!r}: a memory limit in bytes is a positive number, "
                             "e.g. 8e9")
        return value
    if device.type == "cuda":
        import torch

        return int(torch.cuda.mem_get_info(device)[1])
    return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def find_for_recipe(recipe: Any, device: Any) -> BatchFit:
    """The search for a recipe's first phase (its model, optimizer and data, as a run builds them)."""
    from cnn_tui.preflight.session import Session

    session = Session(recipe, device)
    optimizer = session.phase(0).optimizer
    if optimizer is None:
        raise UsageError("--find-batch-size: nothing trains in the recipe's first phase (0 trainable parameters)")
    return find_batch_size(session, device, optimizer)


def find_batch_size(session: Any, device: Any, optimizer: Any) -> BatchFit:
    """The search on a preflight Session (its weights are put back afterwards)."""
    import torch

    plan = session.prepared.plan
    trainable = sum(p.numel() for p in session.model.parameters() if p.requires_grad)
    state = plan.total_params * 4 + trainable * 4 * 3  # as the estimate counts it (Adam's two copies)
    per_image = sum(row.get("act_bytes", 0) for row in plan.layers) * 2
    most = min(MAX_BATCH, max(1, session.num_train))
    if device.type != "cuda":
        return largest_fitting(lambda b: state + per_image * b, memory_limit(device), most)
    snapshot = session.snapshot()

    def reset() -> None:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)

    def peak() -> int:
        torch.cuda.synchronize(device)
        return int(torch.cuda.max_memory_allocated(device))

    try:
        return largest_fitting(step_probe(session, optimizer, reset, peak), memory_limit(device), most)
    finally:
        session.restore(snapshot)
        torch.cuda.empty_cache()


def step_probe(session: Any, optimizer: Any, reset: Callable[[], None],
               peak: Callable[[], int]) -> Callable[[int], int | None]:
    """`used_at` for `largest_fitting` from real training steps: one step at each batch size (a real
    batch repeated to it); the bytes are `peak()` after it (reset before), None when the step ran out
    of memory (torch.OutOfMemoryError, which CUDA's allocator raises; the optimizer's gradients are
    dropped either way). The device's allocator only enters through `reset`/`peak` and the error, so
    the search is tested on the CPU with a step that raises it."""
    import torch

    x, y = next(session.batches())
    criterion = torch.nn.CrossEntropyLoss()

    def used_at(batch: int) -> int | None:
        index = torch.arange(batch, device=x.device) % len(y)
        reset()
        try:
            session.step(optimizer, criterion, x[index], y[index])
            return peak()
        except torch.OutOfMemoryError:
            return None
        finally:
            optimizer.zero_grad(set_to_none=True)

    return used_at


def format_fit(fit: BatchFit, recipe_batch: int, device: str = "cuda") -> str:
    mb = 2**20
    how = "" if device == "cuda" else (f" on {device}: the bytes from the memory model, not measured (only CUDA's "
                                       "allocator reports a step's peak; on a CUDA device each size runs a real "
                                       "training step);")
    tried = ", ".join(f"{b}: {'out of memory' if u is None else f'{u / mb:.0f} MB'}" for b, u in fit.tried)
    if fit.tried and fit.tried[-1][0] == fit.batch:  # the last size tried fitted: the split or MAX_BATCH ended it
        how += (f" (capped by the training split's size or {MAX_BATCH}, not by memory: the next power of two is "
                "more images than it has)")
    return (f"batch size: {fit.batch} fits{how} ({fit.used / mb:.0f} MB of {fit.limit / mb:.0f} MB, keeping "
            f"{MARGIN:.0%} free; the recipe has {recipe_batch}; tried {tried}); "
            f"--set train.batch_size={fit.batch} uses it (scale the lr with it)")
