"""The plain-language rules fire on the curves they describe, and stay quiet otherwise."""

from __future__ import annotations

import math

from cnn_tui.train.diagnose import PERSIST, Diagnoser


def epochs(d: Diagnoser, rows: list[tuple[float, float, float]]) -> list[str]:
    codes = []
    for i, (train_loss, val_loss, train_acc) in enumerate(rows, start=1):
        codes += [f.code for f in d.on_epoch(i, {"train/loss": train_loss, "val/loss": val_loss,
                                                 "train/acc": train_acc, "val/acc": 0.5}, step=100 * i)]
    return codes


def test_overfitting_names_the_epoch_it_began():
    d = Diagnoser(num_classes=10, lr=0.1)
    d.first_loss = 2.3
    rows = [(1.5, 1.4, 0.5), (1.0, 1.0, 0.7), (0.7, 0.9, 0.8), (0.5, 0.95, 0.85), (0.3, 1.0, 0.9), (0.2, 1.1, 0.95)]
    assert epochs(d, rows) == ["overfitting"]
    d2 = Diagnoser(num_classes=10, lr=0.1)
    d2.first_loss = 2.3
    found = []
    for i, (t, v, a) in enumerate(rows, start=1):
        found += d2.on_epoch(i, {"train/loss": t, "val/loss": v, "train/acc": a}, step=100 * i)
    assert "Overfitting since epoch 3" in found[0].message and "0.900 to 1.100" in found[0].message


def test_healthy_curves_are_quiet():
    d = Diagnoser(num_classes=10, lr=0.1)
    d.first_loss = 2.3
    rows = [(1.5, 1.4, 0.5), (1.0, 1.0, 0.7), (0.8, 0.85, 0.8), (0.7, 0.8, 0.82), (0.65, 0.78, 0.85)]
    assert epochs(d, rows) == []


def test_no_learning_and_slow_start():
    d = Diagnoser(num_classes=10, lr=1e-6)
    d.first_loss = 2.30
    codes = epochs(d, [(2.29, 2.30, 0.10), (2.29, 2.30, 0.11), (2.28, 2.30, 0.10)])
    assert codes == ["slow_start", "no_learning"]


def test_rising_training_loss_means_the_lr_is_too_high():
    d = Diagnoser(num_classes=10, lr=1.0)
    d.first_loss = 2.3
    assert "diverging" in epochs(d, [(1.0, 1.0, 0.5), (1.2, 1.2, 0.4), (1.8, 1.9, 0.3)])


def test_nan_loss_is_an_error_once():
    d = Diagnoser(num_classes=10, lr=0.5)
    first = d.on_step_loss(float("nan"), step=40, lr=0.5)
    assert [f.code for f in first] == ["nan"] and "step 40" in first[0].message and "0.5" in first[0].message
    assert d.on_step_loss(float("inf"), step=41, lr=0.5) == []


def test_vanishing_gradients_need_to_persist_and_name_layers():
    d = Diagnoser(num_classes=10, lr=0.1)
    norms = {"conv1": 1e-9, "conv2": 1e-7, "fc": 0.5}
    ratios = {"conv1": 1e-9, "conv2": 1e-8, "fc": 1e-3}
    results = [d.on_gradients(norms, ratios, step) for step in range(PERSIST)]
    assert results[0] == [] and results[-1][0].code == "vanishing_gradients"
    assert "conv1, conv2" in results[-1][0].message and "fc" in results[-1][0].message


def test_exploding_gradients():
    d = Diagnoser(num_classes=10, lr=0.1)
    found = []
    for step in range(PERSIST):
        found += d.on_gradients({"conv1": 5e3, "fc": 2.0}, {"conv1": 0.4, "fc": 0.01}, step)
    assert [f.code for f in found] == ["exploding_gradients"] and "conv1" in found[0].message
    assert "40%" in found[0].message


def test_healthy_gradients_are_quiet():
    d = Diagnoser(num_classes=10, lr=0.1)
    for step in range(10):
        norms, ratios = {"conv1": 0.05, "conv2": 0.2, "fc": 0.9}, {"conv1": 1e-3, "conv2": 2e-3, "fc": 1e-3}
        assert d.on_gradients(norms, ratios, step) == []


