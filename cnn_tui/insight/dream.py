"""What a filter wants to see: activation maximisation (Erhan et al. 2009; Olah et al. 2017, "Feature
Visualization"). Gradient ascent on the input to maximise one channel's response at the centre of its
map, with the usual regularisers that keep the picture from turning into high-frequency noise: a random
jitter (the image is rolled a few px before each step) and a light Gaussian blur every few steps.

One image per channel, all ascended together as one batch; the model's weights are not touched (the
gradient is taken with autograd.grad on the input only), and the random jitter comes from its own
generator, so a training's random stream is not moved.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

STEPS = 96
JITTER = 2  # px
BLUR_EVERY = 4
BLUR = torch.tensor([1.0, 2.0, 1.0]) / 4  # separable 3 x 3 Gaussian


def maximise(model: nn.Module, layer: str, channels: list[int], shape: tuple[int, int, int],
             low: torch.Tensor, high: torch.Tensor, steps: int = STEPS, seed: int = 0, jitter: int = JITTER,
             blur_every: int = BLUR_EVERY) -> torch.Tensor:
    """len(channels) x C x H x W inputs (normalised as the model sees them, kept within [low, high]
    per channel: the normalised images of black and white) that excite each channel's centre unit."""
    module = dict(model.named_modules())[layer]
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    gen = torch.Generator().manual_seed(seed)
    x = (torch.randn(len(channels), *shape, generator=gen) * 0.1).to(device)
    low, high = low.to(device).view(1, -1, 1, 1), high.to(device).view(1, -1, 1, 1)
    index = torch.tensor(channels, device=device)
    seen: list[torch.Tensor] = []
    handle = module.register_forward_hook(lambda _m, _i, out: seen.append(out))
    was = model.training
    model.eval()
    try:
        for step in range(steps):
            settle = step >= steps * 3 // 4  # the last quarter without jitter or blur: the picture settles
            dy, dx = (0, 0) if settle else (int(v) for v in torch.randint(-jitter, jitter + 1, (2,), generator=gen))
            x = x.detach().requires_grad_(True)
            seen.clear()
            with torch.enable_grad():
                model(torch.roll(x, (dy, dx), (2, 3)))
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


def _blur(x: torch.Tensor) -> torch.Tensor:
    c = x.shape[1]
    k = BLUR.to(x.device, x.dtype)
    x = F.conv2d(F.pad(x, (1, 1, 0, 0), mode="replicate"), k.view(1, 1, 1, 3).expand(c, 1, 1, 3), groups=c)
    return F.conv2d(F.pad(x, (0, 0, 1, 1), mode="replicate"), k.view(1, 1, 3, 1).expand(c, 1, 3, 1), groups=c)
