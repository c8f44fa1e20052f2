"""A picture of a style-transfer run by its role: the image being optimised, or its sources."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from cnn_tui.ui.view import DrawsRun, RunView


class RunPicture(DrawsRun):
    """Mixed into the picture widgets (half-block cells, or the terminal's own graphics)."""

    when_shown: ClassVar[bool] = True
    role = "latest"  # latest (the image being optimised), content or style

    def show(self, path: Path | None, caption: str = "") -> None:
        raise NotImplementedError

    def draw(self, view: RunView) -> None:
        """A new snapshot shows at the next tick (the widget loads a PNG only when it is new)."""
        event = view.state.images.get(self.role)
        caption = None if self.role == "latest" else self.role
        if caption is None and event is not None:
            caption = "final image" if event.tag == "final" else f"step {event.step}/{view.state.total_steps}"
        path = view.run_dir / event.path if (event is not None and view.run_dir is not None) else None
        self.show(path, caption or "")
