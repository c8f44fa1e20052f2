"""The run screen's third page (w): what the network learned (Grad-CAM, the classes in feature space,
top patches per unit), and `n`: on a finished run, the views for the next validation image, drawn
by a `cnn-tui views` process in the background (torch stays out of the dashboard) and read back
from RUN_DIR/views/chosen/events.jsonl into the panes."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from textual import work
from textual.app import ComposeResult

from cnn_tui.contract.events import parse_lines
from cnn_tui.ui.widgets.learned_boards import EmbeddingBoard, GradCamBoard, TopPatchesBoard
from cnn_tui.ui.widgets.pane import Pane

LEARNED = "learned"  # the page's container id
VIEWS_SECONDS = 120  # a views process that takes longer is given up on


class LearnedKeys:
    probe_index = -1  # the validation image `n` drew last (-1: none yet; the epochs' probe is image 0)

    def compose_learned_panes(self) -> ComposeResult:
        yield Pane("Where it looks (Grad-CAM)", GradCamBoard(id="gradcam"), id="gradcam-pane")
        yield Pane("Classes in feature space (PCA of the penultimate layer)", EmbeddingBoard(id="embedding"),
                   id="embedding-pane")
        yield Pane("What units respond to (top validation patches)", TopPatchesBoard(id="top-patches"),
                   id="patches-pane")

    def action_learned_page(self) -> None:
        """To the learned page's first pane, or back to the curves from it."""
        screen: Any = self  # mixed into RunScreen: its panes, state and notify
        if not screen.query(f"#{LEARNED}"):
            return
        target = "panes" if screen.has_class("-learned") else LEARNED
        screen.current = next(i for i, p in enumerate(screen.panes) if p.parent is not None and p.parent.id == target)
        screen._apply_layout()
        screen.panes[screen.current].focus()
        screen.invalidate()

    def action_next_probe(self) -> None:
        screen: Any = self  # mixed into RunScreen: its panes, state and notify
        run_dir = screen.run_dir()
        if screen.state.live or run_dir is None or screen.state.finished is None:
            screen.notify("n draws the views for another image once the run has finished", severity="warning")
            return
        self.probe_index += 1
        screen.notify(f"drawing the views for validation image {self.probe_index}...", timeout=3)
        self.draw_probe(run_dir, self.probe_index)

    @work(exclusive=True, group="probe")
    async def draw_probe(self, run_dir, index: int) -> None:
        screen: Any = self  # mixed into RunScreen: its panes, state and notify
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cnn_tui", "views", str(run_dir), "--index", str(index),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), VIEWS_SECONDS)
        except (TimeoutError, asyncio.CancelledError) as exc:  # too slow, or the screen went: leave no process
            proc.kill()
            await proc.wait()
            if isinstance(exc, asyncio.CancelledError):
                raise
            screen.notify(f"cnn-tui views took over {VIEWS_SECONDS} s and was stopped", severity="error")
            return
        if proc.returncode != 0:
            line = err.decode(errors="replace").strip().splitlines()
            screen.notify(line[-1] if line else f"cnn-tui views failed ({proc.returncode})", severity="error")
            self.probe_index = -1 if "out of range" in (line[-1] if line else "") else self.probe_index
            return
        try:
            text = (run_dir / "views" / "chosen" / "events.jsonl").read_text()
        except OSError as exc:
            screen.notify(f"{run_dir}: cannot read the views written: {exc.strerror or exc}", severity="error")
            return
        for event in parse_lines(text.splitlines()):
            screen.state.ingest(event)
        said = out.decode(errors="replace").strip().splitlines()
        screen.notify(said[0] if said else "views drawn", timeout=4)
        screen.invalidate()
