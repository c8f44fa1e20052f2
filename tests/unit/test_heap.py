"""train/heap.py: glibc keeps what a step frees, so the next step's tensors are not faulted in afresh."""

from __future__ import annotations

import json
import subprocess
import sys

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
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    done = subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(240)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc: Linux only")
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
