"""`cnn-tui validate RECIPE [--data] [--estimate] [--find-batch-size]`: the recipe checked beyond its schema, its layer
table, and on request a report of its data (leakage included) and what a run will cost."""

from __future__ import annotations

import sys
from argparse import Namespace
from typing import Any

from cnn_tui.contract.errors import naming_the_file


def cmd_validate(args: Namespace) -> int:
    from cnn_tui.engine.validate import check_recipe
    from cnn_tui.recipes.loader import load_recipe

    recipe, path = load_recipe(args.recipe, args.overrides)
    asked = [flag for flag, on in (("--data", args.data), ("--estimate", args.estimate),
                                   ("--find-batch-size", args.find_batch_size)) if on]
    if asked:
        from cnn_tui.preflight.session import refuse_image_kinds

        refuse_image_kinds(recipe, f"validate {asked[0]}")
    with naming_the_file(path):
        report = check_recipe(recipe, path, args.classes)
    print(report)
    if args.data:
        from cnn_tui.preflight.data_report import data_report

        with naming_the_file(path):
            text, leaked = data_report(recipe)
        print(text)
        if leaked:
            print(f"cnn-tui: warning: {path}: validation or test images are copies of training images "
                  "(see leakage above)", file=sys.stderr)
    if args.estimate or args.find_batch_size:
        from cnn_tui.train.device import pick_device

        device = pick_device(args.device or recipe.device)
    if args.estimate:
        from cnn_tui.preflight.estimate import estimate, format_estimate

        with naming_the_file(path):
            print(format_estimate(estimate(recipe, device), device.type))
    if args.find_batch_size:
        from cnn_tui.preflight.batch_size import find_for_recipe, format_fit

        with naming_the_file(path):
            fit = find_for_recipe(recipe, device)
        classifier: Any = recipe  # a classification kind (refuse_image_kinds above): it has train:
        print(format_fit(fit, classifier.train.batch_size, device.type))
    return 0
