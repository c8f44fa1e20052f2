"""The recipes the picker offers: built-ins, ./recipes, and a folder from the command line,
grouped by kind. Plain Python (no Textual) so it is testable on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnn_tui.recipes import builtin

KINDS = {
    "scratch": "Scratch CNN",
    "feature_extraction": "Feature extraction",
    "fine_tuning": "Fine-tuning",
    "style_transfer": "Style transfer",
}


def discover(extra_dirs: list[Path]) -> list[dict[str, Any]]:
    """Every recipe once (by resolved path), built-ins first, sorted by kind then name."""
    seen: set[Path] = set()
    found: list[dict[str, Any]] = []
    sources = [(builtin.recipes_dir(), "built-in")] + [(d, str(d)) for d in extra_dirs]
    for folder, label in sources:
        for header in builtin.headers(folder):
            path = Path(header["path"]).resolve()
            if path in seen:
                continue
            seen.add(path)
            found.append({**header, "source": label, "builtin": label == "built-in"})
    order = list(KINDS)
    return sorted(found, key=lambda r: (order.index(r["kind"]) if r["kind"] in order else len(order),
                                        not r["builtin"], r["name"]))


def summary_lines(recipe) -> list[str]:
    """The settings a learner compares between recipes, one per line."""
    d, m, t = recipe.data, recipe.model, recipe.train
    aug = [name for name, on in (("flip", d.augment.hflip), (f"crop±{d.augment.crop_padding}", d.augment.crop_padding),
                                 (f"rotate±{d.augment.rotation:g}°", d.augment.rotation),
                                 (f"jitter {d.augment.color_jitter:g}", d.augment.color_jitter)) if on]
    opt = t.optimizer
    es = t.early_stopping
    return [
        f"data      {d.dataset} {d.image_size}px{' gray' if d.grayscale else ''}, {d.val_split:.0%} for val",
        f"augment   {', '.join(aug) if aug else 'none'}",
        f"model     {m.arch}, {m.activation}, BN {'on' if m.batch_norm else 'off'}, dropout {m.dropout:g}",
        f"train     {t.epochs} epochs x batch {t.batch_size}",
        f"optimizer {opt.name} lr {opt.lr:g}, weight decay {opt.weight_decay:g}",
        f"schedule  {t.schedule.name}" + (f", warmup {t.schedule.warmup_epochs:g} epochs" if t.schedule.warmup_epochs else ""),
        f"stopping  " + (f"early on {es.monitor} (patience {es.patience})" if es.enabled else "after the last epoch"),
        f"device    {recipe.device}",
    ]
