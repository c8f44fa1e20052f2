"""BatchNorm folded into the convolution before it, for nets that only ever run in eval mode.

In eval mode a BatchNorm is a fixed per-channel affine map, so `bn(conv(x))` equals one
conv with rescaled weights and a bias (torch's `fuse_conv_bn_eval`). Folded, a forward
pass skips one elementwise pass over every normalised activation and the backward pass
skips another: style transfer differentiates a frozen EfficientNet-Lite0 with respect to
its input about twice per L-BFGS step, and folding makes that ~25% faster on CPU (50 -> 38
ms at 256 px, 2 cores). The outputs agree with the unfolded net to float rounding (about
1e-6 relative).

Pairs are found in two places: consecutive Conv2d, BatchNorm2d children of a plain
nn.Sequential (a stem, VGG-BN's features; a subclass may have its own forward), and the
`conv_bn_pairs` a module names itself (EfficientNet-Lite's MBConv), since a module's
registration order does not prove that one child's output feeds the other. A BatchNorm
without running statistics normalises with the batch's even in eval mode: it stays.
"""

from __future__ import annotations

import copy

import torch.nn as nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fold_batchnorm(net: nn.Module) -> nn.Module:
    """`net` itself when it has nothing to fold, else an eval-mode copy with every folded
    BatchNorm replaced by nn.Identity. `net` is never changed."""
    if not any(isinstance(m, nn.BatchNorm2d) for m in net.modules()):
        return net
    folded = copy.deepcopy(net).eval()
    for module in folded.modules():
        for conv_name, bn_name in getattr(module, "conv_bn_pairs", ()):
            if hasattr(module, conv_name):
                _fold(module, conv_name, bn_name)
        if type(module) is nn.Sequential:
            names = list(module._modules)
            for conv_name, bn_name in zip(names, names[1:]):
                if isinstance(module._modules[conv_name], nn.Conv2d) and \
                        isinstance(module._modules[bn_name], nn.BatchNorm2d):
                    _fold(module, conv_name, bn_name)
    return folded


def _fold(module: nn.Module, conv_name: str, bn_name: str) -> None:
    conv, bn = getattr(module, conv_name), getattr(module, bn_name)
    if not isinstance(conv, nn.Conv2d) or not isinstance(bn, nn.BatchNorm2d) or bn.num_features != conv.out_channels \
            or bn.running_mean is None or bn.running_var is None:
        return
    setattr(module, conv_name, fuse_conv_bn_eval(conv, bn))  # a copy of conv, its class (e.g. SameConv2d) kept
    setattr(module, bn_name, nn.Identity())
