"""Style transfer on a CUDA GPU (skipped without one): `pytest -m cuda` runs them.

The CPU tests pin exact behaviour; here the same objective on the GPU must give the same
losses within float tolerance, L-BFGS must still only go down, and the 512 px paths the
issue names (VGG19 without weights, Lite0 with its shipped ones) run and report s/step."""

from __future__ import annotations

import time

import pytest
import torch

from tests.helpers import of_type, run_collect
from tests.unit.test_style import TINY_STYLE, style_recipe

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def test_the_first_losses_match_the_cpu_within_float_tolerance(tmp_path):
    recipe = style_recipe(tmp_path, TINY_STYLE, "steps=3")
    _, cpu = run_collect(recipe, tmp_path / "cpu", device="cpu")
    _, gpu = run_collect(recipe, tmp_path / "gpu", device="cuda")
    assert of_type(gpu, "style_started")[0].device == "cuda"
    first_cpu, first_gpu = of_type(cpu, "style_step")[0].metrics, of_type(gpu, "style_step")[0].metrics
    for name, value in first_cpu.items():
        assert first_gpu[name] == pytest.approx(value, rel=1e-3, abs=1e-6), name


@pytest.mark.timeout(600)
@pytest.mark.parametrize("net", ["vgg19", "efficientnet_lite0"])
def test_512_px_on_the_gpu_only_goes_down(tmp_path, net):
    weights = "none" if net == "vgg19" else "imagenet"  # no network on the GPU machine
    recipe = style_recipe(tmp_path, "kind: style_transfer\nname: gpu512\nimage_size: 512\nsteps: 60\n"
                          f"feature_net: {{name: {net}, weights: {weights}}}\n"
                          "log: {every_steps: 1, snapshot_every: 1000}\n")
    started = time.perf_counter()
    result, events = run_collect(recipe, tmp_path / "runs", device="cuda")
    seconds = time.perf_counter() - started
    totals = [e.metrics["loss/total"] for e in of_type(events, "style_step")]
    assert result.status == "completed"
    assert all(b <= a * 1.01 for a, b in zip(totals, totals[1:]))
    assert totals[-1] < totals[0]
    print(f"\nCUDA {net} 512 px: {result.summary['wall_seconds'] / 60:.3f} s/step ({seconds:.0f} s in all)")
