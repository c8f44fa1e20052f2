"""The views of a classifier's inside, for the trainer: what to collect during validation and at
gradient ticks, the pictures to write into the run directory and the events that point at them.

Pictures go to RUN_DIR/views/epoch-NNN/ (a few kB each); the events carry their relative paths
and plain numbers, so any reader (the dashboard, `show`, a notebook) sees them without torch.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from cnn_tui.contract.confusion import MAX_GRID_CLASSES, class_scores, top_pairs
from cnn_tui.contract.events import Confusion, Diagnosis, Embedding, Event, FeatureMaps, Health, TopPatches
from cnn_tui.contract.status import Severity
from cnn_tui.insight import embedding
from cnn_tui.insight.budget import ViewBudget
from cnn_tui.insight.cam_view import CamView, Probe, pixels
from cnn_tui.insight.dream import wants_picture
from cnn_tui.insight.feature_maps import (
    capture,
    choose_layers,
    conv_layers,
    file_name,
    filters_picture,
    maps_picture,
)
from cnn_tui.insight.health import LEVELS, ActivationHealth
from cnn_tui.insight.patches import TopPatchCollector, receptive_fields
from cnn_tui.insight.pictures import grid, thumbnail, write_png
from cnn_tui.insight.validation import Mistake, ValidationCollector

VIEWS_DIR = "views"


class ModelViews:
    def __init__(self, cfg: Any, model: nn.Module, class_names: list[str], run_dir: Path | None,
                 gradient_ticks: bool) -> None:
        self.cfg, self.class_names, self.run_dir, self.model = cfg, class_names, run_dir, model
        # a head on precomputed features has no conv layer: no maps (the recipe was checked on the full model)
        self.layers = choose_layers(model, cfg.feature_maps) if cfg.feature_maps and conv_layers(model) else []
        self.health = ActivationHealth(model) if cfg.health and gradient_ticks else None
        self.last: Confusion | None = None  # the latest epoch's report, and the best epoch's
        self.best: Confusion | None = None
        drawn = run_dir is not None
        self.cams = CamView() if cfg.gradcam and drawn else None
        self.embedding = cfg.embedding and drawn
        self.top_patches = cfg.top_patches and drawn and bool(self.layers)
        self.fields: dict[str, int] | None = None  # the top-patch layers' receptive fields, from the first batch
        self.features: embedding.FeatureCollector | None = None
        self.patches: _LazyPatches | None = None
        self.wants = cfg.wants and drawn and bool(self.layers)
        # the costly views are drawn while they fit a share of the training time (insight/budget.py)
        self.budget = ViewBudget(cfg.budget, forced=cfg.forced())
        self.now: set[str] = set()  # the budgeted views drawn at this epoch
        self.skipped: list[str] = []  # and those the budget held back
        self.epoch = 0
        self.epoch_seconds = 0.0  # this epoch's training part
        self.said_skip = False  # the first skip is said in a diagnosis, once a run
        self.notes: list[str] = []  # this epoch's lines about the budget, for diagnosis events
        self.kept_embedding: embedding.Kept | None = None  # the latest epoch's, for the t-SNE at the end

    # ---------------------------------------------------------------- validation
    def collector(self, epoch: int = 1, epochs: int | None = None, train_seconds: float = 0.0
                  ) -> ValidationCollector | None:
        """What validation collects at `epoch` (from 1) of `epochs`, whose training took `train_seconds`
        (no `epochs`: a first epoch that is not the last, as the pre-flight estimate measures)."""
        cfg = self.cfg
        self._plan(epoch, epochs, train_seconds)
        pictures = (bool(self.layers) or self.cams is not None) and self.run_dir is not None
        if not (cfg.confusion or cfg.mistakes or pictures or self.embedding or self.top_patches):
            return None
        collector = ValidationCollector(len(self.class_names), cfg.mistakes if self.run_dir is not None else 0,
                                        cfg.confusion or cfg.mistakes > 0, keep_probe=pictures)
        self._watch(collector)
        return collector

    def _plan(self, epoch: int, epochs: int | None, train_seconds: float) -> None:
        """Which budgeted views this epoch draws: those the budget lets through, and the forced ones."""
        last = epochs is not None and epoch >= epochs
        on = {"gradcam": self.cams is not None, "embedding": self.embedding, "top_patches": self.top_patches,
              "wants": self.wants and last}  # what a filter wants to see: the last epoch's
        self.epoch, self.epoch_seconds = epoch, train_seconds
        due = self.budget.due(epoch, epoch if last else epoch + 1, train_seconds)
        self.now = {name for name, yes in on.items() if yes and (due or name in self.budget.forced)}
        self.skipped = [name for name, yes in on.items() if yes and name not in self.now and name != "wants"]

    def _watch(self, collector: ValidationCollector) -> None:
        """Hook the views that see every validation batch (their hooks go at the pass's end)."""
        if "embedding" in self.now:
            self.features = embedding.FeatureCollector(self.model)
            collector.watchers.append(_Timed(self.features, "embedding", self))
        if "top_patches" in self.now:
            self.patches = _LazyPatches(self)
            if self.fields is not None:  # measured on an earlier epoch's first batch
                self.patches.inner = TopPatchCollector(self.model, self.layers, self.fields,
                                                       self.cfg.feature_channels)
            collector.watchers.append(_Timed(self.patches, "top_patches", self))

    def spent(self, view: str, seconds: float) -> None:
        """`view` took `seconds` (counted against the budget unless the recipe forced it on)."""
        self.budget.add(view, seconds)

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
        if collected.probe is not None and self.run_dir is not None and self.layers:
            events.append(self._feature_maps(model, *collected.probe, folder, epoch, step, mean, std))
        if self.cams is not None and self.run_dir is not None and "gradcam" in self.now:
            start = time.perf_counter()
            probes = [Probe("probe", collected.probe[0][0], collected.probe[1])] if collected.probe is not None else []
            probes += [Probe("mistake", m.image, m.true) for m in mistakes if m.image is not None]
            events.append(self.cams.event(model, probes, self.class_names, self.run_dir, folder, epoch, step,
                                          mean, std))
            self.spent("gradcam", time.perf_counter() - start)
        if self.features is not None:
            start = time.perf_counter()
            events.append(self._embedding(folder, epoch, step))
            self.spent("embedding", time.perf_counter() - start)
        if self.patches is not None:
            start = time.perf_counter()
            events.append(self._top_patches(folder, epoch, step, mean, std))
            self.spent("top_patches", time.perf_counter() - start)
        maps = [(i, e) for i, e in enumerate(events) if isinstance(e, FeatureMaps)]
        if "wants" in self.now and maps and collected.probe is not None:  # last: it gets what the budget has left
            shape = tuple(collected.probe[0].shape[1:])
            index, drawn = maps[0]
            events[index] = dataclasses.replace(drawn, wants=self._wants(model, shape, folder, mean, std))
        if self.now - self.budget.forced:
            self.budget.close()
        if self.skipped and not self.said_skip:
            self.said_skip = True
            titles = {"gradcam": "Grad-CAM", "embedding": "the feature space", "top_patches": "the top patches"}
            self.notes.append(self.budget.why_skipped(epoch, self.epoch_seconds, [titles[n] for n in self.skipped]))
        events += [Diagnosis(code="views_budget", severity=Severity.INFO, step=step, epoch=epoch, message=note)
                   for note in self.notes]
        self.notes = []
        return events

    def _embedding(self, folder: Path, epoch: int, step: int) -> Embedding:
        assert self.features is not None and self.run_dir is not None
        collector, self.features = self.features, None
        kept = collector.finish()
        if kept is None:
            why = ("the model has no final linear layer whose input to take the features from"
                   if collector.layer is None else "its last linear layer saw no validation image")
            return Embedding(epoch=epoch, step=step, note=f"no feature map: {why}")
        features, labels, predicted = kept
        score = embedding.silhouette(features, labels)
        coords, explained = embedding.project(features)
        pairs = self.last.pairs if self.last is not None else []
        shown = embedding.coloured(len(self.class_names), pairs)
        path = folder / "embedding.png"
        write_png(embedding.picture(coords, labels, predicted, shown), self.run_dir / path)
        event = Embedding(epoch=epoch, step=step, path=str(path), points=len(labels),
                          silhouette=None if score is None else round(score, 4), explained=round(explained, 4),
                          classes=[self.class_names[c] for c in shown])
        self.kept_embedding = embedding.Kept(event, features, labels, predicted, shown)
        return event

    def at_end(self) -> list[Event]:
        """The run's end: the last epoch's feature space again, by t-SNE (embedding.with_tsne)."""
        kept, self.kept_embedding = self.kept_embedding, None
        if kept is None or self.run_dir is None:
            return []
        return [embedding.with_tsne(kept, self.run_dir)]

    def _top_patches(self, folder: Path, epoch: int, step: int, mean: torch.Tensor, std: torch.Tensor) -> TopPatches:
        assert self.patches is not None and self.run_dir is not None
        collector, self.patches = self.patches, None
        best = collector.finish()
        layers = []
        for name, (_values, patches) in best.items():
            k, c = patches.shape[:2]
            tiles = torch.stack([pixels(patches[i, j], mean, std) for j in range(c) for i in range(k)])
            path = folder / f"patches-{file_name(name)}.png"
            write_png(grid(tiles, columns=k), self.run_dir / path)
            assert collector.inner is not None
            layers.append({"name": name, "path": str(path), "shown": c, "channels": collector.inner.total.get(name, c),
                           "field": collector.inner.fields[name]})
        note = "" if layers else "no top patches: the chosen layers gave no map for the validation images"
        return TopPatches(epoch=epoch, step=step, layers=layers, note=note)

    def _mistake(self, m: Mistake, index: int, folder: Path, mean: torch.Tensor, std: torch.Tensor) -> dict[str, Any]:
        path = ""
        if m.image is not None and self.run_dir is not None:
            path = str(folder / f"mistake-{index + 1:02d}.png")
            write_png(thumbnail(pixels(m.image, mean, std)), self.run_dir / path)
        return {"path": path, "true": self.class_names[m.true], "predicted": self.class_names[m.predicted],
                "confidence": m.confidence}

    def _feature_maps(self, model: nn.Module, probe: torch.Tensor, label: int, folder: Path, epoch: int,
                      step: int, mean: torch.Tensor, std: torch.Tensor) -> FeatureMaps:
        assert self.run_dir is not None
        seen, predicted = capture(model, probe, self.layers)
        input_path = Path(VIEWS_DIR) / "probe.png"
        if not (self.run_dir / input_path).exists():  # the same image every epoch
            write_png(pixels(probe[0].cpu(), mean, std), self.run_dir / input_path)
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

    def _wants(self, model: nn.Module, shape: tuple[int, ...], folder: Path, mean: torch.Tensor,
               std: torch.Tensor) -> list[dict[str, Any]]:
        """What the deepest drawn layer's first channels want to see (activation maximisation)."""
        assert self.run_dir is not None and len(shape) == 3
        start = time.perf_counter()
        layer = self.layers[-1]
        allowed = None if "wants" in self.budget.forced else self.budget.left()
        drawn = wants_picture(model, layer, (shape[0], shape[1], shape[2]), mean, std, max_seconds=allowed)
        if drawn is None:
            self.spent("wants", time.perf_counter() - start)
            if allowed:  # a spent budget (the usual short run) is said in docs/views.md, not on every run
                self.notes.append(f"what {layer} wants to see not drawn: over the {allowed:.1f} s left of the views' "
                                  "budget (views.wants: true draws it)")
            return []
        picture, channels = drawn
        path = folder / f"wants-{file_name(layer)}.png"
        write_png(picture, self.run_dir / path)
        self.spent("wants", time.perf_counter() - start)
        return [{"name": layer, "path": str(path), "channels": channels}]

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
                      grads={k: [_sig(v) for v in q] for k, q in gq.items()},
                      spectrum=self.health.spectra, ranges={k: list(r) for k, r in self.health.ranges.items()
                                                            if k in self.health.spectra})

    def summary(self) -> dict[str, Any]:
        """For summary.json: the kept (best) epoch's per-class scores and confusion matrix, and what the
        budgeted views cost."""
        cost = {"views_cost": self.budget.summary()} if self.budget.drawn else {}
        report = self.best or self.last
        if report is None:
            return cost
        return {**cost, "per_class": {"epoch": report.epoch, "classes": report.per_class},
                "confusion": {"epoch": report.epoch, "classes": report.classes, "matrix": report.matrix,
                              "top_pairs": report.pairs}}

    def state_dict(self) -> dict[str, Any]:
        return {"budget": self.budget.state_dict(), "said_skip": self.said_skip}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.budget.load_state_dict(state.get("budget", {}))
        self.said_skip = bool(state.get("said_skip", False))


