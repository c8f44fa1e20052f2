"""The README's pictures are the snapshot tests' own SVGs, copied to docs/images/ by `make screenshot`.

One list (SHOTS) serves the copy and the test that fails when a copy differs from its snapshot
(tests/ui/test_screenshots.py), so a picture in the README cannot drift from the screen the
snapshot tests check. After an intended UI change: update the snapshots (`pytest tests/ui
--snapshot-update`), then `make screenshot`.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = ROOT / "tests" / "ui" / "__snapshots__"
IMAGES = ROOT / "docs" / "images"

# picture in docs/images -> the snapshot it copies
SHOTS = {
    "dashboard.svg": "test_snapshots/test_system_pane[160x48].svg",
    "inside.svg": "test_inside_screen/test_inside_page[160x48].svg",
    "picker.svg": "test_snapshots/test_picker[160x48].svg",
}


def stale() -> list[str]:
    """The pictures that are missing or differ from their snapshot."""
    return [name for name, source in SHOTS.items()
            if not (IMAGES / name).is_file() or (IMAGES / name).read_bytes() != (SNAPSHOTS / source).read_bytes()]


def main() -> int:
    IMAGES.mkdir(parents=True, exist_ok=True)
    for name, source in SHOTS.items():
        shutil.copyfile(SNAPSHOTS / source, IMAGES / name)
        print(f"docs/images/{name} <- tests/ui/__snapshots__/{source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
