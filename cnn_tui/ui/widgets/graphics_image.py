"""A picture at the terminal's full resolution (Kitty's graphics protocol or Sixel, via
textual-image), with a caption underneath. Same `show()` as ImageView, which it replaces
where the terminal supports graphics (see ui/picture_mode.py)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import Static

from cnn_tui.ui.picture_file import read_if_changed
from cnn_tui.ui.widgets.run_picture import RunPicture


class GraphicsImageView(Vertical, RunPicture):
    DEFAULT_CSS = """
    GraphicsImageView { height: 1fr; width: 1fr; }
    GraphicsImageView > Center { height: 1fr; }
    GraphicsImageView .picture { height: 1fr; width: auto; }
    GraphicsImageView .caption { height: 1; width: 1fr; text-align: center; color: $text-muted; }
    """

    def __init__(self, mode: str, placeholder: str = "", *, role: str = "latest", id: str | None = None) -> None:
        super().__init__(id=id)
        self.role = role
        self.mode, self.placeholder = mode, placeholder
        self.picture = None
        self.source: tuple[str, float] | None = None  # (path, mtime) of what is shown
        self.caption = ""

    def compose(self) -> ComposeResult:
        from textual_image.widget import SixelImage, TGPImage

        widget = SixelImage if self.mode == "sixel" else TGPImage
        with Center():
            yield widget(classes="picture")
        yield Static(self.placeholder, classes="caption")

    def show(self, path: Path | None, caption: str = "") -> None:
        """Load `path` if it changed (a missing or half-written file keeps the last picture)."""
        if caption != self.caption:
            self.caption = caption
            self.query_one(".caption", Static).update(caption)
        found = read_if_changed(path, self.source)
        if found is not None:
            self.picture, self.source = found
            self.query_one(".picture").image = self.picture  # type: ignore[attr-defined]  # textual-image
