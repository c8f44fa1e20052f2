"""The recipe kinds, in one registry: what each one is called, which schema reads it, and
which engine module runs it. Every face asks this registry, never `kind == "..."`.

This module is imported by the dashboard, the printer and `cnn-tui list`, so it imports
neither torch nor pydantic: the schema and the engine plug-in are named as "module:Class" and
imported only when a recipe is read (`schema_for`) or run (`engine_for`). A fifth kind adds
its schema, its engine module and one `KindSpec` line here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cnn_tui.errors import UsageError, excerpt

if TYPE_CHECKING:
    from pydantic import BaseModel

CLASSIFICATION = "classification"  # trains a classifier on a dataset: epochs, val/test, checkpoints
IMAGE = "image"  # optimises the pixels of one image: steps, snapshots, final.png


@dataclass(frozen=True)
class KindSpec:
    name: str  # the recipe's `kind:`
    title: str  # the picker's heading for its group
    schema: str  # "module:Class" of the pydantic model that reads and checks the recipe
    family: str  # CLASSIFICATION or IMAGE: which screen, progress text and summary lines it gets
    engine: str  # "module:Class" of its engine plug-in (see runner.KindEngine)

    @property
    def optimises_an_image(self) -> bool:
        return self.family == IMAGE


_SCHEMA, _CLASSIFIER = "cnn_tui.recipes.schema", "cnn_tui.train.kind:ClassificationKind"
KINDS: dict[str, KindSpec] = {spec.name: spec for spec in (
    KindSpec("scratch", "Scratch CNN", f"{_SCHEMA}:Recipe", CLASSIFICATION, _CLASSIFIER),
    KindSpec("feature_extraction", "Feature extraction", f"{_SCHEMA}:FeatureExtractionRecipe", CLASSIFICATION,
             _CLASSIFIER),
    KindSpec("fine_tuning", "Fine-tuning", f"{_SCHEMA}:FineTuningRecipe", CLASSIFICATION, _CLASSIFIER),
    KindSpec("style_transfer", "Style transfer", "cnn_tui.recipes.style_schema:StyleTransferRecipe", IMAGE,
             "cnn_tui.style.kind:StyleKind"),
)}
DEFAULT_KIND = "scratch"


def kind_spec(name: str) -> KindSpec:
    """The spec of a kind name; an unknown name reads as the default kind (old or foreign runs)."""
    return KINDS.get(name, KINDS[DEFAULT_KIND])


def optimises_an_image(kind: str) -> bool:
    return kind_spec(kind).optimises_an_image


def schema_for(kind: str) -> type[BaseModel]:
    """The pydantic model of a kind's recipes."""
    return _load(_known(kind).schema)  # type: ignore[no-any-return]


def engine_for(kind: str) -> Any:
    """The engine plug-in of a kind (imports torch): an object with the runner.KindEngine methods."""
    return _load(_known(kind).engine)()


def _known(kind: str) -> KindSpec:
    if kind not in KINDS:
        raise UsageError(f"kind: {excerpt(kind)} is not a kind; allowed: {', '.join(KINDS)}")
    return KINDS[kind]


def _load(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)
