"""The headless printer where users read it: a terminal (progress redrawn in place) and a pipe
or log file (plain lines, progress at most every 30 s, never a carriage return)."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import time

import pytest

from cnn_tui.contract.events import RunStarted, Step
from cnn_tui.headless.printer import HeadlessPrinter
from tests.conftest import cnn_tui_cmd

REDRAW = "\r\x1b[2K"  # back to column 0, clear the line: the progress line is rewritten, not appended


def _started() -> RunStarted:
    return RunStarted(t=0.0, run_id="r", recipe_name="tiny", kind="scratch", device="cpu", device_name="CPU",
                      total_steps=100, model_name="vgg", layers=[], total_params=10, trainable_params=10,
                      epochs=10, steps_per_epoch=10, batch_size=16, num_train=160, num_val=16, num_classes=3,
                      class_names=["a", "b", "c"])


def read_pty(command: list[str], env: dict[str, str], timeout: float = 240) -> tuple[str, int]:
    """Run `command` with its stdout on a pseudo-terminal (as in an SSH session) and read it all."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(command, stdout=follower, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the child closed the terminal: all read
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(leader)
    code = proc.wait(timeout=30)
    return b"".join(chunks).decode("utf-8", "replace"), code


@pytest.mark.timeout(300)
def test_in_a_terminal_progress_is_redrawn_in_place(tiny_recipe_path, tmp_path, cli_env):
    # slow steps (big images, many epochs) so that the 10-per-second redraws have something to redraw
    out, code = read_pty(cnn_tui_cmd("run", str(tiny_recipe_path), "--out", str(tmp_path / "runs"),
                                     "--set", "train.epochs=4", "--set", "data.image_size=48",
                                     "--set", "data.shapes.num_train=480", "--set", "log.every_steps=1"), cli_env)
    assert code == 0, out
    redraws = [part for part in out.split(REDRAW)[1:] if part.startswith("epoch ")]
    assert len(redraws) >= 2, out  # the progress line rewritten at least twice
    assert "ETA" in redraws[0] and "img/s" in redraws[0]
    pieces = re.split(r"\r\n|\n|\r\x1b\[2K", out)  # lines, and what each redraw wrote
    assert [p.split()[0] for p in pieces if re.match(r"  \d/4 ", p)] == ["1/4", "2/4", "3/4", "4/4"], out
    assert out.count("  1/4 ") == 1  # each epoch line once, over the progress line


@pytest.mark.timeout(300)
def test_in_a_pipe_lines_are_plain(tiny_recipe_path, tmp_path, cli_env):
    result = subprocess.run(cnn_tui_cmd("run", str(tiny_recipe_path), "--out", str(tmp_path / "runs")),
                            capture_output=True, text=True, env=cli_env, timeout=240)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stdout and "\x1b" not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].startswith("tiny (scratch): training vgg") and lines[-2].startswith("completed: ")
    assert lines[-1].startswith("run directory: ")
    assert [line.split()[0] for line in lines if line.lstrip()[:1].isdigit()] == ["1/3", "2/3", "3/3"]


def test_in_a_pipe_progress_is_printed_at_most_every_30_seconds(monkeypatch):
    times = [100.0, 110.0, 129.9, 130.1, 140.0, 161.0]
    clock = iter(times)
    monkeypatch.setattr("cnn_tui.headless.printer.time.time", lambda: next(clock))
    stream = io.StringIO()
    printer = HeadlessPrinter(stream, tty=False)  # progress_seconds: 30 by default
    printer.emit(_started())  # at t = 0
    for step, t in enumerate(times, start=1):
        printer.emit(Step(t=t, step=step, epoch=0, metrics={"train/loss": 1.0, "lr": 0.1}, images_per_sec=160.0))
    progress = [line for line in stream.getvalue().splitlines() if line.startswith("epoch 1/10")]
    assert [line.split()[4] for line in progress] == ["1/100", "4/100", "6/100"]  # t = 100, 130.1, 161
    assert "\r" not in stream.getvalue()
    # the ETA: 94 steps left at the run's average so far, 6 steps in 161 s (not the last tick's speed)
    assert progress[-1].endswith("160 img/s  ETA 42:02")


def test_the_end_of_a_headless_run_prints_the_kept_epochs_confusion_matrix():
    from cnn_tui.contract.events import Confusion, EpochEnd, RunFinished

    out = io.StringIO()
    printer = HeadlessPrinter(out, tty=False)
    printer.emit(_started())
    metrics = {"train/loss": 1.0, "train/acc": 0.5, "val/loss": 1.0, "val/acc": 0.5, "lr": 0.1}

    def report(epoch: int, matrix: list[list[int]]) -> Confusion:
        from cnn_tui.contract.confusion import class_scores

        return Confusion(epoch=epoch, step=epoch * 10, classes=["a", "b", "c"], matrix=matrix,
                         per_class={n: s.to_dict() for n, s in zip("abc", class_scores(matrix))})

    printer.emit(EpochEnd(epoch=1, step=10, metrics=metrics, seconds=1.0, is_best=True))
    printer.emit(report(1, [[4, 1, 0], [0, 5, 0], [2, 0, 3]]))
    printer.emit(EpochEnd(epoch=2, step=20, metrics=metrics, seconds=1.0, is_best=False))
    printer.emit(report(2, [[1, 4, 0], [0, 5, 0], [5, 0, 0]]))  # worse: the kept weights are epoch 1's
    assert "confusion" not in out.getvalue()  # once, at the end
    printer.emit(RunFinished(status="completed", reason="trained 2 epochs", step=20, epoch=2, wall_seconds=3.0,
                             best=metrics, final=metrics))
    text = out.getvalue()
    assert text.count("validation confusion matrix") == 1
    assert "epoch 1 (the kept weights): rows true, columns predicted" in text
    rows = [line.split() for line in text.splitlines() if line.startswith("  ") and line.split()[0] in "abc"]
    assert rows == [["a", "4", "1", "0", "80.0%"], ["b", "0", "5", "0", "100.0%"], ["c", "2", "0", "3", "60.0%"]]
    assert "  F1 per class: a 0.73, c 0.75, b 0.91" in text  # lowest first
