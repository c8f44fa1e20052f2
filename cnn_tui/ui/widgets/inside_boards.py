"""The picture panes of the 'inside the model' page: feature maps, filters, worst mistakes."""

from __future__ import annotations

from cnn_tui.ui.view import RunView
from cnn_tui.ui.widgets.picture_board import PictureBoard


class FeatureMapsBoard(PictureBoard):
    """One validation image and what the chosen conv layers make of it (Zeiler & Fergus)."""

    def pictures(self, view: RunView) -> list[tuple[str, str]]:
        fm = view.state.feature_maps
        if fm is None:
            return []
        verdict = "right" if fm.predicted == fm.label else f"seen as {fm.predicted}"
        return [(fm.input, f"{fm.label} ({verdict})")] + [
            (layer["path"], f"{layer['name']} {layer['shown']}/{layer['channels']}") for layer in fm.layers]

    def heading(self, view: RunView) -> str:
        fm = view.state.feature_maps
        if fm is None:
            return ""
        return f"epoch {fm.epoch}: each layer's first maps for one validation image (bright = strong)"


class FiltersBoard(PictureBoard):
    """The first layer's filters and, when drawn (the last epoch, `cnn-tui views`), what a deeper
    layer's first channels want to see (activation maximisation)."""

    def pictures(self, view: RunView) -> list[tuple[str, str]]:
        fm = view.state.feature_maps
        if fm is None:
            return []
        shown = [(fm.filters, f"{fm.filters_layer}'s filters")] if fm.filters else []
        return shown + [(w["path"], f"{w['name']} wants") for w in fm.wants]

    def heading(self, view: RunView) -> str:
        fm = view.state.feature_maps
        if fm is None:
            return ""
        if fm.wants:
            wants = fm.wants[0]
            said = f"what {wants['name']}'s units want to see"  # its first channels' (the captions: which)
            return f"epoch {fm.epoch}: filters; {said}" if fm.filters else f"epoch {fm.epoch}: {said}"
        if not fm.filters:
            return "no first-layer filters to draw (views.filters is off, or the model has no conv layer)"
        return f"epoch {fm.epoch}: edge and colour detectors form here"


class MistakesBoard(PictureBoard):
    def pictures(self, view: RunView) -> list[tuple[str, str]]:
        report = view.state.confusion
        if report is None:
            return []
        return [(m["path"], f"{m['true']}→{m['predicted']}\n{m['confidence']:.0%} sure")
                for m in report.mistakes if m.get("path")]

    def heading(self, view: RunView) -> str:
        report = view.state.confusion
        if report is None:
            return ""
        if not report.mistakes:
            return f"epoch {report.epoch}: no validation image is misclassified"
        if not any(m.get("path") for m in report.mistakes):
            return f"epoch {report.epoch}: " + ", ".join(
                f"{m['true']}→{m['predicted']} {m['confidence']:.0%}" for m in report.mistakes)
        return f"epoch {report.epoch}: the most confidently wrong (true→predicted, confidence)"
