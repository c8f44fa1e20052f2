"""`cnn-tui compare`: run recipes side by side (several seeds each) and print one table,
the way the course compares training from scratch, feature extraction and fine-tuning.
"""

from __future__ import annotations

import statistics
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnn_tui.contract.errors import naming_the_file
from cnn_tui.contract.layer_columns import format_count
from cnn_tui.contract.sinks import CallbackSink
from cnn_tui.engine.runner import RunOptions, execute
from cnn_tui.recipes.loader import load_recipe


def checked_recipes(refs: list[str], overrides: list[str]) -> list[Any]:
    """Every recipe loaded and checked as `cnn-tui validate` checks it (its model built, its data
    folders scanned, nothing downloaded), before the first one trains: a typo in the last recipe
    is one line at once, not after hours of training the others."""
    from cnn_tui.engine.validate import check_recipe

    recipes = []
    for ref in refs:
        recipe, path = load_recipe(ref, overrides)
        with naming_the_file(path):
            check_recipe(recipe, path)
        recipes.append(recipe)
    return recipes


def compare(refs: list[str], seeds: int, overrides: list[str], out: Path,
            progress: Callable[[str], None] = print) -> list[dict]:
    rows = []
    for recipe in checked_recipes(refs, overrides):
        accs, losses, walls, tests, trains = [], [], [], [], []
        for i in range(seeds):
            seeded = recipe.model_copy(deep=True)
            seeded.seed = recipe.seed + i
            result = _one_run(seeded, out)
            walls.append(result.summary["wall_seconds"])
            best = result.summary.get("best") or {}
            accs.append(best.get("val/acc", float("nan")))
            losses.append(best.get("val/loss", float("nan")))
            trains.append((result.summary.get("final") or {}).get("train/acc", float("nan")))
            test = result.summary.get("test")
            tests.append(test["test/acc"] if test else float("nan"))
            tested = f", test acc {tests[-1]:.2%}" if test else ""
            progress(f"{recipe.name} seed {seeded.seed}: {result.status}, best val acc {accs[-1]:.2%}{tested} "
                     f"({walls[-1]:.1f} s)")
        rows.append({"recipe": recipe.name, "kind": recipe.kind, "params": result.summary.get("params", 0),
                     "macs": result.summary.get("macs", 0), "acc": statistics.mean(accs),
                     "acc_sd": statistics.pstdev(accs), "loss": statistics.mean(losses),
                     "wall": statistics.mean(walls), "seeds": seeds, "train_acc": statistics.mean(trains),
                     **_test_stats(tests)})
    return rows


def _one_run(recipe: Any, out: Path) -> Any:
    """One run of the comparison with `cnn-tui run`'s signal handling: a Ctrl+C (SIGTERM, SIGHUP)
    stops it after its step with a checkpoint and summary.json `interrupted`, and ends the
    comparison there (KeyboardInterrupt: the CLI's exit 130) instead of cutting the run mid-write."""
    import signal

    from cnn_tui.contract.status import Status
    from cnn_tui.engine import stopping
    from cnn_tui.train.control import RunControl

    control = RunControl()
    stopping.install(control)
    try:
        result = execute(recipe, RunOptions(out=out), CallbackSink(lambda e: None), control)
    finally:  # between runs a Ctrl+C is Python's own again: nothing is being written
        for name in stopping.SIGNALS:
            if hasattr(signal, name):
                signal.signal(getattr(signal, name),
                              signal.default_int_handler if name == "SIGINT" else signal.SIG_DFL)
    if result.status == Status.INTERRUPTED:
        why = result.summary.get("reason") or "interrupted"
        raise KeyboardInterrupt(f"the comparison stopped at {recipe.name} seed {recipe.seed} ({why}); "
                                f"`cnn-tui run --resume {result.run_dir}` goes on with that run")
    return result


def format_rows(rows: list[dict]) -> str:
    """The table; a test-accuracy column when any recipe has a test split (the number that counts)."""
    width = max(len(r["recipe"]) for r in rows)
    tested = any(r.get("test") == r.get("test") for r in rows)  # not all NaN
    test_head = f"  {'test acc':>16}" if tested else ""
    lines = [f"{'recipe':<{width}}  {'kind':<18}  {'params':>11}  {'MACs':>7}  {'train acc':>9}  {'best val acc':>16}"
             f"  {'val loss':>8}{test_head}  {'wall/run':>8}"]
    for r in rows:
        acc = f"{r['acc']:.1%} ± {r['acc_sd']:.1%}"
        test = f"  {_test_cell(r):>16}" if tested else ""
        macs = format_count(r["macs"]) if r.get("macs") else "-"
        train = r.get("train_acc", float("nan"))
        train_cell = f"{train:.1%}" if train == train else "-"
        lines.append(f"{r['recipe']:<{width}}  {r['kind']:<18}  {r.get('params', 0):>11,}  {macs:>7}  {train_cell:>9}  "
                     f"{acc:>16}  {r['loss']:>8.3f}{test}  {r['wall']:>7.1f}s")
    # the last epoch's training accuracy tells underfitting (a deep plain net's degradation) from overfitting
    lines.append(f"(MACs per image; mean ± sd over {rows[0]['seeds']} seed(s); train acc: the last epoch's; "
                 "best epoch of each run by val/acc"
                 + ("; test acc: that epoch's checkpoint on the test split, scored once at the end)"
                    if tested else ")"))
    return "\n".join(lines)


def _test_cell(row: dict) -> str:
    if row["test"] != row["test"]:  # NaN: this recipe has no test split
        return "no test split"
    return f"{row['test']:.1%} ± {row['test_sd']:.1%}"


def _test_stats(tests: list[float]) -> dict[str, float]:
    """Mean and sd of the test accuracies, over the runs that have one (NaN: none has)."""
    scored = [t for t in tests if t == t]
    if not scored:
        return {"test": float("nan"), "test_sd": float("nan")}
    return {"test": statistics.mean(scored), "test_sd": statistics.pstdev(scored)}


def cmd_compare(args: Namespace) -> int:
    from cnn_tui.contract.errors import UsageError

    if args.seeds < 1:
        raise UsageError("--seeds: needs at least 1")
    rows = compare(args.recipes, args.seeds, args.overrides, args.out)
    print(format_rows(rows))
    return 0
