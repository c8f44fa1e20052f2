"""Training a classifier: a short loop (trainer.py) and the parts it asks, each owning its state.

Every part has `state_dict()`/`load_state_dict()` (in the spirit of Lightning's callbacks) and is
saved under its own name in the checkpoint, one dict keyed by part name (saver.py lists the layout;
checkpoint_format.py reads the format-1 checkpoints of earlier runs into it):

    part           module            owns                                               checkpoint key
    Totals         totals.py         epoch, batch, step, epoch metrics, running sums,   position (+ ranks)
                                     the wall clock
    Phases         phases.py         the phase, trainability, optimizer, LR schedule,   phases
                                     GradScaler
    BestKeeper     keeper.py         best.pt's monitor, early stopping, restored weights best
    Health         health.py         diagnoses, gradient ticks, activation health,      health
                                     model views
    SystemSampler  system.py         CPU/GPU/data-wait samples                          system
    Checkpoints    saver.py          writing best.pt/last.pt, every rank's own state    ranks, world_size
    Guard          guard.py          crash, interrupt and divergence endings (shared with style/optimize.py)

The loop holds the parts; no other module assigns its attributes. Parts do not know the loop:
each gets what it needs (the model, the world, an `emit` callable) when it is made. The kind
(kind.py) prepares data and model before the loop and scores the test split after it
(final_score.py); runner.py calls both through the kind protocol.

Random numbers come from the recipe seed's per-purpose streams (data/streams.py). A run resumed
from a checkpoint written before them keeps its old seed offsets, so its split and data order stay
what they were (tests/unit/test_old_runs.py resumes such a run folder and lands on the old code's
weights); new runs draw different splits than the same recipe did before.

Where a change goes:
- a new part ("keep the best 3 checkpoints"): a module here with the part (its state, its
  state_dict), one line in Trainer.__init__ that makes it and adds it to `parts`, and the one call in
  the loop where it acts (e.g. after `keeper.update` in `_end_epoch`); saver.py's layout docstring.
  An older checkpoint without its key is read by checkpoint_format.upgrade (add a default there).
- a new kind: its recipe schema (recipes/), an engine package with a KindEngine and a Prepared
  (runner.py's protocols: prepare/start/started/after_started/finish/summary) whose loop uses
  guard.Guard for its endings, and one KindSpec line in kinds.py.
"""
