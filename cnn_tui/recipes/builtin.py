"""Where the built-in recipes live, and a cheap listing that needs neither torch nor pydantic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import yaml

from cnn_tui.contract.kinds import DEFAULT_KIND, optimises_an_image
from cnn_tui.recipes.yaml_io import load_listing_text

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def recipes_dir() -> Path:
    """Wheels carry the recipes inside the package; a source checkout keeps them at the top."""
    bundled = PACKAGE_DIR / "builtin_recipes"
    return bundled if bundled.is_dir() else PACKAGE_DIR.parent / "recipes"


def paths(folder: Path | None = None) -> list[Path]:
    folder = folder or recipes_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def names() -> list[str]:
    return [p.stem for p in paths()]


def find(name: str) -> Path | None:
    for path in paths():
        if path.stem == name:
            return path
    return None


def headers(folder: Path | None = None) -> Iterator[dict[str, str]]:
    """name, kind, description and path of each recipe, read leniently for listings."""
    for path in paths(folder):
        try:
            raw = load_listing_text(path.read_text(encoding="utf-8"))  # bounded: an alias bomb is refused
        except (OSError, ValueError, yaml.YAMLError):
            raw = None
        raw = raw if isinstance(raw, dict) else {}
        section = raw.get("data")
        data = section if isinstance(section, dict) else {}
        yield {
            "name": path.stem,
            "kind": str(raw.get("kind", DEFAULT_KIND)),
            "description": " ".join(str(raw.get("description", "")).split()),
            "dataset": "images" if optimises_an_image(str(raw.get("kind"))) else str(data.get("dataset", "shapes")),
            "path": str(path),
        }
