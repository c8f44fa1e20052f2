"""Signals as users send them to `cnn-tui run`: Ctrl+C twice (also during a checkpoint save) leaves a
loadable run folder; SIGTERM/SIGHUP/SIGINT while the data is being prepared stop it at once.

Each test starts a real process (a signal needs one) and kills it in `finally`, pass or fail.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnn_tui.engine.stopping import FIRST_PRESS
from cnn_tui.train.checkpoint import load_checkpoint
from tests.conftest import ROOT, TINY_RECIPE, cnn_tui_cmd

pytestmark = pytest.mark.timeout(180)

# `cnn-tui run` with one function patched (PATCH) to say "reached" in a marker file, then block
HARNESS = """
import os, sys, time
marker = sys.argv[1]
def reached():
    open(marker, "a").write("x")
{patch}
from cnn_tui.cli import main
raise SystemExit(main(sys.argv[2:]))
"""

SLOW_SAVE = """
import torch
real_save = torch.save
def save(obj, f, *a, **k):
    reached()
    time.sleep(2)  # a large checkpoint: the second Ctrl+C lands during the save
    return real_save(obj, f, *a, **k)
torch.save = save
"""

SLOW_STEP = """
import cnn_tui.train.trainer as trainer
real_step = trainer.Trainer._train_step
def step(self, *a, **k):
    reached()
    time.sleep(0.4)  # a large model's step: time for a second Ctrl+C while the first one waits for it
    return real_step(self, *a, **k)
trainer.Trainer._train_step = step
"""

SLOW_EXIT = """
import atexit
atexit.register(lambda: (open(marker + ".exit", "w").close(), time.sleep(3)))  # a slow way out (flushing, joining)
"""

STUCK_IN_MAIN = """
import cnn_tui.data.sources as sources
def load(*a, **k):
    reached()
    open(os.environ["FIFO"]).read()  # a FIFO named like an image: open() blocks in the main thread
sources.load_images_cached = load
"""

STUCK_IN_WORKER = """
import cnn_tui.data.images as images
def load(*a, **k):
    reached()
    open(os.environ["FIFO"]).read()  # the same, in a decoding thread
images.load_image = load
"""


def start(tmp_path: Path, patch: str, *args: str, env: dict) -> tuple[subprocess.Popen, Path]:
    marker = tmp_path / "reached"
    command = [sys.executable, "-c", HARNESS.format(patch=patch), str(marker), *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    return proc, marker


def wait_for(condition, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=30)


def the_run(out: Path) -> Path:
    (run_dir,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    return run_dir


def assert_loadable(run_dir: Path, env: dict) -> dict:
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and "Ctrl+C twice" in summary["reason"]
    assert not [p for p in run_dir.rglob("*") if p.name.endswith(".tmp")]
    last = run_dir / "checkpoints" / "last.pt"
    if last.exists():
        load_checkpoint(last)
        assert "last complete checkpoint is kept" in summary["reason"]
    else:
        assert "no checkpoint had been saved yet" in summary["reason"]
    shown = subprocess.run(cnn_tui_cmd("show", str(run_dir), "--width", "60"), capture_output=True, text=True,
                           env=env, timeout=120)
    assert shown.returncode == 0, shown.stderr
    return summary


def test_ctrl_c_twice_leaves_a_loadable_run(tiny_recipe_path, tmp_path, cli_env):
    out = tmp_path / "runs"
    proc, marker = start(tmp_path, SLOW_STEP, "run", str(tiny_recipe_path), "--out", str(out), "--epochs", "400",
                         env=cli_env)
    try:
        wait_for(lambda: any(out.glob("*/checkpoints/last.pt")), proc)  # epoch 1 is saved; steps go on
        steps = marker.stat().st_size
        wait_for(lambda: marker.stat().st_size > steps, proc, seconds=60)  # a 0.4 s step has just begun
        proc.send_signal(signal.SIGINT)  # (pressed in validation, the run could end before the second press)
        time.sleep(0.1)  # the second press lands within the step the first one lets finish
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        stop(proc)
    assert proc.returncode == 130, stderr
    assert stderr.splitlines()[0] == f"cnn-tui: {FIRST_PRESS}" and "Traceback" not in stderr
    assert "interrupted: Ctrl+C twice" in stdout
    summary = assert_loadable(the_run(out), cli_env)
    assert "last complete checkpoint is kept" in summary["reason"]


def test_a_ctrl_c_after_the_run_has_ended_leaves_with_the_runs_code(tiny_recipe_path, tmp_path, cli_env):
    """A second press that comes just too late (the first one stopped the run, which said so and is on
    its way out) is no crash: the process leaves with the run's own code."""
    out = tmp_path / "runs"
    proc, marker = start(tmp_path, SLOW_STEP + SLOW_EXIT, "run", str(tiny_recipe_path), "--out", str(out),
                         "--epochs", "400", env=cli_env)
    leaving = Path(f"{marker}.exit")
    try:
        wait_for(marker.exists, proc)  # training
        proc.send_signal(signal.SIGINT)
        wait_for(leaving.exists, proc)  # stopped, saved, said so; now in its (slow) way out
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        stop(proc)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted: received SIGINT" in stdout
    assert json.loads((the_run(out) / "summary.json").read_text())["status"] == "interrupted"


