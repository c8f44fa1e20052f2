"""lr-find: the range test's curve and suggestions, the weights put back, the run folder, the
recipe copy, and the refusals (style transfer, a file lr-find did not write)."""

from __future__ import annotations

import math

import pytest

from cnn_tui.preflight.lr_range import lr_at, run_range_test, valley
from tests.e2e.test_cli import run_here

pytestmark = pytest.mark.timeout(120)


def _curve(lr: float) -> float:
    """Flat at 2.3 for tiny rates, falling between 1e-4 and 1e-1, blowing up above."""
    x = math.log10(lr)
    fall = 2.0 / (1 + math.exp(-(x + 2.5) * 3))  # half-way at 3e-3
    noise = 0.02 * math.sin(37 * x)
    return 2.3 - fall + noise + (0 if lr < 0.1 else 50 * (lr - 0.1))


def test_the_lr_grows_exponentially_from_start_to_end():
    assert lr_at(0, 100, 1e-7, 10) == pytest.approx(1e-7)
    assert lr_at(99, 100, 1e-7, 10) == pytest.approx(10)
    assert lr_at(50, 101, 1e-6, 1) == pytest.approx(1e-3)


def test_the_suggestion_lies_in_the_descent_and_the_test_stops_once_it_diverges():
    result = run_range_test(_curve, 200, 1e-7, 10)
    assert "4x" in result.stopped and result.lrs[-1] < 10  # stopped early
    assert 1e-4 < result.valley < 1e-1
    assert 1e-4 < result.steepest < 1e-1
    assert result.suggestion == result.valley  # the valley is the one suggested


def test_valley_takes_the_middle_of_the_longest_descent():
    lrs = [10 ** (i / 10 - 5) for i in range(40)]
    losses = [3.0] * 10 + [3.0 - 0.1 * i for i in range(20)] + [5.0] * 10
    assert lrs[10] < valley(lrs, losses) < lrs[29]


def test_a_loss_that_rises_from_the_start_says_it_diverged_at_once():
    result = run_range_test(lambda lr: 2.0 + 1e3 * lr, 100, 1e-3, 10)
    assert result.suggestion is None and result.diverged_at_once
    result = run_range_test(lambda lr: float("nan") if lr > 1e-2 else 2.0 + lr, 100, 1e-3, 10)
    assert result.suggestion is None and "nan" in result.stopped


def test_the_weights_are_put_back_after_the_test(load_tiny):
    import torch

    from cnn_tui.preflight.session import Session

    session = Session(load_tiny(), torch.device("cpu"))
    before = {k: v.clone() for k, v in session.model.state_dict().items()}
    snapshot = session.snapshot()
    phase = session.phase(0)
    batches = session.batches()
    for _ in range(3):
        session.step(phase.optimizer, torch.nn.CrossEntropyLoss(), *next(batches))
    assert any(not torch.equal(before[k], v) for k, v in session.model.state_dict().items())
    session.restore(snapshot)
    assert all(torch.equal(before[k], v) for k, v in session.model.state_dict().items())


def test_lr_find_writes_a_run_folder_the_dashboard_can_open(capsys, tiny_recipe_path, tmp_path):
    from cnn_tui.record.rundir import read_events, read_summary

    done = run_here(capsys, "lr-find", str(tiny_recipe_path), "--steps", "40", "--out", str(tmp_path / "runs"),
                    "--width", "80")
    assert done.returncode in (0, 1), done.stderr
    assert "loss vs lr (log)" in done.stdout and "run directory:" in done.stdout
    run_dir = next((tmp_path / "runs").iterdir())
    assert run_dir.name.startswith("tiny-lr-find-")
    summary = read_summary(run_dir)
    assert summary["lr_find"]["picked"] == "valley" and len(summary["lr_find"]["lrs"]) >= 10
    kinds = [e.type for e in read_events(run_dir)]
    assert kinds[0] == "run_started" and "step" in kinds and kinds[-1] == "finished"


def test_a_training_split_smaller_than_one_batch_still_runs(capsys, tiny_recipe_path, tmp_path):
    done = run_here(capsys, "lr-find", str(tiny_recipe_path), "--steps", "12", "--set", "data.shapes.num_train=10",
                    "--set", "train.batch_size=32",
                    "--out", str(tmp_path / "runs"))
    assert done.returncode in (0, 1), done.stderr
    assert "fewer than one batch of 32" in done.stdout


