"""Case 3's probe, run in its own process: a run screen fed a generated stream of N steps
(a step event per step, 20-layer gradients and health, 100 epochs with their confusion matrix
and feature-map pictures), then the time to draw a frame of every pane of each page at 160x48
and the resident memory it took.

A frame here is: a live run's next step comes in, every pane folds it into its plot, then
Textual's compositor re-renders the changed widgets, composes the whole screen and turns it into
terminal output (a full repaint, the most a frame can cost). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import tempfile
import time
from pathlib import Path

from benchmarks.frame_timing import MODES, charts_side_by_side, frames, median_ms
from cnn_tui.ui.sources import Replay

LAYERS = [f"layer{i:02d}.conv" for i in range(20)]


class GeneratedRun(Replay):
    """Events made on the fly (a million of them are never all in memory at once)."""

    def __init__(self, steps: int, run_dir: Path) -> None:
        super().__init__([])
        self.steps = steps
        self.go = asyncio.Event()
        self.run_dir = run_dir  # where the feature-map pictures are
        self.pictures = _write_pictures(run_dir)

    async def events(self):
        from cnn_tui.contract.events import EpochEnd, Gradients, Health, RunFinished, RunStarted, Step, System

        await self.go.wait()
        layers = [{"name": n, "type": "Conv2d", "shape": [16, 8, 8], "params": 100, "trainable": 100} for n in LAYERS]
        # only the length differs between two streams: both have 100 epochs, and enough
        # gradient events (every step at 1,000 steps) to fill the pane's buckets
        per_epoch = max(1, self.steps // 100)
        grad_every = max(1, self.steps // 10_000)
        yield RunStarted(run_id="bench", recipe_name="bench", kind="scratch", device="cpu", device_name="CPU",
                         epochs=max(1, self.steps // per_epoch), steps_per_epoch=per_epoch, total_steps=self.steps,
                         batch_size=64, num_train=64000, num_val=1000, num_classes=10, class_names=[],
                         model_name="bench", layers=layers, total_params=2000, trainable_params=2000)
        for step in range(1, self.steps + 1):
            loss = 2.0 * math.exp(-step / self.steps * 3) + 0.1 * math.sin(step / 7)
            yield Step(step=step, epoch=(step - 1) // per_epoch,
                       metrics={"train/loss": loss, "train/acc": 1 - loss / 3, "lr": 0.1 * (1 - step / self.steps)})
            if step % grad_every == 0:
                norms = {n: 0.5 + 0.1 * math.sin(step / 50 + i) for i, n in enumerate(LAYERS)}
                yield Gradients(step=step, epoch=(step - 1) // per_epoch, norms=norms,
                                update_ratios={n: 1e-3 for n in LAYERS})
                spread = [-0.3, -0.2, -0.05, 0.0, 0.05, 0.2, 0.3]
                yield Health(step=step, epoch=(step - 1) // per_epoch, dead={n: 0.1 for n in LAYERS}, saturated={},
                             levels=[0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0], weights={n: spread for n in LAYERS},
                             grads={n: [v / 100 for v in spread] for n in LAYERS})
            if step % grad_every == 0 and step % 5 == 0:  # the System pane's samples, a GPU's included
                yield System(step=step, epoch=(step - 1) // per_epoch, cpu_percent=150.0, cpu_cores=16, rss_mb=2048.0,
                             workers=4, data_wait=0.1 + 0.05 * math.sin(step / 40), gpu_name="NVIDIA H200",
                             gpu_util=90.0, gpu_mem_mb=20_000.0, gpu_mem_total_mb=140_000.0, gpu_temp_c=60.0)
            if step % per_epoch == 0:
                yield EpochEnd(epoch=step // per_epoch, step=step, seconds=1.0, metrics={
                    "train/loss": loss, "train/acc": 0.8, "val/loss": loss * 1.1, "val/acc": 0.75, "lr": 0.01})
                for view in self._views(step // per_epoch, step):
                    yield view
        yield RunFinished(status="completed", reason="done", step=self.steps, epoch=self.steps // per_epoch,
                          wall_seconds=1.0, best={}, final={})


    def _views(self, epoch: int, step: int):
        from cnn_tui.contract.events import Confusion, FeatureMaps

        names = [f"class{i}" for i in range(10)]
        matrix = [[90 if t == p else 1 for p in range(10)] for t in range(10)]
        per_class = {n: {"precision": 0.9, "recall": 0.9, "f1": 0.9, "support": 99} for n in names}
        mistakes = [{"path": path, "true": "class1", "predicted": "class2", "confidence": 0.9}
                    for path in self.pictures["mistakes"]]
        yield Confusion(epoch=epoch, step=step, classes=names, matrix=matrix, per_class=per_class, mistakes=mistakes)
        layers = [{"name": f"layer{i:02d}.conv", "path": path, "shown": 16, "channels": 64, "size": [16, 16]}
                  for i, path in enumerate(self.pictures["maps"])]
        yield FeatureMaps(epoch=epoch, step=step, input=self.pictures["probe"], label="class1", predicted="class1",
                          layers=layers, filters=self.pictures["filters"], filters_layer="layer00.conv")


def _write_pictures(run_dir: Path) -> dict:
    """Pictures of the sizes a 32 px run writes: a probe, three 4x4 grids of maps, 16 filters, 8 mistakes."""
    from PIL import Image

    folder = run_dir / "views" / "epoch-001"
    folder.mkdir(parents=True, exist_ok=True)

    def picture(name: str, size: tuple[int, int], mode: str) -> str:
        pixels = bytes((x * 7 + y * 13) % 256 for y in range(size[1]) for x in range(size[0])
                       for _ in range(3 if mode == "RGB" else 1))
        Image.frombytes(mode, size, pixels).save(folder / name)
        return str(Path("views") / "epoch-001" / name)

    return {"probe": picture("probe.png", (32, 32), "RGB"),
            "maps": [picture(f"maps{i}.png", (size, size), "L") for i, size in enumerate((131, 67, 67))],
            "filters": picture("filters.png", (103, 25), "RGB"),
            "mistakes": [picture(f"mistake-{i}.png", (32, 32), "RGB") for i in range(8)]}


async def _idle(app, pilot, process) -> int:
    """Resident bytes of the idle app: the picker underneath has built its preview (torch imported),
    no run events yet."""
    while any(w.group == "layer-table" and not w.is_finished for w in app.workers):
        await asyncio.sleep(0.05)
    await pilot.pause(0.5)
    gc.collect()
    return process.memory_info().rss


async def probe_compare(steps: int, runs: int, count: int) -> dict:
    """`runs` runs of `steps` steps each on one compare screen: the screen's own and the pinned ones."""
    import psutil

    from cnn_tui.ui.app import CnnTuiApp
    from cnn_tui.ui.compared_runs import Compared, label_runs
    from cnn_tui.ui.screens.compare import CompareScreen
    from cnn_tui.ui.state import RunState

    process = psutil.Process()
    folder = Path(tempfile.mkdtemp(prefix="cnn-tui-probe-"))
    source = GeneratedRun(steps, folder)
    screen = CompareScreen(source, [])
    app = CnnTuiApp(first_screen=screen)
    async with app.run_test(size=(160, 48)) as pilot:
        idle = await _idle(app, pilot, process)
        started = time.perf_counter()
        source.go.set()
        for i in range(runs - 1):  # the pinned runs, folded as the screen folds them from their files
            state = RunState()
            other = GeneratedRun(steps, folder)
            other.go.set()
            async for event in other.events():
                state.ingest(event)
            screen.pinned.append(Compared(folder / f"bench-2026120{i}-000000-abcd", state))
        label_runs([Compared(folder / "bench-20261209-000000-abcd"), *screen.pinned])
        while screen.state.finished is None:
            await asyncio.sleep(0.05)
        ingest = time.perf_counter() - started
        times = (await frames(app, screen, pilot, count, MODES))
        gc.collect()
        after = process.memory_info().rss
    return {"steps": steps, "runs": runs, **{f"frame_{mode}_ms": median_ms(t) for mode, t in times.items()},
            "growth_mb": (after - idle) / 2**20, "ingest_s": ingest}