def test_a_second_ctrl_c_during_a_checkpoint_save_lets_the_save_finish(tiny_recipe_path, tmp_path, cli_env):
    out = tmp_path / "runs"
    proc, marker = start(tmp_path, SLOW_SAVE, "run", str(tiny_recipe_path), "--out", str(out), "--epochs", "400",
                         env=cli_env)
    try:
        wait_for(marker.exists, proc)  # the end of epoch 1: saving best.pt, 2 s long
        proc.send_signal(signal.SIGINT)
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        stop(proc)
    assert proc.returncode == 130, stderr
    run_dir = the_run(out)
    load_checkpoint(run_dir / "checkpoints" / "best.pt")  # the save under way completed ...
    assert_loadable(run_dir, cli_env)  # ... and nothing torn or temporary is left


@pytest.mark.parametrize("sig,patch", [(signal.SIGTERM, STUCK_IN_WORKER), (signal.SIGHUP, STUCK_IN_MAIN),
                                       (signal.SIGINT, STUCK_IN_WORKER)], ids=["TERM-worker", "HUP-main", "INT-worker"])
def test_a_signal_while_preparing_the_data_stops_at_once(sig, patch, tmp_path, cli_env):
    from PIL import Image

    for name in ("cats", "dogs"):
        (tmp_path / "pets" / name).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(tmp_path / "pets" / name / f"{i}.png")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    recipe = tmp_path / "pets.yaml"
    recipe.write_text(TINY_RECIPE.replace("dataset: shapes", f"dataset: image_folder\n  path: {tmp_path / 'pets'}")
                      .replace("  shapes: {num_train: 96, num_val: 48, classes: [circle, square, cross]}\n", ""))
    out = tmp_path / "runs"
    proc, marker = start(tmp_path, patch, "run", str(recipe), "--out", str(out), env={**cli_env, "FIFO": str(fifo)})
    try:
        wait_for(marker.exists, proc)
        time.sleep(0.3)  # inside the blocking open()
        sent = time.monotonic()
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=20)
        took = time.monotonic() - sent
    finally:
        stop(proc)
    assert proc.returncode == 130 and took < 10, (proc.returncode, took, stderr)
    assert stderr == f"cnn-tui: interrupted: stopped by {sig.name} while preparing the run; nothing was written\n"
    assert not out.exists()


def test_ctrl_c_during_compare_stops_its_run_with_a_checkpoint_and_ends_the_comparison(
        tiny_recipe_path, tmp_path, cli_env):
    """compare trains its runs in its own process: a Ctrl+C must stop the run as `run` does (a checkpoint,
    summary.json `interrupted`), not cut it mid-write, and must not go on to the next seed."""
    out = tmp_path / "runs"
    proc, marker = start(tmp_path, SLOW_STEP, "compare", str(tiny_recipe_path), "--seeds", "3", "--out", str(out),
                         "--set", "train.epochs=400", env=cli_env)
    try:
        wait_for(lambda: any(out.glob("*/checkpoints/last.pt")), proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err
        run_dir = the_run(out)  # one run: the comparison did not start seed 4
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["status"] == "interrupted", summary
        load_checkpoint(run_dir / "checkpoints" / "last.pt")
        assert f"--resume {run_dir}" in err and "Traceback" not in err
    finally:
        stop(proc)
