"""What a checkpoint holds of a training run, and putting it back: everything `--resume` needs to
continue exactly (position, optimizer, schedule, monitors, running sums, RNG streams).

In a data-parallel run the model and optimizer are the same on every rank (rank 0 saves them);
the RNG streams and running sums are each rank's own, gathered into `ranks` and handed back by rank.
Resumed on another number of processes, the steps and batches are the same (train.batch_size is
the global batch), the epoch's running sums go to rank 0, and the per-process random streams
(dropout) start afresh: the run goes on correctly, but not bit for bit as it would have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from cnn_tui.train.trainer import Trainer

FORMAT = 1


def rank_state(t: Trainer) -> dict[str, Any]:
    """What differs between ranks: their RNG streams (dropout) and their running sums."""
    state = {"rng_cpu": torch.get_rng_state(),
             "sums": {k: v.detach().cpu() for k, v in t.sums.items()},
             "window": {k: v.detach().cpu() for k, v in t.window.items()}}
    if t.device.type == "cuda":
        state["rng_cuda"] = torch.cuda.get_rng_state(t.device)
    return state


def trainer_state(t: Trainer) -> dict[str, Any]:
    state = {
        "format": FORMAT,
        "model": t.model.state_dict(),
        "optimizer": t.optimizer.state_dict(),
        "scaler": t.scaler.state_dict(),
        "schedule": t.schedule.state_dict(),
        "best": t.best.state_dict(),
        "early": t.early.state_dict() if t.early else None,
        "diagnoser": t.diagnoser.state_dict(),
        "position": {"epoch": t.epoch, "batch": t.batch, "step": t.step},
        "phase": {"index": t.phase_index, "start_step": t.phase_start_step},
        "history": t.history,
        **rank_state(t),  # rank 0's, as a single process has always saved them
        "elapsed": t.clock.seconds,
        "inference": t.inference,
        "world_size": t.world.size,
    }
    if t.best_weights is not None:
        state["best_weights"] = t.best_weights
    return state


def restore_trainer(t: Trainer, state: dict[str, Any]) -> None:
    t.model.load_state_dict(state["model"])
    phase = state.get("phase", {"index": 0, "start_step": 0})
    t.step = state["position"]["step"]
    t._enter_phase(phase["index"], announce=False)  # the optimizer saved is this phase's
    t.phase_start_step = phase["start_step"]
    t.optimizer.load_state_dict(state["optimizer"])
    t.scaler.load_state_dict(state["scaler"])
    t.schedule.load_state_dict(state["schedule"])
    t.best.load_state_dict(state["best"])
    if t.early is not None and state.get("early"):
        t.early.load_state_dict(state["early"])
    t.diagnoser.load_state_dict(state["diagnoser"])
    pos = state["position"]
    t.epoch, t.batch, t.step = pos["epoch"], pos["batch"], pos["step"]
    t.history = [dict(h) for h in state["history"]]
    ranks = state.get("ranks") or [state]  # every rank's streams and sums (a single process: its own)
    if len(ranks) == t.world.size:
        own = ranks[t.world.rank]
        t.sums = {k: v.to(t.device) for k, v in own["sums"].items()}
        t.window = {k: v.to(t.device) for k, v in own["window"].items()}
        torch.set_rng_state(own["rng_cpu"])
        if "rng_cuda" in own and t.device.type == "cuda":
            torch.cuda.set_rng_state(own["rng_cuda"], t.device)
    else:
        t.resume_note = (f"resumed on {t.world.size} process(es); the run trained on {len(ranks)}: the same steps "
                         "and batches go on, but each process's random stream (dropout) starts afresh, so the "
                         "result is not bit for bit what an uninterrupted run would give")
        if t.world.rank == 0:  # the epoch's running sums, all of them, once
            t.sums = {k: sum(r["sums"][k] for r in ranks).to(t.device) for k in ranks[0]["sums"]}
            t.window = {k: sum(r["window"][k] for r in ranks).to(t.device) for k in ranks[0]["window"]}
    t.best_weights = state.get("best_weights")
    t.clock.earlier = state.get("elapsed", 0.0)
    t.lr = t.optimizer.param_groups[0]["lr"]
