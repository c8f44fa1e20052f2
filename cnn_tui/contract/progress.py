"""How far along a run is and when it will end: one rule for the printer and the dashboard.

The ETA uses the segment's average speed, from the events' own timestamps (the first event of
this segment to the latest step), so it is steady while the per-tick speed jumps, the same in
every face, and the same when a run is replayed. Speed shown as such (img/s, s/step) is the
engine's recent measure, carried by each step event.
"""

from __future__ import annotations

from cnn_tui.contract.events import RunStarted, Started, Step, StyleStep


def steps_per_second(started: Started, event: Step | StyleStep) -> float:
    """Optimiser steps per second lately: a classification step is one batch of `batch_size` images."""
    if isinstance(event, StyleStep):
        return event.steps_per_sec
    batch = started.batch_size if isinstance(started, RunStarted) else 1
    return event.images_per_sec / max(batch, 1)


def fraction_done(step: int, total_steps: int) -> float:
    return min(step / max(total_steps, 1), 1.0)


def eta_seconds(started: Started, event: Step | StyleStep) -> float | None:
    """Seconds to the last step at this segment's average speed; None before a step was timed."""
    done, elapsed = event.step - started.start_step, event.t - started.t
    if done <= 0 or elapsed <= 0:
        return None
    return max(started.total_steps - event.step, 0) * elapsed / done
