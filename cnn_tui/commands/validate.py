"""`cnn-tui validate RECIPE`: the recipe checked beyond its schema, and its layer table."""

from __future__ import annotations

from argparse import Namespace

from cnn_tui.contract.errors import naming_the_file


def cmd_validate(args: Namespace) -> int:
    from cnn_tui.engine.validate import check_recipe
    from cnn_tui.recipes.loader import load_recipe

    recipe, path = load_recipe(args.recipe, args.overrides)
    with naming_the_file(path):
        report = check_recipe(recipe, path, args.classes)
    print(report)
    return 0
