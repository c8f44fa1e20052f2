"""`cnn-tui compare`: run recipes side by side (several seeds each) and print one table,
the way the course compares training from scratch, feature extraction and fine-tuning.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Callable

from cnn_tui.recipes.loader import load_recipe
from cnn_tui.runner import RunOptions, execute
from cnn_tui.sinks import CallbackSink


def compare(refs: list[str], seeds: int, overrides: list[str], out: Path,
            progress: Callable[[str], None] = print) -> list[dict]:
    rows = []
    for ref in refs:
        recipe, _ = load_recipe(ref, overrides)
        accs, losses, walls = [], [], []
        for i in range(seeds):
            seeded = recipe.model_copy(deep=True)
            seeded.seed = recipe.seed + i
            started = time.time()
            result = execute(seeded, RunOptions(out=out), CallbackSink(lambda e: None))
            walls.append(time.time() - started)
            best = result.summary.get("best") or {}
            accs.append(best.get("val/acc", float("nan")))
            losses.append(best.get("val/loss", float("nan")))
            progress(f"{recipe.name} seed {seeded.seed}: {result.status}, best val acc {accs[-1]:.2%} "
                     f"({walls[-1]:.1f} s)")
        rows.append({"recipe": recipe.name, "kind": recipe.kind, "acc": statistics.mean(accs),
                     "acc_sd": statistics.pstdev(accs), "loss": statistics.mean(losses),
                     "wall": statistics.mean(walls), "seeds": seeds})
    return rows


def format_rows(rows: list[dict]) -> str:
    width = max(len(r["recipe"]) for r in rows)
    lines = [f"{'recipe':<{width}}  {'kind':<18}  {'best val acc':>16}  {'val loss':>8}  {'wall/run':>8}"]
    for r in rows:
        acc = f"{r['acc']:.1%} ± {r['acc_sd']:.1%}"
        lines.append(f"{r['recipe']:<{width}}  {r['kind']:<18}  {acc:>16}  {r['loss']:>8.3f}  {r['wall']:>7.1f}s")
    lines.append(f"(mean ± sd over {rows[0]['seeds']} seed(s); best epoch of each run by val/acc)")
    return "\n".join(lines)
