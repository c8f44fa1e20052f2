"""The README's pictures are exactly the snapshots they were copied from (`make screenshot`)."""

from __future__ import annotations

import re

import pytest

from tests.ui.screenshots import ROOT, SHOTS, SNAPSHOTS, stale


@pytest.mark.timeout(30)
def test_every_picture_equals_its_snapshot():
    assert all((SNAPSHOTS / source).is_file() for source in SHOTS.values()), "a snapshot named in SHOTS is gone"
    assert stale() == [], f"docs/images/{stale()} differ from their snapshots: run `make screenshot`"


@pytest.mark.timeout(30)
def test_readme_shows_a_copied_picture_by_a_relative_link():
    """GitHub shows the README's picture only through a path relative to the README."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r"docs/images/([\w.-]+\.svg)", readme)
    assert "dashboard.svg" in shown
    unmade = set(shown) - set(SHOTS)
    assert not unmade, f"the README shows pictures that `make screenshot` does not copy: {unmade}"
