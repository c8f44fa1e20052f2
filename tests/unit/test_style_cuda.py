"""Style transfer on a CUDA GPU (skipped without one): `pytest -m cuda` runs them.

The CPU tests pin exact behaviour; here the same objective on the GPU must give the same
losses within float tolerance, L-BFGS must still only go down, and the 512 px paths the
issue names (VGG19 without weights, Lite0 with its shipped ones) run and report s/step.
The normal suite runs the same recipes on the CPU, the 512 px ones at 48 px for a few steps,
so a recipe or code-path error in these tests shows without a GPU."""

from __future__ import annotations

import time

import pytest
import torch

from tests.helpers import of_type, run_collect
from tests.unit.test_style import TINY_STYLE, style_recipe

CUDA = pytest.param("cuda", marks=[pytest.mark.cuda,
                                   pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")])


def big_recipe(tmp_path, net: str, device: str):
    """512 px for 60 steps on the GPU; on the CPU the same recipe at 48 px for 4 steps."""
    weights = "none" if net == "vgg19" else "imagenet"  # no network on the GPU machine
    size, steps = (512, 60) if device == "cuda" else (48, 4)
    return style_recipe(tmp_path, f"kind: style_transfer\nname: gpu512\nimage_size: {size}\nsteps: {steps}\n"
                        f"feature_net: {{name: {net}, weights: {weights}}}\n"
                        "log: {every_steps: 1, snapshot_every: 1000}\n")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_the_first_losses_match_the_cpu_within_float_tolerance(tmp_path):
    recipe = style_recipe(tmp_path, TINY_STYLE, "steps=3")
    _, cpu = run_collect(recipe, tmp_path / "cpu", device="cpu")
    _, gpu = run_collect(recipe, tmp_path / "gpu", device="cuda")
    assert of_type(gpu, "style_started")[0].device == "cuda"
    first_cpu, first_gpu = of_type(cpu, "style_step")[0].metrics, of_type(gpu, "style_step")[0].metrics
    for name, value in first_cpu.items():
        assert first_gpu[name] == pytest.approx(value, rel=1e-3, abs=1e-6), name


@pytest.mark.timeout(600)
@pytest.mark.parametrize("net, device", [
    pytest.param("vgg19", "cpu", marks=pytest.mark.slow),  # building VGG19 alone takes half a minute on 2 cores
    ("efficientnet_lite0", "cpu"),
    pytest.param("vgg19", *CUDA.values, marks=CUDA.marks),
    pytest.param("efficientnet_lite0", *CUDA.values, marks=CUDA.marks)])
def test_512_px_on_the_gpu_only_goes_down(tmp_path, net, device):
    recipe = big_recipe(tmp_path, net, device)
    started = time.perf_counter()
    result, events = run_collect(recipe, tmp_path / "runs", device=device)
    seconds = time.perf_counter() - started
    totals = [e.metrics["loss/total"] for e in of_type(events, "style_step")]
    assert result.status == "completed"
    assert all(b <= a * 1.01 for a, b in zip(totals, totals[1:]))
    assert totals[-1] < totals[0]
    assert of_type(events, "style_started")[0].device == device
    per_step = result.summary["wall_seconds"] / recipe.steps
    print(f"\n{device} {net} {recipe.image_size} px: {per_step:.3f} s/step ({seconds:.0f} s in all)")
