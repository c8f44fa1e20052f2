"""The run screen's third page (w): what the network learned (Grad-CAM, the classes in feature space,
top patches per unit), and `n`: on a finished run, the views for the next validation image, drawn
by a `cnn-tui views` process in the background (torch stays out of the dashboard) and read back
from RUN_DIR/views/chosen/events.jsonl into the panes; `N`: the same for an image file chosen in a
file tree (any image, not only the validation set's)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult

from cnn_tui.contract.wire_reader import parse_lines
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

    def _finished_run_dir(self, key: str) -> Path | None:
        screen: Any = self  # mixed into RunScreen: its panes, state and notify
        run_dir = screen.run_dir()
        if screen.state.live or run_dir is None or screen.state.finished is None:
            screen.notify(f"{key} draws the views for another image once the run has finished", severity="warning")
            return None
        return run_dir

    def action_next_probe(self) -> None:
        screen: Any = self
        run_dir = self._finished_run_dir("n")
        if run_dir is None:
            return
        self.probe_index += 1
        screen.notify(f"drawing the views for validation image {self.probe_index}...", timeout=3)
        self.draw_probe(run_dir, ["--index", str(self.probe_index)])

    def action_probe_file(self) -> None:
        """Choose any image file (a tree from the current folder); its views are drawn as for `n`."""
        from cnn_tui.ui.screens.image_chooser import ImageChooser

        screen: Any = self
        run_dir = self._finished_run_dir("N")
        if run_dir is None:
            return

        def chosen(path: Path | None) -> None:
            if path is not None:
                screen.notify(f"drawing the views for {path.name}...", timeout=3)
                self.draw_probe(run_dir, ["--image", str(path)])

        screen.app.push_screen(ImageChooser("probe", Path.cwd(), []), chosen)

    @work(exclusive=True, group="probe")
    async def draw_probe(self, run_dir: Path, probe: list[str]) -> None:
        """probe: the `cnn-tui views` options that choose the image (--index N, or --image PATH)."""
        screen: Any = self  # mixed into RunScreen: its panes, state and notify
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cnn_tui", "views", str(run_dir), *probe,
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
