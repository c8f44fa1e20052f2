"""Never imported at run time: here mypy checks that every kind's engine class meets
`engines.KindEngine` (the registry names them as strings, which mypy cannot follow).
tests/unit/test_architecture.py checks that every kind in the registry is listed here.
"""

from __future__ import annotations

from cnn_tui.engine.plugins import KindEngine
from cnn_tui.style.kind import StyleKind
from cnn_tui.train.kind import ClassificationKind

CHECKED: tuple[type[KindEngine], ...] = (ClassificationKind, StyleKind)
