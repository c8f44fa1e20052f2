"""What one validation pass shows besides its loss: the confusion counts, the most confidently
wrong images and the first image (the probe the feature maps are drawn for).

Accumulated on the device batch by batch with no sync; `finish` moves it all to the host once.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Mistake:
    confidence: float  # the softmax probability of the wrong prediction
    true: int
    predicted: int
    image: torch.Tensor | None  # C x H x W, normalised as the model saw it (None: inputs were features)


class ValidationCollector:
    def __init__(self, num_classes: int, mistakes: int, confusion: bool, keep_probe: bool) -> None:
        self.classes, self.k = num_classes, mistakes
        self.confusion, self.keep_probe = confusion, keep_probe
        self.counts: torch.Tensor | None = None
        self.conf: torch.Tensor | None = None  # the k most confident mistakes so far (-1: no mistake)
        self.true: torch.Tensor | None = None
        self.pred: torch.Tensor | None = None
        self.images: torch.Tensor | None = None
        self.probe: tuple[torch.Tensor, int] | None = None  # (1 x C x H x W, its label)
        self.watchers: list = []  # more views that see every batch: add(x, y, logits) (embedding, top patches)

    def add(self, x: torch.Tensor, y: torch.Tensor, logits: torch.Tensor) -> None:
        pred = logits.argmax(1)
        if self.keep_probe and self.probe is None and x.dim() == 4:
            self.probe = (x[:1].detach().clone(), int(y[0]))  # once per pass: a sync on one label
        if self.confusion:
            pairs = torch.bincount(y * self.classes + pred, minlength=self.classes ** 2)
            self.counts = pairs if self.counts is None else self.counts + pairs
        if self.k:
            self._keep_mistakes(x, y, pred, logits)
        for watcher in self.watchers:
            watcher.add(x, y, logits)

    def _keep_mistakes(self, x: torch.Tensor, y: torch.Tensor, pred: torch.Tensor, logits: torch.Tensor) -> None:
        conf = logits.float().softmax(1).amax(1)
        conf = torch.where(pred != y, conf, torch.full_like(conf, -1.0))
        top = conf.topk(min(self.k, len(conf))).indices
        images = x[top].detach() if x.dim() == 4 else None
        if self.conf is None:
            self.conf, self.true, self.pred, self.images = conf[top], y[top], pred[top], images
            return
        assert self.true is not None and self.pred is not None
        conf = torch.cat([self.conf, conf[top]])
        true, predicted = torch.cat([self.true, y[top]]), torch.cat([self.pred, pred[top]])
        merged = None if images is None or self.images is None else torch.cat([self.images, images])
        keep = conf.topk(min(self.k, len(conf))).indices
        self.conf, self.true, self.pred = conf[keep], true[keep], predicted[keep]
        self.images = merged[keep] if merged is not None else None

    def totals(self, device: torch.device) -> torch.Tensor:
        """The confusion counts so far (zeros if this process saw no batch), to be summed over ranks."""
        if self.counts is not None:
            return self.counts
        return torch.zeros(self.classes ** 2, dtype=torch.int64, device=device)

    def finish(self) -> tuple[list[list[int]], list[Mistake]]:
        """(confusion matrix rows true x columns predicted, or []; mistakes, most confident first)."""
        matrix: list[list[int]] = []
        if self.counts is not None:
            flat = self.counts.cpu().tolist()  # sync point: once per validation pass
            matrix = [flat[i * self.classes:(i + 1) * self.classes] for i in range(self.classes)]
        mistakes: list[Mistake] = []
        if self.conf is not None and self.true is not None and self.pred is not None:
            conf, true, pred = self.conf.cpu().tolist(), self.true.cpu().tolist(), self.pred.cpu().tolist()
            for i, c in enumerate(conf):
                if c >= 0:
                    image = self.images[i].cpu() if self.images is not None else None
                    mistakes.append(Mistake(c, true[i], pred[i], image))
        return matrix, mistakes
