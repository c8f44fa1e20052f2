"""The recipe schema. Every field has a default, so a recipe states only what differs.

Units are in the comments. Unknown keys are rejected (extra="forbid"); the loader turns
pydantic's errors into one line naming the file, the field and what is allowed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from cnn_tui.contract.errors import excerpt
from cnn_tui.recipes.layers_schema import LayerSpec
from cnn_tui.recipes.strict import Strict
from cnn_tui.recipes.train_schema import Logging, Optimizer, Schedule, Train
from cnn_tui.recipes.views_schema import Views
from cnn_tui.recipes.weights import IMAGENET

# ---------------------------------------------------------------- data

DatasetName = Literal[
    "shapes", "lfw_faces", "mnist", "fashion_mnist", "cifar10", "cifar100", "oxford_pet", "image_folder"
]


DEFAULT_VGG: tuple[int | Literal["M"], ...] = (16, 16, "M", 32, 32, "M", 64, "M")
VGG_ITEM = re.compile(r"M|LRN|conv[1-9]-[1-9][0-9]*")
ShapeName = Literal["circle", "square", "triangle", "cross", "ring", "semicircle"]


class ShapesData(Strict):
    """The built-in procedurally generated dataset (offline, seeded)."""

    num_train: int = Field(4000, ge=10, le=1_000_000)  # images
    num_val: int = Field(1000, ge=10, le=1_000_000)  # images
    noise: float = Field(0.08, ge=0.0, le=1.0)  # std of pixel noise, on a 0..1 scale
    classes: list[ShapeName] = Field(default_factory=lambda: list(get_args(ShapeName)), min_length=2)


class Augment(Strict):
    """Augmentations, applied on batched tensors to training batches only."""

    hflip: bool = False  # random horizontal flip, p=0.5
    # random vertical flip, p=0.5: right for aerial or microscope images, wrong for digits and
    # letters (a flipped 6 reads as a 9) and for most photos (skies are up)
    vflip: bool = False
    crop_padding: int = Field(0, ge=0, le=64)  # random crop after zero-padding this many pixels
    rotation: float = Field(0.0, ge=0.0, le=180.0)  # max degrees, uniform in [-r, r]
    color_jitter: float = Field(0.0, ge=0.0, le=1.0)  # brightness/contrast strength
    noise: float = Field(0.0, ge=0.0, le=1.0)  # std of Gaussian noise added per pixel, on a 0..1 scale

    def in_words(self) -> list[str]:
        """The augmentations that are on, e.g. ["flip", "crop±4"]; empty when none is."""
        return [name for name, on in (("flip", self.hflip), ("vflip", self.vflip),
                                      (f"crop±{self.crop_padding}", self.crop_padding),
                                      (f"rotate±{self.rotation:g}°", self.rotation),
                                      (f"jitter {self.color_jitter:g}", self.color_jitter),
                                      (f"noise {self.noise:g}", self.noise)) if on]


class PerClassSplits(Strict):
    """The course's small subset drawn from a full folder: this many images per class for each
    split, disjoint, by the recipe's seed (Chollet: 1,000 train / 500 val / 500 test per class out
    of Kaggle's 12,500). val/test come from their own folders where the data has them, else from
    the same pool as train; val omitted: carved by val_split; test omitted: no test split."""

    train: int = Field(ge=1)
    val: int | None = Field(None, ge=1)
    test: int | None = Field(None, ge=1)

    def __str__(self) -> str:  # "train 1000 / val 500 / test 500"
        return " / ".join(f"{k} {v}" for k, v in (("train", self.train), ("val", self.val), ("test", self.test))
                          if v is not None)


def _per_class_form(value: object) -> str:
    """per_class is a count or {train, val, test}: errors then name one form, not both."""
    return "splits" if isinstance(value, dict | PerClassSplits) else "count"


class Data(Strict):
    dataset: DatasetName = "shapes"
    root: str = "~/.cache/cnn-tui/data"  # download cache for torchvision datasets
    # image_folder: a root of class folders, or of split folders train/ val/ test/ (each of class folders)
    path: str | None = None  # relative to the recipe
    train_path: str | None = None  # image_folder: explicit split folders instead of `path`
    val_path: str | None = None
    test_path: str | None = None  # needs val_path (else the test set would be used as validation)
    download: bool = True
    image_size: int = Field(32, ge=8, le=1024)  # pixels, square; images are resized to it
    grayscale: bool = False  # convert to one channel
    val_split: float = Field(0.1, gt=0.0, lt=1.0)  # fraction of training data held out (no val folder)
    test_split: float | None = Field(None, gt=0.0, lt=1.0)  # fraction held out for the final test score
    limit: int | None = Field(None, ge=10)  # use at most this many training images (and test images)
    # an int: keep this many labelled training images per class (after the split); {train, val,
    # test}: draw that many per class for each split from the full folder before decoding
    per_class: Annotated[Annotated[Annotated[int, Field(ge=1)], Tag("count")]
                         | Annotated[PerClassSplits, Tag("splits")], Discriminator(_per_class_form)] | None = None
    # image_folder: where a file's class comes from. folder: its class folder (ROOT/cats/x.jpg);
    # filename: the part of its name before the first dot (Kaggle's train/cat.0.jpg); auto: class
    # folders where the folder has them, else file names
    label_from: Literal["folder", "filename", "auto"] = "folder"
    normalize: bool = True  # per-channel mean/std from the training split
    loader: Literal["auto", "memory", "stream"] = "auto"  # auto: stream above max_memory_gb
    max_memory_gb: float = Field(4.0, gt=0.0)  # decoded uint8 images held in memory, at most
    workers: int = Field(2, ge=0, le=64)  # stream: decoding processes (0: in the training process)
    decode_cache: str | None = "~/.cache/cnn-tui/decoded"  # memory: decoded images kept here (null: off)
    on_corrupt: Literal["skip", "error"] = "skip"  # unreadable images in an ImageFolder
    shapes: ShapesData = Field(default_factory=ShapesData)
    augment: Augment = Field(default_factory=Augment)

    @model_validator(mode="after")
    def _split_paths(self) -> Data:
        if self.test_path and not self.val_path:
            raise ValueError("data.test_path: needs data.val_path too (validation must not be the test set); "
                             "set val_path, or use data.test_split")
        if self.val_path and not self.train_path:
            raise ValueError("data.val_path: needs data.train_path too")
        if self.train_path and self.path:
            raise ValueError("data.path: give either path or train_path/val_path/test_path, not both")
        if self.train_path and self.dataset != "image_folder":
            raise ValueError(f"data.train_path: split folders are for dataset image_folder, not {self.dataset}")
        return self


# ---------------------------------------------------------------- model

class Model(Strict):
    # torchvision: any torchvision classification model by `name`, built without weights;
    # python: `name` (an nn.Module class, or a function returning one) from the file `path`
    arch: Literal["lenet5", "alexnet", "vgg", "inception", "resnet", "highway", "densenet", "layers",
                  "torchvision", "python"] = "vgg"
    name: str | None = None  # arch torchvision: e.g. resnet18, mobilenet_v3_small; arch python: MyNet
    path: str | None = None  # arch python: my_net.py, relative to the recipe file
    activation: Literal["relu", "tanh", "sigmoid", "gelu", "leaky_relu", "elu"] = "relu"
    batch_norm: bool = True
    dropout: float = Field(0.0, ge=0.0, lt=1.0)  # before the classifier layers
    # kaiming (He et al.), xavier (Glorot & Bengio), torch (PyTorch's defaults), or normal: N(0, init_std)
    # for every conv and linear weight, as AlexNet did (large values saturate sigmoid and tanh units)
    init: Literal["kaiming", "xavier", "torch", "normal"] = "kaiming"
    init_std: float = Field(0.01, gt=0.0, le=10.0)
    # vgg: channels per 3x3 conv, "conv1-256" for a 1x1 conv (configuration C), "M" for a 2x2
    # max-pool, "LRN" for local response normalisation; or the name of a configuration of
    # Simonyan & Zisserman's Table 1: A, A-LRN (A with LRN after its first conv), B, C, D, E
    vgg_config: list[int | str] | Literal["A", "A-LRN", "B", "C", "D", "E"] = Field(
        default_factory=lambda: list[int | str](DEFAULT_VGG), min_length=1)
    # vgg: hidden units of the dense head, one layer or several (the paper's: [4096, 4096]); 0: none
    hidden: int | list[int] = Field(0)
    # resnet: residual blocks per stage; channels double each stage from `width`
    blocks: list[int] = Field(default_factory=lambda: [1, 1, 1], min_length=1)
    # resnet, highway: channels of the first stage (None: 16; 64 with a resnet depth); densenet:
    # of the stem (None: 2 x growth_rate)
    width: int | None = Field(None, ge=1, le=1024)
    block: Literal["basic", "bottleneck"] = "basic"  # resnet: two 3x3 convs, or 1x1-3x3-1x1 (x4 wide)
    # resnet: identity where shapes match and a 1x1 projection where they change (He et al.'s
    # option B), a projection on every block (option C), or none: the plain net of the same layers
    shortcut: Literal["identity", "projection", "none"] = "identity"
    # resnet: 18, 34, 50, 101 or 152: He et al.'s ImageNet layout (blocks, block type, width 64,
    # the 7x7/2 stem and 3x3/2 pool); None: `blocks` and `width` as given
    depth: Literal[18, 34, 50, 101, 152] | None = None
    # the ImageNet stem (a large strided conv and a pool) or a small one (3x3, stride 1) for small
    # images; auto: imagenet with a resnet `depth`, and for alexnet, inception and densenet at >= 128 px
    stem: Literal["auto", "small", "imagenet"] = "auto"
    # alexnet: local response normalisation after the first two convs, as in the paper (Sec. 3.3;
    # torchvision's alexnet has none)
    lrn: bool = False
    # inception: GoogLeNet's two auxiliary classifiers (on 4a and 4d; in training only, their
    # losses weighted 0.3)
    aux_classifiers: bool = False
    # inception: none (v1's 5x5 branch), 3x3 (v2: the 5x5 as two 3x3), asymmetric (v3: also every
    # 3x3 as a 1x3 then a 3x1)
    factorize: Literal["none", "3x3", "asymmetric"] = "none"
    scale: float = Field(1.0, gt=0.0, le=4.0)  # alexnet, inception: channels x this (1: the paper's widths)
    # densenet: Huang et al.'s layout (DenseNet-121: 6, 12, 24, 16 layers per block, growth 32,
    # 64 stem channels, 1x1 bottlenecks of 4 x growth, transitions halving the channels)
    dense_blocks: list[int] = Field(default_factory=lambda: [6, 12, 24, 16], min_length=1)
    growth_rate: int = Field(32, ge=1, le=512)
    compression: float = Field(0.5, gt=0.0, le=1.0)  # densenet: channels kept by each transition
    gate_bias: float = Field(-2.0, ge=-10.0, le=10.0)  # highway: transform gates start mostly closed (carry)
    layers: list[LayerSpec] = Field(default_factory=list)  # arch: layers
    # another run's directory (relative to the recipe): every layer of this net whose tensors all
    # match that run's kept checkpoint in name and shape is copied in, the rest start at random (VGG's
    # progressive training: configuration A first, then the deeper nets from it). None: all random
    init_from: str | None = None

    def label(self) -> str:
        """The model's name in headers: vgg, resnet18 (torchvision), MyNet (my_net.py)."""
        if self.arch == "torchvision":
            return f"{self.name} (torchvision)"
        if self.arch == "python":
            return f"{self.name} ({Path(self.path or '').name})"
        return self.arch

    @model_validator(mode="after")
    def _layers_for_layers(self) -> Model:
        if self.arch == "layers" and not self.layers:
            raise ValueError("arch 'layers' needs a non-empty 'layers' list")
        if self.arch in ("torchvision", "python") and not self.name:
            example = "resnet18" if self.arch == "torchvision" else "MyNet"
            raise ValueError(f"arch '{self.arch}' needs a 'name' (e.g. name: {example})")
        if self.arch == "python" and not self.path:
            raise ValueError("arch 'python' needs a 'path' to the .py file that defines the model")
        return self

    @field_validator("vgg_config")
    @classmethod
    def _vgg_items(cls, value: list[int | str] | str) -> list[int | str] | str:
        if isinstance(value, str):
            return value
        for item in value:
            if isinstance(item, int) and item < 1 or isinstance(item, str) and not VGG_ITEM.fullmatch(item):
                raise ValueError(f"vgg_config items are widths >= 1, 'M', 'LRN', or 'convK-WIDTH' such as conv1-256 "
                                 f"(got {excerpt(item)})")
        return value

    @field_validator("hidden")
    @classmethod
    def _hidden_widths(cls, value: int | list[int]) -> int | list[int]:
        widths = value if isinstance(value, list) else [value]
        if any(w < 0 for w in widths) or isinstance(value, list) and any(w < 1 for w in widths):
            raise ValueError("hidden is a width >= 0 (0: no hidden layer) or a list of widths >= 1")
        return value

    @field_validator("blocks")
    @classmethod
    def _positive_blocks(cls, value: list[int]) -> list[int]:
        if any(b < 1 for b in value):
            raise ValueError("every stage needs at least 1 block")
        return value


