"""UI against training scheduling, both sides in one run (issue 31, item 2): for each policy of
cnn_tui.ui.priority (CNN_TUI_PRIORITY=off|batch|nice), the training throughput of a run under the
dashboard at 160x48 against the hand-written loop made in the same rep (case 1's ratio), and the
tab-to-screen latency of the dashboard at 80x24 while a recipe trains (case 4). Policies alternate
in ABBA order over the reps, so the machine's drift falls on all of them alike.

    python -m benchmarks.priority_probe [--reps 4] [--presses 20] [--quick]
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from pathlib import Path

from benchmarks.cases.responsiveness import _latencies
from benchmarks.cases.training import _dashboard_run, _epoch_rates
from benchmarks.common import last_json_line, median, percentile, run_python
from benchmarks.workload import scratch_fields, write_recipe
from cnn_tui.ui.priority import SETTING, SETTINGS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--presses", type=int, default=20, help="tab presses per policy and rep")
    parser.add_argument("--quick", action="store_true", help="cut-down runs (indicative only)")
    parser.add_argument("--policies", default=",".join(SETTINGS))
    parser.add_argument("--latency-only", action="store_true", help="only the tab-to-screen side")
    args = parser.parse_args()
    policies = args.policies.split(",")
    ratios: dict[str, list[float]] = {p: [] for p in policies}
    rates: dict[str, list[float]] = {p: [] for p in policies}
    lat: dict[str, list[float]] = {p: [] for p in policies}
    base_rates: list[float] = []
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        work = Path(tmp)
        recipe = write_recipe(work / "recipes", "bench_scratch", **scratch_fields(args.quick))
        for rep in range(args.reps):
            order = policies if rep % 2 == 0 else policies[::-1]
            if args.latency_only:
                order_training: list[str] = []
            else:
                measured = last_json_line(run_python("-m", "benchmarks.baseline_loop", str(recipe)).stdout)
                base = median([measured["epoch_images"] / s for s in measured["epoch_seconds"][1:]])
                base_rates.append(base)
                order_training = order
            for policy in order_training:
                out = work / f"rep{rep}" / policy
                out.mkdir(parents=True)
                rate = median(_epoch_rates(_dashboard_run(work / "recipes", "bench_scratch", out,
                                                          env={SETTING: policy})))
                rates[policy].append(rate)
                ratios[policy].append(rate / base)
            for policy in order:
                lat[policy] += _latencies(args.presses, "auto", env={SETTING: policy})
            print(f"rep {rep}: " + "  ".join(f"{p} {ratios[p][-1] if ratios[p] else math.nan:.3f}, tab "
                                             f"{median(lat[p]) * 1000:.0f} / {percentile(lat[p], 95) * 1000:.0f} ms"
                                             for p in policies), flush=True)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    base_level = median(base_rates) if base_rates else math.nan
    print(f"\nbaseline loop {base_level:,.0f} img/s; {args.reps} reps; load average at the end {load}")
    print(f"{'policy':<8} {'dash img/s':>10} {'dash/loop':>9} {'tab median':>10} {'tab p95':>8}")
    for p in policies:
        if not ratios[p]:
            rates[p] = ratios[p] = [math.nan]
        print(f"{p:<8} {median(rates[p]):>10,.0f} {median(ratios[p]):>9.3f} {median(lat[p]) * 1000:>8.0f} ms "
              f"{percentile(lat[p], 95) * 1000:>5.0f} ms")


if __name__ == "__main__":
    main()
