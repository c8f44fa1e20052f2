"""The layer names of each style-transfer feature net, and its default content and style
layers. Plain Python (no torch) so the recipe schema can check names without building a net.

VGG names follow Gatys et al.: conv{block}_{index}, relu{block}_{index}, pool{block}.
`convX_Y` is the convolution's output, `reluX_Y` the rectified one (what Caffe's in-place
ReLU actually handed the paper's authors under the conv name).
"""

from __future__ import annotations

from collections.abc import Sequence

VGG_CONFIGS = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}
# the random net: one conv + ReLU per scale, each scale half the size of the last
RANDOM_WIDTHS = [32, 64, 128, 256, 256]
LITE0_BLOCKS = ["stem"] + [f"stage{i}" for i in range(1, 8)] + ["head_conv"]
NETS = ("vgg19", "vgg16", "random", "efficientnet_lite0")

PAPER_STYLE = ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"]
DEFAULT_LAYERS = {  # (content, style)
    "vgg19": (["conv4_2"], PAPER_STYLE),
    "vgg16": (["conv4_2"], PAPER_STYLE),
    "random": (["relu4_1"], ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]),
    # style from stride 2-4 only: measured over a matrix of pairs, the Gram matrices of Lite0's
    # signed stride-8 and -16 outputs fell only 5-7x in 300 steps on flat styles (checks, soft
    # colour clouds), and stage4 is the content layer: sharing it pits content against style.
    "efficientnet_lite0": (["stage4"], ["stem", "stage1", "stage2"]),
}


def vgg_layer_names(config: Sequence[object]) -> list[str]:
    names, block, index = [], 1, 1
    for item in config:
        if item == "M":
            names.append(f"pool{block}")
            block, index = block + 1, 1
        else:
            names += [f"conv{block}_{index}", f"relu{block}_{index}"]
            index += 1
    return names


def layer_names(net: str) -> list[str]:
    if net in VGG_CONFIGS:
        return vgg_layer_names(VGG_CONFIGS[net])
    if net == "random":
        names = []
        for block in range(1, len(RANDOM_WIDTHS) + 1):
            names += [f"conv{block}_1", f"relu{block}_1"] + ([f"pool{block}"] if block < len(RANDOM_WIDTHS) else [])
        return names
    return list(LITE0_BLOCKS)
