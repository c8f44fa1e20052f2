"""The run screen for style transfer: the image forming beside its content and style
pictures, the loss terms and per-layer style losses, plus the usual diagnosis, log and
(feature) model panes. Keys, sources and layout rules are the training run screen's.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll

from cnn_tui.ui.plots import style_layer_plot, style_loss_plot
from cnn_tui.ui.screens.run import RunScreen
from cnn_tui.ui.widgets.chart import Chart
from cnn_tui.ui.widgets.graphics_image import GraphicsImageView
from cnn_tui.ui.widgets.image_view import ImageView
from cnn_tui.ui.widgets.model_table import ModelTable
from cnn_tui.ui.widgets.pane import Pane


class StyleRunScreen(RunScreen):
    def compose_curve_panes(self) -> ComposeResult:
        yield Pane("Image", Horizontal(
            self.picture("latest", "waiting for the first snapshot...", id="img-latest"),
            Vertical(self.picture("content", id="img-content"), self.picture("style", id="img-style"), id="thumbs"),
        ), id="image")
        yield Pane("Losses (log scale)",
                   Chart(lambda v, columns: style_loss_plot(v.state, columns, v.smoothing), id="losses-plot"),
                   id="losses")
        yield Pane("Style loss per layer (log scale)",
                   Chart(lambda v, columns: style_layer_plot(v.state, columns), id="layers-plot"), id="style-layers")

    def compose_corner_pane(self) -> ComposeResult:
        yield Pane("Model", VerticalScroll(ModelTable(id="model")), id="model-pane")  # no inside page here

    def compose_inside_panes(self) -> ComposeResult:
        yield from ()  # no classifier inside: the feature net is frozen and fixed

    def picture(self, role: str, placeholder: str = "", *, id: str) -> ImageView | GraphicsImageView:
        """Half-block cells, or the terminal's own graphics where launch() found them."""
        mode = getattr(self.app, "picture_mode", "halfblock")
        if mode == "halfblock":
            return ImageView(placeholder, role=role, id=id)
        return GraphicsImageView(mode, placeholder, role=role, id=id)
