"""`python -m cnn_tui.engine.describe_server`: layer tables for the dashboard's picker.

Building a model needs torch (about 400 MB and a second or two of CPU to import). The
dashboard keeps that out of its own process: this helper reads one recipe path per line
on stdin and answers one JSON line per request on stdout, and the dashboard kills it the
moment a run starts, so it never competes with training for CPU or memory.

An `arch: python` recipe's table needs its .py file imported (its top-level code run): the picker
asks for one only after the user pressed t on it, having said so.
"""

from __future__ import annotations

import json
import sys


def describe(path: str) -> dict:
    from cnn_tui.contract.errors import CnnTuiError
    from cnn_tui.engine.validate import describe_model
    from cnn_tui.recipes.loader import load_recipe

    try:
        recipe, _ = load_recipe(path)
        rows, total, trainable, _name = describe_model(recipe)
        return {"path": path, "rows": rows, "total": total, "trainable": trainable}
    except CnnTuiError as exc:
        return {"path": path, "error": str(exc)}
    except Exception as exc:  # a broken recipe must not kill the helper
        return {"path": path, "error": f"{type(exc).__name__}: {exc}"}


def main() -> None:
    for line in sys.stdin:
        path = line.strip()
        if path:
            sys.stdout.write(json.dumps(describe(path)) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
