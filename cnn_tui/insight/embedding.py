"""How the classes separate: the penultimate features of the validation set (the input of the last
linear layer) in 2-D by PCA after every epoch, by t-SNE once at the end, coloured by class with
mistakes marked, and their silhouette score.

Each epoch's PCA is torch's own (`torch.pca_lowrank`, under a forked RNG so the training's random
stream is not touched) and so is the silhouette (a few lines of `torch.cdist`: Rousseeuw 1987,
s = (b - a) / max(a, b), a the mean distance to the point's own class, b to the nearest other
class; a class of one point scores 0): they run in the training process on the training device
every epoch, where scikit-learn would cost a copy to the host and a second of import in every run.
t-SNE (van der Maaten & Hinton 2008) is scikit-learn's, run once at the end of a run (and by
`cnn-tui views`) on at most TSNE_POINTS points, in a child process (insight/tsne_child.py): an
exact, well-kept implementation is worth the import there, and a hand-written one would not be.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from cnn_tui.contract.events import Embedding
from cnn_tui.insight.pictures import write_png
from cnn_tui.insight.tsne_child import NO_SKLEARN_EXIT

MAX_POINTS = 1000  # validation images kept (the first ones): enough for a picture, 1000^2 distances cost ~10 ms
SIDE = 128  # px of the picture
TSNE_POINTS = 1000  # t-SNE's points (the first kept): ~4 s of one core at 1,000 (docs/views.md)
TSNE_FILE = "embedding-tsne.png"
TSNE_CHILD = "cnn_tui.insight.tsne_child"  # the module run as the child (`python -m`)
TSNE_TIMEOUT_SECONDS = 300  # a t-SNE of 1,000 points takes ~4 s of one core; a stuck one costs the picture only
NO_SKLEARN = "no t-SNE: scikit-learn is not installed (pip install scikit-learn); the PCA map is the epochs' own"
MAX_COLOURED = 10  # classes drawn in colour; above it the most confused ones, the rest grey
PALETTE = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (67, 99, 216), (245, 130, 49), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (188, 246, 12), (250, 190, 190)]
OTHER = (90, 90, 90)


def last_linear(model: nn.Module) -> nn.Module | None:
    skip = tuple(f"{name}." for name in getattr(model, "training_only", ()))
    found = [m for name, m in model.named_modules() if isinstance(m, nn.Linear) and not name.startswith(skip)]
    return found[-1] if found else None


class FeatureCollector:
    """Keeps the first MAX_POINTS penultimate feature vectors of a validation pass, with their
    labels and predictions, on the device (no sync until `finish`)."""

    def __init__(self, model: nn.Module) -> None:
        self.features: list[torch.Tensor] = []
        self.labels: list[torch.Tensor] = []
        self.predicted: list[torch.Tensor] = []
        self.count = 0
        self._pending: torch.Tensor | None = None
        self.layer = last_linear(model)
        self.handle = self.layer.register_forward_pre_hook(self._hook) if self.layer is not None else None

    def _hook(self, _module: nn.Module, inputs: tuple) -> None:
        if inputs and isinstance(inputs[0], torch.Tensor):
            self._pending = inputs[0].detach().flatten(1)

    def add(self, x: torch.Tensor, y: torch.Tensor, logits: torch.Tensor) -> None:
        pending, self._pending = self._pending, None
        if pending is None or self.count >= MAX_POINTS or len(pending) != len(y):
            return
        take = min(len(y), MAX_POINTS - self.count)
        self.features.append(pending[:take].float())
        self.labels.append(y[:take])
        self.predicted.append(logits[:take].argmax(1))
        self.count += take

    def finish(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
        self.remove()
        if not self.features:
            return None
        return torch.cat(self.features), torch.cat(self.labels), torch.cat(self.predicted)

    def remove(self) -> None:
        if self.handle is not None:
            self.handle.remove()
            self.handle = None


def silhouette(features: torch.Tensor, labels: torch.Tensor, most: int = 500) -> float | None:
    """Mean silhouette over the first `most` points (None with fewer than two classes present): the
    pairwise distances are the cost, N^2 x D; 500 points estimate the mean within ~0.01."""
    features, labels = features[:most], labels[:most]
    classes = labels.unique()
    if len(classes) < 2 or len(labels) < 3:
        return None
    x = features.float()
    dist = torch.cdist(x, x)
    onehot = (labels[:, None] == classes[None, :]).float()  # N x K
    sums = dist @ onehot  # N x K: summed distance to each class
    sizes = onehot.sum(0)
    own = onehot.bool()
    own_size = (onehot * sizes).sum(1)
    a = (sums * onehot).sum(1) / (own_size - 1).clamp_min(1)
    other = torch.where(own, torch.full_like(sums, float("inf")), sums / sizes)
    b = other.amin(1)
    s = (b - a) / torch.maximum(a, b).clamp_min(1e-12)
    s = torch.where(own_size > 1, s, torch.zeros_like(s))
    return float(s.mean())


def project(features: torch.Tensor) -> tuple[torch.Tensor, float]:
    """(N x 2 coordinates on the first two principal components, the variance share they keep)."""
    x = features.float()
    x = x - x.mean(0, keepdim=True)
    total = float((x * x).sum())
    q = min(2, *x.shape)
    devices = [x.device.index or 0] if x.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):  # randomised SVD: its draws must not move the training's
        torch.manual_seed(0)
        _, s, v = torch.pca_lowrank(x, q=q, center=False, niter=2)
    coords = x @ v[:, :q]
    if q < 2:
        coords = torch.cat([coords, torch.zeros(len(x), 2 - q, device=x.device)], 1)
    return coords, (float((s[:q] ** 2).sum()) / total if total > 0 else 0.0)


def coloured(num_classes: int, pairs: list[list[int]]) -> list[int]:
    """The classes drawn in colour: all of them up to MAX_COLOURED, else those of the most frequent
    confusions (true, predicted, count), most confused first."""
    if num_classes <= MAX_COLOURED:
        return list(range(num_classes))
    chosen: list[int] = []
    for true, predicted, _ in pairs:
        for c in (true, predicted):
            if c not in chosen and len(chosen) < MAX_COLOURED:
                chosen.append(c)
    return chosen


def picture(coords: torch.Tensor, labels: torch.Tensor, predicted: torch.Tensor, shown: list[int]) -> torch.Tensor:
    """3 x SIDE x SIDE uint8: a dot per image in its class's colour (grey for the classes not
    shown), a mistake as a white dot with its class's colour around it."""
    xy = coords.float().cpu()
    lo, hi = xy.amin(0), xy.amax(0)
    span = (hi - lo).clamp_min(1e-9)
    pos = ((xy - lo) / span * (SIDE - 7) + 3).round().long()
    canvas = torch.full((3, SIDE, SIDE), 16, dtype=torch.uint8)
    colour_of = {c: PALETTE[i] for i, c in enumerate(shown)}
    other = torch.tensor(OTHER, dtype=torch.uint8)[:, None, None]
    tiles = {c: torch.tensor(rgb, dtype=torch.uint8)[:, None, None] for c, rgb in colour_of.items()}
    xs, ys = pos[:, 0].tolist(), pos[:, 1].tolist()  # plain ints: one transfer, not one per dot
    truth, guess = labels.tolist(), predicted.tolist()
    order = sorted(range(len(xs)), key=lambda i: truth[i] in colour_of)  # coloured dots on top
    for i in order:
        col, row = xs[i], SIDE - 1 - ys[i]
        canvas[:, row - 1:row + 2, col - 1:col + 2] = tiles.get(truth[i], other)
        if guess[i] != truth[i]:
            canvas[:, row, col] = 255
    return canvas


