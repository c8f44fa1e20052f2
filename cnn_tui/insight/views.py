"""The views of a classifier's inside, for the trainer: what to collect during validation and at
gradient ticks, the pictures to write into the run directory and the events that point at them.

Pictures go to RUN_DIR/views/epoch-NNN/ (a few kB each); the events carry their relative paths
and plain numbers, so any reader (the dashboard, `show`, a notebook) sees them without torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from cnn_tui.contract.confusion import MAX_GRID_CLASSES, class_scores, top_pairs
from cnn_tui.contract.events import Confusion, Event, FeatureMaps, Health
from cnn_tui.insight.feature_maps import (
    capture,
    choose_layers,
    conv_layers,
    file_name,
    filters_picture,
    maps_picture,
)
from cnn_tui.insight.health import LEVELS, ActivationHealth
from cnn_tui.insight.pictures import thumbnail, write_png
from cnn_tui.insight.validation import Mistake, ValidationCollector

VIEWS_DIR = "views"


class ModelViews:
    def __init__(self, cfg: Any, model: nn.Module, class_names: list[str], run_dir: Path | None,
                 gradient_ticks: bool) -> None:
        self.cfg, self.class_names, self.run_dir = cfg, class_names, run_dir
        # a head on precomputed features has no conv layer: no maps (the recipe was checked on the full model)
        self.layers = choose_layers(model, cfg.feature_maps) if cfg.feature_maps and conv_layers(model) else []
        self.health = ActivationHealth(model) if cfg.health and gradient_ticks else None
        self.last: Confusion | None = None  # the latest epoch's report, and the best epoch's
        self.best: Confusion | None = None

    # ---------------------------------------------------------------- validation
    def collector(self) -> ValidationCollector | None:
        cfg = self.cfg
        pictures = bool(self.layers) and self.run_dir is not None
        if not (cfg.confusion or cfg.mistakes or pictures):
            return None
        return ValidationCollector(len(self.class_names), cfg.mistakes if self.run_dir is not None else 0,
                                   cfg.confusion or cfg.mistakes > 0, keep_probe=pictures)

    def after_validation(self, collected: ValidationCollector, model: nn.Module, epoch: int, step: int,
                         mean: torch.Tensor, std: torch.Tensor, is_best: bool) -> list[Event]:
        matrix, mistakes = collected.finish()
        folder = Path(VIEWS_DIR) / f"epoch-{epoch:03d}"
        events: list[Event] = []
        if matrix:
            names = self.class_names
            report = Confusion(epoch=epoch, step=step, classes=names,
                               matrix=matrix if len(names) <= MAX_GRID_CLASSES else [],
                               pairs=[list(p) for p in top_pairs(matrix)],
                               per_class={n: s.to_dict() for n, s in zip(names, class_scores(matrix))},
                               mistakes=[self._mistake(m, i, folder, mean, std) for i, m in enumerate(mistakes)])
            self.last = report
            if is_best or self.best is None:
                self.best = report
            events.append(report)
        if collected.probe is not None and self.run_dir is not None:
            events.append(self._feature_maps(model, *collected.probe, folder, epoch, step, mean, std))
        return events

    def _mistake(self, m: Mistake, index: int, folder: Path, mean: torch.Tensor, std: torch.Tensor) -> dict[str, Any]:
        path = ""
        if m.image is not None and self.run_dir is not None:
            path = str(folder / f"mistake-{index + 1:02d}.png")
            write_png(thumbnail(_pixels(m.image, mean, std)), self.run_dir / path)
        return {"path": path, "true": self.class_names[m.true], "predicted": self.class_names[m.predicted],
                "confidence": m.confidence}

    def _feature_maps(self, model: nn.Module, probe: torch.Tensor, label: int, folder: Path, epoch: int,
                      step: int, mean: torch.Tensor, std: torch.Tensor) -> FeatureMaps:
        assert self.run_dir is not None
        seen, predicted = capture(model, probe, self.layers)
        input_path = Path(VIEWS_DIR) / "probe.png"
        if not (self.run_dir / input_path).exists():  # the same image every epoch
            write_png(_pixels(probe[0].cpu(), mean, std), self.run_dir / input_path)
        layers = []
        for name in self.layers:
            if name not in seen:
                continue  # a layer this forward did not reach (or whose output is not a map)
            activation = seen[name]
            path = folder / f"{file_name(name)}.png"
            write_png(maps_picture(activation, self.cfg.feature_channels), self.run_dir / path)
            layers.append({"name": name, "path": str(path), "shown": min(len(activation), self.cfg.feature_channels),
                           "channels": len(activation), "size": list(activation.shape[1:])})
        filters_path, filters_layer = "", ""
        if self.cfg.filters and (picture := filters_picture(model)) is not None:
            filters_layer, tiles = picture
            filters_path = str(folder / "filters.png")
            write_png(tiles, self.run_dir / filters_path)
        return FeatureMaps(epoch=epoch, step=step, input=str(input_path), label=self.class_names[label],
                           predicted=self.class_names[predicted], layers=layers, filters=filters_path,
                           filters_layer=filters_layer)

    # ---------------------------------------------------------------- gradient ticks
    def arm(self) -> None:
        """Measure the activations of the next forward pass (a gradient tick's)."""
        if self.health is not None:
            self.health.armed = True

    def health_event(self, step: int, epoch: int, layers: list[str], weights: list[torch.Tensor],
                     grads: list[torch.Tensor | None]) -> Health | None:
        if self.health is None:
            return None
        dead, saturated, wq, gq = self.health.collect(layers, weights, grads)
        return Health(step=step, epoch=epoch, dead=_rounded(dead), saturated=_rounded(saturated),
                      levels=list(LEVELS), weights={k: [_sig(v) for v in q] for k, q in wq.items()},
                      grads={k: [_sig(v) for v in q] for k, q in gq.items()})

    def summary(self) -> dict[str, Any]:
        """For summary.json: the kept (best) epoch's per-class scores and confusion matrix."""
        report = self.best or self.last
        if report is None:
            return {}
        return {"per_class": {"epoch": report.epoch, "classes": report.per_class},
                "confusion": {"epoch": report.epoch, "classes": report.classes, "matrix": report.matrix,
                              "top_pairs": report.pairs}}


def _pixels(image: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """A normalised C x H x W image back to uint8 pixels."""
    x = image.float().cpu() * std.reshape(-1, 1, 1).cpu() + mean.reshape(-1, 1, 1).cpu()
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)


def _sig(value: float) -> float:
    """Four significant digits: what a chart can show, at half the bytes of a full float per value."""
    return float(f"{value:.4g}")


def _rounded(shares: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in shares.items()}
