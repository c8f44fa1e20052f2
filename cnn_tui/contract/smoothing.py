"""Curve smoothing shared by the dashboard and `cnn-tui show` (both torch-free, neither imports
the other): TensorBoard's debiased exponential moving average."""

from __future__ import annotations

DEFAULT_WEIGHT = 0.6  # TensorBoard's default smoothing


def debiased_ema(values: list[float], weight: float) -> list[float]:
    """TensorBoard's smoothing: an EMA whose start-up bias towards 0 is divided out."""
    if weight <= 0:
        return list(values)
    out, last, steps = [], 0.0, 0
    for v in values:
        last = last * weight + (1 - weight) * v
        steps += 1
        out.append(last / (1 - weight**steps))
    return out
