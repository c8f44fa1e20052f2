"""What each unit responds to (Zeiler & Fergus 2014, fig. 2): for chosen conv layers, the validation
patches that excite each channel most. A channel's response to an image is its strongest position;
the patch is that unit's receptive field (cnn_tui.models.receptive), cut from the image around the
position's centre (the centre of map cell (i, j) is ((i + 0.5) * H / h, (j + 0.5) * W / w) px, exact
for 'same'-padded convs and pools, within a pixel or two otherwise).

During validation, forward hooks keep the batch's per-channel maxima; `add` then cuts only the
winning patches and merges them with the best so far, all on the device (no sync per batch).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from cnn_tui.models.receptive import FieldTracker

PER_CHANNEL = 6  # patches per channel (one row of the grid)
MAX_IMAGES = 256  # validation images searched (the first ones): the winners barely change past it, the cost does


def receptive_fields(model: nn.Module, image: torch.Tensor, layers: list[str]) -> dict[str, int]:
    """layer -> its receptive field in px (the larger axis; capped at the image's side)."""
    modules = dict(model.named_modules())
    found: dict[str, int] = {}
    side = max(image.shape[-2:])

    def keep(name: str, tracker: FieldTracker):
        def hook(_m: nn.Module, _i: object, out: object) -> None:
            if isinstance(out, torch.Tensor) and name not in found and (field := tracker.field(out)) is not None:
                rf = max(field.rf)
                found[name] = side if math.isinf(rf) else int(min(rf, side))
        return hook

    was = model.training
    model.eval()
    x = image[:1].detach().clone()
    tracker = FieldTracker(x)
    handles = [modules[n].register_forward_hook(keep(n, tracker)) for n in layers]
    try:
        with torch.no_grad(), tracker:
            model(x)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was)
    return found


class TopPatchCollector:
    def __init__(self, model: nn.Module, layers: list[str], fields: dict[str, int], channels: int) -> None:
        modules = dict(model.named_modules())
        self.layers = [n for n in layers if n in fields]
        self.fields, self.channels = fields, channels
        self.best: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}  # layer -> (values K x C, patches K x C x ...)
        self.total: dict[str, int] = {}  # layer -> its channels
        self._pending: dict[str, torch.Tensor] = {}
        self.seen = 0  # images searched so far
        self.handles = [modules[n].register_forward_hook(self._hook(n)) for n in self.layers]

    def _hook(self, name: str):
        def hook(_m: nn.Module, _i: object, out: object) -> None:
            if isinstance(out, torch.Tensor) and out.dim() == 4 and name not in self._pending:
                self._pending[name] = out.detach()[:, :self.channels].float()
                self.total[name] = out.shape[1]
        return hook

    def add(self, x: torch.Tensor, y: torch.Tensor, logits: torch.Tensor) -> None:
        pending, self._pending = self._pending, {}
        if x.dim() != 4 or self.seen >= MAX_IMAGES:
            self.remove()  # the rest of the pass runs without the hooks
            return
        self.seen += len(x)
        for name, act in pending.items():
            if len(act) != len(x):
                continue
            self._merge(name, act, x)

    def _merge(self, name: str, act: torch.Tensor, x: torch.Tensor) -> None:
        b, c, h, w = act.shape
        values, where = act.flatten(2).max(2)  # B x C: each channel's strongest position per image
        k = min(PER_CHANNEL, b)
        top, images = values.topk(k, dim=0)  # k x C
        flat = where.gather(0, images)  # k x C
        rows = ((flat // w).float() + 0.5) * x.shape[-2] / h
        cols = ((flat % w).float() + 0.5) * x.shape[-1] / w
        patches = _cut(x, images.flatten(), rows.flatten(), cols.flatten(), self.fields[name])
        patches = patches.view(k, c, *patches.shape[1:])
        if name in self.best:
            old_values, old_patches = self.best[name]
            top, patches = torch.cat([old_values, top]), torch.cat([old_patches, patches])
        keep = top.topk(min(PER_CHANNEL, len(top)), dim=0).indices  # K x C
        index = keep.view(*keep.shape, *([1] * (patches.dim() - 2))).expand(-1, -1, *patches.shape[2:])
        self.best[name] = (top.gather(0, keep), patches.gather(0, index))

    def finish(self) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """layer -> (values K x C, patches K x C x Cin x P x P: normalised as the model saw them)."""
        self.remove()
        return self.best

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []


def _cut(x: torch.Tensor, images: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, size: int) -> torch.Tensor:
    """n x Cin x size x size patches of x centred on (rows, cols) px; outside the image is 0 (the mean)."""
    pad = size
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    top = (rows - size / 2).round().long() + pad
    left = (cols - size / 2).round().long() + pad
    offsets = torch.arange(size, device=x.device)
    r = (top[:, None] + offsets)[:, :, None]  # n x P x 1
    c = (left[:, None] + offsets)[:, None, :]  # n x 1 x P
    patches = padded[images[:, None, None], :, r, c]  # n x P x P x Cin
    return patches.permute(0, 3, 1, 2)