async def probe(steps: int, count: int) -> dict:
    import psutil

    from cnn_tui.ui.app import CnnTuiApp
    from cnn_tui.ui.screens.run import RunScreen

    process = psutil.Process()
    source = GeneratedRun(steps, Path(tempfile.mkdtemp(prefix="cnn-tui-probe-")))
    screen = RunScreen(source, title="bench")
    app = CnnTuiApp(first_screen=screen)
    async with app.run_test(size=(160, 48)) as pilot:
        idle = await _idle(app, pilot, process)
        started = time.perf_counter()
        source.go.set()
        while screen.state.finished is None:
            await asyncio.sleep(0.05)
        ingest = time.perf_counter() - started
        times = await frames(app, screen, pilot, count, MODES)
        key = (await frames(app, screen, pilot, count, news="key"))["chosen"]
        panes = charts_side_by_side(screen)
        await pilot.press("v")  # the inside page: pictures, the confusion matrix, health
        await pilot.pause(0.2)
        inside = (await frames(app, screen, pilot, count, news="pictures"))["chosen"]
        panes |= charts_side_by_side(screen)
        gc.collect()
        after = process.memory_info().rss
    return {"steps": steps, **{f"frame_{mode}_ms": median_ms(t) for mode, t in times.items()},
            "inside_frame_ms": median_ms(inside), "key_frame_ms": median_ms(key), "idle_mb": idle / 2**20,
            "growth_mb": (after - idle) / 2**20, "ingest_s": ingest, "panes": panes}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--frames", type=int, default=15)
    parser.add_argument("--compare", type=int, default=0, metavar="RUNS", help="that many runs compared on one screen")
    args = parser.parse_args()
    if args.compare:
        print(json.dumps(asyncio.run(probe_compare(args.steps, args.compare, args.frames))))
    else:
        print(json.dumps(asyncio.run(probe(args.steps, args.frames))))


if __name__ == "__main__":
    main()
