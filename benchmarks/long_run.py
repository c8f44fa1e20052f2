"""A run directory as a long training run leaves it, generated in seconds: a run_started, a
step event every step, an epoch every `steps_per_epoch`, gradients every 100 steps, a
diagnosis, the finish and summary.json. The `show` and `export` benchmark reads a million
steps of it; the tests read smaller ones."""

from __future__ import annotations

import json
import math
from pathlib import Path

from cnn_tui.contract.events import Diagnosis, EpochEnd, Gradients, RunFinished, RunStarted, Step

LAYERS = [f"conv{i}" for i in range(1, 7)] + ["classifier"]


def write_long_run(run_dir: Path, steps: int, steps_per_epoch: int = 1000, grad_every: int = 100,
                   extra_metric_from: int | None = None, t0: float = 1.8e9) -> Path:
    """`extra_metric_from`: from this step on, step events carry one more metric (a column that appears late)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    epochs = max(1, math.ceil(steps / steps_per_epoch))
    lines = [RunStarted(run_id=run_dir.name, recipe_name="long", kind="scratch", device="cpu", device_name="CPU",
                        total_steps=steps, model_name="vgg", layers=[], total_params=1000, trainable_params=1000,
                        epochs=epochs, steps_per_epoch=steps_per_epoch, batch_size=64, num_train=64 * steps_per_epoch,
                        num_val=1000, num_classes=6, class_names=list("abcdef"), t=t0).to_json()]
    best: dict[str, float] = {}
    with open(run_dir / "events.jsonl", "w", encoding="utf-8") as out:
        out.write(lines[0] + "\n")
        for step in range(1, steps + 1):
            epoch = (step - 1) // steps_per_epoch
            t = t0 + step * 0.01
            metrics = {"train/loss": 2.0 / math.sqrt(step), "train/acc": 1 - 1 / math.sqrt(step), "lr": 0.1 / step}
            if extra_metric_from is not None and step >= extra_metric_from:
                metrics["train/grad_scale"] = 1024.0
            out.write(Step(step=step, epoch=epoch, metrics=metrics, images_per_sec=5000.0 + step % 7,
                           memory_mb=300.0, t=t).to_json() + "\n")
            if step % grad_every == 0:
                out.write(Gradients(step=step, epoch=epoch, norms={n: 1.0 / step for n in LAYERS},
                                    update_ratios={n: 1e-3 for n in LAYERS}, t=t).to_json() + "\n")
            if step % steps_per_epoch == 0 or step == steps:
                done = epoch + 1
                best = {"train/loss": metrics["train/loss"], "train/acc": metrics["train/acc"],
                        "val/loss": 2.2 / math.sqrt(step), "val/acc": 0.9 - 0.5 / done, "lr": metrics["lr"]}
                out.write(EpochEnd(epoch=done, step=step, metrics=best, seconds=10.0, is_best=True, t=t).to_json()
                          + "\n")
                if done == 2:
                    out.write(Diagnosis(code="plateau", severity="warning", message="validation loss has not "
                                        "improved for 2 epochs", step=step, epoch=done, t=t).to_json() + "\n")
        out.write(RunFinished(status="completed", reason=f"trained {epochs} epochs", step=steps, epoch=epochs,
                              wall_seconds=steps * 0.01, best=best, final=best, t=t0 + steps * 0.01).to_json() + "\n")
    summary = {"run_id": run_dir.name, "recipe": "long", "kind": "scratch", "status": "completed", "ok": True,
               "steps": steps, "best_epoch": epochs, "best": best, "final": best, "wall_seconds": steps * 0.01}
    (run_dir / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return run_dir
