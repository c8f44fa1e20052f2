"""A recorded run whose health events carry activation histograms, one layer collapsing to zero:
tests/ui/data/views_run (scratch_cnn, 3 epochs, its pictures) with its three health events replaced
by TICKS made-up ones. conv1_1 stays spread over its range; conv2_1 is spread for the first third,
then its outputs fall into the bottom bin (dead); conv3_1 creeps towards its top (outgrowing its range)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

from cnn_tui.insight.health import SPECTRUM_BINS, SPECTRUM_TOP
from tests.ui.conftest import DATA

TICKS = 60
COLLAPSE_AT = TICKS // 3


def spread(centre: float, width: float) -> list[int]:
    """Levels of a bell over the bins (0..SPECTRUM_TOP), centred at bin `centre`."""
    return [round(SPECTRUM_TOP * math.exp(-((b - centre) / width) ** 2)) for b in range(SPECTRUM_BINS)]


def collapsed() -> list[int]:
    return [SPECTRUM_TOP] + [0] * (SPECTRUM_BINS - 1)


def spectra(tick: int) -> dict[str, list[int]]:
    return {"conv1_1": spread(4, 5),
            "conv2_1": spread(6, 4) if tick < COLLAPSE_AT else collapsed(),
            "conv3_1": spread(5 + 18 * tick / TICKS, 4)}


def make_run(tmp: Path) -> Path:
    run = tmp / "spectra_run"
    shutil.copytree(DATA / "views_run", run)
    lines = (run / "events.jsonl").read_text(encoding="utf-8").splitlines()
    health = [json.loads(line) for line in lines if '"type":"health"' in line]
    kept = [line for line in lines if '"type":"health"' not in line]
    template = health[-1]
    last_step = template["step"]
    ticks = []
    for tick in range(TICKS):
        step = 1 + tick * last_step // TICKS
        ticks.append(json.dumps({**template, "step": step, "epoch": min(2, 3 * tick // TICKS),
                                 "spectrum": spectra(tick), "ranges": {"conv1_1": [0.0, 5.0], "conv2_1": [0.0, 2.0],
                                                                       "conv3_1": [0.0, 10.0]}},
                                separators=(",", ":")))
    finished = next(i for i, line in enumerate(kept) if '"type":"finished"' in line)
    (run / "events.jsonl").write_text("\n".join(kept[:finished] + ticks + kept[finished:]) + "\n", encoding="utf-8")
    return run
