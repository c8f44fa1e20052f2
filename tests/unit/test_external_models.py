"""arch: torchvision (any of its classification models, no weights) and arch: python (the user's
own network from a file): they build for the recipe's data, train, and every view works on them;
what cannot work is one line naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from cnn_tui.contract.errors import RecipeError
from cnn_tui.models.build import build_model
from cnn_tui.recipes.loader import load_recipe
from cnn_tui.recipes.schema import Model
from tests.helpers import of_type, run_collect

pytestmark = pytest.mark.timeout(240)

MY_NET = '''\
import torch.nn as nn


class MyNet(nn.Module):
    def __init__(self, num_classes, in_channels=3):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(in_channels, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.head = nn.Linear(16, num_classes)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def small(num_classes, image_size):
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * image_size * image_size, num_classes))


def three_logits():
    return nn.Sequential(nn.Flatten(), nn.LazyLinear(3))


def not_a_module():
    return 42
'''


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_small", "squeezenet1_1", "googlenet",
                                  "shufflenet_v2_x0_5", "densenet121", "efficientnet_b0", "regnet_x_400mf"])
@pytest.mark.parametrize("channels", [3, 1])
def test_torchvision_models_build_for_the_data(name, channels):
    net = build_model(Model(arch="torchvision", name=name), channels, 64, 5).train()
    out = net(torch.rand(2, channels, 64, 64))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 5)  # one output in training (no aux heads)


def test_a_torchvision_model_too_big_for_the_images_says_the_smallest_size():
    with pytest.raises(RecipeError, match=r"alexnet cannot take 32 px images .* is 64 px\); set data.image_size"):
        build_model(Model(arch="torchvision", name="alexnet"), 3, 32, 5)


def test_an_unknown_torchvision_name_lists_the_allowed_ones():
    with pytest.raises(RecipeError, match=r"'resnet19' is not .* \(did you mean 'resnet18'\?\); allowed: .*vgg16"):
        build_model(Model(arch="torchvision", name="resnet19"), 3, 32, 5)


@pytest.fixture
def my_net(tmp_path) -> Path:
    path = tmp_path / "nets" / "my_net.py"
    path.parent.mkdir()
    path.write_text(MY_NET)
    return path


@pytest.mark.parametrize("name, size", [("MyNet", 16), ("small", 8)])
def test_a_class_or_a_function_from_the_users_file(my_net, name, size):
    net = build_model(Model(arch="python", path=str(my_net), name=name), 3, size, 4)
    assert net(torch.rand(3, 3, size, size)).shape == (3, 4)


@pytest.mark.parametrize("name, says", [
    ("three_logits", r"three_logits's output for 2 images is \(2, 3\); it must be \(2, 4\)"),
    ("not_a_module", r"not_a_module gave a int, not a torch.nn.Module"),
    ("Missing", r"defines no 'Missing'; it defines: MyNet, not_a_module, small, three_logits"),
])
def test_a_user_model_that_cannot_work_is_one_line_naming_the_file(my_net, name, says):
    with pytest.raises(RecipeError, match=says) as caught:
        build_model(Model(arch="python", path=str(my_net), name=name), 3, 16, 4)
    assert str(caught.value).startswith(str(my_net)) and "\n" not in str(caught.value)


def test_an_import_error_names_the_file_and_its_line(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("import torch\n\nraise ImportError('no module named tensorflow')\n")
    with pytest.raises(RecipeError, match=rf"^{path}:3: model.path: importing it failed: ImportError: no module"):
        build_model(Model(arch="python", path=str(path), name="Net"), 3, 16, 4)


@pytest.mark.parametrize("arch", ["python", "torchvision"])
def test_they_train_with_every_view(tmp_path, my_net, arch):
    """A recipe beside the file names it relatively; the run has a layer table with receptive
    fields, gradient statistics of the user's own layers, and a checkpoint predict can load."""
    model = "{arch: python, path: nets/my_net.py, name: MyNet}" if arch == "python" else \
        "{arch: torchvision, name: resnet18}"
    recipe_path = tmp_path / "r.yaml"
    recipe_path.write_text(f"kind: scratch\nname: mine\ndevice: cpu\nmodel: {model}\n"
                           "data: {dataset: shapes, image_size: 32, grayscale: true, "
                           "shapes: {num_train: 64, num_val: 32, classes: [circle, square]}}\n"
                           "train: {epochs: 1, batch_size: 16}\nlog: {every_steps: 1, grad_every_steps: 1}\n")
    recipe, _ = load_recipe(recipe_path)
    result, events = run_collect(recipe, tmp_path / "runs")
    assert result.status == "completed"
    (started,) = of_type(events, "run_started")
    assert started.model_name == ("MyNet (my_net.py)" if arch == "python" else "resnet18 (torchvision)")
    assert any(row.get("rf") for row in started.layers) and sum(r["macs"] for r in started.layers) > 0
    norms = of_type(events, "gradients")[-1].norms
    assert ("features.0" in norms) if arch == "python" else any(name.startswith("net.layer1") for name in norms)
    from cnn_tui.engine.predict import from_run

    assert from_run(result.run_dir).class_names == ["circle", "square"]
