"""train.compile (issue 31): an opt-in field, off by default; where it cannot work the run is refused in
one line before anything is written; what compiling cost is logged and `show` prints it."""

from __future__ import annotations

import types

import pytest
import torch

from cnn_tui.contract.errors import RecipeError, UsageError
from cnn_tui.contract.events import Log
from tests.conftest import TINY_RECIPE
from tests.helpers import of_type, run_collect


def _recipe(tmp_path, compile_value: str | None):
    from cnn_tui.recipes.loader import load_recipe

    text = TINY_RECIPE if compile_value is None else TINY_RECIPE.replace(
        "  batch_size: 16\n", f"  batch_size: 16\n  compile: {compile_value}\n")
    path = tmp_path / "tiny.yaml"
    path.write_text(text)
    return load_recipe(path, [])[0]


@pytest.mark.parametrize(("written", "read"), [(None, False), ("false", False), ("off", False), ("no", False),
                                               ("true", True), ("on", True), ("yes", True)])
def test_the_field_reads_like_every_other_switch(tmp_path, written, read):
    assert _recipe(tmp_path, written).train.compile is read


def test_a_word_that_is_no_switch_is_refused_naming_the_field(tmp_path):
    with pytest.raises(RecipeError, match=r"train\.compile"):
        _recipe(tmp_path, "sometimes")


def test_without_a_compiler_the_run_is_refused_in_one_line_before_anything_is_written(tmp_path, monkeypatch):
    from cnn_tui.train import compiled

    monkeypatch.setattr(compiled.shutil, "which", lambda name: None)
    with pytest.raises(UsageError) as refused:
        run_collect(_recipe(tmp_path, "true"), tmp_path / "runs")
    message = str(refused.value)
    assert "\n" not in message and "train.compile" in message and "C++ compiler" in message
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_off_the_module_runs_as_it_is_and_nothing_is_logged():
    from cnn_tui.train.compiled import Compiled

    said: list = []
    module = torch.nn.Linear(2, 2)
    forward = Compiled(False, said.append)
    assert all(forward(module) is module for _ in range(3)) and said == []


def test_on_the_first_steps_time_is_logged_once_and_a_new_module_compiles_anew(monkeypatch):
    from cnn_tui.record.history import COMPILE_NOTE
    from cnn_tui.train.compiled import Compiled

    made: list = []
    monkeypatch.setattr(torch, "compile", lambda module: made.append(module) or types.SimpleNamespace(of=module))
    said: list = []
    forward = Compiled(True, said.append)
    first, second = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    assert forward(first, tick=True) is first and made == []  # a gradient tick: its health hooks run eagerly
    assert [forward(first).of for _ in range(4)] == [first] * 4
    assert made == [first] and len(said) == 1 and said[0].message.startswith(COMPILE_NOTE)
    assert forward(first, tick=True) is first and len(said) == 1
    assert forward(second).of is second and made == [first, second]  # a phase change's new wrap


def test_show_prints_what_compiling_cost(tmp_path):
    from cnn_tui.record.history import COMPILE_NOTE, RunHistory
    from cnn_tui.show.report import summary_lines

    history = RunHistory(run_dir=tmp_path)
    history.add(Log(level="info", message="an ordinary line"))
    assert history.compile_note is None
    history.add(Log(level="info", message=f"{COMPILE_NOTE}first step 12.3 s, compiling included"))
    lines = summary_lines(history, types.SimpleNamespace(sampled=False))
    assert "  compile   first step 12.3 s, compiling included" in lines


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_tiny_run_with_compile_on_trains(tmp_path):
    from cnn_tui.train.compiled import refusal

    if refusal(torch.device("cpu")) is not None:
        pytest.skip(refusal(torch.device("cpu")))
    recipe = _recipe(tmp_path, "true")
    recipe.train.epochs = 2
    result, events = run_collect(recipe, tmp_path / "runs")
    assert result.status == "completed"
    notes = [e.message for e in of_type(events, "log") if e.message.startswith("torch.compile: ")]
    assert len(notes) == 1 and "first step" in notes[0]
    epochs = of_type(events, "epoch")
    assert len(epochs) == 2 and all(torch.isfinite(torch.tensor(e.metrics["train/loss"])) for e in epochs)


def test_a_python_torch_cannot_compile_for_is_named_in_the_refusal(monkeypatch):
    import torch._dynamo.eval_frame as eval_frame

    from cnn_tui.train.compiled import refusal

    monkeypatch.setattr(eval_frame, "is_dynamo_supported", lambda: False)
    assert "has no torch.compile for Python" in refusal(torch.device("cpu"))
