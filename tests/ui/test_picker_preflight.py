"""The picker's preview shows the data report and the cost estimate (issue 30), from a child process
started once the selection stays put; the first frame does not wait for it, a run on top stops it,
and the real child answers for a real recipe."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cnn_tui.ui import preflight_child
from cnn_tui.ui.app import CnnTuiApp
from tests.ui.conftest import wait_until
from tests.ui.preflight_fake import fake_preflight  # noqa: F401 (a fixture)
from tests.ui.test_picker_course_keys import highlight, mine  # noqa: F401 (a fixture)
from tests.ui.test_snapshots import settle

pytestmark = pytest.mark.timeout(120)


def _preview(app) -> str:
    return str(app.screen.query_one("#preview").render())


async def test_the_preview_shows_the_report_and_the_estimate(mine, fake_preflight):  # noqa: F811
    app = CnnTuiApp(recipes_dirs=[mine])
    async with app.run_test(size=(120, 40)) as pilot:
        highlight(app.screen, "zz_plain")
        await pilot.pause()
        assert "reading the data..." in _preview(app)  # the first frames do not wait for the child
        await wait_until(pilot, lambda: "about 5 s an epoch" in _preview(app), 60, "the estimate shown")
        shown = _preview(app)
        assert "before you train" in shown and "leakage   none (train / val" in shown
        assert "peak about 46.9 MB on cpu" in shown and "2.8 MMACs an image" in shown


async def test_a_child_that_fails_says_why(mine, monkeypatch):  # noqa: F811
    monkeypatch.setattr(preflight_child, "preflight_command",
                        lambda recipe, overrides: [sys.executable, "-c", "raise SystemExit(3)"])
    app = CnnTuiApp(recipes_dirs=[mine])
    async with app.run_test(size=(120, 40)) as pilot:
        highlight(app.screen, "zz_plain")
        await wait_until(pilot, lambda: "exit status 3" in _preview(app), 60, "the failure shown")


async def test_moving_on_ends_the_child(mine, monkeypatch, tmp_path):  # noqa: F811
    """The first recipe's child is killed when the selection moves (and the second one's started)."""
    started = tmp_path / "started"
    started.mkdir()
    code = ("import os, sys, time, pathlib; pathlib.Path(sys.argv[1], str(os.getpid())).touch(); time.sleep(60)")
    monkeypatch.setattr(preflight_child, "preflight_command",
                        lambda recipe, overrides: [sys.executable, "-c", code, str(started)])
    app = CnnTuiApp(recipes_dirs=[mine])
    async with app.run_test(size=(120, 40)) as pilot:
        highlight(app.screen, "zz_plain")
        await wait_until(pilot, lambda: len(list(started.iterdir())) == 1, 60, "the first child")
        first = int(next(started.iterdir()).name)
        highlight(app.screen, "zz_flips")
        await wait_until(pilot, lambda: len(list(started.iterdir())) == 2, 60, "the second child")
        await wait_until(pilot, lambda: not _alive(first), 10, "the first child ended")
    assert not any(_alive(int(p.name)) for p in started.iterdir())  # quitting ends the second


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_preview_with_the_estimate(snap_compare, fake_preflight, size):  # noqa: F811
    """scratch_cnn's preview with the (fake, fixed) report and estimate; at 80x24 scrolled to them."""
    from tests.ui.conftest import make_app

    async def shown(pilot):
        await wait_until(pilot, lambda: "about 5 s an epoch" in _preview(pilot.app), 60, "the estimate shown")
        await settle(pilot)
        scroll = pilot.app.screen.query_one("#preview-scroll")
        preview = pilot.app.screen.query_one("#preview")
        from rich.text import Text

        lines = Text(str(preview.render())).wrap(pilot.app.console, preview.size.width)  # as the preview wraps
        top = next(i for i, line in enumerate(lines) if line.plain.startswith("before you train"))
        scroll.scroll_to(y=top, animate=False)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=shown)


@pytest.mark.timeout(240)
def test_the_real_child_answers(tiny_recipe_path):
    done = subprocess.run([sys.executable, "-m", "cnn_tui.preflight.preview", str(tiny_recipe_path)],
                          capture_output=True, text=True, timeout=220)
    parts = {p["part"]: p for p in map(json.loads, done.stdout.splitlines())}
    assert done.returncode == 0 and set(parts) == {"data", "cost"}, done.stdout + done.stderr
    assert any(x.startswith("leakage none") for x in parts["data"]["lines"])
    assert any(x.startswith("images train 96 / val 48; 3 classes") for x in parts["data"]["lines"]), parts
    assert any("an epoch" in x for x in parts["cost"]["lines"])


def test_style_transfer_gives_one_error_part():
    done = subprocess.run([sys.executable, "-m", "cnn_tui.preflight.preview", "style_transfer_random_net"],
                          capture_output=True, text=True, timeout=120)
    (part,) = map(json.loads, done.stdout.splitlines())
    assert done.returncode == 2 and part["part"] == "error" and "optimises the pixels" in part["message"]
