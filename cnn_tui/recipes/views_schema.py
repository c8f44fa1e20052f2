"""The `views:` section: what the engine shows of a classifier's inside while it trains.

Every view is on by default and costs little (benchmarks case 11 holds all of them to >= 0.97
of the throughput with all of them off); each can be turned off on its own. The costly ones
(Grad-CAM, feature space, top patches, activation maximisation) share a budget of the training
time (`budget`, cnn_tui/insight/budget.py); one set true in the recipe is drawn every epoch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cnn_tui.recipes.strict import Strict


class Views(Strict):
    # each epoch, on the first validation image: the activations of these conv layers as a grid
    # of small maps; auto: the first, a middle and the last conv layer; []: off
    feature_maps: Literal["auto"] | list[str] = "auto"
    feature_channels: int = Field(16, ge=1, le=256)  # maps per layer (its first channels)
    filters: bool = True  # the first conv layer's filters as tiles (RGB for colour inputs)
    confusion: bool = True  # the validation confusion matrix and per-class precision/recall/F1
    mistakes: int = Field(8, ge=0, le=64)  # most confidently wrong validation images kept per epoch
    # at log.grad_every_steps: dead ReLUs, saturated sigmoid/tanh units, weight and gradient quantiles
    health: bool = True
    # each epoch: Grad-CAM heat (where the network looked for the class it chose) over the first
    # validation image and each of the worst mistakes
    gradcam: bool = True
    # each epoch: the validation set's penultimate features in 2-D (PCA), coloured by class, and
    # their silhouette score (how well the classes separate)
    embedding: bool = True
    # each epoch, for the feature_maps layers: the validation patches that excite each of their
    # first feature_channels channels most (Zeiler & Fergus fig. 2)
    top_patches: bool = True
    # at the last epoch: what the deepest feature_maps layer's first 8 channels want to see
    # (activation maximisation: gradient ascent on the input; ~1 s on a CPU for scratch_cnn)
    wants: bool = True
    # the share of the training time that gradcam, embedding, top_patches and wants may take: they
    # are drawn at an epoch only while their time so far stays within it (always at the first and
    # the last epoch); 1: every epoch, 0: only the first and the last
    budget: float = Field(0.025, ge=0, le=1)

    def forced(self) -> set[str]:
        """The budgeted views the recipe set true itself: drawn every epoch, whatever they cost."""
        return {name for name in BUDGETED if name in self.model_fields_set and getattr(self, name)}

    def any_epoch_view(self) -> bool:
        return (bool(self.feature_maps) or self.filters or self.confusion or self.mistakes > 0 or self.gradcam
                or self.embedding or self.top_patches or self.wants)


BUDGETED = ("gradcam", "embedding", "top_patches", "wants")