def tsne(features: torch.Tensor) -> torch.Tensor:
    """N x 2 t-SNE coordinates of the first TSNE_POINTS feature vectors (scikit-learn's Barnes-Hut,
    PCA-initialised, seeded: the same features give the same map), computed in a child process
    (insight/tsne_child.py says why). ImportError without sklearn; TsneFailed where the features are
    not finite (a diverged run) or the child fails."""
    # Only the top package is looked up here: find_spec("sklearn.manifold") imports scikit-learn, ~1 s
    # and its OpenMP runtime in the training process, which the child exists to keep out (it says
    # NO_SKLEARN_EXIT where the package is there but its t-SNE is not).
    if importlib.util.find_spec("sklearn") is None:
        raise ImportError("scikit-learn")
    x = features[:TSNE_POINTS].detach().double().cpu().numpy()
    if not np.isfinite(x).all():
        raise TsneFailed("no t-SNE: the features are not finite numbers (the run diverged)")
    if len(x) and float(np.ptp(x, axis=0).max()) == 0.0:  # Barnes-Hut's tree cannot split identical points
        raise TsneFailed("no t-SNE: every validation image gives the same features (dead units?)")
    with tempfile.TemporaryDirectory(prefix="cnn-tui-tsne-") as tmp:
        source, target = Path(tmp) / "features.npy", Path(tmp) / "coords.npy"
        np.save(source, x)
        try:
            done = subprocess.run([sys.executable, "-m", TSNE_CHILD, str(source), str(target)],
                                  stdin=subprocess.DEVNULL, capture_output=True, timeout=TSNE_TIMEOUT_SECONDS,
                                  env={**os.environ, "OMP_NUM_THREADS": "1"})
        except subprocess.TimeoutExpired:
            raise TsneFailed(f"no t-SNE: it took over {TSNE_TIMEOUT_SECONDS} s") from None
        if done.returncode == NO_SKLEARN_EXIT:
            raise ImportError("scikit-learn")
        if done.returncode != 0 or not target.exists():
            raise TsneFailed(f"no t-SNE: scikit-learn's t-SNE process ended with status {done.returncode}")
        return torch.from_numpy(np.load(target)).float()


