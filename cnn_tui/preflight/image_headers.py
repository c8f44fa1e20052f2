"""Image sizes and modes for the data report: how many files get resized (and centre-cropped, when
not square) to the recipe's `data.image_size`, and how many converted from which mode (L, RGBA, P,
CMYK, 16-bit grey ...) to the mode the net reads (RGB, or L with `data.grayscale`).

Read from the files' headers only: PIL's `Image.open` parses the header and decodes nothing until
the pixels are asked for, so this costs a file open and a few hundred bytes per image, whatever
the image's size: 5,000 files in 1.3 s on the 2-core machine at load 15-21 (decoding the same
tiny 24x24 PNGs took 1.7 s; a photo's decode costs far more, its header the same). No torch.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from cnn_tui.data.images import open_regular

SHOWN_SIZES = 3  # the most common sizes named in the line


@dataclass
class Headers:
    size: int  # the square side the loader makes every image
    mode: str  # what the loader converts every image to
    files: int = 0
    sizes: Counter[tuple[int, int]] = field(default_factory=Counter)  # (width, height) -> files
    modes: Counter[str] = field(default_factory=Counter)  # PIL mode -> files
    unreadable: int = 0  # no image header PIL knows (the loading report says which and why)

    @property
    def read(self) -> int:
        return self.files - self.unreadable

    @property
    def resized(self) -> int:
        return sum(n for (w, h), n in self.sizes.items() if (w, h) != (self.size, self.size))

    @property
    def cropped(self) -> int:
        return sum(n for (w, h), n in self.sizes.items() if w != h)

    @property
    def converted(self) -> Counter[str]:
        return Counter({m: n for m, n in self.modes.items() if m != self.mode})

    def as_dict(self) -> dict[str, Any]:
        ordered = sorted(self.sizes, key=_area) or [(0, 0)]
        return {"files": self.files, "unreadable": self.unreadable, "size": self.size, "mode": self.mode,
                "resized": self.resized, "cropped": self.cropped, "converted": dict(self.converted),
                "sizes": [[w, h, n] for (w, h), n in self.sizes.most_common(SHOWN_SIZES)],
                "smallest": list(ordered[0]), "largest": list(ordered[-1])}


def _area(size: tuple[int, int]) -> int:
    return size[0] * size[1]


def _header(path: str) -> tuple[tuple[int, int], str] | None:
    try:
        with open_regular(path) as handle, Image.open(handle) as image:
            return image.size, image.mode
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def read_headers(files: list[str], size: int, mode: str, workers: int = 4) -> Headers:
    """Each file's header (threads: the time is in opening files, which releases the GIL)."""
    found = Headers(size, mode, files=len(files))
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for header in pool.map(_header, files, chunksize=256):
            if header is None:
                found.unreadable += 1
            else:
                found.sizes[header[0]] += 1
                found.modes[header[1]] += 1
    return found


def format_headers(h: dict[str, Any]) -> str:
    """One line from `Headers.as_dict()` (what the picker's preview receives as JSON, too)."""
    size, read = h["size"], h["files"] - h["unreadable"]
    if not read:
        return "sizes: no image header could be read"
    common = ", ".join(f"{n:,} at {w}x{h_}" for w, h_, n in h["sizes"])
    sizes = (f"sizes: {h['resized']:,} of {read:,} files resized to {size}x{size}"
             + (f" ({h['cropped']:,} not square: centre-cropped)" if h["cropped"] else "")
             + f"; {common}" + (f"; smallest {h['smallest'][0]}x{h['smallest'][1]}, largest "
                                f"{h['largest'][0]}x{h['largest'][1]}" if h["smallest"] != h["largest"] else ""))
    converted = h["converted"]
    modes = (f"modes: {sum(converted.values()):,} converted to {h['mode']} ("
             + ", ".join(f"{n:,} from {m}" for m, n in sorted(converted.items(), key=lambda kv: -kv[1])) + ")"
             if converted else f"modes: every file is {h['mode']} already")
    return f"{sizes}\n{modes}"


def recipe_files(data: Any) -> list[str] | None:
    """The image files an image_folder recipe reads (every split, as the loader finds them); None for
    a built-in or torchvision dataset, whose images are made or unpacked at one size and mode."""
    if data.dataset != "image_folder":
        return None
    from cnn_tui.data.folder_scan import scan

    layout = scan(data)
    return [f for split in (layout.train, layout.val, layout.test) if split is not None for f in split.files]
