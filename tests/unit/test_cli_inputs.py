"""Bad command lines as users type them: one line `cnn-tui: error: ...`, exit 2, for argparse's own
errors too (it printed its usage block first), and numbers outside what a command can do."""

from __future__ import annotations

import pytest

from cnn_tui.cli import main

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("argv, words", [
    (["validate", "scratch_cnn", "--classes", "abc"], "validate: argument --classes: invalid int value: 'abc'"),
    (["compare", "scratch_cnn", "--seeds", "x"], "compare: argument --seeds: invalid int value: 'x'"),
    (["lr-find", "scratch_cnn", "--pick", "z"], "lr-find: argument --pick: invalid choice: 'z'"),
    (["bogus"], "argument COMMAND: invalid choice: 'bogus'"),
    (["list", "--nope"], "unrecognized arguments: --nope"),
])
def test_argparse_errors_are_one_line_and_exit_2(argv, words, capsys):
    with pytest.raises(SystemExit) as ended:
        main(argv)
    err = capsys.readouterr().err
    assert ended.value.code == 2 and err.count("\n") == 1, err
    assert err.startswith("cnn-tui: error: ") and words in err and "usage:" not in err


def test_help_still_shows_the_usage(capsys):
    with pytest.raises(SystemExit) as ended:
        main(["validate", "--help"])
    assert ended.value.code == 0 and "usage: cnn-tui validate" in capsys.readouterr().out


@pytest.mark.parametrize("classes", ["100001", "99999999999"])
def test_validate_classes_has_an_upper_bound(classes, capsys):
    """--classes 99999999999 used to try to allocate 51 TB, then advise a larger image size."""
    assert main(["validate", "scratch_cnn", "--classes", classes]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--classes: {classes} is not allowed" in err and "<= 100000" in err, err
