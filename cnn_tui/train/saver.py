"""Saving a classification run's checkpoints (best.pt, last.pt), one dict keyed by part name:

    format      2 (train/checkpoint_format.py reads format 1 and older into this layout)
    model       the weights (what `predict`, `export` and `backbone.weights` read)
    inference   what `predict` needs besides the weights (class names, image size, mean/std)
    position    Totals: epoch, batch, step, the epochs' metrics, the wall seconds so far
    phases      Phases: the phase, its optimizer, loss scaler and schedule
    best        BestKeeper: the best.pt and early-stopping monitors, the weights to restore
    health      Health: the diagnoser's memory (which findings fired, streaks)
    system      SystemSampler: nothing (sampling starts afresh); absent where system sampling is off
    streams     how the recipe's seed was split into random streams (data/streams.py)
    ranks       what each process holds of its own: its random state (dropout) and running sums
    world_size  how many processes trained

In a data-parallel run the model and optimizer are the same on every rank (rank 0 saves them); the
`ranks` entries are gathered from every rank, so every rank must call `save` at the same step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import torch

from cnn_tui.contract.events import CheckpointSaved, Event
from cnn_tui.engine.world import World
from cnn_tui.train.checkpoint import save_checkpoint
from cnn_tui.train.totals import Totals


class Part(Protocol):
    """A piece of the loop that owns its state: its entry in the checkpoint, under its name."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def rank_state(device: torch.device, totals: Totals) -> dict[str, Any]:
    """What is this process's own: its global random state (dropout) and its running sums."""
    state = {"rng_cpu": torch.get_rng_state(), **totals.rank_state()}
    if device.type == "cuda":
        state["rng_cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_ranks(ranks: list[dict[str, Any]], world: World, device: torch.device, totals: Totals) -> str:
    """Put back this process's own state; resumed on another number of processes, what cannot be
    exact is said (the returned note; "" where the resume is exact)."""
    totals.load_rank_states(ranks, world)
    if len(ranks) != world.size:
        return (f"resumed on {world.size} process(es); the run trained on {len(ranks)}: the same steps and "
                "batches go on, but each process's random stream (dropout) starts afresh, so the result is not "
                "bit for bit what an uninterrupted run would give")
    own = ranks[world.rank]
    torch.set_rng_state(own["rng_cpu"])
    if "rng_cuda" in own and device.type == "cuda":
        torch.cuda.set_rng_state(own["rng_cuda"], device)
    return ""


class Checkpoints:
    def __init__(self, folder: Path | None, world: World, emit: Callable[[Event], None]) -> None:
        self.folder, self.world, self.emit = folder, world, emit

    def save(self, name: str, state: Callable[[list[dict[str, Any]] | None], dict[str, Any]],
             rank_state: Callable[[], dict[str, Any]], step: int, epoch: int, reason: str | None = None) -> None:
        """`folder/name.pt` from `state(ranks)`, `ranks` every rank's `rank_state()` in a data-parallel run."""
        ranks = self.world.gather(rank_state()) if self.world.distributed else None  # every rank meets here
        if self.folder is None:
            return
        path = self.folder / f"{name}.pt"
        save_checkpoint(path, state(ranks))
        self.emit(CheckpointSaved(path=str(path), step=step, epoch=epoch, reason=reason or name))
