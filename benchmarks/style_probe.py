"""Case 3's style transfer screen: a generated run of four loss terms and five layers' style losses,
a frame at 160x48 with the charts on each engine, and each chart side by side. Prints one JSON line."""

from __future__ import annotations

import argparse
import asyncio
import json
import math

from benchmarks.frame_timing import MODES, charts_side_by_side, frames, median_ms
from cnn_tui.ui.sources import Replay


def style_stream(steps: int) -> list:
    from cnn_tui.contract.events import RunFinished, RunStarted, Step

    layers = [f"relu{i}_1" for i in range(1, 6)]
    started = RunStarted(run_id="bench-style", recipe_name="bench", kind="style_transfer", device="cpu",
                         device_name="CPU", epochs=1, steps_per_epoch=steps, total_steps=steps, batch_size=1,
                         num_train=1, num_val=0, num_classes=0, class_names=[], model_name="vgg19",
                         layers=[], total_params=0, trainable_params=0)
    events: list = [started]
    for step in range(steps):
        fall = math.exp(-step / steps * 4)
        style = {f"style/{n}": 40 * fall / (i + 1) ** 2 * (1 + 0.1 * math.sin(step / 3 + i))
                 for i, n in enumerate(layers)}
        losses = {"loss/total": 50 * fall + 2, "loss/style": 48 * fall, "loss/content": 2 * (1 - fall), "loss/tv": 0.1}
        events.append(Step(step=step, epoch=0, metrics=losses | style))
    return events + [RunFinished(status="completed", reason="done", step=steps, epoch=0, wall_seconds=1.0, best={},
                                 final={})]


async def probe_style(steps: int, count: int) -> dict:
    from cnn_tui.ui.app import CnnTuiApp
    from cnn_tui.ui.screens.style_run import StyleRunScreen

    screen = StyleRunScreen(Replay(style_stream(steps)), title="bench")
    app = CnnTuiApp(first_screen=screen)
    async with app.run_test(size=(160, 48)) as pilot:
        while screen.state.finished is None:
            await asyncio.sleep(0.05)
        times = await frames(app, screen, pilot, count, MODES)
        return {"steps": steps, **{f"frame_{mode}_ms": median_ms(t) for mode, t in times.items()},
                "panes": charts_side_by_side(screen)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1_000)
    parser.add_argument("--frames", type=int, default=15)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(probe_style(args.steps, args.frames))))


if __name__ == "__main__":
    main()
