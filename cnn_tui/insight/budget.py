"""When the costly views are drawn: a budget of a share of the training time.

Grad-CAM, the feature space, the top patches and activation maximisation cost about the same
seconds whatever the epoch's length: ~1-2 s on a CPU. Against a 50 s epoch that is nothing; against
the 6 s epoch of a small data set it is a fifth of the run. So instead of every epoch they are drawn
at an epoch only while their cumulative time stays within `share` of the cumulative training time
(the epochs' training parts), judged before the epoch's validation with the mean cost of the times
they were drawn. They are always drawn at the first epoch (nothing is known of their cost yet) and
at the last planned one (the run's final pictures), so on a long epoch they are drawn every epoch
and on a short one every few.

Pure bookkeeping (no torch): the views measure themselves and say it here; `state_dict` keeps the
sums in the checkpoint, so a resumed run keeps its cadence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

SHARE = 0.025  # of the training time: under the 3% that benchmark case 11 allows the views together


@dataclass
class ViewBudget:
    share: float = SHARE
    trained: float = 0.0  # seconds of training (the epochs' training parts) so far
    spent: float = 0.0  # seconds the budgeted views took so far
    drawn: int = 0  # epochs they were drawn at
    skipped: list[int] = field(default_factory=list)  # epochs (from 1) they were not
    costs: dict[str, float] = field(default_factory=dict)  # view -> its seconds so far
    forced: set[str] = field(default_factory=set)  # views the recipe set true: drawn every epoch, not counted

    def due(self, epoch: int, epochs: int, train_seconds: float) -> bool:
        """Whether the budgeted views are drawn at `epoch` (from 1) of `epochs`, whose training took
        `train_seconds`."""
        self.trained += max(train_seconds, 0.0)
        if epoch >= epochs or self.share >= 1:
            return True
        # never drawn yet: nothing spent and no cost known, so the first epoch is always drawn
        due = self.spent + self.mean_cost() <= self.share * self.trained
        if not due:
            self.skipped.append(epoch)
        return due

    def left(self) -> float:
        """Seconds the budgeted views may still take (0 when they are over it)."""
        return max(0.0, self.share * self.trained - self.spent)

    def mean_cost(self) -> float:
        return self.spent / self.drawn if self.drawn else 0.0

    def add(self, view: str, seconds: float) -> None:
        """`view` took `seconds` at this epoch (called for each view drawn; `close` counts the epoch); a
        forced view's seconds are said in the summary but not held against the others."""
        if view not in self.forced:
            self.spent += seconds
        self.costs[view] = self.costs.get(view, 0.0) + seconds

    def close(self) -> None:
        self.drawn += 1

    def cadence(self, epoch_seconds: float) -> int:
        """About every how many epochs of `epoch_seconds` training the views fit the budget."""
        if self.share <= 0 or epoch_seconds <= 0:
            return 0
        return max(1, math.ceil(self.mean_cost() / (self.share * epoch_seconds)))

    def why_skipped(self, epoch: int, epoch_seconds: float, names: list[str]) -> str:
        """The line that says why `epoch`'s views were not drawn."""
        every = self.cadence(epoch_seconds)
        often = f"every {_ordinal(every)} epoch" if every > 1 else "most epochs"
        if self.share <= 0:
            often = "the first epoch"
        return (f"{_listed(names)} not drawn at epoch {epoch}: {self.mean_cost():.1f} s a draw against "
                f"{epoch_seconds:.1f} s of training, so {often} and the last, under {self.share:.1%} of training "
                "time (views.budget)")

    def summary(self) -> dict[str, Any]:
        """For summary.json: what the views cost."""
        return {"budget": self.share, "drawn": self.drawn, "skipped": list(self.skipped),
                "seconds": {k: round(v, 3) for k, v in self.costs.items()}, "training_seconds": round(self.trained, 3),
                "share": round(self.spent / self.trained, 4) if self.trained else 0.0}

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        return {"trained": self.trained, "spent": self.spent, "drawn": self.drawn, "skipped": list(self.skipped),
                "costs": dict(self.costs), "forced": sorted(self.forced)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """`state` from `state_dict`; {} (a checkpoint from before the budget) starts afresh."""
        self.trained = float(state.get("trained", 0.0))
        self.spent = float(state.get("spent", 0.0))
        self.drawn = int(state.get("drawn", 0))
        self.skipped = [int(e) for e in state.get("skipped", [])]
        self.costs = {str(k): float(v) for k, v in state.get("costs", {}).items()}
        # the run's own choice: a resumed run's recipe.yaml sets every field, so it cannot tell
        self.forced = set(state.get("forced", []))


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
