"""Stop, pause and skip, decided together: a loop that stops or skips on one rank alone leaves the
others waiting in a collective it never reaches."""

from __future__ import annotations

import time
from collections.abc import Callable

from cnn_tui.engine.world import World
from cnn_tui.train.control import RunControl

PAUSE_POLL_S = 0.2  # while paused the ranks meet this often, so no collective times out


def agree_to_stop(world: World, control: RunControl, on_state: Callable[[str], None], pause: bool,
                  empty: bool = False) -> tuple[bool, bool]:
    """(stop, skip this batch), after waiting out a pause. A signal to any rank, rank 0's dashboard
    or any rank's empty batch holds for all, at the same step. A single process asks nobody.

    A checkpoint asked for (on rank 0, from RUN_DIR/commands/) is agreed here too and lands in
    `control.checkpoint_due` on every rank: saving gathers every rank's state, so all must save
    after the same step. The flag is the loop thread's own: a request arriving later waits for the
    next agreement rather than reaching one rank alone."""
    if not world.distributed:
        if pause and not control.stop_requested:
            control.wait_while_paused(on_state)
        control.checkpoint_due |= pause and control.take_checkpoint_request()
        return control.stop_requested, empty
    wanted = pause and control.take_checkpoint_request()
    stop, paused, skip, due = world.agree(control.stop_requested, pause and control.paused, empty, wanted)
    control.checkpoint_due |= due
    if paused and not stop:
        on_state("paused")
        while paused and not stop:
            time.sleep(PAUSE_POLL_S)
            stop, paused = world.agree(control.stop_requested, control.paused)
        if not stop:
            on_state("running")
    return stop, skip
