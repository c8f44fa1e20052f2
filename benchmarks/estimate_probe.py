"""`python -m benchmarks.estimate_probe RECIPE [--set F=V ...]`: `validate --estimate`'s numbers for
RECIPE as one JSON line (the estimate's parts, seconds), for case 15 to set beside a real epoch."""

from __future__ import annotations

import argparse
import json


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("recipe")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args()
    import torch

    from cnn_tui.preflight.estimate import estimate
    from cnn_tui.recipes.loader import load_recipe

    recipe, _ = load_recipe(args.recipe, args.overrides)
    print(json.dumps(estimate(recipe, torch.device("cpu"))))


if __name__ == "__main__":
    main()
