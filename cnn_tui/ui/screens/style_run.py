"""The run screen for style transfer: the image forming beside its content and style
pictures, the loss terms and per-layer style losses, plus the usual diagnosis, log and
(feature) model panes. Keys, sources and layout rules are the training run screen's.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical

from cnn_tui.ui.plots import style_layer_plot, style_loss_plot
from cnn_tui.ui.screens.run import RunScreen
from cnn_tui.ui.widgets.graphics_image import GraphicsImageView
from cnn_tui.ui.widgets.image_view import ImageView
from cnn_tui.ui.widgets.line_plot import LinePlot
from cnn_tui.ui.widgets.pane import Pane


class StyleRunScreen(RunScreen):
    def compose_curve_panes(self) -> ComposeResult:
        yield Pane("Image", Horizontal(
            self.picture("waiting for the first snapshot...", id="img-latest"),
            Vertical(self.picture(id="img-content"), self.picture(id="img-style"), id="thumbs"),
        ), id="image")
        yield Pane("Losses (log scale)", LinePlot(id="losses-plot"), id="losses")
        yield Pane("Style loss per layer (log scale)", LinePlot(id="layers-plot"), id="style-layers")

    def picture(self, placeholder: str = "", *, id: str) -> ImageView | GraphicsImageView:
        """Half-block cells, or the terminal's own graphics where launch() found them."""
        mode = getattr(self.app, "picture_mode", "halfblock")
        if mode == "halfblock":
            return ImageView(placeholder, id=id)
        return GraphicsImageView(mode, placeholder, id=id)

    def run_dir(self) -> Path | None:
        """Where the run writes its images: known to the source, or from the run's id."""
        known = getattr(self.source, "run_dir", None)
        if known is not None:
            return Path(known)
        out = getattr(self.source, "out_dir", None)
        if out is not None and self.state.started is not None:
            return Path(out) / self.state.started.run_id
        return None

    def draw_each_tick(self) -> None:
        """A new snapshot shows at the next tick (loading a PNG only when it is new)."""
        image_pane = self.query_one("#image")
        if image_pane.display and (not self.has_class("-compact", "-maximised") or image_pane.has_class("-current")):
            self._draw_images()

    def draw_curve_panes(self, shown: set[str]) -> None:
        state = self.state
        if "losses" in shown:
            plot = self.query_one("#losses-plot", LinePlot)
            plot.set_data(style_loss_plot(state, plot.plot_columns, self.smoothing))
        if "style-layers" in shown:
            plot = self.query_one("#layers-plot", LinePlot)
            plot.set_data(style_layer_plot(state, plot.plot_columns))

    def _draw_images(self) -> None:
        base = self.run_dir()
        images = self.state.images
        total = self.state.total_steps
        for role, widget_id, caption in (("latest", "#img-latest", None), ("content", "#img-content", "content"),
                                         ("style", "#img-style", "style")):
            event = images.get(role)
            if caption is None and event is not None:
                caption = "final image" if event.tag == "final" else f"step {event.step}/{total}"
            path = base / event.path if (event is not None and base is not None) else None
            self.query_one(widget_id).show(path, caption or "")
