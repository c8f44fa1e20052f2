"""`cnn-tui augment RECIPE [--out FILE.png]`: the grid of one image's augmentations
(cnn_tui/data/augment_grid.py), written where the user says."""

from __future__ import annotations

from argparse import Namespace

from cnn_tui.contract.errors import naming_the_file
from cnn_tui.data.augment_grid import write_augment_grid


def cmd_augment(args: Namespace) -> int:
    from cnn_tui.recipes.loader import load_recipe

    recipe, path = load_recipe(args.recipe, args.overrides)
    with naming_the_file(path):
        return write_augment_grid(recipe, args.out, args.index, args.draws, args.force, print)
