"""Shared fixtures: tiny recipes that train in a second or two on CPU."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):  # two test processes on two cores: a thread each, not four
    os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "recipes"

TINY_RECIPE = """\
kind: scratch
name: tiny
seed: 3
device: cpu  # exact tests pin the CPU; tests/unit/test_cuda.py takes this recipe to the GPU
data:
  dataset: shapes
  image_size: 16
  shapes: {num_train: 96, num_val: 48, classes: [circle, square, cross]}
model:
  arch: vgg
  vgg_config: [4, M, 8, M]
  dropout: 0.1
train:
  epochs: 3
  batch_size: 16
  optimizer: {name: sgd, lr: 0.05}
  schedule: {name: cosine, warmup_epochs: 0.5}
log:
  every_steps: 2
  grad_every_steps: 3
"""


@pytest.fixture
def tiny_recipe_path(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_RECIPE)
    return path


@pytest.fixture
def load_tiny(tiny_recipe_path):
    from cnn_tui.recipes.loader import load_recipe

    def load(*overrides: str):
        recipe, _ = load_recipe(tiny_recipe_path, list(overrides))
        return recipe

    return load


@pytest.fixture
def cli_env(tmp_path: Path) -> dict:
    """Environment for running `cnn-tui` in a subprocess from the test's interpreter."""
    import os

    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["HOME"] = str(tmp_path / "home")
    return env


def cnn_tui_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "cnn_tui", *args]


def files_in(folder: Path, pattern: str) -> list[Path]:
    """`folder.glob(pattern)`, empty while `folder` is missing. A starting `cnn-tui run` makes its
    missing --out folder, writes a probe there and removes both again (contract/writable.py
    check_folder) before it makes them for good: a test polling for the run saw the folder and then
    lost it under its glob (FileNotFoundError, once in CI)."""
    try:
        return list(folder.glob(pattern))
    except FileNotFoundError:
        return []


@pytest.fixture(autouse=True)
def _caches_in_a_temporary_home(tmp_path_factory, monkeypatch):
    """Caches under ~ (decoded images, features, downloads) go to a per-session folder, never
    the developer's own home: no test depends on, or leaves, files there."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.getbasetemp() / "home"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Each phase's report on the test item, so a fixture's teardown knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def _no_process_outlives_its_test(request, monkeypatch):
    """Every process the test started (a training run, its workers, a run it detached or whose parent
    died first) is killed when the test ends, pass or fail (tests/processes.py says how they are found)."""
    import time
    import uuid

    from tests import processes

    test_id = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv(processes.TEST_ID, test_id)
    since, pid_before = time.time(), processes.last_pid()
    yield
    call = getattr(request.node, "report_call", None)
    processes.reap(test_id, since, pid_before, passed=call is not None and call.passed)