class _Timed:
    """A validation watcher whose time counts against the views' budget."""

    def __init__(self, inner: Any, view: str, views: ModelViews) -> None:
        self.inner, self.view, self.views = inner, view, views

    def add(self, x: torch.Tensor, y: torch.Tensor, logits: torch.Tensor) -> None:
        start = time.perf_counter()
        self.inner.add(x, y, logits)
        self.views.spent(self.view, time.perf_counter() - start)


class _LazyPatches:
    """The top-patch collector, made on the first validation batch: the receptive fields are
    measured on a real input (its size and device), once per run."""

    def __init__(self, views: ModelViews) -> None:
        self.views = views
        self.inner: TopPatchCollector | None = None

    def add(self, x: torch.Tensor, y: torch.Tensor, logits: torch.Tensor) -> None:
        if self.inner is None:
            if x.dim() != 4:
                return
            views = self.views
            if views.fields is None:
                views.fields = receptive_fields(views.model, x, views.layers)
            self.inner = TopPatchCollector(views.model, views.layers, views.fields, views.cfg.feature_channels)
            with torch.no_grad():
                views.model(x)  # this batch's maps (its forward ran before the hooks were there)
        self.inner.add(x, y, logits)

    def finish(self) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        return self.inner.finish() if self.inner is not None else {}


def _sig(value: float) -> float:
    """Four significant digits: what a chart can show, at half the bytes of a full float per value."""
    return float(f"{value:.4g}")


def _rounded(shares: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in shares.items()}
