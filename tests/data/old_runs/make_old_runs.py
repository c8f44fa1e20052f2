"""How the run folders beside this script were made, with the code of commit d4aee5d (checkpoint
format 1, the seed offsets before the per-purpose streams). Kept as a record: rerunning it with
later code makes folders of the later format, which is not what the tests need.

    PYTHONPATH=. python tests/data/old_runs/make_old_runs.py tests/data/old_runs

finished/     a completed run (3 epochs of 4 steps, a test split): `show`, `predict`, `export` must open it
interrupted/  the same recipe stopped mid-epoch 2 (step 6 of 12): `--resume` must finish it with the
              weights, counters and data order the uninterrupted run (finished/) reached
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from cnn_tui.recipes.loader import load_recipe
from cnn_tui.runner import RunOptions, execute
from cnn_tui.sinks import CallbackSink
from cnn_tui.train.control import RunControl

RECIPE = """\
kind: scratch
name: old
seed: 3
device: cpu
data:
  dataset: shapes
  image_size: 16
  test_split: 0.2
  shapes: {num_train: 96, num_val: 48, classes: [circle, square, cross]}
  augment: {hflip: true, crop_padding: 2}
model:
  arch: vgg
  vgg_config: [4, M, 8, M]
  dropout: 0.3
train:
  epochs: 3
  batch_size: 16
  optimizer: {name: sgd, lr: 0.05}
  schedule: {name: cosine, warmup_epochs: 0.5}
  early_stopping: {enabled: true, patience: 5, restore_best: true}
log:
  every_steps: 2
  grad_every_steps: 3
"""


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "old.yaml").write_text(RECIPE)
    recipe, _ = load_recipe(out / "old.yaml", [])
    for name, stop_at in (("finished", None), ("interrupted", 6)):
        control = RunControl()

        def on_event(event, stop_at=stop_at, control=control) -> None:
            if stop_at is not None and event.type == "step" and event.step >= stop_at:
                control.request_stop("stopped to make test data")

        result = execute(recipe, RunOptions(out=out / "tmp"), CallbackSink(on_event), control)
        assert result.run_dir is not None
        shutil.rmtree(out / name, ignore_errors=True)
        result.run_dir.rename(out / name)
        print(name, result.status)
    shutil.rmtree(out / "tmp")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
