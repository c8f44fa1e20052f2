"""The run screen: live curves, gradients, diagnosis and log for one run, from any source.

Events are folded into a RunState as they arrive; the panes redraw from it on a timer
(twice a second, curves once; less often while the run holds this machine's cores: ui/pace.py)
and only when something changed, so a fast event stream never floods the UI and the UI takes
almost nothing from the training beside it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Static

from cnn_tui.contract.smoothing import DEFAULT_WEIGHT
from cnn_tui.ui.compared_runs import MAX_RUNS, Compared, label_runs
from cnn_tui.ui.messages import ShowRuns
from cnn_tui.ui.pace import STATUS_SECONDS, cpu_bound, curve_seconds, status_seconds
from cnn_tui.ui.plots import gradient_plot, lr_plot, metric_plot, weight_spread_plot
from cnn_tui.ui.screens.chart_keys import ChartKeys
from cnn_tui.ui.screens.control_keys import ControlKeys
from cnn_tui.ui.screens.learned_keys import LEARNED, LearnedKeys
from cnn_tui.ui.sources import FollowRunDir, RunSource
from cnn_tui.ui.state import RunState
from cnn_tui.ui.view import DrawsRun, RunView
from cnn_tui.ui.widgets.activation_strips import ActivationStrips
from cnn_tui.ui.widgets.chart import Chart, share_plotext
from cnn_tui.ui.widgets.confusion_map import ConfusionMap
from cnn_tui.ui.widgets.diagnosis import DiagnosisView
from cnn_tui.ui.widgets.footer import Footer
from cnn_tui.ui.widgets.grad_bars import GradBars
from cnn_tui.ui.widgets.health_table import HealthTable
from cnn_tui.ui.widgets.inside_boards import FeatureMapsBoard, FiltersBoard, MistakesBoard
from cnn_tui.ui.widgets.model_table import ModelTable
from cnn_tui.ui.widgets.pane import Pane
from cnn_tui.ui.widgets.run_log import RunLog
from cnn_tui.ui.widgets.status_bar import StatusBar
from cnn_tui.ui.widgets.system_view import SystemView

SMOOTHING_STEPS = [0.0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99]
COMPACT_WIDTH, COMPACT_HEIGHT = 120, 34
# Every wake-up of the dashboard can stall a training step (torch's threads wait for the
# one that was preempted), so while a run is live the screen redraws at a measured pace (ui/pace.py),
# checked this often; keys and resizes redraw at once:
REFRESH_SECONDS = STATUS_SECONDS


class RunScreen(LearnedKeys, ControlKeys, ChartKeys, Screen):
    BINDINGS = [
        Binding("p", "toggle_pause", "Pause/resume"),
        Binding("s", "stop", "Stop"),
        Binding("q", "quit_run", "Quit"),
        Binding("tab", "next_pane(1)", "Next pane", priority=True),
        Binding("shift+tab", "next_pane(-1)", "Prev pane", show=False, priority=True),
        Binding("m", "maximise", "Maximise"),
        Binding("plus,equals_sign", "smoothing(1)", "Smooth+"),
        Binding("minus", "smoothing(-1)", "Smooth-"),
        Binding("o", "overlay", "Overlay run"),
        Binding("O", "clear_overlays", "Clear overlays", show=False),
        Binding("v", "other_page", "Curves/inside"),
        Binding("w", "learned_page", "What it learned", show=False),
        Binding("n", "next_probe", "Views for the next image", show=False),
        Binding("N", "probe_file", "Views for an image file", show=False),
        Binding("l", "next_layer", "Layer", show=False),
        Binding("x", "x_axis", "x: step/epoch/time", show=False),
        Binding("left_square_bracket", "zoom(0.5)", "Zoom in", show=False),
        Binding("right_square_bracket", "zoom(2)", "Zoom out", show=False),
        Binding("comma", "pan(-0.25)", "Pan left", show=False),
        Binding("full_stop", "pan(0.25)", "Pan right", show=False),
        Binding("c", "cursor", "Value cursor", show=False),
        Binding("left", "move_cursor(-0.02)", "Cursor left", show=False),
        Binding("right", "move_cursor(0.02)", "Cursor right", show=False),
        Binding("y", "log_y", "Log y", show=False),
        Binding("Y", "robust_y", "Robust y", show=False),
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self, source: RunSource, title: str = "") -> None:
        super().__init__()
        self.source = source
        self.state = RunState()
        self.pinned: list[Compared] = []  # other runs overlaid on the curves (o), followed if live
        self.smoothing = DEFAULT_WEIGHT
        self.current = 0
        self._drawn = -1  # state version the screen last showed
        self._plots_drawn = -1  # ... and the curves
        self._plots_at = 0.0  # monotonic time of the last curve redraw
        self._status_at = 0.0  # ... of the last redraw of anything
        self._charts = 0  # charts drawn by the last curve redraw (the pace follows what is on screen)
        self._closing = False
        self._decided = False  # the user answered the quit question (the run is stopped or left)
        self.spread_layer = ""  # the layer whose weight distribution is drawn ("": the first)
        self._pin_sources: list[FollowRunDir] = []
        self.x_axis = "step"
        self.sub_title = title
        self._panes: list[Pane] | None = None  # found once mounted: a screen's panes are composed, never added
        self._has_inside: bool | None = None  # ... and whether it has the inside page (not style transfer)

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(id="tabs")
        with Container(id="panes"):
            yield from self.compose_curve_panes()
            yield Pane("Diagnosis", VerticalScroll(DiagnosisView(id="diagnosis")), id="diag")
            yield Pane("Log", RunLog(id="log", wrap=True, markup=False, auto_scroll=True), id="logpane")
            yield from self.compose_corner_pane()
        inside = list(self.compose_inside_panes())
        if inside:
            yield Container(*inside, id="inside")
            yield Container(*self.compose_learned_panes(), id=LEARNED)  # a classifier's: not style transfer's
        yield Footer()

    def compose_corner_pane(self) -> ComposeResult:
        """The curves page's last pane: is the run input-bound? (The model table is inside, on page v.)"""
        yield Pane("System", VerticalScroll(SystemView(id="system")), id="system-pane")

    def compose_inside_panes(self) -> ComposeResult:
        """The second page (v): what the model does inside, drawn from the engine's views."""
        yield Pane("Feature maps", FeatureMapsBoard(id="feature-maps"), id="fmaps-pane")
        yield Pane("First-layer filters", FiltersBoard(id="filters"), id="filters-pane")
        yield Pane("Confusion matrix (validation)", VerticalScroll(ConfusionMap(id="confusion")), id="confusion-pane")
        yield Pane("Worst mistakes", MistakesBoard(id="mistakes"), id="mistakes-pane")
        yield Pane("Weight distribution (l: next layer)",
                   Chart(lambda v, columns: weight_spread_plot(v.state, columns, v.layer), id="spread-plot"),
                   id="spread-pane")
        yield Pane("Activation and weight health",
                   Horizontal(VerticalScroll(HealthTable(id="health"), id="health-scroll"),
                              VerticalScroll(ActivationStrips(id="spectra"), id="spectra-scroll"), id="health-row"),
                   id="health-pane")
        yield Pane("Model", VerticalScroll(ModelTable(id="model")), id="model-pane")

    def compose_curve_panes(self) -> ComposeResult:
        """The panes that differ between kinds of run (style transfer has its own)."""
        yield from self.compose_metric_panes()
        yield Pane("Gradient norm per layer (log scale)",
                   Chart(lambda v, columns: gradient_plot(v.state, columns), id="grad-plot"), id="grads")
        yield Pane("Latest gradients", VerticalScroll(GradBars(id="grad-bars")), id="bars")

    def compose_metric_panes(self) -> ComposeResult:
        """Loss, accuracy and learning rate, with the pinned runs over them."""
        yield Pane("Loss", Chart(lambda v, columns: metric_plot(v.state, "loss", columns, v.smoothing, v.pinned),
                                 id="loss-plot"), id="loss")
        yield Pane("Accuracy", Chart(lambda v, columns: metric_plot(v.state, "acc", columns, v.smoothing, v.pinned),
                                     id="acc-plot"), id="acc")
        yield Pane("Learning rate", Chart(lambda v, columns: lr_plot(v.state, columns, v.pinned), id="lr-plot"),
                   id="lr")

    @property
    def panes(self) -> list[Pane]:
        """Every pane, in order. A query walks every widget of the screen, and a tab asked for them
        five times: they are looked up once, when mounted."""
        return self._panes if self._panes is not None else list(self.query(Pane))

    def has_inside(self) -> bool:
        """Whether this screen has the inside page (v): asked by check_action, which Textual calls for
        every key of the footer each time the focus moves."""
        if self._has_inside is None:
            if not self.is_mounted:
                return bool(self.query("#inside"))
            self._has_inside = bool(self.query("#inside"))
        return self._has_inside

    def on_mount(self) -> None:
        self._panes = list(self.query(Pane))
        self.query_one(RunLog).can_focus = False
        for scroll in self.query(VerticalScroll):
            scroll.can_focus = False
        self._apply_layout()
        self.consume()
        self.set_interval(REFRESH_SECONDS, self.refresh_if_changed)

    def on_resize(self) -> None:
        self._apply_layout()
        self.invalidate()

    def _apply_layout(self) -> None:
        compact = self.size.width < COMPACT_WIDTH or self.size.height < COMPACT_HEIGHT
        self.set_class(compact, "-compact")
        panes = self.panes
        for i, pane in enumerate(panes):
            pane.set_class(i == self.current, "-current")
        parent = panes[self.current].parent
        page = parent.id if parent is not None else "panes"
        # The page shown is set on the pages themselves: a class on the screen restyled every widget
        # of it (~50 ms a page change under a training load); the classes stay, for the keys to read.
        self.set_class(page == "inside", "-inside", update=False)
        self.set_class(page == LEARNED, "-learned", update=False)
        for container in {pane.parent for pane in panes if pane.parent is not None}:  # the pages
            container.display = container.id == page
        self._update_tabs()

    def _page(self) -> list[Pane]:
        """The panes of the page on screen (curves, or inside the model)."""
        page = "inside" if self.has_class("-inside") else LEARNED if self.has_class("-learned") else "panes"
        return [p for p in self.panes if p.parent is not None and p.parent.id == page]

    def _update_tabs(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        current = self.panes[self.current]
        for pane in self._page():
            text.append(f" {pane.title} ", style="reverse bold" if pane is current else "dim")
        if self.has_class("-learned"):
            text.append("  tab: next pane  w: back to the curves  n: next image (finished run)", style="dim italic")
        else:
            text.append("  tab: next pane" + ("  v: curves/inside" if self.has_inside() else ""),
                        style="dim italic")
        tabs = self.query_one("#tabs", Static)
        if text != tabs.content:  # the same tabs (the focus caught up with a tab): nothing to repaint
            tabs.update(text, layout=False)  # one row, whatever it holds: no new layout of the screen

    # ------------------------------------------------------------------ events in
    @work(exclusive=True, group="events")
    async def consume(self) -> None:
        count = 0
        async for event in self.source.events():
            self.state.ingest(event)
            count += 1
            if count % 2000 == 0:
                await asyncio.sleep(0)  # let the UI breathe while replaying a long run
        if self.source.exit_message:
            self.state.crashed(self.source.exit_message)
        if self.source.lost:
            self.state.lost(self.source.lost)
        self.refresh_if_changed()

    def refresh_if_changed(self) -> None:
        if self._closing or not self.is_attached:  # popped while events were still arriving
            return
        if (self.state.version != self._drawn and self._due(self._status_at, status_seconds(self._busy()))) \
                or (self.state.version != self._plots_drawn and self._plots_due()):
            self.redraw()

    def invalidate(self) -> None:
        """Redraw everything on the next tick (after a key, a resize, a new overlay)."""
        self._drawn = self._plots_drawn = -1
        self._plots_at = self._status_at = 0.0
        if self.is_attached:
            self.call_later(self.refresh_if_changed)

    def _busy(self) -> bool:
        started = self.state.started
        return cpu_bound(self.state.status, started.device if started is not None else None)

    def _due(self, last: float, seconds: float) -> bool:
        """Whether `seconds` have passed since `last`, give or take half a tick of the timer that asks
        (a pace of 1 s checked every 0.5 s would otherwise wait 1.5 s whenever a tick came early)."""
        return not self.state.live or time.monotonic() - last >= seconds - REFRESH_SECONDS / 2

    def _plots_due(self) -> bool:
        return self._due(self._plots_at, curve_seconds(self._busy(), self._charts))

    def redraw(self) -> None:
        try:
            self._redraw()
        except NoMatches:  # the screen is being taken down
            pass

    def view(self) -> RunView:
        layers = self.state.health_layers()
        layer = self.spread_layer if self.spread_layer in layers else (layers[0] if layers else "")
        return RunView(self.state, self.smoothing, self.size.width, tuple(self.pinned), self.run_dir(), layer,
                       self.x_axis)

    def run_dir(self) -> Path | None:
        """Where the run writes its files (its images): known to the source, or from the run's id."""
        if self.source.run_dir is not None:
            return self.source.run_dir
        if self.source.out_dir is not None and self.state.started is not None:
            return self.source.out_dir / self.state.started.run_id
        return None

    def _redraw(self) -> None:
        """Every widget that draws the run draws itself; the curves only when due, panes only when shown."""
        self._drawn, self._status_at = self.state.version, time.monotonic()
        plots_due = self._plots_due()
        if plots_due:
            self._plots_drawn, self._plots_at = self.state.version, time.monotonic()
        view = self.view()
        with self.app.batch_update():
            drawn = [w for w in self._drawn_widgets() if not w.paced or plots_due]
            for widget in drawn:
                widget.draw(view)
            charts = [w for w in drawn if isinstance(w, Chart)]
            share_plotext(charts)
        if plots_due:
            self._charts = len(charts)

    def _drawn_widgets(self) -> list[DrawsRun]:
        """The widgets that draw the run, less those of panes not on screen (unless they always draw)."""
        compact = self.has_class("-compact", "-maximised")
        page = self._page()
        shown = {p for p in page if p.display and (not compact or p.has_class("-current"))}
        widgets: list[DrawsRun] = []
        for widget in self.walk_children():
            if isinstance(widget, DrawsRun):
                pane = next((a for a in widget.ancestors if isinstance(a, Pane)), None)
                if not widget.when_shown or pane in shown:
                    widgets.append(widget)
        return widgets

    # ------------------------------------------------------------------ keys
    def action_next_pane(self, delta: int) -> None:
        """Through the curves and inside pages, or round the learned page (w) while on it."""
        panes = self.panes
        learned = self.has_class("-learned")
        cycle = [i for i, p in enumerate(panes) if (p.parent is not None and p.parent.id == LEARNED) == learned]
        at = cycle.index(self.current) if self.current in cycle else -delta
        self.current = cycle[(at + delta) % len(cycle)]
        self._apply_layout()
        self.panes[self.current].focus()
        self.invalidate()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The inside page's keys exist only where there is one (not for style transfer)."""
        if action in ("other_page", "next_layer", "learned_page", "next_probe") and self.is_mounted \
                and not self.has_inside():
            return False
        return True

    def action_other_page(self) -> None:
        """Curves <-> inside the model: to the first pane of the other page."""
        if not self.has_inside():
            return
        other = "panes" if self.has_class("-inside") else "inside"
        self.current = next(i for i, p in enumerate(self.panes) if p.parent is not None and p.parent.id == other)
        self._apply_layout()
        self.panes[self.current].focus()
        self.invalidate()

    def action_next_layer(self) -> None:
        layers = self.state.health_layers()
        if layers:
            now = self.view().layer
            self.spread_layer = layers[(layers.index(now) + 1) % len(layers)] if now in layers else layers[0]
            self.notify(f"weight distribution of {self.spread_layer}", timeout=2)
            self.invalidate()

    def action_maximise(self) -> None:
        self.toggle_class("-maximised")
        self.invalidate()

    def action_smoothing(self, delta: int) -> None:
        i = min(range(len(SMOOTHING_STEPS)), key=lambda k: abs(SMOOTHING_STEPS[k] - self.smoothing))
        self.smoothing = SMOOTHING_STEPS[max(0, min(len(SMOOTHING_STEPS) - 1, i + delta))]
        self.invalidate()

    def on_descendant_focus(self, event) -> None:
        widget = event.widget
        if isinstance(widget, Pane) and widget in self.panes and widget is not self.panes[self.current]:  # a click
            self.current = self.panes.index(widget)
            for i, pane in enumerate(self.panes):
                pane.set_class(i == self.current, "-current")
            self._update_tabs()

    def action_overlay(self) -> None:
        def chosen(run_dir: Path | None) -> None:
            if run_dir is None:
                return
            if len(self.pinned) + 1 >= MAX_RUNS:
                self.notify(f"At most {MAX_RUNS - 1} runs overlaid: O clears them.", severity="warning")
                return
            self.pin(run_dir)
            run = self.pinned[-1]
            self.notify(f"Overlaying {run_dir.name} ({run.color}); O clears the overlays.")

        self.post_message(ShowRuns(chosen))

    def pin(self, run_dir: Path) -> None:
        """Overlay another run (a finished one, or one still training: it is followed)."""
        self.pinned.append(Compared(run_dir))
        label_runs([Compared(self.run_dir() or Path("this run")), *self.pinned])
        self.follow_pinned(self.pinned[-1])
        self.invalidate()

    @work(group="pinned")
    async def follow_pinned(self, run: Compared) -> None:
        source = FollowRunDir(run.run_dir)
        self._pin_sources.append(source)
        last = 0.0
        async for event in source.events():
            run.state.ingest(event)
            if time.monotonic() - last > curve_seconds(self._busy(), self._charts):  # a live pinned run: as it goes
                last = time.monotonic()
                self.invalidate()
        self.invalidate()

    def action_clear_overlays(self) -> None:
        self.pinned.clear()
        self.workers.cancel_group(self, "pinned")
        self.invalidate()

    async def on_unmount(self) -> None:
        """Leaving without an answer (the app closed, killed by a signal it could catch): the default."""
        self._closing = True
        for source in self._pin_sources:
            await source.close()
        await self.source.close(detach=self._decided or not self.stop_on_exit)
