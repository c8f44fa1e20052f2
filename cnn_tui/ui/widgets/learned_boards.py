"""The picture panes of the 'what it learned' page (w): Grad-CAM heat, the classes in feature space,
the patches each unit responds to. Each says in its heading why it is empty where the engine said so."""

from __future__ import annotations

from cnn_tui.ui.view import RunView
from cnn_tui.ui.widgets.picture_board import PictureBoard


class GradCamBoard(PictureBoard):
    """Where the network looked for the class it chose: the probe, and each worst mistake."""

    waiting = "waiting for the first epoch to end... (n on a finished run: Grad-CAM for the next validation image)"

    def pictures(self, view: RunView) -> list[tuple[str, str]]:
        cams = view.state.gradcam
        if cams is None:
            return []
        out = []
        for p in cams.pictures:
            if p["role"] == "mistake":  # true→predicted, as the worst-mistakes pane says it
                said = f"{p['true']}→{p['predicted']}"
            else:
                said = f"{p['role']}: {p['predicted']}" + (" ✗" if p["true"] and p["true"] != p["predicted"] else "")
            out.append((p["path"], f"{said}\n{p['confidence']:.0%} sure"))
        return out

    def heading(self, view: RunView) -> str:
        cams = view.state.gradcam
        if cams is None:
            return ""
        if cams.note:
            return cams.note
        when = f"epoch {cams.epoch}" if cams.epoch else "chosen probe"
        return f"{when}: heat of the predicted class over each image ({cams.layer}; bright = looked here)"


class EmbeddingBoard(PictureBoard):
    def pictures(self, view: RunView) -> list[tuple[str, str]]:
        e = view.state.embedding
        if e is None or not e.path:
            return []
        classes = ", ".join(e.classes[:6]) + (" ..." if len(e.classes) > 6 else "")
        if not e.tsne:
            return [(e.path, classes)]
        return [(e.path, f"PCA: {classes}"), (e.tsne, f"t-SNE of the same {e.tsne_points}")]

    def heading(self, view: RunView) -> str:
        e = view.state.embedding
        if e is None:
            return ""
        if e.note:
            return e.note
        trend = " ".join(f"{s:+.2f}" for _, s in view.state.silhouettes[-6:])
        score = f"silhouette {e.silhouette:+.2f}" if e.silhouette is not None else "no silhouette"
        when = f"epoch {e.epoch}" if e.epoch else "kept checkpoint"
        line = f"{when}: {e.points} images, PCA keeps {e.explained:.0%}; {score} (by epoch: {trend})"
        return f"{line}; {e.tsne_note}" if e.tsne_note else line


class TopPatchesBoard(PictureBoard):
    """Zeiler & Fergus's figure 2: a row per channel of the validation patches it likes best."""

    def pictures(self, view: RunView) -> list[tuple[str, str]]:
        e = view.state.top_patches
        if e is None:
            return []
        return [(layer["path"], f"{layer['name']} {layer['shown']}/{layer['channels']} ({layer['field']} px)")
                for layer in e.layers]

    def heading(self, view: RunView) -> str:
        e = view.state.top_patches
        if e is None:
            return ""
        return e.note or f"epoch {e.epoch}: per channel (a row), the patches of its receptive field it fires most on"
