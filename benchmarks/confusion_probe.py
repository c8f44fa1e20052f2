"""Why the confusion pane is not plotext's `cmatrix`: the time to draw a 10-class validation matrix
(90 right and 1 wrong per pair of classes) both ways at 76x22. Prints one JSON line.

    python -m benchmarks.confusion_probe
"""

from __future__ import annotations

import json
import time

import plotext as plt

from cnn_tui.contract.events import Confusion
from cnn_tui.ui.widgets.confusion_map import confusion_text

CLASSES = 10


def _ours(report: Confusion) -> None:
    confusion_text(report, 76)


def _plotext(matrix: list[list[int]]) -> None:
    """cmatrix takes one (true, predicted) pair per image."""
    actual = [t for t, row in enumerate(matrix) for p, n in enumerate(row) for _ in range(n)]
    predicted = [p for t, row in enumerate(matrix) for p, n in enumerate(row) for _ in range(n)]
    figure = plt.figure
    figure.clear()
    plt.terminal.limit(False, False)
    figure.plot_size(76, 22)
    figure.draw(figure.cmatrix(actual, predicted, labels=list(range(CLASSES))))
    figure.build().string()


def _ms(draw, reps: int = 7) -> float:
    spent = []
    for _ in range(reps):
        t0 = time.perf_counter()
        draw()
        spent.append(time.perf_counter() - t0)
    return 1000 * sorted(spent)[reps // 2]


def main() -> None:
    names = [f"class{i}" for i in range(CLASSES)]
    matrix = [[90 if t == p else 1 for p in range(CLASSES)] for t in range(CLASSES)]
    scores = {n: {"precision": 0.9, "recall": 0.9, "f1": 0.9, "support": 99} for n in names}
    report = Confusion(epoch=1, step=1, classes=names, matrix=matrix, per_class=scores, mistakes=[], pairs=[])
    print(json.dumps({"ours_ms": _ms(lambda: _ours(report)), "plotext_cmatrix_ms": _ms(lambda: _plotext(matrix))}))


if __name__ == "__main__":
    main()
