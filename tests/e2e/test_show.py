"""`cnn-tui show`: a run printed for a terminal, a pipe, scripts (--json) and a live run (--follow)."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from benchmarks.long_run import write_long_run
from cnn_tui.commands.show import show
from cnn_tui.record.rundir import read_summary
from tests.runs import train_tiny

pytestmark = pytest.mark.timeout(180)
DATA = Path(__file__).resolve().parent.parent / "ui" / "data"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return train_tiny(tmp_path_factory.mktemp("show"), "data.test_split=0.2")


def printed(*run_dirs: Path, **options) -> str:
    out = io.StringIO()
    assert show(list(run_dirs), out=out, **options) == 0
    return out.getvalue()


def test_a_pipe_gets_the_summary_the_diagnoses_and_three_plain_charts(run_dir):
    text = printed(run_dir, width=90, height=14)
    summary = read_summary(run_dir)
    assert text.startswith("tiny (scratch): completed: trained 3 epochs")
    assert f"val acc {summary['best']['val/acc']:.2%}" in text
    assert "Test set (" in text  # the test score, in the printer's words
    for title in ("loss: train ▄▀, val •", "accuracy (%)", "learning rate"):
        assert title in text
    assert not ANSI.search(text)  # plain in a pipe
    assert max(len(line) for line in text.splitlines()) <= 90


def test_a_terminal_gets_colour_at_its_width(run_dir):
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # rows, columns
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}  # the terminal's own size
    proc = subprocess.Popen([sys.executable, "-m", "cnn_tui", "show", str(run_dir)], stdout=follower,
                            stderr=follower, stdin=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(timeout=60) == 0
    os.close(leader)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert ANSI.search(text), "no colour in a terminal"
    widths = [len(ANSI.sub("", line)) for line in text.replace("\r", "").splitlines()]
    assert max(widths) == 120  # the charts take the terminal's width


def test_json_has_the_summary_and_series_that_match_the_events(run_dir):
    doc = json.loads(printed(run_dir, as_json=True, points=5))
    (run,) = doc["runs"]
    assert run["status"] == "completed" and run["summary"] == read_summary(run_dir)
    epochs = run["series"]["epoch"]
    assert epochs["epoch"] == [1, 2, 3]
    assert epochs["val/acc"][-1] == pytest.approx(run["summary"]["final"]["val/acc"])
    steps = run["series"]["step"]
    assert 2 <= len(steps["step"]) <= 5 and steps["step"][-1] == run["started"]["total_steps"]
    assert len(steps["train/loss"]) == len(steps["step"])
    assert run["test"]["count"] > 0


def test_json_of_a_million_step_sized_run_is_small_and_marks_the_sample(tmp_path):
    long = write_long_run(tmp_path / "long", 30_000)
    run = json.loads(printed(long, as_json=True))["runs"][0]
    assert run["points"]["sampled"] and len(run["series"]["step"]["step"]) <= 500
    assert run["series"]["epoch"]["epoch"] == list(range(1, 31))  # every epoch, never sampled
    assert run["diagnoses"][0]["code"] == "plateau"


def test_several_runs_print_one_after_another(run_dir):
    text = printed(run_dir, DATA / "style_run", width=80, height=12)
    assert "tiny (scratch)" in text and "recorded_style (style_transfer)" in text
    assert "style transfer losses" in text and "(log scale)" in text


def test_follow_prints_a_live_run_until_it_finishes(run_dir, tmp_path):
    """A run directory written line by line while `show --follow` reads it from a pipe."""
    live = tmp_path / "live"
    live.mkdir()
    (live / "summary.json").write_text("{}")
    lines = (run_dir / "events.jsonl").read_text().splitlines(keepends=True)
    (live / "events.jsonl").write_text("".join(lines[:2]))
    out = io.StringIO()

    def write_the_rest() -> None:
        with open(live / "events.jsonl", "a") as handle:
            for line in lines[2:]:
                handle.write(line)
                handle.flush()
                time.sleep(0.01)

    writer = threading.Thread(target=write_the_rest)
    writer.start()
    assert show([live], follow=True, out=out) == 0
    writer.join()
    text = out.getvalue()
    assert text.count("tiny (scratch):") == 2  # the report at the start, and the final one
    assert "tiny (scratch): running" in text.split("\n\n")[0]  # events this fresh: someone writes it
    assert "  3/3 " in text  # the epoch table, as the headless run prints it
    assert text.rstrip().endswith("step") and "completed: trained 3 epochs" in text.rsplit("tiny (scratch)", 1)[1]


@pytest.mark.parametrize("args, says", [
    (["--follow", "A", "B"], "give one run directory"),
    (["--points", "1", "A"], "--points: needs at least 2"),
])
def test_bad_show_options_are_one_line(args, says, capsys, tmp_path):
    from cnn_tui.cli import main

    assert main(["show", *[str(tmp_path / a) if a in "AB" else a for a in args]]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1


@pytest.mark.parametrize("rows", [22, 24, 30, 50, 70])
@pytest.mark.parametrize("which", ["classification", "style"])
def test_follow_in_a_terminal_fits_the_report_on_one_screen(run_dir, rows, which):
    from cnn_tui.commands.show import load
    from cnn_tui.show.report import Layout, render

    history, scan = load(run_dir if which == "classification" else DATA / "style_run")
    text = render(history, scan, Layout(100, 12, True, screen_rows=rows))
    assert len(text.splitlines()) < rows  # and a line for the cursor
    assert "loss" in text
    if which == "classification" and rows >= 50:
        assert "learning rate" in text  # a tall terminal gets every chart


@pytest.mark.parametrize("how", ["missing", "a_file", "not_a_run", "newer", "torn"])
@pytest.mark.parametrize("as_json", [False, True])
def test_show_on_what_is_not_a_readable_run(how, as_json, tmp_path, capsys):
    from cnn_tui.cli import main

    run = tmp_path / "run"
    if how == "a_file":
        run.write_text("hello")
    elif how == "not_a_run":
        run.mkdir()
    elif how in ("newer", "torn"):
        write_long_run(run, 300)
        with open(run / "events.jsonl", "a") as handle:
            handle.write('{"v":7,"type":"epoch","t":1}\n' if how == "newer" else '{"v":2,"type":"epo')
    capsys.readouterr()
    code = main(["show", str(run), *(["--json"] if as_json else [])])
    out, err = capsys.readouterr()
    if how == "torn":  # tolerated: the complete lines are shown
        assert code == 0
        assert json.loads(out)["runs"][0]["status"] == "completed" if as_json else "long (scratch): completed" in out
        return
    assert code == 2 and out == "" and err.count("\n") == 1
    assert str(run) in err and {"missing": "no such run directory", "a_file": "not a run directory but a file",
                                "not_a_run": "has no events.jsonl", "newer": "event version 7"}[how] in err
