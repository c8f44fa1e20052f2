"""Reading a confusion matrix: per-class precision/recall/F1, the most confused pairs, and a
plain-text table. Pure Python (no torch): the engine, the headless printer, `show` and the
dashboard all read the same numbers from here.

matrix[t][p] counts validation images of true class t predicted as p.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_GRID_CLASSES = 30  # above this a grid is unreadable in a terminal: the top confused pairs instead
TOP_PAIRS = 20


@dataclass(frozen=True)
class ClassScore:
    precision: float  # of the images predicted as this class, the share that are
    recall: float  # of the images of this class, the share found
    f1: float
    support: int  # validation images of this class

    def to_dict(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "support": self.support}


def class_scores(matrix: list[list[int]]) -> list[ClassScore]:
    """Per class, from the counts; 0 where a ratio has nothing to count (sklearn's zero_division=0)."""
    n = len(matrix)
    predicted = [sum(matrix[t][p] for t in range(n)) for p in range(n)]
    scores = []
    for c in range(n):
        hit, support = matrix[c][c], sum(matrix[c])
        precision = hit / predicted[c] if predicted[c] else 0.0
        recall = hit / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(ClassScore(precision, recall, f1, support))
    return scores


def accuracy(matrix: list[list[int]]) -> float:
    total = sum(map(sum, matrix))
    return sum(matrix[i][i] for i in range(len(matrix))) / total if total else 0.0


def top_pairs(matrix: list[list[int]], k: int = TOP_PAIRS) -> list[tuple[int, int, int]]:
    """(true, predicted, count) of the k most frequent mistakes, most first (ties: by class order)."""
    pairs = [(t, p, count) for t, row in enumerate(matrix) for p, count in enumerate(row) if t != p and count]
    pairs.sort(key=lambda pair: (-pair[2], pair[0], pair[1]))
    return pairs[:k]


def matrix_lines(classes: list[str], matrix: list[list[int]], width: int = 100) -> list[str]:
    """The grid with class names (rows true, columns predicted) and each class's recall; when it
    has too many classes or does not fit `width`, the most confused pairs instead. No line is
    longer than `width`: the widest column labels whose grid fits, measured (the corner heading
    and numbered row names count too), else the pairs, clipped."""
    digits = len(str(max((max(row) for row in matrix), default=0)))
    longest = max(len(c) for c in classes)
    if len(classes) <= MAX_GRID_CLASSES:
        for label in range(min(10, longest), digits - 1, -1):
            lines = _grid(classes, matrix, label)
            if max(map(len, lines)) <= width:
                return lines
    return [_clip(line, width) for line in pair_lines(classes, matrix)]


def _grid(classes: list[str], matrix: list[list[int]], label: int) -> list[str]:
    """The grid with columns `label` characters wide (by number when too narrow for names)."""
    n, longest = len(classes), max(len(c) for c in classes)
    numbered = label < min(3, longest)  # too narrow for names: columns by number, rows say their number
    heads = [str(i) if numbered else _clip(c, label) for i, c in enumerate(classes)]
    label = max(label, len(str(n - 1))) if numbered else label
    rows = [f"{i} {c}" if numbered else c for i, c in enumerate(classes)]
    name_w = min(max(len(r) for r in rows), 16 + (len(str(n)) + 1 if numbered else 0))
    corner = "true \\ pred"
    lines = [f"{corner:<{name_w}}  " + "".join(f"{h:>{label + 1}}" for h in heads) + "  recall"]
    for t, row in enumerate(matrix):
        recall = row[t] / sum(row) if sum(row) else 0.0
        lines.append(f"{_clip(rows[t], name_w):<{name_w}}  " + "".join(f"{v:>{label + 1}}" for v in row)
                     + f"  {recall:>6.1%}")
    return lines


def pair_lines(classes: list[str], matrix: list[list[int]], k: int = TOP_PAIRS,
               pairs: list[tuple[int, int, int]] | None = None, support: list[int] | None = None) -> list[str]:
    """The most confused pairs, from the matrix or from `pairs` and `support` already counted."""
    pairs = top_pairs(matrix, k) if pairs is None else pairs[:k]
    if not pairs:
        return ["no mistakes on the validation set"]
    support = [sum(row) for row in matrix] if support is None else support
    lines = [f"the {len(pairs)} most confused pairs of {len(classes)} classes (true -> predicted):"]
    for t, p, count in pairs:
        lines.append(f"  {classes[t]} -> {classes[p]}: {count} of {support[t]} ({count / max(support[t], 1):.0%})")
    return lines


def _clip(name: str, width: int) -> str:
    return name if len(name) <= width else name[:max(1, width - 1)] + "…"
