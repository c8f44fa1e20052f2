"""`cnn-tui validate RECIPE --data`: what the recipe's data are, once loaded: images per class
and split with the imbalance, the files skipped and why (as loading logs them), the image sizes
and modes (how many get resized, converted from which mode: preflight/image_headers.py), and the images
that validation or test share with training (preflight/leakage.py), since every score measured
on a shared image is inflated.
"""

from __future__ import annotations

from typing import Any

EXAMPLES = 3


def data_report(recipe: Any, summary: list[str] | None = None) -> tuple[str, bool]:
    """(the report's lines, whether an evaluation split shares images with training). `summary` gets
    the same facts in a few short lines, "label words" (the picker's preview shows them)."""
    summary = [] if summary is None else summary
    from cnn_tui.contract.kinds import kind_spec
    from cnn_tui.data.expected import PRETRAINED_CHANNELS
    from cnn_tui.data.sources import load_data
    from cnn_tui.preflight.leak_warning import split_leaks

    notes: list[str] = []
    data = load_data(recipe.data, recipe.seed, log=notes.append,
                     channels=PRETRAINED_CHANNELS if kind_spec(recipe.kind).pretrained_base else None)
    splits = {name: s for name, s in (("train", data.train), ("val", data.val), ("test", data.test)) if s is not None}
    lines = [f"data report: {data.description}"]
    for name, images in splits.items():
        lines.append(_counts(name, images.y, data.class_names))
    lines += [f"skipped: {note}" for note in notes] or ["skipped: no unreadable file"]
    if notes:  # audit finding 2: the recipe check above counts files, these lines the images that loaded
        lines.append("note: the counts above are of the images that loaded; the recipe check's counts include "
                     "the skipped files")
    sizes = headers_lines(recipe)
    lines += sizes.splitlines()
    summary += _summary(splits, data.class_names, notes, sizes)
    leaked = False
    for found in split_leaks(splits, recipe.data.workers, recipe.data.decode_cache):
        a, b = found.a, found.b
        if found.exact or found.near:
            summary.append(f"leakage {b} shares {len(found.exact)} exact + {len(found.near)} near copies with {a}")
            leaked = leaked or a == "train"
            lines.append(f"leakage: {b} shares {len(found.exact)} exact and {len(found.near)} near copies "
                         f"(resized or re-encoded) with {a}; e.g. " + _examples(found, splits, data.class_names))
        else:
            lines.append(f"leakage: none between {a} and {b} (exact and near copies checked)")
    if not any(x.startswith("leakage") for x in summary):
        summary.append(f"leakage none ({' / '.join(splits)}: exact and near copies checked)")
    if leaked:
        summary.append("leakage so every val/test number is inflated (validate --data: examples)")
        lines.append("diagnosis: validation/test images that are copies of training images score as if seen: "
                     "every val/test number this recipe reports is inflated; remove the copies from one side")
    return "\n".join(lines), leaked


def headers_lines(recipe: Any) -> str:
    """The image sizes and modes (preflight/image_headers.py), from the files' headers."""
    from cnn_tui.preflight.image_headers import format_headers, read_headers, recipe_files

    data = recipe.data
    files = recipe_files(data)
    if files is None:
        return (f"sizes: {data.dataset} images are made or unpacked by the loader, then resized to "
                f"{data.image_size}x{data.image_size} (no files of yours to read)")
    mode = "L" if data.grayscale else "RGB"
    return format_headers(read_headers(files, data.image_size, mode, data.workers or 4).as_dict())


def _summary(splits: dict[str, Any], classes: list[str], notes: list[str], sizes: str) -> list[str]:
    import torch

    counts = torch.bincount(splits["train"].y, minlength=len(classes)).tolist()
    present = [c for c in counts if c]
    ratio = max(present) / min(present) if present else 0.0
    images = " / ".join(f"{name} {len(s.y):,}" for name, s in splits.items())
    out = [f"images {images}; {len(classes)} classes, train imbalance {ratio:.1f}x (largest/smallest class)",
           f"skipped {len(notes)}: {notes[0]}" + (" ..." if len(notes) > 1 else "") if notes else "skipped none"]
    for line in sizes.splitlines():
        label, _, rest = line.partition(": ")
        out.append(f"{label} {rest}")
    return out


def _counts(name: str, y: Any, classes: list[str]) -> str:
    import torch

    counts = torch.bincount(y, minlength=len(classes)).tolist()
    present = [c for c in counts if c]
    ratio = max(present) / min(present) if present else 0.0
    shown = ", ".join(f"{c} {n}" for c, n in zip(classes, counts))
    flag = f"; imbalance {ratio:.1f}x (largest/smallest class)" + (" - consider per-class weights or balanced "
                                                                   "sampling" if ratio >= 3 else "")
    missing = [c for c, n in zip(classes, counts) if n == 0]
    return f"{name}: {len(y):,} images: {shown}{flag}" + (f"; no images of {', '.join(missing)}" if missing else "")


def _examples(found: Any, splits: dict[str, Any], classes: list[str]) -> str:
    pairs = [("exact", p) for p in found.exact[:EXAMPLES]] + [("near", p) for p in found.near[:EXAMPLES]]
    return "; ".join(f"{_name(splits[found.a], i, found.a, classes)} = {_name(splits[found.b], j, found.b, classes)} "
                     f"({kind})" for kind, (i, j) in pairs[:EXAMPLES])


def _name(images: Any, index: int, split: str, classes: list[str]) -> str:
    files = images.files if images.files is not None else images.names  # streamed, or decoded from files
    if files is not None:
        return files[index]
    return f"{split} #{index} ({classes[int(images.y[index])]})"  # generated or unpacked: no file
