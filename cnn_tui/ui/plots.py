"""Turn a RunState into PlotData for each curve pane: raw and smoothed training curves,
validation points, the pinned runs over them. At most two points per dot column are drawn.
"""

from __future__ import annotations

from cnn_tui.contract.smoothing import debiased_ema
from cnn_tui.ui.compared_runs import Compared
from cnn_tui.ui.plot_data import Line, PlotData
from cnn_tui.ui.state import RunState

LAYER_COLORS = ["cyan", "magenta", "yellow", "green", "blue", "red", "bright_white", "bright_cyan"]
MAX_LAYER_LINES = 8


def _series(state: RunState, name: str, columns: int) -> tuple[list[float], list[float]]:
    series = state.series.get(name)
    return series.points(columns * 2) if series is not None else ([], [])


def metric_plot(state: RunState, metric: str, columns: int, smoothing: float,
                pinned: tuple[Compared, ...] = ()) -> PlotData:
    """train/<metric> and val/<metric> (per epoch), each raw (dim) and smoothed; each pinned run's smoothed
    training curve (dim) and validation curve in its own colour, named in the legend."""
    xs, ys = _series(state, f"train/{metric}", columns)
    lines = []
    if xs:
        if smoothing > 0:
            lines.append(Line("raw", xs, ys, "bright_black", legend=False))
        lines.append(Line("train" + (" (smoothed)" if smoothing > 0 else ""), xs,
                          debiased_ema(ys, smoothing), "cyan"))
    vx, vy = _series(state, f"val/{metric}", columns)
    if vx and smoothing > 0:  # the per-epoch points are the noisiest: smoothed too, raw still shown
        lines.append(Line("val raw", vx, vy, "dim magenta", legend=False))
        lines.append(Line("val (smoothed)", vx, debiased_ema(vy, smoothing), "magenta"))
    elif vx:
        lines.append(Line("val", vx, vy, "magenta"))
    for owner, run in enumerate(pinned, start=1):
        if run.overlaid:
            lines += run.cached(("metric", metric, columns, smoothing, owner),
                                lambda r=run, k=owner: _pinned_lines(r, metric, columns, smoothing, k))
    return PlotData(lines=lines, y_min=0.0 if metric == "acc" else None,
                    y_max=1.0 if metric == "acc" else None, markers=state.markers)


def _pinned_lines(run: Compared, metric: str, columns: int, smoothing: float, owner: int) -> list[Line]:
    """A pinned run's smoothed training curve (dim, one point a column: many runs stay cheap to draw)
    and its validation curve, in its colour."""
    lines = []
    tx, ty = _series(run.state, f"train/{metric}", (columns + 1) // 2)
    if tx:
        lines.append(Line(f"train {run.label}", tx, debiased_ema(ty, smoothing), f"dim {run.color}", legend=False,
                          owner=owner))
    ox, oy = _series(run.state, f"val/{metric}", columns)
    if ox or tx:
        lines.append(Line(run.label, ox, oy, run.color, owner=owner))
    return lines


def lr_plot(state: RunState, columns: int, pinned: tuple[Compared, ...] = ()) -> PlotData:
    xs, ys = _series(state, "lr", columns)
    lines = [Line("lr", xs, ys, "green")] if xs else []
    for owner, run in enumerate(pinned, start=1):
        px, py = _series(run.state, "lr", columns)
        if px and run.overlaid:
            lines.append(Line(run.label, px, py, run.color, owner=owner))
    highest = max((max(ln.ys) for ln in lines if ln.ys), default=0.0)
    return PlotData(lines=lines, y_min=0.0, y_max=highest * 1.05 if highest > 0 else None, markers=state.markers)


def pick_layers(names: list[str], limit: int = MAX_LAYER_LINES) -> list[str]:
    """Up to `limit` layers spread from input to output, preferring conv/linear over norms."""
    weighted = [n for n in names if not any(tag in n.rsplit(".", 1)[-1] for tag in ("bn", "norm"))] or names
    if len(weighted) <= limit:
        return weighted
    step = (len(weighted) - 1) / (limit - 1)
    return [weighted[round(i * step)] for i in range(limit)]


def gradient_plot(state: RunState, columns: int) -> PlotData:
    lines = []
    order = state.grad_order + [n for n in state.grad_series if n not in state.grad_order]
    for color, name in zip(LAYER_COLORS, pick_layers([n for n in order if n in state.grad_series])):
        xs, ys = state.grad_series[name].points(columns * 2)
        lines.append(Line(name, xs, ys, color))
    return PlotData(lines=lines, log_y=True, empty_text="waiting for gradient statistics...",
                    markers=state.markers)


STYLE_LOSSES = (("loss/total", "total", "bright_white"), ("loss/style", "style", "yellow"),
                ("loss/content", "content", "cyan"), ("loss/tv", "tv", "green"))


def style_loss_plot(state: RunState, columns: int, smoothing: float) -> PlotData:
    """Style transfer's weighted loss terms on a log scale (they differ by decades)."""
    lines = []
    for name, label, color in STYLE_LOSSES:
        xs, ys = _series(state, name, columns)
        if xs and any(y > 0 for y in ys):
            lines.append(Line(label, xs, debiased_ema(ys, smoothing) if smoothing > 0 else ys, color))
    return PlotData(lines=lines, log_y=True, empty_text="waiting for the first step...")


def style_layer_plot(state: RunState, columns: int) -> PlotData:
    """Each style layer's share of the style loss: which scales of texture are still off."""
    names = [n for n in state.series if n.startswith("style/")]
    lines = []
    for color, name in zip(LAYER_COLORS, names[:MAX_LAYER_LINES]):
        xs, ys = _series(state, name, columns)
        lines.append(Line(name.split("/", 1)[1], xs, ys, color))
    return PlotData(lines=lines, log_y=True, empty_text="waiting for the first step...")


SPREAD_LINES = (("5%", "bright_black"), ("25%", "cyan"), ("median of {layer}", "bright_white"), ("75%", "cyan"),
                ("95%", "bright_black"))


def weight_spread_plot(state: RunState, columns: int, layer: str) -> PlotData:
    """One layer's weight quantiles over time: TensorBoard's distributions view, as five lines."""
    from cnn_tui.ui.state import SPREAD

    lines = []
    for i, (label, color) in zip(SPREAD, SPREAD_LINES):
        series = state.health_series.get(f"w{i}|{layer}")
        if series is not None:
            xs, ys = series.points(columns * 2)
            lines.append(Line(label.format(layer=layer), xs, ys, color))
    return PlotData(lines=lines, empty_text="waiting for weight statistics (log.grad_every_steps)...",
                    markers=state.markers)
