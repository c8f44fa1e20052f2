"""`run --resume RUN_DIR --set ...`: a resumed run goes on with its own recipe unless the user says otherwise.

A checkpoint belongs to the recipe that wrote it; training on under a changed recipe while
recipe.yaml still shows the old one makes the run folder lie. So a change is refused, naming
the fields, unless `--allow-changes`: then the run goes on, recipe.yaml is rewritten with the
change and the event log records it. Where the run happens (the device, the process count and
how the processes talk) does not change what is trained, and is free.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnn_tui.contract.errors import UsageError, excerpt_pair
from cnn_tui.recipes.diff import differing_fields

FREE_ON_RESUME = ("device", "train.distributed.nproc", "train.distributed.backend", "train.distributed.timeout_s")
Change = tuple[str, Any, Any]  # (field, the run's value, the new value)


def resume_changes(run_recipe: dict[str, Any], changed_recipe: dict[str, Any], run_dir: Path,
                   allow: bool) -> list[Change]:
    """The fields `--set`/`--epochs` change in the run's recipe (apart from FREE_ON_RESUME); one line
    naming them unless `allow`."""
    changes = [c for c in differing_fields(run_recipe, changed_recipe) if c[0] not in FREE_ON_RESUME]
    if changes and not allow:
        raise UsageError(f"--resume {run_dir}: --set/--epochs would change the run's recipe ({describe(changes)}); "
                         "resume without them, add --allow-changes to go on with the change (recipe.yaml and "
                         "the event log record it), or start a new run from "
                         f"{run_dir / 'recipe.yaml'} with the change")
    return changes


def describe(changes: list[Change]) -> str:
    """'train.epochs 3 -> 5, train.batch_size 16 -> 8' (at most 4, then how many more)."""
    shown = ", ".join(f"{name} {' -> '.join(excerpt_pair(old, new, 30))}" for name, old, new in changes[:4])
    return shown + (f" and {len(changes) - 4} more" if len(changes) > 4 else "")