def test_nan_gradients():
    d = Diagnoser(num_classes=10, lr=0.1)
    found = d.on_gradients({"conv1": math.nan, "fc": 1.0}, {}, 7)
    assert found[0].code == "nan" and "conv1" in found[0].message


def test_a_resumed_diagnoser_carries_on_where_it_stopped():
    """Mid-streak state survives a checkpoint: a resumed run warns at the same tick as an
    uninterrupted one, and does not repeat a warning it already gave."""
    vanishing = ({"conv1": 1e-9, "fc": 0.5}, {"conv1": 1e-9, "fc": 1e-3})
    exploding = ({"conv1": 5e3, "fc": 2.0}, {"conv1": 0.4, "fc": 0.01})
    d = Diagnoser(num_classes=3, lr=0.1)
    d.on_step_loss(1.0, 1, 0.1)
    d.on_epoch(1, {"train/loss": 1.0, "val/loss": 1.0, "train/acc": 0.5}, 100)
    for step in range(PERSIST - 1):  # one tick short of each warning
        d.on_gradients(*vanishing, step)
    state = d.state_dict()
    assert state["vanish_streak"] == PERSIST - 1 and state["first_loss"] == 1.0 and state["epochs"]

    clone = Diagnoser(num_classes=3, lr=0.1)
    clone.load_state_dict(state)
    assert clone.state_dict() == state
    for run in (d, clone):  # the next tick fires the warning in both
        assert [f.code for f in run.on_gradients(*vanishing, PERSIST)] == ["vanishing_gradients"]
    again = Diagnoser(num_classes=3, lr=0.1)
    again.load_state_dict(clone.state_dict())
    assert all(again.on_gradients(*vanishing, step) == [] for step in range(5))  # already said, once
    for step in range(PERSIST - 1):
        again.on_gradients(*exploding, step)
    resumed = Diagnoser(num_classes=3, lr=0.1)
    resumed.load_state_dict(again.state_dict())
    assert [f.code for f in resumed.on_gradients(*exploding, 9)] == ["exploding_gradients"]


def test_not_converged_fires_only_at_the_last_epoch_while_validation_loss_still_falls():
    falling = [(1.5, 1.4, 0.5), (1.2, 1.2, 0.6), (1.0, 1.0, 0.7), (0.8, 0.9, 0.75)]
    d = Diagnoser(num_classes=10, lr=0.1, total_epochs=4)
    d.first_loss = 2.3
    found = [f for i, (t, v, a) in enumerate(falling, start=1)
             for f in d.on_epoch(i, {"train/loss": t, "val/loss": v, "train/acc": a, "val/acc": a}, step=100 * i)]
    assert [f.code for f in found] == ["not_converged"]
    assert "still falling at the last epoch (1.000 -> 0.900 and accuracy 70.0% -> 75.0%)" in found[0].message
    assert "Train longer" in found[0].message
    longer = Diagnoser(num_classes=10, lr=0.1, total_epochs=10)  # epoch 4 of 10 is not the end
    longer.first_loss = 2.3
    assert epochs(longer, falling) == []
    flat = Diagnoser(num_classes=10, lr=0.1, total_epochs=4)  # converged: a new best by a hair is noise
    flat.first_loss = 2.3
    assert epochs(flat, [(1.5, 1.4, 0.5), (1.2, 1.0, 0.6), (1.0, 0.99, 0.7), (0.9, 0.989, 0.75)]) == []


def test_a_slow_start_at_exactly_chance_names_too_small_initial_weights():
    d = Diagnoser(num_classes=6, lr=0.01)
    d.on_step_loss(math.log(6) + 1e-6, step=1, lr=0.01)  # every logit ~0
    (found,) = d.on_epoch(1, {"train/loss": 1.78, "val/loss": 1.78, "train/acc": 0.2}, step=100)
    assert found.code == "slow_start" and "too-small initial weights" in found.message
    assert "exactly chance (ln 6 = 1.7918)" in found.message and "init: kaiming" in found.message
    plain = Diagnoser(num_classes=6, lr=0.01)
    plain.on_step_loss(2.4, step=1, lr=0.01)  # random logits: well off chance
    (found,) = plain.on_epoch(1, {"train/loss": 2.3, "val/loss": 2.3, "train/acc": 0.2}, step=100)
    assert found.code == "slow_start" and "initial weights" not in found.message
