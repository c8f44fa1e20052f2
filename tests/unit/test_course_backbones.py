"""VGG19 and Inception v3 as transfer bases and in `predict --backbone` (the Keras applications the
course names), offline: random weights, or a faked download. Counts are torchvision's documented
ones (VGG19_Weights / Inception_V3_Weights meta["num_params"]), rebuilt from the parts a base
leaves out by hand arithmetic, never from the net's own output."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision.models as tvm
import yaml

from cnn_tui.cli import main
from cnn_tui.models.backbones.inception_v3 import BUILD_KWARGS
from cnn_tui.models.backbones.registry import build_base
from cnn_tui.recipes.loader import load_recipe

pytestmark = pytest.mark.timeout(180)
SAMPLES = Path(__file__).resolve().parents[2] / "recipes" / "images"

VGG19_PARAMS = 143_667_240  # torchvision VGG19_Weights.IMAGENET1K_V1, num_params
INCEPTION_V3_PARAMS = 27_161_264  # torchvision Inception_V3_Weights.IMAGENET1K_V1, num_params (with aux)
VGG_TOP = (7 * 7 * 512 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000)  # fc6, fc7, fc8
INCEPTION_FC = 2048 * 1000 + 1000
# the auxiliary head on Mixed_6e: 1x1 conv 768->128 + BN, 5x5 conv 128->768 + BN, fc 768->1000
INCEPTION_AUX = (768 * 128 + 2 * 128) + (128 * 768 * 25 + 2 * 768) + (768 * 1000 + 1000)


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_vgg19_base_is_the_published_net_without_its_dense_top():
    with torch.device("meta"):
        base = build_base("vgg19", "none")
    assert count(base.blocks) + VGG_TOP == VGG19_PARAMS
    assert count(base.blocks) == 20_024_384  # Keras VGG19(include_top=False).summary()
    assert [name for name, _ in base.blocks.named_children()] == [f"block{i}" for i in range(1, 6)]
    convs = [m for m in base.blocks.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 16 and base.features == 512  # configuration E: 16 conv layers


def test_inception_v3_base_leaves_out_both_imagenet_heads():
    with torch.device("meta"):
        base = build_base("inception_v3", "none")
    assert count(base.blocks) + INCEPTION_FC + INCEPTION_AUX == INCEPTION_V3_PARAMS
    names = [name for name, _ in base.blocks.named_children()]
    assert names[0] == "stem" and names[-2:] == ["mixed_7b", "mixed_7c"] and len(names) == 12
    assert base.features == 2048


def test_inception_v3_base_computes_torchvisions_features_with_its_input_scaling():
    """The blocks called one by one give what torchvision's net (transform_input on, as its ImageNet
    weights need) feeds its average pool: the [-1, 1] rescaling is not lost in the split."""
    torch.manual_seed(0)
    base = build_base("inception_v3", "none")
    net = tvm.inception_v3(weights=None, **BUILD_KWARGS)
    missing = net.load_state_dict(base_state(base), strict=False).missing_keys
    assert {key.split(".")[0] for key in missing} == {"AuxLogits", "fc"}
    seen = {}
    net.avgpool.register_forward_hook(lambda _m, args, _out: seen.update(x=args[0]))
    x = torch.randn(2, 3, 80, 80, dtype=torch.float64)  # float64: random weights blow activations up
    with torch.no_grad():
        net.double().eval()(x)
        ours = base.blocks.double().eval()(x)
    torch.testing.assert_close(ours, seen["x"])


def base_state(base) -> dict[str, torch.Tensor]:
    """The base's weights under torchvision's names (stem modules 1.. are Conv2d_1a ... maxpool2)."""
    stem = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3"]
    state = {}
    for key, value in base.blocks.state_dict().items():
        block, rest = key.split(".", 1)
        if block == "stem":
            index, rest = rest.split(".", 1)
            state[f"{stem[int(index) - 1]}.{rest}"] = value
        else:
            state[f"Mixed_{block.split('_')[1]}.{rest}"] = value
    return state


def write(tmp_path: Path, backbone: dict, data: dict) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"kind": "feature_extraction", "name": "t", "backbone": backbone,
                                    "data": {"dataset": "shapes", **data}}))
    return path


def test_inception_v3_defaults_to_299_px_and_refuses_what_it_cannot_take(tmp_path, capsys):
    recipe, _ = load_recipe(write(tmp_path, {"name": "inception_v3", "weights": "none"}, {}))
    assert recipe.data.image_size == 299  # the size its weights were trained at
    recipe, _ = load_recipe(write(tmp_path, {"name": "vgg19", "weights": "none"}, {}))
    assert recipe.data.image_size == 224
    bad = write(tmp_path, {"name": "inception_v3", "weights": "none"}, {"image_size": 64})
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "data.image_size: inception_v3 takes images of at least 75 px (got 64" in err


@pytest.mark.parametrize("name, crop", [("vgg19", 224), ("inception_v3", 299)])
def test_predict_backbone_builds_each_net_as_its_weights_expect(name, crop, monkeypatch, capsys):
    """Offline, the 'download' hands back torchvision's own random net's state dict: strict loading
    proves the net predict builds has every key the ImageNet file has (Inception's aux head too)."""
    import cnn_tui.models.backbones.weights as weights
    from cnn_tui.engine.predict import from_backbone

    def fake_download(enum, _name, _field="backbone.weights"):
        kwargs = BUILD_KWARGS if name == "inception_v3" else {}
        with torch.device("meta"):
            return getattr(tvm, name)(weights=None, **kwargs).state_dict()

    monkeypatch.setattr(weights, "download_imagenet", fake_download)
    monkeypatch.setattr(torch.nn.Module, "load_state_dict",
                        lambda self, state, strict=True, assign=False: _same_keys(self, state))
    classifier = from_backbone(name)
    assert classifier.image_size == crop and len(classifier.class_names) == 1000
    if name == "inception_v3":
        assert classifier.model.transform_input and classifier.model.aux_logits


def _same_keys(module: torch.nn.Module, state: dict) -> None:
    assert set(module.state_dict()) == set(state)


@pytest.mark.timeout(240)  # about 5 s of CPU each (measured: 11 s for both, pytest's start included)
@pytest.mark.parametrize("name, size", [("vgg19", 32), ("inception_v3", 75)])
def test_each_new_base_trains_an_epoch_offline(name, size, tmp_path):
    """The issue's "every option trains one epoch offline": a head on each base (random weights,
    features precomputed) through a whole run, at the smallest size the base takes."""
    from tests.helpers import run_collect

    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({
        "kind": "feature_extraction", "name": "t", "device": "cpu", "backbone": {"name": name, "weights": "none"},
        "data": {"dataset": "shapes", "image_size": size,
                 "shapes": {"num_train": 16, "num_val": 10, "classes": ["circle", "square"]}},
        "train": {"epochs": 1, "batch_size": 8}}))
    recipe, _ = load_recipe(path)
    result, events = run_collect(recipe, tmp_path / "runs")
    assert result.status == "completed", result.summary
    (started,) = [e for e in events if e.type == "run_started"]
    features = {"vgg19": 512, "inception_v3": 2048}[name]
    assert started.trainable_params == (features * 256 + 256) + (256 * 2 + 2)  # the default head: Dense(256), 2 classes
