"""`cnn-tui predict RUN_DIR IMAGE...` (or `--backbone NAME IMAGE...`): classify images."""

from __future__ import annotations

import sys
from argparse import Namespace
from pathlib import Path

from cnn_tui.commands.pipes import note


def cmd_predict(args: Namespace) -> int:
    """One line per image (or --json); unreadable inputs are one line each on stderr and exit 2,
    after every readable image has been classified."""
    import json

    from cnn_tui.contract.errors import UsageError
    from cnn_tui.engine.predict import classify, from_backbone, from_run, image_files
    from cnn_tui.train.device import pick_device

    if args.top_k < 1:
        raise UsageError("--top-k: needs at least 1")
    targets = list(args.targets)
    if args.backbone:
        classifier = from_backbone(args.backbone)
    else:
        if len(targets) < 2:
            raise UsageError("predict: give a run directory and at least one image or folder "
                             "(or --backbone NAME and images)")
        classifier = from_run(Path(targets.pop(0)), trust=args.trust, say=note)
    files, errors = image_files(targets)
    results = []
    for path, outcome in classify(classifier, files, args.top_k, pick_device(args.device)):
        if isinstance(outcome, str):
            errors.append(f"{path}: {outcome}")
            continue
        results.append({"image": str(path), "top": [{"class": c, "p": round(p, 6)} for c, p in outcome]})
        if not args.json:
            print(f"{path}: " + ", ".join(f"{c} {p:.1%}" for c, p in outcome), flush=True)
    if args.json:
        print(json.dumps({"model": classifier.source, "predictions": results, "errors": errors}, indent=1))
    for line in errors:
        print(f"cnn-tui: error: {line}", file=sys.stderr)
    return 2 if errors else 0
