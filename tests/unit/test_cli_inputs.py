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


def test_an_unreadable_image_is_said_in_words(tmp_path):
    """Pillow's own texts named a file object (`<_io.BufferedReader name=3>`) and were cut mid-word."""
    from PIL import Image

    from cnn_tui.data.images import load_image, why_unreadable

    text = tmp_path / "notes.jpg"
    text.write_text("hello")
    with pytest.raises(Exception) as raised:
        load_image(str(text), 16, False)
    said = why_unreadable(raised.value)
    assert said.startswith("no format it knows: JPEG, PNG") and "BufferedReader" not in said
    bomb = Image.DecompressionBombError("Image size (400000000 pixels) exceeds limit of 178956970 pixels, could "
                                        "be decompression bomb DOS attack.")
    assert why_unreadable(bomb) == ("too large: 400,000,000 pixels, over Pillow's limit of 178,956,970 "
                                    "(a decompression-bomb guard)")


def test_a_large_image_decodes_without_pillows_warning_lines(tmp_path):
    """Between Pillow's warning and error sizes (89M..179M pixels) an image is decoded: the user sees
    no two-line DecompressionBombWarning naming Pillow's source file (the limits shrunk here)."""
    import subprocess
    import sys

    from PIL import Image

    Image.new("RGB", (12, 12)).save(tmp_path / "big.png")
    code = ("from PIL import Image; from cnn_tui.data.images import load_image; Image.MAX_IMAGE_PIXELS = 100; "
            f"print(load_image({str(tmp_path / 'big.png')!r}, 8, False).shape)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "(3, 8, 8)", done.stderr
    assert "Warning" not in done.stderr, done.stderr


def test_a_change_between_two_long_values_shows_where_they_differ():
    """`run --resume R --set model.init_from=R2` cut both run folders to '/tmp/runs/tiny-20261206-…'."""
    from cnn_tui.contract.errors import excerpt_pair
    from cnn_tui.recipes.resume_changes import describe

    old, new = "/tmp/aud/runs/tiny-20261206-123851-62c4", "/tmp/aud/runs/tiny-20261206-124606-131e"
    a, b = excerpt_pair(old, new, 30)
    assert a != b and a.endswith("123851-62c4'") and b.endswith("124606-131e'") and len(a) <= 30
    assert excerpt_pair(3, 5, 30) == ("3", "5")
    said = describe([("model.init_from", old, new)])
    assert "123851-62c4" in said and "124606-131e" in said


@pytest.mark.parametrize("value", [".nan", ".NaN"])
def test_nan_in_a_number_field_says_finite_number_as_inf_does(value, tmp_path, capsys):
    """`lr: .nan` was refused as "Input should be less than or equal to 10 (got nan)"."""
    path = tmp_path / "nan.yaml"
    path.write_text(f"kind: scratch\nname: x\ntrain: {{optimizer: {{lr: {value}}}}}\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "train.optimizer.lr: Input should be a finite number (got nan)" in err, err
