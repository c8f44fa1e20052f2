"""Case 9: the user's own data, at the scale users bring it. One generated ImageFolder of
20,000 JPEGs the size of the course's cats-and-dogs photos (benchmarks/photo_folder.py;
1,500 in --quick), then, side by side:

- streaming throughput: `cnn-tui run` with `data.loader: stream` against the tutorials'
  torchvision ImageFolder + DataLoader(num_workers=2, pin_memory=True) loop, same model,
  same batches: images/s of the training part of one epoch (steps capped to bound the time);
- memory: a streaming run over data whose decoded size is 4x `data.max_memory_gb`: peak
  memory of the whole process tree (training process and its decoding workers, summed as
  PSS so shared pages count once), sampled every 0.25 s, against that limit; and the run
  interrupted half way and resumed must end with exactly the weights of an uninterrupted one;
- decode cache: an in-memory run started twice: seconds from launch to the first step.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, Result, last_json_line, median, python_env, read_events, run_python
from benchmarks.photo_folder import write_folder

STREAM_SIZE, STREAM_STEPS = 96, 100  # px; steps per timed epoch (64 images each)
# 20,000 x 3 x 320 x 320 bytes = 6.1 GB decoded: 4.1x the limit. The limit is well above the
# floor of any torch process (importing torch, torchvision and cnn-tui: ~0.7 GB resident).
MEMORY_SIZE, MEMORY_LIMIT_GB = 320, 1.5


def _recipe(folder: Path, name: str, data_path: Path, size: int, extra_data: str, model: str, train: str,
            every: int = 10) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"""kind: scratch
