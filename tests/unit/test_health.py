"""Activation and weight health: dead ReLUs and saturated units measured on the forward pass of a
gradient tick, quantiles of a layer's weights, and the diagnoses they feed."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from cnn_tui.insight import health as health_module
from cnn_tui.insight.health import LEVELS, SAMPLE, ActivationHealth, named_activations, quantile_rows
from cnn_tui.train.diagnose import PERSIST, Diagnoser
from tests.helpers import of_type, run_collect


def _net(act: nn.Module, bias: float = 0.0, scale: float = 1.0) -> nn.Sequential:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 8), act, nn.Linear(8, 3))
    with torch.no_grad():
        net[0].weight.mul_(scale)
        net[0].bias.fill_(bias)
    return net


def _measure(net: nn.Module, x: torch.Tensor, armed: bool = True):
    health = ActivationHealth(net)
    health.armed = armed
    net(x)
    weights = [m.weight for m in net if isinstance(m, nn.Linear)]
    return health.collect(["0", "2"], weights, [None, None])


@pytest.mark.parametrize("bias, dead", [(-100.0, 1.0), (100.0, 0.0)])
def test_a_relu_is_dead_when_no_image_of_the_batch_makes_it_fire(bias, dead):
    dead_share, saturated, _, _ = _measure(_net(nn.ReLU(), bias=bias), torch.randn(16, 6))
    assert dead_share == {"0": dead} and saturated == {}


def test_dead_counts_units_silent_for_the_whole_batch_only():
    net = _net(nn.ReLU())
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].bias.copy_(torch.tensor([-1.0, -1, -1, 1, 1, 1, 1, 1]))  # 3 of 8 units never fire
        net[0].weight[3, 0] = 1.0  # unit 3 fires for some images only: alive
    x = torch.randn(32, 6)
    dead, _, _, _ = _measure(net, x)
    assert dead == {"0": pytest.approx(3 / 8)}


@pytest.mark.parametrize("act", [nn.Sigmoid(), nn.Tanh()])
def test_large_weights_saturate_squashing_units_and_small_ones_do_not(act):
    x = torch.randn(64, 6)
    _, big, _, _ = _measure(_net(act, scale=200.0), x)
    _, small, _, _ = _measure(_net(act, scale=0.01), x)
    assert big["0"] > 0.9 and small["0"] == 0.0


def test_unarmed_hooks_measure_nothing():
    dead, saturated, _, _ = _measure(_net(nn.ReLU(), bias=-100.0), torch.randn(4, 6), armed=False)
    assert dead == {} and saturated == {}


def test_weight_quantiles_are_the_weights_quantiles():
    net = _net(nn.ReLU())
    _, _, weights, grads = _measure(net, torch.randn(4, 6))
    expected = torch.quantile(net[0].weight.detach().flatten(), torch.tensor(LEVELS)).tolist()
    assert weights["0"] == pytest.approx(expected, rel=1e-6) and grads == {}


@pytest.mark.parametrize("path", ["numpy", "torch"])  # the CPU's path, and the one a GPU takes (run here on CPU)
def test_quantile_rows_are_torch_quantile_of_each_tensors_strided_sample(path, monkeypatch):
    torch.manual_seed(1)
    shapes = [(1,), (7,), (16, 3, 3, 3), (SAMPLE - 1,), (SAMPLE,), (2 * SAMPLE + 5,), (64, 32, 3, 3), (0,)]
    tensors = [torch.randn(shape) * (i + 1) + i for i, shape in enumerate(shapes)]
    tensors.append(torch.tensor([1.0, math.nan, 3.0]))
    if path == "torch":
        monkeypatch.setattr(health_module, "_sorted_quantiles_numpy", health_module._sorted_quantiles_torch)
    rows = quantile_rows(tensors)
    assert rows.shape == (len(tensors), len(LEVELS))
    for row, t in zip(rows, tensors):
        flat = t.reshape(-1)
        if flat.numel() == 0:  # torch.quantile refuses an empty tensor; a row of NaN says "no values"
            assert row.isnan().all()
            continue
        expected = torch.quantile(flat[::max(1, flat.numel() // SAMPLE)], torch.tensor(LEVELS))
        assert torch.allclose(row, expected, rtol=1e-5, atol=1e-5, equal_nan=True), (t.shape, row, expected)


def test_activations_are_named_after_the_layer_they_follow():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 4), nn.Tanh())
    assert [name for name, _ in named_activations(net)] == ["0", "4"]


def _ticks(d: Diagnoser, dead: dict, saturated: dict, n: int) -> list[str]:
    return [f.code for i in range(n) for f in d.on_health(dead, saturated, step=i)]


def test_dead_relus_and_saturation_need_to_persist_and_name_the_layers():
    d = Diagnoser(num_classes=3, lr=0.1)
    assert _ticks(d, {"conv1": 0.6, "conv2": 0.1}, {}, PERSIST - 1) == []
    found = d.on_health({"conv1": 0.7, "conv2": 0.1}, {}, step=99)
    assert [f.code for f in found] == ["dead_relus"] and "conv1" in found[0].message
    assert "70% of conv1's units" in found[0].message and "conv2" not in found[0].message
    assert _ticks(d, {}, {"fc": 0.95}, PERSIST) == ["saturated_activations"]


def test_a_healthy_tick_resets_the_streak():
    d = Diagnoser(num_classes=3, lr=0.1)
    codes = _ticks(d, {"conv1": 0.9}, {}, PERSIST - 1) + _ticks(d, {"conv1": 0.1}, {}, 1) \
        + _ticks(d, {"conv1": 0.9}, {}, PERSIST - 1)
    assert codes == []


def _epochs(d: Diagnoser, rows: list[tuple[float, float]]) -> list[str]:
    codes = []
    for i, (val_loss, val_acc) in enumerate(rows, start=1):
        codes += [f.code for f in d.on_epoch(i, {"train/loss": 1.0 / i, "val/loss": val_loss, "val/acc": val_acc,
                                                 "train/acc": 0.5 + 0.05 * i}, step=100 * i)]
    return codes


def test_val_accuracy_rising_with_val_loss_means_confident_mistakes():
    d = Diagnoser(num_classes=10, lr=0.1)
    d.first_loss = 2.3
    codes = _epochs(d, [(1.0, 0.60), (0.8, 0.70), (0.85, 0.72), (0.9, 0.73), (0.95, 0.74)])
    assert codes.count("confident_mistakes") == 1  # once, on the second rise in a row
    d2 = Diagnoser(num_classes=10, lr=0.1)
    d2.first_loss = 2.3
    _epochs(d2, [(1.0, 0.60), (0.8, 0.70), (0.85, 0.72)])
    found = d2.on_epoch(4, {"train/loss": 0.2, "val/loss": 0.9, "val/acc": 0.73}, step=400)
    assert [f.code for f in found] == ["confident_mistakes"]
    assert "70.0% -> 73.0%" in found[0].message and "0.800 -> 0.900" in found[0].message
    assert "since epoch 2" in found[0].message


@pytest.mark.parametrize("rows", [
    [(1.0, 0.6), (0.8, 0.7), (0.7, 0.75), (0.65, 0.78)],  # both improve: healthy
    [(1.0, 0.6), (0.8, 0.7), (0.85, 0.69), (0.9, 0.68)],  # loss up, accuracy down: plain overfitting
    [(1.0, 0.6), (0.8, 0.7), (0.81, 0.72), (0.805, 0.73)],  # loss flat, not rising twice
])
def test_confident_mistakes_stays_quiet_otherwise(rows):
    d = Diagnoser(num_classes=10, lr=0.1)
    d.first_loss = 2.3
    assert "confident_mistakes" not in _epochs(d, rows)


@pytest.mark.timeout(120)
def test_the_trainer_measures_health_at_every_gradient_tick(load_tiny, tmp_path):
    recipe = load_tiny()
    _, events = run_collect(recipe, tmp_path)
    ticks, health = of_type(events, "gradients"), of_type(events, "health")
    assert [h.step for h in health] == [g.step for g in ticks] and health
    assert all(set(h.weights) == set(g.norms) for h, g in zip(health, ticks))
    assert all(set(h.dead) == {"conv1_1", "conv2_1"} for h in health)  # the tiny vgg's two ReLU layers
    assert all(0.0 <= v <= 1.0 for h in health for v in h.dead.values())
    assert all(q == sorted(q) for h in health for q in list(h.weights.values()) + list(h.grads.values()))


def test_a_conv_channel_is_dead_only_when_no_position_of_any_image_fires():
    conv = nn.Conv2d(1, 3, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, -1.0, 1.0]).view(3, 1, 1, 1))
        conv.bias.copy_(torch.tensor([-0.5, -0.5, -100.0]))
    net = nn.Sequential(conv, nn.ReLU())
    x = torch.zeros(8, 1, 4, 4)
    x[5, 0, 0, 0] = 1.0  # channel 0 fires at one corner of one image only: alive; channel 1 never (x >= 0): dead
    health = ActivationHealth(net)
    health.armed = True
    net(x)
    dead, _, _, _ = health.collect(["0"], [conv.weight], [None])
    assert dead == {"0": pytest.approx(2 / 3)}  # channels 1 and 2
