"""Property-based: whatever a recipe file or a `--set` says, loading it gives a valid recipe or one
line (a CnnTuiError, exit 2 on the command line) within a time bound, and a loaded recipe written
back as a run's recipe.yaml reads back the same.

The recipes are generated from the schema's own field paths, with values drawn from what trips
YAML and pydantic up: YAML 1.1 words, booleans, huge and odd numbers, aliases, deep and wide
structures, long strings. A few examples go through the real command line in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from cnn_tui.contract.errors import CnnTuiError
from cnn_tui.contract.kinds import KINDS, schema_for
from cnn_tui.recipes.loader import load_recipe, recipe_to_dict
from cnn_tui.recipes.schema import RecipeCommon
from cnn_tui.recipes.yaml_io import dump_yaml

pytestmark = pytest.mark.timeout(240)

SECONDS_PER_LOAD = 2.0  # the bound on one load, on a busy 2-core CI machine (it takes milliseconds)
MAX_MESSAGE = 1000  # characters of one error line


def _paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every field path of a schema, e.g. train.optimizer.lr (sections and leaves)."""
    out = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        out.append(path)
        for candidate in (field.annotation, *get_args(field.annotation)):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel) and get_origin(candidate) is None:
                out += _paths(candidate, f"{path}.")
    return out


FIELDS = sorted({p for kind in KINDS for p in _paths(schema_for(kind))}) + ["nosuch", "train.nosuch"]

# raw YAML scalars and snippets, unquoted, as a user types them
WORDS = ["off", "on", "yes", "no", "y", "n", "Y", "N", "true", "false", "True", "FALSE", "~", "null", "",
         "auto", "sgd", "shapes", "scratch", "vgg", "python", "image_folder", "010", "0o17", "0x1f", "1_000",
         "1:20", "2024-01-02", "1e-3", ".inf", "-.inf", ".nan", "-1", "0", "1", "3", "64", "0.5", "1e400",
         "9" * 5000, "[1, true]", "[]", "{}", "[M, 8, conv1-4]", "{out: 4, padding: true}", "[[[[1]]]]",
         "!!python/object:os.system x", "!!binary aGk=", "*nosuch", "&a [1, *a]", "'quoted off'",
         "\"tab\\there\"", "'0o17'", "'1e3'", "'010'", "x" * 300, "ünïcödé", "a: b: c", "- 1", "<<"]

scalars = st.one_of(st.sampled_from(WORDS), st.integers(-(10**20), 10**20).map(str),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr),
                    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12).map(
                        lambda s: yaml.safe_dump(s, default_flow_style=True).strip().removesuffix("...").strip()))


def _render(tree: dict[str, Any], indent: int = 0) -> str:
    lines = []
    for key, value in tree.items():
        if isinstance(value, dict):
            lines.append(f"{'  ' * indent}{key}:")
            lines.append(_render(value, indent + 1))
        else:
            lines.append(f"{'  ' * indent}{key}: {value}")
    return "\n".join(line for line in lines if line)


@st.composite
def recipe_texts(draw: st.DrawFn) -> str:
    """A recipe file: some of the schema's fields (or unknown ones), each set to a raw YAML value."""
    tree: dict[str, Any] = {}
    if draw(st.booleans()):
        tree["kind"] = draw(st.sampled_from([*KINDS, "nosuch", "off"]))
    for path in draw(st.lists(st.sampled_from(FIELDS), max_size=8, unique=True)):
        parts = path.split(".")
        here = tree
        for part in parts[:-1]:
            node = here.setdefault(part, {})
            if not isinstance(node, dict):
                break
            here = node
        else:
            here.setdefault(parts[-1], draw(scalars))
    extra = draw(st.sampled_from(["", "", "anchors: &x [1, 2]\nalias: *x", "bad: [unclosed", "\t- tab",
                                  "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]"]))
    return _render(tree) + "\n" + extra + "\n"


@st.composite
def set_values(draw: st.DrawFn) -> str:
    key = draw(st.one_of(st.sampled_from(FIELDS), st.sampled_from(["phases[0].epochs", "phases[9].x", "a..b",
                                                                     "=", "train.", "model.layers[0].conv"])))
    return f"{key}={draw(scalars)}"


def _check_outcome(path: Path, overrides: list[str]) -> None:
    started = time.perf_counter()
    try:
        recipe, _ = load_recipe(path, overrides)
    except CnnTuiError as exc:
        message = str(exc)
        assert "\n" not in message and 0 < len(message) <= MAX_MESSAGE, message[:2000]
        assert exc.exit_code == 2
    else:
        assert isinstance(recipe, RecipeCommon)
        _reads_back_the_same(recipe, path.parent)
    assert time.perf_counter() - started < SECONDS_PER_LOAD


def _reads_back_the_same(recipe: RecipeCommon, folder: Path) -> None:
    """What a run writes as its recipe.yaml is the same recipe when read back (resume, predict, show)."""
    written = folder / "written.yaml"
    dump_yaml(recipe_to_dict(recipe), written)
    again, _ = load_recipe(written)
    assert recipe_to_dict(again) == recipe_to_dict(recipe)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])


@SETTINGS
@given(text=recipe_texts(), overrides=st.lists(set_values(), max_size=3))
def test_every_recipe_file_and_set_is_a_recipe_or_one_line(tmp_path, text, overrides):
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    _check_outcome(path, overrides)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.sampled_from(WORDS), st.text(max_size=20)))
def test_any_string_reads_back_the_same_from_a_run_folder(tmp_path, value):
    """A description such as '0o17' or 'off' (quoted by the user) is written so that it reads back as
    that string, not as a number or a boolean (a run folder whose recipe.yaml no longer loads)."""
    path = tmp_path / "r.yaml"
    path.write_text("name: x\n", encoding="utf-8")
    _check_outcome(path, [f"description={json.dumps(value)}"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_any_text_at_all_is_a_recipe_or_one_line(tmp_path, text):
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    _check_outcome(path, [])


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(override=set_values())
def test_the_command_line_gives_exit_0_or_one_line_and_exit_2(tmp_path, cli_env, override):
    """`cnn-tui validate R --set ...` in a real process: 0 with a report, or 2 with one line on stderr."""
    from tests.conftest import TINY_RECIPE

    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_RECIPE)
    result = subprocess.run([sys.executable, "-m", "cnn_tui", "validate", str(path), "--set", override],
                            capture_output=True, text=True, env=cli_env, timeout=120)
    assert result.returncode in (0, 2), result.stderr[-2000:]
    if result.returncode == 2:
        assert result.stderr.startswith("cnn-tui: error: ") and result.stderr.count("\n") == 1, result.stderr
    else:
        assert result.stdout.startswith("ok: ") and result.stderr == ""
