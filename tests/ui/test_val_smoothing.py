"""Validation curves (one noisy point an epoch) are smoothed like the training ones, TensorBoard's
debiased EMA at the chosen weight, with the raw points still drawn: in the dashboard's curve panes
and in `cnn-tui show`'s charts."""

from __future__ import annotations

import pytest

from cnn_tui.contract.events import EpochEnd
from cnn_tui.contract.smoothing import DEFAULT_WEIGHT
from cnn_tui.show.report import _val_lines
from cnn_tui.ui.plots import metric_plot
from cnn_tui.ui.state import RunState

VAL = [1.0, 0.4, 0.9, 0.5]  # a noisy validation loss, one value an epoch
# by hand, weight 0.6: EMA 0.4, 0.4*0.6+0.16=0.40, 0.24+0.36=0.60, 0.36+0.2=0.56 over 1-0.6^k
SMOOTHED = [1.0, 0.40 / 0.64 * 1.0, 0.60 / 0.784, 0.56 / 0.8704]


def state_with_val() -> RunState:
    state = RunState()
    for epoch, value in enumerate(VAL, start=1):
        state.ingest(EpochEnd(epoch=epoch, step=10 * epoch, metrics={"val/loss": value}, seconds=1.0, t=0.0))
    return state


def test_the_dashboard_draws_raw_and_smoothed_validation_points():
    lines = {line.label: line for line in metric_plot(state_with_val(), "loss", 80, 0.6).lines}
    assert lines["val raw"].ys == VAL and not lines["val raw"].legend and "dim" in lines["val raw"].color
    assert lines["val (smoothed)"].ys == pytest.approx(SMOOTHED)
    plain = {line.label: line for line in metric_plot(state_with_val(), "loss", 80, 0.0).lines}
    assert list(plain) == ["val"] and plain["val"].ys == VAL  # smoothing off (the s key's 0): raw only


def test_show_adds_the_smoothed_line_from_three_epochs():
    xs = [1.0, 2.0, 3.0, 4.0]
    raw, smoothed = _val_lines((xs, VAL))
    assert raw.ys == VAL and raw.marker == "dot"
    assert smoothed.label == "val smoothed" and list(smoothed.ys) == pytest.approx(SMOOTHED)
    assert DEFAULT_WEIGHT == 0.6  # the dashboard's starting weight (TensorBoard's)
    assert [line.label for line in _val_lines((xs[:2], VAL[:2]))] == ["val"]  # two points: nothing to smooth
