"""Choose a content or style image from the file system: recent choices first, then a
tree rooted at the current directory that shows only folders and image files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, OptionList, Static
from textual.widgets.option_list import Option

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})


class ImageTree(DirectoryTree):
    """Folders (not hidden ones) and files PIL can usually open, by their suffix."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".")
                and (p.is_dir() or p.suffix.lower() in IMAGE_SUFFIXES)]


class ImageChooser(ModalScreen[Path | None]):
    """Dismissed with the chosen file, or None (escape)."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, role: str, root: Path, recent: list[Path]) -> None:
        super().__init__()
        self.role, self.root, self.recent = role, root, recent

    def compose(self) -> ComposeResult:
        with Vertical(id="chooser"):
            yield Static(f"[b]Choose the {self.role} image[/b]  [dim]enter picks · tab moves · escape cancels[/dim]",
                         id="chooser-title")
            if self.recent:
                yield Static("recent", classes="chooser-label")
                yield OptionList(*[Option(str(p), id=str(i)) for i, p in enumerate(self.recent)], id="recent")
            yield Static(f"files under {self.root}", classes="chooser-label")
            yield ImageTree(self.root, id="tree")

    def on_mount(self) -> None:
        self.query_one("#recent" if self.recent else "#tree").focus()

    @on(OptionList.OptionSelected, "#recent")
    def _recent_chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.recent[int(event.option.id or 0)])

    @on(DirectoryTree.FileSelected)
    def _file_chosen(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(Path(event.path))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
