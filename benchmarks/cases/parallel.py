"""Case 12: data-parallel training against one process, side by side (ABBA), on the built-in
scratch recipe: images per second of the training part of each epoch after the first.

On CPU: `--nproc 2` (gloo, each process one thread of this 2-core machine) against the plain
run (two threads). No speed-up is expected from two processes sharing two cores; the ratio
documents what the collectives cost, so this row has no target. Where CUDA exists: the NCCL path
at world size 1 (`torchrun --nproc-per-node 1 -m cnn_tui run`, so DDP, the all-reduces and the
agreed stop flags all run) against the plain run on the same GPU: ratio >= 0.97.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import Result, median, only_run_dir, read_events, run_python
from cnn_tui.recipes import builtin

CASE = "12 data-parallel"


def _rate(run_dir: Path) -> float:
    """Images a second, the training part of the epochs after the first (warm-up)."""
    events = read_events(run_dir)
    started = next(e for e in events if e["type"] == "run_started")
    images = started["steps_per_epoch"] * started["batch_size"]  # the global batch, however it was split
    return median([images / e["seconds"] for e in events if e["type"] == "epoch"][1:])


def _run(out: Path, epochs: int, device: str, launcher: str) -> float:
    recipe = str(builtin.find("scratch_cnn"))
    args = ["run", recipe, "--quiet", "--out", str(out), "--epochs", str(epochs), "--device", device]
    if launcher == "torchrun":  # torchrun's own entry point, one process: the NCCL path on one GPU
        run_python("-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "1", "-m", "cnn_tui", *args)
    elif launcher == "nproc2":
        run_python("-m", "cnn_tui", *args, "--nproc", "2")
    else:
        run_python("-m", "cnn_tui", *args)
    return _rate(only_run_dir(out))


def _pairs(epochs: int, reps: int, launcher: str, device: str) -> list[tuple[float, float]]:
    """(the launcher's rate, the plain run's rate) per rep."""
    pairs = []
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        for rep in range(reps):
            order = ("plain", launcher) if rep % 2 == 0 else (launcher, "plain")  # ABBA: drift cancels
            rates = {which: _run(Path(tmp) / f"{which}{rep}", epochs, device, which) for which in order}
            pairs.append((rates[launcher], rates["plain"]))
    return pairs


def run(quick: bool, reps: int) -> list[Result]:
    import torch

    epochs = 2 if quick else 3
    pairs = _pairs(epochs, reps, "nproc2", "cpu")
    ratio = median([a / b for a, b in pairs])
    rows = [Result(CASE, "2 gloo processes vs 1 process, img/s on this machine's cores (scratch_cnn, CPU)",
                   f"{median([a for a, _ in pairs]):,.0f} vs {median([b for _, b in pairs]):,.0f} img/s "
                   f"(ratio {ratio:.2f})", "reported (2 shared cores)", True)]
    if torch.cuda.is_available():
        pairs = _pairs(epochs, max(reps, 2), "torchrun", "cuda")
        ratio = median([a / b for a, b in pairs])
        rows.append(Result(CASE, "NCCL at world size 1 vs the plain run, img/s on one GPU (scratch_cnn)",
                           f"{median([a for a, _ in pairs]):,.0f} vs {median([b for _, b in pairs]):,.0f} img/s "
                           f"(ratio {ratio:.3f})", ">= 0.97", ratio >= 0.97))
    return rows
