"""Case 3's probe, run in its own process: a run screen fed a generated stream of N steps
(a step event per step, 20-layer gradients, 100 epochs), then
the time to draw a frame of every pane at 160x48 and the resident memory it took.

A frame here is: fold the state into every pane's plot, then have Textual's compositor
re-render the changed widgets, compose the whole screen and turn it into terminal output
(a full repaint, the most a frame can cost). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import time

from cnn_tui.ui.sources import Replay

LAYERS = [f"layer{i:02d}.conv" for i in range(20)]


class GeneratedRun(Replay):
    """Events made on the fly (a million of them are never all in memory at once)."""

    def __init__(self, steps: int) -> None:
        super().__init__([])
        self.steps = steps
        self.go = asyncio.Event()

    async def events(self):
        from cnn_tui.events import EpochEnd, Gradients, RunFinished, RunStarted, Step

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
            if step % per_epoch == 0:
                yield EpochEnd(epoch=step // per_epoch, step=step, seconds=1.0, metrics={
                    "train/loss": loss, "train/acc": 0.8, "val/loss": loss * 1.1, "val/acc": 0.75, "lr": 0.01})
        yield RunFinished(status="completed", reason="done", step=self.steps, epoch=self.steps // per_epoch,
                          wall_seconds=1.0, best={}, final={})


async def probe(steps: int, frames: int) -> dict:
    import psutil

    from cnn_tui.ui.app import CnnTuiApp
    from cnn_tui.ui.screens.run import RunScreen

    process = psutil.Process()
    source = GeneratedRun(steps)
    screen = RunScreen(source, title="bench")
    app = CnnTuiApp(first_screen=screen)
    async with app.run_test(size=(160, 48)) as pilot:
        # idle: the picker underneath has built its preview (torch imported), no run events yet
        while any(w.group == "layer-table" and not w.is_finished for w in app.workers):
            await asyncio.sleep(0.05)
        await pilot.pause(0.5)
        gc.collect()
        idle = process.memory_info().rss
        started = time.perf_counter()
        source.go.set()
        while screen.state.finished is None:
            await asyncio.sleep(0.05)
        ingest = time.perf_counter() - started
        times = []
        for _ in range(frames):
            screen.state.version += 1  # as if a new event came in
            t0 = time.perf_counter()
            screen.redraw()
            screen._compositor.render_update(full=True).render_segments(app.console)
            times.append(time.perf_counter() - t0)
            await pilot.pause()  # let the app settle between frames, outside the timing
        gc.collect()
        after = process.memory_info().rss
    times.sort()
    return {"steps": steps, "frame_ms": 1000 * times[len(times) // 2], "idle_mb": idle / 2**20,
            "growth_mb": (after - idle) / 2**20, "ingest_s": ingest}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--frames", type=int, default=15)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(probe(args.steps, args.frames))))


if __name__ == "__main__":
    main()
