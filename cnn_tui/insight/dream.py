"""What a filter wants to see: activation maximisation (Erhan et al. 2009; Olah et al. 2017, "Feature
Visualization"). Gradient ascent on the input to maximise one channel's response at the centre of its
map, with the usual regularisers that keep the picture from turning into high-frequency noise: a random
jitter (the image is rolled a few px before each step) and a light Gaussian blur every few steps.

One image per channel, all ascended together as one batch; the model's weights are not touched (the
gradient is taken with autograd.grad on the input only), and the random jitter comes from its own
generator, so a training's random stream is not moved.
"""

from __future__ import annotations

import time

import torch
import torch.nn as nn
import torch.nn.functional as F

STEPS = 96
WANTED = 8  # channels drawn per layer (its first ones)
JITTER = 2  # px
BLUR_EVERY = 4
BLUR = torch.tensor([1.0, 2.0, 1.0]) / 4  # separable 3 x 3 Gaussian


def maximise(model: nn.Module, layer: str, channels: list[int], shape: tuple[int, int, int],
             low: torch.Tensor, high: torch.Tensor, steps: int = STEPS, seed: int = 0, jitter: int = JITTER,
             blur_every: int = BLUR_EVERY, max_seconds: float | None = None) -> torch.Tensor | None:
    """len(channels) x C x H x W inputs (normalised as the model sees them, kept within [low, high]
    per channel: the normalised images of black and white) that excite each channel's centre unit;
    None when the first steps show that all of them would take more than `max_seconds`."""
    if max_seconds is not None and max_seconds <= 0:
        return None
    module = dict(model.named_modules())[layer]
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    gen = torch.Generator().manual_seed(seed)
    x = (torch.randn(len(channels), *shape, generator=gen) * 0.1).to(device)
    low, high = low.to(device).view(1, -1, 1, 1), high.to(device).view(1, -1, 1, 1)
    index = torch.tensor(channels, device=device)
    seen: list[torch.Tensor] = []

    def stop(_m: nn.Module, _i: object, out: torch.Tensor) -> None:
        seen.append(out)
        raise _Reached  # the layers after this one would only cost time

    handle = module.register_forward_hook(stop)
    was = model.training
    model.eval()
    started = time.perf_counter()
    try:
        for step in range(steps):
            if max_seconds is not None and step in (1, 4) and \
                    (time.perf_counter() - started) / step * steps > max_seconds:  # judged on a step, then four
                return None
            settle = step >= steps * 3 // 4  # the last quarter without jitter or blur: the picture settles
            dy, dx = (0, 0) if settle else (int(v) for v in torch.randint(-jitter, jitter + 1, (2,), generator=gen))
            x = x.detach().requires_grad_(True)
            seen.clear()
            with torch.enable_grad():
                try:
                    model(torch.roll(x, (dy, dx), (2, 3)))
                except _Reached:
                    pass
                out = seen[0]
                h, w = out.shape[-2:]
                centre = out[torch.arange(len(channels), device=device), index, h // 2, w // 2]
                (grad,) = torch.autograd.grad(centre.sum(), x)
            with torch.no_grad():
                x = x + 0.05 * grad / grad.abs().mean((1, 2, 3), keepdim=True).clamp_min(1e-12)
                if not settle and (step + 1) % blur_every == 0:
                    x = _blur(x)
                x = torch.maximum(torch.minimum(x, high), low)
    finally:
        handle.remove()
        model.train(was)
    return x.detach()


class _Reached(Exception):
    """The forward pass reached the layer maximised: the rest is not run."""


def wants_picture(model: nn.Module, layer: str, shape: tuple[int, int, int], mean: torch.Tensor,
                  std: torch.Tensor, max_seconds: float | None = None) -> tuple[torch.Tensor, list[int]] | None:
    """(a grid picture of what `layer`'s first WANTED channels want to see, those channels), for
    inputs of `shape` (C x H x W) normalised by `mean` and `std`; the jitter scales with the size.
    None when it would take more than `max_seconds`."""
    from cnn_tui.insight.cam_view import pixels
    from cnn_tui.insight.pictures import grid

    module = dict(model.named_modules())[layer]
    width = getattr(module, "out_channels", WANTED)
    channels = list(range(min(WANTED, width)))
    x = maximise(model, layer, channels, shape, (0 - mean) / std, (1 - mean) / std, jitter=max(1, shape[-1] // 16),
                 max_seconds=max_seconds)
    if x is None:
        return None
    return grid(torch.stack([pixels(image.cpu(), mean, std) for image in x])), channels


def _blur(x: torch.Tensor) -> torch.Tensor:
    c = x.shape[1]
    k = BLUR.to(x.device, x.dtype)
    x = F.conv2d(F.pad(x, (1, 1, 0, 0), mode="replicate"), k.view(1, 1, 1, 3).expand(c, 1, 1, 3), groups=c)
    return F.conv2d(F.pad(x, (0, 0, 1, 1), mode="replicate"), k.view(1, 1, 3, 1).expand(c, 1, 3, 1), groups=c)
