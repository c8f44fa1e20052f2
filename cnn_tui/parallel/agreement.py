"""Stop, pause and skip, decided together: a loop that stops or skips on one rank alone leaves the
others waiting in a collective it never reaches."""

from __future__ import annotations

import time
from collections.abc import Callable

from cnn_tui.parallel.world import World
from cnn_tui.train.control import RunControl

PAUSE_POLL_S = 0.2  # while paused the ranks meet this often, so no collective times out


def agree_to_stop(world: World, control: RunControl, on_state: Callable[[str], None], pause: bool,
                  empty: bool = False) -> tuple[bool, bool]:
    """(stop, skip this batch), after waiting out a pause. A signal to any rank, rank 0's dashboard
    or any rank's empty batch holds for all, at the same step. A single process asks nobody."""
    if not world.distributed:
        if pause and not control.stop_requested:
            control.wait_while_paused(on_state)
        return control.stop_requested, empty
    stop, paused, skip = world.agree(control.stop_requested, pause and control.paused, empty)
    if paused and not stop:
        on_state("paused")
        while paused and not stop:
            time.sleep(PAUSE_POLL_S)
            stop, paused = world.agree(control.stop_requested, control.paused)
        if not stop:
            on_state("running")
    return stop, skip