class TsneFailed(Exception):
    """The one-line note said in place of the t-SNE picture."""


@dataclasses.dataclass
class Kept:
    """An epoch's feature-space view, kept so the run's end can draw the same points by t-SNE."""

    event: Embedding
    features: torch.Tensor
    labels: torch.Tensor
    predicted: torch.Tensor
    shown: list[int]


def with_tsne(kept: Kept, run_dir: Path) -> Embedding:
    """The kept epoch's event again, now naming its t-SNE picture (beside the PCA one, same colours
    and marks) and the seconds it took, or saying in one line why there is none."""
    n = min(len(kept.labels), TSNE_POINTS)
    if n < 5:
        return dataclasses.replace(kept.event, tsne_note=f"no t-SNE: only {n} validation images")
    started = time.perf_counter()
    try:
        coords = tsne(kept.features)
    except ImportError:
        return dataclasses.replace(kept.event, tsne_note=NO_SKLEARN)
    except TsneFailed as failed:
        return dataclasses.replace(kept.event, tsne_note=str(failed))
    path = Path(kept.event.path).parent / TSNE_FILE
    write_png(picture(coords, kept.labels[:n], kept.predicted[:n], kept.shown), run_dir / path)
    return dataclasses.replace(kept.event, tsne=str(path), tsne_points=n,
                               tsne_seconds=round(time.perf_counter() - started, 2))


def finished_run(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, class_names: list[str],
                 run_dir: Path, folder: Path, batch: int = 100) -> Embedding:
    """A finished run's feature space (`cnn-tui views`): the first MAX_POINTS validation images
    (normalised, on the model's device) through the kept model, drawn as an epoch's is (PCA,
    silhouette) and by t-SNE beside it, into run_dir / folder."""
    collector = FeatureCollector(model)
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            for x, y in zip(images[:MAX_POINTS].split(batch), labels[:MAX_POINTS].split(batch)):
                collector.add(x, y.to(x.device), model(x))
    finally:
        collector.remove()
        model.train(was)
    kept = collector.finish()
    if kept is None:
        why = ("the model has no final linear layer whose input to take the features from"
               if collector.layer is None else "its last linear layer saw no validation image")
        return Embedding(epoch=0, step=0, note=f"no feature map: {why}")
    features, truth, predicted = kept
    score = silhouette(features, truth)
    coords, explained = project(features)
    k = len(class_names)
    counts = torch.bincount(truth.cpu() * k + predicted.cpu(), minlength=k * k).reshape(k, k)
    confused = sorted(((int(counts[t, p]), t, p) for t in range(k) for p in range(k) if t != p and counts[t, p]),
                      reverse=True)
    shown = coloured(k, [[t, p, n] for n, t, p in confused])
    path = folder / "embedding.png"
    write_png(picture(coords, truth, predicted, shown), run_dir / path)
    event = Embedding(epoch=0, step=0, path=str(path), points=len(truth),
                      silhouette=None if score is None else round(score, 4), explained=round(explained, 4),
                      classes=[class_names[c] for c in shown])
    return with_tsne(Kept(event, features, truth, predicted, shown), run_dir)