class RecipeCommon(Strict):
    """What every kind of recipe has (each kind's schema narrows `kind` to its own name)."""

    kind: str
    name: str = Field("recipe", min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    seed: int = Field(0, ge=0)
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"


class RecipeBase(RecipeCommon):
    """The kinds that train a classifier on a dataset."""

    data: Data = Field(default_factory=Data)
    train: Train = Field(default_factory=Train)
    log: Logging = Field(default_factory=Logging)
    views: Views = Field(default_factory=Views)


class Recipe(RecipeBase):
    """A CNN trained from scratch (`kind: scratch`)."""

    kind: Literal["scratch"] = "scratch"
    model: Model = Field(default_factory=Model)


# ---------------------------------------------------------------- transfer learning

BackboneName = Literal["efficientnet_lite0", "vgg16", "vgg19", "resnet18", "resnet50", "inception_v3",
                       "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0"]
# the crop a base's ImageNet weights were trained at (the default image_size; else 224), and the
# smallest input it takes (Inception v3: 75 px, Keras' documented minimum; Mixed_7a needs room)
TRAINED_SIZE = {"inception_v3": 299}
MIN_SIZE = {"inception_v3": 75}


class Backbone(Strict):
    """A pretrained convolutional base. weights: imagenet, none (random), or a state-dict file."""

    name: BackboneName = "efficientnet_lite0"
    weights: str = IMAGENET
    # cut the base after this block (e.g. block4 of vgg16): early blocks' generic features, for
    # data far from ImageNet; None: the whole base. Block names: `cnn-tui validate` lists them
    until: str | None = None
    # blocks re-initialised at random (they always train): layer transfer, keeping the first blocks
    reinit: list[str] = Field(default_factory=list)


class Head(Strict):
    """The new dense classifier on top of the base's pooled features."""

    hidden: int = Field(256, ge=0)  # hidden units (0: a single linear layer)
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    # the base's final feature map to a vector: global average or max pooling, or flatten (every
    # position: VGG16 at 150 px gives 4x4x512 = 8192 features, the course's Flatten -> Dense(256))
    pool: Literal["avg", "max", "flatten"] = "avg"


class Phase(Strict):
    """One stage of fine-tuning: which base blocks train, and how."""

    name: str = "phase"
    epochs: int = Field(5, ge=1, le=100_000)
    unfreeze: int = Field(0, ge=0)  # last N blocks of the base that train (0: head only)
    optimizer: Optimizer = Field(default_factory=Optimizer)
    schedule: Schedule = Field(default_factory=lambda: Schedule(name="constant"))
    base_lr_factor: float = Field(1.0, gt=0.0, le=1.0)  # unfrozen base blocks train at lr x this


def _transfer_image_size(recipe: RecipeBase, backbone: str) -> None:
    if "image_size" not in recipe.data.model_fields_set:
        recipe.data.image_size = TRAINED_SIZE.get(backbone, 224)  # the ImageNet backbones' own crop size
    smallest = MIN_SIZE.get(backbone, 0)
    if recipe.data.image_size < smallest:
        raise ValueError(f"data.image_size: {backbone} takes images of at least {smallest} px (got "
                         f"{recipe.data.image_size}; its weights were trained at {TRAINED_SIZE[backbone]} px, "
                         "the default)")


class FeatureExtractionRecipe(RecipeBase):
    """A frozen pretrained base plus a new dense head (`kind: feature_extraction`)."""

    kind: Literal["feature_extraction"]
    backbone: Backbone = Field(default_factory=Backbone)
    head: Head = Field(default_factory=Head)
    mode: Literal["precompute", "end_to_end"] = "precompute"  # precompute: run the base once, cache
    cache_dir: str = "~/.cache/cnn-tui/features"

    @model_validator(mode="after")
    def _checks(self) -> FeatureExtractionRecipe:
        _transfer_image_size(self, self.backbone.name)
        if self.mode == "precompute" and self.data.augment.in_words():
            raise ValueError("data.augment: mode 'precompute' runs the base once, so it cannot augment; "
                             "use mode: end_to_end or remove data.augment")
        if self.mode == "precompute" and self.backbone.reinit:
            raise ValueError("backbone.reinit: re-initialised blocks must train, and mode 'precompute' runs a "
                             "frozen base once; use mode: end_to_end, or kind: fine_tuning")
        return self


class FineTuningRecipe(RecipeBase):
    """Train a new head on a frozen base, then unfreeze the last blocks (`kind: fine_tuning`)."""

    kind: Literal["fine_tuning"]
    backbone: Backbone = Field(default_factory=Backbone)
    head: Head = Field(default_factory=Head)
    phases: list[Phase] = Field(default_factory=lambda: [
        Phase(name="head", epochs=5, unfreeze=0, optimizer=Optimizer(name="adam", lr=1e-3, weight_decay=0.0)),
        Phase(name="fine-tune", epochs=5, unfreeze=1,
              optimizer=Optimizer(name="rmsprop", lr=1e-5, momentum=0.0, weight_decay=0.0)),
    ], min_length=1)

    @model_validator(mode="after")
    def _checks(self) -> FineTuningRecipe:
        _transfer_image_size(self, self.backbone.name)
        total = sum(p.epochs for p in self.phases)
        if "epochs" in self.train.model_fields_set and self.train.epochs != total:
            raise ValueError(f"train.epochs: fine-tuning takes its epochs from phases (they add up to {total}); "
                             "set phases[N].epochs instead of train.epochs")
        self.train.epochs = total
        return self
