"""`python -m cnn_tui.engine.describe_server`: layer tables (and augmentation grids) for the dashboard's picker.

Building a model needs torch (about 400 MB and a second or two of CPU to import). The
dashboard keeps that out of its own process: this helper reads one request per line on stdin
and answers one JSON line per request on stdout, and the dashboard kills it the moment a run
starts, so it never competes with training for CPU or memory.

A request is a recipe path (its layer table), or a JSON object: {"path": P, "classes": N} for the
table sized for N classes (`validate --classes N`: the papers' 1,000-class tables), {"path": P,
"augment": true} for `cnn-tui augment`'s grid, written to a new temporary PNG whose path comes
back (the picker deletes it once shown). Each answer echoes its request.

An `arch: python` recipe's table needs its .py file imported (its top-level code run): the picker
asks for one only after the user pressed t on it, having said so.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

AUGMENT_DRAWS = 15  # `cnn-tui augment`'s default


def describe(path: str, classes: int | None = None) -> dict:
    from cnn_tui.contract.errors import CnnTuiError
    from cnn_tui.contract.kinds import optimises_an_image
    from cnn_tui.engine.validate import describe_classifier, describe_model
    from cnn_tui.recipes.loader import load_recipe

    try:
        recipe, _ = load_recipe(path)
        if classes is not None and optimises_an_image(recipe.kind):
            return {"path": path, "error": f"--classes: a {recipe.kind} recipe optimises an image and has "
                                           "no classifier to size"}
        described = describe_model(recipe) if classes is None else describe_classifier(recipe, classes)
        rows, total, trainable, _name = described
        return {"path": path, "rows": rows, "total": total, "trainable": trainable}
    except CnnTuiError as exc:
        return {"path": path, "error": str(exc)}
    except Exception as exc:  # a broken recipe must not kill the helper
        return {"path": path, "error": f"{type(exc).__name__}: {exc}"}


def augment(path: str) -> dict:
    """`cnn-tui augment PATH` into a fresh temporary folder: {"picture": file, "what": words}."""
    from cnn_tui.contract.errors import CnnTuiError
    from cnn_tui.data.augment_grid import write_augment_grid
    from cnn_tui.recipes.loader import load_recipe

    said: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="cnn-tui-augment-"))
    target = folder / "grid.png"
    try:
        recipe, _ = load_recipe(path)
        write_augment_grid(recipe, target, 0, AUGMENT_DRAWS, False, said.append)
        return {"path": path, "picture": str(target), "what": said[-1].split(": ", 1)[-1] if said else ""}
    except Exception as exc:  # CnnTuiError: its own line; anything else must not kill the helper
        target.unlink(missing_ok=True)
        folder.rmdir()
        message = str(exc) if isinstance(exc, CnnTuiError) else f"{type(exc).__name__}: {exc}"
        return {"path": path, "error": message}


def answer(line: str) -> dict:
    request: dict[str, Any] = json.loads(line) if line.startswith("{") else {"path": line}
    if request.get("augment"):
        found = augment(request["path"])
    else:
        found = describe(request["path"], request.get("classes"))
    return {**found, "request": request}


def main() -> None:
    for line in sys.stdin:
        line = line.strip()
        if line:
            sys.stdout.write(json.dumps(answer(line)) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