@pytest.mark.parametrize("args, message", [
    (["style_transfer_random_net"], "optimises the pixels of one image"),
    (["TINY", "--steps", "3"], "--steps 3: allowed 10..10000"),
    (["TINY", "--start-lr", "1", "--end-lr", "0.1"], "needs 0 < start < end"),
    (["TINY", "--phase", "2"], "--phase 2: the recipe has 1 phase(s)"),
    (["TINY", "--force"], "--force: only with --write"),
    (["TINY", "--write", "copy.txt"], "a recipe copy is a .yaml file"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, tiny_recipe_path, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    args = [str(tiny_recipe_path) if a == "TINY" else a for a in args]
    done = run_here(capsys, "lr-find", *args, "--out", str(tmp_path / "runs"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert not (tmp_path / "runs").exists()


def test_write_never_replaces_a_file_lr_find_did_not_write(capsys, tiny_recipe_path, tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("kind: scratch\n")
    for extra in ([], ["--force"]):
        done = run_here(capsys, "lr-find", str(tiny_recipe_path), "--write", str(mine), *extra)
        assert done.returncode == 2 and str(mine) in done.stderr
    assert mine.read_text() == "kind: scratch\n"


def test_the_recipe_copy_loads_with_the_suggested_lr_and_force_replaces_only_it(load_tiny, tiny_recipe_path,
                                                                                  tmp_path):
    from cnn_tui.contract.errors import UsageError
    from cnn_tui.preflight.record import MARK, check_copy_target, write_recipe_copy
    from cnn_tui.recipes.loader import load_recipe

    target = tmp_path / "found.yaml"
    check_copy_target(target, force=False)
    write_recipe_copy(target, load_tiny(), tiny_recipe_path, "train.optimizer.lr", 0.0123, 0.05)
    assert target.read_text().startswith(MARK)
    copy, _ = load_recipe(str(target))
    assert copy.train.optimizer.lr == pytest.approx(0.0123)
    assert copy.data.shapes.num_train == 96  # the rest of the recipe is the same
    with pytest.raises(UsageError, match="exists"):
        check_copy_target(target, force=False)
    check_copy_target(target, force=True)  # a copy lr-find wrote: --force may replace it


def test_fine_tuning_phase_lr_field_names_the_phase(tmp_path):
    from cnn_tui.preflight.record import write_recipe_copy
    from cnn_tui.recipes.loader import load_recipe

    recipe, path = load_recipe("fine_tuning_shapes_fewshot")
    write_recipe_copy(tmp_path / "ft.yaml", recipe, path, "phases[1].optimizer.lr", 3e-4, 1e-3)
    copy, _ = load_recipe(str(tmp_path / "ft.yaml"))
    assert copy.phases[1].optimizer.lr == pytest.approx(3e-4)
    assert copy.phases[0].optimizer.lr == recipe.phases[0].optimizer.lr


@pytest.mark.parametrize("taken", ["x: 1\n", "# written by cnn-tui lr-find\nkind: scratch\n"])  # the user's; a copy
def test_nothing_is_written_when_the_write_target_is_refused(capsys, tiny_recipe_path, tmp_path, taken):
    (tmp_path / "taken.yaml").write_text(taken)  # (lr-find's own copy is refused too without --force)
    done = run_here(capsys, "lr-find", str(tiny_recipe_path), "--write", str(tmp_path / "taken.yaml"),
                    "--out", str(tmp_path / "runs"))
    assert done.returncode == 2 and not (tmp_path / "runs").exists()
    assert done.stdout == "" and (tmp_path / "taken.yaml").read_text() == taken  # refused before training


def test_auto_picks_the_steepest_point_for_a_one_cycle_peak_and_the_valley_otherwise():
    from cnn_tui.preflight.lr_range import RangeResult, pick_for

    result = RangeResult(steepest=0.098, valley=0.0116)
    assert "onecycle" in pick_for(result, "auto", "onecycle") and result.suggestion == 0.098
    pick_for(result, "auto", "cosine")
    assert result.suggestion == 0.0116
    pick_for(result, "valley", "onecycle")
    assert result.suggestion == 0.0116  # --pick overrides the schedule
    low = RangeResult(steepest=0.001, valley=0.0116)  # a steepest point below the valley: the valley
    pick_for(low, "auto", "onecycle")
    assert low.suggestion == 0.0116


def test_a_recipe_that_diverges_at_once_says_so_and_suggests_a_lower_start(capsys, tiny_recipe_path, tmp_path):
    """From lr 3 up, SGD on the tiny net blows up at once: exit 1, "start lower", nothing suggested."""
    done = run_here(capsys, "lr-find", str(tiny_recipe_path), "--steps", "12", "--start-lr", "3", "--end-lr", "10",
                    "--out", str(tmp_path / "runs"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the loss never fell: it rose from the first steps" in done.stdout and "Start lower" in done.stdout
    assert "suggested lr" not in done.stdout


def test_a_rise_from_a_tiny_start_is_called_noise_not_divergence(capsys, tiny_recipe_path, tmp_path):
    """Audit finding 1: 10 steps from lr 1e-7 (the default start) on the tiny recipe: nothing moves
    at the start, and the curve's rise is batch noise: more steps, not a lower start."""
    done = run_here(capsys, "lr-find", str(tiny_recipe_path), "--steps", "10", "--out", str(tmp_path / "runs"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "batch-to-batch noise" in done.stdout and "Start lower" not in done.stdout, done.stdout
    assert "stopped early" not in done.stdout or "at lr 10" not in done.stdout
