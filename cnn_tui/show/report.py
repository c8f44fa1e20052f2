"""A run in words and charts: what `cnn-tui show` prints."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path

from cnn_tui.contract.smoothing import DEFAULT_WEIGHT, debiased_ema
from cnn_tui.contract.status import Severity
from cnn_tui.contract.wording import format_duration, format_test_score, global_batch, where_trained
from cnn_tui.headless.printer import loss_line
from cnn_tui.record.history import RunHistory
from cnn_tui.record.liveness import RunState, liveness
from cnn_tui.record.scan import Scan
from cnn_tui.show.charts import Line, chart

STYLE_LOSSES = ("loss/total", "loss/content", "loss/style", "loss/tv")
SEVERITY_MARK = {Severity.ERROR: "!!", Severity.WARNING: "!", Severity.INFO: "-"}


@dataclass(frozen=True)
class Layout:
    width: int  # columns of each chart
    height: int  # rows of each chart
    color: bool
    screen_rows: int | None = None  # fit the whole report in this many rows (show --follow in a terminal)


MIN_FIT_ROWS = 9  # a chart squeezed below this is dropped instead (the last ones first: lr, then accuracy)


def render(history: RunHistory, scan: Scan, layout: Layout) -> str:
    extra = activation_lines(history) if layout.screen_rows is None else []  # one screen: no room to spare
    parts = [_wrapped(summary_lines(history, scan) + extra, layout.width, indent=12)]
    diagnoses = diagnosis_lines(history)
    if diagnoses:
        parts.append(_wrapped(diagnoses, layout.width, indent=4))
    if layout.screen_rows is not None:  # one screen: share what the text leaves among the charts that fit
        left = layout.screen_rows - sum(part.count("\n") + 2 for part in parts) - 1
        wanted = 1 if history.is_style else 3
        fits = min(wanted, left // MIN_FIT_ROWS)  # 0: the text fills the screen, and no chart fits under it
        if fits:
            layout = replace(layout, height=max(left // fits - 1, MIN_FIT_ROWS - 1))
            parts += [c for c in charts(history, layout)[:fits] if c]
    else:
        parts += [c for c in charts(history, layout) if c]
    return "\n\n".join(parts)


def _wrapped(lines: list[str], width: int, indent: int) -> str:
    """Lines cut at the charts' width; a continuation lines up under the value it continues."""
    out: list[str] = []
    for line in lines:
        lead = len(line) - len(line.lstrip(" "))
        out += textwrap.wrap(line, width, subsequent_indent=" " * max(indent, lead), break_on_hyphens=False,
                             break_long_words=False) or [""]  # a path stays whole, even when longer
    return "\n".join(out)


def _status(history: RunHistory) -> str:
    """How the run stands now: its writer's liveness (record/liveness.py), the finish's reason once it ended."""
    live = liveness(history.run_dir)
    if live.state is RunState.FINISHED and history.finished is not None:
        resume = f"; resume with: {live.resume_command}" if live.resume_command else ""
        return f"{history.finished.status}: {history.finished.reason}{resume}"
    return live.describe()


def summary_lines(history: RunHistory, scan: Scan) -> list[str]:
    s, summary = history.first, history.summary or {}
    name = s.recipe_name if s else summary.get("recipe", history.run_dir.name)
    kind = s.kind if s else summary.get("kind", "?")
    lines = [f"{name} ({kind}): {_status(history)}", f"  run       {history.run_dir}"
             + (f" ({history.segments} segments: resumed)" if history.segments > 1 else "")]
    if s is not None:
        lines.append(f"  model     {s.model_name}, {s.total_params:,} params ({s.trainable_params:,} trainable) "
                     f"on {where_trained(s)}")
    c = history.classification
    if c is not None:
        test = f" / {c.num_test:,} test" if c.num_test else ""
        lines.append(f"  data      {c.num_train:,} train / {c.num_val:,} val{test} images, {c.num_classes} classes; "
                     f"{c.epochs} epochs x {c.steps_per_epoch} steps of {global_batch(c.batch_size, c.world_size)}")
    lines += _progress_lines(history)
    if history.test is not None:
        lines.append(f"  test      {format_test_score(history.test)}")
    if history.system is not None:
        lines.append(f"  system    {_system_words(history)}")
    if history.compile_note is not None:
        lines.append(f"  compile   {history.compile_note}")
    if scan.sampled:
        lines.append(f"  charts    {scan.dense_read:,} of {scan.dense_in_file:,} per-step events, evenly spaced "
                     "(export writes them all); every epoch")
    return lines


def _system_words(history: RunHistory) -> str:
    """The machine in one line: the data wait over the run (is it input-bound?), then the latest sample."""
    e, waits = history.system, history.data_waits
    assert e is not None
    words = (f"waited for data {sum(waits) / len(waits):.0%} of the loop's time (mean of {len(waits):,} samples; "
             f"latest {e.data_wait:.0%}); CPU {e.cpu_percent:,.0f}% of {e.cpu_cores} cores, {e.rss_mb:,.0f} MB")
    if e.gpu_name is not None:
        words += f"; {e.gpu_name}" + (f" {e.gpu_util:.0f}% busy" if e.gpu_util is not None else "")
        if e.gpu_mem_mb is not None and e.gpu_mem_total_mb:
            words += f", {e.gpu_mem_mb / 1024:,.1f} / {e.gpu_mem_total_mb / 1024:,.1f} GB"
    return words


