"""The recipe kinds, in one registry: what each one is called, which schema reads it, and
which engine module runs it. Every face asks this registry, never `kind == "..."`.

This module is imported by the dashboard, the printer and `cnn-tui list`, so it imports
neither torch nor pydantic: the schema and the engine plug-in are named as "module:Class" and
imported only when a recipe is read (`schema_for`) or run (`engines.engine_for`). A fifth kind
adds a `Kind` member, its schema, its engine module (listed in `kind_engines_checked`) and one
`KindSpec` line here. Faces ask a spec's properties (`optimises_an_image`, `pretrained_base`...),
never compare kind names.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from cnn_tui.contract.errors import UsageError, excerpt

if TYPE_CHECKING:
    from pydantic import BaseModel



class Kind(StrEnum):
    """A recipe's `kind:` (a plain string in YAML, events and summary.json)."""

    SCRATCH = "scratch"
    FEATURE_EXTRACTION = "feature_extraction"
    FINE_TUNING = "fine_tuning"
    STYLE_TRANSFER = "style_transfer"


class Family(StrEnum):
    CLASSIFICATION = "classification"  # trains a classifier on a dataset: epochs, val/test, checkpoints
    IMAGE = "image"  # optimises the pixels of one image: steps, snapshots, final.png



@dataclass(frozen=True)
class KindSpec:
    name: Kind  # the recipe's `kind:`
    title: str  # the picker's heading for its group
    schema: str  # "module:Class" of the pydantic model that reads and checks the recipe
    family: Family  # which screen, progress text and summary lines it gets
    engine: str  # "module:Class" of its engine plug-in (see engines.KindEngine)
    pretrained_base: bool = False  # the model is a pretrained base (RGB input) plus a new head

    @property
    def optimises_an_image(self) -> bool:
        return self.family is Family.IMAGE


_SCHEMA, _CLASSIFIER = "cnn_tui.recipes.schema", "cnn_tui.train.kind:ClassificationKind"
KINDS: dict[str, KindSpec] = {spec.name: spec for spec in (
    KindSpec(Kind.SCRATCH, "Scratch CNN", f"{_SCHEMA}:Recipe", Family.CLASSIFICATION, _CLASSIFIER),
    KindSpec(Kind.FEATURE_EXTRACTION, "Feature extraction", f"{_SCHEMA}:FeatureExtractionRecipe", Family.CLASSIFICATION,
             _CLASSIFIER, pretrained_base=True),
    KindSpec(Kind.FINE_TUNING, "Fine-tuning", f"{_SCHEMA}:FineTuningRecipe", Family.CLASSIFICATION, _CLASSIFIER,
             pretrained_base=True),
    KindSpec(Kind.STYLE_TRANSFER, "Style transfer", "cnn_tui.recipes.style_schema:StyleTransferRecipe", Family.IMAGE,
             "cnn_tui.style.kind:StyleKind"),
)}
DEFAULT_KIND = Kind.SCRATCH


def kind_spec(name: str) -> KindSpec:
    """The spec of a kind name; an unknown name reads as the default kind (old or foreign runs)."""
    return KINDS.get(name, KINDS[DEFAULT_KIND])


def optimises_an_image(kind: str) -> bool:
    return kind_spec(kind).optimises_an_image


def schema_for(kind: str) -> type[BaseModel]:
    """The pydantic model of a kind's recipes."""
    module, _, name = known_spec(kind).schema.partition(":")
    schema: type[BaseModel] = getattr(importlib.import_module(module), name)
    return schema


def known_spec(kind: str) -> KindSpec:
    """The spec of a kind name; an unknown one is a usage error that lists the kinds."""
    if kind not in KINDS:
        raise UsageError(f"kind: {excerpt(kind)} is not a kind; allowed: {', '.join(KINDS)}")
    return KINDS[kind]
