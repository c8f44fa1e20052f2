"""The leakage check at the start of a run (preflight/leak_warning.py): a recipe whose validation
split holds a copy of a training image gets a warning line and a diagnosis before training; the
built-in shapes data get neither; a large streamed folder is skipped with a note, not decoded."""

from __future__ import annotations

import pytest

from cnn_tui.contract.events import Diagnosis, Log
from tests.e2e.test_cli import run_here
from tests.unit.test_data_report import RECIPE, _planted

pytestmark = pytest.mark.timeout(120)


def test_a_run_on_planted_copies_warns_before_training(capsys, tmp_path):
    train, val = _planted(tmp_path)
    recipe = tmp_path / "leaky.yaml"
    recipe.write_text(RECIPE.format(train=train, val=val))
    done = run_here(capsys, "run", str(recipe), "--dry-run")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "leakage warning: val shares 1 exact and 2 near copies with train" in out, out
    assert "! val shares 1 exact and 2 near copies" in out, out  # the diagnosis, as the printer shows it
    assert out.index("leakage warning") < out.index("epoch  train loss")  # before training


def test_the_built_in_data_do_not_warn():
    from cnn_tui.data.sources import load_data
    from cnn_tui.preflight.leak_warning import check_before_training
    from cnn_tui.recipes.loader import load_recipe

    recipe, _ = load_recipe("scratch_cnn")
    check = check_before_training(load_data(recipe.data, recipe.seed))
    assert not check.leaked and check.events == []


def test_events_and_the_streamed_limit(tmp_path, monkeypatch):
    from cnn_tui.data.sources import load_data
    from cnn_tui.preflight import leak_warning
    from cnn_tui.recipes.loader import load_recipe

    train, val = _planted(tmp_path)
    recipe_path = tmp_path / "leaky.yaml"
    recipe_path.write_text(RECIPE.format(train=train, val=val))
    recipe, _ = load_recipe(recipe_path)
    data = load_data(recipe.data, recipe.seed)
    check = leak_warning.check_before_training(data)
    assert check.leaked
    assert [type(e) for e in check.events] == [Log, Diagnosis]
    assert check.events[1].code == "leakage" and check.events[0].level == "warning"
    assert "1 exact and 2 near" in check.events[0].message
    monkeypatch.setattr(leak_warning, "MAX_NEAR_PAIRS", 10)  # splits "this large": exact copies only
    exact_only = leak_warning.check_before_training(data)
    assert "exact copies only" in exact_only.events[0].message
    assert "1 exact and 0 near" in exact_only.events[1].message
    # a streamed split above the limit: skipped with a note, nothing decoded again
    monkeypatch.setattr(type(data.train), "streamed", property(lambda self: True))
    monkeypatch.setattr(leak_warning, "MAX_STREAMED_FILES", 10)
    skipped = leak_warning.check_before_training(data)
    assert not skipped.leaked and "leakage check skipped" in skipped.events[0].message


def _with_a_decode_cache(tmp_path, loader: str):
    """The planted folders, and their recipe with `data.loader: LOADER` and a decode cache."""
    from cnn_tui.recipes.loader import load_recipe

    train, val = _planted(tmp_path)
    recipe_path = tmp_path / "leaky.yaml"
    cache = tmp_path / "decoded"
    recipe_path.write_text(RECIPE.format(train=train, val=val).replace(
        "image_size: 32}", f"image_size: 32, loader: {loader}, decode_cache: {cache}}}"))
    return train, val, cache, load_recipe(recipe_path)[0]


def test_streamed_fingerprints_are_cached_beside_the_decoded_images(tmp_path, monkeypatch):
    from cnn_tui.data.sources import load_data
    from cnn_tui.preflight import leak_warning, print_cache
    from cnn_tui.preflight.data_report import data_report

    train, val, cache, recipe = _with_a_decode_cache(tmp_path, "stream, workers: 0")
    first, leaked = data_report(recipe)
    assert leaked and len(list(cache.glob("*" + print_cache.SUFFIX))) == 2  # train's and val's

    def no_decoding(*_args):
        raise AssertionError("decoded again although the fingerprints are cached")

    monkeypatch.setattr(print_cache, "fingerprint", no_decoding)
    again, _ = data_report(recipe)
    assert again == first
    # the run's check: over the streamed limit, but cached, so it checks instead of skipping
    monkeypatch.setattr(leak_warning, "MAX_STREAMED_FILES", 10)
    check = leak_warning.check_before_training(load_data(recipe.data, recipe.seed), 0, str(cache))
    assert check.leaked
    (train / "a" / "extra.png").write_bytes((train / "a" / "5.png").read_bytes())  # a changed folder: a new key
    skipped = leak_warning.check_before_training(load_data(recipe.data, recipe.seed), 0, str(cache))
    assert not skipped.leaked and "skipped" in skipped.events[0].message


def test_fingerprints_of_images_held_in_memory_are_cached_too(tmp_path, monkeypatch):
    """A second run of an in-memory recipe with a decode cache hashes nothing: its fingerprints are
    read beside the decoded images (2 s of a 6 s start on 20,000 images, benchmarks case 9); a
    changed folder is hashed again, and so are pixels that are not a plain decode (grey widened)."""
    from cnn_tui.data.sources import _rgb, load_data
    from cnn_tui.preflight import leak_warning, print_cache

    train, val, cache, recipe = _with_a_decode_cache(tmp_path, "memory")
    data = load_data(recipe.data, recipe.seed)
    assert not data.train.streamed
    first = leak_warning.check_before_training(data, 0, str(cache))
    assert first.leaked and len(list(cache.glob("*" + print_cache.SUFFIX))) == 2  # train's and val's
    hashed = []
    fingerprint = print_cache.fingerprint
    monkeypatch.setattr(print_cache, "fingerprint", lambda batches: hashed.append(1) or fingerprint(batches))
    again = leak_warning.check_before_training(load_data(recipe.data, recipe.seed), 0, str(cache))
    assert hashed == [] and [e.message for e in again.events] == [e.message for e in first.events]
    (val / "b" / "another.png").write_bytes((train / "b" / "3.png").read_bytes())  # a new copy: a new key
    changed = leak_warning.check_before_training(load_data(recipe.data, recipe.seed), 0, str(cache))
    assert len(hashed) == 1 and "2 exact" in changed.events[0].message  # val hashed again, train read
    grey = data.train.subset(data.train.y.argsort()[:4])
    grey.x = grey.x[:, :1]
    assert print_cache.prints_path(_rgb(grey), str(cache)) is None  # widened: not what decoding gives
