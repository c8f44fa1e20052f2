"""`python -m benchmarks --markdown FILE` rewrites only its results section, and refuses other files."""

from __future__ import annotations

import datetime

import pytest

from benchmarks.common import Result
from benchmarks.markdown import BEGIN, END, block, check, write

ROWS = [Result("5 start-up", "cnn-tui list", "87 ms", "<= 300 ms", True),
        Result("3 plot rendering", "frame a | b", "20.0 ms", "<= 30 ms", False)]


@pytest.mark.timeout(30)
def test_the_block_is_a_markdown_table_with_machine_date_and_command():
    text = block(ROWS, "x86_64, 2 cores", "python -m benchmarks --only 5", datetime.datetime(2026, 12, 6, 9, 30))
    assert text.startswith(BEGIN) and text.endswith(END)
    assert "Measured 2026-12-06 09:30 UTC on x86_64, 2 cores; load average" in text
    assert "Command: `python -m benchmarks --only 5`." in text
    assert "| 5 start-up | cnn-tui list | 87 ms | <= 300 ms | PASS |" in text
    assert "| 3 plot rendering | frame a \\| b | 20.0 ms | <= 30 ms | FAIL |" in text  # a | in a cell is escaped


@pytest.mark.timeout(30)
def test_write_replaces_only_between_the_markers(tmp_path):
    page = tmp_path / "README.md"
    page.write_text(f"# Benchmarks\n\nintro\n\n{BEGIN}\nold numbers\n{END}\n\n## Notes\nkept\n", encoding="utf-8")
    write(page, ROWS, "machine", "cmd")
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nintro\n\n" + BEGIN)
    assert text.endswith(END + "\n\n## Notes\nkept\n")
    assert "old numbers" not in text and "| 5 start-up |" in text
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]  # no temporary file left


@pytest.mark.timeout(30)
def test_a_file_without_markers_is_refused_and_left_alone(tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("my notes\n", encoding="utf-8")
    with pytest.raises(ValueError, match="notes.md: has no results markers"):
        check(notes)
    with pytest.raises(ValueError, match="has no results markers"):
        write(notes, ROWS, "machine", "cmd")
    assert notes.read_text(encoding="utf-8") == "my notes\n"
    with pytest.raises(ValueError, match="not a file in an existing folder"):
        check(tmp_path / "missing" / "x.md")
    new = tmp_path / "results.md"
    write(new, ROWS, "machine", "cmd")
    assert new.read_text(encoding="utf-8").startswith(BEGIN)
