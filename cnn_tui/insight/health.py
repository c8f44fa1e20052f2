"""Activation and weight health at the gradient cadence: dead ReLUs, saturated sigmoid/tanh
units, and quantiles of each layer's weights and gradients (TensorBoard draws the same as
histograms over time).

A dead unit is one no image of the batch makes fire. For a conv layer the unit is the channel:
its filter is shared by every position, so it still learns while any position fires, and stops
only when none does (a position silent for the whole batch, e.g. at a border, is not dead).

Forward hooks on the activation modules do nothing unless armed, and the trainer arms them only
for the forward pass of a gradient tick, so the other steps pay one attribute test per activation.
Everything measured stays on the device until `collect`, which moves it to the host in one
transfer (a sync point, once per gradient tick).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn as nn

RELUS = (nn.ReLU, nn.ReLU6)
SQUASHERS = (nn.Sigmoid, nn.Tanh)
SATURATED = 0.01  # an output within 1% of the range's ends (sigmoid: < 0.01 or > 0.99; tanh: |y| > 0.99)
LEVELS = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)  # quantiles of the weight/gradient distributions
SAMPLE = 4096  # values per layer the quantiles are taken over (a fixed stride through the weight)
SPECTRUM_BINS = 24  # bins of each layer's activation histogram per tick (the "colorful dimension")
SPECTRUM_SAMPLE = 32768  # outputs per layer the histogram counts (an even stride through the batch's)
SPECTRUM_TOP = 99  # a bin's level: round(SPECTRUM_TOP * log(1 + count) / log(1 + values)), 0..99
RELU_HEADROOM = 2.0  # a ReLU layer's bins reach this many times its largest output at the first tick


def named_activations(model: nn.Module) -> Iterator[tuple[str, nn.Module]]:
    """(label, module) of each ReLU/sigmoid/tanh module; a label is the conv or linear layer the
    activation follows (the name the layer table and the gradients use), else its own name."""
    previous, used = "", set()
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            previous = name
        elif isinstance(module, RELUS + SQUASHERS):
            label = previous if previous and previous not in used else (name or "model")
            used.add(label)
            yield label, module


class ActivationHealth:
    def __init__(self, model: nn.Module) -> None:
        self.armed = False
        self.dead: dict[str, list[torch.Tensor]] = {}
        self.saturated: dict[str, list[torch.Tensor]] = {}
        self.histograms: dict[str, list[torch.Tensor]] = {}  # per layer, the tick's bin counts (on the device)
        self.ranges: dict[str, tuple[float, float]] = {}  # per layer, fixed at its first tick
        self.spectra: dict[str, list[int]] = {}  # the last collect's levels per bin, bottom bin first
        self.handles = [module.register_forward_hook(self._hook(label, module))
                        for label, module in named_activations(model)]

    def _hook(self, label: str, module: nn.Module) -> Callable[..., None]:
        relu, tanh = isinstance(module, RELUS), isinstance(module, nn.Tanh)

        def hook(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
            if not self.armed or not isinstance(output, torch.Tensor) or output.dim() < 2:
                return
            out = output.detach()
            if out.numel() == 0:
                return
            self.histograms.setdefault(label, []).append(self._histogram(label, out, relu, tanh))
            if relu:  # a unit (a conv's channel: its weights are shared) is dead when nothing makes it fire
                # the largest output per channel, reduced in place: ~20x faster than comparing a
                # channel-first copy of the batch (a channel holding a NaN counts as not firing)
                fired = out.amax(dim=[0, *range(2, out.dim())]) > 0
                self.dead.setdefault(label, []).append(1.0 - fired.float().mean())
            else:
                low, high = (-1.0, 1.0) if tanh else (0.0, 1.0)
                margin = SATURATED * (high - low)
                stuck = (out <= low + margin) | (out >= high - margin)
                self.saturated.setdefault(label, []).append(stuck.float().mean())
        return hook

    def _histogram(self, label: str, out: torch.Tensor, relu: bool, tanh: bool) -> torch.Tensor:
        """Counts of (an evenly strided sample of) the outputs in SPECTRUM_BINS equal bins of the
        layer's fixed range; values past the range count in the end bins (a layer whose outputs
        outgrow its range fills the top bin).

        Sigmoid and tanh have their own ranges; a ReLU's is [0, RELU_HEADROOM x its largest output
        at the first tick, rounded up to 1, 2 or 5 x 10^k]: that one host sync per layer per run
        fixes bins every later tick shares, so columns over time compare."""
        if label not in self.ranges:
            if relu:
                self.ranges[label] = (0.0, _nice(RELU_HEADROOM * float(out.max())))  # the one sync
            else:
                self.ranges[label] = (-1.0, 1.0) if tanh else (0.0, 1.0)
        low, high = self.ranges[label]
        flat = out.reshape(-1)
        sample = flat[::max(1, flat.numel() // SPECTRUM_SAMPLE)]  # a fixed stride, as for the quantiles
        return torch.histc(sample.float().clamp(low, high), SPECTRUM_BINS, low, high)

    def collect(self, layers: list[str], weights: list[torch.Tensor],
                grads: list[torch.Tensor | None]) -> tuple[dict[str, float], dict[str, float],
                                                          dict[str, list[float]], dict[str, list[float]]]:
        """(dead, saturated, weight quantiles, gradient quantiles) since arming; disarms. Activations
        used twice in a forward (torchvision's blocks reuse one ReLU) are averaged."""
        self.armed = False
        dead_names, sat_names = list(self.dead), list(self.saturated)
        values = [torch.stack(v).mean() for v in self.dead.values()] + \
                 [torch.stack(v).mean() for v in self.saturated.values()]
        spectrum_names = list(self.histograms)
        counts = [torch.stack(v).sum(0) for v in self.histograms.values()]
        self.dead, self.saturated, self.histograms = {}, {}, {}
        present = [g is not None for g in grads]
        device = weights[0].device if weights else torch.device("cpu")
        parts = [torch.stack(values).float().to(device)] if values else []
        if weights:  # each layer's weight quantiles, then its gradient's (zeros where it has none)
            zeros = torch.zeros(len(LEVELS), device=device)
            parts.append(quantile_rows([t if t is not None else zeros for pair in zip(weights, grads)
                                        for t in pair]).to(device).flatten())
        if counts:
            parts.append(torch.stack(counts).float().to(device).flatten())
        flat = torch.cat(parts).cpu().tolist() if parts else []  # sync point: one transfer per tick
        self.spectra = _levels(spectrum_names, flat[len(flat) - len(counts) * SPECTRUM_BINS:]) if counts else {}
        k = len(dead_names) + len(sat_names)
        dead = dict(zip(dead_names, flat[:len(dead_names)]))
        saturated = dict(zip(sat_names, flat[len(dead_names):k]))
        n = len(LEVELS)
        wq, gq = {}, {}
        for i, name in enumerate(layers):
            base = k + 2 * i * n
            wq[name] = flat[base:base + n]
            if present[i]:
                gq[name] = flat[base + n:base + 2 * n]
        return dead, saturated, wq, gq

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _levels(names: list[str], flat: list[float]) -> dict[str, list[int]]:
    """Bin counts to 0..SPECTRUM_TOP on a log scale: a bin with one value in it still shows, and a
    layer with every value in one bin reads SPECTRUM_TOP there, whatever the batch size."""
    levels = {}
    for i, name in enumerate(names):
        counts = flat[i * SPECTRUM_BINS:(i + 1) * SPECTRUM_BINS]
        scale = math.log1p(sum(counts)) or 1.0
        levels[name] = [round(SPECTRUM_TOP * math.log1p(c) / scale) for c in counts]
    return levels


def _nice(value: float) -> float:
    """The smallest 1, 2 or 5 x 10^k at or above `value` (a readable range end); 1.0 for a layer
    that gave no positive output at its first tick."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= value * (1 - 1e-9))


def quantile_rows(tensors: list[torch.Tensor]) -> torch.Tensor:
    """len(tensors) x len(LEVELS): the LEVELS quantiles of a fixed, evenly strided sample (SAMPLE to
    2 x SAMPLE values) of each tensor, interpolated linearly as torch.quantile does; a row is NaN where
    its sample holds a NaN. One sort of the samples padded into a matrix: on the CPU numpy's (torch's
    CPU sort took 6x as long: 2.2 ms against 0.4 for the scratch model's 14 tensors, a gradient tick's
    largest part), elsewhere the device's, with no sync."""
    samples = []
    for t in tensors:
        flat = t.detach().reshape(-1)
        samples.append(flat[::max(1, flat.numel() // SAMPLE)].float())
    if all(s.device.type == "cpu" for s in samples):
        return _sorted_quantiles_numpy(samples)
    return _sorted_quantiles_torch(samples)


@functools.lru_cache(maxsize=8)  # a run's layers give the same lengths every tick
def _positions(lengths: tuple[int, ...]) -> tuple[list[list[int]], list[list[int]], list[list[float]]]:
    """Per row and level: the sorted sample's indices below and above the quantile, and the weight of
    the one above (torch.quantile's 'linear')."""
    lo, hi, frac = [], [], []
    for n in lengths:
        at = [(max(n, 1) - 1) * level for level in LEVELS]
        lo.append([math.floor(a) for a in at])
        hi.append([math.ceil(a) for a in at])
        frac.append([a - math.floor(a) for a in at])
    return lo, hi, frac


def _sorted_quantiles_numpy(samples: list[torch.Tensor]) -> torch.Tensor:
    lengths = [len(s) for s in samples]
    matrix = np.full((len(samples), max(lengths, default=1)), np.inf, dtype=np.float32)
    for row, s in zip(matrix, samples):
        row[:len(s)] = s.numpy()
    nan = np.isnan(matrix).any(axis=1) | (np.asarray(lengths) == 0)  # torch.quantile: NaN for both
    matrix.sort(axis=1)
    lo, hi, frac = (np.asarray(a) for a in _positions(tuple(lengths)))
    below, above = np.take_along_axis(matrix, lo, 1), np.take_along_axis(matrix, hi, 1)
    out = below + (above - below) * frac.astype(np.float32)
    out[nan] = np.nan
    return torch.from_numpy(out)


def _sorted_quantiles_torch(samples: list[torch.Tensor]) -> torch.Tensor:
    device = samples[0].device
    matrix = torch.nn.utils.rnn.pad_sequence(samples, batch_first=True, padding_value=math.inf)
    empty = torch.tensor([len(s) == 0 for s in samples], device=device)[:, None]
    nan = matrix.isnan().any(dim=1, keepdim=True) | empty  # torch.quantile: NaN for both
    matrix = matrix.sort(dim=1).values
    lo, hi, frac = _device_positions(tuple(len(s) for s in samples), device)
    below, above = matrix.gather(1, lo), matrix.gather(1, hi)
    return (below + (above - below) * frac).masked_fill(nan, math.nan)


@functools.lru_cache(maxsize=8)
def _device_positions(lengths: tuple[int, ...], device: torch.device) -> tuple[torch.Tensor, ...]:
    """_positions as tensors on `device`, made once a run (a copy to a GPU waits for its queue)."""
    lo, hi, frac = _positions(lengths)
    return (torch.tensor(lo, device=device), torch.tensor(hi, device=device),
            torch.tensor(frac, dtype=torch.float32, device=device))
