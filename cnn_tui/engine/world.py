"""The process's place in a data-parallel run, and the few collectives the engine needs.

`World()` is the single process: every collective is the identity, so the training loop has one
code path. Under torchrun (RANK/WORLD_SIZE in the environment) `join` starts torch.distributed:
NCCL on CUDA or gloo on CPU for the model's gradients (DistributedDataParallel), plus a small
gloo group for control flags and Python objects, so that agreeing on "stop"/"pause" each step
never waits on the GPU.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from cnn_tui.contract.errors import UsageError

LEAVE_TIMEOUT_S = 30  # the last barrier: a live rank is at most this late to finish its summary


def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ and "LOCAL_RANK" in os.environ


@dataclass
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0
    backend: str | None = None  # None: not distributed
    control_group: Any = None  # gloo group for flags and objects

    @property
    def distributed(self) -> bool:
        return self.backend is not None

    @property
    def writes(self) -> bool:
        """Rank 0 alone writes the run directory and emits events."""
        return self.rank == 0

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """What a training step calls: the model itself, or DistributedDataParallel around it (its
        backward pass averages the gradients over the ranks)."""
        if not self.distributed:
            return model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    # ------------------------------------------------------------ collectives (identity when single)
    def sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum over ranks, in place (loss and hit counts, confusion counts)."""
        if self.distributed:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def agree(self, *flags: bool) -> tuple[bool, ...]:
        """Each flag set on any rank is set on all (stop from a signal, pause from rank 0's dashboard):
        one tiny CPU all-reduce."""
        if not self.distributed:
            return flags
        agreed = torch.tensor([int(f) for f in flags], dtype=torch.int32)
        dist.all_reduce(agreed, op=dist.ReduceOp.MAX, group=self.control_group)
        return tuple(bool(f) for f in agreed.tolist())

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's object on every rank (the run directory, a resumed checkpoint)."""
        if not self.distributed:
            return obj
        box = [obj if self.rank == 0 else None]
        dist.broadcast_object_list(box, src=0, group=self.control_group)
        return box[0]

    def gather(self, obj: Any) -> list[Any]:
        """Every rank's object, in rank order, on every rank (per-rank RNG states for a checkpoint)."""
        if not self.distributed:
            return [obj]
        out: list[Any] = [None] * self.size
        dist.all_gather_object(out, obj, group=self.control_group)
        return out

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier(group=self.control_group)

    def why_failed(self, exc: Exception) -> str:
        """A crash in words; in a data-parallel run a broken collective means another rank stopped."""
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        said = f"{type(exc).__name__}: {first}"
        communication = isinstance(exc, dist.DistError) or any(w in first for w in ("gloo", "NCCL", "Connection"))
        if self.distributed and communication:
            return f"another rank stopped answering ({said[:160]}); its log is in logs/ of the run directory"
        return f"{type(exc).__name__}: {exc}"

    def leave(self) -> None:
        """Every rank waits for the others before the process group goes: a rank that tore its
        communication threads down while another still used them was seen to abort at exit."""
        if not (self.distributed and dist.is_initialized()):
            return
        try:
            dist.monitored_barrier(group=self.control_group, timeout=datetime.timedelta(seconds=LEAVE_TIMEOUT_S))
        except Exception:  # a rank that died: nothing to wait for
            pass
        dist.destroy_process_group()


def join(backend: str, device: torch.device, timeout_s: int) -> tuple[World, torch.device]:
    """Join the torchrun job this process belongs to; returns the world and this rank's device."""
    rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ["LOCAL_RANK"])
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise UsageError(f"train.distributed: local rank {local_rank} has no GPU "
                             f"({torch.cuda.device_count()} visible); use at most that many processes per node")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    chosen = ("nccl" if device.type == "cuda" else "gloo") if backend == "auto" else backend
    if chosen == "nccl" and device.type != "cuda":
        raise UsageError(f"train.distributed.backend: 'nccl' needs CUDA, and this run is on {device.type}; "
                         "use 'gloo' or 'auto'")
    timeout = datetime.timedelta(seconds=timeout_s)
    if not dist.is_initialized():
        dist.init_process_group(chosen, rank=rank, world_size=size, timeout=timeout,
                                device_id=device if chosen == "nccl" else None)
    control = dist.new_group(backend="gloo", timeout=timeout) if chosen != "gloo" else None
    return World(rank, size, local_rank, chosen, control), device


def join_if_launched(recipe: Any, device: torch.device) -> tuple[World, torch.device]:
    """The single process, unless torchrun started this one (then: join its job, as the recipe says)."""
    if not launched_by_torchrun():
        return World(), device
    settings = getattr(getattr(recipe, "train", None), "distributed", None)
    if settings is None:
        raise UsageError(f"{recipe.kind}: runs on one process; start it without torchrun or --nproc")
    return join(settings.backend, device, settings.timeout_s)
