"""The package's shape, checked: no import cycles, the import-linter contracts hold, and every
kind named in the registry has a schema and an engine plug-in."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Literal, get_args, get_origin

import grimp
import pytest

from cnn_tui.contract.kinds import KINDS, schema_for
from cnn_tui.engine.plugins import engine_for

ROOT = Path(__file__).resolve().parents[2]


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (lazy imports too)."""
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


# The training loop's files import each other for types; the loop's rewrite into parts (issue 27,
# item 1) removes this cycle, and then this allowance goes.
def test_no_import_cycles():
    """Imports made only for the type checker count too: a cycle of types is a cycle of meaning."""
    graph = grimp.build_graph("cnn_tui", exclude_type_checking_imports=False)
    assert "cnn_tui.style.kind" in graph.modules and "cnn_tui.engine.runner" in graph.modules
    assert import_cycles(graph) == []


def test_the_cycle_finder_sees_a_cycle():
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.z")
    assert import_cycles(graph) == []
    graph.add_import(importer="a.z", imported="a.x")
    assert import_cycles(graph) == [["a.x", "a.y", "a.z"]]


@pytest.mark.timeout(120)
def test_import_contracts_hold():
    """The engine never imports Textual, the dashboard never imports torch, the two faces are
    independent, recipes never import the engine, reading a run never imports torch (.importlinter)."""
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is a dev dependency"
    result = subprocess.run([lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=110)
    assert result.returncode == 0, result.stdout[-3000:]
    contracts = (ROOT / ".importlinter").read_text().count("[importlinter:contract:")
    assert contracts >= 5 and f"{contracts} kept, 0 broken" in result.stdout  # every contract ran


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_a_schema_and_an_engine(kind):
    """The registry's schema for a kind reads that kind and refuses every other one, and a shipped
    recipe of that kind loads as that schema."""
    from pydantic import ValidationError

    from cnn_tui.recipes.loader import load_recipe

    schema = schema_for(kind)
    assert get_origin(schema.model_fields["kind"].annotation) is Literal
    assert get_args(schema.model_fields["kind"].annotation) == (kind,)
    for other in set(KINDS) - {kind}:
        with pytest.raises(ValidationError) as refused:
            schema.model_validate({"kind": other})
        assert any(error["loc"] == ("kind",) for error in refused.value.errors())
    shipped = [p for p in sorted((ROOT / "recipes").glob("*.yaml")) if f"\nkind: {kind}\n" in f"\n{p.read_text()}"]
    assert shipped, f"no recipe under recipes/ shows kind {kind}"
    assert type(load_recipe(shipped[0], [])[0]) is schema
    engine = engine_for(kind)
    for method in ("dry_run", "prepare", "describe", "check"):
        assert callable(getattr(engine, method))
    from cnn_tui.engine.plugins_checked import CHECKED

    assert type(engine) in CHECKED, "mypy checks the engine against KindEngine only if it is listed there"


def test_an_engine_that_misses_a_method_is_refused(monkeypatch):
    from cnn_tui.contract import kinds

    monkeypatch.setitem(kinds.KINDS, "scratch", dataclasses.replace(kinds.KINDS["scratch"], engine="builtins:object"))
    with pytest.raises(TypeError, match="does not meet cnn_tui.engine.plugins.KindEngine"):
        engine_for("scratch")
