"""What a `weights:` field may say: ImageNet, random init, or the path of a state-dict file.

One place for the two named values, read by the schemas, the loader (which resolves file
paths against the recipe's folder), the feature cache and the engine.
"""

from __future__ import annotations

IMAGENET = "imagenet"  # torchvision's (or the shipped Lite0) ImageNet weights
RANDOM_INIT = "none"  # no pretrained weights: the layers' own initialisation
NAMED = (IMAGENET, RANDOM_INIT)


def is_file(weights: str) -> bool:
    """True when `weights` names a state-dict file rather than one of the named choices."""
    return weights not in NAMED
