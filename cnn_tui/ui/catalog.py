"""The recipes the picker offers: built-ins, ./recipes, and a folder from the command line,
grouped by kind. Plain Python (no Textual) so it is testable on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnn_tui.contract.kinds import DEFAULT_KIND, KINDS, optimises_an_image
from cnn_tui.recipes import builtin


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


def recipe_kind(path: Path) -> str:
    """A recipe file's kind, read leniently (a broken file is the run's to report)."""
    import yaml

    from cnn_tui.recipes.yaml_io import load_yaml_text

    try:
        raw = load_yaml_text(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return DEFAULT_KIND
    kind = raw.get("kind", DEFAULT_KIND) if isinstance(raw, dict) else DEFAULT_KIND
    return kind if isinstance(kind, str) else DEFAULT_KIND


def style_summary_lines(recipe) -> list[str]:
    net, opt = recipe.feature_net, recipe.optimizer
    return [
        f"content   {recipe.content_image}",
        f"style     {recipe.style_image}",
        f"size      {recipe.image_size}px (longer side), start from {recipe.init}",
        f"features  {net.name} ({net.weights} weights, {net.pooling} pooling)",
        f"layers    content {', '.join(recipe.content_layers)}; style {', '.join(recipe.style_layers)}",
        f"weights   content {recipe.content_weight:g}, style {recipe.style_weight:g}, tv {recipe.tv_weight:g}",
        f"optimizer {opt.name} lr {opt.lr:g}, {recipe.steps} steps, snapshot every {recipe.log.snapshot_every}",
        f"device    {recipe.device}",
    ]


def summary_lines(recipe) -> list[str]:
    """The settings a learner compares between recipes, one per line."""
    from cnn_tui.recipes.schema import FeatureExtractionRecipe, FineTuningRecipe, Recipe  # a recipe is loaded

    if optimises_an_image(recipe.kind):
        return style_summary_lines(recipe)
    d, t = recipe.data, recipe.train
    aug = d.augment.in_words()
    es = t.early_stopping
    per_class = f", {d.per_class} per class" if d.per_class else ""
    lines = [
        f"data      {d.dataset} {d.image_size}px{' gray' if d.grayscale else ''}{per_class}, {d.val_split:.0%} for val",
        f"augment   {', '.join(aug) if aug else 'none'}",
    ]
    if isinstance(recipe, Recipe):
        m = recipe.model
        own = "" if m.arch in ("torchvision", "python") else \
            f", {m.activation}, BN {'on' if m.batch_norm else 'off'}, dropout {m.dropout:g}"
        lines.append(f"model     {m.label()}{own}")
    else:
        b, h = recipe.backbone, recipe.head
        lines.append(f"base      {b.name} ({b.weights} weights)")
        lines.append(f"head      {h.hidden or 'no'} hidden units, dropout {h.dropout:g}")
    if isinstance(recipe, FeatureExtractionRecipe):
        lines.append(f"mode      {recipe.mode}")
    if isinstance(recipe, FineTuningRecipe):
        for i, p in enumerate(recipe.phases, start=1):
            lines.append(f"phase {i}   {p.name}: {p.epochs} epochs, unfreeze {p.unfreeze}, "
                         f"{p.optimizer.name} lr {p.optimizer.lr:g}")
    else:
        opt = t.optimizer
        lines.append(f"train     {t.epochs} epochs x batch {t.batch_size}")
        lines.append(f"optimizer {opt.name} lr {opt.lr:g}, weight decay {opt.weight_decay:g}")
        warmup = f", warmup {t.schedule.warmup_epochs:g} epochs" if t.schedule.warmup_epochs else ""
        lines.append(f"schedule  {t.schedule.name}{warmup}")
    if t.distributed.nproc > 1:
        lines.append(f"parallel  {t.distributed.nproc} processes (torchrun, backend {t.distributed.backend}): "
                     f"each step's {t.batch_size} images split {t.distributed.nproc} ways")
    stopping = f"early on {es.monitor} (patience {es.patience})" if es.enabled else "after the last epoch"
    lines.append(f"stopping  {stopping}")
    lines.append(f"device    {recipe.device}")
    return lines
