"""A run beside one busy process in another session (issue 31): training images/s per epoch with
libgomp's default spin-wait (GOMP_SPINCOUNT=300000 set) against the one cnn-tui chooses at start
(GOMP_SPINCOUNT unset: cnn_tui/commands/openmp.py limits it to SPIN_COUNT only when other processes
keep a core busy), quiet and beside the busy process, side by side in ABBA order. The run is started as the dashboard
starts it (a session of its own), so Linux's autogroup gives it half the machine.

    python -m benchmarks.contention_probe [--reps 2] [--only quiet|busy]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.cases.training import _epoch_rates
from benchmarks.common import median, only_run_dir, python_env
from benchmarks.workload import scratch_fields, write_recipe

LIBGOMP_DEFAULT, CHOSEN = "300000", "chosen"  # CHOSEN: unset, cnn-tui chooses


def _rate(recipe: Path, out: Path, spin: str) -> float:
    """Median images/s over the epochs after the first, the run in a session of its own."""
    with open(out.with_suffix(".log"), "wb") as log:
        subprocess.run([sys.executable, "-m", "cnn_tui", "run", str(recipe), "--out", str(out), "--quiet"],
                       stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                       env=_env(spin), check=True, timeout=900)
    return median(_epoch_rates(only_run_dir(out)))


def _env(spin: str) -> dict[str, str]:
    env = {k: v for k, v in python_env().items() if k != "GOMP_SPINCOUNT"}
    return env if spin == CHOSEN else env | {"GOMP_SPINCOUNT": spin}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--only", choices=("quiet", "busy"), help="one side only (more reps of it)")
    args = parser.parse_args()
    rates: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        work = Path(tmp)
        recipe = write_recipe(work / "recipes", "bench_scratch", **(scratch_fields(False) | {"train__epochs": 4}))
        for busy in [b for b in (False, True) if args.only is None or args.only == ("busy" if b else "quiet")]:
            hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
            try:
                for rep in range(args.reps):
                    spins = [LIBGOMP_DEFAULT, CHOSEN] if rep % 2 == 0 else [CHOSEN, LIBGOMP_DEFAULT]
                    for spin in spins:
                        rate = _rate(recipe, work / f"{busy}-{rep}-{spin}", spin)
                        rates.setdefault(("busy" if busy else "quiet", spin), []).append(rate)
            finally:
                if hog is not None:
                    hog.kill()
                    hog.wait()
    for (where, spin), values in rates.items():
        print(f"{where:5} GOMP_SPINCOUNT={spin:>6}: {median(values):,.0f} images/s "
              f"({', '.join(f'{v:,.0f}' for v in values)})")
    for where in sorted({where for where, _ in rates}, reverse=True):
        ratio = median(rates[(where, CHOSEN)]) / median(rates[(where, LIBGOMP_DEFAULT)])
        print(f"{where}: the spin-wait cnn-tui chose / libgomp's default: {ratio:.2f}x")


if __name__ == "__main__":
    main()
