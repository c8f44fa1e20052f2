"""Several runs at once (`cnn-tui open A B ...`, or space in the runs list): the first is the
screen's own run, the others are pinned over its loss, accuracy and learning-rate curves in
their own colours; a table says how they ended and which recipe fields set them apart. Live runs
are followed as they train."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import VerticalScroll

from cnn_tui.ui.screens.run import RunScreen
from cnn_tui.ui.sources import FollowRunDir, RunSource
from cnn_tui.ui.widgets.comparison_table import ComparisonTable
from cnn_tui.ui.widgets.pane import Pane


class CompareScreen(RunScreen):
    def __init__(self, source: RunSource, others: list[Path]) -> None:
        super().__init__(source, title=f"{len(others) + 1} runs compared")
        self.others = others

    @classmethod
    def of(cls, run_dirs: list[Path]) -> CompareScreen:
        """The first run followed as the screen's own, the others pinned over it."""
        return cls(FollowRunDir(run_dirs[0]), run_dirs[1:])

    def compose_curve_panes(self) -> ComposeResult:
        yield from self.compose_metric_panes()
        yield Pane("Runs compared", VerticalScroll(ComparisonTable(id="comparison")), id="compare-pane")

    def on_mount(self) -> None:
        super().on_mount()
        for run_dir in self.others:
            self.pin(run_dir)
