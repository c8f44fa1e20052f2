"""Activations over time: at each gradient tick, a histogram of every activation layer's outputs in
fixed bins (bottom bin first, counts log-scaled to 0..99), carried by the Health event."""

from __future__ import annotations

import torch
import torch.nn as nn

from cnn_tui.contract.events import Health
from cnn_tui.contract.wire_reader import parse_line
from cnn_tui.insight.health import SPECTRUM_BINS, SPECTRUM_TOP, ActivationHealth


def _net(act: nn.Module, bias: float = 0.0, scale: float = 1.0) -> nn.Sequential:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 64), act, nn.Linear(64, 3))
    with torch.no_grad():
        net[0].weight.mul_(scale)
        net[0].bias.fill_(bias)
    return net


def _tick(net: nn.Module, health: ActivationHealth, x: torch.Tensor) -> dict[str, list[int]]:
    health.armed = True
    net(x)
    health.collect([], [], [])
    return health.spectra


def test_a_collapsed_relu_fills_only_the_bottom_bin_and_a_live_one_spreads():
    net = _net(nn.ReLU())
    health = ActivationHealth(net)
    live = _tick(net, health, torch.randn(32, 6))["0"]
    assert len(live) == SPECTRUM_BINS and sum(v > 0 for v in live[1:]) >= 4  # spread over several bins
    low, high = health.ranges["0"]
    assert low == 0.0 and high in (1.0, 2.0, 5.0, 10.0, 20.0)  # fixed at the first tick, a round number
    with torch.no_grad():
        net[0].bias.fill_(-100.0)  # every unit dies
    dead = _tick(net, health, torch.randn(32, 6))["0"]
    assert dead == [SPECTRUM_TOP] + [0] * (SPECTRUM_BINS - 1)
    assert health.ranges["0"] == (low, high)  # the bins stay where they were: columns over time compare


def test_outputs_past_a_relus_range_count_in_the_top_bin():
    net = _net(nn.ReLU(), bias=0.5)
    health = ActivationHealth(net)
    _tick(net, health, torch.randn(32, 6))
    with torch.no_grad():
        net[0].bias.fill_(1000.0)  # every output far above the range fixed at the first tick
    assert _tick(net, health, torch.randn(32, 6))["0"] == [0] * (SPECTRUM_BINS - 1) + [SPECTRUM_TOP]


def test_a_saturated_tanh_fills_its_end_bins():
    net = _net(nn.Tanh(), scale=1000.0)
    health = ActivationHealth(net)
    levels = _tick(net, health, torch.randn(32, 6))["0"]
    assert health.ranges["0"] == (-1.0, 1.0)
    assert levels[0] > 80 and levels[-1] > 80 and max(levels[2:-2]) < levels[0] / 2


def test_nothing_is_measured_unless_armed():
    net = _net(nn.ReLU())
    health = ActivationHealth(net)
    net(torch.randn(8, 6))
    health.collect([], [], [])
    assert health.spectra == {}


def test_the_health_event_carries_it_and_old_events_read_without_it():
    event = Health(step=1, epoch=0, dead={}, saturated={}, levels=[], weights={}, grads={},
                   spectrum={"conv1": [99] + [0] * 23}, ranges={"conv1": [0.0, 2.0]})
    back = parse_line(event.to_json())
    assert back == event
    line = event.to_json()
    old = line[:line.index(',"spectrum"')] + "}"
    assert parse_line(old).spectrum == {}
    assert len(line) < 250  # small: a layer's histogram is ~75 bytes on the wire