name: {name}
data: {{dataset: image_folder, path: {data_path}, image_size: {size}, val_split: 0.02, {extra_data}}}
model: {model}
train: {{batch_size: 64, early_stopping: {{enabled: false}}, {train}}}
log: {{every_steps: {every}, grad_every_steps: 25}}
""")
    return path


def _pss_kb(pid: int) -> int:
    """PSS of a process and all its descendants, in kB (0 for processes already gone)."""
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            total += next(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                total += sum(_pss_kb(int(child)) for child in handle.read().split())
    except (OSError, StopIteration, ValueError):
        pass
    return total


def _run_sampled(args: list[str], stop_after_step: int | None = None) -> tuple[float, float]:
    """Run `cnn-tui run ARGS`, sampling the tree's memory; optionally SIGINT once the events
    file shows `stop_after_step`. Returns (peak PSS in GB, wall seconds)."""
    out_dir = Path(args[args.index("--out") + 1])
    process = subprocess.Popen([sys.executable, "-m", "cnn_tui", "run", *args], cwd=ROOT, env=python_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak, started, signalled = 0, time.perf_counter(), False
    while process.poll() is None:
        peak = max(peak, _pss_kb(process.pid))
        if stop_after_step is not None and not signalled and _last_step(out_dir) >= stop_after_step:
            process.send_signal(signal.SIGINT)
            signalled = True
        time.sleep(0.25)
    if process.returncode not in (0, 130):
        raise RuntimeError(f"cnn-tui run exited {process.returncode}: {process.stderr.read()[-800:]}")
    return peak / 1e6, time.perf_counter() - started


def _last_step(out_dir: Path) -> int:
    try:
        (run_dir,) = [p for p in out_dir.iterdir() if p.is_dir()]
        steps = [e["step"] for e in read_events(run_dir) if e["type"] == "step"]
        return steps[-1] if steps else 0
    except (OSError, ValueError, json.JSONDecodeError):
        return 0


def _same_weights(a: Path, b: Path) -> bool:
    code = ("import sys, torch; a, b = (torch.load(p, weights_only=True)['model'] for p in sys.argv[1:]); "
            "print(all(torch.equal(a[k], b[k]) for k in a))")
    return run_python("-c", code, str(a), str(b)).stdout.strip() == "True"


def _seconds_to_first_step(recipe: Path, out: Path) -> float:
    started = time.time()
    run_python("-m", "cnn_tui", "run", str(recipe), "--quiet", "--out", str(out))
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    first = next(e for e in read_events(run_dir) if e["type"] == "step")
    return first["t"] - started


def run(quick: bool, reps: int) -> list[Result]:
    count = 1_500 if quick else 20_000
    rows: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        work = Path(tmp)
        photos = write_folder(work / "photos", count)
        small_model = "{arch: vgg, vgg_config: [16, M, 32, M, 64, M, 64, M]}"
        steps = 20 if quick else STREAM_STEPS
        stream = _recipe(work, "stream", photos, STREAM_SIZE, "loader: stream, workers: 2", small_model,
                         f"epochs: 1, max_steps_per_epoch: {steps}")

        # ---- streaming throughput, ABBA
        ours, theirs = [], []
        for rep in range(reps):
            def cnn_tui(rep: int = rep) -> None:
                out = work / f"stream{rep}"
                run_python("-m", "cnn_tui", "run", str(stream), "--quiet", "--out", str(out))
                (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
                epoch = next(e for e in read_events(run_dir) if e["type"] == "epoch")
                ours.append(steps * 64 / epoch["seconds"])

            def tutorial() -> None:
                theirs.append(last_json_line(run_python("-m", "benchmarks.imagefolder_loop", str(stream)).stdout)
                              ["images_per_sec"])

            for variant in ((cnn_tui, tutorial) if rep % 2 == 0 else (tutorial, cnn_tui)):
                variant()
        ratio = median([a / b for a, b in zip(ours, theirs)])
        rows.append(Result("9 streaming", f"images/s, {count:,} JPEGs at {STREAM_SIZE}px, median of {reps} pairs: "
                           "cnn-tui stream / ImageFolder+DataLoader(2 workers)",
                           f"{median(ours):,.0f} / {median(theirs):,.0f} -> {ratio:.2f}", ">= 1.0", ratio >= 1.0))

        # ---- memory over data 4x the limit, and exact resume on it
        cheap = "{arch: layers, layers: [{conv: {out: 16, kernel: 8, stride: 8, padding: 0}}, {act: relu}, " \
                "{global_pool: avg}, {linear: 10}]}"
        limit = MEMORY_LIMIT_GB  # in --quick the data is smaller than 4x: indicative only
        big = _recipe(work, "big", photos, MEMORY_SIZE, f"max_memory_gb: {limit:.4f}, workers: 2", cheap,
                      "epochs: 1")
        decoded = count * 3 * MEMORY_SIZE**2 / 1e9
        full_peak, full_wall = _run_sampled([str(big), "--quiet", "--out", str(work / "big_full")])
        rows.append(Result("9 streaming", f"peak memory (PSS, process tree) of a run over {decoded:.1f} GB decoded "
                           f"= {decoded / limit:.1f}x max_memory_gb, one epoch in {full_wall:.0f} s",
                           f"{full_peak:.2f} GB", f"< {limit:.2f} GB", full_peak < limit))
        half = count * 0.98 // 64 // 2
        part_dir = work / "big_part"
        part_peak, _ = _run_sampled([str(big), "--quiet", "--out", str(part_dir)], stop_after_step=int(half))
        (run_dir,) = [p for p in part_dir.iterdir() if p.is_dir()]
        resumed_peak, _ = _run_sampled(["--resume", str(run_dir), "--quiet", "--out", str(part_dir)])
        (full_dir,) = [p for p in (work / "big_full").iterdir() if p.is_dir()]
        same = _same_weights(full_dir / "checkpoints" / "last.pt", run_dir / "checkpoints" / "last.pt")
        stopped_at = next(e["step"] for e in read_events(run_dir) if e["type"] == "finished")
        rows.append(Result("9 streaming", f"that run interrupted at step {stopped_at} and resumed: final weights "
                           "equal to the uninterrupted run's", "equal" if same else "DIFFERENT", "equal", same))

        # ---- decode cache: the second in-memory run starts without decoding
        memory = _recipe(work, "memory", photos, STREAM_SIZE, f"loader: memory, decode_cache: {work / 'cache'}",
                         small_model, "epochs: 1, max_steps_per_epoch: 1", every=1)
        first = _seconds_to_first_step(memory, work / "mem1")
        second = _seconds_to_first_step(memory, work / "mem2")
        started = time.perf_counter()
        run_python("-c", "import torch, torchvision, cnn_tui.engine.runner")
        imports = time.perf_counter() - started
        rows.append(Result("9 decode cache", f"launch to first step, in-memory run of {count:,} JPEGs: first / second "
                           f"(of which importing torch and torchvision: {imports:.1f} s)",
                           f"{first:.1f} / {second:.1f} s = {first / second:.1f}x", ">= 5x",
                           quick or first / second >= 5))
    return rows
