"""Where a run is and what it has measured: the epoch, the batch within it and the optimizer step;
each finished epoch's metrics; the wall clock across resumed segments; and the running sums of the
training loss and accuracy.

The sums stay on the device (float64, one add per step, no sync); they are read at logging ticks
(`window`, then reset) and at epoch ends (`epoch_sums`). In a data-parallel run each rank keeps its
own sums, summed over the ranks when read; they are saved per rank (`rank_state`)."""

from __future__ import annotations

from typing import Any

import torch

from cnn_tui.engine.world import World
from cnn_tui.train.wall_clock import WallClock

SUMS = ("loss", "correct", "count")


class Totals:
    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.epoch = 0  # epochs completed
        self.batch = 0  # next batch index within the current epoch
        self.step = 0  # optimizer steps taken
        self.history: list[dict[str, float]] = []  # each finished epoch's metrics
        self.clock = WallClock()
        self.sums = self._zeros()  # this epoch's
        self.window = self._zeros()  # since the last logging tick

    def _zeros(self) -> dict[str, torch.Tensor]:
        return {k: torch.zeros((), device=self.device, dtype=torch.float64) for k in SUMS}

    def add(self, loss: torch.Tensor, correct: torch.Tensor, count: float) -> None:
        """One step's summed loss and hits over `count` images (device tensors: no sync)."""
        for sums in (self.sums, self.window):
            sums["loss"] += loss
            sums["correct"] += correct
            sums["count"] += count

    def read_window(self, world: World) -> tuple[float, float]:
        """(mean loss, accuracy) since the last tick, over every rank; one sync. Starts a new window."""
        loss, correct, count = world.sum_(torch.stack(list(self.window.values()))).tolist()
        self.window = self._zeros()
        return loss / max(count, 1), correct / max(count, 1)

    def end_epoch(self, world: World, metrics: dict[str, float]) -> dict[str, float]:
        """The epoch's train/loss and train/acc (one sync) ahead of `metrics`; the epoch counts as done."""
        loss, correct, count = world.sum_(torch.stack(list(self.sums.values()))).tolist()
        metrics = {"train/loss": loss / max(count, 1), "train/acc": correct / max(count, 1), **metrics}
        self.epoch += 1
        self.batch = 0
        self.sums, self.window = self._zeros(), self._zeros()
        self.history.append(metrics)
        return metrics

    def metrics_of(self, epoch: int | None) -> dict[str, float]:
        """Epoch `epoch`'s metrics (counted from 1); {} for None or an epoch not in the history."""
        return dict(self.history[epoch - 1]) if epoch is not None and 0 < epoch <= len(self.history) else {}

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "batch": self.batch, "step": self.step, "history": self.history,
                "elapsed": self.clock.seconds}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.batch, self.step = state["epoch"], state["batch"], state["step"]
        self.history = [dict(h) for h in state["history"]]
        self.clock.earlier = state.get("elapsed", 0.0)

    def rank_state(self) -> dict[str, Any]:
        return {"sums": {k: v.detach().cpu() for k, v in self.sums.items()},
                "window": {k: v.detach().cpu() for k, v in self.window.items()}}

    def load_rank_states(self, ranks: list[dict[str, Any]], world: World) -> None:
        """This rank's own sums; resumed on another number of processes, rank 0 takes them all."""
        if len(ranks) == world.size:
            own = ranks[world.rank]
            self.sums = {k: v.to(self.device) for k, v in own["sums"].items()}
            self.window = {k: v.to(self.device) for k, v in own["window"].items()}
        elif world.rank == 0:  # the epoch's running sums, all of them, once
            self.sums = {k: sum(r["sums"][k] for r in ranks).to(self.device) for k in SUMS}
            self.window = {k: sum(r["window"][k] for r in ranks).to(self.device) for k in SUMS}
