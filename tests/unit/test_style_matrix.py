"""Style transfer with the *default* settings over a matrix of image pairs, on every
offline feature net: photos and generated textures of other colours, scales and
frequencies, loaded from files in several formats. Each pair must:

- lower the style loss at least 10x within the default number of steps,
- never raise the total loss by more than 1% between logged steps (logged every step),
- keep the content: the relative content error stays below CONTENT_BOUND,
- not end as noise: total variation per pixel at most NOISE_FACTOR x the larger of the
  content and style images' own (uniform noise scores ~20x a photo's).

64 px keeps it at a few seconds a case on 2 cores; `-s` prints one row per case.
"""

from __future__ import annotations

import pytest

from cnn_tui.recipes.loader import load_recipe
from cnn_tui.style.images import load_image
from cnn_tui.style.losses import total_variation
from tests.helpers import of_type, run_collect
from tests.style_textures import write_texture

CONTENTS = ["sample:chelsea", "sample:astronaut"]
STYLES = ["sample:rocket", "sample:mosaic", "stripes", "checker", "blobs", "speckle"]
NETS = ["efficientnet_lite0", "random"]
SIZE = 64
MIN_STYLE_DROP = 10.0
MAX_RISE = 0.01
CONTENT_BOUND = 2.0
NOISE_FACTOR = 3.0


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("content", CONTENTS)
@pytest.mark.parametrize("net", NETS)
def test_defaults_transfer_any_pair(tmp_path, net, content, style):
    style_ref = style if style.startswith("sample:") else str(write_texture(style, tmp_path))
    path = tmp_path / "pair.yaml"
    path.write_text(f"kind: style_transfer\nname: pair\ncontent_image: {content}\nstyle_image: {style_ref}\n"
                    f"image_size: {SIZE}\nfeature_net: {{name: {net}}}\n"
                    "log: {every_steps: 1, snapshot_every: 100000}\n")
    recipe, _ = load_recipe(path)
    assert recipe.steps == 300  # the schema's default, which this matrix vouches for
    result, events = run_collect(recipe, tmp_path / "runs")
    assert result.status == "completed"

    steps = of_type(events, "style_step")
    totals = [e.metrics["loss/total"] for e in steps]
    first, last = steps[0].metrics, steps[-1].metrics
    drop = first["loss/style"] / last["loss/style"]
    worst_rise = max((b / a - 1 for a, b in zip(totals, totals[1:])), default=0.0)
    import numpy as np
    import PIL.Image
    import torch

    final = PIL.Image.open(result.run_dir / "images" / "final.png")
    final_t = torch.from_numpy(np.asarray(final, dtype=np.float32) / 255).permute(2, 0, 1)[None]
    reference = max(total_variation(load_image(recipe.content_image, SIZE, "c")).item(),
                    total_variation(load_image(recipe.style_image, SIZE, "s")).item())
    noise = total_variation(final_t).item() / reference
    seconds_per_step = result.summary["wall_seconds"] / recipe.steps
    print(f"\nMATRIX {net:18s} {content[7:]:10s} {style.replace('sample:', ''):8s} style {first['loss/style']:.3g}"
          f" -> {last['loss/style']:.3g} ({drop:.0f}x) content {last['loss/content']:.2f} worst rise "
          f"{worst_rise:+.2%} tv {noise:.2f}x {seconds_per_step * 1000:.0f} ms/step")

    assert drop >= MIN_STYLE_DROP, f"the style loss fell only {drop:.1f}x"
    assert worst_rise <= MAX_RISE, f"the total loss rose {worst_rise:.1%} between two steps"
    assert last["loss/content"] <= CONTENT_BOUND * recipe.content_weight
    assert noise <= NOISE_FACTOR, f"the final image is {noise:.1f}x as busy as its sources: noise"
    assert not any(d.code == "loss_rose" for d in of_type(events, "diagnosis"))
