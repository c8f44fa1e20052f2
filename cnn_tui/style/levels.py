"""Coarse-to-fine ("multi-scale") style transfer: optimise at half size, upsample, go on.

At half the size a step costs about a quarter as much, and the coarse structure of the
style (colour regions, large strokes) settles there; the full-size steps then only add
the fine texture. `levels: 1` is the plain single-size run.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_LEVEL_PX = 32  # a coarser level would leave the feature nets' deeper maps a pixel or two


@dataclass(frozen=True)
class Level:
    size: int  # px, the longer side of the image at this level
    end: int  # the (global) step count at which this level is done


def plan_levels(image_size: int, steps: int, levels: int, coarse_steps: int) -> list[Level]:
    """Coarse to fine: image_size / 2**k px for k = levels-1 .. 0; `coarse_steps` steps at each
    coarser level, `steps` at full size. Step numbers run on across levels."""
    plan, end = [], 0
    for k in reversed(range(levels)):
        end += steps if k == 0 else coarse_steps
        plan.append(Level(size=image_size >> k, end=end))
    return plan


def level_at(plan: list[Level], step: int) -> int:
    """The index of the level that step `step` (0-based, the next to run) belongs to."""
    for index, level in enumerate(plan):
        if step < level.end:
            return index
    return len(plan) - 1
