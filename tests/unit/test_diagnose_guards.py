"""The guards inside the diagnosis rules, each one on its own: a streak broken by a calm reading
starts over, an update ratio alone is an explosion, a NaN in the curves silences the curve rules
(the NaN rule speaks instead), and the input-bound advice names what waits. Each test failed with
the guard it names removed."""

from __future__ import annotations

import math

from cnn_tui.train.diagnose import EXPLODE_NORM, EXPLODE_UPDATE, PERSIST, Diagnoser

CALM = ({"conv1": 1.0, "fc": 2.0}, {"conv1": 0.001, "fc": 0.001})
HUGE_NORM = ({"conv1": EXPLODE_NORM * 5, "fc": 2.0}, {"conv1": 0.001, "fc": 0.001})
HUGE_UPDATE = ({"conv1": 1.0, "fc": 2.0}, {"conv1": EXPLODE_UPDATE * 4, "fc": 0.001})


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def test_an_exploding_streak_broken_by_a_calm_tick_starts_over():
    d = Diagnoser(num_classes=3, lr=0.1)
    ticks = [HUGE_NORM] * (PERSIST - 1) + [CALM] + [HUGE_NORM] * (PERSIST - 1)
    assert [c for step, tick in enumerate(ticks) for c in codes(d.on_gradients(*tick, step))] == []
    assert codes(d.on_gradients(*HUGE_NORM, 99)) == ["exploding_gradients"]


def test_an_update_ratio_alone_is_an_explosion():
    d = Diagnoser(num_classes=3, lr=0.1)
    found = [f for step in range(PERSIST) for f in d.on_gradients(*HUGE_UPDATE, step)]
    assert codes(found) == ["exploding_gradients"] and "conv1's weights by 40%" in found[0].message


def feed(d: Diagnoser, rows) -> list[str]:
    out = []
    for i, (train_loss, val_loss, val_acc) in enumerate(rows, start=1):
        out += codes(d.on_epoch(i, {"train/loss": train_loss, "val/loss": val_loss, "val/acc": val_acc},
                                step=100 * i))
    return out


def test_a_nan_accuracy_silences_the_confident_mistakes_rule():
    rising = [(1.0, 0.50, 0.50), (0.8, 0.60, 0.55), (0.6, 0.70, 0.60)]
    assert "confident_mistakes" in feed(Diagnoser(num_classes=3, lr=0.1, first_loss=1.1), rising)
    with_nan = [rising[0], (0.8, 0.60, math.nan), rising[2]]
    assert "confident_mistakes" not in feed(Diagnoser(num_classes=3, lr=0.1, first_loss=1.1), with_nan)


def test_a_nan_validation_loss_silences_the_overfitting_rule():
    rows = [(1.0, 1.0, 0.5), (0.8, 0.9, 0.6), (0.6, 0.95, 0.6), (0.4, 1.0, 0.6), (0.3, 1.1, 0.6)]
    assert "overfitting" in feed(Diagnoser(num_classes=3, lr=0.1, first_loss=1.1), rows)
    rows[2] = (0.6, math.nan, 0.6)
    assert "overfitting" not in feed(Diagnoser(num_classes=3, lr=0.1, first_loss=1.1), rows)


def test_input_bound_names_what_waits():
    for device, waiting in [("cpu", "so the model sits idle"), ("cuda", "so the GPU sits idle")]:
        d = Diagnoser(num_classes=3, lr=0.1)
        found = [f for step in range(PERSIST) for f in d.on_system(0.9, device, 0, step)]
        assert codes(found) == ["input_bound"] and waiting in found[0].message


def test_the_message_names_the_layer_whose_update_is_largest():
    d = Diagnoser(num_classes=3, lr=0.1)
    tick = ({"conv1": EXPLODE_NORM * 5, "fc": 2.0}, {"conv1": 0.2, "fc": 0.5})  # conv1 first, fc worse
    found = [f for step in range(PERSIST) for f in d.on_gradients(*tick, step)]
    assert "in conv1, fc:" in found[0].message and "fc's weights by 50%" in found[0].message
