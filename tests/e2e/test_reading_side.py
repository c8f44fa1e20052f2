"""Commands check everything before doing anything, and a bad path to read is one line, never a
traceback: recipes, run folders, listings, a reader that closes the pipe."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY_RECIPE, cnn_tui_cmd
from tests.e2e.test_cli import run_here

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def trained_nothing(monkeypatch):
    """Every run compare would start, recorded instead of trained."""
    import cnn_tui.commands.compare

    started: list = []
    monkeypatch.setattr(cnn_tui.commands.compare, "execute", lambda recipe, *a, **k: started.append(recipe.name))
    return started


@pytest.mark.parametrize("second, words", [
    ("nosuch", "nosuch: no such recipe file or built-in recipe"),
    ("{tmp}/bad.yaml", "bad.yaml:3: train.epochs: true/false is not a number"),
    ("{tmp}/folder.yaml", "data.path: {tmp}/missing is not a folder"),
])
def test_compare_checks_every_recipe_before_training_the_first(tmp_path, capsys, trained_nothing, second, words):
    """`compare A nosuch` trained every seed of A before saying nosuch does not exist."""
    (tmp_path / "tiny.yaml").write_text(TINY_RECIPE)
    (tmp_path / "bad.yaml").write_text("name: bad\ntrain:\n  epochs: true\n")
    (tmp_path / "folder.yaml").write_text("name: f\ndata: {dataset: image_folder, path: missing}\n")
    out = tmp_path / "cmp"
    result = run_here(capsys, "compare", str(tmp_path / "tiny.yaml"), second.format(tmp=tmp_path),
                      "--seeds", "1", "--out", str(out))
    assert result.returncode == 2
    assert result.stderr.startswith("cnn-tui: error: ") and result.stderr.count("\n") == 1
    assert words.format(tmp=tmp_path) in result.stderr
    assert trained_nothing == [] and not out.exists()


def test_list_of_a_missing_folder_or_a_file_is_exit_2(tmp_path, capsys):
    result = run_here(capsys, "list", str(tmp_path / "nosuch"))
    assert (result.returncode, result.stderr) == (2, f"cnn-tui: error: list {tmp_path / 'nosuch'}: no such folder "
                                                  "(give a folder of recipe .yaml files)\n")
    (tmp_path / "a.yaml").write_text("name: a\n")
    result = run_here(capsys, "list", str(tmp_path / "a.yaml"))
    assert result.returncode == 2 and "not a folder but a file" in result.stderr
    assert run_here(capsys, "list", str(tmp_path)).returncode == 0


@pytest.fixture
def odd_paths(tmp_path: Path) -> Path:
    (tmp_path / "afile").write_text("x\n")
    (tmp_path / "adir").mkdir()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "events.jsonl").write_text("")
    os.mkfifo(tmp_path / "fifo.yaml")
    return tmp_path


@pytest.mark.parametrize("argv, words", [
    (["validate", "{tmp}/adir"], "{tmp}/adir: is a directory, not a recipe file"),
    (["validate", "adir"], "adir: is a directory, not a recipe file"),
    (["validate", "{tmp}/fifo.yaml"], "fifo.yaml: not a regular file"),
    (["validate", "{tmp}/afile"], "{tmp}/afile: a recipe is a mapping of fields"),
    (["run", "{tmp}/adir"], "is a directory, not a recipe file"),
    (["compare", "{tmp}/fifo.yaml"], "not a regular file"),
    (["predict", "{tmp}/afile", "x.png"], "{tmp}/afile: not a run directory but a file"),
    (["predict", "{tmp}/nosuch", "x.png"], "{tmp}/nosuch: no such run directory"),
    (["predict", "{tmp}/run", "x.png"], "{tmp}/run: not a run directory (it has no recipe.yaml)"),
    (["export", "{tmp}/afile", "{tmp}/out.onnx", "--model", "onnx"], "{tmp}/afile: not a run directory but a file"),
    (["export", "{tmp}/adir", "{tmp}/out", "--to", "csv"], "{tmp}/adir: not a run directory"),
    (["show", "{tmp}/afile"], "{tmp}/afile: not a run directory but a file"),
    (["show", "{tmp}/adir"], "{tmp}/adir: not a run directory"),
    (["open", "{tmp}/afile"], "not a run directory"),
])
def test_a_bad_path_to_read_is_one_line_and_exit_2(odd_paths, capsys, monkeypatch, argv, words):
    monkeypatch.chdir(odd_paths)
    result = run_here(capsys, *[a.format(tmp=odd_paths) for a in argv])
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("cnn-tui: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert words.format(tmp=odd_paths) in result.stderr
    assert not (odd_paths / "out").exists() and not (odd_paths / "out.onnx").exists()


@pytest.mark.parametrize("argv", [
    ["list"],
    ["validate", "scratch_cnn"],
    ["predict", "--backbone", "efficientnet_lite0", str(ROOT / "recipes" / "images" / "chelsea.jpg")],
])
def test_a_reader_that_closes_the_pipe_ends_the_command_quietly(argv, cli_env):
    """`cnn-tui list | head -1` where head has gone: no traceback, no "Exception ignored", and the exit
    code of a filter ended by SIGPIPE (141), as `yes | head -1` gives."""
    proc = subprocess.Popen(cnn_tui_cmd(*argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the first line (the interpreter is still starting)
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=100) == 141, err
        assert err == ""
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.timeout(240)
def test_a_run_whose_reader_closes_the_pipe_trains_on_and_exits_with_its_own_code(tiny_recipe_path, tmp_path,
                                                                                   cli_env):
    """`cnn-tui run R | head -1`: the printer carries on without a reader; the exit code says how
    training went (0), not that the log was cut short."""
    out = tmp_path / "runs"
    proc = subprocess.Popen(cnn_tui_cmd("run", str(tiny_recipe_path), "--out", str(out), "--epochs", "1"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=200) == 0, err
        assert err == ""
        (run_dir,) = out.iterdir()
        assert '"status": "completed"' in (run_dir / "summary.json").read_text()
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("content", [b"garbage\n", b"PK\x03\x04" + bytes(200), bytes(range(256))])
def test_a_checkpoint_that_is_not_one_is_one_short_line(tmp_path, content):
    """predict, export and --resume read checkpoints: torch's message for a bad one runs to a dozen lines."""
    from cnn_tui.train.checkpoint import CheckpointError, load_checkpoint

    bad = tmp_path / "best.pt"
    bad.write_bytes(content)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(bad)
    message = str(info.value)
    assert message.startswith(f"{bad}: not a readable cnn-tui checkpoint (") and "\n" not in message
    assert len(message) < 300, message


@pytest.mark.timeout(60)
def test_serve_checks_its_port_and_folder_and_a_taken_port_is_one_line(tmp_path, capsys):
    import socket

    pytest.importorskip("textual_serve")
    result = run_here(capsys, "serve", "--port", "99999")
    assert (result.returncode, result.stderr) == (2, "cnn-tui: error: --port 99999: a port is 1..65535\n")
    result = run_here(capsys, "serve", "--recipes", str(tmp_path / "nosuch"))
    assert result.returncode == 2
    assert result.stderr == f"cnn-tui: error: --recipes {tmp_path / 'nosuch'}: no such folder\n"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_here(capsys, "serve", "--host", "127.0.0.1", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.startswith(f"cnn-tui: error: serve: cannot listen on 127.0.0.1:{port}: ")
    assert result.stderr.count("\n") == 1
