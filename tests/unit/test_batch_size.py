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
    assert find_for_recipe(recipe, pick_device("cpu")).batch == 64  # 96 training images: 128 is beyond the split
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
