"""The thresholds behind the diagnoses, and the input-bound rule with its advice: one place that
the engine's rules (train.diagnose) and the dashboard's panes (gradient bars, health table,
System pane) both read. Plain Python, so the dashboard reads them without importing the engine.
"""

from __future__ import annotations

VANISH_RATIO = 1e-4  # layer grad norm below this fraction of the largest layer's
EXPLODE_NORM = 1e3  # a layer's grad norm above this
EXPLODE_UPDATE = 0.1  # an update moving weights by more than 10% in one step
DEAD_SHARE = 0.5  # a ReLU layer with at least half of its units dead for a whole batch
SATURATED_SHARE = 0.5  # a sigmoid/tanh layer with at least half of its outputs within 1% of the ends
INPUT_BOUND = 0.5  # a loop waiting for its next batch at least half of the time

INPUT_BOUND_HELPS = ("more data.workers, the in-memory loader (data.loader: memory, if it fits), "
                     "a smaller data.image_size or a decode cache")


def input_bound(data_wait: float) -> bool:
    """The loop waits for its data at least INPUT_BOUND of its time (data_wait: a share, 0..1)."""
    return data_wait >= INPUT_BOUND


def partly_input_bound(data_wait: float) -> bool:
    return data_wait >= INPUT_BOUND / 2
