"""--find-batch-size: the largest power of two under the limit less the margin; out of memory stops
the search; a fake limit (CNN_TUI_MEMORY_LIMIT) drives it on the CPU."""

from __future__ import annotations

import pytest

from cnn_tui.contract.errors import UsageError
from cnn_tui.preflight.batch_size import MEMORY_LIMIT_ENV, largest_fitting
from tests.e2e.test_cli import run_here

pytestmark = pytest.mark.timeout(120)


def test_the_largest_power_of_two_under_the_margin():
    fit = largest_fitting(lambda b: int(7.5 * b), limit=1000, most=4096)  # 128 needs 960: under the limit,
    assert fit.batch == 64 and fit.used == 480 and fit.tried[-1] == (128, 960)  # not under its 10% margin


def test_out_of_memory_and_the_split_size_stop_it():
    assert largest_fitting(lambda b: None if b >= 16 else b, limit=10**9, most=4096).batch == 8
    assert largest_fitting(lambda b: b, limit=10**9, most=100).batch == 64  # no batch beyond the split
    with pytest.raises(UsageError, match="even a batch of 1 does not fit"):
        largest_fitting(lambda b: 2000, limit=1000, most=64)


def test_a_fake_limit_on_the_cpu(capsys, monkeypatch, tiny_recipe_path):
    from cnn_tui.preflight.batch_size import find_for_recipe
    from cnn_tui.recipes.loader import load_recipe
    from cnn_tui.train.device import pick_device

    recipe, _ = load_recipe(tiny_recipe_path)
    monkeypatch.setenv(MEMORY_LIMIT_ENV, str(10**12))
    fit = find_for_recipe(recipe, pick_device("cpu"))
    assert fit.batch == 64  # 96 training images: 128 is beyond the split
    from cnn_tui.preflight.batch_size import format_fit

    assert "capped by the training split's size" in format_fit(fit, 16, "cpu")  # audit finding 12
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "abc")
    done = run_here(capsys, "validate", str(tiny_recipe_path), "--find-batch-size")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and MEMORY_LIMIT_ENV in done.stderr


def test_the_cli_prints_the_fit(capsys, monkeypatch, tiny_recipe_path):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "3e6")
    done = run_here(capsys, "validate", str(tiny_recipe_path), "--find-batch-size")
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("batch size: "))
    fitted = int(line.split()[2])
    assert 1 <= fitted < 64 and f"--set train.batch_size={fitted}" in line


def test_a_real_step_that_runs_out_of_memory_ends_the_search(load_tiny):
    """step_probe with the tiny recipe's real training step; the "allocator" is a forward hook that
    raises torch's out-of-memory error above 8 images and counts 1,000 bytes an image below it."""
    import torch

    from cnn_tui.preflight.batch_size import step_probe
    from cnn_tui.preflight.session import Session

    session = Session(load_tiny(), torch.device("cpu"))
    optimizer = session.phase(0).optimizer
    seen = {"bytes": 0}

    def allocate(_module, inputs):
        if len(inputs[0]) > 8:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        seen["bytes"] = 1000 * len(inputs[0])

    session.model.register_forward_pre_hook(allocate)
    before = [p.detach().clone() for p in session.model.parameters()]
    probe = step_probe(session, optimizer, lambda: seen.update(bytes=0), lambda: seen["bytes"])
    fit = largest_fitting(probe, limit=10**9, most=64)
    assert fit.batch == 8 and fit.used == 8000 and fit.tried[-1] == (16, None)
    assert all(p.grad is None for p in session.model.parameters())  # the failed step's gradients dropped
    assert any(not torch.equal(a, b) for a, b in zip(before, session.model.parameters()))  # real steps ran


def test_the_cpu_says_where_its_bytes_come_from(capsys, monkeypatch, tiny_recipe_path):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "3e6")
    done = run_here(capsys, "validate", str(tiny_recipe_path), "--find-batch-size")
    assert done.returncode == 0 and "on cpu: the bytes from the memory model, not measured" in done.stdout


@pytest.mark.cuda
@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_on_a_gpu_each_size_is_a_measured_step(monkeypatch, load_tiny):
    """For the lead on a GPU (`pytest -m cuda`): real steps, the peak read from CUDA's allocator; a
    limit (CNN_TUI_MEMORY_LIMIT) at batch 1's peak leaves no batch under the margin."""
    import torch

    from cnn_tui.preflight.batch_size import find_for_recipe

    recipe = load_tiny()
    device = torch.device("cuda")
    free = find_for_recipe(recipe, device)
    assert free.batch == 64 and all(used is not None and used > 0 for _, used in free.tried)
    monkeypatch.setenv(MEMORY_LIMIT_ENV, str(free.tried[0][1]))  # batch 1's peak: not under it less the margin
    with pytest.raises(UsageError, match="even a batch of 1 does not fit"):
        find_for_recipe(recipe, device)