def _progress_lines(history: RunHistory) -> list[str]:
    s, f, summary = history.first, history.finished, history.summary or {}
    last_step = f.step if f else (history.steps[-1].step if history.steps else 0)
    total = f"{last_step:,} of {s.total_steps:,} steps" if s else f"{last_step:,} steps"
    wall = f"; {format_duration(f.wall_seconds)} wall" if f else ""
    lines = [f"  progress  {total}{wall}" + (f"; epoch {history.epochs[-1].epoch} of {history.classification.epochs}"
                                             if history.epochs and history.classification else "")]
    if history.is_style:
        final = f.final if f and f.final else (history.steps[-1].metrics if history.steps else {})
        if final:
            lines.append(f"  losses    {loss_line(final).lstrip('; ')}")
        finals = [i.path for i in history.images if i.tag == "final"]
        lines.append(f"  images    {len(history.images)} written in {history.run_dir / 'images'}"
                     + (f"; final: {finals[-1]}" if finals else ""))
        return lines
    best_epoch = summary.get("best_epoch")
    best = (f.best if f else None) or {}
    if best:
        at = f"epoch {best_epoch}: " if best_epoch else ""
        lines.append(f"  best      {at}val acc {best.get('val/acc', math.nan):.2%}, "
                     f"val loss {best.get('val/loss', math.nan):.4f}")
    if history.epochs:
        m = history.epochs[-1].metrics
        lines.append(f"  last      epoch {history.epochs[-1].epoch}: " + ", ".join(
            f"{k} {v:.2%}" if k.endswith("/acc") else f"{k} {v:.4g}" for k, v in m.items()))
    return lines + views_lines(history.run_dir)


def activation_lines(history: RunHistory) -> list[str]:
    """One line: the activations over time are recorded (the dashboard draws them; no picture file)."""
    if not history.spectrum_ticks:
        return []
    return [f"  activity  {len(history.spectrum_layers)} layers' activation histograms at {history.spectrum_ticks} "
            "ticks (the dashboard's page v draws them)"]


VIEW_FILES = (("gradcam-", "Grad-CAM"), ("patches-", "top patches"), ("embedding.", "feature space"),
              ("embedding-tsne", "t-SNE"), ("mistake-", "mistakes"), ("filters", "filters"),
              ("wants-", "what a filter wants to see"))


def views_lines(run_dir: Path | None) -> list[str]:
    """Where the pictures of the model's inside are (the newest epoch's, and a probe chosen with
    `cnn-tui views`), read from the folder: the events name them too, the folder is the truth."""
    views = run_dir / "views" if run_dir is not None else None
    try:
        epochs = sorted(p for p in views.iterdir() if p.is_dir() and p.name.startswith("epoch-")) if views else []
    except OSError:
        return []
    lines = []
    if epochs:
        names = [p.name for p in epochs[-1].iterdir() if p.suffix == ".png"]
        counted = []
        for prefix, words in VIEW_FILES:
            n = sum(name.startswith(prefix) for name in names)
            if n:
                counted.append(f"{words} ({n})" if n > 1 else words)
        other = len(names) - sum(any(n.startswith(p) for p, _ in VIEW_FILES) for n in names)
        if other:
            counted.append(f"feature maps ({other})")
        lines.append(f"  views     in the run folder, views/{epochs[-1].name}/: " + ", ".join(counted))
    if views is not None and (views / "chosen").is_dir():
        lines.append("  probe     views/chosen/ (cnn-tui views: Grad-CAM, feature maps, shift.png)")
    return lines


def diagnosis_lines(history: RunHistory) -> list[str]:
    said = [d for d in history.diagnoses if d.code != "views_budget"]  # not the curves: summary.json's views_cost
    if not said:
        return []
    return ["what the curves say"] + [
        f"  {SEVERITY_MARK.get(d.severity, '-')} {d.message}" + (f" (epoch {d.epoch})" if d.epoch else "")
        for d in said]


def charts(history: RunHistory, layout: Layout) -> list[str]:
    w, h, color = layout.width, layout.height, layout.color
    if history.is_style:
        markers = ("hd", "dot", "braille", "hd")
        lines = [Line(name.split("/")[-1], *history.step_series(name), marker=marker)
                 for name, marker in zip(STYLE_LOSSES, markers)]
        lines = [line for line in lines if any(line.ys)]  # a term weighted 0 (often tv) is not drawn
        return [chart("style transfer losses", lines, w, h, color, log_y=None)]
    train = _per_step_else_epoch(history, "train/loss")
    loss = chart("loss", [Line("train", *train), *_val_lines(history.epoch_series("val/loss"))], w, h, color)
    acc = chart("accuracy (%)", [Line("train", *_percent(history.epoch_series("train/acc"))),
                                 *_val_lines(_percent(history.epoch_series("val/acc")))], w, h, color, log_y=False)
    lr = chart("learning rate", [Line("lr", *_per_step_else_epoch(history, "lr"))], w, h, color)
    return [loss, acc, lr]


def _val_lines(series: tuple[list[float], list[float]]) -> list[Line]:
    """The validation points (one an epoch, the noisiest curve) and, from three epochs on, their
    debiased EMA at the dashboard's default weight, as the dashboard draws them."""
    xs, ys = series
    smoothed = [Line("val smoothed", xs, debiased_ema(ys, DEFAULT_WEIGHT), marker="braille")] if len(ys) >= 3 else []
    return [Line("val", xs, ys, marker="dot"), *smoothed]


def _per_step_else_epoch(history: RunHistory, metric: str) -> tuple[list[float], list[float]]:
    """The step events' series where there are enough of them to draw a line; else one point an epoch."""
    steps = history.step_series(metric)
    return steps if len(steps[0]) >= 2 else history.epoch_series(metric)


def _percent(series: tuple[list[float], list[float]]) -> tuple[list[float], list[float]]:
    return series[0], [100 * y for y in series[1]]
