"""`model.init_from: RUN_DIR`: start a net from another run's kept weights, layer by layer.

VGG was trained this way (Simonyan & Zisserman, Sec. 3.1): configuration A first, then the
deeper nets with A's layers copied in and the new layers drawn at random. Here every layer of
the new net whose tensors (weights, biases, batch-norm statistics) all match the other run's
kept checkpoint in name and shape is copied, whole (never a bias without its weights); the rest
keep their fresh initialisation. VGG's layer names
(conv3_1, fc1, ...) stay put when a configuration grows, so A's layers land where they belong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from cnn_tui.contract.errors import RecipeError, UsageError

FIELD = "model.init_from"
SHOWN = 6  # names listed before "and N more"


@dataclass
class Copied:
    source: str  # the checkpoint, in words
    copied: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # not in the other run's net
    reshaped: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)  # name, theirs, ours
    total: int = 0  # tensors in this net

    def in_words(self) -> str:
        """One line: how many tensors were copied from where, and which layers were not (and why)."""
        line = f"{FIELD}: copied {len(self.copied)} of {self.total} tensors from {self.source}"
        reshaped: dict[str, str] = {}  # layer -> its first tensor's shapes
        for name, theirs, ours in self.reshaped:
            reshaped.setdefault(_layer(name), f"{name} {_shape(theirs)} there, {_shape(ours)} here")
        parts = [f"not in that net: {_listed(list(dict.fromkeys(_layer(n) for n in self.missing)))}"
                 if self.missing else "",
                 f"shaped differently: {_listed(list(reshaped.values()))}" if reshaped else ""]
        kept = "; ".join(p for p in parts if p)
        return f"{line}; left at random: {kept}" if kept else f"{line}; every tensor came from there"


def copy_matching(model: nn.Module, run_dir: str) -> Copied:
    """Copy into `model`, in place, every layer whose tensors all match the run's kept weights in name
    and shape. A bad run directory, a run without a checkpoint, or nothing that matches: one RecipeError."""
    path, weights, epoch = _kept_weights(Path(run_dir))
    report = Copied(f"{path} (epoch {epoch})")
    state = model.state_dict()
    report.total = len(state)
    layers: dict[str, list[str]] = {}
    for name in state:
        layers.setdefault(_layer(name), []).append(name)
    with torch.no_grad():
        for names in layers.values():  # a layer comes over whole or not at all (never a bias alone)
            missing = [n for n in names if n not in weights]
            reshaped = [(n, tuple(weights[n].shape), tuple(state[n].shape)) for n in names
                        if n in weights and weights[n].shape != state[n].shape]
            if missing or reshaped:
                report.missing += missing
                report.reshaped += reshaped
                continue
            for name in names:
                state[name].copy_(weights[name])
                report.copied.append(name)
    if not report.copied:
        raise RecipeError(f"{FIELD}: {path} has no tensor of this net's names and shapes (its first: "
                          f"{', '.join(list(weights)[:3]) or 'none'}; this net's: {', '.join(list(state)[:3])}); "
                          "init_from takes a run of a net that shares layers with this one")
    return report


def skipped_on_resume(recipe: Any) -> tuple[Any, str | None]:
    """A resumed run's weights, init_from's copy included, are in its own checkpoint: the recipe to
    prepare it from, without init_from (the other run may have been moved or deleted since), and
    the line that says so (None when the recipe has no init_from)."""
    init_from = getattr(getattr(recipe, "model", None), "init_from", None)
    if not init_from:
        return recipe, None
    prepared = recipe.model_copy(deep=True)
    prepared.model.init_from = None
    return prepared, (f"{FIELD}: not read on resume ({init_from}): the weights come from this run's checkpoint, "
                      "which holds what was copied at the start")


def _kept_weights(run_dir: Path) -> tuple[Path, dict[str, torch.Tensor], object]:
    """The checkpoint `predict` would use (best.pt, or last.pt after early stopping restored the best)."""
    from cnn_tui.engine.predict import kept_run_checkpoint
    from cnn_tui.record.run_files import classifier_run_recipe
    from cnn_tui.train.checkpoint import CheckpointError, load_checkpoint

    try:
        recipe = classifier_run_recipe(run_dir, "initialise from")
        path = kept_run_checkpoint(run_dir, recipe, "initialise from")
        state = load_checkpoint(path)
    except (UsageError, CheckpointError) as exc:
        raise RecipeError(f"{FIELD}: {exc}") from None
    weights = state.get("model") if isinstance(state, dict) else None
    if not isinstance(weights, dict):
        raise RecipeError(f"{FIELD}: {path} holds no model weights")
    epoch = state.get("position", {}).get("epoch", "?")
    return path, weights, epoch


def _layer(name: str) -> str:
    return name.rsplit(".", 1)[0]


def _listed(words: list[str]) -> str:
    more = f" and {len(words) - SHOWN} more" if len(words) > SHOWN else ""
    return ", ".join(words[:SHOWN]) + more


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) or "scalar"
