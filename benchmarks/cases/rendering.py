"""Case 3: a frame of every pane at 160x48 after 1,000 and after 1,000,000 steps (the curves page,
and the inside page with its pictures laid out anew), and the memory the long stream took.
Each length runs in its own process (a clean RSS)."""

from __future__ import annotations

from benchmarks.common import Result, last_json_line, median, run_python


def _probe(steps: int) -> dict:
    return last_json_line(run_python("-m", "benchmarks.render_probe", "--steps", str(steps)).stdout)


def _compare(steps: int, runs: int) -> dict:
    return last_json_line(run_python("-m", "benchmarks.render_probe", "--steps", str(steps), "--compare",
                                     str(runs)).stdout)


def run(quick: bool, reps: int) -> list[Result]:
    long_steps = 100_000 if quick else 1_000_000
    compare_steps = 10_000 if quick else 100_000
    compared = [_compare(compare_steps, 8) for _ in range(reps)]
    short, long = [], []
    for _ in range(reps):  # interleaved
        short.append(_probe(1_000))
        long.append(_probe(long_steps))
    s_frame, l_frame = median([p["frame_ms"] for p in short]), median([p["frame_ms"] for p in long])
    inside = median([p["inside_frame_ms"] for p in long])
    growth = median([p["growth_mb"] for p in long])
    ingest = median([p["ingest_s"] for p in long])
    c_frame, c_growth = median([p["frame_ms"] for p in compared]), median([p["growth_mb"] for p in compared])
    return [
        Result("3 plot rendering", f"frame of all panes at 160x48 after {long_steps:,} steps",
               f"{l_frame:.1f} ms", "<= 30 ms", l_frame <= 30),
        Result("3 plot rendering", f"frame of the inside page (v) at 160x48 after {long_steps:,} steps, "
               "pictures laid out anew", f"{inside:.1f} ms", "<= 30 ms", inside <= 30),
        Result("3 plot rendering", f"frame after {long_steps:,} / after 1,000 steps",
               f"{l_frame:.1f} / {s_frame:.1f} ms = {l_frame / s_frame:.2f}", "<= 1.3 (flat)",
               l_frame / s_frame <= 1.3),
        Result("3 plot rendering", f"memory growth over the idle app, {long_steps:,} steps "
               f"(ingested in {ingest:.1f} s)", f"{growth:.1f} MB", "<= 100 MB", growth <= 100),
        Result("3 plot rendering", f"8 runs compared at 160x48 after {compare_steps:,} steps each: a frame",
               f"{c_frame:.1f} ms", "<= 50 ms", c_frame <= 50),
        Result("3 plot rendering", f"8 runs compared after {compare_steps:,} steps each: memory over the idle app",
               f"{c_growth:.1f} MB", "<= 50 MB", c_growth <= 50),
    ]
