"""train/heap.py: glibc keeps what a step frees, so the next step's tensors are not faulted in afresh."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnn_tui.train import heap

# A step's pattern: a conv stack's activations (1-9 MB) made, half kept for the backward, the gradients
# made, all freed; twenty steps, the minor page faults of the last ten (the first ones fault either way:
# the heap grows to the step's size). glibc's default gives most of it back to the kernel at every step.
STEPS = """
import json, resource, sys, torch
from cnn_tui.train.heap import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else False
MB = 1 << 18  # float32s in 1 MB
sizes = [2, 6, 6, 2, 3, 9, 9, 3, 1, 4, 4, 1]
for step in range(20):
    if step == 10:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    saved = []
    for i, size in enumerate(sizes):
        activation = torch.ones(size * MB)
        if i % 2 == 0:
            saved.append(activation)  # kept for the backward; the others freed as the forward goes on
    grads = [torch.ones(size * MB) for size in reversed(sizes)]
    del saved, grads, activation
print(json.dumps({"kept": kept, "faults": (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10}))
"""


def _faults(mode: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    done = subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _host_hides_the_faults() -> str:
    """Hosts where glibc's default does not fault on this pattern: the test would say nothing there."""
    if os.environ.get("LD_PRELOAD"):
        return "another malloc is preloaded"
    try:
        if "[always]" in Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text():
            return "transparent huge pages always: the heap grows in 2 MB pages"
    except OSError:
        pass
    return ""


@pytest.mark.timeout(240)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc: Linux only")
@pytest.mark.skipif(bool(_host_hides_the_faults()), reason=_host_hides_the_faults() or "-")
def test_a_step_that_frees_its_activations_gets_them_back_without_page_faults():
    default, kept = _faults("default"), _faults("keep")
    assert kept["kept"] is True
    # glibc's default hands most of the freed ~50 MB back and faults it in again: ~9,000 faults a step
    assert default["faults"] > 3000, default
    assert kept["faults"] < 1000, kept


@pytest.mark.parametrize("setting", [{"MALLOC_TRIM_THRESHOLD_": "1000000"}, {"MALLOC_MMAP_THRESHOLD_": "65536"},
                                     {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1000000"}])
def test_a_setting_of_the_users_own_wins(setting, monkeypatch):
    monkeypatch.setattr(heap.ctypes, "CDLL", lambda _name: pytest.fail("mallopt called over the user's setting"))
    assert heap.keep_freed_memory(setting) is False


def test_nothing_is_done_off_linux(monkeypatch):
    monkeypatch.setattr(heap.sys, "platform", "darwin")
    monkeypatch.setattr(heap.ctypes, "CDLL", lambda _name: pytest.fail("mallopt called off Linux"))
    assert heap.keep_freed_memory({}) is False


@pytest.mark.timeout(120)
def test_cpu_runs_keep_freed_memory_except_a_streamed_one(load_tiny, monkeypatch):
    import torch

    from cnn_tui.contract.sinks import CallbackSink
    from cnn_tui.data.bundle import DataBundle
    from cnn_tui.engine.plugins import engine_for
    from cnn_tui.engine.world import World
    from cnn_tui.style import kind as style_kind
    from cnn_tui.train import kind as train_kind
    from cnn_tui.train.control import RunControl

    calls: list[str] = []
    for module in (train_kind, style_kind):
        monkeypatch.setattr(module, "keep_freed_memory", lambda: calls.append("kept") or True)
    recipe = load_tiny()
    prepared = engine_for(recipe.kind).prepare(recipe, torch.device("cpu"), False, World())
    prepared.start(CallbackSink(lambda _event: None), RunControl(), None)
    assert calls == ["kept"]  # an in-memory data set on the CPU
    monkeypatch.setattr(DataBundle, "streamed", property(lambda _self: True))
    prepared.start(CallbackSink(lambda _event: None), RunControl(), None)
    assert calls == ["kept"]  # a stream: glibc's default, its memory budget is the user's
    from cnn_tui.recipes.loader import load_recipe

    style, _ = load_recipe("style_transfer_random_net", ["image_size=64", "steps=2"])
    engine_for(style.kind).prepare(style, torch.device("cpu"), False, World()).start(
        CallbackSink(lambda _event: None), RunControl(), None)
    assert calls == ["kept", "kept"]


def test_the_trim_threshold_is_left_alone_where_the_mmap_one_is_refused(monkeypatch):
    """A trim threshold alone would pin glibc's mmap threshold at 128 kB: a fresh mapping for every
    block, the slowest case (older glibc refuses an mmap threshold over 32 MB)."""
    calls: list[tuple[int, int]] = []

    class Mallopt:
        def __call__(self, param: int, value: int) -> int:
            calls.append((param, value))
            return 0 if param == heap.M_MMAP_THRESHOLD else 1

    class Library:
        mallopt = Mallopt()

    monkeypatch.setattr(heap.sys, "platform", "linux")
    monkeypatch.setattr(heap.ctypes, "CDLL", lambda _name: Library())
    assert heap.keep_freed_memory({}) is False
    assert calls == [(heap.M_MMAP_THRESHOLD, heap.MMAP_THRESHOLD)]
