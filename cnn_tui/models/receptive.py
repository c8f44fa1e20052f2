"""Receptive field and jump (effective stride) of every tensor in one forward pass.

A TorchFunctionMode sees every op, functional ones too (a residual add, Inception's concat,
F.max_pool2d in a forward), so branching nets need no special case: an op's output takes the
largest field and jump of its inputs, and convolutions and pools grow them by the rule of
Araujo et al., "Computing Receptive Fields of Convolutional Neural Networks" (Distill, 2019):

    r_out = r_in + (k - 1) * dilation * j_in        j_out = j_in * stride

per axis. A transposed conv of stride s spaces its outputs j_in / s apart, and each output
sums at most floor((k - 1) x dilation / s) + 1 neighbouring inputs:

    r_out = r_in + floor((k - 1) * dilation / s) * j_in        j_out = j_in / s

A tensor that has lost its spatial axes (flatten, linear, global pooling) sees the
whole image: GLOBAL.

Each Field also carries `start`, the input coordinate (px, pixel i's centre at i) of the centre of
unit 0's field (Araujo et al.'s "center of the first feature"): padding moves it left, an unpadded
("valid") conv or pool right, so a map's cells can be placed back on the image (Grad-CAM):

    start_out = start_in + ((k - 1) * dilation / 2 - padding) * j_in
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten
from torch.utils.weak import WeakIdKeyDictionary

GLOBAL = math.inf  # the receptive field of a unit that sees the whole image


@dataclass(frozen=True)
class Field:
    """Receptive field (px of the input) and jump (input px between neighbouring units), per axis."""

    rf: tuple[float, float] = (1, 1)
    jump: tuple[float, float] = (1, 1)
    start: tuple[float, float] = (0.0, 0.0)  # input px of unit 0's field centre (see the module's docstring)

    def grown(self, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
              padding: tuple[float, float] = (0, 0)) -> Field:
        rf = tuple(r + (k - 1) * d * j for r, k, d, j in zip(self.rf, kernel, dilation, self.jump))
        start = tuple(s0 + ((k - 1) * d / 2 - p) * j
                      for s0, k, d, p, j in zip(self.start, kernel, dilation, padding, self.jump))
        return Field((rf[0], rf[1]), (self.jump[0] * stride[0], self.jump[1] * stride[1]), (start[0], start[1]))

    def upsampled(self, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
                  padding: tuple[float, float] = (0, 0)) -> Field:
        """Through a transposed conv (see the module's docstring); output 0 sums the inputs
        around (padding - (k - 1) x dilation / 2) / stride."""
        rf = tuple(r + (k - 1) * d // s * j for r, k, d, s, j in zip(self.rf, kernel, dilation, stride, self.jump))
        start = tuple(s0 + (p - (k - 1) * d / 2) / s * j
                      for s0, k, d, s, p, j in zip(self.start, kernel, dilation, stride, padding, self.jump))
        return Field((rf[0], rf[1]), (self.jump[0] / stride[0], self.jump[1] / stride[1]), (start[0], start[1]))


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    values = tuple(value)
    return (int(values[0]), int(values[-1])) if values else (1, 1)


def _padding(value: Any, kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[float, float]:
    """A conv's or pool's padding per axis; conv2d's "same" pads (k - 1) x dilation / 2, "valid" none."""
    if value == "same":
        return (kernel[0] - 1) * dilation[0] / 2, (kernel[1] - 1) * dilation[1] / 2
    if value == "valid":
        return 0, 0
    return _pair(value)


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str, default: Any) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


CONVS = {F.conv2d, torch.conv2d}
TRANSPOSED = {F.conv_transpose2d, torch.conv_transpose2d}
POOLS = {F.max_pool2d, F.avg_pool2d, torch.max_pool2d, torch._C._nn.avg_pool2d, F.max_pool2d_with_indices}
PADS = {F.pad, torch._C._nn.pad}
ADAPTIVE = {F.adaptive_avg_pool2d, F.adaptive_max_pool2d, torch._C._nn.adaptive_avg_pool2d}


class FieldTracker(TorchFunctionMode):
    """Inside it, `fields[t]` is the Field of every 4-d tensor an op produced from the input."""

    def __init__(self, image: torch.Tensor) -> None:
        super().__init__()
        self.fields: WeakIdKeyDictionary = WeakIdKeyDictionary()
        self.fields[image] = Field()

    def field(self, tensor: torch.Tensor) -> Field | None:
        return self.fields.get(tensor)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        inputs = [self.fields[t] for t in tree_flatten((args, kwargs))[0]
                  if isinstance(t, torch.Tensor) and t in self.fields]
        if not inputs:
            return out
        coarsest = max(inputs, key=lambda f: f.jump)  # a residual add's branches agree; else the coarser grid
        field = Field(tuple(map(max, zip(*(f.rf for f in inputs)))),
                      tuple(map(max, zip(*(f.jump for f in inputs)))), coarsest.start)
        source = args[0] if args and isinstance(args[0], torch.Tensor) else None
        if func in CONVS:
            weight = _arg(args, kwargs, 1, "weight", None)
            size, spread = _pair(weight.shape[-2:]), _pair(_arg(args, kwargs, 5, "dilation", 1))
            field = field.grown(size, _pair(_arg(args, kwargs, 3, "stride", 1)), spread,
                                _padding(_arg(args, kwargs, 4, "padding", 0), size, spread))
        elif func in TRANSPOSED:
            weight = _arg(args, kwargs, 1, "weight", None)
            field = field.upsampled(_pair(weight.shape[-2:]), _pair(_arg(args, kwargs, 3, "stride", 1)),
                                    _pair(_arg(args, kwargs, 7, "dilation", 1)),
                                    _pair(_arg(args, kwargs, 4, "padding", 0)))
        elif func in POOLS:
            kernel = _pair(_arg(args, kwargs, 1, "kernel_size", 1))
            stride = _arg(args, kwargs, 2, "stride", None)
            dilation = _arg(args, kwargs, 4, "dilation", 1) if func is not F.avg_pool2d else 1
            field = field.grown(kernel, _pair(stride) if stride else kernel, _pair(dilation),
                                _pair(_arg(args, kwargs, 3, "padding", 0)))
        elif func in PADS:  # TF-style "same" convs pad first: unit 0 moves left by the left/top pad
            pads = list(_arg(args, kwargs, 1, "pad", ())) + [0, 0, 0, 0]
            field = Field(field.rf, field.jump, (field.start[0] - pads[2] * field.jump[0],
                                                 field.start[1] - pads[0] * field.jump[1]))
        elif func in ADAPTIVE and source is not None:
            size_in = source.shape[-2:]
            size_out = _pair(_arg(args, kwargs, 1, "output_size", 1))
            window = tuple(math.ceil(i / o) for i, o in zip(size_in, size_out))
            step = tuple(i // o for i, o in zip(size_in, size_out))
            field = field.grown((window[0], window[1]), (step[0], step[1]), (1, 1))
        for tensor in tree_flatten(out)[0]:
            if isinstance(tensor, torch.Tensor):
                self.fields[tensor] = field if tensor.dim() == 4 else Field((GLOBAL, GLOBAL), field.jump)
        return out
