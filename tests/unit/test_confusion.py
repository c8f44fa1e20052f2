"""Reading a confusion matrix: scores by their textbook definitions, the confused pairs, and a
table that falls back to pairs when a grid would not fit (1,000 classes)."""

from __future__ import annotations

import random

import pytest

from cnn_tui.contract.confusion import MAX_GRID_CLASSES, accuracy, class_scores, matrix_lines, pair_lines, top_pairs


def _random_matrix(n: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randint(0, 9) + (30 if t == p else 0) for p in range(n)] for t in range(n)]


@pytest.mark.parametrize("n, seed", [(2, 0), (3, 1), (6, 2), (10, 3)])
def test_scores_follow_their_definitions_from_the_labels(n, seed):
    """Rebuild (true, predicted) labels from the counts and score them one by one."""
    matrix = _random_matrix(n, seed)
    labels = [(t, p) for t in range(n) for p in range(n) for _ in range(matrix[t][p])]
    for c, score in enumerate(class_scores(matrix)):
        tp = sum(1 for t, p in labels if t == c and p == c)
        fp = sum(1 for t, p in labels if t != c and p == c)
        fn = sum(1 for t, p in labels if t == c and p != c)
        assert score.precision == pytest.approx(tp / (tp + fp))
        assert score.recall == pytest.approx(tp / (tp + fn))
        assert score.f1 == pytest.approx(2 * tp / (2 * tp + fp + fn))
        assert score.support == tp + fn
    assert accuracy(matrix) == pytest.approx(sum(t == p for t, p in labels) / len(labels))


def test_a_class_never_predicted_scores_zero_not_nan():
    scores = class_scores([[5, 0], [3, 0]])
    assert scores[1].precision == 0.0 and scores[1].f1 == 0.0 and scores[0].recall == 1.0


def test_top_pairs_are_the_largest_off_diagonal_counts_in_order():
    matrix = [[9, 4, 0], [1, 9, 7], [4, 0, 9]]
    assert top_pairs(matrix) == [(1, 2, 7), (0, 1, 4), (2, 0, 4), (1, 0, 1)]
    assert top_pairs([[3, 0], [0, 3]]) == []


def test_the_grid_has_a_row_per_class_and_recall_at_the_end():
    classes = ["circle", "square", "triangle"]
    lines = matrix_lines(classes, [[5, 1, 0], [2, 7, 1], [0, 0, 9]], width=100)
    assert len(lines) == 4 and lines[0].split()[-1] == "recall"
    assert lines[1].split()[:4] == ["circle", "5", "1", "0"] and lines[1].endswith("83.3%")
    assert lines[3].endswith("100.0%")


@pytest.mark.parametrize("width, shown", [(120, "names"), (60, "numbers"), (30, "pairs")])
def test_a_grid_never_exceeds_its_width_or_becomes_pairs(width, shown):
    """12 classes of 7 letters, counts of 2 digits: names fit 120 columns, numbered columns fit
    60, and at 30 not even 2-digit columns fit (12 x 3 > 30), so the pairs stand in."""
    classes = [f"class_{i}" for i in range(12)]
    lines = matrix_lines(classes, _random_matrix(12, 4), width=width)
    assert max(map(len, lines)) <= width
    if shown == "pairs":
        assert lines[0].startswith("the 20 most confused pairs") and len(lines) == 21
        return
    assert lines[0].startswith("true \\ pred") and len(lines) == 13
    heads = lines[0].split()[3:-1]
    assert heads == ([c if len(c) <= 7 else c[:6] + "…" for c in classes] if shown == "names"
                     else [str(i) for i in range(12)])


def test_every_grid_fits_and_pairs_come_only_when_no_grid_would():
    """Over widths from 10 to 160 columns: a grid never passes its width, and a wider terminal
    never loses the grid a narrower one had."""
    for n, seed in [(2, 5), (3, 6), (12, 7), (30, 8)]:
        classes = [f"{'abcdefghijklmnopqrst'[:3 + i % 15]}{i}" for i in range(n)]
        matrix = _random_matrix(n, seed)
        grid_since = None
        for width in range(10, 161):
            lines = matrix_lines(classes, matrix, width=width)
            assert max(map(len, lines)) <= width, (n, width)
            if lines[0].startswith("the "):
                assert grid_since is None, (n, width, grid_since)
                continue
            grid_since = grid_since or width
            assert len(lines) == n + 1
        assert grid_since is not None and grid_since <= 10 + 3 * n + 20  # 2-digit numbered columns fit there


def test_a_thousand_classes_show_as_the_most_confused_pairs():
    n = 1000
    matrix = [[0] * n for _ in range(n)]
    for c in range(n):
        matrix[c][c] = 5
    matrix[7][3], matrix[500][501], matrix[999][0] = 4, 9, 2
    classes = [f"n{c:05d}" for c in range(n)]
    lines = matrix_lines(classes, matrix)
    assert n > MAX_GRID_CLASSES and len(lines) == 4
    assert lines[0] == "the 3 most confused pairs of 1000 classes (true -> predicted):"
    assert lines[1].strip() == "n00500 -> n00501: 9 of 14 (64%)"
    assert pair_lines(classes, [], pairs=[(7, 3, 4)], support=[9] * n) == [
        "the 1 most confused pairs of 1000 classes (true -> predicted):", "  n00007 -> n00003: 4 of 9 (44%)"]
