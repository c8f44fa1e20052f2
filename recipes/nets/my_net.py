"""An example of your own network for `arch: python` (recipes/my_net_shapes.yaml).

cnn-tui imports this file from the path the recipe names and calls `MyNet` with the
arguments it asks for by name: num_classes, in_channels, image_size. Any nn.Module works:
the layer table, gradients and every view follow its named submodules.
"""

import torch.nn as nn


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class MyNet(nn.Module):
    """Two conv blocks per stage, three stages, global average pooling, one linear layer."""

    def __init__(self, num_classes: int, in_channels: int = 3, width: int = 16) -> None:
        super().__init__()
        self.stage1 = nn.Sequential(conv_block(in_channels, width), conv_block(width, width), nn.MaxPool2d(2))
        self.stage2 = nn.Sequential(conv_block(width, 2 * width), conv_block(2 * width, 2 * width), nn.MaxPool2d(2))
        self.stage3 = nn.Sequential(conv_block(2 * width, 4 * width), nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Linear(4 * width, num_classes)

    def forward(self, x):
        return self.classifier(self.stage3(self.stage2(self.stage1(x))).flatten(1))
