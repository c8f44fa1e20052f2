"""BatchNorm folded into its conv (models/batchnorm_fold.py), the style extractor running the folded
copy, and EfficientNet-Lite's "same" padding done by the conv where it is symmetric."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnn_tui.models.backbones.efficientnet_lite import MBConv, SameConv2d
from cnn_tui.models.batchnorm_fold import fold_batchnorm
from cnn_tui.models.summary import count_params
from cnn_tui.style.feature_nets import FeatureExtractor, build_feature_net

pytestmark = pytest.mark.timeout(120)


def _with_statistics(net: nn.Module, seed: int = 0) -> nn.Module:
    """Every BatchNorm given running statistics and an affine map far from the identity,
    so that a fold that dropped or misapplied any of them changes the output."""
    generator = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=generator))
            m.running_var.copy_(torch.rand(c, generator=generator) * 3 + 0.2)
            with torch.no_grad():
                m.weight.copy_(torch.randn(c, generator=generator))
                m.bias.copy_(torch.randn(c, generator=generator))
    return net.eval()


def _batchnorms(net: nn.Module) -> int:
    return sum(isinstance(m, nn.BatchNorm2d) for m in net.modules())


def test_an_mbconv_and_a_sequential_stem_fold_to_the_same_function():
    torch.manual_seed(0)
    net = _with_statistics(nn.Sequential(
        nn.Sequential(SameConv2d(3, 16, 3, stride=2, bias=False), nn.BatchNorm2d(16), nn.ReLU6()),
        MBConv(3, 1, 6, 16, 16),  # expand, depthwise, project, skip
        MBConv(5, 2, 6, 16, 24),
    ))
    x = torch.rand(2, 3, 33, 32)
    folded = fold_batchnorm(net)
    assert _batchnorms(folded) == 0
    assert torch.allclose(folded(x), net(x), rtol=1e-4, atol=1e-5)
    assert _batchnorms(net) == 7  # the original is untouched
    assert isinstance(folded[1]._depthwise_conv, SameConv2d)  # the conv's own padding is kept


def test_a_batchnorm_with_no_conv_feeding_it_is_left_alone():
    net = _with_statistics(nn.Sequential(nn.BatchNorm2d(3), nn.Conv2d(3, 4, 3), nn.ReLU(), nn.BatchNorm2d(4)))
    folded = fold_batchnorm(net)
    assert _batchnorms(folded) == 2  # BN first, and BN after a ReLU: neither follows a conv
    x = torch.rand(1, 3, 8, 8)
    assert torch.allclose(folded(x), net(x))


def test_a_batchnorm_without_running_statistics_or_in_a_custom_sequential_is_left_alone():
    class Twice(nn.Sequential):  # its own forward: registration order says nothing of the data flow
        def forward(self, x):
            return self[1](self[0](x)) * 2

    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, track_running_stats=False),
                        Twice(nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4))).eval()
    folded = fold_batchnorm(net)
    assert _batchnorms(folded) == 2
    x = torch.rand(2, 3, 8, 8)
    assert torch.allclose(folded(x), net(x))


def test_a_net_without_batchnorm_is_returned_itself():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    assert fold_batchnorm(net) is net


def test_the_style_extractor_runs_lite0_folded_and_still_describes_the_net_as_it_is():
    net = build_feature_net("efficientnet_lite0", "none", "max", 0)
    _with_statistics(net.layers)
    wanted = ["stem", "stage2", "stage4"]
    extractor = FeatureExtractor(net, wanted)
    assert _batchnorms(extractor.running) == 0
    assert not any(p.requires_grad for p in extractor.parameters())  # frozen: no weight gradients computed
    assert _batchnorms(extractor.layers) > 0
    assert count_params(extractor.layers) == count_params(nn.Sequential(*(net.layers[:5])))  # BN counted
    image = torch.rand(1, 3, 64, 48)
    x = (image - extractor.mean) / extractor.std
    for name, layer in extractor.layers.named_children():
        x = layer(x)
        if name in wanted:
            got = extractor(image)[name]
            assert torch.allclose(got, x, rtol=1e-4, atol=1e-5 * x.abs().max().item()), name
    calls = []
    for m in extractor.layers.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.register_forward_hook(lambda *_: calls.append(1))
    image.requires_grad_(True)
    extractor(image)["stage4"].square().mean().backward()
    assert not calls  # the folded copy ran, not the described net
    assert image.grad is not None and image.grad.abs().sum() > 0  # gradients still reach the image


@pytest.mark.parametrize("kernel,stride", [(1, 1), (3, 1), (5, 1), (3, 2), (5, 2)])
@pytest.mark.parametrize("size", [(16, 16), (17, 15)])
def test_same_padding_matches_tensorflow_on_every_shape(kernel, stride, size):
    torch.manual_seed(1)
    conv = SameConv2d(4, 6, kernel, stride=stride)
    x = torch.rand(1, 4, *size)
    pads = []
    for length in size[::-1]:  # F.pad's order: last dim first
        total = max((-(-length // stride) - 1) * stride + kernel - length, 0)
        pads += [total // 2, total - total // 2]
    expected = F.conv2d(F.pad(x, pads), conv.weight, conv.bias, stride)
    got = conv(x)
    assert got.shape == expected.shape == (1, 6, -(-size[0] // stride), -(-size[1] // stride))
    assert torch.allclose(got, expected, atol=1e-6)


def test_symmetric_same_padding_does_not_copy_the_input():
    """A 1x1 or stride-1 conv pads inside the conv: no pad node (a full copy of x, forward
    and backward) in the graph. A stride-2 conv on an even size needs F.pad's asymmetry."""
    x = torch.rand(1, 4, 16, 16, requires_grad=True)

    def graph(out: torch.Tensor) -> set[str]:
        names, stack = set(), [out.grad_fn]
        while stack:
            node = stack.pop()
            if node is not None:
                names.add(type(node).__name__)
                stack += [n for n, _ in node.next_functions]
        return names

    assert not any("Pad" in n for n in graph(SameConv2d(4, 4, 1)(x)))
    assert not any("Pad" in n for n in graph(SameConv2d(4, 4, 3)(x)))
    assert any("Pad" in n for n in graph(SameConv2d(4, 4, 3, stride=2)(x)))
