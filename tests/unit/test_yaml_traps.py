"""YAML's own traps, closed once for files and `--set` alike: YAML 1.1's yes/no/on/off words,
booleans taken as numbers, alias bombs, deep nesting, and errors that echo whole values."""

from __future__ import annotations

import resource
import time

import pytest

from cnn_tui.contract.errors import EXCERPT_CHARS
from cnn_tui.recipes.loader import load_recipe
from cnn_tui.recipes.yaml_io import MAX_DEPTH, MAX_NODES, YamlLimitError, load_yaml_text
from tests.unit.test_recipe_errors import error_of, write

pytestmark = pytest.mark.timeout(60)




def alias_bomb(levels: int = 9, indent: str = "") -> str:
    """The "billion laughs": each level is a list of ten aliases of the one before (10^levels values)."""
    lines = [f"{indent}l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"{indent}l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("word", ["off", "Off", "OFF", "no", "n", "N", "NO", "on", "yes", "y", "Y"])
def test_yaml_1_1_words_are_words_in_string_fields_from_a_file_and_from_set(tmp_path, word):
    """`amp: off` is the word off (YAML 1.1 read it as False, which amp refused while listing 'off')."""
    path = write(tmp_path, f"name: x\ndescription: {word}\ntrain:\n  amp: off\n")
    recipe, _ = load_recipe(path)
    assert recipe.train.amp == "off" and recipe.description == word
    recipe, _ = load_recipe(path, [f"description={word}", "train.amp=off"])
    assert recipe.train.amp == "off" and recipe.description == word


def test_other_yaml_1_1_readings_are_gone():
    data = load_yaml_text("a: 010\nb: 1:20\nc: 2024-01-02\nd: 1e-3\ne: 0o17\nf: 0x1f\ng: 1_000\nh: ~\ni: True\n")
    assert data == {"a": 10, "b": "1:20", "c": "2024-01-02", "d": 0.001, "e": 15, "f": 31, "g": 1000,
                    "h": None, "i": True}


@pytest.mark.parametrize("word, value", [("yes", True), ("on", True), ("y", True), ("true", True),
                                         ("no", False), ("off", False), ("n", False), ("FALSE", False)])
def test_boolean_fields_take_true_false_and_the_yaml_1_1_words(tmp_path, word, value):
    path = write(tmp_path, f"name: x\ndata:\n  augment:\n    hflip: {word}\n")
    assert load_recipe(path)[0].data.augment.hflip is value
    assert load_recipe(write(tmp_path, "name: x\n"), [f"data.augment.hflip={word}"])[0].data.augment.hflip is value


def test_a_boolean_field_given_something_else_says_true_or_false(tmp_path):
    message = error_of(write(tmp_path, "name: x\n"), "data.augment.hflip=maybe")
    assert "--set data.augment.hflip=maybe: data.augment.hflip: must be true or false" in message


@pytest.mark.parametrize("field, value", [("train.epochs", "true"), ("train.optimizer.lr", "false"),
                                          ("model.blocks", "[1, true]"), ("train.optimizer.betas", "[true, 0.9]"),
                                          ("model.hidden", "true")])
def test_numbers_refuse_true_and_false(tmp_path, field, value):
    """`epochs: true` was accepted as 1 (pydantic's lax int): a number field given a boolean is refused."""
    section, _, leaf = field.rpartition(".")
    nested = "".join(f"{'  ' * i}{part}:\n" for i, part in enumerate(section.split(".")))
    path = write(tmp_path, f"name: x\n{nested}{'  ' * len(section.split('.'))}{leaf}: {value}\n")
    message = error_of(path)
    assert f"{field}: true/false is not a number" in message
    assert "true/false is not a number" in error_of(write(tmp_path, "name: x\n"), f"{field}={value}")


def test_conv_and_pool_sizes_refuse_true(tmp_path):
    path = write(tmp_path, "name: x\nmodel:\n  arch: layers\n  layers: [{conv: {out: 4, padding: true}}]\n")
    assert "conv padding must be 'same' or a whole number >= 0 (got True)" in error_of(path)
    path = write(tmp_path, "name: x\nmodel:\n  arch: layers\n  layers: [{pool: {size: true}}]\n")
    assert "pool size must be a whole number >= 1 (got True)" in error_of(path)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.timeout(20)
@pytest.mark.parametrize("where", ["list field", "unknown key", "set"])
def test_an_alias_bomb_is_refused_in_milliseconds_at_low_memory(tmp_path, where):
    """9 levels of 10 aliases are 10^9 values: refused while composing, before validation (which
    took minutes and 6 GB, and printed the expanded value)."""
    bomb = alias_bomb()
    before = _peak_rss_mb()
    started = time.perf_counter()
    if where == "list field":  # the list field the issue found: shapes.classes
        text = f"name: x\nanchors:\n{alias_bomb(indent='  ')}data:\n  shapes:\n    classes: *l9\n"
        message = error_of(write(tmp_path, text))
    elif where == "unknown key":
        message = error_of(write(tmp_path, f"name: x\n{bomb}"))
    else:
        flow = "{" + bomb.strip().replace("\n", ", ") + "}"
        message = error_of(write(tmp_path, "name: x\n"), f"model.blocks={flow}")
    elapsed = time.perf_counter() - started
    assert f"more than {MAX_NODES:,} values once its aliases" in message and "alias bomb" in message
    assert len(message) < 300, message
    assert elapsed < 1.0, f"{elapsed:.2f} s"
    assert _peak_rss_mb() - before < 50


def test_the_limit_counts_expanded_values_not_lines(tmp_path):
    """Aliases a recipe really uses (a shared optimizer block) are fine; 5 lines that expand to
    111,111 values (past MAX_NODES) are not, while 11,111 are."""
    shared = "name: x\nkind: fine_tuning\nopt: &opt {name: adam, lr: 0.001}\n"
    assert load_yaml_text(shared + "phases: [{optimizer: *opt}, {optimizer: *opt}]\n")["phases"][1]["optimizer"]
    assert load_yaml_text(alias_bomb(3))["l3"][9][9][9] == ["lol"] * 10
    with pytest.raises(YamlLimitError, match="values once its aliases"):
        load_yaml_text(alias_bomb(4))


def test_a_self_containing_alias_is_one_line(tmp_path):
    message = error_of(write(tmp_path, "name: x\nmodel:\n  blocks: &b [1, *b]\n"))
    assert message == (f"{tmp_path / 'r.yaml'}:3: the alias *b is inside the value it names: "
                       "a recipe cannot contain itself")


@pytest.mark.parametrize("text", ["name: x\nmodel:\n  blocks: " + "[" * 5000 + "]" * 5000 + "\n",
                                  "name: x\n" + "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v\n",
                                  "name: x\nmodel:\n  blocks: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n"],
                         ids=["flow lists", "block mappings", "flow mappings"])
@pytest.mark.timeout(20)
def test_deep_nesting_is_one_line_not_a_recursion_error(tmp_path, text):
    message = error_of(write(tmp_path, text))
    assert f"nested more than {MAX_DEPTH} levels deep" in message


def test_a_huge_file_is_refused_unread(tmp_path):
    path = write(tmp_path, "name: x\ndescription: " + "a" * 2_000_000 + "\n")
    message = error_of(path)
    assert "too large for a recipe" in message and len(message) < 200


@pytest.mark.parametrize("field", ["train.amp", "data.dataset", "model.arch", "kind"])
def test_errors_quote_a_short_excerpt_of_a_long_value(tmp_path, field):
    long_value = "x" * 5000
    message = error_of(write(tmp_path, "name: x\n"), f"{field}={long_value}")
    assert "x" * (EXCERPT_CHARS + 1) not in message and len(message) < 400, message


@pytest.mark.parametrize("text", ["name: x\n" + "k" * 1000 + ": 1\n",
                                  "name: x\ntrain:\n  " + "k" * 1000 + ": 1\n",
                                  "name: x\n" + "k" * 1000 + ": 1\n" + "k" * 1000 + ": 2\n",
                                  "name: x\nmodel:\n  arch: layers\n  layers: [{conv: {" + "k" * 1000 + ": 1}}]\n"],
                         ids=["unknown key", "unknown nested key", "duplicate key", "unknown conv key"])
def test_errors_quote_a_short_excerpt_of_a_long_key(tmp_path, text):
    """(YAML itself refuses a key of more than 1,024 characters.)"""
    message = error_of(write(tmp_path, text))
    assert "k" * (EXCERPT_CHARS + 1) not in message and len(message) < 400, message


def test_errors_about_a_set_value_name_the_set_not_a_line_of_the_file(tmp_path):
    message = error_of(write(tmp_path, "name: x\ntrain:\n  epochs: 3\n"), "train.epochs=lots")
    assert message.startswith(f"{tmp_path / 'r.yaml'}: --set train.epochs=lots: train.epochs:")


@pytest.mark.parametrize("value", ["~nosuchuser_zz/x", '"a\\0b"'])
def test_a_value_that_cannot_be_a_path_is_one_line(tmp_path, value):
    message = error_of(write(tmp_path, "name: x\n"), f"data.root={value}")
    assert "cannot be used as a path" in message


def test_the_listing_reader_reads_what_the_recipe_reader_reads_within_the_same_limits():
    """The picker and `cnn-tui list` read every recipe with libyaml (alias-free texts: its composer too)
    (its first frame waits for them): the same data for each built-in recipe and for YAML 1.1's
    traps, and the same refusals (an alias bomb, a self-containing alias, deep nesting)."""
    from cnn_tui.recipes import builtin
    from cnn_tui.recipes.yaml_io import load_listing_text

    texts = [path.read_text(encoding="utf-8") for path in builtin.paths()]
    texts.append("a: 010\nb: 1:20\nc: 2024-01-02\nd: off\ne: 0o17\nf: yes\ng: 1_000\nh: ~\ni: True\nj: <<\n")
    assert len(texts) > 30 and [load_listing_text(t) for t in texts] == [load_yaml_text(t) for t in texts]
    for bad, message in ((alias_bomb(), "values once its aliases"), ("b: &b [1, *b]\n", "inside the value"),
                         ("".join("  " * i + f"k{i}:\n" for i in range(200)), "nested more than"),
                         # merges flatten the nesting the composer counts; !!omap builds tuples
                         ("a: " + "{<<: " * 60 + "{x: 1}" + "}" * 60 + "\n", "nested more than"),
                         ("a: !!omap [{x: " + "[" * 60 + "]" * 60 + "}]\n", "nested more than"),
                         ("- 1\n" * 110_000, "values once its aliases")):  # no alias, too many values
        with pytest.raises(YamlLimitError, match=message):
            load_listing_text(bad)
    import yaml

    with pytest.raises(yaml.YAMLError):  # libyaml's own limit on flow nesting comes first here
        load_listing_text("b: " + "[" * 5000 + "]" * 5000 + "\n")


def test_a_listing_without_aliases_is_composed_by_libyaml(monkeypatch):
    """The picker's first frame waits for every recipe's listing: an alias-free text skips the counting
    composer (Python, half the time), a text with an alias never does."""
    pytest.importorskip("yaml._yaml")
    from cnn_tui.recipes import yaml_io

    def counted(self, parent, index):
        counted.calls += 1
        return original(self, parent, index)

    counted.calls, original = 0, yaml_io._StrictSafeLoader.compose_node
    monkeypatch.setattr(yaml_io._StrictSafeLoader, "compose_node", counted)
    assert yaml_io.load_listing_text("kind: scratch\ndata: {dataset: shapes}\n") == {
        "kind": "scratch", "data": {"dataset": "shapes"}} and counted.calls == 0
    assert yaml_io.load_listing_text("a: &x 1\nb: *x\n") == {"a": 1, "b": 1} and counted.calls > 0
