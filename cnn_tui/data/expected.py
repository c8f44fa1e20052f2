"""What a recipe's `data:` section will produce, known before any file is read: channels,
image size and classes. `cnn-tui validate` and the picker's preview build the model from
it; the loader is checked against it in the tests (one fact, not two guesses).
"""

from __future__ import annotations

from typing import Any

from cnn_tui.contract.kinds import kind_spec

# channels and classes of the datasets whose shape is fixed by their publisher
KNOWN = {
    "mnist": (1, 10), "fashion_mnist": (1, 10), "lfw_faces": (1, 2),
    "cifar10": (3, 10), "cifar100": (3, 100), "oxford_pet": (3, 2),
}
PRETRAINED_CHANNELS = 3  # pretrained bases take RGB: grayscale images are repeated to three channels


def expected_input(recipe: Any) -> tuple[int, int, int]:
    """(channels, image size, classes) the data section will produce, without loading it."""
    data = recipe.data
    channels, classes = KNOWN.get(data.dataset, (3, 2))
    if data.grayscale:
        channels = 1
    if kind_spec(recipe.kind).pretrained_base:
        channels = PRETRAINED_CHANNELS
    if data.dataset == "shapes":
        classes = len(data.shapes.classes)
    elif data.dataset == "image_folder":
        classes = _folder_classes(data) or classes
    return channels, data.image_size, classes


def _folder_classes(data: Any) -> int | None:
    """Class folders of an image_folder recipe, from file names only (None if unusable: the
    data line of `validate` says why)."""
    from cnn_tui.contract.errors import DataError
    from cnn_tui.data.folder_scan import scan

    try:
        return len(scan(data).classes)
    except DataError:
        return None
